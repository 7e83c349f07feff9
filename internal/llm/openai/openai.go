// Package openai is netsmith's client for OpenAI-compatible Chat Completions
// servers (POST /v1/chat/completions): vLLM, Ollama, LM Studio and OpenAI
// itself.
//
// Like package anthropic it makes exactly one HTTP request per call and
// returns every failure as an *llm.Error classified for the queue. It reads
// both error shapes in use, {"error":{"message","type","code"}} and vLLM's
// flat {"object":"error","message","type","code"}, and the
// x-ratelimit-* headers where a server sends them.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/llm"
)

// Name is the provider name on responses and errors.
const Name = "openai"

// Defaults for Config's zero values.
const (
	DefaultBaseURL    = "https://api.openai.com"
	DefaultMaxTokens  = 4096
	DefaultTimeout    = 5 * time.Minute
	DefaultRetryAfter = 5 * time.Second
)

const maxBody = 64 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the server's root, e.g. http://localhost:8000 for vLLM or
	// http://localhost:11434 for Ollama. A trailing /v1 is accepted too.
	BaseURL   string
	APIKey    string // sent as a Bearer token; omitted when empty
	Model     string // used when a Request has no Model
	MaxTokens int    // used when a Request has no MaxTokens; DefaultMaxTokens when zero
	// Timeout bounds each call; DefaultTimeout when zero.
	Timeout time.Duration
	// HTTPClient sends the requests; when nil the client builds its own
	// (never http.DefaultClient).
	HTTPClient *http.Client
}

// Client calls a Chat Completions server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	hc   *http.Client
}

// New returns a Client for cfg, filling in defaults.
func New(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = llm.NewHTTPClient()
	}
	base := strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1")
	return &Client{cfg: cfg, base: base, hc: cfg.HTTPClient}
}

type chatRequest struct {
	Model     string        `json:"model"`
	Messages  []llm.Message `json:"messages"`
	MaxTokens int           `json:"max_tokens"`
}

type chatResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

// Generate sends req once as a chat completion, the system prompt first.
//
// Usage follows Anthropic's accounting so that the ledger prices both
// alike: InputTokens excludes the cached prompt tokens a server reports in
// prompt_tokens_details.cached_tokens, which go to CacheReadTokens.
func (c *Client) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	body := chatRequest{Model: req.Model, MaxTokens: req.MaxTokens}
	if body.Model == "" {
		body.Model = c.cfg.Model
	}
	if body.Model == "" {
		return nil, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "no model given in the request or the configuration"}
	}
	if body.MaxTokens <= 0 {
		body.MaxTokens = c.cfg.MaxTokens
	}
	body.Messages = make([]llm.Message, 0, len(req.Messages)+1)
	if req.System != "" {
		body.Messages = append(body.Messages, llm.Message{Role: "system", Content: req.System})
	}
	body.Messages = append(body.Messages, req.Messages...)
	data, err := json.Marshal(body)
	if err != nil {
		return nil, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "encode request body", Err: err}
	}

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/chat/completions", bytes.NewReader(data))
	if err != nil {
		return nil, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "build request", Err: err}
	}
	hreq.Header.Set("content-type", "application/json")
	hreq.Header.Set("accept", "application/json")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer drainClose(resp.Body)
	now := llm.ResponseTime(resp.Header)
	limits := ParseRateLimits(resp.Header, now)
	reqID := resp.Header.Get("x-request-id")
	if resp.StatusCode/100 != 2 {
		return nil, responseError(resp, limits, now)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	var cr chatResponse
	malformed := func(cause error) *llm.Error {
		return &llm.Error{Provider: Name, Class: llm.Transient, Status: resp.StatusCode, Message: "malformed response body",
			Err: &llm.ResponseError{StatusCode: resp.StatusCode, RequestID: reqID, Limits: limits, Err: cause}}
	}
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, malformed(err)
	}
	if len(cr.Choices) == 0 {
		if e := parseErrorBody(raw); e.message != "" {
			return nil, malformed(fmt.Errorf("error in a %d response: %s", resp.StatusCode, e.message))
		}
		return nil, malformed(errors.New("no choices in the response"))
	}
	out := &llm.Response{
		Provider:   Name,
		Model:      cr.Model,
		StopReason: cr.Choices[0].FinishReason,
		RequestID:  reqID,
		RateLimits: limits,
	}
	if out.Model == "" {
		out.Model = body.Model
	}
	if p := cr.Choices[0].Message.Content; p != nil {
		out.Text = *p
	}
	if u := cr.Usage; u != nil {
		out.Usage = llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
		if d := u.PromptTokensDetails; d != nil && d.CachedTokens > 0 && d.CachedTokens <= u.PromptTokens {
			out.Usage.InputTokens -= d.CachedTokens
			out.Usage.CacheReadTokens = d.CachedTokens
		}
	}
	return out, nil
}

