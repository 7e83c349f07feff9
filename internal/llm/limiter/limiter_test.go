package limiter

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"netsmith/internal/dbtest"
	"netsmith/internal/llm"
	"netsmith/internal/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// db is one database connection pool with the store's tables.
type db struct {
	conn    store.Conn
	dialect string
}

// pools opens n pools (n replicas) on url, migrated.
func pools(t testing.TB, url string, n int) []db {
	t.Helper()
	ctx := context.Background()
	var dbs []db
	for i := range n {
		d, err := store.Open(ctx, url, store.Options{MaxConns: 8})
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		t.Cleanup(d.Close)
		if i == 0 {
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		dbs = append(dbs, db{d.Conn(), d.Dialect()})
	}
	return dbs
}

// each runs f on SQLite and, when available, PostgreSQL, each with n
// pools (replicas) on one database. Subtests that share it keep apart by
// using models of their own.
func each(t *testing.T, n int, f func(t *testing.T, dbs []db)) {
	t.Helper()
	for name, url := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, pools(t, url(t), n))
		})
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func newLimiter(t testing.TB, d db, cfg Config) *Limiter {
	t.Helper()
	if cfg.Provider == "" {
		cfg.Provider = "anthropic"
	}
	if cfg.Model == "" {
		cfg.Model = "claude-test"
	}
	l, err := New(context.Background(), d.conn, d.dialect, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// simulate runs one caller per limiter in simulated time for d: each caller
// has an endless backlog of calls costing in and out tokens, tries at its
// next time (the earliest caller first), and on refusal comes back after
// the wait the limiter gave. It returns the admission times since the start
// and the reasons given for refusals.
func simulate(t *testing.T, clock *fakeClock, ls []*Limiter, in, out int64, d time.Duration) ([]time.Duration, map[string]int) {
	t.Helper()
	ctx := t.Context()
	start := clock.Now()
	next := make([]time.Duration, len(ls))
	var admitted []time.Duration
	reasons := map[string]int{}
	for {
		i := 0
		for j := range next {
			if next[j] < next[i] {
				i = j
			}
		}
		if next[i] >= d {
			return admitted, reasons
		}
		clock.Set(start.Add(next[i]))
		r, wait, reason, err := ls[i].try(ctx, in, out)
		if err != nil {
			t.Fatalf("try: %v", err)
		}
		if r != nil {
			admitted = append(admitted, next[i])
			continue
		}
		reasons[reason]++
		next[i] += wait
	}
}

// maxInWindow is the most admissions in any window of length w.
func maxInWindow(times []time.Duration, w time.Duration) int {
	most, j := 0, 0
	for i := range times {
		for times[i]-times[j] >= w {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestRateSimulated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limits     Limits
		in, out    int64
		perSecond  float64 // calls the binding limit allows
		burst      int     // calls allowed at once after idling (Burst 1 s)
		wantReason string
	}{
		{"600 rpm", Limits{RPM: 600}, 100, 100, 10, 8, ReasonRPM},
		{"input tokens bind", Limits{RPM: 6000, InputTPM: 60_000, OutputTPM: 600_000}, 500, 100, 2, 2, ReasonITPM},
		{"output tokens bind", Limits{RPM: 6000, InputTPM: 600_000, OutputTPM: 6_000}, 500, 50, 2, 2, ReasonOTPM},
		{"call larger than the burst", Limits{InputTPM: 6_000}, 500, 0, 0.2, 1, ReasonITPM},
	}
	// Three replicas, each with a pool of its own, one caller each.
	each(t, 3, func(t *testing.T, dbs []db) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				clock := newFakeClock()
				var ls []*Limiter
				for _, d := range dbs {
					ls = append(ls, newLimiter(t, d, Config{Model: tt.name, Limits: tt.limits, Clock: clock.Now}))
				}
				const d = 20 * time.Second
				admitted, reasons := simulate(t, clock, ls, tt.in, tt.out, d)

				// The burst at 0 and then one call per interval.
				want := int(tt.perSecond*d.Seconds()) + tt.burst - 1
				if got := len(admitted); got < want-1 || got > want+1 {
					t.Errorf("admitted %d calls in %s, want %d±1 (%.1f/s and a burst of %d)", got, d, want, tt.perSecond, tt.burst)
				}
				// In any second: at most a second's worth plus the burst
				// (plus one for the boundary).
				if got, most := maxInWindow(admitted, time.Second), int(tt.perSecond)+tt.burst+1; got > most {
					t.Errorf("%d calls in one second, want at most %d", got, most)
				}
				// After the first burst, calls are evenly spaced.
				gap := time.Duration(float64(time.Second) / tt.perSecond)
				for i := tt.burst + 1; i < len(admitted); i++ {
					if g := admitted[i] - admitted[i-1]; g < gap-time.Millisecond || g > gap+time.Millisecond {
						t.Errorf("call %d came %s after the one before, want %s", i, g, gap)
						break
					}
				}
				for r := range reasons {
					if r != tt.wantReason {
						t.Errorf("refused for %q (%d times), want only %q", r, reasons[r], tt.wantReason)
					}
				}
			})
		}
	})
}

