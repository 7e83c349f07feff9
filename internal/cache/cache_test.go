package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

func openConn(t *testing.T, url string) store.Conn {
	t.Helper()
	return dbtest.OpenOptions(t, url, store.Options{MaxConns: 40}).Conn()
}

var meta = cache.Meta{Key: "intent-1", Kind: cache.KindTemplate, Role: "access", Platform: "cisco_xe"}

// slowFill counts its calls and takes a moment, so that callers overlap.
func slowFill(calls *atomic.Int32, release <-chan struct{}) cache.FillFunc {
	return func(ctx context.Context) (*cache.Entry, error) {
		calls.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &cache.Entry{Body: "hostname {{.hostname}}\n", Provider: "sim", Model: "m", InputTokens: 100, OutputTokens: 50}, nil
	}
}

// TestCoalescing: 200 concurrent callers on one key, spread over two Cache
// instances standing for two replicas, make one fill.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		conn := openConn(t, url)
		replicas := []*cache.Cache{
			cache.New(cache.Config{Conn: conn, Owner: "replica-a", PollEvery: 10 * time.Millisecond}),
			cache.New(cache.Config{Conn: openConn(t, url), Owner: "replica-b", PollEvery: 10 * time.Millisecond}),
		}
		var calls atomic.Int32
		release := make(chan struct{})
		fill := slowFill(&calls, release)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[cache.Outcome]int{}
			started  sync.WaitGroup
		)
		started.Add(200)
		for i := range 200 {
			wg.Go(func() {
				started.Done()
				e, out, err := replicas[i%2].Resolve(context.Background(), meta, fill)
				if err != nil || e.Template == nil && e.Body == "" {
					t.Errorf("Resolve = %v, %v", e, err)
					return
				}
				mu.Lock()
				outcomes[out]++
				mu.Unlock()
			})
		}
		started.Wait()
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("fill ran %d times for 200 concurrent callers, want 1", n)
		}
		if outcomes[cache.Miss] != 1 || outcomes[cache.Miss]+outcomes[cache.Coalesced]+outcomes[cache.Hit] != 200 {
			t.Errorf("outcomes %v, want one miss and the rest coalesced or hits", outcomes)
		}
		// Later callers hit, in either replica.
		for _, c := range replicas {
			e, out, err := c.Resolve(context.Background(), meta, fill)
			if err != nil || out != cache.Hit || e.Template == nil || e.OutputTokens != 50 {
				t.Errorf("later Resolve = %+v, %s, %v; want a parsed hit with provenance", e, out, err)
			}
		}
	})
}

func TestInvalidVerdictIsRemembered(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := cache.New(cache.Config{Conn: openConn(t, url), Owner: "a"})
		var calls atomic.Int32
		bad := func(context.Context) (*cache.Entry, error) {
			calls.Add(1)
			return nil, &cache.InvalidError{Reason: "line 3: hard-coded hostname"}
		}
		for range 3 {
			_, _, err := c.Resolve(context.Background(), meta, bad)
			var inv *cache.InvalidError
			if !errors.Is(err, cache.ErrInvalid) || !errors.As(err, &inv) || inv.Reason != "line 3: hard-coded hostname" {
				t.Fatalf("Resolve = %v, want the invalid verdict with its reason", err)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("an invalid intent was asked for %d times, want 1", n)
		}
	})
}

func TestFailedFillReleasesLease(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := cache.New(cache.Config{Conn: openConn(t, url), Owner: "a"})
		boom := errors.New("upstream 529 overloaded")
		if _, _, err := c.Resolve(context.Background(), meta, func(context.Context) (*cache.Entry, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Fatalf("Resolve = %v, want the fill's error", err)
		}
		var calls atomic.Int32
		release := make(chan struct{})
		close(release)
		if _, out, err := c.Resolve(context.Background(), meta, slowFill(&calls, release)); err != nil || out != cache.Miss {
			t.Fatalf("after a failed fill: %s, %v; want a new miss at once", out, err)
		}
	})
}

