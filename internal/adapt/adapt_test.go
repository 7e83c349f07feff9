package adapt

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// observe records n API requests, slow of them over the target.
func observe(g *Gate, n, slow int) {
	for i := range n {
		d := time.Millisecond
		if i < slow {
			d = time.Second
		}
		g.Observe(d)
	}
}

func TestAdjustBacksOffFastAndRecoversSlowly(t *testing.T) {
	var told []int
	g := New(Config{Max: 48, Target: 20 * time.Millisecond, LimitFunc: func(n int) { told = append(told, n) }})
	if g.cfg.Min != 3 || g.cfg.Interval != 100*time.Millisecond || g.cfg.Cooldown != time.Second {
		t.Fatalf("defaults: min %d interval %s cooldown %s", g.cfg.Min, g.cfg.Interval, g.cfg.Cooldown)
	}
	now := time.Unix(1000, 0)
	tick := func(n, slow int) int {
		now = now.Add(g.cfg.Interval)
		observe(g, n, slow)
		g.adjust(now)
		return g.Limit()
	}
	// Every request slow: the limit halves each interval, down to Min.
	for _, want := range []int{24, 12, 6, 3, 3} {
		if got := tick(100, 100); got != want {
			t.Fatalf("slow API: limit %d, want %d", got, want)
		}
	}
	// Fast again: nothing moves until the moving average is under the
	// band and a cooldown has passed since the last change.
	ticks := 0
	for g.Limit() == 3 && ticks < 100 {
		tick(100, 0)
		ticks++
	}
	if ticks < 10 || g.Limit() != 6 || g.share >= raiseBelow {
		t.Fatalf("raised to %d after %d fast ticks with the average at %.4f; want 6, not before the 1 s cooldown (10 ticks), average under %.3f",
			g.Limit(), ticks, g.share, raiseBelow)
	}
	// Inside the band (0.5 % slow: the average settles between 0.25 %
	// and 1 %), the limit holds however long it lasts.
	for range 5 {
		tick(200, 1)
	}
	for i := range 30 {
		if got := tick(200, 1); got != 6 {
			t.Fatalf("tick %d in the band: limit %d, want 6 (hysteresis)", i, got)
		}
	}
	// 1.5 % slow is a p99 over target: the limit comes down.
	for range 10 {
		tick(200, 3)
	}
	if got := g.Limit(); got != 3 {
		t.Fatalf("1.5 %% slow: limit %d, want Min 3", got)
	}
	// An idle API counts as a fast one: back to Max step by step.
	for range 200 {
		tick(0, 0)
	}
	if got := g.Limit(); got != 48 {
		t.Fatalf("idle API: limit %d, want Max 48", got)
	}
	if told[0] != 24 || told[len(told)-1] != 48 {
		t.Fatalf("LimitFunc told %v", told)
	}
}

func TestNoTargetNeverAdapts(t *testing.T) {
	g := New(Config{Max: 8})
	observe(g, 100, 100)
	g.adjust(time.Now())
	if g.Limit() != 8 {
		t.Fatalf("limit %d without a target, want 8", g.Limit())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.Run(ctx) // returns at once
}

func TestGateHoldsLimit(t *testing.T) {
	g := New(Config{Max: 4, Target: time.Millisecond})
	var now, peak atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		if err := g.Acquire(context.Background()); err != nil {
			t.Error(err)
			return
		}
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		now.Add(-1)
		g.Release()
	}
	runAll := func(n int) int64 {
		peak.Store(0)
		for range n {
			wg.Add(1)
			go work()
		}
		wg.Wait()
		return peak.Load()
	}
	if p := runAll(40); p != 4 {
		t.Fatalf("%d at work at once, want the limit 4", p)
	}
	// Lowered to Min (1): new work goes one at a time.
	observe(g, 10, 10)
	g.adjust(time.Now())
	observe(g, 10, 10)
	g.adjust(time.Now().Add(time.Second))
	if g.Limit() != 1 {
		t.Fatalf("limit %d, want 1", g.Limit())
	}
	if p := runAll(20); p != 1 {
		t.Fatalf("%d at work at once, want 1", p)
	}
}

func TestAcquireGivesUpWithItsContext(t *testing.T) {
	g := New(Config{Max: 1})
	if err := g.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on a full gate: %v, want the deadline", err)
	}
	// The one that gave up holds nothing: the next gets the slot.
	g.Release()
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if err := g.Acquire(ctx2); err != nil {
		t.Fatalf("after a waiter gave up: %v", err)
	}
}

func TestYieldLetsOthersInAndResumesFirst(t *testing.T) {
	g := New(Config{Max: 1})
	first, err := g.Admit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// While the job waits on the upstream, another job may start.
	resume := first.Yield(context.Background())
	second, err := g.Admit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A third job queues up before the first comes back; the first still
	// goes first.
	entered, done3 := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done3)
		third, err := g.Admit(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		close(entered)
		third.Leave()
	}()
	waitLen := func(l *list.List) {
		for {
			g.mu.Lock()
			n := l.Len()
			g.mu.Unlock()
			if n == 1 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitLen(&g.waiters)
	resumed := make(chan struct{})
	go func() { resume(); close(resumed) }()
	waitLen(&g.resumers)
	second.Leave()
	<-resumed
	select {
	case <-entered:
		t.Fatal("a new job went before the one back from the upstream")
	default:
	}
	first.Leave()
	<-done3
	first.Leave() // a second Leave gives back nothing
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active != 0 {
		t.Fatalf("%d slots held after every job left", g.active)
	}
}

func TestRunOpensTheGateWhenItStops(t *testing.T) {
	g := New(Config{Max: 16, Target: time.Millisecond, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for g.Limit() == 16 && time.Now().Before(deadline) {
		observe(g, 10, 10)
		time.Sleep(time.Millisecond)
	}
	if g.Limit() == 16 {
		t.Fatal("a slow API never lowered the limit")
	}
	cancel()
	<-done
	if g.Limit() != 16 {
		t.Fatalf("limit %d after Run stopped, want Max 16", g.Limit())
	}
}

func TestRaiseWaitsForTheCooldown(t *testing.T) {
	g := New(Config{Max: 16, Target: time.Millisecond, Cooldown: 3 * time.Second})
	now := time.Unix(1000, 0)
	observe(g, 10, 10)
	g.adjust(now)
	if g.Limit() != 8 {
		t.Fatalf("limit %d after a slow interval, want 8", g.Limit())
	}
	ticks := 0
	for g.Limit() == 8 && ticks < 100 {
		now = now.Add(g.cfg.Interval)
		observe(g, 10, 0)
		g.adjust(now)
		ticks++
	}
	// The average is under the band after about 12 fast intervals; the
	// raise still waits for 3 s since the last change.
	if ticks != 30 || g.Limit() != 9 {
		t.Fatalf("raised to %d after %d intervals, want 9 after 30", g.Limit(), ticks)
	}
}