func (c *Client) transportError(ctx context.Context, err error) *llm.Error {
	msg := "connection error"
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		msg = "request canceled"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		msg = fmt.Sprintf("request timed out (timeout %s)", c.cfg.Timeout)
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			msg = "request timed out"
		}
	}
	return &llm.Error{Provider: Name, Class: llm.Transient, Message: msg, Err: err}
}

func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// wireError is what parseErrorBody found.
type wireError struct {
	message, typ, code string
}

// parseErrorBody reads the error shapes OpenAI-compatible servers send:
// {"error":{"message","type","code"}}, vLLM's flat
// {"object":"error","message","type","code"}, {"error":"text"} and
// FastAPI's {"detail":"text"}.
func parseErrorBody(data []byte) wireError {
	var b struct {
		Error   json.RawMessage `json:"error"`
		Object  string          `json:"object"`
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(data, &b) != nil {
		return wireError{}
	}
	if string(b.Error) == "null" {
		b.Error = nil
	}
	var nested struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	var text string
	switch {
	case len(b.Error) > 0 && json.Unmarshal(b.Error, &nested) == nil && nested.Message != "":
		return wireError{message: nested.Message, typ: nested.Type, code: rawString(nested.Code)}
	case len(b.Error) > 0 && json.Unmarshal(b.Error, &text) == nil && text != "":
		return wireError{message: text}
	case b.Message != "":
		return wireError{message: b.Message, typ: b.Type, code: rawString(b.Code)}
	case len(b.Detail) > 0 && json.Unmarshal(b.Detail, &text) == nil && text != "":
		return wireError{message: text}
	case len(b.Detail) > 0:
		return wireError{message: string(b.Detail)}
	}
	return wireError{}
}

// rawString renders a JSON string or number (codes come as either); null
// and absent are "".
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func responseError(resp *http.Response, limits *llm.RateLimits, now time.Time) *llm.Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	we := parseErrorBody(data)
	reqID := resp.Header.Get("x-request-id")
	e := &llm.Error{
		Provider: Name,
		Class:    classify(resp.StatusCode),
		Status:   resp.StatusCode,
		Type:     we.typ,
		Message:  we.message,
		Err:      &llm.ResponseError{StatusCode: resp.StatusCode, RequestID: reqID, Limits: limits},
	}
	if e.Type == "" {
		e.Type = we.code
	}
	if e.Message == "" {
		s := strings.TrimSpace(string(data))
		if s == "" || len(s) > 512 || strings.HasPrefix(s, "<") {
			s = http.StatusText(resp.StatusCode)
		}
		e.Message = s
	}
	if d, ok := llm.RetryAfter(resp.Header, now); ok {
		e.RetryAfter = d
	} else if e.Class == llm.RateLimited {
		e.RetryAfter = DefaultRetryAfter
		if limits != nil && !limits.Reset.IsZero() {
			e.RetryAfter = max(limits.Reset.Sub(now), time.Second)
		}
	}
	return e
}

// classify maps an HTTP status to a class.
func classify(status int) llm.Class {
	switch {
	case status == http.StatusTooManyRequests:
		return llm.RateLimited
	case status == http.StatusRequestTimeout || status == http.StatusConflict:
		return llm.Transient
	case status >= 400 && status < 500:
		// 400, 401, 402, 403, 404, 413, 422 (vLLM's validation errors)…
		return llm.Permanent
	}
	return llm.Transient
}

// ParseRateLimits reads OpenAI's x-ratelimit-{limit,remaining,reset}-
// {requests,tokens} headers; resets are durations such as "6m0s" or "20ms",
// taken from now. OpenAI's single token budget covers input and output
// together; it is reported as input tokens. Reset is the earliest reset. It
// returns nil when none of the headers is present.
func ParseRateLimits(h http.Header, now time.Time) *llm.RateLimits {
	var rl llm.RateLimits
	found := false
	set := func(dst *int64, key string) {
		if v := h.Get(key); v != "" {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				*dst = n
				found = true
			}
		}
	}
	set(&rl.RequestsLimit, "x-ratelimit-limit-requests")
	set(&rl.RequestsRemaining, "x-ratelimit-remaining-requests")
	set(&rl.InputTokensLimit, "x-ratelimit-limit-tokens")
	set(&rl.InputTokensRemaining, "x-ratelimit-remaining-tokens")
	for _, key := range []string{"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"} {
		if d, err := time.ParseDuration(strings.TrimSpace(h.Get(key))); err == nil {
			found = true
			if t := now.Add(d); rl.Reset.IsZero() || t.Before(rl.Reset) {
				rl.Reset = t
			}
		}
	}
	if !found {
		return nil
	}
	return &rl
}
