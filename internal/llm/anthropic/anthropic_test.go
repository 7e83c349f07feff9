package anthropic_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"netsmith/internal/llm"
	"netsmith/internal/llm/anthropic"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// canned is an upstream that answers every request the same way and
// records what it was sent.
type canned struct {
	status   int
	header   map[string]string
	body     string
	calls    atomic.Int64
	mu       sync.Mutex
	lastReq  *http.Request
	lastBody string
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.lastReq, c.lastBody = r, string(body)
	c.mu.Unlock()
	for k, v := range c.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("content-type") == "" {
		w.Header().Set("content-type", "application/json")
	}
	w.WriteHeader(c.status)
	_, _ = io.WriteString(w, c.body)
}

// newClient starts h and returns a client for it.
func newClient(t *testing.T, h http.Handler, cfg anthropic.Config) *anthropic.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.APIKey == "" {
		cfg.APIKey = "sk-test"
	}
	if cfg.Model == "" {
		cfg.Model = "claude-test"
	}
	cfg.HTTPClient = srv.Client()
	return anthropic.New(cfg)
}

const okBody = `{"id":"msg_01","type":"message","role":"assistant","model":"claude-test-20250101",
 "content":[{"type":"text","text":"hello "},{"type":"thinking","thinking":"x"},{"type":"text","text":"world"}],
 "stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":120,"cache_creation_input_tokens":30,"cache_read_input_tokens":400,"output_tokens":55}}`

