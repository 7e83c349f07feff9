package fakeanthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"netsmith/internal/llm"
	"netsmith/internal/llm/anthropic"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
	"netsmith/internal/llm/sim"
	"netsmith/internal/prompt"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable clock for Config.NowFunc.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorType returns the error.type of an error body, failing the test when
// the body is not one.
func (r reply) errorType(t *testing.T) string {
	t.Helper()
	typ := r.errType()
	if typ == "" {
		t.Fatalf("body %s is not an API error", r.body)
	}
	return typ
}

// errType returns the error.type of an error body, or "".
func (r reply) errType() string {
	var eb struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &eb); err != nil || eb.Type != "error" || eb.Error.Message == "" {
		return ""
	}
	return eb.Error.Type
}

// call sends one raw request with the usual headers; a header mapped to ""
// is left out.
func call(t *testing.T, s *llmtest.Server, method, path string, header map[string]string, body string) reply {
	t.Helper()
	r, err := send(t.Context(), s, method, path, header, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is call for goroutines other than the test's.
func send(ctx context.Context, s *llmtest.Server, method, path string, header map[string]string, body string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	h := map[string]string{"x-api-key": llmtest.APIKey, "anthropic-version": "2023-06-01", "content-type": "application/json"}
	maps.Copy(h, header)
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read body: %w", err)
	}
	return reply{resp.StatusCode, resp.Header, data}, nil
}

func msgBody(content string) string {
	c, _ := json.Marshal(content)
	return `{"model":"claude-fake-1","max_tokens":1024,"messages":[{"role":"user","content":` + string(c) + `}]}`
}

func userReq(content string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: "user", Content: content}}}
}

// configPrompt builds a real netsmith prompt for one device.
func configPrompt(t *testing.T, hostname string) llm.Request {
	t.Helper()
	req, err := prompt.Build(prompt.Spec{
		Task: prompt.TaskConfig, Platform: "arista_eos", Role: "leaf", Hostname: hostname,
		Vars: map[string]any{"loopback0": "10.0.0.7"},
	}, "", 0)
	if err != nil {
		t.Fatalf("prompt.Build: %v", err)
	}
	return req
}

func TestMessageWire(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{})
	body := `{"model":"claude-fake-1","max_tokens":500,
		"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],
		"messages":[{"role":"user","content":[{"type":"text","text":"hello"}]}]}`
	r := call(t, s, "POST", "/v1/messages", nil, body)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if id, _ := got["id"].(string); !strings.HasPrefix(id, "msg_") {
		t.Errorf("id = %q, want msg_…", id)
	}
	delete(got, "id")
	text := sim.Answer(llm.Request{System: "be brief", Messages: []llm.Message{{Role: "user", Content: "hello"}}})
	want := map[string]any{
		"type": "message", "role": "assistant", "model": "claude-fake-1",
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens": float64(sim.CountTokens("be brief") + sim.CountTokens("hello")), "output_tokens": float64(sim.CountTokens(text)),
			"cache_creation_input_tokens": float64(0), "cache_read_input_tokens": float64(0),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if id := r.header.Get("request-id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("request-id = %q", id)
	}
	if ct := r.header.Get("content-type"); ct != "application/json" {
		t.Errorf("content-type = %q", ct)
	}
}

func TestMaxTokensCutsAnswer(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{})
	resp, err := s.Anthropic(anthropic.Config{}).Generate(t.Context(), llm.Request{MaxTokens: 3, Messages: userReq("x").Messages})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StopReason != "max_tokens" || resp.Usage.OutputTokens != 3 || len(resp.Text) > 12 {
		t.Errorf("got stop %q, %d output tokens, text %q; want max_tokens, 3, ≤12 bytes", resp.StopReason, resp.Usage.OutputTokens, resp.Text)
	}
}

func TestGenerateEndToEnd(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{Latency: 10 * time.Millisecond})
	req := configPrompt(t, "leaf-07")
	start := time.Now()
	resp, err := s.Anthropic(anthropic.Config{}).Generate(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 10*time.Millisecond {
		t.Errorf("answered in %s, want at least the 10ms latency", el)
	}
	if !strings.Contains(resp.Text, "leaf-07") {
		t.Errorf("answer %q does not mention the hostname", resp.Text)
	}
	wantIn := sim.CountTokens(req.System) + sim.CountTokens(req.Messages[0].Content)
	if resp.Usage.InputTokens != wantIn || resp.Usage.OutputTokens != sim.CountTokens(resp.Text) {
		t.Errorf("usage %+v, want input %d output %d", resp.Usage, wantIn, sim.CountTokens(resp.Text))
	}
	if resp.Provider != "anthropic" || resp.Model != llmtest.Model || !strings.HasPrefix(resp.RequestID, "req_") {
		t.Errorf("response %+v", resp)
	}
	st := s.Fake.Stats()
	if st.Requests != 1 || st.Succeeded != 1 || st.InputTokens != wantIn || st.ByModel[llmtest.Model].OutputTokens != resp.Usage.OutputTokens {
		t.Errorf("stats %+v", st)
	}
}

func TestRequestLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := llmtest.NewServer(t, fakeanthropic.Config{RequestsPerMinute: 3, NowFunc: clk.Now})
	for i, wantRemaining := range []string{"2", "1", "0"} {
		r := call(t, s, "POST", "/v1/messages", nil, msgBody("x"))
		if r.status != 200 {
			t.Fatalf("request %d: status %d: %s", i, r.status, r.body)
		}
		if got := r.header.Get("anthropic-ratelimit-requests-remaining"); got != wantRemaining {
			t.Errorf("request %d: remaining %q, want %q", i, got, wantRemaining)
		}
		// The clock stands still: the least left so far is what is left now.
		if h := s.Fake.Stats().RequestsHeadroom; h == nil || fmt.Sprint(*h) != wantRemaining {
			t.Errorf("request %d: requests_headroom %v, want %s", i, h, wantRemaining)
		}
	}
	r := call(t, s, "POST", "/v1/messages", nil, msgBody("x"))
	if r.status != 429 || r.errorType(t) != "rate_limit_error" {
		t.Fatalf("4th request: status %d %s, want 429 rate_limit_error", r.status, r.body)
	}
	wantHead := map[string]string{
		"retry-after":                            "20", // one request at 3/min
		"anthropic-ratelimit-requests-limit":     "3",
		"anthropic-ratelimit-requests-remaining": "0",
		"anthropic-ratelimit-requests-reset":     clk.Now().Add(61 * time.Second).Format(time.RFC3339),
	}
	gotHead := map[string]string{}
	for k := range wantHead {
		gotHead[k] = r.header.Get(k)
	}
	if diff := cmp.Diff(wantHead, gotHead); diff != "" {
		t.Errorf("429 headers (-want +got):\n%s", diff)
	}
	if r.header.Get("request-id") == "" {
		t.Error("429 has no request-id")
	}

	// The real client sees a rate-limited error with the wait and the limits.
	c := s.Anthropic(anthropic.Config{})
	_, err := c.Generate(t.Context(), userReq("x"))
	var e *llm.Error
	if !errors.As(err, &e) || e.Class != llm.RateLimited || e.RetryAfter != 20*time.Second {
		t.Fatalf("Generate error = %v, want rate limited after 20s", err)
	}
	var rl interface{ RateLimits() *llm.RateLimits }
	if !errors.As(err, &rl) || rl.RateLimits().RequestsLimit != 3 {
		t.Errorf("error carries no rate limits: %v", err)
	}

	clk.Advance(20 * time.Second)
	if _, err := c.Generate(t.Context(), userReq("x")); err != nil {
		t.Errorf("after waiting retry-after: %v", err)
	}
	if st := s.Fake.Stats(); st.RateLimited != 2 || st.Succeeded != 4 || st.ByModel[llmtest.Model].RateLimited != 2 {
		t.Errorf("stats: %d 429s, %d succeeded; want 2 and 4", st.RateLimited, st.Succeeded)
	}
}

