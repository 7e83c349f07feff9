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
	"sync"
	"sync/atomic"
	"time"

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
}

func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		server, apiKey, api, wait, upstreamStats string
		n, conc, distinct                        int
		rate                                     float64
		timeout                                  time.Duration
	)
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.IntVar(&n, "n", 1000, "jobs to submit")
	fs.IntVar(&conc, "c", 50, "submissions (and waits) in flight at once")
	fs.Float64Var(&rate, "rate", 0, "offered submissions per second (0: as fast as -c allows)")
	fs.IntVar(&distinct, "distinct", 0, "distinct intents among the jobs (0: every job its own)")
	fs.StringVar(&api, "api", "v1", "API to drive: v1 or legacy")
	fs.StringVar(&wait, "wait", "sse", "how to wait for completion: sse, poll (legacy always polls), or none (submit only: measures submission alone, and a slot is free again as soon as its submission is answered)")
	fs.StringVar(&upstreamStats, "upstream-stats", "", "fake-anthropic base `URL` whose /stats counts upstream calls")
	fs.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case n < 1 || conc < 1 || rate < 0 || distinct < 0:
		return usagef("-n and -c must be positive, --rate and --distinct not negative")
	case api != "v1" && api != "legacy":
		return usagef("--api %q: must be v1 or legacy", api)
	case wait != "sse" && wait != "poll" && wait != "none":
		return usagef("--wait %q: must be sse, poll or none", wait)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: 0}}
	c := httpapi.NewClient(server, hc, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	before, _ := fakeStats(ctx, hc, upstreamStats)

	var (
		mu      sync.Mutex
		submits []time.Duration
		e2e     []time.Duration
		lags    []time.Duration // how late each submission left, behind its due time (--rate)
		last    time.Time       // when the latest submission left (--rate)
		ok, bad int
		subErr  atomic.Int64
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
				id, err := loadSubmit(ctx, c, api, sl.i, distinct)
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
				succeeded, err := loadWait(ctx, c, api, wait, id)
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

// loadWait waits for a job and reports whether it succeeded.
func loadWait(ctx context.Context, c *httpapi.Client, api, wait, id string) (bool, error) {
	if api == "v1" && wait == "sse" {
		j, err := c.Wait(ctx, id, nil)
		if err != nil {
			return false, err
		}
		return j.Status == netcfg.StateSucceeded, nil
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
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
