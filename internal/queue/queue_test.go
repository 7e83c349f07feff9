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
