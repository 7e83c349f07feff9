// Package worker runs queued jobs: it decodes a job's request, runs the
// generate use case outside any transaction, and turns the outcome into what
// the queue understands (a result, a permanent failure, a snooze for a rate
// limit, or an error to retry with backoff).
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"netsmith/internal/adapt"
	"netsmith/internal/cache"
	"netsmith/internal/generate"
	"netsmith/internal/groupcommit"
	"netsmith/internal/ledger"
	"netsmith/internal/llm"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// Runner adapts a generate.Service to queue.WorkFunc.
type Runner struct {
	svc     *generate.Service
	prices  *pricing.Table
	logger  *slog.Logger
	metrics *metrics.Metrics
	clock   func() time.Time
	// budgets, when set, is where calls beyond a job's first read their
	// department's budget, and reserves reserves them (ReserveCalls).
	budgets     store.Conn
	reserves    *groupcommit.Committer[store.CallHold]
	budgetReads singleflight.Group // by department
}

// New returns a Runner that prices its jobs' calls with prices (nil: the
// ledger records them at zero) and counts spend in m (may be nil).
func New(svc *generate.Service, prices *pricing.Table, m *metrics.Metrics, logger *slog.Logger) *Runner {
	return &Runner{svc: svc, prices: prices, logger: logger, metrics: m, clock: time.Now}
}

// Run is a queue.WorkFunc. A job the queue admitted through its gate
// (adapt.Enter) yields its admission while it waits on the upstream.
func (r *Runner) Run(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) {
	admission := adapt.FromContext(ctx)
	return r.run(ctx, j, func(ctx context.Context, req *netcfg.JobRequest) (*generate.Result, error) {
		opts := generate.Options{Yield: admission.Yield}
		if r.budgets != nil && r.prices != nil {
			opts.Budget = &jobBudget{r: r, job: j}
		}
		return r.svc.Run(ctx, req, opts)
	})
}

// Sweep is a queue.WorkFunc that serves j only from a template already
// cached (generate.Service.RunCached): where Run would call the model it
// fails with generate.ErrNeedsCall, and the job stays for Run.
func (r *Runner) Sweep(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) {
	return r.run(ctx, j, r.svc.RunCached)
}

func (r *Runner) run(ctx context.Context, j *netcfg.Job, do func(context.Context, *netcfg.JobRequest) (*generate.Result, error)) (*netcfg.Result, error) {
	var req netcfg.JobRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return nil, &queue.PermanentError{Err: fmt.Errorf("decode request: %w", err)}
	}
	if err := req.Validate(); err != nil {
		return nil, &queue.PermanentError{Err: err}
	}
	res, err := do(ctx, &req)
	if errors.Is(err, generate.ErrNeedsCall) {
		return nil, err
	}
	if err != nil {
		var paid *generate.PaidError
		if errors.As(err, &paid) {
			r.chargeFailed(ctx, j, paid.Calls)
		}
		out := classify(err)
		var perm *queue.PermanentError
		var snooze *queue.SnoozeError
		if errors.As(out, &perm) || errors.As(out, &snooze) {
			// River logs an error it retries or gives up on; these it
			// only records.
			r.logger.WarnContext(ctx, "job attempt failed", "job_id", j.ID, "attempt", j.Attempts, slog.Any("error", err))
		}
		return nil, out
	}
	if r.metrics != nil {
		for p, d := range res.Phases {
			r.metrics.JobPhase.WithLabelValues(string(p)).Observe(d.Seconds())
		}
	}
	body, err := json.Marshal(res)
	if err != nil {
		return nil, &queue.PermanentError{Err: fmt.Errorf("encode result: %w", err)}
	}
	out := &netcfg.Result{
		Body:         body,
		Provider:     res.Provider,
		Model:        res.Model,
		InputTokens:  res.Tokens.Input,
		OutputTokens: res.Tokens.Output,
		Cache:        string(res.Cache),
		CacheKey:     res.CacheKey,
	}
	if res.SavedTokens != nil {
		out.SavedInputTokens, out.SavedOutputTokens = res.SavedTokens.Input, res.SavedTokens.Output
	}
	out.Charges = r.charges(ctx, j, res)
	return out, nil
}

