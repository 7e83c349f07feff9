package main

import (
	"cmp"
	"context"
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

	"golang.org/x/sync/errgroup"

	"netsmith/internal/app"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/jobstatus"
	"netsmith/internal/pricing"
	"netsmith/internal/queue"
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
	MaxInputTokens  int64
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
	// StatusCache bounds the final jobs kept in memory for status reads,
	// in bytes (0: none).
	StatusCache  int64
	Insecure     bool
	LogLevel     string
	LogFormat    string
	Cache        bool
	CacheTTL     time.Duration
	EconomyPoll  time.Duration
	PprofAddr    string
	UpstreamRPM  int64
	UpstreamITPM int64
	UpstreamOTPM int64
	Prices       string

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
	fs.Int64Var(&c.MaxInputTokens, "max-input-tokens", generate.DefaultMaxInputTokens, "largest prompt of one model call, in estimated tokens: a request over it is refused at submit (400), a call over it is never made")
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
	fs.Int64Var(&c.StatusCache, "status-cache", jobstatus.DefaultMaxBytes, "bytes of finished jobs kept in memory for status reads (GET /v1/jobs/{id}, /api/job-status/{id}), so that polling a finished job costs no query; a job over 1/16 of it is read each time (0: keep none)")
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
	if c.MaxInputTokens == 0 {
		c.MaxInputTokens = generate.DefaultMaxInputTokens
	}
	if c.MaxInputTokens < 1000 || c.MaxInputTokens > 10_000_000 {
		return usagef("--max-input-tokens %d: must be 1000–10000000", c.MaxInputTokens)
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
	if c.StatusCache < 0 {
		return usagef("--status-cache %d: must be ≥ 0", c.StatusCache)
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

// openEngine builds the process's graph (package app) from cfg. calls is
// --concurrency, the model calls in flight at once (0: no workers).
func openEngine(ctx context.Context, cfg *Config, logger *slog.Logger, calls int) (*app.App, error) {
	client, model, err := newProvider(cfg, logger)
	if err != nil {
		return nil, err
	}
	prices, err := loadPrices(cfg, model, cmp.Or(cfg.AnalyzeModel, model))
	if err != nil {
		return nil, err
	}
	var gateTarget time.Duration
	if cfg.Role == "all" {
		gateTarget = cfg.APILatencyTarget
	}
	return app.Open(ctx, app.Config{
		DB: cfg.DB, Calls: calls, GateTarget: gateTarget, Role: cfg.Role,
		Provider: cfg.Provider, Model: cfg.Model, AnalyzeModel: cfg.AnalyzeModel, MaxTokens: cfg.MaxTokens,
		MaxInputTokens: cfg.MaxInputTokens, MaxAttempts: cfg.MaxAttempts, JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter,
		PollInterval: cfg.PollInterval, MaxQueue: cfg.MaxQueue, StatusCache: cmp.Or(cfg.StatusCache, -1),
		Cache: cfg.Cache, CacheTTL: cfg.CacheTTL, EconomyPoll: cfg.EconomyPoll,
		UpstreamRPM: cfg.UpstreamRPM, UpstreamITPM: cfg.UpstreamITPM, UpstreamOTPM: cfg.UpstreamOTPM,
	}, client, model, prices, logger)
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
		keys, err := eng.DB.AnyKeys(ctx)
		if err == nil && !keys {
			err = usagef("--listen %q is not a loopback address and netsmith has no API keys; create one with `netsmith keys create` or pass --insecure", cfg.Listen)
		}
		if err != nil {
			eng.Close()
			return nil, err
		}
	}
	var riverUI http.Handler
	if cfg.Role != "worker" {
		if riverUI, err = eng.Queue.RiverUI(httpapi.RiverUIPrefix, logger); err != nil {
			eng.Close()
			return nil, err
		}
	}
	api := httpapi.NewServer(httpapi.Config{MaxBody: cfg.MaxBody, MaxQueue: cfg.MaxQueue, Provider: cfg.Provider, Economy: eng.Economy,
		InternalKey: cfg.internalKey, StreamHeartbeat: cfg.StreamHeartbeat},
		httpapi.Deps{DB: eng.DB, Queue: eng.Queue, Submit: eng.Submit, Money: eng.Ledger, Cache: eng.Cache, Metrics: eng.Metrics,
			Registry: eng.Registry, Logger: logger, TemplateMeta: eng.Service.TemplateMeta, LatencyFunc: eng.LatencyFunc(),
			RiverUI: riverUI})
	var handler http.Handler = api
	if cfg.Role == "worker" {
		handler = api.OpsHandler()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		eng.Close()
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
	if err := eng.Queue.Start(ctx); err != nil {
		ln.Close()
		eng.Close()
		return nil, err
	}
	logger.InfoContext(ctx, "netsmith serving", "addr", ln.Addr().String(), "role", cfg.Role,
		"db", dbKind(cfg.DB), "provider", cfg.Provider, "calls", calls, "workers", app.JobSlots(calls))

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
		qerr := eng.Queue.Stop(sctx)
		eng.Alerts.Close(sctx)
		return errors.Join(herr, qerr)
	})
	if eng.Gate != nil {
		g.Go(func() error { eng.Gate.Run(gctx); return nil })
	}
	if cfg.PprofAddr != "" {
		if err := startPprof(gctx, g, cfg.PprofAddr, logger); err != nil {
			return nil, err
		}
	}
	s := &server{addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() {
		err := g.Wait()
		eng.Close()
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
