package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/queue/queuetest"
	"netsmith/internal/store"

	"github.com/prometheus/client_golang/prometheus"
	"netsmith/internal/ledger"
	"netsmith/internal/submit"
)

// newServer starts the real handler over a real SQLite queue. With workers
// 0 jobs stay queued, which is what most of these tests want.
func newServer(t *testing.T, cfg httpapi.Config, workers int) (*httptest.Server, *rig) {
	t.Helper()
	return newMoneyServer(t, cfg, workers, nil)
}

const validJob = `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_xe"},"requirements":"access switch"}`

func post(t *testing.T, url, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: answer %d is not JSON: %q", url, resp.StatusCode, b)
	}
	return resp, out
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{MaxBody: 4096}, 0)
	tests := []struct {
		name, path, body string
		wantCode         int
		wantInMsg        string
	}{
		{"malformed json", "/v1/jobs", `{"kind":`, 400, "malformed JSON"},
		{"not an object", "/v1/jobs", `[1,2]`, 400, "must be a JSON object"},
		{"empty body", "/v1/jobs", ``, 400, "empty"},
		{"two documents", "/v1/jobs", validJob + validJob, 400, "more than one"},
		{"unknown field", "/v1/jobs", `{"kind":"generate","hostnme":"x"}`, 400, `"hostnme"`},
		{"wrong type", "/v1/jobs", `{"kind":"generate","device":{"hostname":5}}`, 400, "device.hostname"},
		{"missing kind", "/v1/jobs", `{"device":{"hostname":"a","platform":"cisco_ios"}}`, 400, "kind"},
		{"unknown kind", "/v1/jobs", `{"kind":"deploy"}`, 400, `unknown kind "deploy"`},
		{"missing device", "/v1/jobs", `{"kind":"generate","requirements":"x"}`, 400, "device"},
		{"unknown platform", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_asa"},"requirements":"x"}`, 400, "device.platform"},
		{"path in hostname", "/v1/jobs", `{"kind":"generate","device":{"hostname":"../../etc/passwd","platform":"cisco_ios"},"requirements":"x"}`, 400, "device.hostname"},
		{"vlan out of range", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"vlans":[5000]}},"requirements":"x"}`, 400, "device.vars.vlans.0"},
		{"bad expires_in", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","expires_in":"soon"}`, 400, "expires_in"},
		{"too large", "/v1/jobs", `{"kind":"analyze","platform":"cisco_ios","config":"` + strings.Repeat("x", 5000) + `"}`, 413, "larger than 4096"},
		{"legacy missing device_name", "/api/generate-config", `{"requirements":"x"}`, 400, "device_name"},
		{"legacy bad device_name", "/api/generate-config", `{"device_name":"a b","requirements":"x"}`, 400, "device_name"},
		{"legacy missing requirements", "/api/generate-config", `{"device_name":"sw1"}`, 400, "requirements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, srv.URL+tt.path, tt.body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d (%v), want %d", resp.StatusCode, body, tt.wantCode)
			}
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if e == nil || e["type"] == "" || !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("error = %v, want a type and a message containing %q", body, tt.wantInMsg)
			}
		})
	}
	d, err := q.Depth(t.Context())
	if err != nil || d[netcfg.StateQueued] != 0 {
		t.Errorf("after bad input, queue depth = %v (%v), want nothing queued", d, err)
	}
}

func TestBackpressure(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{MaxQueue: 3}, 0)
	for i := range 3 {
		if resp, body := post(t, srv.URL+"/v1/jobs", validJob); resp.StatusCode != 202 {
			t.Fatalf("submit %d: %d %v", i, resp.StatusCode, body)
		}
	}
	resp, body := post(t, srv.URL+"/v1/jobs", validJob)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th submit: %d Retry-After %q %v; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "3 jobs are waiting (limit 3)") {
		t.Errorf("message %q does not explain the limit", msg)
	}
	resp, _ = post(t, srv.URL+"/api/generate-config", `{"device_name":"sw9","requirements":"x"}`)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("legacy submit when full: %d, want 503", resp.StatusCode)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 0)
	r1, b1 := post(t, srv.URL+"/v1/jobs", validJob, "Idempotency-Key", "k1")
	r2, b2 := post(t, srv.URL+"/v1/jobs", validJob, "Idempotency-Key", "k1")
	if r1.StatusCode != 202 || r2.StatusCode != 202 || b1["id"] != b2["id"] || b1["duplicate"] != false || b2["duplicate"] != true {
		t.Fatalf("same key twice: %d %v / %d %v; want the same id, second duplicate", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	withField := strings.Replace(validJob, `{"kind"`, `{"idempotency_key":"k1","kind"`, 1)
	if _, b := post(t, srv.URL+"/v1/jobs", withField); b["id"] != b1["id"] {
		t.Errorf("key in the body: %v, want id %v", b, b1["id"])
	}
	other := strings.Replace(validJob, "sw1", "sw2", 1)
	r3, b3 := post(t, srv.URL+"/v1/jobs", other, "Idempotency-Key", "k1")
	if r3.StatusCode != http.StatusConflict {
		t.Errorf("same key, other body: %d %v, want 409", r3.StatusCode, b3)
	}
}

func TestJobLifecycleAndEvents(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 2)
	c := httpapi.NewClient(srv.URL, srv.Client(), "")
	ctx := t.Context()
	sub, err := c.Submit(ctx, &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind: netcfg.KindGenerate, Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoXE}, Requirements: "x",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []netcfg.JobState
	final, err := c.Wait(ctx, sub.ID, func(v *httpapi.JobView) { seen = append(seen, v.Status) })
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != netcfg.StateSucceeded || final.Attempts != 1 || final.FinishedAt == nil || len(final.Result) == 0 {
		t.Fatalf("final event = %+v", final)
	}
	if seen[len(seen)-1] != netcfg.StateSucceeded {
		t.Errorf("states seen %v, want to end with succeeded", seen)
	}
	if _, err := c.Cancel(ctx, sub.ID); !isStatus(err, http.StatusConflict) {
		t.Errorf("cancel a finished job: %v, want 409", err)
	}
	if _, err := c.Job(ctx, "no-such-job"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("unknown job: %v, want 404", err)
	}
	if _, err := c.LegacyStatus(ctx, "no-such-job"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("unknown legacy job: %v, want 404", err)
	}
	checkEventStreamMetrics(t, srv.URL)
}

