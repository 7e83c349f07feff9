package generate

import (
	"context"
	"errors"
)

// CallBudget reserves what a model call may cost before the call is made.
// A job may call more than once (a template's second try, a per-device
// fallback), and a batch reserves at submit only once per intent, so the
// reservation made at submit cannot cover every call: whoever runs a job
// gives Run a CallBudget (WithCallBudget), and call asks it before each
// call. An error stops the job there, without the call.
type CallBudget interface {
	// ReserveCall reserves one call of model with a prompt of about
	// inputTokens and at most maxOutputTokens; an error wrapping
	// ErrBudgetExceeded means the budget cannot cover it.
	ReserveCall(ctx context.Context, model string, inputTokens, maxOutputTokens int64) error
}

// ErrBudgetExceeded is a call its job's budget cannot cover: the job fails
// with it rather than being retried.
var ErrBudgetExceeded = errors.New("budget_exceeded")

type callBudgetKey struct{}

// WithCallBudget returns ctx carrying b, asked by every model call made
// under ctx, including a template fill made on the job's behalf.
func WithCallBudget(ctx context.Context, b CallBudget) context.Context {
	return context.WithValue(ctx, callBudgetKey{}, b)
}

// reserveCall asks ctx's CallBudget, if any, to cover one call of r.
func reserveCall(ctx context.Context, model string, inputTokens, maxOutputTokens int64) error {
	b, ok := ctx.Value(callBudgetKey{}).(CallBudget)
	if !ok {
		return nil
	}
	return b.ReserveCall(ctx, model, inputTokens, maxOutputTokens)
}

// PaidError is a Run that failed after model calls it paid for (a
// template's first try, then a second call over budget or an upstream
// error): the calls still belong in the ledger.
type PaidError struct {
	Calls []Call
	Err   error
}

func (e *PaidError) Error() string { return e.Err.Error() }
func (e *PaidError) Unwrap() error { return e.Err }
