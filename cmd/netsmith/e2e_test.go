package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"netsmith/internal/app"
	"netsmith/internal/dbtest"
	"netsmith/internal/faulttest"
	"netsmith/internal/httpapi"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

var addrRE = regexp.MustCompile(`msg="netsmith serving" addr=(\S+)`)

// logWriter collects a server's log and reports its listen address.
type logWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func newLogWriter() *logWriter { return &logWriter{addr: make(chan string, 1)} }

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		if m := addrRE.FindSubmatch(w.buf.Bytes()); m != nil {
			w.addr <- string(m[1])
			w.sent = true
		}
	}
	return len(p), nil
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func noEnv(string) string { return "" }

// startInProcess runs `netsmith serve args…` in this process and returns a
// client for it. The server stops when the test ends.
func startInProcess(t *testing.T, args ...string) *httpapi.Client {
	t.Helper()
	return startInProcessEnv(t, nil, args...)
}

// startInProcessEnv is startInProcess with environment variables.
func startInProcessEnv(t *testing.T, env map[string]string, args ...string) *httpapi.Client {
	t.Helper()
	c, _ := startWithLog(t, env, args...)
	return c
}

// startOnFake is startInProcess on a fresh SQLite file with the anthropic
// provider pointed at the upstream at url.
func startOnFake(t *testing.T, url string, args ...string) *httpapi.Client {
	t.Helper()
	env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": url}
	return startInProcessEnv(t, env, append([]string{"--db", "sqlite://" + filepath.Join(t.TempDir(), "serve.db")}, args...)...)
}

func startWithLog(t *testing.T, env map[string]string, args ...string) (*httpapi.Client, *logWriter) {
	t.Helper()
	c, logs, _ := startServe(t, env, args...)
	return c, logs
}

// startServe runs serve in-process until stop, which shuts it down and
// checks that it exits 0 within 30 s; the test's cleanup stops it too.
func startServe(t *testing.T, env map[string]string, args ...string) (c *httpapi.Client, logs *logWriter, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = newLogWriter()
	done := make(chan int, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), io.Discard, logs)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d; log:\n%s", code, logs)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop within 30s")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-logs.addr:
		c = httpapi.NewClient("http://"+addr, nil, "")
		waitHealthy(t, c)
		return c, logs, stop
	case code := <-done:
		t.Fatalf("serve exited %d before listening; log:\n%s", code, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start; log:\n%s", logs)
	}
	return nil, nil, nil
}

func waitHealthy(t testing.TB, c *httpapi.Client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Healthz(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling a server that is starting
	}
}

// TestLegacyAPIEndToEnd is the legacy service's client flow, unchanged:
// 60 submissions through /api/generate-config, each polled through
// /api/job-status until SUCCESS with the device's own config. 60 is more
// than the 50 workers, so some jobs wait for one while others run.
func TestLegacyAPIEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(dir, "e2e.db"), "--sim-latency", "20ms",
		"--concurrency", "50", "--poll-interval", "100ms")
	ctx := t.Context()
	const n = 60
	ids := make([]string, n)
	for i := range n {
		resp, err := c.LegacyGenerate(ctx, fmt.Sprintf("legacy-sw%03d", i), "access switch, VLANs 10,20,99, SSH only")
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		if resp.Status != "queued" || resp.DeviceName != fmt.Sprintf("legacy-sw%03d", i) || resp.JobID == "" {
			t.Fatalf("submit %d answered %+v", i, resp)
		}
		ids[i] = resp.JobID
	}
	paid := 0
	for i, id := range ids {
		st := pollLegacy(t, c, id)
		host := fmt.Sprintf("legacy-sw%03d", i)
		if st.Status != "SUCCESS" || st.Result == nil {
			t.Fatalf("job %d: %+v", i, st)
		}
		r := st.Result
		if r.Status != "success" || r.DeviceName != host || !strings.Contains(r.Config, "hostname "+host+"\n") {
			t.Fatalf("job %d result: status %q device %q config:\n%s", i, r.Status, r.DeviceName, r.Config)
		}
		switch {
		case r.Cached && r.Tokens.Total != 0:
			t.Errorf("job %d: cached but paid tokens %+v", i, r.Tokens)
		case !r.Cached && (r.Tokens.Input <= 0 || r.Tokens.Output <= 0 || r.Tokens.Total != r.Tokens.Input+r.Tokens.Output):
			t.Errorf("job %d: uncached with tokens %+v", i, r.Tokens)
		case !r.Cached:
			paid++
		}
	}
	// One intent (same requirements, no per-device facts but the name): one
	// template made by the model, the others rendered from it.
	if paid != 1 {
		t.Errorf("%d jobs paid for a model call, want 1 (the template)", paid)
	}
}

