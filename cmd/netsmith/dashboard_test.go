package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// chromium returns the path of a Chromium to drive, skipping the test
// where there is none (and failing it in CI, which installs one).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on PATH, and CI is set: .ci/run installs the chromium package")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium); skipping the headless browser test")
	return ""
}

var keyRE = regexp.MustCompile(`nsk_[A-Za-z0-9_-]+`)

// TestDashboardInChromium starts a real server with an admin key, submits
// a fleet batch, and drives the page at / in headless Chromium: it asks for
// the key, then shows the batch's progress until it is done and the
// template cache's hits, all read from the database; a failed job shows
// with its reason and is retried from the page; and the page logs no
// console error or uncaught exception. River UI is checked alongside:
// mounted for the admin key, which the browser gives when asked (HTTP
// Basic), listing River's rows, and read-only.
// It runs on SQLite and on PostgreSQL.
func TestDashboardInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	dbtest.Each(t, func(t *testing.T, db string) { testDashboardInChromium(t, browser, db) })
}

func testDashboardInChromium(t *testing.T, browser, db string) {
	code, out, errOut := cli("keys", "create", "--db", db, "--name", "ops", "--department", "neteng", "--role", "admin")
	key := keyRE.FindString(out + errOut)
	if code != 0 || key == "" {
		t.Fatalf("keys create: %d %q %q", code, out, errOut)
	}
	c := startInProcess(t, "--db", db, "--sim-latency", "300ms", "--concurrency", "4")
	base := c.BaseURL()
	fleet, err := os.ReadFile(filepath.Join("..", "..", "examples", "dc-fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	admin := httpapi.NewClient(base, nil, key)
	b, err := admin.SubmitFleet(t.Context(), httpapi.SubmitOptions{Name: "dc-fabric.yaml", Format: "yaml"}, fleet)
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(ctx); err != nil { // the browser and its tab
		t.Fatalf("starting %s: %v", browser, err)
	}
	var (
		mu       sync.Mutex
		problems []string
	)
	err = chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			problems = append(problems, "exception: "+msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	row := `tr[data-batch="` + b.ID + `"]`
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Click(chromedp.CSS("#login button")),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if err != nil {
		t.Fatalf("logging in and finding batch %s on the page: %v\n%s", b.ID, err, pageState(ctx, &mu, problems))
	}
	// The page refreshes every 2 s; wait in the browser until the batch's
	// row says it is done.
	progress, err := chromedp.Run(tctx, chromedp.Poll[string](`(() => {
		const td = document.querySelector('`+row+` td.progress');
		return td && td.textContent.includes("done") ? td.textContent : false;
	})()`, chromedp.WithPollingTimeout(90*time.Second)))
	if err != nil {
		t.Fatalf("waiting for batch %s to show done: %v\n%s", b.ID, err, pageState(ctx, &mu, problems))
	}
	hits, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("hits")))
	if err != nil {
		t.Fatal(err)
	}
	ui, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => { const a = document.getElementById("riverui"); return a.parentElement.hidden ? "" : a.getAttribute("href"); })()`))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d/%d done", b.Devices, b.Devices)
	if !strings.Contains(progress, want) {
		t.Errorf("batch progress %q, want %q", progress, want)
	}
	final, err := admin.Batch(t.Context(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The page's cache figures are today's ledger: this batch's alone here.
	h, calls, _ := strings.Cut(hits, " / ")
	if nh, err := strconv.Atoi(h); err != nil || nh == 0 || calls != strconv.FormatInt(final.LLMCalls, 10) {
		t.Errorf("page shows cache hits / calls %q; want some hits and the batch's %d calls", hits, final.LLMCalls)
	}
	if ui != "/riverui/" {
		t.Errorf("River UI link %q, want /riverui/ shown to an admin", ui)
	}
	// A job that failed upstream, stored as a worker that gave up leaves
	// it, shows under the latest failures with its reason; its retry
	// button submits it again, and the new job runs on the server.
	st := openStore(t, db)
	jobs, err := store.ListBatchJobs(t.Context(), st.Conn(), b.ID, "", 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("batch jobs: %v, %v", jobs, err)
	}
	now := time.Now()
	failed := &netcfg.Job{ID: "dash-failed-1", Kind: jobs[0].Kind, Department: jobs[0].Department, RequestHash: jobs[0].RequestHash,
		Request: jobs[0].Request, MaxAttempts: 3, CreatedAt: now}
	if prev, err := store.InsertJob(t.Context(), st.Conn(), failed); prev != nil || err != nil {
		t.Fatalf("InsertJob = %v, %v", prev, err)
	}
	if ok, err := store.MarkState(t.Context(), st.Conn(), failed.ID, netcfg.StateFailed,
		"gave up after 3 attempts: anthropic 529 overloaded_error: Overloaded", 3, now, now); !ok || err != nil {
		t.Fatalf("MarkState = %v, %v", ok, err)
	}
	frow := `#failures tr[data-job="` + failed.ID + `"]`
	// The reason as the row shows it, read before the retry: the page
	// redraws its tables on every refresh (the retry starts one), and a
	// cell read while its table is redrawn reads empty.
	reason, err := chromedp.Run(tctx, chromedp.Poll[string](`(() => {
		const e = document.querySelector('`+frow+` td.reason');
		return e && e.textContent ? e.textContent : false;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || reason != "upstream_5xx" {
		t.Errorf("failure reason on the page %q (%v), want upstream_5xx", reason, err)
	}
	err = chromedp.Do(tctx,
		chromedp.WaitVisible(chromedp.CSS(frow)),
		chromedp.Click(chromedp.CSS(frow+" button")),
	)
	if err != nil {
		t.Fatalf("retrying %s from the page: %v\n%s", failed.ID, err, pageState(ctx, &mu, problems))
	}
	msg, err := chromedp.Run(tctx, chromedp.Poll[string](`(() => {
		const t = document.getElementById("jobs-msg").textContent;
		return t.startsWith("retried ") ? t : false;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the retry's answer: %v\n%s", err, pageState(ctx, &mu, problems))
	}
	newID := strings.TrimPrefix(msg, "retried "+failed.ID+" as ")
	if newID == msg || newID == "" {
		t.Fatalf("retry answer %q, want \"retried %s as ID\"", msg, failed.ID)
	}
	if j := waitAll(t, admin, []string{newID}, time.Minute)[0]; j.Status != netcfg.StateSucceeded {
		t.Errorf("the retried job ended %s (%s), want succeeded", j.Status, j.Error)
	}

	// The job list, filtered by the batch and a state, lists exactly the
	// batch's devices.
	err = chromedp.Do(tctx,
		chromedp.SetValue(chromedp.ID("f-state"), "succeeded"),
		chromedp.SetValue(chromedp.ID("f-batch"), b.ID),
		chromedp.Click(chromedp.CSS(`#filter button[type="submit"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := chromedp.Run(tctx, chromedp.Poll[int](`(() => {
		const rows = [...document.querySelectorAll("#jobs tr[data-job]")];
		return rows.length > 0 && rows.every((r) => r.querySelector("td.status").textContent === "succeeded"
			&& r.textContent.includes("`+b.ID+`")) ? rows.length : false;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || listed != b.Devices {
		t.Errorf("job list filtered by batch and succeeded: %d rows (%v), want %d\n%s", listed, err, b.Devices, pageState(ctx, &mu, problems))
	}

	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the page logged:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()

	checkRiverUI(t, base, key)
	browseRiverUI(t, ctx, base, key)
}

// browseRiverUI opens River UI in the browser as a person would: the
// server asks for credentials, the admin key is given as the password (as
// a person types it into the browser's prompt), and River UI lists the
// River rows of netsmith's jobs.
func browseRiverUI(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	var asked atomic.Int32
	err := chromedp.Listen(lctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		case *fetch.EventAuthRequired:
			asked.Add(1)
			go chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: "ops", Password: key}})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes,
		Patterns: []*fetch.RequestPattern{{URLPattern: "*/riverui/*"}}}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/riverui/jobs?state=completed")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.body.innerText.includes("netsmith_job")`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Errorf("River UI does not list netsmith_job rows: %v\n%.1000s", err, text)
	}
	if asked.Load() == 0 {
		t.Errorf("River UI never asked the browser for credentials")
	}
}

// pageState is what a failure shows: the page's text and what it logged.
func pageState(ctx context.Context, mu *sync.Mutex, problems []string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("page text (%v):\n%s\nlogged:\n%s", err, text, strings.Join(problems, "\n"))
}

// checkRiverUI: River UI answers an admin key sent as HTTP Basic with its
// page and with River's rows of the batch's jobs, asks a browser without
// one for credentials, and refuses every write.
func checkRiverUI(t *testing.T, base, key string) {
	t.Helper()
	do := func(method, path string, basic bool) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if basic {
			req.SetBasicAuth("ops", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, _ := do(http.MethodGet, "/riverui/", false); resp.StatusCode != http.StatusUnauthorized ||
		!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("River UI without a key: %d %q, want 401 asking for Basic credentials", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, body := do(http.MethodGet, "/riverui/api/jobs?state=completed&limit=100", true)
	var list struct {
		Data []struct {
			Kind string `json:"kind"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != http.StatusOK || err != nil || len(list.Data) == 0 {
		t.Errorf("River UI jobs: %d %v %.300q; want River's completed rows", resp.StatusCode, err, body)
	}
	// Its counts work without its background refresh (queue.RiverUI).
	resp, body = do(http.MethodGet, "/riverui/api/states", true)
	var states map[string]struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(body), &states); resp.StatusCode != http.StatusOK || err != nil || states["completed"].Count == 0 {
		t.Errorf("River UI states: %d %v %.300q; want completed jobs counted", resp.StatusCode, err, body)
	}
	if resp, body := do(http.MethodPost, "/riverui/api/jobs/cancel", true); resp.StatusCode != http.StatusMethodNotAllowed ||
		!strings.Contains(body, "read-only") {
		t.Errorf("River UI cancel: %d %.200q, want 405 read-only", resp.StatusCode, body)
	}
}
