package generate

import (
	"context"
	"errors"
)

// CallBudget reserves what a model call may cost before the call is made.
// A job may call more than once (a template's second try, a per-device
// fallback), and a batch reserves at submit only once per intent, so the
// reservation made at submit cannot cover every call: whoever runs a job
// gives Run a CallBudget (Options.Budget), asked before each call. An error stops the job there, without the call.
type CallBudget interface {
	// ReserveCall reserves one call of model with a prompt of about
	// inputTokens and at most maxOutputTokens; an error wrapping
	// ErrBudgetExceeded means the budget cannot cover it.
	ReserveCall(ctx context.Context, model string, inputTokens, maxOutputTokens int64) error
}

// ErrBudgetExceeded is a call its job's budget cannot cover: the job fails
// with it rather than being retried.
var ErrBudgetExceeded = errors.New("budget_exceeded")

// PaidError is a Run that failed after model calls it paid for (a
// template's first try, then a second call over budget or an upstream
// error): the calls still belong in the ledger.
type PaidError struct {
	Calls []Call
	Err   error
}

func (e *PaidError) Error() string { return e.Err.Error() }
func (e *PaidError) Unwrap() error { return e.Err }
