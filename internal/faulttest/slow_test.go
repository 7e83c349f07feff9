package faulttest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"netsmith/internal/faulttest"
	"netsmith/internal/httpapi"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// slow skips the cases that build netsmith and start processes unless
// NETSMITH_FAULTS=slow.
func slow(t *testing.T) {
	t.Helper()
	if os.Getenv("NETSMITH_FAULTS") != "slow" {
		t.Skip("set NETSMITH_FAULTS=slow for the cases that start processes")
	}
}

var servingRE = regexp.MustCompile(`msg="netsmith serving" addr=(\S+)`)

// server is a `netsmith serve` process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	done    chan struct{} // the process exited
	logDone chan struct{} // its stderr is all in log
	log     bytes.Buffer  // written by one goroutine until logDone
}

// logText is the process's stderr; call it once the process has exited.
func (s *server) logText() string {
	<-s.logDone
	return s.log.String()
}

// serve starts `netsmith serve` on an upstream fake and waits until it
// serves.
func serve(t *testing.T, upstream string, args ...string) *server {
	t.Helper()
	s := &server{done: make(chan struct{}), logDone: make(chan struct{})}
	s.cmd = exec.Command(faulttest.Binary(t), append([]string{"serve", "--listen", "127.0.0.1:0", "--poll-interval", "100ms"}, args...)...)
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ANTHROPIC_API_KEY=test", "ANTHROPIC_BASE_URL=" + upstream}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	addr := make(chan string, 1)
	go func() {
		defer close(s.logDone)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			s.log.Write(append(sc.Bytes(), '\n'))
			if m := servingRE.FindSubmatch(sc.Bytes()); m != nil && !sent {
				addr <- string(m[1])
				sent = true
			}
		}
	}()
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("serve log:\n%s", s.logText())
		}
	})
	select {
	case s.addr = <-addr:
	case <-s.done:
		t.Fatalf("serve exited:\n%s", s.logText())
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("serve did not start:\n%s", s.logText())
	}
	return s
}

func (s *server) client() *httpapi.Client { return httpapi.NewClient("http://"+s.addr, nil, "") }

