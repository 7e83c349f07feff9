package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"netsmith/internal/adapt"
	"netsmith/internal/cache"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/llm/limiter"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/worker"
)

// Config is serve's configuration, from flags and NETSMITH_* variables.
type Config struct {
	DB              string
	Listen          string
	Role            string
	Provider        string
	Model           string
	AnalyzeModel    string
	MaxTokens       int
	Concurrency     int
	MaxQueue        int64
	MaxAttempts     int
	JobTimeout      time.Duration
	RescueAfter     time.Duration
	SimLatency      time.Duration
	MaxBody         int64
	ShutdownTimeout time.Duration
	// ReadTimeout bounds reading a request, headers and body;
	// ReadHeaderTimeout the headers alone; IdleTimeout a kept-alive
	// connection between requests.
	ReadTimeout       time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxConnsPerIP     int
	// StreamHeartbeat is how often a quiet event stream sends a comment.
	StreamHeartbeat time.Duration
	// APILatencyTarget: with --role all, the workers give way to the API
	// while its interactive requests are slower than this (0: never).
	APILatencyTarget time.Duration
	PollInterval     time.Duration
	Insecure         bool
	LogLevel         string
	LogFormat        string
	Cache            bool
	CacheTTL         time.Duration
	EconomyPoll      time.Duration
	PprofAddr        string
	UpstreamRPM      int64
	UpstreamITPM     int64
	UpstreamOTPM     int64
	Prices           string

	AnthropicBaseURL string
	AnthropicAPIKey  string
	OpenAIBaseURL    string
	OpenAIAPIKey     string

	// exposed: listening beyond loopback without --insecure, which is only
	// allowed once API keys exist (checked when the database is open).
	exposed bool
	// internalKey is the secret of the in-process client of an embedded
	// batch: an admin whatever API keys the database holds.
	internalKey string
}

// engineFlags registers the flags that choose and tune the engine; serve and
// the embedded batch (batch --db) share them.
func (c *Config) engineFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", "sqlite://netsmith.db", "database `URL`: sqlite://PATH or postgres://…")
	fs.StringVar(&c.Provider, "provider", "", "LLM provider: sim, anthropic or openai (default anthropic when ANTHROPIC_API_KEY is set, else sim)")
	fs.StringVar(&c.Model, "model", "", "model for generate jobs (default: the provider's)")
	fs.StringVar(&c.AnalyzeModel, "analyze-model", "", "cheaper model for analyze jobs (default: --model)")
	fs.IntVar(&c.MaxTokens, "max-tokens", 8192, "max output tokens per model call")
	fs.IntVar(&c.Concurrency, "concurrency", 50, "model calls this process has in flight at once; it runs a sixteenth more jobs than that, so that their database work never holds a call slot")
	fs.IntVar(&c.MaxAttempts, "max-attempts", 5, "attempts before a job fails")
	fs.DurationVar(&c.JobTimeout, "job-timeout", 3*time.Minute, "time limit of one attempt")
	fs.DurationVar(&c.RescueAfter, "rescue-after", 0, "run a job again if it stays running this long (its process presumed dead); default job-timeout + 20% + 10s")
	fs.DurationVar(&c.SimLatency, "sim-latency", 500*time.Millisecond, "latency of each sim provider call")
	fs.DurationVar(&c.PollInterval, "poll-interval", queue.DefaultPollInterval, "how often workers look for jobs when no notification arrives: the longest a ready job can wait for a free worker, as River drops insert notifications that follow another within 20 ms")
	fs.StringVar(&c.AnthropicBaseURL, "anthropic-base-url", "", "Anthropic API base URL (default ANTHROPIC_BASE_URL or https://api.anthropic.com)")
	fs.StringVar(&c.OpenAIBaseURL, "openai-base-url", "http://127.0.0.1:8000", "OpenAI-compatible server base URL")
	fs.Int64Var(&c.UpstreamRPM, "upstream-rpm", 0, "requests per minute the provider allows this model, shared by all replicas (0: learn from its headers and 429s)")
	fs.Int64Var(&c.UpstreamITPM, "upstream-itpm", 0, "input tokens per minute the provider allows (0: no limit set)")
	fs.Int64Var(&c.UpstreamOTPM, "upstream-otpm", 0, "output tokens per minute the provider allows (0: no limit set)")
	fs.StringVar(&c.Prices, "prices", "", "price table `file` (YAML) laid over the built-in one; every model used must have a price")
	fs.StringVar(&c.PprofAddr, "pprof", "", "serve net/http/pprof on this loopback `address` (off when empty)")
	fs.BoolVar(&c.Cache, "cache", true, "share one template per intent (false: one model call per device)")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", 7*24*time.Hour, "how long a cached template is used")
	fs.DurationVar(&c.EconomyPoll, "economy-poll", 30*time.Second, "how often an economy batch looks at its Message Batch")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
}

