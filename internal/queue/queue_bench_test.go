package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
)

func benchQueue(b *testing.B, url string, workers int, work queue.WorkFunc) *queue.Queue {
	b.Helper()
	return benchQueueConfig(b, url, queue.Config{Workers: workers, Work: work})
}

func benchQueueConfig(b *testing.B, url string, cfg queue.Config, opts ...queue.Option) *queue.Queue {
	b.Helper()
	cfg.PollInterval = 50 * time.Millisecond
	q, err := queue.New(dbtest.Open(b, url), cfg, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
		q.Close()
	})
	return q
}

func benchJob(i int) *netcfg.Job {
	return &netcfg.Job{ID: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), Kind: netcfg.KindGenerate,
		RequestHash: "h", Request: []byte(`{}`)}
}

// BenchmarkSubmit is one job stored and queued (our row and River's, one
// transaction).
func BenchmarkSubmit(b *testing.B) {
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			q := benchQueue(b, db.url(b), 0, nil)
			i := 0
			for b.Loop() {
				if _, _, err := q.Enqueue(b.Context(), benchJob(i), nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkClaimAndComplete is the queue's own cost per job: claim, run a
// no-op, store the result and complete, with 20 workers. It reports jobs/s.
func BenchmarkClaimAndComplete(b *testing.B) {
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			q := benchQueue(b, db.url(b), 20, func(context.Context, *netcfg.Job) (*netcfg.Result, error) {
				return &netcfg.Result{Body: []byte(`{}`)}, nil
			})
			n := 0
			start := time.Now()
			for b.Loop() {
				if _, _, err := q.Enqueue(b.Context(), benchJob(n), nil); err != nil {
					b.Fatal(err)
				}
				n++
			}
			waitDrained(b, q)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}

// BenchmarkSubmitBatch is a 1,000-device fleet batch stored and queued in
// one transaction (our rows with multi-row INSERTs, River's with
// InsertMany). It reports jobs/s.
func BenchmarkSubmitBatch(b *testing.B) {
	const size = 1000
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			q := benchQueue(b, db.url(b), 0, nil)
			n := 0
			start := time.Now()
			for b.Loop() {
				jobs := make([]*netcfg.Job, size)
				for i := range jobs {
					jobs[i] = benchJob(n*size + i)
				}
				batch := &netcfg.Batch{ID: fmt.Sprintf("batch-%d-%d", time.Now().UnixNano(), n), Devices: size}
				if err := q.EnqueueBatch(b.Context(), batch, jobs, nil); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*size)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}

// waitDrained polls the depth until no job is open.
func waitDrained(b *testing.B, q *queue.Queue) {
	b.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := q.Depth(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if d[netcfg.StateQueued]+d[netcfg.StateRunning]+d[netcfg.StateRetrying] == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("jobs still pending: %v", d)
		}
		<-tick.C
	}
}

// BenchmarkBatchDrain is a 2,000-device fleet batch over 10 intents queued
// and worked to the end by 50 workers, once with every device a job of its
// own (claim, run, complete) and once with the sweep (after an intent's
// first device, its worker finishes the rest, 128 per transaction). Work
// and Sweep return at once, so what is measured is the queue. It reports
// jobs/s.
func BenchmarkBatchDrain(b *testing.B) {
	const size, intents = 2000, 10
	result := func(context.Context, *netcfg.Job) (*netcfg.Result, error) {
		return &netcfg.Result{Body: []byte(`{}`), Cache: "hit"}, nil
	}
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		for _, mode := range []struct {
			name  string
			sweep queue.WorkFunc
		}{{"per-job", nil}, {"sweep", result}} {
			b.Run(db.name+"/"+mode.name, func(b *testing.B) {
				var opts []queue.Option
				if mode.sweep != nil {
					opts = append(opts, queue.WithSweep(mode.sweep))
				}
				q := benchQueueConfig(b, db.url(b), queue.Config{Workers: 50, Work: result}, opts...)
				n := 0
				var took time.Duration
				for b.Loop() {
					jobs := make([]*netcfg.Job, size)
					for i := range jobs {
						jobs[i] = benchJob(n*size + i)
						jobs[i].IntentKey = fmt.Sprint("intent-", i%intents)
					}
					batch := &netcfg.Batch{ID: fmt.Sprintf("drain-%d-%d", time.Now().UnixNano(), n), Devices: size, Intents: intents}
					start := time.Now()
					if err := q.EnqueueBatch(b.Context(), batch, jobs, nil); err != nil {
						b.Fatal(err)
					}
					waitDrained(b, q)
					took += time.Since(start)
					n++
				}
				b.ReportMetric(float64(n*size)/took.Seconds(), "jobs/s")
			})
		}
	}
}
