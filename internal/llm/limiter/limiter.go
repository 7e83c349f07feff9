package limiter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// Limits are a provider's limits per minute. Zero means unlimited.
type Limits struct {
	RPM       int64 // requests per minute
	InputTPM  int64 // input tokens per minute
	OutputTPM int64 // output tokens per minute
}

// Config configures a Limiter.
type Config struct {
	// Provider and Model name the limit; every Limiter with the same pair,
	// in any process on the same database, shares it. Provider is required.
	Provider, Model string
	// Limits are the configured limits. Observe may lower them to what the
	// provider reports, never raise them above a configured (non-zero) one.
	Limits Limits
	// Burst is how far ahead of the steady rate calls may go after an idle
	// spell: Burst's worth of each limit at once, less a quarter left
	// for jitter (see jitterShare). Default 1 s.
	Burst time.Duration
	// MinFactor is the floor of the AIMD multiplier; default 0.1.
	MinFactor float64
	// Recovery is how long the multiplier takes to climb from 0 to 1 after
	// 429s cut it; default 1 minute (a single cut recovers in 18 s).
	Recovery time.Duration
	// Clock returns the current time. When nil, PostgreSQL uses the
	// database server's clock and SQLite time.Now. Waits use real timers.
	Clock func() time.Time
	// Throttled counts calls held back, by provider and reason ("rpm",
	// "itpm", "otpm", "pause") and 429s reported ("429"). May be nil.
	Throttled *prometheus.CounterVec
	Logger    *slog.Logger
}

// The reasons a call is held back, as counted in Config.Throttled.
const (
	ReasonRPM   = "rpm"
	ReasonITPM  = "itpm"
	ReasonOTPM  = "otpm"
	ReasonPause = "pause"
	Reason429   = "429"
)

// jitterShare: a burst admits 1/jitterShare less than Config.Burst's
// worth. Calls reach the provider a little after they are admitted here,
// and while a burst is on its way the provider's bucket, full after the
// idle spell, refills nothing; the calls admitted here meanwhile at the
// steady rate then arrive on top of the burst. With the limits equal on
// both sides, a burst that would fill the provider's bucket exactly is a
// 429 as soon as it takes any time to arrive; with Burst/jitterShare left
// over, it may take that long. A twentieth or a tenth is too little for
// the first burst of bench s3-rate.sh, on new connections while all its
// workers start on two cores, to arrive without 429s; a quarter costs
// that first burst a quarter of its calls, a small share of the run.
const jitterShare = 4

const (
	cut          = 0.7              // multiplicative decrease on a 429 (see doc.go)
	cutCooldown  = time.Second      // 429s closer together than this are one signal
	defaultRetry = time.Second      // pause for a 429 without retry-after
	maxPause     = 5 * time.Minute  // no header pauses the cluster longer
	minRetry     = time.Millisecond // the least a refused caller sleeps
	maxPoll      = time.Second      // the most it sleeps before looking again
)

// WaitError is returned by Acquire when the wait for capacity would outlast
// the context's deadline; the caller may snooze the job for Wait. It
// matches context.DeadlineExceeded with errors.Is.
type WaitError struct {
	Wait   time.Duration
	Reason string // one of the Reason constants
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("upstream limit (%s): next slot in %s, after the deadline", e.Reason, e.Wait.Round(time.Millisecond))
}

func (e *WaitError) Unwrap() error { return context.DeadlineExceeded }

// Limiter is the upstream limit for one provider and model. It is safe for
// concurrent use.
type Limiter struct {
	conn    store.Conn
	dialect string
	cfg     Config
	sql     statements
	log     *slog.Logger

	// turn is held by the one caller in this process that polls the
	// database for capacity; the others queue for it (a channel's senders
	// are served in FIFO order). waiting counts callers in that slow path,
	// so that new callers queue behind them instead of overtaking.
	turn    chan struct{}
	waiting atomic.Int64
	// refunded wakes the head of the queue when a reservation of this
	// process gave capacity back, so that it need not sleep out a wait
	// computed before. (Refunds by other replicas are seen within maxPoll.)
	refunded chan struct{}
	maxPoll  time.Duration

	mu      sync.Mutex
	limits  Limits    // effective: config lowered by the provider's headers
	blocked time.Time // when the head of the queue polls next
	reason  string    // and why it waits
	// clearUntil is when a reading that no pause is in force stops
	// serving unlimited callers (see unpaused); pauses counts the pauses
	// this process set, so that a reading taken before one is not kept.
	clearUntil time.Time
	pauses     int64
}