func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.engineFlags(fs)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "HTTP listen `address`")
	fs.StringVar(&c.Role, "role", "all", "what this process runs: all, api or worker")
	fs.Int64Var(&c.MaxQueue, "max-queue", 100000, "refuse submissions with 503 when this many jobs wait (0: no limit)")
	fs.Int64Var(&c.MaxBody, "max-body", 1<<20, "largest request body in bytes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long running jobs may finish on SIGTERM before they are returned to the queue")
	fs.DurationVar(&c.APILatencyTarget, "api-latency-target", 0, "with --role all, let fewer jobs work at once while over 1% of single-job API requests take longer than this (a p99 target), e.g. 20ms (0: off)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", time.Minute, "longest a client may take to send a whole request, headers and body (a slow upload is cut off); time spent handling it, or streaming events, is not counted")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest a client may take to send a request's headers (at most --read-timeout)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 2*time.Minute, "how long a kept-alive connection may wait for its next request")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", 256, "open connections one remote IP address may hold; more are closed at once (loopback clients are not limited; 0: no limit; set it above the connections of a proxy in front)")
	fs.DurationVar(&c.StreamHeartbeat, "stream-heartbeat", httpapi.DefaultStreamHeartbeat, "how often a quiet event stream sends a comment line, so that a proxy in front (nginx's proxy_read_timeout, 60s by default) keeps it open; keep it below the proxy's read timeout")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow listening on a non-loopback address without API keys")
}

// secrets reads keys from the environment: X_FILE variables (preferred) or
// the plain ones.
func (c *Config) secrets(getenv func(string) string) error {
	var err error
	if c.AnthropicAPIKey, err = secretEnv(getenv, "ANTHROPIC_API_KEY"); err != nil {
		return err
	}
	if c.OpenAIAPIKey, err = secretEnv(getenv, "OPENAI_API_KEY"); err != nil {
		return err
	}
	if c.AnthropicBaseURL == "" {
		c.AnthropicBaseURL = getenv("ANTHROPIC_BASE_URL")
	}
	return nil
}