func TestSettle(t *testing.T) {
	t.Parallel()
	// 6,000 output tokens a minute: 10 ms a token, so max_tokens 1,000 is
	// 10 s of the output limit. Input: 1,000 tokens a second.
	limits := Limits{InputTPM: 60_000, OutputTPM: 6_000}
	tests := []struct {
		name     string
		finish   func(ctx context.Context, r *Reservation) error
		wantWait time.Duration // before a second call of 100 input and 1,000 output tokens may go
		reason   string
	}{
		{"reserved max_tokens stand", func(context.Context, *Reservation) error { return nil }, 10 * time.Second, ReasonOTPM},
		{"settle gives back unused output", func(ctx context.Context, r *Reservation) error {
			return r.Settle(ctx, llm.Usage{InputTokens: 100, OutputTokens: 100})
		}, time.Second, ReasonOTPM},
		{"settle charges input above the estimate", func(ctx context.Context, r *Reservation) error {
			// 100 estimated, 12,000 (with cache writes) used: 12 s of the
			// input limit, less the 0.65 s the next call's 0.1 s fits in
			// (the 1 s burst less its quarter for jitter).
			return r.Settle(ctx, llm.Usage{InputTokens: 9_000, CacheWriteTokens: 3_000, CacheReadTokens: 50_000, OutputTokens: 0})
		}, 11350 * time.Millisecond, ReasonITPM},
		{"cancel gives back everything", func(ctx context.Context, r *Reservation) error { return r.Cancel(ctx) }, 0, ""},
		{"only the first settle counts", func(ctx context.Context, r *Reservation) error {
			if err := r.Settle(ctx, llm.Usage{InputTokens: 100, OutputTokens: 100}); err != nil {
				return err
			}
			return r.Cancel(ctx)
		}, time.Second, ReasonOTPM},
	}
	each(t, 1, func(t *testing.T, dbs []db) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				clock := newFakeClock()
				l := newLimiter(t, dbs[0], Config{Model: tt.name, Limits: limits, Clock: clock.Now})
				r, err := l.Acquire(ctx, 100, 1_000)
				if err != nil {
					t.Fatalf("Acquire: %v", err)
				}
				if err := tt.finish(ctx, r); err != nil {
					t.Fatalf("finish: %v", err)
				}
				r2, wait, reason, err := l.try(ctx, 100, 1_000)
				if err != nil {
					t.Fatalf("try: %v", err)
				}
				if tt.wantWait == 0 {
					if r2 == nil {
						t.Errorf("second call refused for %s (%s), want it admitted", wait, reason)
					}
					return
				}
				if r2 != nil {
					t.Fatalf("second call admitted, want a wait of %s", tt.wantWait)
				}
				if wait < tt.wantWait-time.Millisecond || wait > tt.wantWait+time.Millisecond || reason != tt.reason {
					t.Errorf("second call waits %s (%s), want %s (%s)", wait, reason, tt.wantWait, tt.reason)
				}
			})
		}
	})
}

// admitGap drains the burst at the clock's time, lets the clock run to the
// next call, and returns how long the call after it must wait: the spacing
// of calls at the current rate.
func admitGap(t *testing.T, clock *fakeClock, l *Limiter) time.Duration {
	t.Helper()
	refusals := 0
	for range 1000 {
		r, wait, reason, err := l.try(t.Context(), 0, 0)
		if err != nil {
			t.Fatalf("try: %v", err)
		}
		if r != nil {
			continue
		}
		if reason != ReasonRPM {
			t.Fatalf("refused for %q, want rpm", reason)
		}
		if refusals++; refusals == 2 {
			return wait
		}
		clock.Advance(wait)
	}
	t.Fatal("no refusal in 1000 calls")
	return 0
}