func pollLegacy(t *testing.T, c *httpapi.Client, id string) *httpapi.LegacyStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.LegacyStatus(t.Context(), id)
		if err != nil {
			t.Fatalf("status %s: %v", id, err)
		}
		switch st.Status {
		case "SUCCESS", "FAILURE", "REVOKED":
			return st
		case "PENDING", "STARTED", "RETRY":
		default:
			t.Fatalf("status %s: unknown Celery state %q", id, st.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 60s", id, st.Status)
		}
		time.Sleep(50 * time.Millisecond) // the legacy client's own polling loop
	}
}

// --- real processes ---

// netsmithBinary builds the command once per test run.
func netsmithBinary(t testing.TB) string {
	t.Helper()
	return faulttest.Binary(t)
}

type proc struct {
	cmd  *exec.Cmd
	logs *logWriter
	addr string
	done chan struct{}
}

// startProcess starts `netsmith serve args…` as a child process.
func startProcess(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProcessEnv(t, nil, args...)
}

// startProcessEnv is startProcess with environment variables.
func startProcessEnv(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	p := launchProcess(t, env, args...)
	p.await(t)
	return p
}

// launchProcess starts `netsmith serve args…` and returns at once; await
// waits until it serves.
func launchProcess(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	bin := netsmithBinary(t)
	p := &proc{logs: newLogWriter(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Stderr = p.logs
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("log of pid %d:\n%s", p.cmd.Process.Pid, tail(p.logs.String(), 4000))
		}
	})
	return p
}

// await waits until p listens and answers /healthz.
func (p *proc) await(t *testing.T) {
	t.Helper()
	select {
	case p.addr = <-p.logs.addr:
	case <-p.done:
		t.Fatalf("process exited before listening:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("process did not start:\n%s", p.logs)
	}
	waitHealthy(t, p.client())
}

func (p *proc) client() *httpapi.Client { return httpapi.NewClient("http://"+p.addr, nil, "") }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func submitN(t *testing.T, c *httpapi.Client, n int, prefix string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
			Kind:         netcfg.KindGenerate,
			Device:       &netcfg.Device{Hostname: fmt.Sprintf("%s%04d", prefix, i), Platform: netcfg.AristaEOS, Role: "leaf"},
			Requirements: "EVPN leaf, eBGP to two spines",
		}})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		ids[i] = resp.ID
	}
	return ids
}

// waitAll polls until every job is final and returns them.
func waitAll(t *testing.T, c *httpapi.Client, ids []string, timeout time.Duration) []*httpapi.JobView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	out := make([]*httpapi.JobView, len(ids))
	for i, id := range ids {
		for {
			j, err := c.Job(t.Context(), id)
			if err == nil && j.Status.Final() {
				out[i] = j
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s not final after %s (last %v, err %v)", id, timeout, j, err)
			}
			time.Sleep(100 * time.Millisecond) // polling another process
		}
	}
	return out
}

// openStore opens the database read-side from the test.
func openStore(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func checkExactlyOnce(t *testing.T, url string, jobs []*httpapi.JobView) (retried int) {
	t.Helper()
	for _, j := range jobs {
		if j.Status != netcfg.StateSucceeded {
			t.Errorf("job %s ended %s: %s", j.ID, j.Status, j.Error)
		}
		if j.Attempts > 1 {
			retried++
		}
	}
	rows, distinct, err := store.CountResults(t.Context(), openStore(t, url).Conn())
	if err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(jobs)) || distinct != rows {
		t.Errorf("results table: %d rows for %d distinct jobs; want %d, one each", rows, distinct, len(jobs))
	}
	return retried
}