// chargeFailed writes the calls a failed attempt paid for to the ledger,
// under ids of their own (the job id and the attempt), so that the
// department's spend counts them and a later attempt's charges do not
// collide with them. Without a connection they are only logged.
func (r *Runner) chargeFailed(ctx context.Context, j *netcfg.Job, calls []generate.Call) {
	charges := r.callCharges(ctx, j, calls)
	if r.budgets == nil {
		r.logger.WarnContext(ctx, "failed attempt's model calls are not in the ledger", "job_id", j.ID, "calls", len(calls))
		return
	}
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	id := fmt.Sprintf("%s:a%d", j.ID, j.Attempts)
	if err := store.InsertLedger(dbctx, r.budgets, id, j.BatchID, j.Department, charges, r.clock()); err != nil {
		r.logger.ErrorContext(ctx, "record a failed attempt's model calls", "job_id", j.ID, "calls", len(calls), slog.Any("error", err))
	}
}

// charges prices the job's model calls, and records a cache hit (or a
// coalesced wait) at no cost with what it saved.
func (r *Runner) charges(ctx context.Context, j *netcfg.Job, res *generate.Result) []netcfg.Charge {
	out := r.callCharges(ctx, j, res.Calls)
	if len(res.Calls) == 0 && res.SavedTokens != nil {
		t := res.SavedTokens
		out = append(out, netcfg.Charge{Kind: netcfg.ChargeCacheHit, Provider: res.Provider, Model: res.Model,
			SavedNUSD: r.cost(ctx, j, r.clock(), res.Model, "", llm.Usage{InputTokens: t.Input, OutputTokens: t.Output})})
	}
	return out
}

// callCharges prices model calls j made, and counts their cost.
func (r *Runner) callCharges(ctx context.Context, j *netcfg.Job, calls []generate.Call) []netcfg.Charge {
	now := r.clock()
	var out []netcfg.Charge
	for _, c := range calls {
		u := c.Usage
		ch := netcfg.Charge{Kind: netcfg.ChargeCall, Provider: c.Provider, Model: c.Model,
			InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
			CacheWriteTokens: u.CacheWriteTokens, CacheReadTokens: u.CacheReadTokens}
		ch.CostNUSD = r.cost(ctx, j, now, c.Model, c.Requested, u)
		if r.metrics != nil {
			r.metrics.CostUSD.WithLabelValues(j.Department).Add(float64(ch.CostNUSD) / 1e9)
		}
		out = append(out, ch)
	}
	return out
}

// cost is ledger.CallCost at the job's list price. A model with no price at all
// is logged and counted at zero rather than failing a job whose call was
// already made.
func (r *Runner) cost(ctx context.Context, j *netcfg.Job, at time.Time, model, requested string, u llm.Usage) int64 {
	if r.prices == nil {
		return 0
	}
	c, err := ledger.CallCost(r.prices, at, model, requested, u, false)
	if err != nil {
		r.logger.ErrorContext(ctx, "no price for a model call; ledger records it at zero cost",
			"job_id", j.ID, "model", model, slog.Any("error", err))
	}
	return c
}

// classify maps a model error to the queue's outcome.
func classify(err error) error {
	if errors.Is(err, generate.ErrBudgetExceeded) || errors.Is(err, generate.ErrPromptTooLarge) {
		return &queue.PermanentError{Err: err}
	}
	var busy *cache.BusyError
	if errors.As(err, &busy) {
		return &queue.SnoozeError{After: busy.Wait, Err: err}
	}
	if errors.Is(err, generate.ErrTemplateConfig) {
		return &queue.PermanentError{Err: err, Reason: metrics.ReasonLint}
	}
	var le *llm.Error
	if !errors.As(err, &le) {
		return err
	}
	switch le.Class {
	case llm.Permanent:
		return &queue.PermanentError{Err: err}
	case llm.RateLimited:
		return &queue.SnoozeError{After: le.RetryAfter, Err: err}
	}
	return err
}
