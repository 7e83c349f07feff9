package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// LoadResult is the JSON line `netsmith loadtest` prints at the end.
type LoadResult struct {
	API           string  `json:"api"`
	Jobs          int     `json:"jobs"`
	OK            int     `json:"ok"`
	Failed        int     `json:"failed"`
	SubmitErrors  int     `json:"submit_errors"`
	WallSeconds   float64 `json:"wall_seconds"`
	JobsPerSecond float64 `json:"jobs_per_second"`
	SubmitP50Ms   float64 `json:"submit_p50_ms"`
	SubmitP99Ms   float64 `json:"submit_p99_ms"`
	E2EP50Ms      float64 `json:"e2e_p50_ms"`
	E2EP95Ms      float64 `json:"e2e_p95_ms"`
	E2EP99Ms      float64 `json:"e2e_p99_ms"`
	// With --rate: the rate submissions actually left at, and how late
	// they left behind their schedule (every slot busy, or the load
	// generator itself short of CPU).
	OfferedPerSecond float64 `json:"offered_per_second,omitempty"`
	LagP99Ms         float64 `json:"lag_p99_ms,omitempty"`
	LagMaxMs         float64 `json:"lag_max_ms,omitempty"`
	UpstreamCalls    *int64  `json:"upstream_calls,omitempty"`
	Upstream429s     *int64  `json:"upstream_429s,omitempty"`
	// Status requests made while waiting by polling, in all and per job.
	Polls       int64   `json:"polls"`
	PollsPerJob float64 `json:"polls_per_job"`
	// From the servers' /metrics (--server-metrics), scraped before and
	// after: the database transactions (explicit blocks and statements
	// on their own) and round trips per job, in all and by pool. Absent
	// when a server exports no such counters.
	DBTransactionsPerJob         *float64              `json:"db_transactions_per_job,omitempty"`
	DBExplicitTransactionsPerJob *float64              `json:"db_explicit_transactions_per_job,omitempty"`
	DBRoundTripsPerJob           *float64              `json:"db_round_trips_per_job,omitempty"`
	DBPools                      map[string]DBPoolLoad `json:"db_pools,omitempty"`
}

// DBPoolLoad is one database pool's share of a load test, per job.
type DBPoolLoad struct {
	TransactionsPerJob         float64 `json:"transactions_per_job"`
	ExplicitTransactionsPerJob float64 `json:"explicit_transactions_per_job"`
	RoundTripsPerJob           float64 `json:"round_trips_per_job"`
}

