// Package fakeanthropic is a server that speaks Anthropic's Messages API,
// /v1/messages/count_tokens and the Message Batches endpoints on the wire,
// for tests, load tests and trials that must not spend money.
//
// Its answers come from package sim, so netsmith's own pipeline works end to
// end against it. It behaves like the real service where that matters to a
// client: latency drawn from a distribution, request, input-token and
// output-token limits per minute enforced with token buckets and answered
// with 429 rate_limit_error, retry-after and anthropic-ratelimit-* headers,
// injected 500 api_error and 529 overloaded_error at seeded rates, a 400
// invalid_request_error for prompts holding a marker string, and 401 without
// an x-api-key. GET /stats reports what it served.
//
// It holds thousands of concurrent connections: a request costs only the
// goroutine net/http gives it, waits on a timer, and takes the server's one
// lock only for a few microseconds, never while waiting.
package fakeanthropic

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInvalidMarker is the marker used when Config.InvalidMarker is empty.
const DefaultInvalidMarker = "FAKE_INVALID"

// Latency distributions.
const (
	Fixed   = "fixed"   // always Latency
	Uniform = "uniform" // Latency ± Jitter, uniformly
	Normal  = "normal"  // mean Latency, standard deviation Jitter, never below 0
)

// Config configures a Server. The zero value answers at once, without
// limits or injected errors, and requires an x-api-key.
type Config struct {
	// Latency is the mean time to answer a message; Jitter spreads it
	// according to Distribution (Uniform when empty and Jitter is set).
	Latency      time.Duration
	Jitter       time.Duration
	Distribution string
	// PerOutputToken is added to the latency for every output token.
	PerOutputToken time.Duration

	// Limits per minute; zero means unlimited. Burst is how much of a
	// minute's allowance may be spent at once (a minute when zero, like the
	// real service's buckets).
	RequestsPerMinute     int64
	InputTokensPerMinute  int64
	OutputTokensPerMinute int64
	Burst                 time.Duration

	// Error500Rate and Error529Rate are the fractions of admitted messages
	// answered with 500 api_error and 529 overloaded_error, drawn from a
	// math/rand/v2 PCG seeded with Seed.
	Error500Rate float64
	Error529Rate float64
	Seed         uint64

	// InvalidMarker makes any message whose prompt contains it fail with
	// 400 invalid_request_error (DefaultInvalidMarker when empty).
	InvalidMarker string
	// APIKey, when set, is the only x-api-key accepted. NoAuth accepts
	// requests without one.
	APIKey string
	NoAuth bool
	// Models, when set, are the only models served; others get 404.
	Models []string

	// BatchTime is how long a Message Batch takes to end; requests within
	// it finish evenly over that time. Zero ends batches at once.
	BatchTime time.Duration
	// MaxBodyBytes bounds request bodies (413 beyond); 32 MiB when zero.
	MaxBodyBytes int64

	// NowFunc is the clock for limits and batches; time.Now when nil.
	// Latency always uses real timers.
	NowFunc func() time.Time
}

// Server is the fake API. It is an http.Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	now    func() time.Time
	models map[string]bool
	salt   uint64
	seq    atomic.Uint64

	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	mu      sync.Mutex // guards everything below; never held while waiting
	rng     *rand.Rand
	limits  *limits
	stats   Stats
	batches map[string]*batch
	order   []string // batch ids, oldest first
}

// New returns a Server for cfg. A nil logger discards.
func New(cfg Config, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.InvalidMarker == "" {
		cfg.InvalidMarker = DefaultInvalidMarker
	}
	if cfg.Burst <= 0 {
		cfg.Burst = time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Distribution == "" {
		cfg.Distribution = Fixed
		if cfg.Jitter > 0 {
			cfg.Distribution = Uniform
		}
	}
	now := cfg.NowFunc
	if now == nil {
		now = time.Now
	}
	s := &Server{
		cfg:     cfg,
		log:     logger,
		now:     now,
		salt:    splitmix(cfg.Seed ^ 0x6e657473),
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x6661_6b65)),
		limits:  newLimits(cfg, now()),
		batches: make(map[string]*batch),
		stats:   Stats{ByStatus: map[int]int64{}, ByModel: map[string]*ModelStats{}},
	}
	if len(cfg.Models) > 0 {
		s.models = make(map[string]bool, len(cfg.Models))
		for _, m := range cfg.Models {
			s.models[m] = true
		}
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("POST /v1/messages", s.api(s.handleMessages))
	s.mux.Handle("POST /v1/messages/count_tokens", s.api(s.handleCountTokens))
	s.mux.Handle("POST /v1/messages/batches", s.api(s.handleCreateBatch))
	s.mux.Handle("GET /v1/messages/batches", s.api(s.handleListBatches))
	s.mux.Handle("GET /v1/messages/batches/{id}", s.api(s.handleGetBatch))
	s.mux.Handle("GET /v1/messages/batches/{id}/results", s.api(s.handleBatchResults))
	s.mux.Handle("POST /v1/messages/batches/{id}/cancel", s.api(s.handleCancelBatch))
	s.mux.HandleFunc("GET /stats", s.handleStats)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("request-id", s.newID("req_"))
		writeError(w, http.StatusNotFound, "not_found_error", "Not Found", w.Header().Get("request-id"))
	})
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// api wraps a /v1 handler: a request-id on every response, in-flight
// counting, and the x-api-key and anthropic-version checks.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, reqID string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxInFlight.Load()
			if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		reqID := s.newID("req_")
		w.Header().Set("request-id", reqID)
		key := r.Header.Get("x-api-key")
		switch {
		case key == "" && !s.cfg.NoAuth:
			s.reject(w, r, reqID, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
			return
		case s.cfg.APIKey != "" && key != s.cfg.APIKey && !(key == "" && s.cfg.NoAuth):
			s.reject(w, r, reqID, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
			return
		case r.Header.Get("anthropic-version") == "":
			s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
			return
		}
		h(w, r, reqID)
	})
}

