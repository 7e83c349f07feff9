package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
)

// TestLoadtest drives a real server through both APIs and checks the JSON
// line: every job accounted for, latencies ordered, upstream calls counted
// from the fake (one per distinct intent).
func TestLoadtest(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 10 * time.Millisecond})
	c := startOnFake(t, up.URL, "--poll-interval", "100ms")
	for _, api := range []string{"v1", "legacy"} {
		res, _ := loadtestJSON(t, "--server", c.BaseURL(), "-n", "60", "-c", "10",
			"--distinct", "3", "--api", api, "--upstream-stats", up.URL)
		if res.Jobs != 60 || res.OK != 60 || res.Failed != 0 || res.JobsPerSecond <= 0 {
			t.Errorf("%s: %+v", api, res)
		}
		if !(res.E2EP50Ms <= res.E2EP95Ms && res.E2EP95Ms <= res.E2EP99Ms && res.SubmitP50Ms <= res.SubmitP99Ms) {
			t.Errorf("%s: percentiles out of order: %+v", api, res)
		}
		// 3 intents per API (the legacy one names no platform and no vars,
		// so its intents differ from v1's): one template call each, or two
		// when the model's first template draws a high lint finding (the
		// legacy jobs carry no enable secret).
		if res.UpstreamCalls == nil || *res.UpstreamCalls < 3 || *res.UpstreamCalls > 6 ||
			api == "v1" && *res.UpstreamCalls != 3 {
			got := int64(-1)
			if res.UpstreamCalls != nil {
				got = *res.UpstreamCalls
			}
			t.Errorf("%s: %d upstream calls, want 3 intents' worth (3–6)", api, got)
		}
	}
}

// TestLoadtestFirst checks that --first N numbers the jobs from N: a run
// from 0 again finds every intent in the template cache (no upstream
// call), and a run from N, after a run of N jobs, shares none (one call
// per job), which is what a benchmark's unmeasured warm-up needs.
func TestLoadtestFirst(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{})
	c := startOnFake(t, up.URL, "--poll-interval", "100ms")
	for _, step := range []struct {
		first string
		calls int64
	}{{"0", 4}, {"0", 0}, {"4", 4}, {"2", 0}} {
		res, _ := loadtestJSON(t, "--server", c.BaseURL(), "-n", "4", "-c", "2", "--first", step.first, "--upstream-stats", up.URL)
		if res.OK != 4 || res.UpstreamCalls == nil || *res.UpstreamCalls != step.calls {
			t.Errorf("--first %s after the runs before it: %+v; want 4 jobs ok and %d upstream calls", step.first, res, step.calls)
		}
	}
	var buf bytes.Buffer
	if code := run(t.Context(), []string{"loadtest", "--server", c.BaseURL(), "--first", "-1"}, noEnv, strings.NewReader(""), &buf, &buf); code == 0 ||
		!strings.Contains(buf.String(), "--first not negative") {
		t.Errorf("--first -1 exited %d:\n%s", code, buf.String())
	}
}

// TestLoadtestPoll drives the legacy polling client (--api legacy --poll)
// against a real server on each database and checks the figures it adds:
// every job polled at least once and the polls per job their share, and
// the database's transactions and round trips per job, by the pools that
// database has, read from the server's /metrics.
func TestLoadtestPoll(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{})
	dbtest.Each(t, func(t *testing.T, db string) {
		env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": up.URL}
		c := startInProcessEnv(t, env, "--db", db, "--poll-interval", "100ms")
		const n = 40
		res, out := loadtestJSON(t, "--server", c.BaseURL(), "-n", fmt.Sprint(n), "-c", "8", "--distinct", "2",
			"--api", "legacy", "--poll", "--poll-interval", "20ms")
		if res.OK != n || res.Polls < n || res.PollsPerJob != float64(res.Polls)/n {
			t.Errorf("%+v: want %d jobs done, each polled at least once, and polls per job = polls / jobs", res, n)
		}
		if res.DBTransactionsPerJob == nil || res.DBExplicitTransactionsPerJob == nil || res.DBRoundTripsPerJob == nil {
			t.Fatalf("no database figures from the server's /metrics:\n%s", out)
		}
		tx, ex, rt := *res.DBTransactionsPerJob, *res.DBExplicitTransactionsPerJob, *res.DBRoundTripsPerJob
		// Every job is written at its submission and its completion, in
		// transactions (blocks) that each cost at least two round trips.
		if !(ex > 0 && ex <= tx && rt >= tx+ex) {
			t.Errorf("per job: %.2f transactions, %.2f explicit, %.2f round trips: want 0 < explicit ≤ all, round trips ≥ all + explicit", tx, ex, rt)
		}
		var sum DBPoolLoad
		var pools []string
		for name, p := range res.DBPools {
			pools = append(pools, name)
			sum.TransactionsPerJob += p.TransactionsPerJob
			sum.RoundTripsPerJob += p.RoundTripsPerJob
		}
		slices.Sort(pools)
		want := map[bool][]string{true: {"read", "writer"}, false: {"lazy", "main"}}[strings.HasPrefix(db, "sqlite")]
		if !slices.Equal(pools, want) {
			t.Errorf("pools %v, want %v", pools, want)
		}
		if math.Abs(sum.TransactionsPerJob-tx) > 1e-9 || math.Abs(sum.RoundTripsPerJob-rt) > 1e-9 {
			t.Errorf("the pools' figures %+v do not add up to the totals (%.2f, %.2f)", sum, tx, rt)
		}
		if !strings.Contains(out, "polls ") || !strings.Contains(out, "round trips per job") {
			t.Errorf("no polls or database line:\n%s", out)
		}

		// Without scraping, no database figures; --poll with another
		// --wait is refused.
		res, _ = loadtestJSON(t, "--server", c.BaseURL(), "-n", "2", "--api", "v1", "--poll", "--server-metrics", "none")
		if res.OK != 2 || res.Polls < 2 || res.DBTransactionsPerJob != nil || res.DBPools != nil {
			t.Errorf("v1 --poll, --server-metrics none: %+v; want 2 jobs polled and no database figures", res)
		}
		var buf bytes.Buffer
		if code := run(t.Context(), []string{"loadtest", "--server", c.BaseURL(), "--poll", "--wait", "sse"}, noEnv, strings.NewReader(""), &buf, &buf); code == 0 ||
			!strings.Contains(buf.String(), "--poll and --wait sse") {
			t.Errorf("--poll --wait sse exited %d:\n%s", code, buf.String())
		}
	})
}

