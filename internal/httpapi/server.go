// Package httpapi is netsmith's HTTP interface: the v1 JSON API, the
// legacy-compatible endpoints of the Flask/Celery service netsmith replaces,
// health and metrics endpoints, and a Client for the CLI and tests.
//
// NewServer returns an http.Handler; Server.routes lists every route. Errors
// leave through one method (Server.writeError) as {"error":{"type","message"}}
// with the right status; internal causes are logged, never sent.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/cache"
	"netsmith/internal/fleet"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
	"netsmith/internal/submit"
)

// Config configures a Server.
type Config struct {
	// MaxBody is the largest request body accepted (413 beyond it).
	MaxBody int64
	// MaxBatchBody is the largest fleet file POST /v1/batches accepts.
	MaxBatchBody int64
	// MaxQueue is the queue depth (queued + retrying) beyond which
	// submissions get 503; 0 means no limit.
	MaxQueue int64
	// DefaultPlatform is used by the legacy API, whose requests name none.
	DefaultPlatform string
	// EventPoll is how often the jobs of all open SSE streams are read
	// together, to see changes made by another process.
	EventPoll time.Duration
	// StreamHeartbeat is how often an event stream with nothing to say
	// sends a comment, so that proxies that end idle responses (nginx's
	// proxy_read_timeout) keep it open: DefaultStreamHeartbeat when zero.
	StreamHeartbeat time.Duration
	// Provider is reported by /api/health.
	Provider string
	// Economy says the provider can make templates through the Message
	// Batches API (POST /v1/batches?economy=true).
	Economy bool
	// InternalKey, when set, is a secret that authenticates its bearer as
	// an admin whatever keys exist: the in-process client of an embedded
	// batch, which holds it only while it runs and never stores it.
	InternalKey string
	// ReadyTimeout bounds /readyz's database probe (default 2 s), whose
	// answer is kept for ReadyCache (default 1 s). OutageHold is how long
	// /readyz fails after a request met a database outage (default 5 s),
	// also the Retry-After of that request's 503.
	ReadyTimeout, ReadyCache, OutageHold time.Duration
}

// Jobs is what the API does with queued jobs (package queue).
type Jobs interface {
	Get(ctx context.Context, id string) (*store.Job, error)
	// Status is Get for status reads: it may answer from memory while
	// the job has not changed, up to the change feed's lag stale.
	Status(ctx context.Context, id string) (*store.Job, error)
	Versions(ctx context.Context, ids []string) (map[string]store.JobVersion, error)
	Cancel(ctx context.Context, j *store.Job) (bool, error)
	Watch(id string) (<-chan *store.Job, func())
	// Announced reports whether Watch sees other processes' changes
	// now (the queue's change feed listens): event streams need not
	// poll then.
	Announced() bool
	Depth(ctx context.Context) (map[netcfg.JobState]int64, error)
}

// Submissions is the submission use case (package submit).
type Submissions interface {
	Job(ctx context.Context, who submit.Submitter, in submit.Job) (*store.Job, bool, error)
	Fleet(ctx context.Context, who submit.Submitter, name string, f *fleet.Fleet, economy bool, department string) (*store.Batch, error)
}

// Money is the ledger's budgets and reports (package ledger).
type Money interface {
	Budget(ctx context.Context, department string) (*store.Budget, error)
	Usage(ctx context.Context, department string, b *store.Budget, now time.Time) ([]store.BudgetUsage, error)
	PutBudget(ctx context.Context, b *store.Budget) error
	Costs(ctx context.Context, groupBy string, since, until time.Time, department string, all bool) ([]store.CostRow, error)
}

// Records is what the API reads and writes in the database beside jobs
// and money: keys, batches, the cache's entries (a *store.DB).
type Records interface {
	Ping(ctx context.Context) error
	AnyKeys(ctx context.Context) (bool, error)
	KeyByHash(ctx context.Context, hash string) (*store.Key, error)
	TakeKeyRate(ctx context.Context, id string, rpm int64, now time.Time) (time.Duration, error)
	GetBatch(ctx context.Context, id string, fresh bool) (*store.BatchStatus, error)
	GetEconomy(ctx context.Context, batchID string, fresh bool) (*store.BatchEconomy, error)
	ListBatchJobs(ctx context.Context, batchID, after string, limit int) ([]*store.Job, error)
	ListBatchJobsFinishedSince(ctx context.Context, batchID string, since time.Time, after string, limit int) ([]*store.Job, error)
	ListJobs(ctx context.Context, f store.JobFilter) ([]*store.Job, error)
	GetCacheStats(ctx context.Context, batchID string) (*store.CacheStats, error)
	InvalidateTemplates(ctx context.Context, f store.TemplateFilter) (int64, error)
	dashboardRecords
}

