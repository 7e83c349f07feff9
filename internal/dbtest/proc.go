package dbtest

import (
	"syscall"
	"testing"
)

// PostgresUser is the postgres system user's credential, for the test
// helpers that run PostgreSQL's own programs (PgBouncer here, a private
// server in faulttest) when the test runs as root.
func PostgresUser(tb testing.TB) *syscall.Credential {
	tb.Helper()
	return postgresUser(tb)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	return freePort(tb)
}
