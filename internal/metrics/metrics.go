// Package metrics defines netsmith's Prometheus metrics (docs/design.md §6). One
// registry is built in run and passed to New; nothing registers globally.
// Labels are bounded: never a hostname or a job id.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector netsmith updates.
type Metrics struct {
	JobsTotal         *prometheus.CounterVec   // kind, status, reason (Reasons)
	JobDuration       *prometheus.HistogramVec // kind; submit to completion
	JobPhase          *prometheus.HistogramVec // phase; where an attempt's time went
	WorkersBusy       prometheus.Gauge
	WorkersLimit      prometheus.Gauge
	LLMRequests       *prometheus.CounterVec // provider, model, outcome
	LLMTokens         *prometheus.CounterVec // provider, model, type
	CostUSD           *prometheus.CounterVec // department
	CacheRequests     *prometheus.CounterVec // result
	UpstreamThrottled *prometheus.CounterVec // provider, reason
	HTTPRequests      *prometheus.CounterVec // route, code
	HTTPDuration      *prometheus.HistogramVec
	LintFindings      *prometheus.CounterVec // rule, severity
	BudgetAlerts      *prometheus.CounterVec // department, period
	// EventStreams counts event streams opened and EventStreamsOpen holds
	// those open now: a stream lasts as long as its job, so it is kept
	// out of HTTPDuration, whose quantiles it would swamp.
	EventStreams     prometheus.Counter
	EventStreamsOpen prometheus.Gauge
	// StatusReads counts job status reads (GET /v1/jobs/{id}, GET
	// /api/job-status/{id}) by result: hit_final, hit_open (served from
	// memory) or miss (read from the database). StatusFeed is 1 for the
	// source the status change feed uses now (notify, poll) and 0 for the
	// other; StatusFeedLag is how long announced changes took to arrive.
	StatusReads   *prometheus.CounterVec // result
	StatusFeed    *prometheus.GaugeVec   // source
	StatusFeedLag prometheus.Histogram
	BuildInfo     *prometheus.GaugeVec // version, revision; 1
}

// New creates the collectors and registers them, with the Go and process
// collectors, on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		JobsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_jobs_total", Help: "Jobs that reached a final state, by kind, status and reason " +
				"(none for succeeded; for the others one of upstream_4xx, upstream_5xx, timeout, expired, canceled, lint, internal).",
		}, []string{"kind", "status", "reason"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "netsmith_job_duration_seconds",
			Help:    "Time from submission to success, by kind.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}, []string{"kind"}),
		JobPhase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "netsmith_job_phase_seconds",
			Help: "Where a job attempt's time went, by phase: queued (available, not yet started), read (its row), " +
				"gate (held back while the API is slow), template (cache lookup, lease and fill writes, waiting on another " +
				"job's fill), wait (for a call slot and the upstream limiter), call (model calls), check (template proofs), " +
				"render, lint, complete (committing the result). Work phases count succeeded attempts only.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"phase"}),
		WorkersBusy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netsmith_workers_busy", Help: "Workers running a job in this process.",
		}),
		WorkersLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netsmith_workers_limit", Help: "Jobs this process lets work at once now: --concurrency (its model calls in flight) and a sixteenth more, less while the API is slow (--api-latency-target).",
		}),
		LLMRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_llm_requests_total", Help: "Upstream model calls by outcome.",
		}, []string{"provider", "model", "outcome"}),
		LLMTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_llm_tokens_total", Help: "Tokens used upstream, by type (input, output, cache_read, cache_write).",
		}, []string{"provider", "model", "type"}),
		BudgetAlerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_budget_alerts_total", Help: "Departments crossing their budget's warning share, by period (day, month); departments are the few an admin gave budgets.",
		}, []string{"department", "period"}),
		CostUSD: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_cost_usd_total", Help: "Money spent upstream, by department.",
		}, []string{"department"}),
		CacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_cache_requests_total", Help: "Template cache lookups by result (hit, miss, coalesced, fallback).",
		}, []string{"result"}),
		UpstreamThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_upstream_throttled_total", Help: "Calls held back or refused by upstream limits.",
		}, []string{"provider", "reason"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "netsmith_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		EventStreams: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netsmith_event_streams_total", Help: "Job event streams (server-sent events) opened.",
		}),
		EventStreamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netsmith_event_streams_open", Help: "Job event streams open now.",
		}),
		StatusReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_status_reads_total", Help: "Job status reads by result: hit_final and hit_open served from memory, miss read from the database.",
		}, []string{"result"}),
		StatusFeed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "netsmith_status_feed", Help: "1 for the source the job status change feed uses now (notify: PostgreSQL LISTEN/NOTIFY; poll: a read of the remembered jobs every interval), else 0.",
		}, []string{"source"}),
		StatusFeedLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "netsmith_status_feed_lag_seconds",
			Help:    "Time from a job's change (its updated_at) to its announcement reaching this process's status feed (notify only).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "netsmith_build_info", Help: "1, labelled with the version and VCS revision this binary was built from.",
		}, []string{"version", "revision"}),
		LintFindings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsmith_lint_findings_total", Help: "Lint findings in generated configs, by rule and severity.",
		}, []string{"rule", "severity"}),
	}
	reg.MustRegister(m.JobsTotal, m.JobDuration, m.JobPhase, m.WorkersBusy, m.WorkersLimit, m.LLMRequests, m.LLMTokens, m.CostUSD, m.BudgetAlerts,
		m.CacheRequests, m.UpstreamThrottled, m.HTTPRequests, m.HTTPDuration, m.LintFindings,
		m.EventStreams, m.EventStreamsOpen, m.StatusReads, m.StatusFeed, m.StatusFeedLag, m.BuildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	version, revision := buildVersion()
	m.BuildInfo.WithLabelValues(version, revision).Set(1)
	m.zero()
	return m
}

