package faulttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/faulttest"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/ledger"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/submit"
)

// api is the HTTP API over a migrated queue on url, without workers.
func api(t *testing.T, url string, cfg httpapi.Config) *httptest.Server {
	t.Helper()
	db := dbtest.Open(t, url)
	q, err := queue.New(db, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := generate.New(generate.Config{Model: "m", MaxTokens: 8192})
	est := func(r *netcfg.JobRequest) (int64, error) { _, _, _, err := svc.Estimate(r); return 1, err }
	srv := httptest.NewServer(httpapi.NewServer(cfg, httpapi.Deps{DB: db, Queue: q, Logger: slog.New(slog.DiscardHandler),
		Money: ledger.New(db, nil), Submit: submit.New(submit.Config{}, submit.Deps{Queue: q, Estimate: est})}))
	t.Cleanup(func() {
		srv.Close()
		q.Close()
	})
	return srv
}

// send makes one request and returns its status and Retry-After.
func send(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header[header[i]] = []string{header[i+1]}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func job(i int) string {
	return fmt.Sprintf(`{"kind":"generate","device":{"hostname":"sw%d","platform":"cisco_xe"},"requirements":"access switch %d"}`, i, i)
}

var fastOutage = httpapi.Config{OutageHold: 300 * time.Millisecond, ReadyCache: time.Millisecond, ReadyTimeout: time.Second}

// outage runs submissions through an outage that start begins and stop
// ends, and records what the clients saw.
func outage(t *testing.T, name, db string, srv *httptest.Server, start, stop func()) {
	if code, _ := send(t, "POST", srv.URL+"/v1/jobs", job(0)); code != 202 {
		t.Fatalf("before the outage: %d", code)
	}
	start()
	codes := map[int]int{}
	readyFailed, retryAfter := false, true
	i := 1
	for ; i < 300 && codes[503] < 20; i++ {
		code, ra := send(t, "POST", srv.URL+"/v1/jobs", job(i))
		codes[code]++
		if code == 503 {
			retryAfter = retryAfter && ra != ""
			if c, _ := send(t, "GET", srv.URL+"/readyz", ""); c == 503 {
				readyFailed = true
			}
		}
	}
	stopped := time.Now()
	stop()
	var recovered time.Duration
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); i++ {
		code, _ := send(t, "POST", srv.URL+"/v1/jobs", job(i))
		if code == 202 {
			if c, _ := send(t, "GET", srv.URL+"/readyz", ""); c == 200 {
				recovered = time.Since(stopped)
				break
			}
		} else if code != 503 {
			codes[code]++
		}
		time.Sleep(20 * time.Millisecond)
	}
	held := codes[500] == 0 && codes[503] > 0 && retryAfter && readyFailed && recovered > 0
	record(t, name, db, held, "during: %d × 503 with Retry-After, %d × 202 (room left), %d × 500; /readyz 503: %v; after: 202 and ready in %d ms",
		codes[503], codes[202], codes[500], readyFailed, recovered.Milliseconds())
}

// TestDiskFull: SQLite on a 16 MB tmpfs filled to the last byte.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := faulttest.Tmpfs(t, "16m")
	srv := api(t, "sqlite://"+filepath.Join(dir, "netsmith.db"), fastOutage)
	var free func()
	outage(t, "disk full", "sqlite", srv, func() { free = faulttest.Fill(t, dir) }, func() { free() })
}

// TestDatabaseStopStart: a private PostgreSQL stopped (fast) and started
// again under the same server.
func TestDatabaseStopStart(t *testing.T) {
	t.Parallel()
	pg := faulttest.PrivatePostgres(t)
	srv := api(t, pg.URL, fastOutage)
	outage(t, "database stop/start", "postgres", srv, pg.Stop, pg.Start)
}