// TestEventsSeeOtherProcesses opens many event streams on one process and
// cancels their jobs from another (a second queue on the same database,
// whose changes this process is not told of in-process): every stream must
// end with the canceled state, on SQLite through the poller that reads the
// jobs of all open streams together, on PostgreSQL through the queue's
// change feed (LISTEN/NOTIFY), with the poller an hour apart.
func TestEventsSeeOtherProcesses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, testEventsSeeOtherProcesses)
}

func testEventsSeeOtherProcesses(t *testing.T, url string) {
	poll := 50 * time.Millisecond
	if !store.IsSQLite(url) {
		poll = time.Hour
	}
	srv, q := newServerOn(t, url, httpapi.Config{EventPoll: poll}, 0, nil)
	c := httpapi.NewClient(srv.URL, srv.Client(), "")
	other, err := queue.New(dbtest.Open(t, url), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	const n = 300
	ids := make([]string, n)
	for i := range ids {
		j := queuetest.NewJob("", fmt.Sprint("other-", i))
		if _, _, err := q.Enqueue(t.Context(), j, nil); err != nil {
			t.Fatal(err)
		}
		ids[i] = j.ID
	}
	// No deadline of its own: on a loaded machine 300 streams took longer
	// than any fixed one; a stream that never ends is caught by the test
	// binary's -timeout, with every goroutine's stack.
	ctx := t.Context()
	var opened, ended sync.WaitGroup
	finals := make([]*httpapi.JobView, n)
	errs := make([]error, n)
	for i, id := range ids {
		opened.Add(1)
		ended.Go(func() {
			first := true
			finals[i], errs[i] = c.Wait(ctx, id, func(*httpapi.JobView) {
				if first {
					first = false
					opened.Done()
				}
			})
			if first {
				opened.Done()
			}
		})
	}
	opened.Wait()
	for !store.IsSQLite(url) && !q.Announced() {
		select {
		case <-ctx.Done():
			t.Fatal("the change feed never listened")
		case <-time.After(5 * time.Millisecond):
		}
	}
	for _, id := range ids {
		j, err := other.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := other.Cancel(t.Context(), j); !ok || err != nil {
			t.Fatalf("cancel %s from the other process: %v, %v", id, ok, err)
		}
	}
	ended.Wait()
	for i := range ids {
		if errs[i] != nil || finals[i] == nil || finals[i].Status != netcfg.StateCanceled {
			t.Fatalf("stream %d ended with %+v, %v; want canceled", i, finals[i], errs[i])
		}
	}
}

func TestCancelQueuedJob(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 0)
	c := httpapi.NewClient(srv.URL, srv.Client(), "")
	resp, err := c.LegacyGenerate(t.Context(), "sw1", "x")
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Cancel(t.Context(), resp.JobID)
	if err != nil || v.Status != netcfg.StateCanceled {
		t.Fatalf("cancel = %+v, %v", v, err)
	}
	st, err := c.LegacyStatus(t.Context(), resp.JobID)
	if err != nil || st.Status != "REVOKED" {
		t.Fatalf("legacy status after cancel = %+v, %v; want REVOKED", st, err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 0)
	post(t, srv.URL+"/v1/jobs", validJob)
	for path, want := range map[string]string{
		"/healthz":    `"ok"`,
		"/readyz":     `"ready"`,
		"/api/health": `"healthy"`,
		"/metrics":    `netsmith_http_requests_total{code="202",route="POST /v1/jobs"} 1`,
		"/":           "<title>netsmith</title>",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, want 200 containing %q:\n%.500s", path, resp.StatusCode, want, b)
		}
	}
	resp, err := http.Get(srv.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown route = %d, want 404", resp.StatusCode)
	}
}

