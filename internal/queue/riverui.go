package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"riverqueue.com/riverui"
)

// riverUIEngine is an engine that can serve River UI over its River client.
type riverUIEngine interface {
	riverUI(prefix string, logger *slog.Logger) (http.Handler, error)
}

// RiverUI returns River UI (riverqueue.com/riverui) for this queue's River
// tables, serving under prefix (e.g. "/riverui"). It works on SQLite and
// PostgreSQL alike: River UI has a driver for each. It shows River's rows
// (attempts, errors, queues); netsmith's own job record is netsmith_job,
// which River UI does not know, so callers should not let it cancel or
// retry jobs (httpapi mounts it read-only).
//
// The handler's background services are not started: they recount every
// River job every 30 s to 15 min on each process that serves it (on SQLite
// through the one writer connection), whether anyone looks or not.
// Without them a state's count is exact up to 10,000 jobs, read when asked,
// and an estimate above.
func (q *Queue) RiverUI(prefix string, logger *slog.Logger) (http.Handler, error) {
	e, ok := q.eng.(riverUIEngine)
	if !ok {
		return nil, errors.New("river ui: the queue has no River client")
	}
	return e.riverUI(prefix, logger)
}

func (e *riverEngine[TDriver, TTx]) riverUI(prefix string, logger *slog.Logger) (http.Handler, error) {
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
	return h, nil
}