// badBytes are requests with bytes the databases refuse or that are out of
// every range: none may be a 5xx. (Invalid UTF-8 inside a JSON string is
// decoded to U+FFFD, so that one is accepted.)
func badBytes() []struct{ method, path, body, header string } {
	return []struct{ method, path, body, header string }{
		{"GET", "/v1/jobs/a%00b", "", ""},
		{"GET", "/v1/jobs/%ff%fe", "", ""},
		{"DELETE", "/v1/jobs/a%00b", "", ""},
		{"GET", "/v1/jobs/a%00b/events", "", ""},
		{"GET", "/v1/batches/%00", "", ""},
		{"GET", "/v1/batches/%c3%28/results", "", ""},
		{"GET", "/v1/budgets/a%00b", "", ""},
		{"PUT", "/v1/budgets/%ff", `{"daily_usd":1}`, ""},
		{"PUT", "/v1/budgets/ops", `{"daily_usd":1e10}`, ""},
		{"PUT", "/v1/budgets/ops", `{"daily_usd":-1}`, ""},
		{"GET", "/v1/costs?group_by=%00", "", ""},
		{"GET", "/v1/jobs?department=%ff", "", ""},
		{"POST", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","department":"a\u0000b"}`, ""},
		{"POST", "/v1/jobs", "{\"kind\":\"generate\",\"device\":{\"hostname\":\"a\",\"platform\":\"cisco_ios\"},\"requirements\":\"x\xff\"}", ""},
		{"POST", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","department":"=HYPERLINK(\"x\")"}`, ""},
		{"POST", "/v1/jobs", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","expires_in":"1e308s"}`, ""},
		{"POST", "/v1/jobs", `{"kind":"generate","device":{"hostname":"` + strings.Repeat("a", 253) + `","platform":"cisco_ios"},"requirements":"x"}`, ""},
		{"POST", "/v1/jobs", job(1), "\xff\xfe"},
		{"POST", "/api/generate-config", `{"device_name":"a\u0000","requirements":"x"}`, ""},
		{"GET", "/api/job-status/%00", "", ""},
		{"POST", "/v1/batches", "hostname,group\n\x00,\xff\n", ""},
		{"POST", "/v1/cache/invalidate", `{"key":"\u0000"}`, ""},
	}
}

// TestBadBytes sends every bad-bytes request on both databases.
func TestBadBytes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		db := "sqlite"
		if strings.HasPrefix(url, "postgres") {
			db = "postgres"
		}
		srv := api(t, url, httpapi.Config{})
		counts := map[int]int{}
		var worst string
		for _, r := range badBytes() {
			var header []string
			if r.header != "" {
				header = []string{"Idempotency-Key", r.header}
			}
			code, _ := send(t, r.method, srv.URL+r.path, r.body, header...)
			counts[code]++
			if code >= 500 {
				worst = fmt.Sprintf("%s %s → %d", r.method, r.path, code)
			}
		}
		n5 := 0
		for c, n := range counts {
			if c >= 500 {
				n5 += n
			}
		}
		record(t, "bad bytes and ranges", db, n5 == 0, "%d requests: %d × 5xx %s; statuses %v", len(badBytes()), n5, worst, counts)
	})
}

// TestNestedRequest: the 20 KB request nested 3,000 deep, and one at the
// body limit nested 150,000 deep, refused before any work.
func TestNestedRequest(t *testing.T) {
	t.Parallel()
	srv := api(t, dbtest.SQLite(t), httpapi.Config{})
	var figs []string
	held := true
	for _, depth := range []int{3000, 150_000} {
		deep := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		body := `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":` + deep + `},"requirements":"x"}`
		best := time.Hour
		var code int
		for range 5 { // the best of 5: the machine is shared
			start := time.Now()
			code, _ = send(t, "POST", srv.URL+"/v1/jobs", body)
			best = min(best, time.Since(start))
		}
		// Held: refused, and in far less than the seconds the request once
		// cost; the 10 ms target is reported, not asserted, as a
		// loaded machine or -race can miss it without anything being wrong.
		held = held && code == 400 && best < time.Second
		target := "within"
		if best >= 10*time.Millisecond {
			target = "over"
		}
		figs = append(figs, fmt.Sprintf("%d KB nested %d deep → %d in %.1f ms (%s the 10 ms target)", len(body)>>10, depth, code, float64(best.Microseconds())/1000, target))
	}
	record(t, "nested request", "sqlite", held, "%s; best of 5, over HTTP", strings.Join(figs, "; "))
}

