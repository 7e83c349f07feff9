package queue_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/dbtest"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/queue/queuetest"
)

func TestClusterGaugesFromLeaderOnlySQLite(t *testing.T) {
	t.Parallel()
	testClusterGaugesFromLeaderOnly(t, dbtest.SQLite(t))
}

func TestClusterGaugesFromLeaderOnlyPostgres(t *testing.T) {
	t.Parallel()
	testClusterGaugesFromLeaderOnly(t, dbtest.Postgres(t))
}

// Through PgBouncer in transaction mode: the leader check, the heartbeat
// rows and the reads take no session state.
func TestClusterGaugesFromLeaderOnlyPgBouncer(t *testing.T) {
	t.Parallel()
	testClusterGaugesFromLeaderOnly(t, dbtest.PgBouncer(t))
}

// replica is one queue on the shared database with its own registry, as
// one serve process has.
type replica struct {
	q    *queue.Queue
	reg  *prometheus.Registry
	stop func() // stops and closes q, once
}

// openReplica opens and starts a queue with work on url, stopped when
// the test ends unless stopped before.
func openReplica(t *testing.T, url string, work queue.WorkFunc) *replica {
	t.Helper()
	ctx := context.Background()
	q, err := queue.New(dbtest.Open(t, url), queue.Config{Workers: 2, Role: "worker", Work: work, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		q.Close()
		t.Fatal(err)
	}
	r := &replica{q: q, reg: prometheus.NewRegistry()}
	metrics.RegisterCluster(r.reg, q.Cluster)
	r.stop = sync.OnceFunc(func() {
		// Canceled at once: the held jobs end now, returned to the queue.
		sctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = q.Stop(sctx)
		q.Close()
	})
	t.Cleanup(r.stop)
	return r
}

// gauges reads the replica's cluster gauges: name{state} → value, with ""
// for a gauge without labels.
func (r *replica) gauges(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		vals := map[string]float64{}
		for _, m := range mf.GetMetric() {
			state := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" {
					state = l.GetValue()
				}
			}
			vals[state] = m.GetGauge().GetValue()
		}
		out[mf.GetName()] = vals
	}
	return out
}

// testClusterGaugesFromLeaderOnly runs two worker replicas on one database
// with jobs held running and queued: exactly one (the leader) exports the
// cluster-wide gauges, so their sum over replicas is the truth, and when
// it stops, the other takes over.
func testClusterGaugesFromLeaderOnly(t *testing.T, url string) {
	const workers, jobs = 2, 9
	release := make(chan struct{})
	var running atomic.Int32
	started := make(chan struct{}, jobs)
	work := func(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) {
		running.Add(1)
		select {
		case started <- struct{}{}:
		default: // a job run again after the leader stopped
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &netcfg.Result{Body: []byte(`{"config":"x"}`), Provider: "test", Model: "m"}, nil
	}
	reps := []*replica{openReplica(t, url, work), openReplica(t, url, work)}
	// Registered after the replicas: cleanups run last first, so the held
	// jobs end before the queues stop.
	t.Cleanup(func() { close(release) })

	ctx := t.Context()
	for i := range jobs {
		if _, _, err := reps[i%2].q.Enqueue(ctx, queuetest.NewJob("", "cluster"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Every worker slot of both replicas holds a job: the depth stays put
	// until release.
	for range 2 * workers {
		select {
		case <-started:
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d jobs started", running.Load())
		}
	}
	// Our rows say running a little later (runMarks): poll for it.
	var truth map[netcfg.JobState]int64
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if truth, err = reps[0].q.Depth(ctx); err != nil {
			t.Fatal(err)
		}
		if truth[netcfg.StateRunning] == 2*workers && truth[netcfg.StateQueued] == jobs-2*workers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("depth %v, want %d running and %d queued", truth, 2*workers, jobs-2*workers)
		}
	}

	// leaderOf waits until exactly one replica of reps leads, exports the
	// depth and sees both heartbeats, and returns its index.
	leaderOf := func(reps []*replica, wantLive float64) int {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			leader, exporting := -1, 0
			var live float64
			for i, r := range reps {
				g := r.gauges(t)
				if g["netsmith_cluster_leader"][""] == 1 {
					leader = i
				}
				if _, ok := g["netsmith_queue_depth"]; ok {
					exporting++
					live = g["netsmith_workers_live"][""]
				}
			}
			if exporting > 1 {
				t.Fatalf("%d replicas export netsmith_queue_depth at once", exporting)
			}
			if exporting == 1 && leader >= 0 && live == wantLive {
				return leader
			}
			if time.Now().After(deadline) {
				t.Fatalf("no single leader exporting %v live workers after 60 s (leader %d, exporting %d, live %v)", wantLive, leader, exporting, live)
			}
			time.Sleep(50 * time.Millisecond) // polling: River's election has no signal to wait on
		}
	}
	leader := leaderOf(reps, 2)

	// sum over replicas, as Prometheus would: the truth, not twice it.
	sum := map[string]float64{}
	for _, r := range reps {
		for state, v := range r.gauges(t)["netsmith_queue_depth"] {
			sum[state] += v
		}
	}
	for s, n := range truth {
		if sum[string(s)] != float64(n) {
			t.Errorf("sum(netsmith_queue_depth{state=%q}) = %v, want %d", s, sum[string(s)], n)
		}
	}
	g := reps[leader].gauges(t)
	if age := g["netsmith_queue_oldest_age_seconds"]; len(age) != 2 || age["queued"] < 0 || age["running"] < 0 {
		t.Errorf("oldest ages %v, want queued and running", age)
	}

	// The leader stops: the other replica takes over and still sees the
	// depth, and one live worker.
	reps[leader].stop()
	other := reps[1-leader]
	if got := leaderOf([]*replica{other}, 1); got != 0 {
		t.Fatalf("leader %d", got)
	}
}