// submitJobs submits n jobs, each of an intent of its own (one model call
// each), and returns their ids.
func submitJobs(t *testing.T, c *httpapi.Client, n int, prefix string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{Kind: netcfg.KindGenerate,
			Device:       &netcfg.Device{Hostname: fmt.Sprintf("%s%03d", prefix, i), Platform: netcfg.AristaEOS, Role: "leaf"},
			Requirements: fmt.Sprintf("EVPN leaf %s %d, eBGP to two spines", prefix, i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = resp.ID
	}
	return ids
}

// waitFinal waits until every job is final, reading through whichever
// client answers.
func waitFinal(t *testing.T, c *httpapi.Client, ids []string, timeout time.Duration) (succeeded int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, id := range ids {
		for {
			j, err := c.Job(t.Context(), id)
			if err == nil && j.Status.Final() {
				if j.Status == netcfg.StateSucceeded {
					succeeded++
				} else {
					t.Logf("job %s %s: %s", id, j.Status, j.Error)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s not final after %s (%v)", id, timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return succeeded
}

// ledgerCounts counts the ledger's paid calls and the results stored.
func ledgerCounts(t *testing.T, url string) (calls, results, resultJobs int64) {
	t.Helper()
	q, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Conn().QueryRow(t.Context(), `SELECT count(*) FROM netsmith_ledger WHERE kind = $1`, netcfg.ChargeCall).Scan(&calls); err != nil {
		t.Fatal(err)
	}
	results, resultJobs, err = store.CountResults(t.Context(), q.Conn())
	if err != nil {
		t.Fatal(err)
	}
	return calls, results, resultJobs
}

// TestKillMidBatch: SIGKILL twice while jobs run; a third process finishes
// them. Nothing lost, every result stored once, every ledger row a call the
// upstream answered.
func TestKillMidBatch(t *testing.T) {
	slow(t)
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 400 * time.Millisecond, Seed: 3})
	url := "sqlite://" + filepath.Join(t.TempDir(), "kill.db")
	args := []string{"--db", url, "--concurrency", "8", "--job-timeout", "5s", "--rescue-after", "6s"}
	const n = 60
	s := serve(t, up.URL, args...)
	ids := submitJobs(t, s.client(), n, "kill")
	for kill := range 2 {
		for up.Fake.Stats().Succeeded < int64(10*(kill+1)) {
			time.Sleep(50 * time.Millisecond)
		}
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
		s = serve(t, up.URL, args...)
	}
	ok := waitFinal(t, s.client(), ids, 4*time.Minute)
	calls, results, jobs := ledgerCounts(t, url)
	paid := up.Fake.Stats().Succeeded
	// Held: nothing lost, nothing stored or charged twice. Paid calls the
	// ledger lacks are reported: those in flight at a kill, and templates
	// stored before a kill whose job then found them cached.
	held := ok == n && results == n && jobs == n && calls <= paid
	record(t, "SIGKILL ×2 mid-batch", "sqlite", held, "%d jobs: %d succeeded, %d results for %d jobs; ledger %d calls, upstream answered %d: %d paid calls unrecorded (in flight or cached at a kill)",
		n, ok, results, jobs, calls, paid, paid-calls)
}

// TestOutageWithWorkers: a private PostgreSQL stopped for 10 s while jobs
// run against an upstream. Every job finishes, and the ledger holds every
// call the upstream answered: none paid twice or dropped.
func TestOutageWithWorkers(t *testing.T) {
	slow(t)
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 300 * time.Millisecond, Seed: 5})
	pg := faulttest.PrivatePostgres(t)
	s := serve(t, up.URL, "--db", pg.URL, "--concurrency", "8")
	const n = 60
	ids := submitJobs(t, s.client(), n, "blip")
	for up.Fake.Stats().Succeeded < 15 {
		time.Sleep(50 * time.Millisecond)
	}
	pg.Stop()
	codes := map[int]int{}
	stop := time.Now()
	for time.Since(stop) < 10*time.Second {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			codes[resp.StatusCode]++
			resp.Body.Close()
		}
		time.Sleep(250 * time.Millisecond)
	}
	pg.Start()
	ok := waitFinal(t, s.client(), ids, 4*time.Minute)
	calls, results, _ := ledgerCounts(t, pg.URL)
	paid := up.Fake.Stats().Succeeded
	held := ok == n && results == n && calls == paid && codes[200] == 0
	record(t, "database stop 10 s mid-run, workers", "postgres", held, "%d jobs: %d succeeded, %d results; upstream answered %d, ledger %d calls; /readyz during: %v",
		n, ok, results, paid, calls, codes)
}

// TestUpstreamStorm: 15% 500s, 15% 529s and a requests-per-minute limit
// giving 429s. Every job finishes; the ledger equals the calls answered.
func TestUpstreamStorm(t *testing.T) {
	slow(t)
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 20 * time.Millisecond, Error500Rate: 0.15, Error529Rate: 0.15,
		RequestsPerMinute: 240, Burst: time.Second, Seed: 9})
	url := "sqlite://" + filepath.Join(t.TempDir(), "storm.db")
	s := serve(t, up.URL, "--db", url, "--concurrency", "16", "--max-attempts", "30")
	const n = 60
	ids := submitJobs(t, s.client(), n, "storm")
	ok := waitFinal(t, s.client(), ids, 4*time.Minute)
	calls, results, _ := ledgerCounts(t, url)
	st := up.Fake.Stats()
	held := ok == n && results == n && calls == st.Succeeded && st.ServerErrors > 0 && st.Overloaded > 0
	record(t, "upstream 429/529/500 storm", "sqlite", held, "%d jobs: %d succeeded; upstream %d requests: %d × 429, %d × 529, %d × 500, %d answered; ledger %d calls",
		n, ok, st.Requests, st.RateLimited, st.Overloaded, st.ServerErrors, st.Succeeded, calls)
}

