// Package adapt is the admission gate of a process whose API and workers
// share the machine: it sizes how many jobs may work at once (docs/design.md
// §7: in-process concurrency adapts, with hysteresis, a cooldown and a
// moving average). One place admits each job and lets it go, around its
// whole attempt (the queue's worker, through Enter); the job's work func
// only yields the slot while it waits on the upstream (Admission.Yield),
// which it hands to generate as an explicit option.
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
// that time (Admission.Yield), so a slow upstream never keeps work from
// starting, and the upstream limiter, not the gate, stays the ceiling of
// upstream calls.
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

// Gate is the admission gate: a counting semaphore whose size moves
// between Min and Max with the API's latency. The zero value is not usable; call New.
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
// the upstream (see Admission.Yield), which go first: finishing work already started
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

// Admission is one job's hold on a Gate, from Admit to Leave. The job
// runs in one goroutine: an Admission is not safe for concurrent use.
type Admission struct {
	g    *Gate
	held bool
}

// Admit waits for a slot of g for one job, in arrival order behind jobs
// coming back from the upstream (see Admission.Yield). It fails only when
// ctx ends first, and then holds nothing. A nil g admits at once and holds
// nothing.
func (g *Gate) Admit(ctx context.Context) (*Admission, error) {
	if g == nil {
		return &Admission{}, nil
	}
	if err := g.Acquire(ctx); err != nil {
		return nil, err
	}
	return &Admission{g: g, held: true}, nil
}

// Leave gives the slot back, if the job holds it; a second Leave gives back
// nothing.
func (a *Admission) Leave() {
	if a.held {
		a.held = false
		a.g.Release()
	}
}

// Yield gives the slot back while the job waits on something other than
// its own work (the upstream). The returned function takes a slot again,
// before jobs that have not started. If ctx ends while it waits, it
// returns without one and the job finishes ungated: what the upstream
// answered is never thrown away for a slot.
func (a *Admission) Yield(ctx context.Context) (resume func()) {
	if a == nil || !a.held {
		return func() {}
	}
	a.held = false
	a.g.Release()
	return func() {
		if a.g.acquire(ctx, &a.g.resumers) == nil {
			a.held = true
		}
	}
}

type admissionKey struct{}

// Enter admits the job whose context is ctx (Gate.Admit) and returns the
// context to run it under, from which its work func takes the admission
// (FromContext) to yield while it waits on the upstream, and the function
// that lets the job go (Admission.Leave). A nil g holds nothing.
func Enter(ctx context.Context, g *Gate) (context.Context, func(), error) {
	a, err := g.Admit(ctx)
	if err != nil {
		return ctx, func() {}, err
	}
	return context.WithValue(ctx, admissionKey{}, a), a.Leave, nil
}

// FromContext returns the admission Enter put in ctx, or nil; a nil
// Admission yields nothing.
func FromContext(ctx context.Context) *Admission {
	a, _ := ctx.Value(admissionKey{}).(*Admission)
	return a
}