func secretEnv(getenv func(string) string, name string) (string, error) {
	for _, n := range []string{"NETSMITH_" + name + "_FILE", name + "_FILE"} {
		if path := getenv(n); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("%s: %w", n, err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	if v := getenv("NETSMITH_" + name); v != "" {
		return v, nil
	}
	return getenv(name), nil
}

// validate checks c once, before anything opens.
func (c *Config) validate() error {
	switch c.Role {
	case "all", "api", "worker":
	default:
		return usagef("--role %q: must be all, api or worker", c.Role)
	}
	if c.Provider == "" {
		c.Provider = "sim"
		if c.AnthropicAPIKey != "" {
			c.Provider = "anthropic"
		}
	}
	switch c.Provider {
	case "sim", "anthropic", "openai":
	default:
		return usagef("--provider %q: must be sim, anthropic or openai", c.Provider)
	}
	if c.Provider == "anthropic" && c.AnthropicAPIKey == "" {
		return usagef("--provider anthropic needs ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY_FILE)")
	}
	if c.Concurrency < 1 || c.Concurrency > 10000 {
		return usagef("--concurrency %d: must be 1–10000", c.Concurrency)
	}
	if c.MaxAttempts < 1 {
		return usagef("--max-attempts %d: must be at least 1", c.MaxAttempts)
	}
	if c.JobTimeout <= 0 {
		return usagef("--job-timeout must be positive")
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = c.JobTimeout + c.JobTimeout/5 + 10*time.Second
	}
	if c.RescueAfter <= c.JobTimeout {
		return usagef("--rescue-after %s must be longer than --job-timeout %s", c.RescueAfter, c.JobTimeout)
	}
	if c.UpstreamRPM < 0 || c.UpstreamITPM < 0 || c.UpstreamOTPM < 0 {
		return usagef("--upstream-rpm, --upstream-itpm and --upstream-otpm must be ≥ 0")
	}
	if c.MaxQueue < 0 || c.MaxBody <= 0 {
		return usagef("--max-queue must be ≥ 0 and --max-body positive")
	}
	if c.APILatencyTarget < 0 || c.APILatencyTarget > time.Minute {
		return usagef("--api-latency-target %s: must be 0 (off) to 1m", c.APILatencyTarget)
	}
	if c.ReadTimeout <= 0 || c.ReadHeaderTimeout <= 0 || c.IdleTimeout <= 0 {
		return usagef("--read-timeout, --read-header-timeout and --idle-timeout must be positive")
	}
	if hb := c.StreamHeartbeat; hb != 0 && (hb < 100*time.Millisecond || hb > 10*time.Minute) { // 0: the default
		return usagef("--stream-heartbeat %s: must be 100ms to 10m", c.StreamHeartbeat)
	}
	if c.MaxConnsPerIP < 0 {
		return usagef("--max-conns-per-ip %d: must be ≥ 0", c.MaxConnsPerIP)
	}
	if c.ReadHeaderTimeout > c.ReadTimeout {
		return usagef("--read-header-timeout %s must be at most --read-timeout %s", c.ReadHeaderTimeout, c.ReadTimeout)
	}
	loopback, err := loopbackAddr(c.Listen)
	if err != nil {
		return usagef("--listen %q: %v", c.Listen, err)
	}
	c.exposed = !loopback && !c.Insecure
	return nil
}

// loopbackAddr reports whether a listen address is provably loopback. Every
// other address counts as exposed, the empty one included: net.Listen takes
// "" (like ":P", "0.0.0.0:P" and "[::]:P") for every interface, and a
// hostname may resolve to anything.
func loopbackAddr(addr string) (bool, error) {
	if addr == "" {
		return false, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	return isLoopback(host), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: %v", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: must be text or json", format)
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.serveFlags(fs)
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if err := cfg.secrets(getenv); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	return serve(ctx, &cfg, logger)
}

// engine is the queue with everything a worker needs, built the same way
// for serve and for embedded batches.
type engine struct {
	q       *queue.Queue
	reg     *prometheus.Registry
	metrics *metrics.Metrics
	cache   *cache.Cache
	svc     *generate.Service
	prices  *pricing.Table
	economy bool        // the provider can make templates through Message Batches
	gate    *adapt.Gate // nil unless --role all with --api-latency-target
	alerts  *budgetAlerts
	// closeLimits closes the upstream limiter's own database, if it has one.
	closeLimits func()
}

// close closes what openEngine opened; the queue must be stopped, or never
// started.
func (e *engine) close() {
	e.alerts.close(context.Background())
	e.q.Close()
	e.closeLimits()
}

// latencyFunc is what the API tells of its requests' latency: the gate's
// Observe, or nil (nothing to tell) without a gate.
func (e *engine) latencyFunc() func(time.Duration) {
	if e.gate == nil {
		return nil
	}
	return e.gate.Observe
}

// loadPrices reads the price table and checks every model this process
// calls has a price: an unknown model is a start-up error, never cost 0.
func loadPrices(cfg *Config, models ...string) (*pricing.Table, error) {
	t := pricing.Default()
	if cfg.Prices != "" {
		var err error
		if t, err = pricing.Load(cfg.Prices); err != nil {
			return nil, usagef("--prices: %v", err)
		}
	}
	if err := t.Check(models...); err != nil {
		return nil, usagef("%v", err)
	}
	return t, nil
}

// jobSlots is how many jobs a process with calls call slots runs at once:
// a sixteenth more (at least one), so that the database work before and
// after each call (the job's read, the template lease and fill, the
// completion, River's next fetch) happens while other jobs' calls keep every
// slot busy. With one job per slot, each slot sits idle for that work, most
// in the bursts where every slot's job ends together, and the upstream gets
// less than slots / latency (bench s2-latency.sh measures the share).
func jobSlots(calls int) int {
	if calls <= 0 {
		return 0
	}
	return calls + (calls+15)/16
}

// openEngine opens the queue and everything the workers use. calls is
// --concurrency, the model calls in flight at once (0: no workers); the
// queue runs jobSlots(calls) jobs at once.
func openEngine(ctx context.Context, cfg *Config, logger *slog.Logger, calls int) (*engine, error) {
	workers := jobSlots(calls)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.WorkersLimit.Set(float64(workers))
	var gate *adapt.Gate
	if cfg.Role == "all" && cfg.APILatencyTarget > 0 && workers > 0 {
		gate = adapt.New(adapt.Config{Max: workers, Target: cfg.APILatencyTarget, LimitFunc: func(n int) {
			m.WorkersLimit.Set(float64(n))
			logger.Debug("workers limit", "limit", n)
		}})
	}
	llmClient, model, err := newProvider(cfg, logger)
	if err != nil {
		return nil, err
	}
	m.InitProvider(cfg.Provider, model, cfg.AnalyzeModel)
	prices, err := loadPrices(cfg, model, cmp.Or(cfg.AnalyzeModel, model))
	if err != nil {
		return nil, err
	}
	// The queue calls runner, which needs the queue's database for the
	// cache: tie the knot through a closure.
	var (
		runner     *worker.Runner
		economy    *generate.Economy
		economyRun queue.EconomyFunc
	)
	batchAPI, _ := llmClient.(generate.BatchAPI)
	if batchAPI != nil && cfg.Cache {
		economyRun = func(ctx context.Context, batchID string) (time.Duration, error) {
			return economy.Step(ctx, batchID)
		}
	}
	var sweep queue.WorkFunc
	if cfg.Cache {
		sweep = func(ctx context.Context, j *store.Job) (*store.Result, error) { return runner.Sweep(ctx, j) }
	}
	alerts := newBudgetAlerts(logger, m)
	q, err := queue.Open(ctx, cfg.DB, queue.Config{
		Workers: workers,
		Work: func(ctx context.Context, j *store.Job) (*store.Result, error) {
			return runner.Run(ctx, j)
		},
		Sweep:         sweep,
		Economy:       economyRun,
		OnBudgetAlert: alerts.alert,
		MaxAttempts:   cfg.MaxAttempts,
		JobTimeout:    cfg.JobTimeout,
		RescueAfter:   cfg.RescueAfter,
		PollInterval:  cfg.PollInterval,
		Logger:        logger,
		Metrics:       m,
		Gate:          gate,
		Role:          cfg.Role,
	})
	if err != nil {
		return nil, err
	}
	applied, err := q.Migrate(ctx)
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		logger.InfoContext(ctx, "database migrated", "applied", strings.Join(applied, ","))
	}
	var tc *cache.Cache
	if cfg.Cache {
		tc = cache.New(cache.Config{Conn: q.Conn(), ReadConn: q.ReadConn(), LeaseConn: q.LazyConn(), Owner: processID(), TTL: cfg.CacheTTL,
			LeaseTTL: cfg.JobTimeout, Metrics: m})
	}
	linter, err := lint.Default()
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("lint rules: %w", err)
	}
	for _, r := range linter.Rules() {
		m.LintFindings.WithLabelValues(r.ID, r.Severity.String()) // exported from start
	}
	limiters, closeLimits, err := newLimiters(ctx, cfg, q, m, logger, model, cfg.AnalyzeModel)
	if err != nil {
		q.Close()
		return nil, err
	}
	svc := generate.New(generate.Config{
		LLM: llmClient, Provider: cfg.Provider, Model: model, AnalyzeModel: cfg.AnalyzeModel,
		MaxTokens: cfg.MaxTokens, CallTimeout: cfg.JobTimeout, Metrics: m, Cache: tc, Linter: linter,
		Limiters: limiters, MaxCalls: calls,
	})
	runner = worker.New(svc, prices, m, logger)
	runner.ReserveCalls(q.Conn())
	if economyRun != nil {
		economy = svc.NewEconomy(generate.EconomyConfig{Batches: batchAPI, Conn: q.Conn(), ReadConn: q.ReadConn(),
			Poll: cfg.EconomyPoll, TTL: cfg.CacheTTL, Logger: logger,
			Price: func(m string, u llm.Usage) int64 {
				c, err := worker.CallCost(prices, time.Now(), m, model, u, true)
				if err != nil {
					logger.Error("no price for a message batch request; ledger records it at zero", "model", m, slog.Any("error", err))
				}
				return c
			}})
	}
	metrics.RegisterDBPools(reg, q.PoolStats)
	metrics.RegisterCluster(reg, func(ctx context.Context) (metrics.Cluster, bool, error) {
		c, leader, err := q.Cluster(ctx)
		if err != nil {
			logger.Warn("read the cluster's state for metrics", slog.Any("error", err))
		}
		return c, leader, err
	})
	return &engine{q: q, reg: reg, metrics: m, cache: tc, svc: svc, prices: prices, economy: economyRun != nil, gate: gate,
		alerts: alerts, closeLimits: closeLimits}, nil
}

