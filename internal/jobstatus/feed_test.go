package jobstatus

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestFeedFallsBackToPoll: a listener that fails leaves the feed polling
// (the kept unfinished jobs' versions: a moved one is dropped) until it
// listens again; a database that cannot listen is polled for good.
func TestFeedFallsBackToPoll(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	sources := make(chan Source, 16)
	polled := make(chan struct{}, 1)
	var listens atomic.Int32
	f := NewFeed(c, FeedConfig{
		Every: 5 * time.Millisecond,
		Retry: 50 * time.Millisecond,
		Versions: func(_ context.Context, ids []string) (map[string]netcfg.JobVersion, error) {
			select {
			case polled <- struct{}{}:
			default:
			}
			return map[string]netcfg.JobVersion{}, nil // all gone: drop them
		},
		Listen: func(ctx context.Context, _ time.Duration, ready func(), _ func(store.JobChange)) error {
			if listens.Add(1) == 1 {
				return errors.New("connection lost")
			}
			ready()
			<-ctx.Done()
			return nil
		},
		SourceFunc: func(s Source) { sources <- s },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()

	if s := <-sources; s != SourcePoll {
		t.Fatalf("after the listener failed: source %q, want %q", s, SourcePoll)
	}
	c.Fill(c.Ticket(), &netcfg.Job{ID: "q", State: netcfg.StateQueued})
	<-polled
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Open != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the poll did not drop the job that is gone")
		}
		<-time.After(time.Millisecond)
	}
	if s := <-sources; s != SourceNotify {
		t.Fatalf("after the retry: source %q, want %q", s, SourceNotify)
	}
	cancel()
	<-done
	if s := <-sources; s != SourceNone {
		t.Errorf("stopped: source %q, want none", s)
	}
	if st := c.Stats(); st.Live || st.Open != 0 {
		t.Errorf("stopped feed: %+v, want nothing unfinished served", st)
	}

	// No LISTEN at all: one try, then polling.
	var tries atomic.Int32
	g := NewFeed(New(Config{}), FeedConfig{Every: 5 * time.Millisecond, Retry: time.Millisecond,
		Versions: func(context.Context, []string) (map[string]netcfg.JobVersion, error) { return nil, nil },
		Listen: func(context.Context, time.Duration, func(), func(store.JobChange)) error {
			tries.Add(1)
			return store.ErrNoListen
		},
		SourceFunc: func(s Source) { sources <- s },
	})
	ctx, cancel = context.WithCancel(t.Context())
	done = make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	if s := <-sources; s != SourcePoll {
		t.Fatalf("without LISTEN: source %q, want %q", s, SourcePoll)
	}
	if g.Source() != SourcePoll {
		t.Errorf("Source() = %q, want %q", g.Source(), SourcePoll)
	}
	cancel()
	<-done
	if n := tries.Load(); n != 1 {
		t.Errorf("LISTEN tried %d times on a database without it, want 1", n)
	}
}

// TestFeedServesNothingWhileReconnecting: while the feed listens again
// after a loss and the listener is not ready yet (a slow connect), no poll
// runs: the unfinished jobs kept are not served from memory, since a
// change of them would go unseen.
func TestFeedServesNothingWhileReconnecting(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	j := &netcfg.Job{ID: "q", State: netcfg.StateQueued}
	var served atomic.Bool // a poll found j served from memory
	connecting, connected, listening := make(chan struct{}), make(chan struct{}), make(chan struct{})
	f := NewFeed(c, FeedConfig{
		Every: 5 * time.Millisecond,
		Retry: 20 * time.Millisecond,
		Versions: func(context.Context, []string) (map[string]netcfg.JobVersion, error) {
			if _, r := c.Lookup(j.ID); r == HitOpen {
				served.Store(true)
			}
			return map[string]netcfg.JobVersion{j.ID: netcfg.VersionOf(j)}, nil // unchanged
		},
		// The listener fails until a poll served j, then connects
		// slowly.
		Listen: func(ctx context.Context, _ time.Duration, ready func(), _ func(store.JobChange)) error {
			if !served.Load() {
				return errors.New("connection lost")
			}
			close(connecting)
			select {
			case <-connected:
			case <-ctx.Done():
				return nil
			}
			ready()
			<-ctx.Done()
			return nil
		},
		SourceFunc: func(s Source) {
			switch s {
			case SourcePoll:
				c.Fill(c.Ticket(), j)
			case SourceNotify:
				close(listening)
			}
		},
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()

	<-connecting
	if _, r := c.Lookup(j.ID); r != Miss {
		t.Errorf("listening again, not ready: lookup %q, want %q", r, Miss)
	}
	close(connected)
	<-listening
	if st := c.Stats(); !st.Live {
		t.Errorf("listening: %+v, want unfinished jobs served", st)
	}
}
