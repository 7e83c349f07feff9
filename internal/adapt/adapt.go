// Package adapt sizes how many jobs a process works on at once when its
// API and its workers share the machine (docs/design.md §7: in-process
// concurrency adapts, with hysteresis, a cooldown and a moving average).
//
// The API goes first: a submission is someone waiting, a queued job is not.
// A Gate watches how long the process takes to answer API requests. When
// too many of them take longer than a target, it lets fewer jobs do work at
// once, which leaves the CPU (and, on SQLite, the one writer) to the API;
// when they are fast again, it lets the workers back in step by step. The
// queue is durable: jobs held back wait in it and lose nothing.
//
// Only a job's own work counts against the gate. A job waiting on the
// upstream (its rate limiter or its model call) gives its slot back for
// that time (Idle), so a slow upstream never keeps work from starting, and
// the upstream limiter, not the gate, stays the ceiling of upstream calls.
package adapt

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Config shapes a Gate.
type Config struct {
	// Max is the most jobs at work at once (serve --concurrency).
	Max int
	// Min is the fewest the gate ever allows (default Max/16, at least 1).
	Min int
	// Target is the API latency to keep: requests slower than this are
	// slow. Zero turns adaptation off and the gate stays at Max.
	Target time.Duration
	// Interval is how often the gate reconsiders its limit (default 100 ms).
	Interval time.Duration
	// Cooldown is how long the limit stays put before it is raised again
	// (default 1 s). Lowering needs only one interval and halves the
	// limit: backing off must be quick, recovering careful.
	Cooldown time.Duration
	// LimitFunc, when set, is told each new limit (a metric, a log line).
	LimitFunc func(limit int)
}

// The moving average of the slow share, and the band around it: above
// lowerAbove (on average and in the last interval) the gate lowers its
// limit, below raiseBelow it raises it, in between it holds (hysteresis).
// lowerAbove is 1 % so that Target reads as the API's p99: with 2 %, the
// submit p99 of bench s6-submit.sh on PostgreSQL stayed further above
// Target.
const (
	smoothing  = 0.3
	lowerAbove = 0.01
	raiseBelow = 0.0025
)

// Gate is a counting semaphore whose size moves between Min and Max with
// the API's latency. The zero value is not usable; call New.
type Gate struct {
	cfg Config

	// requests and slow count the API requests observed since the last
	// adjustment, and how many of them exceeded Target.
	requests, slow atomic.Int64

	mu       sync.Mutex
	limit    int
	active   int
	waiters  list.List // of chan struct{}: jobs starting, first come first served
	resumers list.List // of chan struct{}: jobs back from the upstream, served first
	share    float64   // moving average of the slow share
	changed  time.Time // when limit last moved
}

// New returns a gate open to cfg.Max jobs.
func New(cfg Config) *Gate {
	cfg.Max = max(cfg.Max, 1)
	if cfg.Min <= 0 {
		cfg.Min = cfg.Max / 16
	}
	cfg.Min = min(max(cfg.Min, 1), cfg.Max)
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Second
	}
	return &Gate{cfg: cfg, limit: cfg.Max}
}

// Observe records an API request that took d.
func (g *Gate) Observe(d time.Duration) {
	if g == nil || g.cfg.Target <= 0 {
		return
	}
	g.requests.Add(1)
	if d > g.cfg.Target {
		g.slow.Add(1)
	}
}

// Limit is how many jobs may be at work at once now.
func (g *Gate) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// Acquire waits for a slot, in arrival order behind jobs coming back from
// the upstream (see Idle), which go first: finishing work already started
// frees its leases and its memory sooner. It fails only when ctx ends
// first, and then holds nothing.
func (g *Gate) Acquire(ctx context.Context) error { return g.acquire(ctx, &g.waiters) }

func (g *Gate) acquire(ctx context.Context, queue *list.List) error {
	g.mu.Lock()
	if g.active < g.limit && g.resumers.Len() == 0 && g.waiters.Len() == 0 {
		g.active++
		g.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	e := queue.PushBack(ready)
	g.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-ready:
		// Granted as ctx ended: hand the slot on.
		g.active--
		g.grant()
	default:
		queue.Remove(e)
	}
	return ctx.Err()
}