// pauseFresh is how long unlimited callers trust a reading of the shared
// state that found no pause: without limits a call's only check is that
// read, one database round trip per model call, while a pause set by
// another replica (a 429 there) is rare and lasts a second or more. A
// pause this process sets applies at once.
const pauseFresh = 50 * time.Millisecond

// unpaused reports whether a reading taken less than pauseFresh ago found
// no pause, and otherwise the pause count to pass to noteUnpaused.
func (l *Limiter) unpaused() (bool, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.clearUntil), l.pauses
}

// noteUnpaused records a reading, started when the pause count was
// pauses, that found no pause.
func (l *Limiter) noteUnpaused(pauses int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pauses == pauses {
		l.clearUntil = time.Now().Add(pauseFresh)
	}
}

// paused forgets the last reading, and any under way: this process has
// just set a pause.
func (l *Limiter) paused() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauses++
	l.clearUntil = time.Time{}
}

// New returns the limiter for cfg.Provider and cfg.Model on conn, creating
// its state row if needed. dialect is "sqlite" or "postgres"
// (queue.Queue.Dialect). The table comes from the store's migrations. conn
// must be a pool (queue.Queue.Conn), never a transaction: on PostgreSQL the
// limiter's writes turn synchronous_commit off for their own transaction,
// which would then be the caller's.
func New(ctx context.Context, conn store.Conn, dialect string, cfg Config) (*Limiter, error) {
	if cfg.Provider == "" {
		return nil, errors.New("upstream limiter: no provider")
	}
	if dialect != "sqlite" && dialect != "postgres" {
		return nil, fmt.Errorf("upstream limiter: dialect %q: want sqlite or postgres", dialect)
	}
	if cfg.Limits.RPM < 0 || cfg.Limits.InputTPM < 0 || cfg.Limits.OutputTPM < 0 {
		return nil, fmt.Errorf("upstream limiter: negative limit in %+v", cfg.Limits)
	}
	if cfg.Burst <= 0 {
		cfg.Burst = time.Second
	}
	if cfg.MinFactor <= 0 || cfg.MinFactor > 1 {
		cfg.MinFactor = 0.1
	}
	if cfg.Recovery <= 0 {
		cfg.Recovery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{
		conn:     conn,
		dialect:  dialect,
		cfg:      cfg,
		sql:      newStatements(dialect),
		log:      cfg.Logger.With("provider", cfg.Provider, "model", cfg.Model),
		turn:     make(chan struct{}, 1),
		refunded: make(chan struct{}, 1),
		maxPoll:  maxPoll,
		limits:   cfg.Limits,
	}
	if err := l.ensure(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Limiter) ensure(ctx context.Context) error {
	if _, err := l.conn.Exec(ctx, l.sql.ensure, l.cfg.Provider, l.cfg.Model); err != nil {
		return fmt.Errorf("create upstream limit state: %w", err)
	}
	return nil
}

// Limits returns the limits in force: the configured ones, lowered by what
// the provider reported. The AIMD multiplier is not applied.
func (l *Limiter) Limits() Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits
}

// Reservation is capacity taken by Acquire. Settle or Cancel it once the call
// is over; if the provider may have counted the call but its usage is
// unknown (a timeout), do neither and the estimate stands.
type Reservation struct {
	l    *Limiter
	in   int64    // input tokens charged
	out  int64    // output tokens charged
	inc  [3]int64 // µs charged per clock
	per  [3]float64
	f    float64 // AIMD multiplier at admission
	done atomic.Bool
}

// Acquire blocks until one call with these token counts may go (input
// tokens as estimated, output tokens at max_tokens) and charges it. It
// returns ctx's error if ctx ends first, and a *WaitError at once when the
// wait is known to outlast ctx's deadline. Waiting callers in one process go
// in FIFO order.
func (l *Limiter) Acquire(ctx context.Context, inputTokens, maxOutputTokens int64) (*Reservation, error) {
	if inputTokens < 0 || maxOutputTokens < 0 {
		return nil, fmt.Errorf("acquire upstream capacity: negative token count (%d, %d)", inputTokens, maxOutputTokens)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var next time.Time // when to try again; zero: at once
	var reason string
	queued := l.waiting.Load() > 0
	if !queued {
		r, wait, why, err := l.try(ctx, inputTokens, maxOutputTokens)
		if err != nil || r != nil {
			return r, err
		}
		next, reason = time.Now().Add(wait), why
	} else {
		// Someone is already waiting: queue behind them (FIFO), so we go no
		// sooner than they try next.
		l.mu.Lock()
		next, reason = l.blocked, l.reason
		l.mu.Unlock()
	}
	l.count(reason)
	if dl, ok := ctx.Deadline(); ok && next.After(dl) {
		return nil, &WaitError{Wait: time.Until(next), Reason: reason}
	}
	counted := reason != ""
	if queued {
		next = time.Time{} // our turn comes after theirs: try at once then
	}

	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.turn }()
	defer l.setBlocked(time.Time{}, "")
	for {
		if err := l.sleep(ctx, next, reason); err != nil {
			return nil, err
		}
		r, wait, why, err := l.try(ctx, inputTokens, maxOutputTokens)
		if err != nil || r != nil {
			return r, err
		}
		if !counted {
			l.count(why)
			counted = true
		}
		next, reason = time.Now().Add(wait), why
	}
}

// sleep waits until t (zero or past: not at all), or until capacity was
// given back, or maxPoll, whichever comes first. It returns at once with a
// *WaitError if t is after ctx's deadline, or with ctx's error when it ends
// first.
func (l *Limiter) sleep(ctx context.Context, t time.Time, reason string) error {
	wait := time.Until(t)
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && t.After(dl) {
		return &WaitError{Wait: wait, Reason: reason}
	}
	l.setBlocked(t, reason)
	timer := time.NewTimer(min(wait, l.maxPoll))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-l.refunded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Limiter) setBlocked(t time.Time, reason string) {
	l.mu.Lock()
	l.blocked, l.reason = t, reason
	l.mu.Unlock()
}

func (l *Limiter) count(reason string) {
	if reason != "" && l.cfg.Throttled != nil {
		l.cfg.Throttled.WithLabelValues(l.cfg.Provider, reason).Inc()
	}
}

// now is the $3 parameter: the injected clock in Unix µs, or NULL for the
// PostgreSQL server's clock.
func (l *Limiter) now() any {
	if l.cfg.Clock != nil {
		return l.cfg.Clock().UnixMicro()
	}
	if l.dialect == "postgres" {
		return nil
	}
	return time.Now().UnixMicro()
}

func (l *Limiter) clock() time.Time {
	if l.cfg.Clock != nil {
		return l.cfg.Clock()
	}
	return time.Now()
}

// perUnit is the µs of a minute one unit of limit takes; 0 when unlimited.
func perUnit(limit int64) float64 {
	if limit <= 0 {
		return 0
	}
	return float64(time.Minute/time.Microsecond) / float64(limit)
}

// try admits the call if it may go now and returns its reservation, or
// returns how long to wait and why.
func (l *Limiter) try(ctx context.Context, in, out int64) (*Reservation, time.Duration, string, error) {
	lim := l.Limits()
	per := [3]float64{perUnit(lim.RPM), perUnit(lim.InputTPM), perUnit(lim.OutputTPM)}
	inc := [3]float64{per[0], per[1] * float64(in), per[2] * float64(out)}
	args := []any{l.cfg.Provider, l.cfg.Model, l.now(),
		l.cfg.MinFactor, 1 / float64(l.cfg.Recovery/time.Microsecond),
		inc[0], inc[1], inc[2], int64((l.cfg.Burst - l.cfg.Burst/jitterShare) / time.Microsecond)}
	r := &Reservation{l: l, in: in, out: out, per: per, f: 1}
	if lim == (Limits{}) {
		// Unlimited: only a pause holds the call back, and a recent
		// read will do.
		ok, pauses := l.unpaused()
		if ok {
			return r, 0, "", nil
		}
		wait, reason, err := l.wait(ctx, args)
		if err != nil || wait > 0 {
			return nil, wait, reason, err
		}
		l.noteUnpaused(pauses)
		return r, 0, "", nil
	}
	if l.sql.acquireOrWait != "" {
		var us [4]int64
		err := l.conn.QueryRow(ctx, l.sql.acquireOrWait, args...).Scan(&r.f, &us[0], &us[1], &us[2], &us[3])
		switch {
		case errors.Is(err, netcfg.ErrNotFound):
			return nil, minRetry, "", l.ensure(ctx)
		case err != nil:
			return nil, 0, "", l.dbError(ctx, "acquire upstream capacity", err)
		case r.f > 0:
			r.charge(inc)
			return r, 0, "", nil
		}
		wait, reason := longest(us)
		return nil, max(wait, minRetry), reason, nil
	}
	err := l.conn.QueryRow(ctx, l.sql.acquire, args...).Scan(&r.f)
	if err == nil {
		r.charge(inc)
		return r, 0, "", nil
	}
	if !errors.Is(err, netcfg.ErrNotFound) {
		return nil, 0, "", l.dbError(ctx, "acquire upstream capacity", err)
	}
	wait, reason, err := l.wait(ctx, args)
	return nil, max(wait, minRetry), reason, err
}

// charge records what the admission charged each clock, for Cancel.
func (r *Reservation) charge(inc [3]float64) {
	for i := range inc {
		r.inc[i] = int64(inc[i] / r.f)
	}
}

// wait runs sqlWait and returns the longest wait and its reason. A missing
// state row is created (and the caller tries again).
func (l *Limiter) wait(ctx context.Context, args []any) (time.Duration, string, error) {
	var us [4]int64
	err := l.conn.QueryRow(ctx, l.sql.wait, args...).Scan(&us[0], &us[1], &us[2], &us[3])
	if errors.Is(err, netcfg.ErrNotFound) {
		return 0, "", l.ensure(ctx)
	}
	if err != nil {
		return 0, "", l.dbError(ctx, "read upstream limit state", err)
	}
	wait, reason := longest(us)
	return wait, reason, nil
}

// longest picks the longest of sqlWait's waits (µs) and its reason.
func longest(us [4]int64) (time.Duration, string) {
	var most int64
	var reason string
	for i, why := range [...]string{ReasonPause, ReasonRPM, ReasonITPM, ReasonOTPM} {
		if us[i] > most {
			most, reason = us[i], why
		}
	}
	return time.Duration(most) * time.Microsecond, reason
}

func (l *Limiter) dbError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Settle corrects the reservation with the call's actual usage: output
// tokens below max_tokens are given back, and input tokens (plus cache
// writes, which count towards Anthropic's input limit; cache reads do not)
// are charged or refunded against the estimate. It runs even when ctx is
// already cancelled. Only the first Settle or Cancel counts. An error only
// means the estimate stands, which is safe.
func (r *Reservation) Settle(ctx context.Context, actual llm.Usage) error {
	if r == nil || r.done.Swap(true) {
		return nil
	}
	in := actual.InputTokens + actual.CacheWriteTokens
	return r.l.adjust(ctx, [3]int64{
		0,
		int64(float64(in-r.in) * r.per[1] / r.f),
		int64(float64(actual.OutputTokens-r.out) * r.per[2] / r.f),
	})
}

// Cancel gives back everything the reservation took: the call never reached
// the provider (no connection, or it was not sent). Only the first Settle or
// Cancel counts.
func (r *Reservation) Cancel(ctx context.Context) error {
	if r == nil || r.done.Swap(true) {
		return nil
	}
	return r.l.adjust(ctx, [3]int64{-r.inc[0], -r.inc[1], -r.inc[2]})
}

func (l *Limiter) adjust(ctx context.Context, delta [3]int64) error {
	if delta == ([3]int64{}) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, l.sql.adjust, l.cfg.Provider, l.cfg.Model, l.now(), delta[0], delta[1], delta[2]); err != nil {
		return fmt.Errorf("settle upstream capacity: %w", err)
	}
	// Wake the head of the queue if it waits for what came back.
	l.mu.Lock()
	reason := l.reason
	l.mu.Unlock()
	for i, why := range [...]string{ReasonRPM, ReasonITPM, ReasonOTPM} {
		if delta[i] < 0 && reason == why {
			select {
			case l.refunded <- struct{}{}:
			default:
			}
			break
		}
	}
	return nil
}

