// Package app builds netsmith's object graph for one process: the
// database, the queue and its workers, the template cache, the generate
// use case, the ledger and the submission use case, in the order they
// depend on each other. cmd/netsmith turns flags into a Config, starts the
// HTTP server over the result and closes it; tests build the same graph.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/adapt"
	"netsmith/internal/cache"
	"netsmith/internal/generate"
	"netsmith/internal/ledger"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/llm/limiter"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/submit"
	"netsmith/internal/worker"
)

// Config is what the graph is built from: serve's engine flags.
type Config struct {
	DB string
	// Calls is how many model calls this process has in flight at once
	// (0: no workers, the api role); it runs JobSlots(Calls) jobs.
	Calls int
	// GateTarget, when set with Calls > 0, lets fewer jobs work at once
	// while over 1% of the API's interactive requests take longer (the
	// admission gate, package adapt).
	GateTarget time.Duration
	// Role is the process's role (all, api, worker) its heartbeat row
	// records (queue.Config.Role).
	Role string

	Provider     string // reported, and "sim" needs no upstream limiter
	Model        string
	AnalyzeModel string
	MaxTokens    int
	// MaxInputTokens bounds one call's prompt (generate.Config).
	MaxInputTokens int64

	MaxAttempts  int
	JobTimeout   time.Duration
	RescueAfter  time.Duration
	PollInterval time.Duration
	MaxQueue     int64
	// StatusCache bounds the final jobs the queue keeps for status
	// reads, in bytes (queue.Config.StatusCache).
	StatusCache int64

	Cache       bool
	CacheTTL    time.Duration
	EconomyPoll time.Duration

	// Upstream limits per minute, shared by all replicas (0: learn them).
	UpstreamRPM, UpstreamITPM, UpstreamOTPM int64
}

// App is one process's graph.
type App struct {
	DB       *store.DB
	Queue    *queue.Queue
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics
	Cache    *cache.Cache // nil with the cache off
	Service  *generate.Service
	Prices   *pricing.Table
	Ledger   *ledger.Ledger
	Alerts   *ledger.Alerts // the ledger's budget warnings and their webhooks
	Submit   *submit.Service
	Gate     *adapt.Gate // nil unless Config.GateTarget applies
	// Economy says the provider can make templates through Message
	// Batches, with the cache on.
	Economy bool

	closers []func() // last opened first
}

// JobSlots is how many jobs a process with calls call slots runs at once:
// a sixteenth more (at least one), so that the database work before and
// after each call (the job's read, the template lease and fill, the
// completion, River's next fetch) happens while other jobs' calls keep every
// slot busy. With one job per slot, each slot sits idle for that work, most
// in the bursts where every slot's job ends together, and the upstream gets
// less than slots / latency (bench s2-latency.sh measures the share).
func JobSlots(calls int) int {
	if calls <= 0 {
		return 0
	}
	return calls + (calls+15)/16
}

