package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

func openConn(t *testing.T, url string) store.Conn {
	t.Helper()
	return dbtest.Open(t, url).Conn()
}

// TestTemplateLease runs on the queue's connection and on its LazyConn,
// which the template cache uses (on SQLite its statements are committed
// in groups, and each must still report its own rows).
func TestTemplateLease(t *testing.T) {
	t.Parallel()
	for _, lazy := range []bool{false, true} {
		t.Run(map[bool]string{false: "conn", true: "lazy"}[lazy], func(t *testing.T) {
			t.Parallel()
			testTemplateLease(t, lazy)
		})
	}
}

func testTemplateLease(t *testing.T, lazy bool) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db := dbtest.Open(t, url)
		c := db.Conn()
		if lazy {
			c = db.LazyConn()
		}
		now := time.Now()
		entry := &netcfg.Template{Key: "k1", Kind: "template", Role: "access", Platform: "cisco_xe"}

		// Many concurrent callers: exactly one wins the lease.
		var wins sync.Map
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				ok, err := store.AcquireTemplateLease(ctx, c, entry, fmt.Sprint("owner", i), now.Add(time.Minute), now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Store(i, true)
				}
			})
		}
		wg.Wait()
		var winner string
		n := 0
		wins.Range(func(k, _ any) bool { n++; winner = fmt.Sprint("owner", k); return true })
		if n != 1 {
			t.Fatalf("%d callers won the lease, want 1", n)
		}
		if ok, _ := store.FillTemplate(ctx, c, &netcfg.Template{Key: "k1", State: netcfg.TemplateReady, Body: "x"}, "intruder"); ok {
			t.Fatal("a caller without the lease filled the entry")
		}
		ready := &netcfg.Template{Key: "k1", State: netcfg.TemplateReady, Body: "hostname {{.hostname}}", Provider: "sim",
			Model: "m", PromptVersion: "v1", InputTokens: 100, OutputTokens: 200, ExpiresAt: now.Add(time.Hour)}
		if ok, err := store.FillTemplate(ctx, c, ready, winner); !ok || err != nil {
			t.Fatalf("FillTemplate by the lease holder = %v, %v", ok, err)
		}
		got, err := store.GetTemplate(ctx, c, "k1")
		if err != nil || got.State != netcfg.TemplateReady || got.Body != ready.Body || got.OutputTokens != 200 || got.Role != "access" {
			t.Fatalf("GetTemplate = %+v, %v", got, err)
		}
		// A fresh entry cannot be taken; an expired one can.
		if ok, _ := store.AcquireTemplateLease(ctx, c, entry, "late", now.Add(time.Minute), now); ok {
			t.Error("took the lease of a fresh ready entry")
		}
		if ok, _ := store.AcquireTemplateLease(ctx, c, entry, "late", now.Add(3*time.Hour), now.Add(2*time.Hour)); !ok {
			t.Error("could not take the lease of an expired entry")
		}
		// A lease whose holder died runs out.
		e2 := &netcfg.Template{Key: "k2", Kind: "template", Role: "core"}
		store.AcquireTemplateLease(ctx, c, e2, "dead", now.Add(time.Second), now)
		if ok, _ := store.AcquireTemplateLease(ctx, c, e2, "next", now.Add(time.Minute), now); ok {
			t.Error("took a live lease")
		}
		if ok, _ := store.AcquireTemplateLease(ctx, c, e2, "next", now.Add(time.Minute), now.Add(2*time.Second)); !ok {
			t.Error("could not take a lease that ran out")
		}
		if err := store.ReleaseTemplateLease(ctx, c, "k2", "next"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.GetTemplate(ctx, c, "k2"); !errors.Is(err, netcfg.ErrNotFound) {
			t.Errorf("after release: %v, want not found", err)
		}
	})
}