// TestSlowClients: 300 connections each sending a body one byte a second
// are cut off within --read-timeout (2 s here), and a normal client is
// served meanwhile.
func TestSlowClients(t *testing.T) {
	slow(t)
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{})
	s := serve(t, up.URL, "--db", "sqlite://"+filepath.Join(t.TempDir(), "slow.db"), "--read-timeout", "2s", "--read-header-timeout", "1s")
	const n = 300
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		longest time.Duration
		open    int
	)
	started := time.Now()
	for range n {
		wg.Go(func() {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
			start := time.Now()
			for time.Since(start) < 20*time.Second {
				if _, err := conn.Write([]byte(" ")); err != nil {
					break
				}
				conn.SetReadDeadline(time.Now().Add(time.Second))
				buf := make([]byte, 512)
				if _, err := conn.Read(buf); err != nil && !isTimeout(err) {
					break // closed (or answered 408/400 and closed)
				}
			}
			d := time.Since(start)
			mu.Lock()
			longest = max(longest, d)
			if d >= 20*time.Second {
				open++
			}
			mu.Unlock()
		})
	}
	// A normal client meanwhile.
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := s.client().Submit(ctx, &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{Kind: netcfg.KindGenerate,
		Device: &netcfg.Device{Hostname: "ok1", Platform: netcfg.AristaEOS, Role: "leaf"}, Requirements: "leaf"}})
	normal := time.Since(t0)
	wg.Wait()
	held := err == nil && open == 0 && longest < 2*time.Second+3*time.Second
	record(t, "slow request bodies", "sqlite", held, "%d slow bodies: longest held %.1f s (read timeout 2 s), %d still open after 20 s; a normal submit meanwhile took %d ms (%v); all done in %.1f s",
		n, longest.Seconds(), open, normal.Milliseconds(), err, time.Since(started).Seconds())
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestEmptyListenRefused: `serve --listen=` with no keys must refuse to
// start rather than serve an open admin API on every interface.
func TestEmptyListenRefused(t *testing.T) {
	slow(t)
	t.Parallel()
	cmd := exec.Command(faulttest.Binary(t), "serve", "--listen=", "--db", "sqlite://"+filepath.Join(t.TempDir(), "l.db"), "--provider", "sim")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	refused := err != nil && strings.Contains(string(out), "--insecure")
	record(t, "serve --listen= without keys", "sqlite", refused, "%v after %d ms: %.120s", err, time.Since(start).Milliseconds(), strings.TrimSpace(lastLine(string(out))))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestLeaseAfterKill: a process killed while it fills a template holds the
// intent's other devices back only until its lease runs out (seconds), not
// for the length of a job: another process's job of the same intent is done
// soon after.
func TestLeaseAfterKill(t *testing.T) {
	slow(t)
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 3 * time.Second, Seed: 11})
	url := "sqlite://" + filepath.Join(t.TempDir(), "lease.db")
	args := []string{"--db", url, "--job-timeout", "2m"}
	a := serve(t, up.URL, args...)
	req := func(host string) *httpapi.SubmitRequest {
		return &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{Kind: netcfg.KindGenerate,
			Device:       &netcfg.Device{Hostname: host, Platform: netcfg.AristaEOS, Role: "leaf"},
			Requirements: "EVPN leaf, eBGP to two spines"}}
	}
	if _, err := a.client().Submit(t.Context(), req("first")); err != nil {
		t.Fatal(err)
	}
	for up.Fake.Stats().InFlight == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	killed := time.Now()
	b := serve(t, up.URL, args...)
	resp, err := b.client().Submit(t.Context(), req("second"))
	if err != nil {
		t.Fatal(err)
	}
	ok := waitFinal(t, b.client(), []string{resp.ID}, 3*time.Minute)
	took := time.Since(killed)
	record(t, "template lease after SIGKILL", "sqlite", ok == 1 && took < 45*time.Second,
		"a job of the killed filler's intent done %.1f s after the kill (lease 10 s, model call 3 s; the job timeout, 2 min, no longer bounds it)", took.Seconds())
}