// DBPool is one database connection pool's state (queue.Queue.PoolStats
// names them), as RegisterDBPools reports it.
type DBPool struct {
	Name  string
	Max   int // connections the pool may open
	InUse int // connections handed out now
	Idle  int // open connections not handed out
	// Waits counts the acquisitions that found no idle connection, and
	// WaitTime the time they waited, since the pool opened: a pool that
	// is too small shows here before anywhere else.
	Waits    int64
	WaitTime time.Duration
	// Transactions ended since the pool opened, by outcome: explicit
	// ones are BEGIN … COMMIT blocks, implicit ones statements run
	// outside a block, which the database commits on their own.
	ExplicitCommits, ExplicitRollbacks int64
	ImplicitCommits, ImplicitRollbacks int64
	// RoundTrips counts the statements sent and answered since the pool
	// opened, BEGIN and COMMIT included (on PostgreSQL a batch, a COPY or
	// a statement's preparation is one).
	RoundTrips int64
}

// RegisterDBPools adds the connection pools' metrics, read by f at scrape:
// netsmith_db_connections{pool,state} (in_use, idle),
// netsmith_db_connections_max{pool}, and the counters
// netsmith_db_pool_waits_total{pool},
// netsmith_db_pool_wait_seconds_total{pool},
// netsmith_db_transactions_total{pool,kind,outcome} (explicit or implicit;
// commit or rollback) and netsmith_db_round_trips_total{pool}.
func RegisterDBPools(reg prometheus.Registerer, f func() []DBPool) {
	reg.MustRegister(&poolCollector{f: f,
		conns: prometheus.NewDesc("netsmith_db_connections",
			"Database connections open now, by pool and state (in_use, idle).", []string{"pool", "state"}, nil),
		max: prometheus.NewDesc("netsmith_db_connections_max",
			"Database connections a pool may open.", []string{"pool"}, nil),
		waits: prometheus.NewDesc("netsmith_db_pool_waits_total",
			"Connection acquisitions that found none idle and waited, by pool.", []string{"pool"}, nil),
		wait: prometheus.NewDesc("netsmith_db_pool_wait_seconds_total",
			"Time acquisitions waited for a connection, by pool.", []string{"pool"}, nil),
		txs: prometheus.NewDesc("netsmith_db_transactions_total",
			"Database transactions ended, by pool, kind (explicit: a BEGIN … COMMIT block; implicit: a statement outside one) and outcome (commit, rollback).",
			[]string{"pool", "kind", "outcome"}, nil),
		trips: prometheus.NewDesc("netsmith_db_round_trips_total",
			"Statements sent to the database and answered, BEGIN and COMMIT included, by pool.", []string{"pool"}, nil),
	})
}

type poolCollector struct {
	f                                   func() []DBPool
	conns, max, waits, wait, txs, trips *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.max
	ch <- c.waits
	ch <- c.wait
	ch <- c.txs
	ch <- c.trips
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.f() {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(p.InUse), p.Name, "in_use")
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(p.Idle), p.Name, "idle")
		ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(p.Max), p.Name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(p.Waits), p.Name)
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, p.WaitTime.Seconds(), p.Name)
		ch <- prometheus.MustNewConstMetric(c.txs, prometheus.CounterValue, float64(p.ExplicitCommits), p.Name, "explicit", "commit")
		ch <- prometheus.MustNewConstMetric(c.txs, prometheus.CounterValue, float64(p.ExplicitRollbacks), p.Name, "explicit", "rollback")
		ch <- prometheus.MustNewConstMetric(c.txs, prometheus.CounterValue, float64(p.ImplicitCommits), p.Name, "implicit", "commit")
		ch <- prometheus.MustNewConstMetric(c.txs, prometheus.CounterValue, float64(p.ImplicitRollbacks), p.Name, "implicit", "rollback")
		ch <- prometheus.MustNewConstMetric(c.trips, prometheus.CounterValue, float64(p.RoundTrips), p.Name)
	}
}
