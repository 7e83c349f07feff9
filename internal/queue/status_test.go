package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"netsmith/internal/dbtest"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/queue/queuetest"
	"netsmith/internal/store"
)

func TestStatusSQLite(t *testing.T) {
	t.Parallel()
	testStatus(t, dbtest.SQLite(t), "poll")
}

func TestStatusPostgres(t *testing.T) {
	t.Parallel()
	testStatus(t, dbtest.Postgres(t), "notify")
}

// Through PgBouncer in transaction mode LISTEN is not available: the feed
// polls.
func TestStatusPgBouncer(t *testing.T) {
	t.Parallel()
	testStatus(t, dbtest.PgBouncer(t), "poll")
}

// statusPoll is the tests' feed interval: short, so that the wait for a
// change seen by polling is short.
const statusPoll = 50 * time.Millisecond

// testStatus: Queue.Status answers from memory a job submitted here and one
// that is final, a job changed by another process (a second queue on the
// same database) is seen through the change feed (source), and an id
// unknown at first appears once another process submits it.
func testStatus(t *testing.T, url, source string) {
	ctx := t.Context()
	m := metrics.New(prometheus.NewRegistry())
	db := dbtest.Open(t, url)
	a, err := queue.New(db, queue.Config{Metrics: m, StatusPoll: statusPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := queue.New(dbtest.Open(t, url), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	reads := func(r string) float64 { return value(m.StatusReads.WithLabelValues(r)) }

	// An unknown id is read, and not remembered as missing.
	later := queuetest.NewJob("", "later")
	if _, err := a.Status(ctx, later.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown job: %v, want ErrNotFound", err)
	}
	waitFor(t, "the feed to use "+source, func() bool { return value(m.StatusFeed.WithLabelValues(source)) == 1 })
	if _, _, err := b.Enqueue(ctx, later, nil); err != nil {
		t.Fatal(err)
	}
	if j, err := a.Status(ctx, later.ID); err != nil || j.State != netcfg.StateQueued {
		t.Fatalf("job submitted by another process: %v, %v; want it queued", j, err)
	}

	// A job submitted here is remembered at once.
	j, _, err := a.Enqueue(ctx, queuetest.NewJob("", "mine"), nil)
	if err != nil {
		t.Fatal(err)
	}
	hits := reads("hit_open")
	got, err := a.Status(ctx, j.ID)
	if err != nil || got.State != netcfg.StateQueued {
		t.Fatalf("own job: %v, %v; want it queued", got, err)
	}
	if h := reads("hit_open"); h != hits+1 {
		t.Errorf("own job just submitted: hit_open %v → %v, want one more", hits, h)
	}

	// Another process cancels it: seen through the feed.
	fromB, err := b.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Cancel(ctx, fromB); !ok || err != nil {
		t.Fatalf("cancel by the other process: %v, %v", ok, err)
	}
	start := time.Now()
	waitFor(t, "the other process's cancel", func() bool {
		got, err := a.Status(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.State == netcfg.StateCanceled
	})
	t.Logf("feed %s: the other process's change seen after %s", source, time.Since(start))

	// Final: every read from memory. The row changed behind the feed's
	// back (no trigger, no announcement) proves no read reaches the
	// database.
	want, err := a.Status(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !db.PgBouncer() {
		changeBehindFeed(t, db, j.ID)
	}
	misses := reads("miss")
	for range 50 {
		got, err := a.Status(ctx, j.ID)
		if err != nil || got.Error != want.Error || got.State != netcfg.StateCanceled {
			t.Fatalf("final job read again: %+v, %v; want it as first read (error %q)", got, err, want.Error)
		}
	}
	if n := reads("miss"); n != misses {
		t.Errorf("50 reads of a final job: %v database reads, want 0", n-misses)
	}
}

// changeBehindFeed changes job id's error text in the database without
// announcing it (on PostgreSQL with triggers off for the transaction).
func changeBehindFeed(t *testing.T, db *store.DB, id string) {
	t.Helper()
	err := db.InTx(t.Context(), func(tx store.Conn) error {
		if db.Dialect() == "postgres" {
			if _, err := tx.Exec(t.Context(), `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(t.Context(), `UPDATE netsmith_job SET error = 'changed behind the feed' WHERE id = $1`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, for at most 20 s (a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waited 20s for %s", what)
		case <-tick.C:
		}
	}
}

// value is a counter's or a gauge's value.
func value(c prometheus.Metric) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