// estimate is the most one call for req can cost, in nano-USD, for budget
// reservations.
func (e *engine) estimate(req *netcfg.JobRequest) int64 {
	model, in, out := e.svc.Estimate(req)
	c, err := e.prices.Estimate(model, time.Now(), in, out)
	if err != nil {
		return 0
	}
	return int64(c)
}

// processID names this process for cache leases: host, pid and a random
// suffix, so a restarted process never inherits a dead one's lease.
func processID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// server is a running serve: its address, and done, which yields serve's
// result once ctx ends and everything has stopped.
type server struct {
	addr string
	done chan error
}

func serve(ctx context.Context, cfg *Config, logger *slog.Logger) error {
	s, err := startServer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return <-s.done
}

// startServer opens the engine, starts the workers and the HTTP server, and
// returns once it listens. Cancelling ctx shuts it down gracefully.
func startServer(ctx context.Context, cfg *Config, logger *slog.Logger) (*server, error) {
	calls := cfg.Concurrency
	if cfg.Role == "api" {
		calls = 0
	}
	eng, err := openEngine(ctx, cfg, logger, calls)
	if err != nil {
		return nil, err
	}
	if cfg.exposed && cfg.Role != "worker" {
		keys, err := store.AnyKeys(ctx, eng.q.Conn())
		if err == nil && !keys {
			err = usagef("--listen %q is not a loopback address and netsmith has no API keys; create one with `netsmith keys create` or pass --insecure", cfg.Listen)
		}
		if err != nil {
			eng.close()
			return nil, err
		}
	}
	var riverUI http.Handler
	if cfg.Role != "worker" {
		if riverUI, err = eng.q.RiverUI(httpapi.RiverUIPrefix, logger); err != nil {
			eng.q.Close()
			return nil, err
		}
	}
	api := httpapi.NewServer(httpapi.Config{MaxBody: cfg.MaxBody, MaxQueue: cfg.MaxQueue, Provider: cfg.Provider, Economy: eng.economy,
		InternalKey: cfg.internalKey, StreamHeartbeat: cfg.StreamHeartbeat},
		httpapi.Deps{Queue: eng.q, Cache: eng.cache, Metrics: eng.metrics, Registry: eng.reg, Logger: logger,
			TemplateMeta: eng.svc.TemplateMeta, Estimate: eng.estimate, LatencyFunc: eng.latencyFunc(), RiverUI: riverUI})
	var handler http.Handler = api
	if cfg.Role == "worker" {
		handler = api.OpsHandler()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		eng.close()
		return nil, err
	}
	// Loopback clients are this host's own (load tests open thousands of
	// connections from it); the cap is for remote ones.
	ln = limitPerIP(ln, cfg.MaxConnsPerIP, isLoopback)
	// ReadTimeout bounds only the upload: net/http clears the read deadline
	// once a request's body has been read, so an event stream or a long
	// batch submission outlives it (TestSlowBodyCutOff holds both). No
	// WriteTimeout: event streams and batch results last as long as they
	// need.
	srv := &http.Server{Handler: handler, ReadTimeout: cfg.ReadTimeout, ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout: cfg.IdleTimeout}
	if err := eng.q.Start(ctx); err != nil {
		ln.Close()
		eng.close()
		return nil, err
	}
	logger.InfoContext(ctx, "netsmith serving", "addr", ln.Addr().String(), "role", cfg.Role,
		"db", dbKind(cfg.DB), "provider", cfg.Provider, "calls", calls, "workers", jobSlots(calls))

	g, gctx := errgroup.WithContext(ctx)
	// Requests see their context end when shutdown begins. An event stream
	// would otherwise hold Shutdown for its whole timeout, and the running
	// jobs would get none of it.
	srv.BaseContext = func(net.Listener) context.Context { return gctx }
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		herr := srv.Shutdown(sctx)
		qerr := eng.q.Stop(sctx)
		eng.alerts.close(sctx)
		return errors.Join(herr, qerr)
	})
	if eng.gate != nil {
		g.Go(func() error { eng.gate.Run(gctx); return nil })
	}
	if cfg.PprofAddr != "" {
		if err := startPprof(gctx, g, cfg.PprofAddr, logger); err != nil {
			return nil, err
		}
	}
	s := &server{addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() {
		err := g.Wait()
		eng.close()
		logger.Info("stopped")
		s.done <- err
	}()
	return s, nil
}

