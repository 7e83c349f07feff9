package limiter

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"netsmith/internal/llm"
)

// Client is an llm.Client that keeps another one's calls inside the
// upstream's limits: a call of a model with a Limiter waits for capacity
// (Acquire) and, once answered, tells the Limiter how it went (settle).
// Calls of other models go straight through.
type Client struct {
	next     llm.Client
	limiters map[string]*Limiter
}

// Wrap returns next with its calls of each limiter's model kept inside that
// limiter (one per model; a later one for the same model replaces an
// earlier one).
func Wrap(next llm.Client, limiters ...*Limiter) *Client {
	c := &Client{next: next, limiters: make(map[string]*Limiter, len(limiters))}
	for _, l := range limiters {
		c.limiters[l.cfg.Model] = l
	}
	return c
}

// Generate waits for req.Model's capacity, makes the call and settles it.
// A wait that would outlast ctx's deadline is a RateLimited *llm.Error at
// once, whose RetryAfter is the wait: the job comes back later without
// spending an attempt. The response's Waited counts the time held back.
func (c *Client) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	l := c.limiters[req.Model]
	if l == nil {
		return c.next.Generate(ctx, req)
	}
	start := time.Now()
	res, err := l.Acquire(ctx, req.EstimateInputTokens(), int64(req.MaxTokens))
	var we *WaitError
	if errors.As(err, &we) {
		err = &llm.Error{Provider: l.cfg.Provider, Class: llm.RateLimited, RetryAfter: we.Wait,
			Message: "upstream " + we.Reason + " limit reached; waiting", Err: err}
	}
	if err != nil {
		return nil, heldBack{err}
	}
	waited := time.Since(start)
	resp, err := c.next.Generate(ctx, req)
	if serr := l.settle(ctx, res, resp, err); serr != nil {
		// The call's own outcome stands. What the limiter missed errs
		// on the safe side (the estimate stays charged), or is a pause
		// or limit the next response's headers report again.
		l.log.WarnContext(ctx, "upstream limiter: call not settled", slog.Any("error", serr))
	}
	if resp != nil {
		resp.Waited += waited
	}
	return resp, err
}

// settle tells l how the call admitted under r went: its real usage, the
// provider's rate-limit headers, and any 429. It returns what it could not
// record.
func (l *Limiter) settle(ctx context.Context, r *Reservation, resp *llm.Response, err error) error {
	ctx = context.WithoutCancel(ctx)
	var le *llm.Error
	var errs []error
	switch {
	case err == nil:
		return errors.Join(r.Settle(ctx, resp.Usage), l.Observe(ctx, resp.RateLimits))
	case errors.As(err, &le) && le.Class == llm.RateLimited:
		errs = append(errs, l.OnRateLimited(ctx, le.RetryAfter))
	case errors.As(err, &le) && le.Status != 0:
		// The provider answered and charges no tokens for an error.
		errs = append(errs, r.Settle(ctx, llm.Usage{}))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Unknown whether it was counted: the estimate stands.
	default:
		// The request never left (connection refused).
		errs = append(errs, r.Cancel(ctx))
	}
	var hdr interface{ RateLimits() *llm.RateLimits }
	if errors.As(err, &hdr) {
		errs = append(errs, l.Observe(ctx, hdr.RateLimits()))
	}
	return errors.Join(errs...)
}

// heldBack is the error of a call never sent: err as it is, which also
// matches llm.ErrHeldBack.
type heldBack struct{ err error }

func (h heldBack) Error() string      { return h.err.Error() }
func (h heldBack) Unwrap() error      { return h.err }
func (heldBack) Is(target error) bool { return target == llm.ErrHeldBack }
