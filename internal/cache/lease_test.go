package cache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestLeaseRenewedWhileFilling: a fill that outlasts many lease lifetimes
// keeps its lease (renewed every third of LeaseTTL), so another replica
// never takes the intent over from a live holder.
func TestLeaseRenewedWhileFilling(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		conn := openConn(t, url)
		const ttl = time.Second
		a := cache.New(cache.Config{Conn: conn, Owner: "a", LeaseTTL: ttl})
		b := cache.New(cache.Config{Conn: conn, Owner: "b", LeaseTTL: ttl, WaitFor: time.Nanosecond, PollEvery: time.Millisecond})
		var calls atomic.Int32
		release, filling := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, _, err := a.Resolve(context.Background(), meta, func(ctx context.Context) (*cache.Entry, error) {
				close(filling)
				return slowFill(&calls, release)(ctx)
			})
			done <- err
		}()
		<-filling
		first, err := store.GetTemplate(context.Background(), conn, meta.Key)
		if err != nil {
			t.Fatal(err)
		}
		// Wait for the lease to be renewed past two of its lifetimes.
		for {
			cur, err := store.GetTemplate(context.Background(), conn, meta.Key)
			if err != nil {
				t.Fatal(err)
			}
			if cur.LeaseUntil.After(first.LeaseUntil.Add(2 * ttl)) {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("fill ended before it was released: %v", err)
			case <-time.After(ttl / 3):
			}
		}
		_, _, err = b.Resolve(context.Background(), meta, func(context.Context) (*cache.Entry, error) {
			t.Error("replica b filled while a still held a renewed lease")
			return nil, nil
		})
		var busy *cache.BusyError
		if !errors.As(err, &busy) {
			t.Errorf("b.Resolve = %v, want *BusyError", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestCrashedHolderLeaseRunsOut: a lease left by a process that died
// mid-fill (taken, never renewed) is taken over within LeaseTTL, and the
// default lease is seconds, not minutes.
func TestCrashedHolderLeaseRunsOut(t *testing.T) {
	t.Parallel()
	if cache.DefaultLeaseTTL > 15*time.Second {
		t.Errorf("DefaultLeaseTTL = %s; a crashed holder would hold its intent back that long", cache.DefaultLeaseTTL)
	}
	dbtest.Each(t, func(t *testing.T, url string) {
		conn := openConn(t, url)
		const ttl = 500 * time.Millisecond
		now := time.Now()
		if ok, err := store.AcquireTemplateLease(context.Background(), conn, &netcfg.Template{Key: meta.Key, Kind: meta.Kind},
			"dead", now.Add(ttl), now); !ok || err != nil {
			t.Fatal(ok, err)
		}
		c := cache.New(cache.Config{Conn: conn, Owner: "alive", LeaseTTL: ttl, WaitFor: time.Minute, PollEvery: 20 * time.Millisecond})
		var calls atomic.Int32
		release := make(chan struct{})
		close(release)
		_, out, err := c.Resolve(context.Background(), meta, slowFill(&calls, release))
		took := time.Since(now)
		if err != nil || out != cache.Miss {
			t.Fatalf("Resolve = %s, %v; want a miss filled by the live process", out, err)
		}
		// Generous for a loaded machine, and far below the wait of a
		// lease that is not short.
		if took > ttl+10*time.Second {
			t.Errorf("took %s to take over a dead holder's %s lease", took, ttl)
		}
	})
}

// TestFillKeptWhenStoreFails: when the database fails between the model's
// answer and storing it (here the lease connection's database is closed
// during the fill), the paid entry is still handed to the caller, so that
// the job does not call the model again.
func TestFillKeptWhenStoreFails(t *testing.T) {
	t.Parallel()
	url := dbtest.SQLite(t)
	conn := openConn(t, url)
	leaseDB, err := store.Open(t.Context(), url, store.Options{}) // closed by the fill
	if err != nil {
		t.Fatal(err)
	}
	c := cache.New(cache.Config{Conn: conn, LeaseConn: leaseDB.Conn(), Owner: "a"})
	var calls atomic.Int32
	e, out, err := c.Resolve(context.Background(), meta, func(ctx context.Context) (*cache.Entry, error) {
		calls.Add(1)
		leaseDB.Close() // the database goes away while the model answers
		return &cache.Entry{Body: "hostname {{.hostname}}\n", Provider: "sim", Model: "m", InputTokens: 100, OutputTokens: 50}, nil
	})
	if err != nil || e == nil || e.Body == "" || out != cache.Miss {
		t.Fatalf("Resolve = %v, %s, %v; want the paid entry despite the failed store", e, out, err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d fills", calls.Load())
	}
}