// counterValue reads one counter of cv.
func counterValue(t *testing.T, cv *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := cv.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// rpmGap is the spacing of calls at rpm times factor.
func rpmGap(rpm, factor float64) time.Duration {
	return time.Duration(float64(time.Minute) / (rpm * factor))
}

// near reports whether got is within 1% of want.
func near(got, want time.Duration) bool {
	return got >= want*99/100 && got <= want*101/100
}

func TestSettleWakesWaitingCaller(t *testing.T) {
	t.Parallel()
	each(t, 1, func(t *testing.T, dbs []db) {
		ctx := t.Context()
		// Real time. max_tokens 1,000 at 100 tokens/s: 10 s.
		l := newLimiter(t, dbs[0], Config{Limits: Limits{OutputTPM: 6_000}})
		l.maxPoll = time.Hour // only the refund may wake the waiting caller
		r, err := l.Acquire(ctx, 0, 1_000)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := l.Acquire(ctx, 0, 1_000)
			done <- err
		}()
		waitUntil(t, "a waiting caller", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return !l.blocked.IsZero()
		})
		if err := r.Settle(ctx, llm.Usage{OutputTokens: 10}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Acquire after the settle = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("still waiting 5 s after the settle gave 9.9 s back")
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	each(t, 2, func(t *testing.T, dbs []db) {
		t.Run("429 pauses every replica and the rate recovers", func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			clock := newFakeClock()
			throttled := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t"}, []string{"provider", "reason"})
			cfg := Config{Model: "recovers", Limits: Limits{RPM: 600}, Clock: clock.Now, Throttled: throttled}
			a := newLimiter(t, dbs[0], cfg)
			b := newLimiter(t, dbs[1], cfg) // another replica

			if got := admitGap(t, clock, b); !near(got, 100*time.Millisecond) {
				t.Fatalf("gap before any 429 = %s, want 100ms", got)
			}
			start := clock.Now() // the 429 comes now
			if err := a.OnRateLimited(ctx, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			// A 429 from a call that was in flight: pauses, does not cut again.
			clock.Set(start.Add(500 * time.Millisecond))
			if err := b.OnRateLimited(ctx, time.Second); err != nil {
				t.Fatal(err)
			}
			if got := counterValue(t, throttled, "anthropic", Reason429); got != 2 {
				t.Errorf("429s counted = %v, want 2", got)
			}

			r, wait, reason, err := b.try(ctx, 0, 0)
			if err != nil || r != nil {
				t.Fatalf("try during the pause = %v, %v; want a refusal", r, err)
			}
			if want := 4500 * time.Millisecond; reason != ReasonPause || wait != want {
				t.Errorf("during the pause: wait %s (%s), want %s (pause)", wait, reason, want)
			}
			// Paused callers fail fast when their deadline is sooner.
			short, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err = b.Acquire(short, 0, 0)
			var we *WaitError
			if !errors.As(err, &we) || we.Reason != ReasonPause || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Acquire with a 1s deadline during a 4.5s pause = %v, want a *WaitError (pause)", err)
			}
			if got := counterValue(t, throttled, "anthropic", ReasonPause); got != 1 {
				t.Errorf("calls held back by the pause = %v, want 1", got)
			}

			// After the pause: the cut rate, plus what recovered since the
			// cut (1/60 a second): 0.7 + 5/60 at 5 s.
			clock.Set(start.Add(5 * time.Second))
			if got, want := admitGap(t, clock, b), rpmGap(600, 0.7+5.0/60); !near(got, want) {
				t.Errorf("gap after the pause = %s, want %s", got, want)
			}
			clock.Set(start.Add(15 * time.Second))
			if got, want := admitGap(t, clock, a), rpmGap(600, 0.7+15.0/60); !near(got, want) {
				t.Errorf("gap 15s after the 429 = %s, want %s", got, want)
			}
			// Recovered in 18 s.
			clock.Set(start.Add(40 * time.Second))
			if got := admitGap(t, clock, a); !near(got, 100*time.Millisecond) {
				t.Errorf("gap 40s after the 429 = %s, want 100ms", got)
			}
		})
		t.Run("floor", func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			clock := newFakeClock()
			l := newLimiter(t, dbs[0], Config{Model: "floor", Limits: Limits{RPM: 600}, Clock: clock.Now, MinFactor: 0.2, Recovery: time.Hour})
			// Five 429s, each after the previous pause: 0.7, 0.49, 0.34,
			// 0.24, 0.2 (the floor, not 0.17).
			for range 5 {
				if err := l.OnRateLimited(ctx, time.Second); err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Second)
			}
			// The floor, and 1 s of recovery (of an hour's) since the last cut.
			if got, want := admitGap(t, clock, l), rpmGap(600, 0.2+1.0/3600); !near(got, want) {
				t.Errorf("gap after five 429s = %s, want %s", got, want)
			}
		})
	})
}