// hostileLLM answers every call, template or config, with one hostile text.
type hostileLLM struct {
	text  string
	calls atomic.Int32
}

func (h *hostileLLM) Generate(_ context.Context, req llm.Request) (*llm.Response, error) {
	h.calls.Add(1)
	return &llm.Response{Provider: "test", Model: req.Model, Text: "```\n" + h.text + "\n```\n",
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 50}}, nil
}

// hostileTemplates are answers a hostile or confused model might give:
// loops, output bombs, recursion, unknown functions, file and environment
// access, template text that would pass as a config.
var hostileTemplates = []string{
	`hostname {{.hostname}}{{range .uplinks}}{{range $.uplinks}}{{range $.uplinks}}{{range $.uplinks}}x{{end}}{{end}}{{end}}{{end}}`,
	`{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}`,
	`{{$a := print .hostname .hostname}}` + strings.Repeat(`{{$a = print $a $a}}`, 40) + `{{$a}}`,
	`hostname {{exec "id"}}`,
	`hostname {{readFile "/etc/passwd"}}`,
	`hostname {{env "HOME"}}`,
	`hostname {{.hostname | printf "%999999999d"}}`,
	`hostname {{call .hostname}}`,
	`hostname {{.hostname}}{{/* never closed`,
	`hostname {{.nope.deeper}}`,
	`hostname {{range $i, $e := .uplinks}}{{index $.uplinks 99}}{{end}}`,
	`hostname {{.hostname}}` + "\n" + strings.Repeat("interface Gi0/{{.hostname}}\n", 20000),
	`{{if .hostname}}hostname {{.hostname}}{{end}}{{range .vlans}}vlan {{.id}}{{end}}`,
	`hostname {{slice .hostname 0 999}}`,
	`hostname {{len 5}}`,
	`hostname {{template "missing"}}`,
	`hostname {{.hostname}} {{block "b" .}}{{.}}{{end}}`,
}

// TestHostileTemplates: no hostile answer becomes a config; each job fails
// with a reason (or renders what its template really says, for the ones
// that are only odd), within the render limits.
func TestHostileTemplates(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t, dbtest.SQLite(t))
	configs, failed := 0, 0
	var slowest time.Duration
	for i, text := range hostileTemplates {
		h := &hostileLLM{text: text}
		svc := generate.New(generate.Config{LLM: h, Provider: "test", Model: "m",
			Cache: cache.New(cache.Config{Conn: db.Conn(), Owner: "suite"})})
		req := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: fmt.Sprintf("hostile %d", i),
			Device: &netcfg.Device{Hostname: fmt.Sprintf("sw%d", i), Platform: netcfg.CiscoIOS,
				Vars: map[string]any{"uplinks": []any{"a", "b", "c", "d", "e", "f", "g", "h"}, "vlans": []any{map[string]any{"id": 10}}}}}
		start := time.Now()
		res, err := svc.Run(context.Background(), req, generate.Options{})
		slowest = max(slowest, time.Since(start))
		switch {
		case err != nil:
			failed++
		case strings.Contains(res.Config, "{{") || strings.Contains(res.Config, "}}"):
			t.Errorf("hostile template %d became a config with template text:\n%.300s", i, res.Config)
			configs++
		}
	}
	record(t, "hostile templates", "sqlite", configs == 0, "%d templates: %d jobs failed with a reason, %d configs holding template text; slowest %d ms",
		len(hostileTemplates), failed, configs, slowest.Milliseconds())
}

// decodeJSON is json.Unmarshal for the slow cases' answers.
func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
