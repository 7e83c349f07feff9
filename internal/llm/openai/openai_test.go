package openai_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"netsmith/internal/llm"
	"netsmith/internal/llm/openai"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

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

func newClient(t *testing.T, h http.Handler, cfg openai.Config, suffix string) *openai.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + suffix
	if cfg.Model == "" {
		cfg.Model = "qwen2.5-coder"
	}
	cfg.HTTPClient = srv.Client()
	return openai.New(cfg)
}

const okBody = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"Qwen/Qwen2.5-Coder-32B",
 "choices":[{"index":0,"message":{"role":"assistant","content":"hostname r1"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":64}}}`

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      openai.Config
		suffix   string
		req      llm.Request
		wantBody string
		wantAuth string
	}{
		{
			name:     "system first, bearer key",
			cfg:      openai.Config{APIKey: "sk-1"},
			req:      llm.Request{Model: "m1", System: "sys", MaxTokens: 300, Messages: []llm.Message{{Role: "user", Content: "u"}}},
			wantBody: `{"model":"m1","messages":[{"role":"system","content":"sys"},{"role":"user","content":"u"}],"max_tokens":300}`,
			wantAuth: "Bearer sk-1",
		},
		{
			name:     "no key, no system, defaults, base URL with /v1",
			cfg:      openai.Config{MaxTokens: 77},
			suffix:   "/v1/",
			req:      llm.Request{Messages: []llm.Message{{Role: "user", Content: "u"}}},
			wantBody: `{"model":"qwen2.5-coder","messages":[{"role":"user","content":"u"}],"max_tokens":77}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := &canned{status: 200, body: okBody, header: map[string]string{
				"x-request-id":                   "req-9",
				"date":                           "Fri, 02 Jan 2026 03:04:00 GMT",
				"x-ratelimit-limit-requests":     "500",
				"x-ratelimit-remaining-requests": "499",
				"x-ratelimit-reset-requests":     "120ms",
				"x-ratelimit-limit-tokens":       "30000",
				"x-ratelimit-remaining-tokens":   "29880",
				"x-ratelimit-reset-tokens":       "1m0s",
			}}
			c := newClient(t, up, tt.cfg, tt.suffix)
			got, err := c.Generate(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			date := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
			want := &llm.Response{
				Provider: "openai", Model: "Qwen/Qwen2.5-Coder-32B", Text: "hostname r1", StopReason: "stop",
				Usage:     llm.Usage{InputTokens: 36, CacheReadTokens: 64, OutputTokens: 20},
				RequestID: "req-9",
				RateLimits: &llm.RateLimits{RequestsLimit: 500, RequestsRemaining: 499,
					InputTokensLimit: 30000, InputTokensRemaining: 29880, Reset: date.Add(120 * time.Millisecond)},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			up.mu.Lock()
			defer up.mu.Unlock()
			if up.lastBody != tt.wantBody {
				t.Errorf("body on the wire:\n got %s\nwant %s", up.lastBody, tt.wantBody)
			}
			if got := up.lastReq.Header.Get("authorization"); got != tt.wantAuth {
				t.Errorf("authorization %q, want %q", got, tt.wantAuth)
			}
			if up.lastReq.Method != "POST" || up.lastReq.URL.Path != "/v1/chat/completions" {
				t.Errorf("request %s %s", up.lastReq.Method, up.lastReq.URL.Path)
			}
		})
	}
}

func TestGenerateUsageWithoutDetails(t *testing.T) {
	t.Parallel()
	up := &canned{status: 200, body: `{"model":"llama3","choices":[{"message":{"role":"assistant","content":null},"finish_reason":"length"}],"usage":{"prompt_tokens":11,"completion_tokens":5}}`}
	got, err := newClient(t, up, openai.Config{}, "").Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "u"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (llm.Usage{InputTokens: 11, OutputTokens: 5}); got.Usage != want || got.Text != "" || got.StopReason != "length" || got.RateLimits != nil {
		t.Errorf("got %+v, want usage %+v, empty text, stop length, no limits", got, want)
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   llm.Error
	}{
		{"nested 400", 400, nil, `{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			llm.Error{Class: llm.Permanent, Status: 400, Type: "invalid_request_error", Message: "This model's maximum context length is 8192 tokens"}},
		{"flat vLLM 400", 400, nil, `{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":null,"code":400}`,
			llm.Error{Class: llm.Permanent, Status: 400, Type: "BadRequestError", Message: "max_tokens must be at least 1, got 0."}},
		{"flat vLLM 404", 404, nil, `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`,
			llm.Error{Class: llm.Permanent, Status: 404, Type: "NotFoundError", Message: "The model `x` does not exist."}},
		{"nested with null type, code only", 401, nil, `{"error":{"message":"Incorrect API key provided","type":null,"code":"invalid_api_key"}}`,
			llm.Error{Class: llm.Permanent, Status: 401, Type: "invalid_api_key", Message: "Incorrect API key provided"}},
		{"ollama string error", 404, nil, `{"error":"model \"llama9\" not found, try pulling it first"}`,
			llm.Error{Class: llm.Permanent, Status: 404, Message: `model "llama9" not found, try pulling it first`}},
		{"fastapi detail", 403, nil, `{"detail":"Not authenticated"}`,
			llm.Error{Class: llm.Permanent, Status: 403, Message: "Not authenticated"}},
		{"413", 413, map[string]string{"content-type": "text/plain"}, "",
			llm.Error{Class: llm.Permanent, Status: 413, Message: "Request Entity Too Large"}},
		{"422", 422, nil, `{"object":"error","message":"bad field","type":"BadRequestError","code":422}`,
			llm.Error{Class: llm.Permanent, Status: 422, Type: "BadRequestError", Message: "bad field"}},
		{"429 retry-after", 429, map[string]string{"retry-after": "2"}, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`,
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "requests", Message: "Rate limit reached", RetryAfter: 2 * time.Second}},
		{"429 reset header", 429, map[string]string{"x-ratelimit-reset-requests": "7s", "date": "Fri, 02 Jan 2026 03:04:00 GMT"}, `{"error":{"message":"slow","type":"requests"}}`,
			llm.Error{Class: llm.RateLimited, Status: 429, Type: "requests", Message: "slow", RetryAfter: 7 * time.Second}},
		{"429 nothing", 429, nil, `{"error":{"message":"slow"}}`,
			llm.Error{Class: llm.RateLimited, Status: 429, Message: "slow", RetryAfter: openai.DefaultRetryAfter}},
		{"500", 500, nil, `{"error":{"message":"The server had an error","type":"server_error"}}`,
			llm.Error{Class: llm.Transient, Status: 500, Type: "server_error", Message: "The server had an error"}},
		{"503 html", 503, map[string]string{"content-type": "text/html"}, "<html>down</html>",
			llm.Error{Class: llm.Transient, Status: 503, Message: "Service Unavailable"}},
		{"200 without choices", 200, nil, `{"object":"error","message":"engine died","type":"InternalServerError","code":500}`,
			llm.Error{Class: llm.Transient, Status: 200, Message: "malformed response body"}},
		{"200 garbage", 200, nil, `not json`,
			llm.Error{Class: llm.Transient, Status: 200, Message: "malformed response body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := &canned{status: tt.status, header: tt.header, body: tt.body}
			c := newClient(t, up, openai.Config{}, "")
			_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "u"}}})
			var got *llm.Error
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T), want *llm.Error", err, err)
			}
			tt.want.Provider = "openai"
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(llm.Error{}, "Err")); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := up.calls.Load(); n != 1 {
				t.Errorf("server called %d times, want 1", n)
			}
		})
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
	c := newClient(t, h, openai.Config{Timeout: 50 * time.Millisecond}, "")
	t.Cleanup(func() { close(release) })
	_, err := c.Generate(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "u"}}})
	if llm.ClassOf(err) != llm.Transient || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Generate error = %v, want transient deadline exceeded", err)
	}
}