// Release gives back a slot taken with Acquire.
func (g *Gate) Release() {
	g.mu.Lock()
	g.active--
	g.grant()
	g.mu.Unlock()
}

// grant lets waiters in while the limit allows, resumers first; g.mu is
// held.
func (g *Gate) grant() {
	for g.active < g.limit {
		q := &g.resumers
		if q.Len() == 0 {
			q = &g.waiters
		}
		if q.Len() == 0 {
			return
		}
		ready := q.Remove(q.Front()).(chan struct{})
		g.active++
		close(ready)
	}
}

// Run adjusts the limit every Interval until ctx ends, and then opens the
// gate to Max: with the API stopped, the jobs still running or waiting
// (a graceful shutdown) have the machine. Without a Target it returns at
// once: the gate stays at Max.
func (g *Gate) Run(ctx context.Context) {
	if g.cfg.Target <= 0 {
		return
	}
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.mu.Lock()
			g.limit = g.cfg.Max
			g.grant()
			g.mu.Unlock()
			if g.cfg.LimitFunc != nil {
				g.cfg.LimitFunc(g.cfg.Max)
			}
			return
		case now := <-t.C:
			g.adjust(now)
		}
	}
}

// adjust folds the requests observed since the last call into the moving
// average and moves the limit if it left the band.
func (g *Gate) adjust(now time.Time) {
	n, slow := g.requests.Swap(0), g.slow.Swap(0)
	var share float64
	if n > 0 {
		share = float64(slow) / float64(n)
	}
	g.mu.Lock()
	g.share += smoothing * (share - g.share)
	old := g.limit
	since := now.Sub(g.changed)
	switch {
	case share > lowerAbove && g.share > lowerAbove && g.limit > g.cfg.Min && since >= g.cfg.Interval:
		// Still slow now, and slow on average: the average alone would go
		// on lowering for a while after the API recovered.
		g.limit = max(g.cfg.Min, g.limit/2)
	case g.share < raiseBelow && g.limit < g.cfg.Max && since >= g.cfg.Cooldown:
		g.limit = min(g.cfg.Max, g.limit+max(1, g.cfg.Max/16))
		g.grant()
	}
	changed := g.limit != old
	if changed {
		g.changed = now
	}
	limit := g.limit
	g.mu.Unlock()
	if changed && g.cfg.LimitFunc != nil {
		g.cfg.LimitFunc(limit)
	}
}

// slot is one job's hold on a gate, carried in its context so that the
// code waiting on the upstream can give it back meanwhile (Idle).
type slot struct {
	g    *Gate
	held bool
}

type slotKey struct{}

// Enter waits for a slot of g for the job whose context is ctx. It returns
// the context to work under, which Idle understands, and the function that
// gives the slot back when the job is done. A nil g holds nothing.
func Enter(ctx context.Context, g *Gate) (context.Context, func(), error) {
	if g == nil {
		return ctx, func() {}, nil
	}
	if err := g.Acquire(ctx); err != nil {
		return ctx, func() {}, err
	}
	s := &slot{g: g, held: true}
	return context.WithValue(ctx, slotKey{}, s), func() {
		if s.held {
			s.held = false
			g.Release()
		}
	}, nil
}

// Idle gives back the slot of the job whose context is ctx, if it holds
// one, while it waits on something other than its own work (the upstream).
// The returned function takes a slot again. If ctx ends while it waits, it
// returns without one and the job finishes ungated: what the upstream
// answered is never thrown away for a slot. A job runs in one goroutine, so
// Idle and its resume are not safe for concurrent use on one ctx.
func Idle(ctx context.Context) (resume func()) {
	s, _ := ctx.Value(slotKey{}).(*slot)
	if s == nil || !s.held {
		return func() {}
	}
	s.held = false
	s.g.Release()
	return func() {
		if s.g.acquire(ctx, &s.g.resumers) == nil {
			s.held = true
		}
	}
}