// TestKilledWorkerLosesNothing kills a serving process with SIGKILL while
// jobs run, starts another on the same database, and sees every job finish
// once: the killed ones rescued and rerun, none stored twice.
func TestKilledWorkerLosesNothing(t *testing.T) {
	t.Parallel()
	url := "sqlite://" + filepath.Join(t.TempDir(), "kill.db")
	args := []string{"--db", url, "--sim-latency", "1500ms", "--concurrency", "8",
		"--job-timeout", "3s", "--rescue-after", "4s", "--poll-interval", "200ms"}
	a := startProcess(t, args...)
	ids := submitN(t, a.client(), 40, "kill-")
	waitRunning(t, a.client(), ids[0])
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done

	b := startProcess(t, args...)
	jobs := waitAll(t, b.client(), ids, 3*time.Minute)
	retried := checkExactlyOnce(t, url, jobs)
	if retried == 0 {
		t.Errorf("no job needed a second attempt: the kill hit no running job, so the test proved nothing")
	}
	t.Logf("40 jobs: all succeeded once; %d were running at SIGKILL and were rescued", retried)
}

// TestGracefulShutdownReturnsJobs stops a process with SIGTERM and a short
// shutdown timeout while jobs run: it exits cleanly and a new process
// finishes every job once.
func TestGracefulShutdownReturnsJobs(t *testing.T) {
	t.Parallel()
	url := "sqlite://" + filepath.Join(t.TempDir(), "term.db")
	args := []string{"--db", url, "--sim-latency", "2s", "--concurrency", "5",
		"--shutdown-timeout", "200ms", "--poll-interval", "200ms"}
	a := startProcess(t, args...)
	ids := submitN(t, a.client(), 20, "term-")
	waitRunning(t, a.client(), ids[0])
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit within 20s of SIGTERM")
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	b := startProcess(t, args...)
	jobs := waitAll(t, b.client(), ids, 2*time.Minute)
	if retried := checkExactlyOnce(t, url, jobs); retried == 0 {
		t.Errorf("no job was interrupted by the shutdown; the test proved nothing")
	}
}

func waitRunning(t *testing.T, c *httpapi.Client, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := c.Job(t.Context(), id)
		if err == nil && j.Status == netcfg.StateRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s never ran: %v %v", id, j, err)
		}
		time.Sleep(20 * time.Millisecond) // polling another process
	}
}

// TestDistributedPostgres runs one API process and two worker processes on
// one PostgreSQL database: 500 jobs all finish, each stored once, and both
// workers share the work.
func TestDistributedPostgres(t *testing.T) {
	t.Parallel()
	url := dbtest.Postgres(t)
	common := []string{"--db", url, "--sim-latency", "100ms", "--poll-interval", "200ms"}
	api := startProcess(t, append([]string{"--role", "api"}, common...)...)
	w1 := startProcess(t, append([]string{"--role", "worker", "--concurrency", "20"}, common...)...)
	w2 := startProcess(t, append([]string{"--role", "worker", "--concurrency", "20"}, common...)...)

	ids := submitN(t, api.client(), 500, "dist-")
	jobs := waitAll(t, api.client(), ids, 3*time.Minute)
	checkExactlyOnce(t, url, jobs)
	n1, n2 := succeededBy(t, w1), succeededBy(t, w2)
	if n1+n2 != 500 || n1 == 0 || n2 == 0 {
		t.Errorf("workers completed %d and %d jobs; want 500 in all, shared by both", n1, n2)
	}
	t.Logf("500 jobs: worker 1 ran %d, worker 2 ran %d", n1, n2)
	checkClusterGauges(t, []*proc{api, w1, w2}, 2)
}

