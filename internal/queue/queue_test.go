package queue_test

import (
	"strings"
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/queue"
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

// TestPingSeesRefusedLazyPath: through PgBouncer without ?pgbouncer=true the
// pool's plain queries pass but the lazy connection's startup parameter is
// refused, so every job's cache write would fail: Ping (/readyz) must say
// so. With the switch, it passes.
func TestPingSeesRefusedLazyPath(t *testing.T) {
	t.Parallel()
	url := dbtest.PgBouncer(t)
	for _, tc := range []struct {
		url    string
		wantOK bool
	}{
		{strings.Replace(url, "pgbouncer=true", "pgbouncer=false", 1), false},
		{url, true},
	} {
		q, err := queue.Open(t.Context(), tc.url, queue.Config{})
		if err != nil {
			t.Fatalf("open %s: %v", tc.url, err)
		}
		err = q.Ping(t.Context())
		q.Close()
		if ok := err == nil; ok != tc.wantOK || !ok && !strings.Contains(err.Error(), "synchronous_commit") {
			t.Errorf("ping %s: %v; want ok %t (or PgBouncer refusing synchronous_commit)", tc.url, err, tc.wantOK)
		}
	}
}