// OnRateLimited reports a 429 from the provider: every replica pauses until
// retryAfter has passed (1 s when unknown, at most 5 minutes), and the rates
// are multiplied by 0.7, not below Config.MinFactor, then recover over
// Config.Recovery.
// 429s during the pause or within a second of the last cut pause without
// cutting again.
func (l *Limiter) OnRateLimited(ctx context.Context, retryAfter time.Duration) error {
	l.count(Reason429)
	if retryAfter <= 0 {
		retryAfter = defaultRetry
	}
	retryAfter = min(retryAfter, maxPause)
	var factor float64
	var didCut int64
	err := l.conn.QueryRow(ctx, l.sql.throttled, l.cfg.Provider, l.cfg.Model, l.now(),
		l.cfg.MinFactor, 1/float64(l.cfg.Recovery/time.Microsecond),
		int64(retryAfter/time.Microsecond), cut, int64(cutCooldown/time.Microsecond)).Scan(&factor, &didCut)
	if errors.Is(err, netcfg.ErrNotFound) {
		if err := l.ensure(ctx); err != nil {
			return err
		}
		return l.OnRateLimited(ctx, retryAfter)
	}
	if err != nil {
		return fmt.Errorf("record upstream 429: %w", err)
	}
	l.paused()
	if didCut == 1 {
		l.log.WarnContext(ctx, "upstream rate limited: pausing and slowing down",
			"retry_after", retryAfter, "rate_factor", factor)
	}
	return nil
}