// dashboardRecords are the dashboard's reads.
type dashboardRecords interface {
	DashboardJobs(ctx context.Context, department string, since time.Time) (*store.JobOverview, error)
	Throughput(ctx context.Context, department string, now time.Time, width time.Duration, n int) ([]store.ThroughputBucket, error)
	RecentFailures(ctx context.Context, department string, since time.Time, limit, latest int) (*store.Failures, error)
	ActiveBatches(ctx context.Context, department string, since time.Time, limit int) ([]*store.BatchStatus, error)
	SpendToday(ctx context.Context, department string, now time.Time) ([]store.DepartmentSpend, error)
	UpstreamStates(ctx context.Context, now time.Time) ([]store.UpstreamState, error)
}

// DefaultStreamHeartbeat is Config.StreamHeartbeat's default: well under
// the 60 s read timeout of nginx and most load balancers.
const DefaultStreamHeartbeat = 15 * time.Second

// Deps are the parts a Server works with.
type Deps struct {
	DB       Records
	Queue    Jobs
	Submit   Submissions
	Money    Money
	Cache    *cache.Cache // nil when the template cache is off
	Metrics  *metrics.Metrics
	Registry prometheus.Gatherer
	Logger   *slog.Logger
	// TemplateMeta names the template-cache entry of a request's intent
	// (generate.Service.TemplateMeta); economy mode needs it.
	TemplateMeta func(*netcfg.JobRequest) cache.Meta
	// LatencyFunc, when set, is told how long each interactive request
	// took (see interactive); serve hands it to the adaptive worker gate.
	LatencyFunc func(time.Duration)
	// RiverUI is River UI (queue.RiverUI), served read-only to admin keys
	// under /riverui/; nil: not mounted.
	RiverUI http.Handler
}

// interactive are the routes someone waits on one job at a time, whose
// latency the workers give way to (adapt.Gate). Event streams last as long
// as their job, and fleet submissions and reads scale with the fleet: they
// say nothing about how responsive the API is.
var interactive = map[string]bool{
	"POST /v1/jobs":                true,
	"GET /v1/jobs/{id}":            true,
	"POST /v1/jobs/{id}/diff":      true,
	"DELETE /v1/jobs/{id}":         true,
	"GET /v1/queue":                true,
	"POST /api/generate-config":    true,
	"GET /api/job-status/{job_id}": true,
	"GET /v1/batches/{id}":         true,
	"GET /v1/whoami":               true,
	"GET /v1/budgets/{department}": true,
}

// Server serves the API.
type Server struct {
	cfg     Config
	db      Records
	q       Jobs
	sub     Submissions
	money   Money
	cache   *cache.Cache
	logger  *slog.Logger
	metrics *metrics.Metrics
	reg     prometheus.Gatherer
	mux     *http.ServeMux
	meta    func(*netcfg.JobRequest) cache.Meta
	latency func(time.Duration)
	keys    keyGate
	streams atomic.Int64 // open event streams
	ready   *readiness
	poller  *streamPoller
	riverUI http.Handler
}

