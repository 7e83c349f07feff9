package queue

import (
	"context"
	"flag"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/sync/errgroup"

	"netsmith/internal/dbtest"
	"netsmith/internal/store"
)

// The engine's ceiling is measured with the worker count and poll interval
// of the scenario it is compared with (bench/s1-machinery.sh passes serve's).
var (
	bareWorkers = flag.Int("bare.workers", 50, "BenchmarkBareRiverNoop: River workers (serve --concurrency)")
	barePoll    = flag.Duration("bare.poll", time.Second, "BenchmarkBareRiverNoop: fetch poll interval (serve --poll-interval)")
	bareClients = flag.Int("bare.clients", 200, "BenchmarkBareRiverSubmitNoop: goroutines inserting (loadtest -c)")
)

// bareArgs is the payload of BenchmarkBareRiverNoop's jobs.
type bareArgs struct {
	N int `json:"n"`
}

func (bareArgs) Kind() string { return "bench_bare_noop" }

// BenchmarkBareRiverNoop is River's own ceiling on each database, without
// netsmith: b.N no-op jobs are inserted (untimed), then a client with
// -bare.workers workers is started and timed until River has recorded every
// job completed. SQLite is opened exactly as netsmith opens it (same
// pragmas, one writer connection, the statement cache); PostgreSQL with
// netsmith's default pool size. It reports jobs/s; compare it with
// `netsmith loadtest` against serve on the same database.
func BenchmarkBareRiverNoop(b *testing.B) {
	benchBareDrivers(b, benchBareRiver)
}

// BenchmarkBareRiverSubmitNoop is River used as netsmith uses it, still
// without netsmith: the client works while -bare.clients goroutines insert
// the b.N no-op jobs, one per transaction (Client.Insert), and it is timed
// from the first insert until River has recorded every job completed.
// BenchmarkBareRiverNoop leaves the inserts out of its clock; s1's
// netsmith figure has them in, each behind an HTTP request.
func BenchmarkBareRiverSubmitNoop(b *testing.B) {
	benchBareDrivers(b, benchBareRiverSubmit)
}

// benchBareDrivers runs bench on SQLite and on PostgreSQL.
func benchBareDrivers(b *testing.B, bench func(*testing.B, bareDriver)) {
	b.Run("sqlite", func(b *testing.B) {
		// netsmith's own connection: the single writer, with its
		// pragmas and statement cache.
		db, err := store.Open(b.Context(), dbtest.SQLite(b), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(db.Close)
		bench(b, bareClientOf(riversqlite.New(db.SQLDB())))
	})
	b.Run("postgres", func(b *testing.B) {
		// netsmith's pool, of store.Open's default size.
		db, err := store.Open(b.Context(), dbtest.Postgres(b), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(db.Close)
		bench(b, bareClientOf(riverpgxv5.New(db.PGXPool())))
	})
}

// bareDriver makes a migrated River client for no-op jobs on one
// database, whatever its transaction type.
type bareDriver func(b *testing.B) bareClient

// bareClient is what the bare benchmarks use of a River client.
type bareClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyFast(ctx context.Context, params []river.InsertManyParams) (int, error)
	SubscribeConfig(config *river.SubscribeConfig) (<-chan *river.Event, func())
}

func bareClientOf[TTx any](driver riverdriver.Driver[TTx]) bareDriver {
	return func(b *testing.B) bareClient {
		m, err := rivermigrate.New(driver, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Migrate(b.Context(), rivermigrate.DirectionUp, nil); err != nil {
			b.Fatal(err)
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[bareArgs]) error { return nil }))
		client, err := river.NewClient(driver, &river.Config{
			// As netsmith's engine configures River (engine.go).
			FetchPollInterval:           *barePoll,
			FetchCooldown:               min(*barePoll, 20*time.Millisecond),
			Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *bareWorkers}},
			Workers:                     workers,
			Logger:                      slog.New(slog.DiscardHandler),
			CompletedJobRetentionPeriod: 24 * time.Hour,
		})
		if err != nil {
			b.Fatal(err)
		}
		return client
	}
}

func benchBareRiver(b *testing.B, newClient bareDriver) {
	b.StopTimer()
	ctx := b.Context()
	client := newClient(b)
	inserted := time.Now()
	for start := 0; start < b.N; start += riverInsertChunk {
		params := make([]river.InsertManyParams, min(riverInsertChunk, b.N-start))
		for i := range params {
			params[i] = river.InsertManyParams{Args: bareArgs{N: start + i}}
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(inserted).Seconds(), "inserts/s")
	awaitBare(b, client, nil)
}

func benchBareRiverSubmit(b *testing.B, newClient bareDriver) {
	b.StopTimer()
	ctx := b.Context()
	client := newClient(b)
	awaitBare(b, client, func() error {
		var next atomic.Int64
		g, ctx := errgroup.WithContext(ctx)
		for range *bareClients {
			g.Go(func() error {
				for n := int(next.Add(1)); n <= b.N; n = int(next.Add(1)) {
					if _, err := client.Insert(ctx, bareArgs{N: n}, nil); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return g.Wait()
	})
}

// awaitBare starts client, runs insert (if any) beside it, and waits until
// River has recorded b.N bareArgs jobs completed; that is what it times
// and reports as jobs/s.
func awaitBare(b *testing.B, client bareClient, insert func() error) {
	ctx := b.Context()
	// Completed events are sent once the completion is committed.
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: b.N + 1, Kinds: []river.EventKind{river.EventKindJobCompleted}})
	defer cancel()
	timeout := time.NewTimer(10 * time.Minute)
	defer timeout.Stop()
	b.StartTimer()
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Stop(sctx); err != nil {
			b.Errorf("stop river: %v", err)
		}
	})
	var inserted chan error
	if insert != nil {
		inserted = make(chan error, 1)
		go func() { inserted <- insert() }()
	}
	for done := 0; done < b.N; {
		select {
		case err := <-inserted:
			if err != nil {
				b.Fatalf("insert: %v", err)
			}
			inserted = nil
		case ev := <-events:
			if ev.Job.Kind == (bareArgs{}).Kind() {
				done++
			}
		case <-timeout.C:
			b.Fatalf("%d of %d jobs completed after 10 minutes", done, b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