// reject answers an error that no message was admitted for, with the
// current limits in the headers.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, reqID string, status int, typ, msg string) {
	s.mu.Lock()
	states := s.limits.peek(s.now())
	if r.URL.Path == "/v1/messages" {
		s.stats.Requests++
	}
	s.stats.ByStatus[status]++
	s.mu.Unlock()
	setLimitHeaders(w.Header(), states)
	writeError(w, status, typ, msg, reqID)
}

// writeError writes the API's error body.
func writeError(w http.ResponseWriter, status int, typ, msg, reqID string) {
	type inner struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	writeJSON(w, status, struct {
		Type      string `json:"type"`
		Error     inner  `json:"error"`
		RequestID string `json:"request_id,omitempty"`
	}{"error", inner{typ, msg}, reqID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("content-type", "application/json")
	w.Header().Set("content-length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// newID returns a unique, opaque identifier with prefix ("req_", "msg_",
// "msgbatch_"), stable for a given seed and call order.
func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s01%022x", prefix, splitmix(s.seq.Add(1)^s.salt))
}

// splitmix is SplitMix64's finaliser, a bijection on uint64.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Stats counts what the server served.
type Stats struct {
	// Requests counts POST /v1/messages calls, whatever their outcome.
	Requests int64 `json:"requests"`
	// Succeeded counts 200s of /v1/messages; the token counts are theirs.
	Succeeded    int64 `json:"succeeded"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// The error statuses of every /v1 endpoint.
	InvalidRequests int64 `json:"invalid_requests_400"`
	RateLimited     int64 `json:"rate_limited_429"`
	ServerErrors    int64 `json:"server_errors_500"`
	Overloaded      int64 `json:"overloaded_529"`
	// ClientClosed counts messages whose client left before the answer.
	ClientClosed int64 `json:"client_closed"`
	// ByStatus counts every /v1 response by HTTP status.
	ByStatus map[int]int64 `json:"by_status"`
	// CountTokens counts POST /v1/messages/count_tokens calls.
	CountTokens int64                  `json:"count_tokens_requests"`
	ByModel     map[string]*ModelStats `json:"by_model"`
	Batches     BatchStats             `json:"batches"`
	InFlight    int64                  `json:"in_flight"`
	MaxInFlight int64                  `json:"max_in_flight"`
	// RequestsHeadroom, with a requests-per-minute limit, is the fewest
	// requests the bucket had left right after admitting one: how close
	// the clients came to a 429 (below 1, one more at that moment would
	// have been refused). Absent without such a limit.
	RequestsHeadroom *float64 `json:"requests_headroom,omitempty"`
}

// ModelStats counts one model's messages.
type ModelStats struct {
	Requests     int64 `json:"requests"`
	Succeeded    int64 `json:"succeeded"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	RateLimited  int64 `json:"rate_limited_429"`
	Overloaded   int64 `json:"overloaded_529"`
	ServerErrors int64 `json:"server_errors_500"`
}

// BatchStats counts Message Batches.
type BatchStats struct {
	Created    int64 `json:"created"`
	InProgress int64 `json:"in_progress"` // in progress or canceling
	Ended      int64 `json:"ended"`
	Canceled   int64 `json:"canceled"`
	Requests   int64 `json:"requests"`
	// Tokens of the batches' succeeded requests.
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = maps.Clone(s.stats.ByStatus)
	st.ByModel = make(map[string]*ModelStats, len(s.stats.ByModel))
	for k, v := range s.stats.ByModel {
		c := *v
		st.ByModel[k] = &c
	}
	st.InvalidRequests = st.ByStatus[http.StatusBadRequest]
	st.RateLimited = st.ByStatus[http.StatusTooManyRequests]
	st.ServerErrors = st.ByStatus[http.StatusInternalServerError]
	st.Overloaded = st.ByStatus[529]
	now := s.now()
	for _, b := range s.batches {
		if b.view(now, s.cfg.BatchTime).status == statusEnded {
			st.Batches.Ended++
		} else {
			st.Batches.InProgress++
		}
	}
	st.InFlight = s.inFlight.Load()
	st.MaxInFlight = s.maxInFlight.Load()
	if s.limits.requests != nil {
		low := math.Round(s.limits.requestsLow*100) / 100
		st.RequestsHeadroom = &low
	}
	return st
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// modelStats returns the counters of model; s.mu must be held.
func (s *Server) modelStats(model string) *ModelStats {
	m := s.stats.ByModel[model]
	if m == nil {
		m = &ModelStats{}
		s.stats.ByModel[model] = m
	}
	return m
}