func dbKind(url string) string {
	if i := strings.Index(url, ":"); i > 0 {
		return url[:i]
	}
	return url
}

// queueOnly opens the database without workers, for migrate.
func queueOnly(ctx context.Context, db string) (*queue.Queue, error) {
	return queue.Open(ctx, db, queue.Config{})
}

// startPprof serves the profiler on a loopback address until ctx ends.
func startPprof(ctx context.Context, g *errgroup.Group, addr string, logger *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !isLoopback(host) {
		return usagef("--pprof %q: must be a loopback address", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.InfoContext(ctx, "pprof serving", "addr", ln.Addr().String())
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	return nil
}

// newLimiters makes one cluster-wide upstream limiter per model a real
// provider is called with. Without configured limits it still pauses the
// cluster on a 429 and adopts the limits the provider's headers report.
// closeState closes the limiters' own database, if they have one.
func newLimiters(ctx context.Context, cfg *Config, q *queue.Queue, m *metrics.Metrics, logger *slog.Logger, models ...string) (_ map[string]*limiter.Limiter, closeState func(), _ error) {
	closeState = func() {}
	if cfg.Provider == "sim" {
		return nil, closeState, nil
	}
	conn, dialect := q.Conn(), q.Dialect()
	if dialect == "sqlite" {
		// One process owns an SQLite file, so the limits need not be
		// shared: keep their state in memory, off the file's single
		// writer, which every job already waits on.
		mem, err := queue.Open(ctx, "sqlite://netsmith-limiter-"+processID()+"?mode=memory&cache=shared", queue.Config{})
		if err != nil {
			return nil, closeState, fmt.Errorf("upstream limiter state: %w", err)
		}
		if _, err := mem.Migrate(ctx); err != nil {
			mem.Close()
			return nil, closeState, fmt.Errorf("upstream limiter state: %w", err)
		}
		conn = mem.Conn()
		closeState = func() { mem.Close() }
	}
	out := map[string]*limiter.Limiter{}
	for _, model := range models {
		if model == "" || out[model] != nil {
			continue
		}
		l, err := limiter.New(ctx, conn, dialect, limiter.Config{
			Provider: cfg.Provider, Model: model,
			Limits:    limiter.Limits{RPM: cfg.UpstreamRPM, InputTPM: cfg.UpstreamITPM, OutputTPM: cfg.UpstreamOTPM},
			Throttled: m.UpstreamThrottled, Logger: logger,
		})
		if err != nil {
			closeState()
			return nil, func() {}, fmt.Errorf("upstream limiter for %s: %w", model, err)
		}
		out[model] = l
	}
	return out, closeState, nil
}
