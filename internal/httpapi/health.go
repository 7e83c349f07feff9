package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"netsmith/internal/queue"
)

// Readiness defaults (Config.ReadyTimeout, ReadyCache, OutageHold).
const (
	defaultReadyTimeout = 2 * time.Second
	defaultReadyCache   = time.Second
	defaultOutageHold   = 5 * time.Second
)

// errOutage is what a request gets while the database or its disk fails:
// 503 with Retry-After, the same request succeeding once it is over.
func errOutage(err error, retry time.Duration) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Type: "unavailable_error", RetryAfter: retry, Err: err,
		Msg: "the database is unavailable (down, restarting or out of disk): retry after the Retry-After header's seconds (with an Idempotency-Key a retried submission is never queued twice)"}
}

// readiness is what /readyz answers: the database answers a cheap query
// within ReadyTimeout (the answer kept for ReadyCache, so that many load
// balancers polling many replicas cost one query a second), and no request
// met a database outage in the last OutageHold. The second half catches
// what a read cannot: a full disk or a read-only file fails writes while
// SELECT 1 still works, so /readyz fails while requests keep failing and
// for OutageHold after the last one.
type readiness struct {
	timeout, cacheFor, hold time.Duration

	mu      sync.Mutex
	at      time.Time
	err     error
	tripped atomic.Int64 // UnixNano of the last outage a request met
}

func newReadiness(cfg Config) *readiness {
	r := &readiness{timeout: cfg.ReadyTimeout, cacheFor: cfg.ReadyCache, hold: cfg.OutageHold}
	if r.timeout <= 0 {
		r.timeout = defaultReadyTimeout
	}
	if r.cacheFor <= 0 {
		r.cacheFor = defaultReadyCache
	}
	if r.hold <= 0 {
		r.hold = defaultOutageHold
	}
	return r
}

// trip records that a request met a database outage now.
func (r *readiness) trip() { r.tripped.Store(time.Now().UnixNano()) }

var errRecentOutage = errors.New("requests met a database outage in the last seconds")

// check returns why the process is not ready, or nil; probe is run at most
// once per cacheFor, bounded by timeout.
func (r *readiness) check(ctx context.Context, probe func(context.Context) error) error {
	if t := r.tripped.Load(); t != 0 && time.Since(time.Unix(0, t)) < r.hold {
		return errRecentOutage
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < r.cacheFor {
		return r.err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	r.err = probe(pctx)
	r.at = time.Now()
	return r.err
}

// probe is the database's Ping: every path a job uses takes work.
func (s *Server) probe(ctx context.Context) error { return s.db.Ping(ctx) }

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready.check(r.Context(), s.probe); err != nil {
		status := "database unreachable"
		if errors.Is(err, errRecentOutage) {
			status = "database failing requests"
		}
		s.logger.WarnContext(r.Context(), "not ready", "status", status, slog.Any("error", err))
		w.Header().Set("Retry-After", strconv.Itoa(int((s.ready.hold+time.Second-1)/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": status})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// outage turns a database outage into errOutage and marks the process not
// ready; any other error is returned as it is.
func (s *Server) outage(err error) error {
	var e *Error
	if errors.As(err, &e) || errors.Is(err, context.Canceled) {
		return err // decided already, or the client left
	}
	if queue.Unavailable(err) {
		s.ready.trip()
		return errOutage(err, s.ready.hold)
	}
	return err
}