// checkClusterGauges checks, once every job is final, that the
// cluster-wide gauges come from one process, a worker (the queue's leader),
// so that summed over all of procs they are the truth: nothing queued, and
// the live workers.
func checkClusterGauges(t *testing.T, procs []*proc, workers float64) {
	t.Helper()
	var leaders, exporting, live, queued float64
	for _, p := range procs {
		page := scrape(t, "http://"+p.addr)
		l, _ := metricValue(t, page, "netsmith_cluster_leader")
		leaders += l
		if v, ok := metricValue(t, page, "netsmith_workers_live"); ok {
			exporting++
			live += v
		}
		q, _ := metricValue(t, page, `netsmith_queue_depth{state="queued"}`)
		queued += q
	}
	if leaders != 1 || exporting != 1 || live != workers || queued != 0 {
		t.Errorf("%v leaders, %v processes exporting the cluster gauges, %v live workers, %v queued; want 1, 1, %v and 0",
			leaders, exporting, live, queued, workers)
	}
}

// scrape returns a server's /metrics page.
func scrape(t *testing.T, baseURL string) []byte {
	t.Helper()
	resp, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metricValue is the value of series (name and labels, exactly as the
// page writes them) on a /metrics page; false when it is not there.
func metricValue(t *testing.T, page []byte, series string) (float64, bool) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(page)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v, true
}

var succeededRE = regexp.MustCompile(`(?m)^netsmith_jobs_total\{kind="generate",reason="none",status="succeeded"\} (\d+)`)

// succeededBy reads how many jobs a process completed from its /metrics.
func succeededBy(t *testing.T, p *proc) int {
	t.Helper()
	m := succeededRE.FindSubmatch(scrape(t, "http://"+p.addr))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestAnthropicProviderEndToEnd runs serve against the fake Anthropic server
// over the real wire format: configs come back through the template cache,
// a request the upstream refuses (400) fails at once with its message and
// one call, and injected 529s are retried until they succeed.
func TestAnthropicProviderEndToEnd(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 20 * time.Millisecond, Error529Rate: 0.3, Seed: 7})
	env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": up.URL}
	c, logs := startWithLog(t, env, "--db", "sqlite://"+filepath.Join(t.TempDir(), "a.db"),
		"--poll-interval", "100ms", "--max-attempts", "8")
	if !strings.Contains(logs.String(), "provider anthropic") {
		t.Fatalf("serve did not pick the anthropic provider from ANTHROPIC_API_KEY:\n%s", logs)
	}
	// 10 devices of one intent, 10 of intents of their own: 11 template calls.
	ids := submitN(t, c, 10, "fab-")
	for i := range 10 {
		resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
			Kind: netcfg.KindGenerate,
			Device: &netcfg.Device{Hostname: fmt.Sprintf("own-%d", i), Platform: netcfg.CiscoXE, Role: "access",
				Vars: map[string]any{"enable_secret": "vault:net/enable"}},
			Requirements: fmt.Sprintf("access switch, VLAN %d", 100+i),
		}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, resp.ID)
	}
	bad, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind: netcfg.KindGenerate, Device: &netcfg.Device{Hostname: "bad1", Platform: netcfg.CiscoIOS, Role: "x"},
		Requirements: "FAKE_INVALID please",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range waitAll(t, c, ids, 2*time.Minute) {
		if j.Status != netcfg.StateSucceeded {
			t.Errorf("job %s %s: %s", j.ID, j.Status, j.Error)
		}
	}
	j := waitAll(t, c, []string{bad.ID}, time.Minute)[0]
	if j.Status != netcfg.StateFailed || j.Attempts != 1 || !strings.Contains(j.Error, "invalid_request_error") {
		t.Errorf("refused job: %s after %d attempts: %q; want failed after 1 with the upstream's error", j.Status, j.Attempts, j.Error)
	}
	// The metrics say why it failed.
	page := scrape(t, c.BaseURL())
	for series, want := range map[string]float64{
		`netsmith_jobs_total{kind="generate",reason="upstream_4xx",status="failed"}`: 1,
		`netsmith_jobs_total{kind="generate",reason="internal",status="failed"}`:     0,
		`netsmith_jobs_total{kind="generate",reason="none",status="succeeded"}`:      20,
	} {
		if v, _ := metricValue(t, page, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	st := up.Fake.Stats()
	if st.InvalidRequests != 1 {
		t.Errorf("upstream saw %d requests answered 400, want exactly 1 (no retry of a permanent error)", st.InvalidRequests)
	}
	if st.Succeeded != 11 {
		t.Errorf("upstream answered %d calls, want 11 (one per intent)", st.Succeeded)
	}
	if st.Overloaded == 0 {
		t.Errorf("no 529 was injected; the retry path was not exercised")
	}
	t.Logf("upstream: %+v", st)
}

// TestConcurrentIdenticalSubmissions: 100 identical requests at once make
// exactly one upstream call; everyone else is served by the template cache,
// waiting on that call (twice as many jobs as workers) or after it.
func TestConcurrentIdenticalSubmissions(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 300 * time.Millisecond})
	c := startOnFake(t, up.URL, "--poll-interval", "100ms", "--concurrency", "50")
	req := &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind:         netcfg.KindGenerate,
		Device:       &netcfg.Device{Hostname: "bld1-acc01", Platform: netcfg.CiscoXE, Role: "access", Vars: map[string]any{"mgmt_ip": "10.99.1.11/24", "enable_secret": "vault:net/enable"}},
		Requirements: "Layer-2 access switch, VLANs 10,20,99, SSH only",
	}}
	ids := make([]string, 100)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			resp, err := c.Submit(t.Context(), req)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = resp.ID
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, j := range waitAll(t, c, ids, time.Minute) {
		if j.Status != netcfg.StateSucceeded {
			t.Errorf("job %s %s: %s", j.ID, j.Status, j.Error)
		}
	}
	if st := up.Fake.Stats(); st.Requests != 1 {
		t.Errorf("%d identical submissions made %d upstream calls, want 1", len(ids), st.Requests)
	}
	cs, err := c.CacheStats(t.Context())
	if err != nil || cs.Misses != 1 || cs.Hits+cs.Coalesced != int64(len(ids)-1) {
		t.Errorf("cache stats %+v (%v), want 1 miss and %d hits or coalesced", cs, err, len(ids)-1)
	}
}

