# Shared helpers for the bench/ scenarios: build the binary, start processes
# on loopback, stop exactly the PIDs this run started, append result rows.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/netsmith-bench.XXXXXX)
BIN="$WORK/netsmith"
RESULTS="$ROOT/bench/results.tsv"
PIDS=()

cleanup() {
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
	done
	[ -n "${BENCH_DB:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

build() { (cd "$ROOT" && go build -o "$BIN" ./cmd/netsmith); }

# start_fake ARGS…: starts fake-anthropic, sets FAKE_URL.
start_fake() {
	"$BIN" fake-anthropic --listen 127.0.0.1:0 --log-level warn "$@" >"$WORK/fake.url" 2>"$WORK/fake.log" &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		FAKE_URL=$(head -n1 "$WORK/fake.url" 2>/dev/null || true)
		[ -n "$FAKE_URL" ] && return 0
		sleep 0.1
	done
	echo "fake-anthropic did not start" >&2; cat "$WORK/fake.log" >&2; return 1
}

# start_serve NAME ARGS…: starts `netsmith serve`, sets ADDR_<NAME>.
start_serve() {
	local name=$1; shift
	ANTHROPIC_API_KEY=bench-key ANTHROPIC_BASE_URL="$FAKE_URL" \
		"$BIN" serve --listen 127.0.0.1:0 "$@" 2>"$WORK/$name.log" &
	PIDS+=($!)
	for _ in $(seq 1 300); do
		local addr
		addr=$(grep -o 'msg="netsmith serving" addr=[^ ]*' "$WORK/$name.log" 2>/dev/null | sed 's/.*addr=//' || true)
		if [ -n "$addr" ]; then
			printf -v "ADDR_$name" '%s' "$addr"
			return 0
		fi
		sleep 0.1
	done
	echo "serve $name did not start" >&2; cat "$WORK/$name.log" >&2; return 1
}

# new_pg_db: a fresh PostgreSQL database, URL in BENCH_PG.
new_pg_db() {
	BENCH_DB="netsmith_bench_$$"
	psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $BENCH_DB"
	BENCH_PG="postgres://postgres@127.0.0.1:5432/$BENCH_DB?sslmode=disable"
}

# fleet_csv FILE N: N devices, each an intent of its own (distinct
# requirements), so that every device costs one upstream call.
fleet_csv() {
	local file=$1 n=$2
	{
		echo "hostname,role,platform,os_version,requirements,var.mgmt_ip,var.enable_secret"
		for i in $(seq 0 $((n - 1))); do
			printf 'sw%05d,access,cisco_xe,17.9,"access switch variant %d",10.%d.%d.10/16,vault:net/enable\n' \
				"$i" "$i" $((i / 250)) $((i % 250))
		done
	} >"$file"
}

# record SCENARIO FIGURE LIMIT RATIO NOTE: one row in bench/results.tsv.
record() {
	[ -f "$RESULTS" ] || printf 'date\tcommit\tscenario\tfigure\tlimit\tratio\tnote\n' >"$RESULTS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$(git -C "$ROOT" rev-parse --short HEAD)" "$@" >>"$RESULTS"
}