func TestBusyWhileAnotherReplicaFills(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		conn := openConn(t, url)
		now := time.Now()
		// A replica holds the lease and is still working.
		if ok, err := store.AcquireTemplateLease(context.Background(), conn, &netcfg.Template{Key: meta.Key, Kind: meta.Kind},
			"other", now.Add(time.Minute), now); !ok || err != nil {
			t.Fatal(ok, err)
		}
		c := cache.New(cache.Config{Conn: conn, Owner: "me", WaitFor: 100 * time.Millisecond, PollEvery: 20 * time.Millisecond})
		_, _, err := c.Resolve(context.Background(), meta, func(context.Context) (*cache.Entry, error) {
			t.Error("filled while another replica held the lease")
			return nil, nil
		})
		var busy *cache.BusyError
		if !errors.As(err, &busy) || busy.Wait <= 0 {
			t.Fatalf("Resolve = %v, want *BusyError with a wait", err)
		}
	})
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	c := cache.New(cache.Config{Conn: openConn(t, dbtest.SQLite(t)), Owner: "a"})
	var calls atomic.Int32
	release := make(chan struct{})
	close(release)
	c.Resolve(context.Background(), meta, slowFill(&calls, release))
	if n, err := c.Invalidate(context.Background(), netcfg.TemplateFilter{Role: "access"}); n != 1 || err != nil {
		t.Fatalf("Invalidate = %d, %v", n, err)
	}
	if _, out, _ := c.Resolve(context.Background(), meta, slowFill(&calls, release)); out != cache.Miss || calls.Load() != 2 {
		t.Errorf("after invalidation: %s with %d fills, want a miss (L1 cleared too)", out, calls.Load())
	}
}

// TestMetaTTL: a ready entry lives Meta.TTL from its fill (the cache's TTL
// when unset), L1 never serves it past that, and an invalid verdict keeps
// InvalidTTL whatever Meta.TTL says.
func TestMetaTTL(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		conn := openConn(t, url)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var (
			mu  sync.Mutex
			now = t0
		)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
		c := cache.New(cache.Config{Conn: conn, Owner: "a", TTL: 7 * 24 * time.Hour, InvalidTTL: 2 * time.Hour,
			L1TTL: 24 * time.Hour, Clock: clock})
		var calls atomic.Int32
		release := make(chan struct{})
		close(release)
		fill := slowFill(&calls, release)
		expiresAt := func(key string) time.Time {
			t.Helper()
			tpl, err := store.GetTemplate(t.Context(), conn, key)
			if err != nil {
				t.Fatal(err)
			}
			return tpl.ExpiresAt
		}

		short := meta
		short.Key, short.TTL = "intent-short", time.Hour
		if _, out, err := c.Resolve(t.Context(), short, fill); err != nil || out != cache.Miss {
			t.Fatalf("Resolve(TTL 1h) = %s, %v; want a miss", out, err)
		}
		if got, want := expiresAt(short.Key), t0.Add(time.Hour); !got.Equal(want) {
			t.Errorf("entry with Meta.TTL 1h expires at %v, want %v", got, want)
		}
		dflt := meta
		dflt.Key = "intent-default"
		if _, _, err := c.Resolve(t.Context(), dflt, fill); err != nil {
			t.Fatal(err)
		}
		if got, want := expiresAt(dflt.Key), t0.Add(7*24*time.Hour); !got.Equal(want) {
			t.Errorf("entry without Meta.TTL expires at %v, want %v (Config.TTL)", got, want)
		}

		advance(59 * time.Minute)
		if _, out, err := c.Resolve(t.Context(), short, fill); err != nil || out != cache.Hit {
			t.Fatalf("Resolve after 59m = %s, %v; want a hit", out, err)
		}
		advance(time.Minute + time.Millisecond)
		if _, out, err := c.Resolve(t.Context(), short, fill); err != nil || out != cache.Miss {
			t.Fatalf("Resolve after 1h = %s, %v; want a miss (expired, even in L1)", out, err)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("%d fills, want 3 (short, default, short again)", n)
		}
		if got, want := expiresAt(short.Key), t0.Add(2*time.Hour+time.Millisecond); !got.Equal(want) {
			t.Errorf("refilled entry expires at %v, want %v", got, want)
		}

		invalid := meta
		invalid.Key, invalid.TTL = "intent-invalid", 30*24*time.Hour
		_, _, err := c.Resolve(t.Context(), invalid, func(context.Context) (*cache.Entry, error) {
			return nil, &cache.InvalidError{Reason: "no"}
		})
		if !errors.Is(err, cache.ErrInvalid) {
			t.Fatalf("Resolve = %v, want the invalid verdict", err)
		}
		if got, want := expiresAt(invalid.Key), clock().Add(2*time.Hour); !got.Equal(want) {
			t.Errorf("invalid verdict expires at %v, want %v (InvalidTTL, not Meta.TTL)", got, want)
		}
	})
}
