# netsmith: run `make help` for the targets.
GO ?= go
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: help build test test/race test/pg lint verify db/reset run bench

help: ## list the targets
	@grep -hE '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/netsmith
	$(GO) build -o bin/netsmith ./cmd/netsmith

test: ## run the tests (SQLite only unless TEST_DATABASE_URL is set)
	$(GO) test -count=1 ./...

test/race: ## the CI test command: PostgreSQL too, with the race detector
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(GO) test -race -count=1 ./...

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

verify: lint ## lint, then fail if go.mod/go.sum need tidying
	$(GO) mod tidy -diff

bench: ## Go benchmarks of the hot paths
	$(GO) test -run='^$$' -bench=. -benchmem ./...

db/reset: ## drop and recreate the local test database
	psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS test WITH (FORCE)' -c 'CREATE DATABASE test'

run: ## serve on the embedded database with the sim provider
	$(GO) run ./cmd/netsmith serve