func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		server, apiKey, api, wait, upstreamStats, serverMetrics string
		n, conc, distinct, first                                int
		rate                                                    float64
		timeout, pollInterval                                   time.Duration
		poll                                                    bool
	)
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.IntVar(&n, "n", 1000, "jobs to submit")
	fs.IntVar(&conc, "c", 50, "submissions (and waits) in flight at once")
	fs.Float64Var(&rate, "rate", 0, "offered submissions per second (0: as fast as -c allows)")
	fs.IntVar(&distinct, "distinct", 0, "distinct intents among the jobs (0: every job its own)")
	fs.IntVar(&first, "first", 0, "number of the first job: its device and (with --distinct 0) its intent; a run from --first N shares no intent with an earlier run of N jobs, so a warm-up run leaves nothing in the template cache for it")
	fs.StringVar(&api, "api", "v1", "API to drive: v1 or legacy")
	fs.StringVar(&wait, "wait", "sse", "how to wait for completion: sse, poll (legacy always polls), or none (submit only: measures submission alone, and a slot is free again as soon as its submission is answered)")
	fs.BoolVar(&poll, "poll", false, "wait by polling the job's status (--wait poll), as the legacy scripts do: --api legacy --poll is the legacy client, polling GET /api/job-status/{id}")
	fs.DurationVar(&pollInterval, "poll-interval", 100*time.Millisecond, "time between a job's status polls: a job not done at its first poll holds its client at least this long, so -c clients finish at most about c/interval jobs per second")
	fs.StringVar(&upstreamStats, "upstream-stats", "", "fake-anthropic base `URL` whose /stats counts upstream calls")
	fs.StringVar(&serverMetrics, "server-metrics", "", "comma-separated netsmith base `URLs` whose /metrics, scraped before and after, give the database transactions and round trips per job: every process that touches the database (default: --server; none: skip)")
	fs.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case n < 1 || conc < 1 || rate < 0 || distinct < 0 || first < 0:
		return usagef("-n and -c must be positive, --rate, --distinct and --first not negative")
	case api != "v1" && api != "legacy":
		return usagef("--api %q: must be v1 or legacy", api)
	case wait != "sse" && wait != "poll" && wait != "none":
		return usagef("--wait %q: must be sse, poll or none", wait)
	case pollInterval <= 0:
		return usagef("--poll-interval must be positive")
	}
	if poll {
		if flagSet(fs, "wait") && wait != "poll" {
			return usagef("--poll and --wait %s: choose one", wait)
		}
		wait = "poll"
	}
	if serverMetrics == "" {
		serverMetrics = server
	}
	var metricsURLs []string
	if serverMetrics != "none" {
		metricsURLs = strings.Split(serverMetrics, ",")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: 0}}
	c := httpapi.NewClient(server, hc, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	before, _ := fakeStats(ctx, hc, upstreamStats)
	dbBefore, dbErr := scrapeDBCounters(ctx, hc, metricsURLs)

	var (
		mu      sync.Mutex
		submits []time.Duration
		e2e     []time.Duration
		lags    []time.Duration // how late each submission left, behind its due time (--rate)
		last    time.Time       // when the latest submission left (--rate)
		ok, bad int
		subErr  atomic.Int64
		polls   atomic.Int64
	)
	start := time.Now()
	next := make(chan slot)
	go pace(ctx, start, n, rate, next)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for sl := range next {
				t0 := time.Now()
				if rate > 0 {
					mu.Lock()
					lags = append(lags, t0.Sub(sl.due))
					if t0.After(last) {
						last = t0
					}
					mu.Unlock()
				}
				id, err := loadSubmit(ctx, c, api, first+sl.i, distinct)
				t1 := time.Now()
				if err != nil {
					subErr.Add(1)
					continue
				}
				if wait == "none" {
					mu.Lock()
					submits = append(submits, t1.Sub(t0))
					ok++
					mu.Unlock()
					continue
				}
				succeeded, err := loadWait(ctx, c, api, wait, id, pollInterval, &polls)
				t2 := time.Now()
				mu.Lock()
				submits = append(submits, t1.Sub(t0))
				if err == nil {
					e2e = append(e2e, t2.Sub(t0))
				}
				if err == nil && succeeded {
					ok++
				} else {
					bad++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	res := LoadResult{API: api, Jobs: n, OK: ok, Failed: bad, SubmitErrors: int(subErr.Load()),
		WallSeconds: wall.Seconds(), JobsPerSecond: float64(ok) / wall.Seconds(),
		SubmitP50Ms: pct(submits, 50), SubmitP99Ms: pct(submits, 99),
		E2EP50Ms: pct(e2e, 50), E2EP95Ms: pct(e2e, 95), E2EP99Ms: pct(e2e, 99)}
	if rate > 0 && len(lags) > 1 {
		// From the schedule's origin: the last of k submissions is due at
		// (k-1)/rate, so this is at most the rate asked for.
		res.OfferedPerSecond = float64(len(lags)-1) / last.Sub(start).Seconds()
		res.LagP99Ms, res.LagMaxMs = pct(lags, 99), float64(slices.Max(lags))/float64(time.Millisecond)
	}
	res.Polls = polls.Load()
	res.PollsPerJob = float64(res.Polls) / float64(n)
	if dbErr == nil && len(dbBefore) > 0 {
		if after, err := scrapeDBCounters(ctx, hc, metricsURLs); err == nil {
			res.addDB(dbBefore, after)
		}
	}
	if after, err := fakeStats(ctx, hc, upstreamStats); err == nil && after != nil {
		calls := after.Requests - before.Requests
		r429 := after.RateLimited - before.RateLimited
		res.UpstreamCalls, res.Upstream429s = &calls, &r429
	}
	fmt.Fprintf(stdout, "jobs %d  ok %d  failed %d  submit errors %d  wall %.2fs  %.1f jobs/s\n",
		res.Jobs, res.OK, res.Failed, res.SubmitErrors, res.WallSeconds, res.JobsPerSecond)
	fmt.Fprintf(stdout, "submit  p50 %.1f ms  p99 %.1f ms\n", res.SubmitP50Ms, res.SubmitP99Ms)
	fmt.Fprintf(stdout, "e2e     p50 %.0f ms  p95 %.0f ms  p99 %.0f ms\n", res.E2EP50Ms, res.E2EP95Ms, res.E2EP99Ms)
	if res.OfferedPerSecond > 0 {
		fmt.Fprintf(stdout, "offered %.1f/s (asked %.1f/s)  lag behind schedule p99 %.1f ms  max %.1f ms\n",
			res.OfferedPerSecond, rate, res.LagP99Ms, res.LagMaxMs)
	}
	if res.UpstreamCalls != nil {
		fmt.Fprintf(stdout, "upstream calls %d, 429s %d\n", *res.UpstreamCalls, *res.Upstream429s)
	}
	if res.Polls > 0 {
		fmt.Fprintf(stdout, "polls   %d (%.1f per job, every %v)\n", res.Polls, res.PollsPerJob, pollInterval)
	}
	if res.DBTransactionsPerJob != nil {
		fmt.Fprintf(stdout, "db      %.2f transactions per job (%.2f explicit)  %.2f round trips per job\n",
			*res.DBTransactionsPerJob, *res.DBExplicitTransactionsPerJob, *res.DBRoundTripsPerJob)
	} else if len(metricsURLs) > 0 {
		fmt.Fprintf(stdout, "db      no transaction counters at %s\n", strings.Join(metricsURLs, ","))
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	if res.OK != n {
		return fmt.Errorf("%d of %d jobs did not succeed", n-res.OK, n)
	}
	return nil
}

// slot is job i of a load test and when it is due to be submitted.
type slot struct {
	i   int
	due time.Time
}

// pace hands out the jobs' indexes on next, then closes it: as fast as they
// are taken when rate is 0, else job i at start + i/rate. A submission that
// could not leave on time (every slot busy, or this process short of CPU)
// leaves as soon as it can, and the ones due meanwhile follow at once: the
// rate offered is the one asked for, not one that drops what fell behind,
// as a ticker would.
func pace(ctx context.Context, start time.Time, n int, rate float64, next chan<- slot) {
	defer close(next)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := range n {
		due := time.Now()
		if rate > 0 {
			due = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case next <- slot{i, due}:
		case <-ctx.Done():
			return
		}
	}
}

// loadJob is job i of a load test: a distinct device, and an intent shared
// by every `distinct`-th job (or its own).
func loadJob(i, distinct int) (host, requirements string) {
	k := i
	if distinct > 0 {
		k = i % distinct
	}
	return fmt.Sprintf("load-%06d", i), fmt.Sprintf("access switch, profile %d, VLANs 10 20 99, SSH only", k)
}

func loadSubmit(ctx context.Context, c *httpapi.Client, api string, i, distinct int) (string, error) {
	host, reqs := loadJob(i, distinct)
	if api == "legacy" {
		r, err := c.LegacyGenerate(ctx, host, reqs)
		if err != nil {
			return "", err
		}
		return r.JobID, nil
	}
	r, err := c.Submit(ctx, &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind:         netcfg.KindGenerate,
		Device:       &netcfg.Device{Hostname: host, Platform: netcfg.CiscoXE, Role: "access", Vars: map[string]any{"enable_secret": "vault:net/enable"}},
		Requirements: reqs,
	}})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// loadWait waits for a job and reports whether it succeeded. Polling, it
// asks for the job's status at once and then every interval, and counts
// its requests in polls.
func loadWait(ctx context.Context, c *httpapi.Client, api, wait, id string, interval time.Duration, polls *atomic.Int64) (bool, error) {
	if api == "v1" && wait == "sse" {
		j, err := c.Wait(ctx, id, nil)
		if err != nil {
			return false, err
		}
		return j.Status == netcfg.StateSucceeded, nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		polls.Add(1)
		if api == "legacy" {
			st, err := c.LegacyStatus(ctx, id)
			if err != nil {
				return false, err
			}
			switch st.Status {
			case "SUCCESS":
				return true, nil
			case "FAILURE", "REVOKED":
				return false, nil
			}
		} else {
			j, err := c.Job(ctx, id)
			if err != nil {
				return false, err
			}
			if j.Status.Final() {
				return j.Status == netcfg.StateSucceeded, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// dbCounters are a pool's database counters at one scrape.
type dbCounters struct{ explicit, implicit, roundTrips float64 }

// scrapeDBCounters reads netsmith_db_transactions_total and
// netsmith_db_round_trips_total from each server's /metrics, summed by
// pool over the servers. It returns no pools for servers that export no
// such counters (a build before them).
func scrapeDBCounters(ctx context.Context, hc *http.Client, bases []string) (map[string]dbCounters, error) {
	pools := map[string]dbCounters{}
	for _, base := range bases {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("%s/metrics: %s", base, resp.Status)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/metrics: %w", base, err)
		}
		for _, m := range mfs["netsmith_db_transactions_total"].GetMetric() {
			pool, kind := metricLabel(m, "pool"), metricLabel(m, "kind")
			c := pools[pool]
			if kind == "explicit" {
				c.explicit += m.GetCounter().GetValue()
			} else {
				c.implicit += m.GetCounter().GetValue()
			}
			pools[pool] = c
		}
		for _, m := range mfs["netsmith_db_round_trips_total"].GetMetric() {
			pool := metricLabel(m, "pool")
			c := pools[pool]
			c.roundTrips += m.GetCounter().GetValue()
			pools[pool] = c
		}
	}
	return pools, nil
}

func metricLabel(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// addDB sets the database figures per job from the counters before and
// after the run.
func (r *LoadResult) addDB(before, after map[string]dbCounters) {
	per := func(v float64) float64 { return v / float64(r.Jobs) }
	var all dbCounters
	r.DBPools = map[string]DBPoolLoad{}
	for pool, a := range after {
		b := before[pool]
		d := dbCounters{a.explicit - b.explicit, a.implicit - b.implicit, a.roundTrips - b.roundTrips}
		all.explicit, all.implicit, all.roundTrips = all.explicit+d.explicit, all.implicit+d.implicit, all.roundTrips+d.roundTrips
		r.DBPools[pool] = DBPoolLoad{per(d.explicit + d.implicit), per(d.explicit), per(d.roundTrips)}
	}
	tx, ex, rt := per(all.explicit+all.implicit), per(all.explicit), per(all.roundTrips)
	r.DBTransactionsPerJob, r.DBExplicitTransactionsPerJob, r.DBRoundTripsPerJob = &tx, &ex, &rt
}

type upstreamStats struct {
	Requests    int64 `json:"requests"`
	RateLimited int64 `json:"rate_limited_429"`
}

func fakeStats(ctx context.Context, hc *http.Client, base string) (*upstreamStats, error) {
	if base == "" {
		return nil, errors.New("no upstream stats URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s upstreamStats
	return &s, json.NewDecoder(resp.Body).Decode(&s)
}

// pct returns the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