// Observe refines the limits from a provider's rate-limit headers (nil is
// ignored): a reported limit lower than the configured one (or any, where
// none is configured) is adopted by this Limiter. When a limit's remaining
// count is zero, every replica pauses until rl.Reset (the earliest reset
// the headers gave) or until a burst's worth has refilled (Config.Burst,
// and at least one request at the reported rate), whichever comes first:
// Anthropic's reset is when its bucket is full again, which may be a minute
// away although the next call fits much sooner; 429s that follow anyway
// slow the cluster down through OnRateLimited. Call Observe with the
// RateLimits of successful responses and of errors.
func (l *Limiter) Observe(ctx context.Context, rl *llm.RateLimits) error {
	if rl == nil {
		return nil
	}
	adopt := func(configured, reported int64) int64 {
		if reported > 0 && (configured == 0 || reported < configured) {
			return reported
		}
		return configured
	}
	want := Limits{
		RPM:       adopt(l.cfg.Limits.RPM, rl.RequestsLimit),
		InputTPM:  adopt(l.cfg.Limits.InputTPM, rl.InputTokensLimit),
		OutputTPM: adopt(l.cfg.Limits.OutputTPM, rl.OutputTokensLimit),
	}
	l.mu.Lock()
	old := l.limits
	l.limits = want
	l.mu.Unlock()
	if old != want {
		l.log.InfoContext(ctx, "upstream limits adopted from the provider",
			"rpm", want.RPM, "input_tpm", want.InputTPM, "output_tpm", want.OutputTPM)
	}

	refill := time.Duration(0) // until the exhausted limits let a call through
	if rl.RequestsLimit > 0 && rl.RequestsRemaining <= 0 {
		refill = max(l.cfg.Burst, time.Minute/time.Duration(rl.RequestsLimit))
	}
	if rl.InputTokensLimit > 0 && rl.InputTokensRemaining <= 0 ||
		rl.OutputTokensLimit > 0 && rl.OutputTokensRemaining <= 0 {
		refill = max(refill, l.cfg.Burst)
	}
	if refill == 0 || rl.Reset.IsZero() {
		return nil
	}
	d := min(rl.Reset.Sub(l.clock()), refill, maxPause)
	if d <= 0 {
		return nil
	}
	if _, err := l.conn.Exec(ctx, l.sql.pause, l.cfg.Provider, l.cfg.Model, l.now(), int64(d/time.Microsecond)); err != nil {
		return fmt.Errorf("pause upstream calls: %w", err)
	}
	l.paused()
	return nil
}