func TestInvalidateTemplates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		now := time.Now()
		for _, e := range []netcfg.Template{
			{Key: "a", Kind: "template", Role: "access", Platform: "cisco_xe"},
			{Key: "b", Kind: "template", Role: "access", Platform: "arista_eos"},
			{Key: "c", Kind: "template", Role: "core", Platform: "arista_eos"},
			{Key: "d", Kind: "config", Role: "core", Platform: "arista_eos", Hostname: "core1"},
		} {
			if ok, err := store.AcquireTemplateLease(ctx, c, &e, "o", now.Add(time.Minute), now); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		steps := []struct {
			f    netcfg.TemplateFilter
			want int64
		}{
			{netcfg.TemplateFilter{Hostname: "core1"}, 1},
			{netcfg.TemplateFilter{Role: "access", Platform: "arista_eos"}, 1},
			{netcfg.TemplateFilter{Key: "zzz"}, 0},
			{netcfg.TemplateFilter{Platform: "arista_eos"}, 1},
			{netcfg.TemplateFilter{All: true}, 1},
		}
		for _, s := range steps {
			n, err := store.InvalidateTemplates(ctx, c, s.f)
			if err != nil || n != s.want {
				t.Errorf("InvalidateTemplates(%+v) = %d, %v; want %d", s.f, n, err, s.want)
			}
		}
		if _, err := store.InvalidateTemplates(ctx, c, netcfg.TemplateFilter{}); err == nil {
			t.Error("an empty filter invalidated without All")
		}
	})
}

func TestCacheStatsFromResults(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := openConn(t, url)
		now := time.Now()
		for i, kind := range []string{"miss", "hit", "hit", "coalesced", "fallback", ""} {
			j := &netcfg.Job{ID: fmt.Sprint("j", i), Kind: "generate", RequestHash: "h", Request: []byte("{}"), MaxAttempts: 1, CreatedAt: now}
			if _, err := store.InsertJob(ctx, c, j); err != nil {
				t.Fatal(err)
			}
			r := &netcfg.Result{Body: []byte("{}"), Cache: kind, SavedInputTokens: 10, SavedOutputTokens: 20}
			if ok, err := store.Complete(ctx, c, j.ID, 1, now, r, now); !ok || err != nil {
				t.Fatal(ok, err)
			}
			// Completing twice stores one result.
			if ok, _ := store.Complete(ctx, c, j.ID, 1, now, r, now); ok {
				t.Fatal("completed a job twice")
			}
		}
		s, err := store.GetCacheStats(ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Hits != 2 || s.Misses != 1 || s.Coalesced != 1 || s.Fallbacks != 1 || s.SavedOutputTokens != 120 {
			t.Errorf("stats = %+v", s)
		}
		rows, distinct, _ := store.CountResults(ctx, c)
		if rows != 6 || distinct != 6 {
			t.Errorf("results %d rows %d distinct, want 6", rows, distinct)
		}
	})
}

// TestLazyConnGroups: statements sent on the lazy connection together are
// stored in groups, and a failing one fails alone: the others are stored
// and each reports its own rows.
func TestLazyConnGroups(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db := dbtest.Open(t, url)
		c := db.LazyConn()
		now := time.Now()
		const n = 32
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				if i%8 == 7 { // a duplicate key: a statement the database refuses as it runs
					_, errs[i] = c.Exec(ctx, `INSERT INTO netsmith_process (id, role, version, started_at, last_seen)
						VALUES ($1, 'all', 'v', 0, 0), ($1, 'all', 'v', 0, 0)`, fmt.Sprint("dup", i))
					return
				}
				errs[i] = store.Heartbeat(ctx, c, store.Process{ID: fmt.Sprint("p", i), Role: "all", Version: "v",
					StartedAt: now, LastSeen: now})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (i%8 == 7) != (err != nil) {
				t.Errorf("statement %d: error %v", i, err)
			}
		}
		ps, err := store.LiveProcesses(ctx, db.Conn(), now.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != n-n/8 {
			t.Errorf("%d heartbeats stored, want %d", len(ps), n-n/8)
		}
		got, err := c.Exec(ctx, `DELETE FROM netsmith_process WHERE id IN ('p0', 'p1', 'nobody')`)
		if err != nil || got != 2 {
			t.Errorf("delete on the lazy connection = %d rows, %v; want 2", got, err)
		}
	})
}
