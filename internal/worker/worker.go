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

	"netsmith/internal/cache"
	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// Runner adapts a generate.Service to queue.WorkFunc.
type Runner struct {
	svc    *generate.Service
	logger *slog.Logger
}

// New returns a Runner.
func New(svc *generate.Service, logger *slog.Logger) *Runner {
	return &Runner{svc: svc, logger: logger}
}

// Run is a queue.WorkFunc.
func (r *Runner) Run(ctx context.Context, j *store.Job) (*store.Result, error) {
	var req netcfg.JobRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return nil, &queue.PermanentError{Err: fmt.Errorf("decode request: %w", err)}
	}
	if err := req.Validate(); err != nil {
		return nil, &queue.PermanentError{Err: err}
	}
	res, err := r.svc.Run(ctx, &req)
	if err != nil {
		r.logger.WarnContext(ctx, "job attempt failed", "job_id", j.ID, "attempt", j.Attempts, slog.Any("error", err))
		return nil, classify(err)
	}
	body, err := json.Marshal(res)
	if err != nil {
		return nil, &queue.PermanentError{Err: fmt.Errorf("encode result: %w", err)}
	}
	out := &store.Result{
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
	return out, nil
}

// classify maps a model error to the queue's outcome.
func classify(err error) error {
	var busy *cache.BusyError
	if errors.As(err, &busy) {
		return &queue.SnoozeError{After: busy.Wait, Err: err}
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