// TestConcurrencyBoundsUpstreamCalls: --concurrency is the model calls in
// flight. 24 jobs of distinct intents on --concurrency 4 keep the upstream
// at four calls at once, never more, while the process runs five jobs.
func TestConcurrencyBoundsUpstreamCalls(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 200 * time.Millisecond})
	c := startOnFake(t, up.URL, "--poll-interval", "100ms", "--concurrency", "4")
	ids := make([]string, 24)
	for i := range ids {
		resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
			Kind:         netcfg.KindGenerate,
			Device:       &netcfg.Device{Hostname: fmt.Sprintf("calls-sw%02d", i), Platform: netcfg.CiscoXE, Role: "access"},
			Requirements: fmt.Sprintf("access switch, VLAN %d, SSH only", 100+i),
		}})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		ids[i] = resp.ID
	}
	for _, j := range waitAll(t, c, ids, time.Minute) {
		if j.Status != netcfg.StateSucceeded {
			t.Errorf("job %s %s: %s", j.ID, j.Status, j.Error)
		}
	}
	// (A distinct intent is at least one call: its template, and more if
	// the fake's answer needs another try.)
	if st := up.Fake.Stats(); st.Requests < 24 || st.MaxInFlight != 4 {
		t.Errorf("%d upstream calls, at most %d in flight; want 24 or more, at most 4 (and 4 reached)", st.Requests, st.MaxInFlight)
	}
}

