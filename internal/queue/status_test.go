package queue_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
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
	if _, err := a.Status(ctx, later.ID); !errors.Is(err, netcfg.ErrNotFound) {
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

// statusRetry is TestStatusListenerLost's wait before the feed listens
// again: long beside statusPoll, so that a change seen before it ran out
// was seen by the poll, not through the new listener.
const statusRetry = 2 * time.Second

// TestStatusListenerLost kills the status feed's listener connection on a
// real PostgreSQL: the feed polls, so a change made meanwhile by another
// process is seen within the poll (before the listener is back), while the
// jobs kept are still served from memory; after StatusRetry it listens
// again, and a change is announced and read at once.
func TestStatusListenerLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	base := dbtest.Postgres(t)
	var b16 [6]byte
	_, _ = rand.Read(b16[:])
	name := "nsm-" + hex.EncodeToString(b16[:]) // this test's own connections
	m := metrics.New(prometheus.NewRegistry())
	a, err := queue.New(dbtest.Open(t, withParam(t, base, "application_name", name)),
		queue.Config{Metrics: m, StatusPoll: statusPoll, StatusRetry: statusRetry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	other := dbtest.Open(t, base)
	b, err := queue.New(other, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	source := func(s string) bool { return value(m.StatusFeed.WithLabelValues(s)) == 1 }
	reads := func(r string) float64 { return value(m.StatusReads.WithLabelValues(r)) }
	submit := func(body string) *netcfg.Job {
		j, _, err := b.Enqueue(ctx, queuetest.NewJob("", body), nil)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	status := func(id string) *netcfg.Job {
		j, err := a.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	// remember reads job id until it is served from memory.
	remember := func(id string) {
		t.Helper()
		waitFor(t, "job "+id+" served from memory", func() bool {
			hits := reads("hit_open")
			if s := status(id).State; s != netcfg.StateQueued {
				t.Fatalf("job %s %s before any change, want queued", id, s)
			}
			return reads("hit_open") == hits+1
		})
	}
	cancel := func(id string) {
		j, err := b.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := b.Cancel(ctx, j); !ok || err != nil {
			t.Fatalf("cancel %s by the other process: %v, %v", id, ok, err)
		}
	}
	// announced cancels job id in the other process and checks that the
	// feed's announcement of it arrives (a watcher is woken only by one)
	// and that the next read sees the change: none stale after that.
	announced := func(id string) {
		t.Helper()
		remember(id)
		seen, stop := a.Watch(id)
		defer stop()
		cancel(id)
		select {
		case <-seen:
		case <-time.After(20 * time.Second):
			t.Fatalf("job %s: no announcement of the other process's cancel in 20s (feed notify: %t)", id, source("notify"))
		}
		if s := status(id).State; s != netcfg.StateCanceled {
			t.Fatalf("job %s read %s after its cancel was announced, want canceled", id, s)
		}
	}

	if _, err := a.Status(ctx, "none"); !errors.Is(err, netcfg.ErrNotFound) { // starts the feed
		t.Fatalf("unknown job: %v, want ErrNotFound", err)
	}
	waitFor(t, "the feed to listen", func() bool { return source("notify") })
	announced(submit("before").ID)

	// The listener dies; its change is seen by the poll, before the
	// feed listens again. Seen after the retry instead (a slow machine),
	// it proves nothing: again, a few times.
	for try := 1; ; try++ {
		if try > 3 {
			t.Fatalf("%d tries: a change made while the listener was down was never seen within %s of its loss", try-1, statusRetry)
		}
		waitFor(t, "the feed to listen", func() bool { return source("notify") })
		j := submit(fmt.Sprintf("outage %d", try))
		lost := time.Now() // the retry's timer starts after this
		killListener(t, other, name+" "+store.ListenerName)
		waitFor(t, "the feed to poll", func() bool { return source("poll") })
		if a.Announced() {
			t.Error("Announced while the listener is down")
		}
		remember(j.ID)
		cancel(j.ID)
		start := time.Now()
		waitFor(t, "the change made while the listener was down", func() bool {
			return status(j.ID).State == netcfg.StateCanceled
		})
		if in := time.Since(lost); in < statusRetry {
			t.Logf("try %d: the change made while the listener was down seen after %s", try, time.Since(start))
			break
		}
		t.Logf("try %d: the change seen %s after the listener's loss, after the feed may have listened again", try, time.Since(lost))
	}

	// Back to listening after the retry, and announced again.
	waitFor(t, "the feed to listen again", func() bool { return source("notify") })
	if !a.Announced() {
		t.Error("not Announced after the listener is back")
	}
	announced(submit("after").ID)
}

// killListener ends, from db's session, the one backend of the test's
// database named name (a feed's listener) and waits until it is gone.
func killListener(t *testing.T, db *store.DB, name string) {
	t.Helper()
	if pids := killBackends(t, db, "application_name", name); len(pids) != 1 {
		t.Fatalf("backends named %q: %v, want the one listener", name, pids)
	}
}

// killBackends ends, from db's session, the backends of the test's
// database whose column col (application_name, usename) is v, waits until
// they are gone, and returns their pids. They are listed first and ended
// one by one: a filter beside pg_terminate_backend in one query may run
// after it, and end others' backends.
func killBackends(t *testing.T, db *store.DB, col, v string) []int32 {
	t.Helper()
	var pids []int32
	rows, err := db.Conn().Query(t.Context(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND `+col+` = $1`, v)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		var ok bool
		if err := db.Conn().QueryRow(t.Context(), `SELECT pg_terminate_backend($1, 10000)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate backend %d: %v, %v", pid, ok, err)
		}
	}
	return pids
}

// withParam returns url u with parameter k set to v.
func withParam(t *testing.T, u, k, v string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// TestStatusPgBouncerServerLost: through PgBouncer the feed polls; when
// PgBouncer's server connections to PostgreSQL die under it, a change made
// afterwards by another process is still seen by the poll, and a job kept
// is not served unchanged past it.
func TestStatusPgBouncerServerLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := dbtest.PgBouncer(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	role := pu.User.Username() // its own role and schema (see dbtest.PgBouncer)
	admin := dbtest.Open(t, dbtest.Postgres(t))
	m := metrics.New(prometheus.NewRegistry())
	a, err := queue.New(dbtest.Open(t, u), queue.Config{Metrics: m, StatusPoll: statusPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	j, _, err := a.Enqueue(ctx, queuetest.NewJob("", "server lost"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Status(ctx, j.ID); err != nil { // starts the feed
		t.Fatal(err)
	}
	waitFor(t, "the feed to poll", func() bool { return value(m.StatusFeed.WithLabelValues("poll")) == 1 })
	waitFor(t, "the job served from memory", func() bool {
		hits := value(m.StatusReads.WithLabelValues("hit_open"))
		if got, err := a.Status(ctx, j.ID); err != nil || got.Attempts != 0 {
			t.Fatalf("job read: %+v, %v; want it unstarted", got, err)
		}
		return value(m.StatusReads.WithLabelValues("hit_open")) == hits+1
	})

	killed := len(killBackends(t, admin, "usename", role))
	if killed == 0 {
		t.Fatalf("no server connection of role %s to end", role)
	}
	// Another process's change: an attempt more, the job still queued.
	if n, err := admin.Conn().Exec(ctx, `UPDATE `+role+`.netsmith_job
		SET attempts = attempts + 1, updated_at = updated_at + 1 WHERE id = $1`, j.ID); err != nil || n != 1 {
		t.Fatalf("change the job: %d rows, %v", n, err)
	}
	var failed int
	waitFor(t, "the change made after the server connections died", func() bool {
		got, err := a.Status(ctx, j.ID)
		if err != nil {
			failed++ // a read on a connection that died
			return false
		}
		return got.Attempts == 1
	})
	t.Logf("%d server connections ended; %d status reads failed after", killed, failed)
}
