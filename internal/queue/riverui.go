package queue

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"riverqueue.com/riverui"
)

// riverUIEngine is an engine that can serve River UI over its River client.
type riverUIEngine interface {
	riverUI(ctx context.Context, prefix string, logger *slog.Logger) (http.Handler, error)
}

// RiverUI returns River UI (riverqueue.com/riverui) for this queue's River
// tables, serving under prefix (e.g. "/riverui"), and starts its
// background count caches until ctx ends. It works on SQLite and
// PostgreSQL alike: River UI has a driver for each. It shows River's rows
// (attempts, errors, queues); netsmith's own job record is netsmith_job,
// which River UI does not know, so callers should not let it cancel or
// retry jobs (httpapi mounts it read-only).
func (q *Queue) RiverUI(ctx context.Context, prefix string, logger *slog.Logger) (http.Handler, error) {
	e, ok := q.eng.(riverUIEngine)
	if !ok {
		return nil, fmt.Errorf("river ui: the queue has no River client")
	}
	return e.riverUI(ctx, prefix, logger)
}

func (e *riverEngine[TDriver, TTx]) riverUI(ctx context.Context, prefix string, logger *slog.Logger) (http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(e.client, nil),
		Logger:    logger.With("component", "riverui"),
		Prefix:    prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("river ui: start: %w", err)
	}
	return h, nil
}
