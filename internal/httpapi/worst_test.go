package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/queue"
	"netsmith/internal/submit"
)

// benchModel is priced for the figures: serve's default Anthropic model.
const benchModel = "claude-sonnet-4-5"

// realEstimate is serve's estimate: generate's prompt for the request,
// priced, refused over the input-token limit.
func realEstimate(svc *generate.Service) func(*netcfg.JobRequest) (int64, error) {
	prices := pricing.Default()
	return func(req *netcfg.JobRequest) (int64, error) {
		model, in, out, err := svc.Estimate(req)
		if err != nil {
			return 0, err
		}
		c, err := prices.Estimate(model, time.Now(), in, out)
		return int64(c), err
	}
}

// chains is a vars tree of n chains nested netcfg.MaxTreeDepth deep: the
// shape whose prompt costs most per byte of request (indentation grows
// with depth).
func chains(n int) map[string]any {
	vars := map[string]any{}
	for c := range n {
		v := any("x")
		for range netcfg.MaxTreeDepth - 1 {
			v = map[string]any{"k": v}
		}
		vars[fmt.Sprint("c", c)] = v
	}
	return vars
}

// worstAccepted is the costliest request POST /v1/jobs accepts: the
// longest requirements text, and as many chains nested to the depth limit
// as the prompt's input-token limit lets through (found by bisection).
func worstAccepted(tb testing.TB, svc *generate.Service) *netcfg.JobRequest {
	tb.Helper()
	req := func(n int) *netcfg.JobRequest {
		return &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: strings.Repeat("Access switch, SSH only. ", netcfg.MaxRequirements/25),
			Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoIOS, Vars: chains(n)}}
	}
	lo, hi := 0, netcfg.MaxTreeNodes/netcfg.MaxTreeDepth // lo accepted, hi refused or the node limit
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, _, _, err := svc.Estimate(req(mid)); err == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	r := req(lo)
	if err := r.Validate(); err != nil {
		tb.Fatalf("the worst accepted request is refused: %v", err)
	}
	return r
}

// nestedBody is a 20 KB-class request nested far beyond the depth limit.
func nestedBody(depth int) string {
	deep := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	return `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":` + deep + `},"requirements":"x"}`
}

// submitHandler is the API over a migrated SQLite queue without workers,
// with serve's real estimate.
func submitHandler(tb testing.TB, svc *generate.Service) http.Handler {
	tb.Helper()
	db := dbtest.Open(tb, dbtest.SQLite(tb))
	q, err := queue.New(db, queue.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(q.Close)
	return httpapi.NewServer(httpapi.Config{}, httpapi.Deps{DB: db, Queue: q, Logger: slog.New(slog.DiscardHandler),
		Submit: submit.New(submit.Config{}, submit.Deps{Queue: q, Estimate: realEstimate(svc)})})
}

func postTo(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/jobs", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestPromptOverLimitRefused: a request inside every vars bound whose
// prompt is over the input-token limit is answered 400 naming the field;
// the worst request under it is accepted.
func TestPromptOverLimitRefused(t *testing.T) {
	t.Parallel()
	svc := generate.New(generate.Config{Model: benchModel, MaxTokens: 8192})
	h := submitHandler(t, svc)
	worst := worstAccepted(t, svc)
	over := *worst
	over.Device = &netcfg.Device{Hostname: "sw2", Platform: netcfg.CiscoIOS, Vars: chains(len(worst.Device.Vars) + 1)}
	body, _ := json.Marshal(&over)
	rec := postTo(h, string(body))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "device.vars") || !strings.Contains(rec.Body.String(), "--max-input-tokens") {
		t.Errorf("over the limit: %d %s, want 400 naming device.vars and the limit", rec.Code, rec.Body)
	}
	body, _ = json.Marshal(worst)
	if rec := postTo(h, string(body)); rec.Code != 202 {
		t.Errorf("the worst accepted request: %d %s, want 202", rec.Code, rec.Body)
	}
}

// BenchmarkSubmitWorstAccepted is what the costliest accepted POST /v1/jobs
// costs the API (decode, bounds, the prompt estimate built once, the
// budget's price, enqueue on SQLite), and the most its one model call can
// cost: input-tokens and usd-per-call.
func BenchmarkSubmitWorstAccepted(b *testing.B) {
	svc := generate.New(generate.Config{Model: benchModel, MaxTokens: 8192})
	h := submitHandler(b, svc)
	worst := worstAccepted(b, svc)
	model, in, out, err := svc.Estimate(worst)
	if err != nil {
		b.Fatal(err)
	}
	usd, err := pricing.Default().Estimate(model, time.Now(), in, out)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(worst)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		rec := postTo(h, strings.Replace(string(body), `"hostname":"sw1"`, fmt.Sprintf(`"hostname":"sw%d"`, i), 1))
		if rec.Code != 202 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(in), "input-tokens")
	b.ReportMetric(float64(len(body)), "body-bytes")
	b.ReportMetric(usd.USD(), "usd-per-call")
}

// BenchmarkSubmitNestedRefused is what a request nested 3,000 deep (the one
// that once cost seconds) costs before its 400.
func BenchmarkSubmitNestedRefused(b *testing.B) {
	h := submitHandler(b, generate.New(generate.Config{Model: benchModel, MaxTokens: 8192}))
	body := nestedBody(3000)
	b.ReportAllocs()
	for b.Loop() {
		if rec := postTo(h, body); rec.Code != 400 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(len(body)), "body-bytes")
}
