package store_test

import (
	"fmt"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// BenchmarkDashboardReads is one GET /v1/dashboard's reads (whole
// cluster) over a history of 50,000 jobs: 30 days of finished ones, 2,000
// finished in the last hour (200 of them failed), 3,000 queued in 20 open
// batches. What the page costs the database every 2 s while it is open.
func BenchmarkDashboardReads(b *testing.B) {
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			c := dbtest.Open(b, db.url(b)).Conn()
			now := time.Now()
			fillDashboardHistory(b, c, now)
			for b.Loop() {
				if _, err := store.DashboardJobs(b.Context(), c, "", now.Add(-24*time.Hour)); err != nil {
					b.Fatal(err)
				}
				if _, err := store.Throughput(b.Context(), c, "", now, time.Minute, 10); err != nil {
					b.Fatal(err)
				}
				if _, err := store.RecentFailures(b.Context(), c, "", now.Add(-time.Hour), 2000, 10); err != nil {
					b.Fatal(err)
				}
				if bs, err := store.ActiveBatches(b.Context(), c, "", now.Add(-10*time.Minute), 20); err != nil || len(bs) != 20 {
					b.Fatalf("%d batches, %v", len(bs), err)
				}
				if _, err := store.SpendToday(b.Context(), c, "", now); err != nil {
					b.Fatal(err)
				}
				if _, err := store.UpstreamStates(b.Context(), c, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillDashboardHistory inserts the jobs BenchmarkDashboardReads reads: ids
// j0000000… in creation order, the first 45,000 finished over the last 30
// days, the next 2,000 within the last hour, the last 3,000 queued.
func fillDashboardHistory(b *testing.B, c store.Conn, now time.Time) {
	b.Helper()
	const total, recent, queued = 50_000, 2_000, 3_000
	for i := range 20 {
		if err := store.InsertBatch(b.Context(), c, &netcfg.Batch{ID: fmt.Sprintf("b%02d", i), Name: "fleet", Devices: 150, Intents: 3, CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	jobs := make([]*netcfg.Job, 0, 1000)
	for i := range total {
		j := &netcfg.Job{ID: fmt.Sprintf("j%07d", i), Kind: "generate", Department: fmt.Sprintf("d%d", i%5), RequestHash: "h",
			Request: []byte("{}"), MaxAttempts: 3, CreatedAt: now.Add(-30 * 24 * time.Hour).Add(time.Duration(i) * 50 * time.Second)}
		if i >= total-queued {
			j.BatchID = fmt.Sprintf("b%02d", i%20)
		}
		jobs = append(jobs, j)
		if len(jobs) == cap(jobs) || i == total-1 {
			if err := store.InsertJobs(b.Context(), c, jobs); err != nil {
				b.Fatal(err)
			}
			jobs = jobs[:0]
		}
	}
	old := fmt.Sprintf("j%07d", total-recent-queued)
	last := fmt.Sprintf("j%07d", total-queued)
	for _, u := range []struct {
		query string
		args  []any
	}{
		{`UPDATE netsmith_job SET state = 'succeeded', finished_at = created_at + 1000 WHERE id < $1`, []any{old}},
		{`UPDATE netsmith_job SET state = CASE WHEN CAST(substr(id, 2) AS BIGINT) % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
			error = 'anthropic 529 overloaded_error: Overloaded',
			finished_at = $3 - (CAST(substr(id, 2) AS BIGINT) % 3600) * 1000 WHERE id >= $1 AND id < $2`, []any{old, last, now.UnixMilli()}},
	} {
		if _, err := c.Exec(b.Context(), u.query, u.args...); err != nil {
			b.Fatal(err)
		}
	}
	// As autovacuum (PostgreSQL) would have by now; SQLite keeps the
	// statistics it gathers too.
	if _, err := c.Exec(b.Context(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