// Open builds the graph on client, which answers as model, with prices
// (checked to cover every model called). It migrates the database. The
// queue is not started: the caller starts and stops it, then calls Close.
func Open(ctx context.Context, cfg Config, client llm.Client, model string, prices *pricing.Table, logger *slog.Logger) (_ *App, err error) {
	workers := JobSlots(cfg.Calls)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.InitProvider(cfg.Provider, model, cfg.AnalyzeModel)
	m.WorkersLimit.Set(float64(workers))
	a := &App{Registry: reg, Metrics: m, Prices: prices}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if cfg.GateTarget > 0 && workers > 0 {
		a.Gate = adapt.New(adapt.Config{Max: workers, Target: cfg.GateTarget, LimitFunc: func(n int) {
			m.WorkersLimit.Set(float64(n))
			logger.Debug("workers limit", "limit", n)
		}})
	}
	if a.DB, err = store.Open(ctx, cfg.DB, store.Options{}); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.DB.Close)
	applied, err := a.DB.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		logger.InfoContext(ctx, "database migrated", "applied", strings.Join(applied, ","))
	}
	db := a.DB
	a.Alerts = ledger.NewAlerts(logger, m)
	a.closers = append(a.closers, func() { a.Alerts.Close(context.Background()) })
	a.Ledger = ledger.New(db, a.Alerts)

	if cfg.Cache {
		a.Cache = cache.New(cache.Config{Conn: db.Conn(), ReadConn: db.ReadConn(), LeaseConn: db.LazyConn(), Owner: ProcessID(),
			TTL: cfg.CacheTTL, Metrics: m})
	}
	linter, err := lint.Default()
	if err != nil {
		return nil, fmt.Errorf("lint rules: %w", err)
	}
	for _, r := range linter.Rules() {
		m.LintFindings.WithLabelValues(r.ID, r.Severity.String()) // exported from start
	}
	limiters, err := a.limiters(ctx, cfg, logger, model, cfg.AnalyzeModel)
	if err != nil {
		return nil, err
	}
	// The limiters wrap the provider's client: generate calls one client.
	var upstream llm.Client = client
	if len(limiters) > 0 {
		upstream = limiter.Wrap(client, limiters...)
	}
	a.Service = generate.New(generate.Config{
		LLM: upstream, Provider: cfg.Provider, Model: model, AnalyzeModel: cfg.AnalyzeModel,
		MaxTokens: cfg.MaxTokens, CallTimeout: cfg.JobTimeout, Metrics: m, Cache: a.Cache, Linter: linter,
		MaxCalls: cfg.Calls, MaxInputTokens: cfg.MaxInputTokens,
	})
	runner := worker.New(a.Service, prices, m, logger)
	runner.ReserveCalls(db)
	a.closers = append(a.closers, runner.Close) // after the queue's (closers run last first)

	// Every process knows economy jobs (River inserts only kinds it
	// knows); only one whose provider has the Message Batches API, with
	// the cache on, runs their steps.
	ew := &worker.EconomyWorker{Conn: db.Conn(), StepTimeout: cfg.JobTimeout, Logger: logger}
	if batchAPI, ok := client.(generate.BatchAPI); ok && cfg.Cache {
		economy := a.Service.NewEconomyRunner(generate.EconomyRunnerConfig{Batches: batchAPI, Conn: db.Conn(), ReadConn: db.ReadConn(),
			Poll: cfg.EconomyPoll, TTL: cfg.CacheTTL, Logger: logger,
			Price: func(m string, u llm.Usage) int64 {
				c, err := ledger.CallCost(prices, time.Now(), m, model, u, true)
				if err != nil {
					logger.Error("no price for a message batch request; ledger records it at zero", "model", m, slog.Any("error", err))
				}
				return c
			}})
		ew.Step, a.Economy = economy.Step, true
	}
	opts := []queue.Option{queue.WithWorker(ew.QueueWorker())}
	if cfg.Cache {
		opts = append(opts, queue.WithSweep(runner.Sweep))
	}
	if gate := a.Gate; gate != nil {
		opts = append(opts, queue.WithAdmission(func(ctx context.Context) (context.Context, func(), error) { return adapt.Enter(ctx, gate) }))
	}
	a.Queue, err = queue.New(db, queue.Config{
		Workers:      workers,
		Work:         runner.Run,
		MaxAttempts:  cfg.MaxAttempts,
		JobTimeout:   cfg.JobTimeout,
		RescueAfter:  cfg.RescueAfter,
		PollInterval: cfg.PollInterval,
		StatusCache:  cfg.StatusCache,
		Logger:       logger,
		Metrics:      m,
		Role:         cfg.Role,
	}, opts...)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Queue.Close)
	a.Submit = submit.New(submit.Config{MaxQueue: cfg.MaxQueue}, submit.Deps{Queue: a.Queue, Ledger: a.Ledger,
		Cache: a.Cache != nil, TemplateMeta: a.Service.TemplateMeta, Estimate: a.Estimate, Logger: logger})

	metrics.RegisterDBPools(reg, db.PoolStats)
	q := a.Queue
	metrics.RegisterCluster(reg, func(ctx context.Context) (metrics.Cluster, bool, error) {
		c, leader, err := q.Cluster(ctx)
		if err != nil {
			logger.Warn("read the cluster's state for metrics", slog.Any("error", err))
		}
		return c, leader, err
	})
	return a, nil
}

// Close releases what Open opened, last first: the queue (stopped
// before, or never started), the budget webhooks in flight, the databases.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Estimate is the most one call for req can cost, in nano-USD, for budget
// reservations; an error (a *netcfg.FieldError) refuses the request.
func (a *App) Estimate(req *netcfg.JobRequest) (int64, error) {
	model, in, out, err := a.Service.Estimate(req)
	if err != nil {
		return 0, err
	}
	c, err := a.Prices.Estimate(model, time.Now(), in, out)
	if err != nil {
		return 0, nil
	}
	return int64(c), nil
}

// LatencyFunc is what the API tells of its requests' latency: the gate's
// Observe, or nil (nothing to tell) without a gate.
func (a *App) LatencyFunc() func(time.Duration) {
	if a.Gate == nil {
		return nil
	}
	return a.Gate.Observe
}

// limiters makes one cluster-wide upstream limiter per model a real
// provider is called with. Without configured limits it still pauses the
// cluster on a 429 and adopts the limits the provider's headers report.
// On SQLite their state is in a database of their own, in memory, that
// Close closes with the rest.
func (a *App) limiters(ctx context.Context, cfg Config, logger *slog.Logger, models ...string) ([]*limiter.Limiter, error) {
	if cfg.Provider == "sim" {
		return nil, nil
	}
	conn, dialect := a.DB.Conn(), a.DB.Dialect()
	if dialect == "sqlite" {
		// One process owns an SQLite file, so the limits need not be
		// shared: keep their state in memory, off the file's single
		// writer, which every job already waits on.
		mem, err := store.Open(ctx, "sqlite://netsmith-limiter-"+ProcessID()+"?mode=memory&cache=shared", store.Options{})
		if err != nil {
			return nil, fmt.Errorf("upstream limiter state: %w", err)
		}
		a.closers = append(a.closers, mem.Close)
		if _, err := mem.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("upstream limiter state: %w", err)
		}
		conn = mem.Conn()
	}
	var out []*limiter.Limiter
	for _, model := range slices.Compact(models) {
		if model == "" {
			continue
		}
		l, err := limiter.New(ctx, conn, dialect, limiter.Config{
			Provider: cfg.Provider, Model: model,
			Limits:    limiter.Limits{RPM: cfg.UpstreamRPM, InputTPM: cfg.UpstreamITPM, OutputTPM: cfg.UpstreamOTPM},
			Throttled: a.Metrics.UpstreamThrottled, Logger: logger,
		})
		if err != nil {
			return nil, fmt.Errorf("upstream limiter for %s: %w", model, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// ProcessID names this process for cache leases: host, pid and a random
// suffix, so a restarted process never inherits a dead one's lease.
func ProcessID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}
