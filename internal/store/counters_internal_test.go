package store

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPGTracerAllocs: the tracer runs around every statement on every
// pool, so counting must not allocate.
func TestPGTracerAllocs(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set, and CI=true: PostgreSQL tests must run in CI")
		}
		t.Skip("TEST_DATABASE_URL is not set; skipping PostgreSQL test")
	}
	// No statement runs: the tracer is called by hand, on a live
	// connection for its transaction status (idle).
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var c poolCounters
	qt, bt := tracers(&c)
	ctx := t.Context()
	tag := pgconn.NewCommandTag("INSERT 0 1")
	allocs := testing.AllocsPerRun(100, func() {
		ctx := qt.TraceQueryStart(ctx, conn, pgx.TraceQueryStartData{SQL: "SELECT 1"})
		qt.TraceQueryEnd(ctx, conn, pgx.TraceQueryEndData{CommandTag: tag})
		ctx = bt.TraceBatchStart(ctx, conn, pgx.TraceBatchStartData{})
		bt.TraceBatchEnd(ctx, conn, pgx.TraceBatchEndData{})
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per traced statement and batch, want 0", allocs)
	}
	// The connection is idle: each was a transaction of its own.
	if got, want := c.implicit.commits.Load(), int64(2*101); got != want || c.roundTrips.Load() != want {
		t.Errorf("counted %d implicit commits and %d round trips, want %d of each", got, c.roundTrips.Load(), want)
	}
}

// tracers returns the tracer as pgx holds it, behind interfaces, so that
// the compiler cannot see through the calls and keep on the stack what pgx
// would see escape.
//
//go:noinline
func tracers(c *poolCounters) (pgx.QueryTracer, pgx.BatchTracer) {
	return pgTracer{c}, pgTracer{c}
}