func TestObserve(t *testing.T) {
	t.Parallel()
	configured := Limits{RPM: 600, InputTPM: 100_000}
	at := newFakeClock().Now()
	tests := []struct {
		name       string
		rl         *llm.RateLimits
		wantLimits Limits
		wantPause  time.Duration
	}{
		{"nil", nil, configured, 0},
		{"lower limits are adopted, unknown ones too",
			&llm.RateLimits{RequestsLimit: 50, RequestsRemaining: 49, InputTokensLimit: 200_000, InputTokensRemaining: 1, OutputTokensLimit: 8_000, OutputTokensRemaining: 8_000},
			Limits{RPM: 50, InputTPM: 100_000, OutputTPM: 8_000}, 0},
		{"remaining zero pauses until reset",
			&llm.RateLimits{RequestsLimit: 600, RequestsRemaining: 0, Reset: at.Add(700 * time.Millisecond)},
			configured, 700 * time.Millisecond},
		{"or until a burst has refilled",
			&llm.RateLimits{RequestsLimit: 600, RequestsRemaining: 0, Reset: at.Add(time.Minute)},
			configured, time.Second},
		{"or until one request has refilled",
			&llm.RateLimits{RequestsLimit: 20, RequestsRemaining: 0, Reset: at.Add(time.Minute)},
			Limits{RPM: 20, InputTPM: 100_000}, 3 * time.Second},
		{"output tokens exhausted pauses too",
			&llm.RateLimits{OutputTokensLimit: 8_000, OutputTokensRemaining: 0, Reset: at.Add(500 * time.Millisecond)},
			Limits{RPM: 600, InputTPM: 100_000, OutputTPM: 8_000}, 500 * time.Millisecond},
		{"input tokens exhausted pauses a burst at most",
			&llm.RateLimits{InputTokensLimit: 80_000, InputTokensRemaining: 0, Reset: at.Add(time.Hour)},
			Limits{RPM: 600, InputTPM: 80_000}, time.Second},
		{"reset in the past does not pause",
			&llm.RateLimits{RequestsLimit: 600, RequestsRemaining: 0, Reset: at.Add(-time.Second)},
			configured, 0},
		{"no reset does not pause",
			&llm.RateLimits{RequestsLimit: 600, RequestsRemaining: 0},
			configured, 0},
	}
	each(t, 2, func(t *testing.T, dbs []db) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				clock := newFakeClock()
				cfg := Config{Model: tt.name, Limits: configured, Clock: clock.Now}
				l := newLimiter(t, dbs[0], cfg)
				other := newLimiter(t, dbs[1], cfg) // another replica
				if err := l.Observe(ctx, tt.rl); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantLimits, l.Limits()); diff != "" {
					t.Errorf("Limits (-want +got):\n%s", diff)
				}
				r, wait, reason, err := other.try(ctx, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tt.wantPause == 0 && r == nil:
					t.Errorf("refused for %s (%s), want no pause", wait, reason)
				case tt.wantPause != 0 && (r != nil || reason != ReasonPause || wait != tt.wantPause):
					t.Errorf("try = %v, %s (%s), want a pause of %s", r, wait, reason, tt.wantPause)
				}
				// The adopted request limit spaces this replica's calls.
				clock.Advance(tt.wantPause)
				if got, want := admitGap(t, clock, l), rpmGap(float64(tt.wantLimits.RPM), 1); !near(got, want) {
					t.Errorf("gap = %s, want %s", got, want)
				}
			})
		}
	})
}

// run has workers callers acquire from ls (round robin) until ctx ends and
// returns how many calls went and how long the run took.
func run(ctx context.Context, t *testing.T, ls []*Limiter, workers int) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		l := ls[i%len(ls)]
		wg.Go(func() {
			for {
				r, err := l.Acquire(ctx, 10, 10)
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("Acquire: %v", err)
					}
					return
				}
				admitted.Add(1)
				if err := r.Settle(ctx, llm.Usage{InputTokens: 10, OutputTokens: 5}); err != nil {
					t.Errorf("Settle: %v", err)
				}
			}
		})
	}
	wg.Wait()
	return int(admitted.Load()), time.Since(start)
}

func TestRateHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	// Real time: 1,200 rpm (20/s) with a 200 ms burst (4 calls) for 1.5 s.
	const rpm, burst, window = 1200, 4, 1500 * time.Millisecond
	cfg := Config{Limits: Limits{RPM: rpm, InputTPM: 10_000_000, OutputTPM: 10_000_000}, Burst: 200 * time.Millisecond}
	check := func(t *testing.T, got int, took time.Duration) {
		t.Helper()
		perSecond := float64(rpm) / 60
		most := int(perSecond*took.Seconds()) + burst + 1
		// The rate itself is checked exactly in TestRateSimulated; here a
		// loaded machine (the race detector, two cores, other tests) may
		// fall behind, so the lower bound only catches gross stalls.
		least := int(0.5 * perSecond * window.Seconds())
		t.Logf("%d calls in %s: %.1f/s against a limit of %.1f/s", got, took.Round(time.Millisecond), float64(got)/took.Seconds(), perSecond)
		if got > most || got < least {
			t.Errorf("%d calls in %s, want between %d and %d", got, took, least, most)
		}
	}
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		each(t, 1, func(t *testing.T, dbs []db) {
			l := newLimiter(t, dbs[0], cfg)
			ctx, cancel := context.WithTimeout(t.Context(), window)
			defer cancel()
			got, took := run(ctx, t, []*Limiter{l}, 16)
			check(t, got, took)
		})
	})
	t.Run("three replicas", func(t *testing.T) {
		t.Parallel()
		var ls []*Limiter
		for _, d := range pools(t, dbtest.Postgres(t), 3) {
			ls = append(ls, newLimiter(t, d, cfg))
		}
		ctx, cancel := context.WithTimeout(t.Context(), window)
		defer cancel()
		got, took := run(ctx, t, ls, 24)
		check(t, got, took)
	})
}

// waitUntil spins (yielding) until cond holds, or fails after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// TestUnlimitedPause: without limits a call only checks for a pause, from a
// reading shared for a moment; a pause this replica sets applies to its
// next call, and one another replica sets soon after.
func TestUnlimitedPause(t *testing.T) {
	t.Parallel()
	each(t, 2, func(t *testing.T, dbs []db) {
		ctx := t.Context()
		a := newLimiter(t, dbs[0], Config{Model: "unlimited"})
		b := newLimiter(t, dbs[1], Config{Model: "unlimited"}) // another replica
		for _, l := range []*Limiter{a, b} {
			if r, wait, _, err := l.try(ctx, 10, 10); err != nil || r == nil {
				t.Fatalf("try before any pause = %v, %s, %v; want admitted", r, wait, err)
			}
		}
		if err := a.OnRateLimited(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		if r, _, reason, err := a.try(ctx, 10, 10); err != nil || r != nil || reason != ReasonPause {
			t.Errorf("try on the paused replica = %v, %q, %v; want refused for the pause at once", r, reason, err)
		}
		waitUntil(t, "the other replica to see the pause", func() bool {
			r, _, reason, err := b.try(ctx, 10, 10)
			if err != nil {
				t.Fatal(err)
			}
			return r == nil && reason == ReasonPause
		})
	})
}

func TestAcquireCancel(t *testing.T) {
	t.Parallel()
	each(t, 1, func(t *testing.T, dbs []db) {
		l := newLimiter(t, dbs[0], Config{Limits: Limits{RPM: 600}})
		if err := l.OnRateLimited(t.Context(), time.Minute); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := l.Acquire(ctx, 0, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire with a cancelled context = %v, want context.Canceled", err)
		}

		// Two callers wait: the head on a timer, the other for its turn.
		ctx, cancel = context.WithCancel(t.Context())
		defer cancel()
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := l.Acquire(ctx, 0, 0)
				errs <- err
			}()
		}
		waitUntil(t, "two waiting callers", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.waiting.Load() == 2 && !l.blocked.IsZero()
		})
		// A newcomer whose deadline comes before the head's next try fails at once.
		short, cancelShort := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancelShort()
		var we *WaitError
		if _, err := l.Acquire(short, 0, 0); !errors.As(err, &we) || we.Reason != ReasonPause || we.Wait < 50*time.Second {
			t.Errorf("Acquire with a 10s deadline behind a 1-minute pause = %v, want a *WaitError of about a minute", err)
		}
		start := time.Now()
		cancel()
		for range 2 {
			select {
			case err := <-errs:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Acquire after cancel = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Acquire did not return after cancel")
			}
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("waiting callers took %s to return after cancel", took)
		}
	})
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	d := pools(t, dbtest.SQLite(t), 1)[0]
	tests := []struct {
		name    string
		dialect string
		cfg     Config
	}{
		{"no provider", "sqlite", Config{}},
		{"bad dialect", "mysql", Config{Provider: "x"}},
		{"negative limit", "sqlite", Config{Provider: "x", Limits: Limits{RPM: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(t.Context(), d.conn, tt.dialect, tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}