func TestTokenLimits(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("a", 196) // 49 tokens
	out := sim.CountTokens(sim.Answer(userReq(content)))
	tests := []struct {
		name      string
		cfg       fakeanthropic.Config
		header    string
		remaining string
		retry     string
		unit      string
	}{
		{"input", fakeanthropic.Config{InputTokensPerMinute: 100}, "anthropic-ratelimit-input-tokens-remaining", "2", "29", "100 input tokens per minute"},
		{"output", fakeanthropic.Config{OutputTokensPerMinute: 2*out + 1}, "anthropic-ratelimit-output-tokens-remaining", "1", "", "output tokens per minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			tt.cfg.NowFunc = clk.Now
			s := llmtest.NewServer(t, tt.cfg)
			for i := range 2 {
				if r := call(t, s, "POST", "/v1/messages", nil, msgBody(content)); r.status != 200 {
					t.Fatalf("request %d: %d %s", i, r.status, r.body)
				}
			}
			r := call(t, s, "POST", "/v1/messages", nil, msgBody(content))
			if r.status != 429 || r.errorType(t) != "rate_limit_error" || !strings.Contains(string(r.body), tt.unit) {
				t.Fatalf("3rd request: %d %s, want 429 about %s", r.status, r.body, tt.unit)
			}
			if got := r.header.Get(tt.header); got != tt.remaining {
				t.Errorf("%s = %q, want %q", tt.header, got, tt.remaining)
			}
			if got := r.header.Get("anthropic-ratelimit-tokens-remaining"); got != tt.remaining {
				t.Errorf("tokens-remaining = %q, want %q", got, tt.remaining)
			}
			if tt.retry != "" && r.header.Get("retry-after") != tt.retry {
				t.Errorf("retry-after = %q, want %q", r.header.Get("retry-after"), tt.retry)
			}
		})
	}
}

func TestErrorInjection(t *testing.T) {
	t.Parallel()
	cfg := fakeanthropic.Config{Error500Rate: 0.1, Error529Rate: 0.2, Seed: 42}

	// The rates hold over 1,000 messages sent by 8 clients at once.
	const n = 1000
	s := llmtest.NewServer(t, cfg)
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range n / 8 {
				r, err := send(t.Context(), s, "POST", "/v1/messages", nil, msgBody("x"))
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				want := map[int]string{500: "api_error", 529: "overloaded_error"}[r.status]
				if want != "" && r.errType() != want {
					t.Errorf("worker %d: %d with body %s, want type %q", w, r.status, r.body, want)
				}
				mu.Lock()
				count[r.status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := s.Fake.Stats()
	if int(st.ServerErrors) != count[500] || int(st.Overloaded) != count[529] || int(st.Succeeded) != count[200] || st.Requests != n {
		t.Errorf("stats %+v disagree with the responses %v", st, count)
	}
	for status, p := range map[int]float64{500: 0.1, 529: 0.2, 200: 0.7} {
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if got := float64(count[status]); math.Abs(got-mean) > 4*sd {
			t.Errorf("%d × %d, want about %.0f ± %.0f (4 sd)", count[status], status, mean, 4*sd)
		}
	}

	// The same seed gives the same sequence.
	seq := func() []int {
		s := llmtest.NewServer(t, cfg)
		var statuses []int
		for range 100 {
			statuses = append(statuses, call(t, s, "POST", "/v1/messages", nil, msgBody("x")).status)
		}
		return statuses
	}
	first, second := seq(), seq()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("the same seed gave different sequences (-first +second):\n%s", diff)
	}
	if !slices.Contains(first, 529) || !slices.Contains(first, 500) {
		t.Errorf("100 messages at 10%% and 20%% error rates drew no 500 or no 529: %v", first)
	}
}

func TestInjectedErrorsThroughClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg    fakeanthropic.Config
		status int
		typ    string
	}{
		{fakeanthropic.Config{Error529Rate: 1}, 529, "overloaded_error"},
		{fakeanthropic.Config{Error500Rate: 1}, 500, "api_error"},
	}
	for _, tt := range tests {
		s := llmtest.NewServer(t, tt.cfg)
		_, err := s.Anthropic(anthropic.Config{}).Generate(t.Context(), userReq("x"))
		var e *llm.Error
		if !errors.As(err, &e) || e.Class != llm.Transient || e.Status != tt.status || e.Type != tt.typ {
			t.Errorf("Generate error = %v, want transient %d %s", err, tt.status, tt.typ)
		}
	}
}

func TestInvalidMarker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		marker, content string
		want            int
	}{
		{"", "please FAKE_INVALID this", 400},
		{"", "fine", 200},
		{"BREAK-ME", "BREAK-ME", 400},
		{"BREAK-ME", "FAKE_INVALID", 200},
	}
	for _, tt := range tests {
		s := llmtest.NewServer(t, fakeanthropic.Config{InvalidMarker: tt.marker})
		r := call(t, s, "POST", "/v1/messages", nil, msgBody(tt.content))
		if r.status != tt.want {
			t.Errorf("marker %q, content %q: status %d, want %d", tt.marker, tt.content, r.status, tt.want)
		}
		if r.status == 400 && r.errorType(t) != "invalid_request_error" {
			t.Errorf("400 body %s", r.body)
		}
	}

	s := llmtest.NewServer(t, fakeanthropic.Config{})
	_, err := s.Anthropic(anthropic.Config{}).Generate(t.Context(), userReq("x FAKE_INVALID"))
	var e *llm.Error
	if !errors.As(err, &e) || e.Class != llm.Permanent || e.Status != 400 || !strings.Contains(e.Message, "FAKE_INVALID") {
		t.Errorf("Generate error = %v, want permanent 400", err)
	}
	if st := s.Fake.Stats(); st.Requests != 1 || st.InvalidRequests != 1 {
		t.Errorf("stats: %d requests, %d 400s; want 1 and 1", st.Requests, st.InvalidRequests)
	}
}

func TestRequestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    fakeanthropic.Config
		method string
		path   string
		header map[string]string
		body   string
		status int
		typ    string
	}{
		{"no key", fakeanthropic.Config{}, "POST", "/v1/messages", map[string]string{"x-api-key": ""}, msgBody("x"), 401, "authentication_error"},
		{"wrong key", fakeanthropic.Config{APIKey: "right"}, "POST", "/v1/messages", nil, msgBody("x"), 401, "authentication_error"},
		{"right key", fakeanthropic.Config{APIKey: llmtest.APIKey}, "POST", "/v1/messages", nil, msgBody("x"), 200, ""},
		{"no auth", fakeanthropic.Config{NoAuth: true}, "POST", "/v1/messages", map[string]string{"x-api-key": ""}, msgBody("x"), 200, ""},
		{"no version", fakeanthropic.Config{}, "POST", "/v1/messages", map[string]string{"anthropic-version": ""}, msgBody("x"), 400, "invalid_request_error"},
		{"bad json", fakeanthropic.Config{}, "POST", "/v1/messages", nil, `{"model":`, 400, "invalid_request_error"},
		{"no model", fakeanthropic.Config{}, "POST", "/v1/messages", nil, `{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"no max_tokens", fakeanthropic.Config{}, "POST", "/v1/messages", nil, `{"model":"m","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"no messages", fakeanthropic.Config{}, "POST", "/v1/messages", nil, `{"model":"m","max_tokens":5,"messages":[]}`, 400, "invalid_request_error"},
		{"bad role", fakeanthropic.Config{}, "POST", "/v1/messages", nil, `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, 400, "invalid_request_error"},
		{"unknown model", fakeanthropic.Config{Models: []string{"claude-a"}}, "POST", "/v1/messages", nil, msgBody("x"), 404, "not_found_error"},
		{"too large", fakeanthropic.Config{MaxBodyBytes: 64}, "POST", "/v1/messages", nil, msgBody(strings.Repeat("x", 100)), 413, "request_too_large"},
		{"unknown path", fakeanthropic.Config{}, "GET", "/v1/nope", nil, "", 404, "not_found_error"},
		{"unknown batch", fakeanthropic.Config{}, "GET", "/v1/messages/batches/msgbatch_x", nil, "", 404, "not_found_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := llmtest.NewServer(t, tt.cfg)
			r := call(t, s, tt.method, tt.path, tt.header, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if tt.typ != "" && r.errorType(t) != tt.typ {
				t.Errorf("error type %q, want %q", r.errorType(t), tt.typ)
			}
			if r.header.Get("request-id") == "" {
				t.Error("no request-id header")
			}
		})
	}
}

func TestLimitHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{RequestsPerMinute: 100, InputTokensPerMinute: 1000, OutputTokensPerMinute: 500})
	for _, r := range []reply{
		call(t, s, "POST", "/v1/messages", nil, msgBody("x")),
		call(t, s, "POST", "/v1/messages", map[string]string{"x-api-key": ""}, msgBody("x")),
		call(t, s, "POST", "/v1/messages", nil, msgBody("FAKE_INVALID")),
		call(t, s, "POST", "/v1/messages/count_tokens", nil, `{"model":"m","messages":[{"role":"user","content":"x"}]}`),
	} {
		for _, name := range []string{"requests", "input-tokens", "output-tokens", "tokens"} {
			for _, part := range []string{"limit", "remaining", "reset"} {
				if r.header.Get("anthropic-ratelimit-"+name+"-"+part) == "" {
					t.Errorf("status %d: no anthropic-ratelimit-%s-%s", r.status, name, part)
				}
			}
		}
	}
}

func TestCountTokens(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{})
	req := configPrompt(t, "spine-1")
	got, err := s.Anthropic(anthropic.Config{}).CountTokens(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := sim.CountTokens(req.System) + sim.CountTokens(req.Messages[0].Content); got != want {
		t.Errorf("CountTokens = %d, want %d", got, want)
	}
	if st := s.Fake.Stats(); st.CountTokens != 1 || st.Requests != 0 {
		t.Errorf("stats: %d count_tokens, %d messages; want 1, 0", st.CountTokens, st.Requests)
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := llmtest.NewServer(t, fakeanthropic.Config{RequestsPerMinute: 2, NowFunc: clk.Now})
	call(t, s, "POST", "/v1/messages", nil, msgBody("x"))
	call(t, s, "POST", "/v1/messages", nil, msgBody("FAKE_INVALID"))
	call(t, s, "POST", "/v1/messages", nil, msgBody("x"))
	call(t, s, "POST", "/v1/messages", nil, msgBody("x"))
	r := call(t, s, "GET", "/stats", nil, "")
	if r.status != 200 {
		t.Fatalf("GET /stats: %d", r.status)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	out := float64(2 * sim.CountTokens(sim.Answer(userReq("x"))))
	want := map[string]any{
		"requests": 4.0, "succeeded": 2.0, "input_tokens": 2.0, "output_tokens": out,
		"invalid_requests_400": 1.0, "rate_limited_429": 1.0, "server_errors_500": 0.0, "overloaded_529": 0.0,
		"client_closed": 0.0, "count_tokens_requests": 0.0, "in_flight": 0.0, "max_in_flight": 1.0, "requests_headroom": 0.0,
		"by_status": map[string]any{"200": 2.0, "400": 1.0, "429": 1.0},
		"by_model": map[string]any{"claude-fake-1": map[string]any{
			"requests": 3.0, "succeeded": 2.0, "input_tokens": 2.0, "output_tokens": out,
			"rate_limited_429": 1.0, "overloaded_529": 0.0, "server_errors_500": 0.0,
		}},
		"batches": map[string]any{"created": 0.0, "in_progress": 0.0, "ended": 0.0, "canceled": 0.0,
			"requests": 0.0, "input_tokens": 0.0, "output_tokens": 0.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/stats (-want +got):\n%s", diff)
	}
}

func TestBatchLifecycle(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := llmtest.NewServer(t, fakeanthropic.Config{BatchTime: 10 * time.Second, NowFunc: clk.Now})
	c := s.Anthropic(anthropic.Config{})
	ctx := t.Context()

	var reqs []llm.BatchRequest
	for i := range 10 {
		r := configPrompt(t, "dev-"+string(rune('a'+i)))
		if i == 7 {
			r.Messages[0].Content += " FAKE_INVALID"
		}
		reqs = append(reqs, llm.BatchRequest{CustomID: "job-" + string(rune('a'+i)), Request: r})
	}
	b, err := c.CreateBatch(ctx, reqs)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if !strings.HasPrefix(b.ID, "msgbatch_") || b.ProcessingStatus != llm.BatchInProgress ||
		b.RequestCounts != (llm.BatchCounts{Processing: 10}) || !b.CreatedAt.Equal(clk.Now()) || b.ResultsURL != "" {
		t.Fatalf("created batch %+v", b)
	}

	clk.Advance(5 * time.Second)
	b, err = c.GetBatch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.ProcessingStatus != llm.BatchInProgress || b.RequestCounts != (llm.BatchCounts{Processing: 5, Succeeded: 5}) {
		t.Errorf("half-way batch %+v", b)
	}
	if _, err := c.BatchResults(ctx, b.ID); llm.ClassOf(err) != llm.Permanent {
		t.Errorf("results before the end: %v, want a permanent error", err)
	}

	clk.Advance(5 * time.Second)
	b, err = c.GetBatch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Ended() || b.RequestCounts != (llm.BatchCounts{Succeeded: 9, Errored: 1}) ||
		!b.EndedAt.Equal(clk.Now()) || !strings.HasSuffix(b.ResultsURL, "/v1/messages/batches/"+b.ID+"/results") {
		t.Errorf("ended batch %+v", b)
	}
	results, err := c.BatchResults(ctx, b.ID)
	if err != nil {
		t.Fatalf("BatchResults: %v", err)
	}
	if len(results) != 10 {
		t.Fatalf("%d results, want 10", len(results))
	}
	for i, r := range results {
		host := "dev-" + string(rune('a'+i))
		switch {
		case r.CustomID != "job-"+string(rune('a'+i)):
			t.Errorf("result %d custom_id %q", i, r.CustomID)
		case i == 7:
			if r.Type != llm.ResultErrored || r.Err == nil || r.Err.Class != llm.Permanent || r.Err.Type != "invalid_request_error" {
				t.Errorf("result %d = %+v, want errored invalid_request_error", i, r)
			}
		case r.Type != llm.ResultSucceeded || r.Response == nil || !strings.Contains(r.Response.Text, host):
			t.Errorf("result %d = %+v, want succeeded mentioning %s", i, r, host)
		}
	}

	// A second batch, canceled 4 s in, stops within a tenth of BatchTime.
	b2, err := c.CreateBatch(ctx, reqs[:5])
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(4 * time.Second)
	b2, err = c.CancelBatch(ctx, b2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b2.ProcessingStatus != llm.BatchCanceling || !b2.CancelInitiatedAt.Equal(clk.Now()) {
		t.Errorf("canceled batch %+v", b2)
	}
	clk.Advance(time.Second)
	b2, err = c.GetBatch(ctx, b2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !b2.Ended() || b2.RequestCounts != (llm.BatchCounts{Succeeded: 2, Canceled: 3}) {
		t.Errorf("batch after cancel %+v, want ended with 2 succeeded and 3 canceled", b2)
	}
	results, err = c.BatchResults(ctx, b2.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range results {
		types = append(types, r.Type)
	}
	if diff := cmp.Diff([]string{"succeeded", "succeeded", "canceled", "canceled", "canceled"}, types); diff != "" {
		t.Errorf("result types (-want +got):\n%s", diff)
	}

	r := call(t, s, "GET", "/v1/messages/batches?limit=1", nil, "")
	var page struct {
		Data    []struct{ ID string } `json:"data"`
		HasMore bool                  `json:"has_more"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Data) != 1 || page.Data[0].ID != b2.ID || !page.HasMore {
		t.Errorf("list: %s (%v)", r.body, err)
	}

	st := s.Fake.Stats().Batches
	if st.Created != 2 || st.Ended != 2 || st.Canceled != 1 || st.Requests != 15 || st.InProgress != 0 || st.OutputTokens == 0 {
		t.Errorf("batch stats %+v", st)
	}
}

func TestCreateBatchChecks(t *testing.T) {
	t.Parallel()
	s := llmtest.NewServer(t, fakeanthropic.Config{})
	params := `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`
	tests := []struct {
		name, body string
	}{
		{"empty", `{"requests":[]}`},
		{"no custom_id", `{"requests":[{"params":` + params + `}]}`},
		{"bad custom_id", `{"requests":[{"custom_id":"a b","params":` + params + `}]}`},
		{"duplicate", `{"requests":[{"custom_id":"a","params":` + params + `},{"custom_id":"a","params":` + params + `}]}`},
		{"no params", `{"requests":[{"custom_id":"a"}]}`},
	}
	for _, tt := range tests {
		r := call(t, s, "POST", "/v1/messages/batches", nil, tt.body)
		if r.status != 400 || r.errorType(t) != "invalid_request_error" {
			t.Errorf("%s: %d %s, want 400", tt.name, r.status, r.body)
		}
	}
}

// TestConcurrentConnections sends 2,000 requests at once, each on its own
// connection, to one fake with 200 ms latency, and expects every one to
// succeed. How many overlap depends on how fast the test can open
// connections: over a thousand on 2 idle cores, a few hundred under the race
// detector, which makes each goroutine and connection several times dearer.
func TestConcurrentConnections(t *testing.T) {
	t.Parallel()
	const n = 2000
	s := llmtest.NewServer(t, fakeanthropic.Config{Latency: 200 * time.Millisecond})
	c := s.Anthropic(anthropic.Config{Timeout: 60 * time.Second})
	req := userReq("show running-config")
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := c.Generate(t.Context(), req); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)
	failed := 0
	for err := range errs {
		if failed == 0 {
			t.Errorf("first failure: %v", err)
		}
		failed++
	}
	st := s.Fake.Stats()
	t.Logf("%d requests in %s, %d failed, at most %d in flight at once (race detector: %v)",
		n, elapsed.Round(time.Millisecond), failed, st.MaxInFlight, raceEnabled)
	if failed > 0 || st.Succeeded != n {
		t.Errorf("%d of %d failed; the fake counted %d successes", failed, n, st.Succeeded)
	}
	if !raceEnabled && st.MaxInFlight < 200 {
		t.Errorf("at most %d requests were in flight at once, want at least 200", st.MaxInFlight)
	}
}