func isStatus(err error, code int) bool {
	var e *httpapi.APIError
	return errors.As(err, &e) && e.Status == code
}

// TestBatchResultsSince: ?since= returns only the devices that finished at
// or after it, each with its finish time; a bad value is a 400 naming it.
func TestBatchResultsSince(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{MaxBody: 1 << 20}, 0)
	c := httpapi.NewClient(srv.URL, nil, "")
	ctx := t.Context()
	fleet := "hostname,role,platform,requirements\nsw1,access,cisco_xe,access switch\nsw2,access,cisco_xe,access switch\nsw3,access,cisco_xe,access switch\n"
	b, err := c.SubmitFleet(ctx, httpapi.SubmitOptions{Name: "f.csv", Format: "csv"}, []byte(fleet))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := store.ListBatchJobs(ctx, q.DB.Conn(), b.ID, "", 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	early := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	late := early.Add(time.Minute)
	for i, at := range []time.Time{early, late} { // the third stays queued
		if ok, err := store.MarkState(ctx, q.DB.Conn(), jobs[i].ID, netcfg.StateFailed, "x", 1, at, at); !ok || err != nil {
			t.Fatalf("MarkState = %v, %v", ok, err)
		}
	}
	collect := func(since time.Time) map[string]*httpapi.BatchResult {
		t.Helper()
		out := map[string]*httpapi.BatchResult{}
		if err := c.BatchResultsSince(ctx, b.ID, since, func(br *httpapi.BatchResult) error {
			out[br.JobID] = br
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if all := collect(time.Time{}); len(all) != 3 || all[jobs[2].ID].FinishedAt != nil {
		t.Errorf("without since: %d results, want 3 (the queued one without finished_at)", len(all))
	}
	got := collect(late)
	if br := got[jobs[1].ID]; len(got) != 1 || br == nil || br.FinishedAt == nil || !br.FinishedAt.Equal(late) {
		t.Errorf("since %s: %v, want only %s finished at that time", late, got, jobs[1].ID)
	}
	if got := collect(early.Add(-time.Millisecond)); len(got) != 2 {
		t.Errorf("since before both: %d results, want 2", len(got))
	}
	resp, err := http.Get(srv.URL + "/v1/batches/" + b.ID + "/results?since=yesterday")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "since") {
		t.Errorf("bad since: %d %s", resp.StatusCode, body)
	}
}

// TestBatchIntentKeys: each device of a fleet batch is tagged with its
// intent's cache key, computed once per intent and set of variable names:
// devices of one intent whose variables differ in name get different keys,
// equal to what the generate service computes for each alone.
func TestBatchIntentKeys(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	db := dbtest.Open(t, dbtest.SQLite(t))
	q, err := queue.New(db, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	tc := cache.New(cache.Config{Conn: db.Conn(), Owner: "t"})
	svc := generate.New(generate.Config{Provider: "test", Model: "m", Cache: tc})
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{MaxBody: 1 << 20}, httpapi.Deps{DB: db, Queue: q, Metrics: metrics.New(reg),
		Registry: reg, Logger: slog.New(slog.DiscardHandler), Cache: tc, TemplateMeta: svc.TemplateMeta,
		Money: ledger.New(db, nil), Submit: submit.New(submit.Config{}, submit.Deps{Queue: q, Cache: true, TemplateMeta: svc.TemplateMeta})}))
	t.Cleanup(srv.Close)
	fleetCSV := "hostname,role,platform,requirements,var.mgmt_ip,var.asn\n" +
		"sw1,access,cisco_xe,access switch,10.0.0.1/24,\n" +
		"sw2,access,cisco_xe,access switch,10.0.0.2/24,\n" +
		"sw3,access,cisco_xe,access switch,10.0.0.3/24,65001\n" + // one more variable
		"sw4,core,cisco_xe,core switch,10.0.0.4/24,\n"
	b, err := httpapi.NewClient(srv.URL, nil, "").SubmitFleet(t.Context(), httpapi.SubmitOptions{Name: "f.csv", Format: "csv"}, []byte(fleetCSV))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := store.ListBatchJobs(t.Context(), db.Conn(), b.ID, "", 10)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	keys := map[string]string{}
	for _, j := range jobs {
		var req netcfg.JobRequest
		if err := json.Unmarshal(j.Request, &req); err != nil {
			t.Fatal(err)
		}
		want, _ := svc.IntentKey(&req)
		if j.IntentKey != want {
			t.Errorf("%s: intent key %.12s, want %.12s", req.Device.Hostname, j.IntentKey, want)
		}
		keys[req.Device.Hostname] = j.IntentKey
	}
	if keys["sw1"] != keys["sw2"] || keys["sw1"] == keys["sw3"] || keys["sw1"] == keys["sw4"] || keys["sw3"] == keys["sw4"] {
		t.Errorf("keys %v: want sw1 = sw2, and sw3 and sw4 apart", keys)
	}
}