func TestGenerateWire(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, body: okBody}
	c := newClient(t, up, anthropic.Config{APIKey: "sk-secret", Model: "claude-default", MaxTokens: 2048})
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{
			name: "all fields",
			req: llm.Request{Model: "claude-x", System: "you write configs", MaxTokens: 1024,
				Messages: []llm.Message{{Role: "user", Content: "hi \"there\""}, {Role: "assistant", Content: "ok"}}},
			want: `{"model":"claude-x","max_tokens":1024,"system":"you write configs","messages":[{"role":"user","content":"hi \"there\""},{"role":"assistant","content":"ok"}]}`,
		},
		{
			name: "defaults and no system",
			req:  llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}},
			want: `{"model":"claude-default","max_tokens":2048,"messages":[{"role":"user","content":"x"}]}`,
		},
	}
	for _, tt := range tests {
		if _, err := c.Generate(t.Context(), tt.req); err != nil {
			t.Fatalf("%s: Generate: %v", tt.name, err)
		}
		up.mu.Lock()
		r, body := up.lastReq, up.lastBody
		up.mu.Unlock()
		if body != tt.want {
			t.Errorf("%s: body on the wire:\n got %s\nwant %s", tt.name, body, tt.want)
		}
		gotHead := map[string]string{
			"method":            r.Method,
			"path":              r.URL.Path,
			"x-api-key":         r.Header.Get("x-api-key"),
			"anthropic-version": r.Header.Get("anthropic-version"),
			"content-type":      r.Header.Get("content-type"),
		}
		wantHead := map[string]string{
			"method":            "POST",
			"path":              "/v1/messages",
			"x-api-key":         "sk-secret",
			"anthropic-version": "2023-06-01",
			"content-type":      "application/json",
		}
		if diff := cmp.Diff(wantHead, gotHead); diff != "" {
			t.Errorf("%s: request head (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestGenerateResponse(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, body: okBody, header: map[string]string{
		"request-id":                                  "req_abc",
		"anthropic-ratelimit-requests-limit":          "50",
		"anthropic-ratelimit-requests-remaining":      "49",
		"anthropic-ratelimit-requests-reset":          "2026-01-02T03:04:05Z",
		"anthropic-ratelimit-input-tokens-limit":      "30000",
		"anthropic-ratelimit-input-tokens-remaining":  "29000",
		"anthropic-ratelimit-input-tokens-reset":      "2026-01-02T03:04:01Z",
		"anthropic-ratelimit-output-tokens-limit":     "8000",
		"anthropic-ratelimit-output-tokens-remaining": "7945",
		"anthropic-ratelimit-output-tokens-reset":     "2026-01-02T03:04:03.5Z",
	}}
	c := newClient(t, up, anthropic.Config{})
	got, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	want := &llm.Response{
		Provider:   "anthropic",
		Model:      "claude-test-20250101",
		Text:       "hello world",
		StopReason: "end_turn",
		Usage:      llm.Usage{InputTokens: 120, OutputTokens: 55, CacheWriteTokens: 30, CacheReadTokens: 400},
		RequestID:  "req_abc",
		RateLimits: &llm.RateLimits{
			RequestsLimit: 50, RequestsRemaining: 49,
			InputTokensLimit: 30000, InputTokensRemaining: 29000,
			OutputTokensLimit: 8000, OutputTokensRemaining: 7945,
			Reset: time.Date(2026, 1, 2, 3, 4, 1, 0, time.UTC),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func errBody(typ, msg string) string {
	return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_body"}`
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	date := "Fri, 02 Jan 2026 03:04:00 GMT"
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   llm.Error
	}{
		{"400", 400, nil, errBody("invalid_request_error", "max_tokens: Field required"),
			llm.Error{Class: llm.Permanent, Status: 400, Type: "invalid_request_error", Message: "max_tokens: Field required"}},
		{"401", 401, nil, errBody("authentication_error", "invalid x-api-key"),
			llm.Error{Class: llm.Permanent, Status: 401, Type: "authentication_error", Message: "invalid x-api-key"}},
		{"402", 402, nil, errBody("billing_error", "Your credit balance is too low"),
			llm.Error{Class: llm.Permanent, Status: 402, Type: "billing_error", Message: "Your credit balance is too low"}},
		{"403", 403, nil, errBody("permission_error", "no access to model"),
			llm.Error{Class: llm.Permanent, Status: 403, Type: "permission_error", Message: "no access to model"}},
		{"404", 404, nil, errBody("not_found_error", "model: claude-nope"),
			llm.Error{Class: llm.Permanent, Status: 404, Type: "not_found_error", Message: "model: claude-nope"}},
		{"413", 413, nil, errBody("request_too_large", "Request exceeds the maximum allowed number of bytes."),
			llm.Error{Class: llm.Permanent, Status: 413, Type: "request_too_large", Message: "Request exceeds the maximum allowed number of bytes."}},
		{"429 retry-after", 429, map[string]string{"retry-after": "2"}, errBody("rate_limit_error", "slow down"),
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "rate_limit_error", Message: "slow down", RetryAfter: 2 * time.Second}},
		{"429 retry-after-ms", 429, map[string]string{"retry-after-ms": "1500", "retry-after": "2"}, errBody("rate_limit_error", "slow down"),
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "rate_limit_error", Message: "slow down", RetryAfter: 1500 * time.Millisecond}},
		{"429 resets", 429, map[string]string{
			"date":                                       date,
			"anthropic-ratelimit-requests-remaining":     "3",
			"anthropic-ratelimit-requests-reset":         "2026-01-02T03:04:30Z",
			"anthropic-ratelimit-input-tokens-remaining": "0",
			"anthropic-ratelimit-input-tokens-reset":     "2026-01-02T03:04:07Z",
		}, errBody("rate_limit_error", "input tokens"),
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "rate_limit_error", Message: "input tokens", RetryAfter: 7 * time.Second}},
		{"429 nothing", 429, nil, errBody("rate_limit_error", "x"),
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "rate_limit_error", Message: "x", RetryAfter: anthropic.DefaultRetryAfter}},
		{"500", 500, nil, errBody("api_error", "Internal server error"),
			llm.Error{Class: llm.Transient, Status: 500, Type: "api_error", Message: "Internal server error"}},
		{"502 html", 502, map[string]string{"content-type": "text/html"}, "<html>bad gateway</html>",
			llm.Error{Class: llm.Transient, Status: 502, Message: "Bad Gateway"}},
		{"503 text", 503, map[string]string{"content-type": "text/plain"}, "upstream connect error\n",
			llm.Error{Class: llm.Transient, Status: 503, Message: "upstream connect error"}},
		{"504", 504, nil, errBody("timeout_error", "Request timed out"),
			llm.Error{Class: llm.Transient, Status: 504, Type: "timeout_error", Message: "Request timed out"}},
		{"529", 529, map[string]string{"retry-after": "10"}, errBody("overloaded_error", "Overloaded"),
			llm.Error{Class: llm.Transient, Status: 529, Type: "overloaded_error", Message: "Overloaded", RetryAfter: 10 * time.Second}},
		{"422 unknown 4xx", 422, nil, errBody("invalid_request_error", "bad"),
			llm.Error{Class: llm.Permanent, Status: 422, Type: "invalid_request_error", Message: "bad"}},
		{"200 malformed", 200, nil, `{"id":`,
			llm.Error{Class: llm.Transient, Status: 200, Message: "malformed response body"}},
		{"200 error body", 200, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			llm.Error{Class: llm.Transient, Status: 200, Message: "malformed response body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := &canned{status: tt.status, header: tt.header, body: tt.body}
			c := newClient(t, up, anthropic.Config{})
			resp, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
			if resp != nil {
				t.Errorf("Generate returned a response: %+v", resp)
			}
			var got *llm.Error
			if !errors.As(err, &got) {
				t.Fatalf("Generate error = %v (%T), want *llm.Error", err, err)
			}
			tt.want.Provider = "anthropic"
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(llm.Error{}, "Err")); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := up.calls.Load(); n != 1 {
				t.Errorf("upstream called %d times, want exactly 1", n)
			}
		})
	}
}

// rateLimited is how the upstream limiter reads the headers of a failed
// call.
type rateLimited interface{ RateLimits() *llm.RateLimits }

