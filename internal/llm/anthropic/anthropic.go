// Package anthropic is netsmith's client for Anthropic's Messages API
// (POST /v1/messages), token counting and Message Batches.
//
// It speaks the wire format directly with net/http instead of using the
// official SDK: netsmith's queue owns retries, so the client makes exactly
// one HTTP request per call, and every failure comes back as an *llm.Error
// carrying the status, the body's error.type, the upstream's message verbatim
// and, for 429s, how long to wait. Responses carry the anthropic-ratelimit-*
// headers as *llm.RateLimits; so do errors, through their Err (a
// *llm.ResponseError, which has a RateLimits method).
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"netsmith/internal/llm"
)

// Name is the provider name on responses and errors.
const Name = "anthropic"

// Defaults for Config's zero values.
const (
	DefaultBaseURL    = "https://api.anthropic.com"
	DefaultMaxTokens  = 4096
	DefaultTimeout    = 5 * time.Minute
	DefaultRetryAfter = 5 * time.Second // for a 429 that says nothing about when to retry
)

// APIVersion is the anthropic-version header the client sends.
const APIVersion = "2023-06-01"

// maxBody bounds what the client reads from a successful response.
const maxBody = 64 << 20

// Config configures a Client.
type Config struct {
	BaseURL   string // DefaultBaseURL when empty; without the /v1 suffix
	APIKey    string // sent as x-api-key; omitted when empty
	Model     string // used when a Request has no Model
	MaxTokens int    // used when a Request has no MaxTokens; DefaultMaxTokens when zero
	// Timeout bounds each call, from sending the request to reading the
	// whole response. DefaultTimeout when zero.
	Timeout time.Duration
	// HTTPClient sends the requests. When nil the client builds its own with
	// dial, TLS and idle timeouts and a large idle-connection pool; it never
	// uses http.DefaultClient, and does not follow redirects. The Client
	// itself never retries.
	HTTPClient *http.Client
}

// Client calls the Anthropic API. It is safe for concurrent use.
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
	base := strings.TrimRight(cfg.BaseURL, "/")
	base = strings.TrimSuffix(base, "/v1")
	return &Client{cfg: cfg, base: base, hc: cfg.HTTPClient}
}

// messagesRequest is the body of POST /v1/messages and, without MaxTokens,
// of /v1/messages/count_tokens.
type messagesRequest struct {
	Model     string        `json:"model"`
	MaxTokens int           `json:"max_tokens,omitempty"`
	System    string        `json:"system,omitempty"`
	Messages  []llm.Message `json:"messages"`
}

// message is a Messages API response (also inside batch results).
type message struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Role    string `json:"role"`
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens              int64 `json:"input_tokens"`
		OutputTokens             int64 `json:"output_tokens"`
		CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	} `json:"usage"`
}

func (m *message) response(requestID string, limits *llm.RateLimits) *llm.Response {
	var text strings.Builder
	for _, c := range m.Content {
		if c.Type == "text" {
			text.WriteString(c.Text)
		}
	}
	return &llm.Response{
		Provider:   Name,
		Model:      m.Model,
		Text:       text.String(),
		StopReason: m.StopReason,
		Usage: llm.Usage{
			InputTokens:      m.Usage.InputTokens,
			OutputTokens:     m.Usage.OutputTokens,
			CacheWriteTokens: m.Usage.CacheCreationInputTokens,
			CacheReadTokens:  m.Usage.CacheReadInputTokens,
		},
		RequestID:  requestID,
		RateLimits: limits,
	}
}

// body builds the wire request for req, applying the configured defaults.
func (c *Client) body(req llm.Request, withMaxTokens bool) (messagesRequest, error) {
	b := messagesRequest{Model: req.Model, System: req.System, Messages: req.Messages}
	if b.Model == "" {
		b.Model = c.cfg.Model
	}
	if b.Model == "" {
		return b, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "no model given in the request or the configuration"}
	}
	if b.Messages == nil {
		b.Messages = []llm.Message{}
	}
	if withMaxTokens {
		b.MaxTokens = req.MaxTokens
		if b.MaxTokens <= 0 {
			b.MaxTokens = c.cfg.MaxTokens
		}
	}
	return b, nil
}

// Generate sends req to POST /v1/messages once and returns the answer, or an
// *llm.Error classified for the queue.
func (c *Client) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	body, err := c.body(req, true)
	if err != nil {
		return nil, err
	}
	var m message
	meta, err := c.call(ctx, http.MethodPost, "/v1/messages", body, &m)
	if err != nil {
		return nil, err
	}
	if m.Type != "" && m.Type != "message" {
		return nil, meta.malformed(fmt.Errorf("response type %q, want \"message\"", m.Type))
	}
	resp := m.response(meta.requestID, meta.limits)
	if resp.Model == "" {
		resp.Model = body.Model
	}
	return resp, nil
}

// CountTokens asks POST /v1/messages/count_tokens how many input tokens req
// would use.
func (c *Client) CountTokens(ctx context.Context, req llm.Request) (int64, error) {
	body, err := c.body(req, false)
	if err != nil {
		return 0, err
	}
	var out struct {
		InputTokens *int64 `json:"input_tokens"`
	}
	meta, err := c.call(ctx, http.MethodPost, "/v1/messages/count_tokens", body, &out)
	if err != nil {
		return 0, err
	}
	if out.InputTokens == nil {
		return 0, meta.malformed(errors.New("no input_tokens in the response"))
	}
	return *out.InputTokens, nil
}

// meta is what a successful response said besides its body.
type meta struct {
	status    int
	requestID string
	limits    *llm.RateLimits
}

// malformed returns the error for a 2xx response whose body could not be
// used: transient, since a retry may well succeed.
func (m meta) malformed(err error) *llm.Error {
	return &llm.Error{
		Provider: Name,
		Class:    llm.Transient,
		Status:   m.status,
		Message:  "malformed response body",
		Err:      &llm.ResponseError{StatusCode: m.status, RequestID: m.requestID, Limits: m.limits, Err: err},
	}
}

// call sends one request with a JSON body (nil for none) under the
// configured timeout and decodes a 2xx JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) (meta, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.open(ctx, method, path, in, "application/json")
	if err != nil {
		return meta{}, err
	}
	defer drainClose(resp.Body)
	m := meta{status: resp.StatusCode, requestID: requestID(resp.Header), limits: ParseRateLimits(resp.Header)}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return m, c.transportError(ctx, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return m, m.malformed(err)
	}
	return m, nil
}

// open sends one request and returns the response if its status is 2xx; the
// caller closes its body. Any other status becomes an *llm.Error.
func (c *Client) open(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "encode request body", Err: err}
		}
		body = bytes.NewReader(data)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, &llm.Error{Provider: Name, Class: llm.Permanent, Message: "build request", Err: err}
	}
	if in != nil {
		hreq.Header.Set("content-type", "application/json")
	}
	hreq.Header.Set("accept", accept)
	hreq.Header.Set("anthropic-version", APIVersion)
	if c.cfg.APIKey != "" {
		hreq.Header.Set("x-api-key", c.cfg.APIKey)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer drainClose(resp.Body)
	return nil, responseError(resp)
}

// transportError classifies a failure to get or read a response: always
// transient, with a message telling a timeout from a broken connection.
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

// drainClose reads a little of what is left of body so the connection can be
// reused, then closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

func requestID(h http.Header) string {
	if id := h.Get("request-id"); id != "" {
		return id
	}
	return h.Get("x-request-id")
}