// TestLoadtestSubmitOnly: --wait none submits and measures submissions
// only; the jobs are queued (no workers here) and counted as submitted.
func TestLoadtestSubmitOnly(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "s.db"), "--role", "api")
	res, _ := loadtestJSON(t, "--server", c.BaseURL(), "-n", "40", "-c", "8", "--wait", "none")
	if res.OK != 40 || res.SubmitErrors != 0 || res.SubmitP50Ms <= 0 || res.E2EP50Ms != 0 {
		t.Errorf("%+v: want 40 submitted, submit latencies and no end-to-end figures", res)
	}
	resp, err := http.Get(c.BaseURL() + "/v1/queue")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q struct {
		Depth map[string]int64 `json:"depth"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
		t.Fatal(err)
	}
	if q.Depth["queued"] != 40 {
		t.Errorf("queue depth %v, want 40 queued (nothing runs them)", q.Depth)
	}
}

// TestPaceCatchesUp: at an offered rate, job i is due at start + i/rate,
// and the jobs that fell due while no one took them (every slot busy) leave
// at once afterwards instead of being dropped: 100 jobs at 500/s, with the
// taker away for the first 300 ms, are all out at 300 ms. A ticker would
// have dropped the ticks of the stall and taken about 500 ms. The clock is
// synctest's, so the test does not hang on the machine's load.
func TestPaceCatchesUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n, rate = 100, 500.0
		next := make(chan slot)
		start := time.Now()
		go pace(t.Context(), start, n, rate, next)
		time.Sleep(300 * time.Millisecond) // the taker is away
		got := 0
		for sl := range next {
			if sl.i != got {
				t.Fatalf("job %d handed out as number %d", sl.i, got)
			}
			if want := start.Add(time.Duration(got) * 2 * time.Millisecond); !sl.due.Equal(want) {
				t.Errorf("job %d due %v after start, want %v", got, sl.due.Sub(start), want.Sub(start))
			}
			got++
		}
		if got != n {
			t.Fatalf("%d jobs handed out, want %d", got, n)
		}
		if el := time.Since(start); el != 300*time.Millisecond {
			t.Errorf("the 100 jobs were out %v after the start, want 300ms: those due during the stall were not sent at once", el)
		}
	})
}

// TestLoadtestRate: --rate reports the rate the submissions left at and
// their lag behind the schedule.
func TestLoadtestRate(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "s.db"), "--role", "api")
	res, out := loadtestJSON(t, "--server", c.BaseURL(), "-n", "30", "-c", "4", "--wait", "none", "--rate", "100")
	// The 30th submission is due 290 ms after the start: never faster than asked.
	if res.OK != 30 || res.OfferedPerSecond <= 0 || res.OfferedPerSecond > 100 || res.LagMaxMs < res.LagP99Ms {
		t.Errorf("%+v: want 30 submitted at no more than 100/s, with lags", res)
	}
	if !strings.Contains(out, "offered ") {
		t.Errorf("no offered-rate line:\n%s", out)
	}
}

// loadtestJSON runs `netsmith loadtest args…`, which must succeed, and
// returns its JSON line and all it printed.
func loadtestJSON(t *testing.T, args ...string) (LoadResult, string) {
	t.Helper()
	var out bytes.Buffer
	if code := run(context.Background(), append([]string{"loadtest"}, args...), noEnv, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("loadtest %v exited %d:\n%s", args, code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res LoadResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not the JSON result: %v\n%s", err, out.String())
	}
	return res, out.String()
}