// TestRateLimitedUpstreamWaits: the upstream answers the first call 429
// with retry-after: 2. The job waits about two seconds (snoozed, not a
// failed attempt) and then succeeds; the upstream sees two calls.
func TestRateLimitedUpstreamWaits(t *testing.T) {
	t.Parallel()
	fake := fakeanthropic.New(fakeanthropic.Config{}, slog.New(slog.DiscardHandler))
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/messages" && calls.Add(1) == 1 {
			w.Header().Set("retry-after", "2")
			w.Header().Set("content-type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your per-minute rate limit"}}`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	c := startOnFake(t, up.URL, "--poll-interval", "50ms", "--max-attempts", "1")
	ids := submitN(t, c, 1, "rl-")
	start := time.Now()
	j, err := c.Wait(t.Context(), ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	// With --max-attempts 1 a counted attempt would have failed the job:
	// the 429 must have been a snooze.
	if j.Status != netcfg.StateSucceeded {
		t.Fatalf("job %s: %s", j.Status, j.Error)
	}
	// Not before the upstream's retry-after. The upper bound only catches
	// a wait of a whole rate-limit window (a minute) instead of the two
	// seconds asked: how much longer than 2 s the job takes depends on
	// the machine's load (6 s on a busy two-core machine), not on netsmith.
	if waited < 1900*time.Millisecond || waited > 30*time.Second {
		t.Errorf("job took %s after a 429 with retry-after: 2; want 2 s, and far less than a minute", waited)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("upstream saw %d calls, want 2", n)
	}
	t.Logf("429 retry-after 2 → job succeeded after %s", waited.Round(10*time.Millisecond))
}

// TestAPILatencyTargetGivesWay: with --api-latency-target below anything
// the API can answer in, every request is slow, so the workers' limit
// falls (netsmith_workers_limit) and still every job finishes.
func TestAPILatencyTargetGivesWay(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "gate.db"), "--sim-latency", "20ms",
		"--concurrency", "32", "--poll-interval", "100ms", "--api-latency-target", "1ns")
	ctx := t.Context()
	limit := func() string {
		for line := range strings.Lines(string(scrape(t, c.BaseURL()))) {
			if v, ok := strings.CutPrefix(line, "netsmith_workers_limit "); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatal("no netsmith_workers_limit in /metrics")
		return ""
	}
	full := strconv.Itoa(app.JobSlots(32)) // 34: 32 call slots and two jobs more
	if l := limit(); l != full {
		t.Fatalf("workers limit %s before any request, want %s for --concurrency 32", l, full)
	}
	const n = 60
	ids := make([]string, n)
	for i := range n {
		resp, err := c.LegacyGenerate(ctx, fmt.Sprintf("gate-sw%02d", i), fmt.Sprintf("access switch, VLAN %d, SSH only", 100+i))
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		ids[i] = resp.JobID
	}
	deadline := time.Now().Add(10 * time.Second)
	for limit() == full && time.Now().Before(deadline) {
		if _, err := c.LegacyStatus(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l := limit(); l == full {
		t.Fatalf("workers limit still %s with every API request slow", l)
	}
	for i, id := range ids {
		if st := pollLegacy(t, c, id); st.Status != "SUCCESS" {
			t.Fatalf("job %d: %+v", i, st)
		}
	}
	code, _, errOut := cli("serve", "--db", "sqlite://"+filepath.Join(t.TempDir(), "g.db"), "--api-latency-target", "-1s")
	if code != exitUsage || !strings.Contains(errOut, "--api-latency-target") {
		t.Errorf("negative target: exit %d, %q; want exit 2 naming the flag", code, errOut)
	}
}

// TestJobPhaseMetrics: /metrics says where the jobs' time went. Four jobs
// of one intent: every one is queued, read, served by the template cache,
// rendered, linted and completed; one model call made the template, so
// one job has the wait, call and proof phases, and the call phase holds
// the upstream's latency. With no --api-latency-target there is no gate.
func TestJobPhaseMetrics(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: latency})
	c := startOnFake(t, up.URL, "--poll-interval", "50ms")
	ids := submitN(t, c, 4, "phase-")
	for _, j := range waitAll(t, c, ids, 30*time.Second) {
		if j.Status != netcfg.StateSucceeded {
			t.Fatalf("job %s: %s %s", j.ID, j.Status, j.Error)
		}
	}
	b := scrape(t, c.BaseURL())
	phase := func(name, stat string) (float64, bool) {
		return metricValue(t, b, `netsmith_job_phase_seconds_`+stat+`{phase="`+name+`"}`)
	}
	for name, want := range map[string]float64{"complete": 4, "template": 4, "render": 4, "lint": 4,
		"wait": 1, "call": 1, "check": 1} {
		if n, _ := phase(name, "count"); n != want {
			t.Errorf("phase %s observed %v times, want %v", name, n, want)
		}
	}
	for _, name := range []string{"queued", "read"} {
		if n, _ := phase(name, "count"); n < 4 {
			t.Errorf("phase %s observed %v times, want one per attempt, at least 4", name, n)
		}
	}
	if s, _ := phase("call", "sum"); s < latency.Seconds() {
		t.Errorf("call phase sums to %vs, want at least the upstream's %v", s, latency)
	}
	if _, ok := phase("gate", "count"); ok {
		t.Error("a gate phase without --api-latency-target")
	}
}

// TestSingleJobsStartPromptly: on PostgreSQL, jobs submitted one after
// another start well within a second with the default poll interval.
// River drops an insert notification that follows another within its
// fetch cooldown, so some of these jobs are found only by the next poll:
// with a 1 s poll, as of old, about half of them wait up to a second
// (netsmith_job_phase_seconds{phase="queued"} shows it). A starved machine
// can hold up any job now and then, so up to one in ten may be late.
func TestSingleJobsStartPromptly(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", dbtest.Postgres(t), "--sim-latency", "0s")
	const n = 60
	for i := range n {
		ids := submitN(t, c, 1, fmt.Sprintf("one%02d-", i))
		if j, err := c.Wait(t.Context(), ids[0], nil); err != nil || j.Status != netcfg.StateSucceeded {
			t.Fatalf("job %d: %v %+v", i, err, j)
		}
	}
	b := scrape(t, c.BaseURL())
	bucket := func(le string) float64 {
		v, ok := metricValue(t, b, `netsmith_job_phase_seconds_bucket{phase="queued",le="`+le+`"}`)
		if !ok {
			t.Fatalf("no queued bucket le=%s in /metrics", le)
		}
		return v
	}
	if fast, all := bucket("0.5"), bucket("+Inf"); all < n || all-fast > n/10 {
		t.Errorf("%v of %v job attempts waited over 0.5 s to start, want at most %d", all-fast, all, n/10)
	}
}

// TestDBPoolMetrics: /metrics shows each database pool's size, use and
// waits; on PostgreSQL the URL's pool_max_conns sizes the main pool.
func TestDBPoolMetrics(t *testing.T) {
	t.Parallel()
	value := func(t *testing.T, b []byte, series string) float64 {
		t.Helper()
		v, ok := metricValue(t, b, series)
		if !ok {
			t.Fatalf("no %s in /metrics", series)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
		max  map[string]float64
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "serve.db") },
			map[string]float64{"writer": 1, "read": 4}},
		{"postgres", func(t *testing.T) string { return dbtest.Postgres(t) + "&pool_max_conns=7" },
			map[string]float64{"main": 7, "lazy": 4}}, // the lazy pool: River's own work and the cache's writes, at least 4
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startInProcess(t, "--db", tc.db(t), "--sim-latency", "0s")
			for _, j := range waitAll(t, c, submitN(t, c, 8, "pool-"), 30*time.Second) {
				if j.Status != netcfg.StateSucceeded {
					t.Fatalf("job %s: %s %s", j.ID, j.Status, j.Error)
				}
			}
			b := scrape(t, c.BaseURL())
			for pool, want := range tc.max {
				if got := value(t, b, `netsmith_db_connections_max{pool="`+pool+`"}`); got != want {
					t.Errorf("pool %s: max %v, want %v", pool, got, want)
				}
				inUse := value(t, b, `netsmith_db_connections{pool="`+pool+`",state="in_use"}`)
				idle := value(t, b, `netsmith_db_connections{pool="`+pool+`",state="idle"}`)
				if inUse < 0 || idle < 0 || inUse+idle > want {
					t.Errorf("pool %s: %v in use and %v idle, more than its %v", pool, inUse, idle, want)
				}
				if w := value(t, b, `netsmith_db_pool_waits_total{pool="`+pool+`"}`); w < 0 {
					t.Errorf("pool %s: %v waits", pool, w)
				}
				value(t, b, `netsmith_db_pool_wait_seconds_total{pool="`+pool+`"}`)
			}
			// Readers were used: at least one reader connection is open.
			if tc.name == "sqlite" {
				if n := value(t, b, `netsmith_db_connections{pool="read",state="in_use"}`) +
					value(t, b, `netsmith_db_connections{pool="read",state="idle"}`); n < 1 {
					t.Errorf("no reader connection open after 8 jobs")
				}
			}
		})
	}
}
