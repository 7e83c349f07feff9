package store_test

import (
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestDashboardReads fills a database with jobs of two departments in
// every state, ledger rows, a budget and a limiter row, and checks each
// dashboard read on both databases: whole-cluster and one department.
func TestDashboardReads(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		now := noon
		at := func(d time.Duration) time.Time { return now.Add(-d) }
		if err := store.InsertBatch(ctx, c, &netcfg.Batch{ID: "b1", Name: "campus", Department: "neteng", Devices: 3, Intents: 1, CreatedAt: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := store.InsertBatch(ctx, c, &netcfg.Batch{ID: "b2", Name: "done", Department: "neteng", Devices: 1, Intents: 1, CreatedAt: at(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		job := func(id, dept, batch string, created time.Duration) {
			insertJob(t, c, id, func(j *netcfg.Job) { j.Department, j.BatchID, j.CreatedAt = dept, batch, at(created) })
		}
		mark := func(id string, s netcfg.JobState, msg string, ago time.Duration) {
			t.Helper()
			if ok, err := store.MarkState(ctx, c, id, s, msg, 1, at(ago+time.Second), at(ago)); !ok || err != nil {
				t.Fatalf("MarkState(%s, %s) = %v, %v", id, s, ok, err)
			}
		}
		job("q-old", "neteng", "b1", 50*time.Minute)
		job("q-new", "sec", "", 2*time.Minute)
		job("run", "neteng", "b1", 40*time.Minute)
		mark("run", netcfg.StateRunning, "", 30*time.Second)
		job("ok1", "neteng", "b1", 40*time.Minute)
		mark("ok1", netcfg.StateSucceeded, "", 90*time.Second) // bucket 8 of 10
		job("ok2", "sec", "", 40*time.Minute)
		mark("ok2", netcfg.StateSucceeded, "", 30*time.Second) // bucket 9
		job("ok3", "neteng", "b2", 2*time.Hour)
		mark("ok3", netcfg.StateSucceeded, "", 90*time.Minute) // before the window
		job("f4xx", "neteng", "", 20*time.Minute)
		mark("f4xx", netcfg.StateFailed, "anthropic 400 invalid_request_error: prompt is too long", 3*time.Minute)
		job("f5xx", "sec", "", 20*time.Minute)
		mark("f5xx", netcfg.StateFailed, "gave up after 3 attempts: anthropic 529 overloaded_error: Overloaded", 2*time.Minute)
		job("fexp", "neteng", "", 20*time.Minute)
		mark("fexp", netcfg.StateExpired, "expired: not started before …", time.Minute)
		job("fcan", "neteng", "", 20*time.Minute)
		mark("fcan", netcfg.StateCanceled, "canceled", 50*time.Second)

		o, err := store.DashboardJobs(ctx, c, "", at(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := map[netcfg.JobState]int64{"queued": 2, "running": 1, "retrying": 0, "succeeded": 3, "failed": 2, "canceled": 1, "expired": 1}
		for s, n := range want {
			if o.States[s] != n {
				t.Errorf("cluster %s = %d, want %d", s, o.States[s], n)
			}
		}
		if !o.OldestQueued.Equal(at(50 * time.Minute)) {
			t.Errorf("oldest queued %v, want %v", o.OldestQueued, at(50*time.Minute))
		}
		if o, err = store.DashboardJobs(ctx, c, "", at(time.Hour)); err != nil || o.States["succeeded"] != 2 || o.States["queued"] != 2 {
			t.Errorf("finished in the last hour: %v, %v; want ok3 (90 min ago) left out, open jobs all in", o.States, err)
		}
		if o, err = store.DashboardJobs(ctx, c, "sec", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if o.States["queued"] != 1 || o.States["succeeded"] != 1 || o.States["failed"] != 1 || !o.OldestQueued.Equal(at(2*time.Minute)) {
			t.Errorf("sec: %v oldest %v", o.States, o.OldestQueued)
		}

		tp, err := store.Throughput(ctx, c, "", now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(tp) != 10 || !tp[0].Start.Equal(at(10*time.Minute)) {
			t.Fatalf("throughput buckets %+v", tp)
		}
		if tp[8].Succeeded != 1 || tp[9].Succeeded != 1 || tp[9].Failed != 2 || tp[7].Failed != 1 || tp[8].Failed != 1 {
			t.Errorf("throughput %+v", tp)
		}
		var total int64
		for _, b := range tp {
			total += b.Succeeded + b.Failed
		}
		if total != 6 {
			t.Errorf("throughput counts %d jobs, want 6 (ok3 finished before the window)", total)
		}

		f, err := store.RecentFailures(ctx, c, "", at(time.Hour), 100, 2)
		if err != nil {
			t.Fatal(err)
		}
		wantReasons := map[string]int64{netcfg.ReasonUpstream4xx: 1, netcfg.ReasonUpstream5xx: 1, netcfg.ReasonExpired: 1, netcfg.ReasonCanceled: 1}
		if len(f.ByReason) != len(wantReasons) || f.Read != 4 || f.Truncated {
			t.Errorf("failures %+v", f)
		}
		for r, n := range wantReasons {
			if f.ByReason[r] != n {
				t.Errorf("reason %s = %d, want %d", r, f.ByReason[r], n)
			}
		}
		if len(f.Latest) != 2 || f.Latest[0].JobID != "fcan" || f.Latest[1].JobID != "fexp" {
			t.Errorf("latest failures %+v, want fcan, fexp", f.Latest)
		}
		if f, err = store.RecentFailures(ctx, c, "", at(time.Hour), 3, 5); err != nil || !f.Truncated || f.Read != 3 {
			t.Errorf("bounded read: %+v, %v", f, err)
		}
		if f, err = store.RecentFailures(ctx, c, "sec", at(time.Hour), 100, 5); err != nil || f.Read != 1 || f.Latest[0].JobID != "f5xx" {
			t.Errorf("sec failures: %+v, %v", f, err)
		}

		bs, err := store.ActiveBatches(ctx, c, "", at(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || bs[0].ID != "b1" || bs[0].States["succeeded"] != 1 || bs[0].States["queued"] != 1 || bs[0].States["running"] != 1 {
			t.Errorf("active batches %+v, want b1 only with 1 queued, 1 running, 1 succeeded", bs)
		}
		if bs, err = store.ActiveBatches(ctx, c, "", at(2*time.Hour), 10); err != nil || len(bs) != 2 || bs[0].ID != "b1" || bs[1].ID != "b2" {
			t.Errorf("batches active or finished in the last 2 h: %v, %v; want b1, b2", bs, err)
		}
		if bs, err = store.ActiveBatches(ctx, c, "sec", at(2*time.Hour), 10); err != nil || len(bs) != 0 {
			t.Errorf("sec batches %v, %v", bs, err)
		}

		if err := store.PutBudget(ctx, c, &netcfg.Budget{Department: "sec", DailyNUSD: 5e9, WarnPct: 80, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := store.PutBudget(ctx, c, &netcfg.Budget{Department: "idle", DailyNUSD: 1e9, WarnPct: 80, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		charge := func(id, dept string, when time.Time, ch ...netcfg.Charge) {
			t.Helper()
			if err := store.InsertLedger(ctx, c, id, "", dept, ch, when); err != nil {
				t.Fatal(err)
			}
		}
		call := netcfg.Charge{Kind: netcfg.ChargeCall, Provider: "sim", Model: "m", CostNUSD: 2e9}
		hit := netcfg.Charge{Kind: netcfg.ChargeCacheHit, Provider: "sim", Model: "m", SavedNUSD: 1e9}
		charge("l1", "neteng", at(time.Hour), call, hit, hit)
		charge("l2", "sec", at(time.Minute), call)
		charge("l3", "sec", at(13*time.Hour), call) // yesterday (UTC)
		sp, err := store.SpendToday(ctx, c, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) != 3 {
			t.Fatalf("spend %+v, want neteng, sec and idle", sp)
		}
		if sp[0].Department != "neteng" || sp[0].SpentNUSD != 2e9 || sp[0].SavedNUSD != 2e9 || sp[0].Calls != 1 || sp[0].CacheHits != 2 || sp[0].DailyNUSD != 0 {
			t.Errorf("neteng spend %+v", sp[0])
		}
		if sp[1].Department != "sec" || sp[1].SpentNUSD != 2e9 || sp[1].DailyNUSD != 5e9 || sp[1].WarnPct != 80 {
			t.Errorf("sec spend %+v", sp[1])
		}
		if sp[2].Department != "idle" || sp[2].SpentNUSD != 0 || sp[2].DailyNUSD != 1e9 {
			t.Errorf("idle spend %+v", sp[2])
		}
		if sp, err = store.SpendToday(ctx, c, "sec", now); err != nil || len(sp) != 1 || sp[0].Department != "sec" {
			t.Errorf("sec only: %+v, %v", sp, err)
		}

		if _, err := c.Exec(ctx, `INSERT INTO netsmith_upstream_limit (provider, model, tat_req_us, paused_until_us, factor, factor_at_us)
			VALUES ('anthropic', 'claude', $1, $2, 0.49, $3)`, now.Add(3*time.Second).UnixMicro(), now.Add(20*time.Second).UnixMicro(), at(time.Second).UnixMicro()); err != nil {
			t.Fatal(err)
		}
		us, err := store.UpstreamStates(ctx, c, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) != 1 || us[0].Factor != 0.49 || !us[0].PausedUntil.Equal(now.Add(20*time.Second)) || us[0].AheadReq != 3*time.Second || us[0].AheadIn != 0 {
			t.Errorf("upstream %+v", us)
		}
	})
}