// NewServer returns the API handler.
func NewServer(cfg Config, d Deps) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxBatchBody <= 0 {
		cfg.MaxBatchBody = 64 << 20
	}
	if cfg.DefaultPlatform == "" {
		cfg.DefaultPlatform = "cisco_ios"
	}
	if cfg.EventPoll <= 0 {
		cfg.EventPoll = time.Second
	}
	if cfg.StreamHeartbeat <= 0 {
		cfg.StreamHeartbeat = DefaultStreamHeartbeat
	}
	s := &Server{cfg: cfg, db: d.DB, q: d.Queue, sub: d.Submit, money: d.Money, cache: d.Cache, logger: d.Logger, metrics: d.Metrics,
		reg: d.Registry, mux: http.NewServeMux(), meta: d.TemplateMeta, latency: d.LatencyFunc, riverUI: d.RiverUI}
	s.ready = newReadiness(cfg)
	s.poller = &streamPoller{every: cfg.EventPoll, read: d.Queue.Versions, announced: d.Queue.Announced, logger: s.logger}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.handle("POST /v1/jobs", s.handleSubmit)
	s.handle("GET /v1/jobs", s.handleListJobs)
	s.handle("GET /v1/jobs/{id}", s.handleGetJob)
	s.handle("DELETE /v1/jobs/{id}", s.handleCancelJob)
	s.handle(eventsRoute, s.handleJobEvents)
	s.handle("POST /v1/jobs/{id}/diff", s.handleJobDiff)
	s.handle("GET /v1/queue", s.handleQueue)
	s.handle("POST /v1/batches", s.handleSubmitBatch)
	s.handle("GET /v1/batches/{id}", s.handleGetBatch)
	s.handle("GET /v1/batches/{id}/results", s.handleBatchResults)
	s.handle("POST /v1/batches/{id}/drift", s.handleBatchDrift)
	s.handle("GET /v1/cache/stats", s.handleCacheStats)
	s.handle("POST /v1/cache/invalidate", s.handleCacheInvalidate)
	s.handle("GET /v1/costs", s.handleCosts)
	s.handle("GET /v1/budgets/{department}", s.handleGetBudget)
	s.handle("PUT /v1/budgets/{department}", s.handlePutBudget)
	s.handle("GET /v1/whoami", s.handleWhoami)
	s.handle("GET /v1/dashboard", s.handleDashboardData)
	s.handle("POST /v1/jobs/{id}/retry", s.handleRetryJob)
	s.handle(RiverUIPrefix+"/", s.serveRiverUI)

	s.handle("POST /api/generate-config", s.handleLegacyGenerate)
	s.handle("GET /api/job-status/{job_id}", s.handleLegacyStatus)
	s.handle("GET /api/health", s.handleLegacyHealth)

	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.mux.Handle("GET /metrics", s.metricsHandler())
	s.handle("GET /{$}", s.handleDashboard)
	s.handle("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &Error{Status: http.StatusNotFound, Type: "not_found_error",
			Msg: "no route for " + r.Method + " " + r.URL.Path})
	})
}

// handle registers h for pattern with the body limit and request metrics,
// labelled by the pattern (bounded), never by the path.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	if s.metrics != nil && pattern != eventsRoute {
		s.metrics.HTTPDuration.WithLabelValues(pattern) // exported from start
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		limit := s.cfg.MaxBody
		if r.Pattern == "POST /v1/batches" || r.Pattern == "POST /v1/batches/{id}/drift" {
			limit = s.cfg.MaxBatchBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if err := checkRequestText(r); err != nil {
			s.writeError(sw, r, err)
			s.observe(r, sw.code, start)
			return
		}
		if needsAuth(r.Pattern) {
			p, err := s.authenticate(r)
			if err != nil {
				s.writeError(sw, r, err)
				s.observe(r, sw.code, start)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		h(sw, r)
		s.observe(r, sw.code, start)
	}))
}

// eventsRoute is the event stream's pattern: it lasts as long as its job,
// so its time stays out of the request-latency histogram (its streams are
// counted by countStream instead).
const eventsRoute = "GET /v1/jobs/{id}/events"

// observe counts a request, labelled by its route pattern (bounded), never
// by its path.
func (s *Server) observe(r *http.Request, code int, start time.Time) {
	d := time.Since(start)
	if s.metrics != nil {
		route := r.Pattern
		s.metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		if route != eventsRoute {
			s.metrics.HTTPDuration.WithLabelValues(route).Observe(d.Seconds())
		}
	}
	if s.latency != nil && interactive[r.Pattern] {
		s.latency(d)
	}
}

// countStream counts an event stream opened and open; the function it
// returns counts it closed: `defer s.countStream()()`.
func (s *Server) countStream() func() {
	if s.metrics == nil {
		return func() {}
	}
	s.metrics.EventStreams.Inc()
	s.metrics.EventStreamsOpen.Inc()
	return s.metrics.EventStreamsOpen.Dec
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	d, err := s.q.Depth(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"depth": d, "max_queue": s.cfg.MaxQueue})
}

// OpsHandler serves only /healthz, /readyz and /metrics: what a worker-only
// process exposes.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metricsHandler())
	return mux
}
