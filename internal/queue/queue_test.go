package queue_test

import (
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/queue/queuetest"
)

func TestQueueSQLite(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, dbtest.SQLite)
}

func TestQueuePostgres(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, dbtest.Postgres)
}

// TestQueuePgBouncer runs the conformance suite through a real PgBouncer
// in transaction mode, with ?pgbouncer=true.
func TestQueuePgBouncer(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, dbtest.PgBouncer)
}