func TestErrorCarriesRateLimits(t *testing.T) {
	t.Parallel()
	up := &canned{status: 429, body: errBody("rate_limit_error", "x"), header: map[string]string{
		"retry-after":                            "3",
		"request-id":                             "req_429",
		"anthropic-ratelimit-requests-limit":     "50",
		"anthropic-ratelimit-requests-remaining": "0",
		"anthropic-ratelimit-requests-reset":     "2026-01-02T03:04:05Z",
	}}
	c := newClient(t, up, anthropic.Config{})
	_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
	var rl rateLimited
	if !errors.As(err, &rl) {
		t.Fatalf("error %v has no RateLimits", err)
	}
	want := &llm.RateLimits{RequestsLimit: 50, Reset: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if diff := cmp.Diff(want, rl.RateLimits()); diff != "" {
		t.Errorf("RateLimits (-want +got):\n%s", diff)
	}
	var re *llm.ResponseError
	if !errors.As(err, &re) || re.RequestID != "req_429" {
		t.Errorf("ResponseError = %+v, want request id req_429", re)
	}
	if got, want := err.Error(), "anthropic 429 rate_limit_error: x: http 429 request-id req_429"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestGenerateTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := newClient(t, h, anthropic.Config{Timeout: 50 * time.Millisecond})
	t.Cleanup(func() { close(release) })
	_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
	var e *llm.Error
	if !errors.As(err, &e) || e.Class != llm.Transient || e.Status != 0 {
		t.Fatalf("Generate error = %#v, want a transient *llm.Error without status", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if !strings.Contains(e.Message, "timed out") {
		t.Errorf("Message = %q, want it to say timed out", e.Message)
	}
}

func TestGenerateConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := anthropic.New(anthropic.Config{BaseURL: url, Model: "m", HTTPClient: &http.Client{Transport: &http.Transport{}}})
	_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
	var e *llm.Error
	if !errors.As(err, &e) || e.Class != llm.Transient || e.Message != "connection error" {
		t.Fatalf("Generate error = %v, want a transient connection error", err)
	}
}

func TestGenerateNoModel(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, body: okBody}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	c := anthropic.New(anthropic.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}})
	if got := llm.ClassOf(err); got != llm.Permanent {
		t.Errorf("ClassOf(%v) = %v, want permanent", err, got)
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times, want 0", n)
	}
}

func TestCountTokens(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, body: `{"input_tokens":1234}`}
	c := newClient(t, up, anthropic.Config{})
	got, err := c.CountTokens(t.Context(), llm.Request{System: "s", Messages: []llm.Message{{Role: "user", Content: "x"}}})
	if err != nil {
		t.Fatalf("CountTokens: %v", err)
	}
	if got != 1234 {
		t.Errorf("CountTokens = %d, want 1234", got)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if want := `{"model":"claude-test","system":"s","messages":[{"role":"user","content":"x"}]}`; up.lastBody != want {
		t.Errorf("body = %s, want %s", up.lastBody, want)
	}
	if up.lastReq.URL.Path != "/v1/messages/count_tokens" {
		t.Errorf("path = %s", up.lastReq.URL.Path)
	}
}

func TestBatchResultsShapes(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, header: map[string]string{"content-type": "application/x-jsonl"}, body: `{"custom_id":"a","result":{"type":"succeeded","message":` + strings.ReplaceAll(okBody, "\n", "") + `}}
{"custom_id":"b","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad prompt"}}}}
{"custom_id":"c","result":{"type":"errored","error":{"type":"overloaded_error","message":"Overloaded"}}}
{"custom_id":"d","result":{"type":"canceled"}}
{"custom_id":"e","result":{"type":"expired"}}
`}
	c := newClient(t, up, anthropic.Config{})
	got, err := c.BatchResults(t.Context(), "msgbatch_1")
	if err != nil {
		t.Fatalf("BatchResults: %v", err)
	}
	want := []llm.BatchResult{
		{CustomID: "a", Type: "succeeded", Response: &llm.Response{Provider: "anthropic", Model: "claude-test-20250101", Text: "hello world", StopReason: "end_turn",
			Usage: llm.Usage{InputTokens: 120, OutputTokens: 55, CacheWriteTokens: 30, CacheReadTokens: 400}}},
		{CustomID: "b", Type: "errored", Err: &llm.Error{Provider: "anthropic", Class: llm.Permanent, Type: "invalid_request_error", Message: "bad prompt"}},
		{CustomID: "c", Type: "errored", Err: &llm.Error{Provider: "anthropic", Class: llm.Transient, Type: "overloaded_error", Message: "Overloaded"}},
		{CustomID: "d", Type: "canceled", Err: &llm.Error{Provider: "anthropic", Class: llm.Transient, Type: "canceled", Message: "batch request canceled"}},
		{CustomID: "e", Type: "expired", Err: &llm.Error{Provider: "anthropic", Class: llm.Transient, Type: "expired", Message: "batch request expired"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if p := up.lastReq.URL.Path; p != "/v1/messages/batches/msgbatch_1/results" {
		t.Errorf("path = %s", p)
	}
}
