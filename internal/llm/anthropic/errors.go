package anthropic

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/llm"
)

// errorBody is the API's error shape:
// {"type":"error","error":{"type":"…","message":"…"},"request_id":"…"}.
type errorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// responseError turns a non-2xx response into a classified *llm.Error.
func responseError(resp *http.Response) *llm.Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb errorBody
	_ = json.Unmarshal(data, &eb)
	limits := ParseRateLimits(resp.Header)
	id := requestID(resp.Header)
	if id == "" {
		id = eb.RequestID
	}
	e := &llm.Error{
		Provider: Name,
		Status:   resp.StatusCode,
		Type:     eb.Error.Type,
		Message:  eb.Error.Message,
		Class:    classify(resp.StatusCode, eb.Error.Type),
		Err:      &llm.ResponseError{StatusCode: resp.StatusCode, RequestID: id, Limits: limits},
	}
	if e.Message == "" {
		e.Message = plainMessage(resp.StatusCode, data)
	}
	now := llm.ResponseTime(resp.Header)
	if d, ok := llm.RetryAfter(resp.Header, now); ok {
		e.RetryAfter = d
	} else if e.Class == llm.RateLimited {
		e.RetryAfter = retryAfterResets(resp.Header, now)
	}
	return e
}

// plainMessage is the message for an error response without a JSON error
// body (a proxy's page, say): its text when short, else the status text.
func plainMessage(status int, body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || len(s) > 512 || strings.HasPrefix(s, "<") {
		return http.StatusText(status)
	}
	return s
}

// classify maps a status and the body's error.type to a class.
func classify(status int, errType string) llm.Class {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusPaymentRequired,
		http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		return llm.Permanent
	case http.StatusTooManyRequests:
		return llm.RateLimited
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, 529:
		return llm.Transient
	}
	if c, ok := classOfType(errType); ok {
		return c
	}
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusConflict {
		return llm.Permanent
	}
	return llm.Transient
}

// classOfType maps an error.type to a class, for statuses the table above
// does not know and for errored batch results, which have no status.
func classOfType(errType string) (llm.Class, bool) {
	switch errType {
	case "invalid_request_error", "authentication_error", "billing_error",
		"permission_error", "not_found_error", "request_too_large":
		return llm.Permanent, true
	case "rate_limit_error":
		return llm.RateLimited, true
	case "api_error", "overloaded_error", "timeout_error":
		return llm.Transient, true
	}
	return llm.Transient, false
}

// limitNames are the anthropic-ratelimit-<name>-* families, including the
// combined "tokens" one, which llm.RateLimits does not hold but which can
// explain a 429.
var limitNames = []string{"requests", "input-tokens", "output-tokens", "tokens"}

// retryAfterResets derives a wait from the reset times when a 429 has no
// retry-after: the latest reset of the limits with nothing remaining, else
// DefaultRetryAfter.
func retryAfterResets(h http.Header, now time.Time) time.Duration {
	var latest time.Time
	for _, name := range limitNames {
		rem, ok := headerInt(h, "anthropic-ratelimit-"+name+"-remaining")
		if !ok || rem > 0 {
			continue
		}
		if t, ok := headerTime(h, "anthropic-ratelimit-"+name+"-reset"); ok && t.After(latest) {
			latest = t
		}
	}
	if latest.IsZero() {
		return DefaultRetryAfter
	}
	return max(latest.Sub(now), time.Second)
}

// ParseRateLimits reads the anthropic-ratelimit-{requests,input-tokens,
// output-tokens}-{limit,remaining,reset} headers. Reset is the earliest of
// the reset times. It returns nil when none of the headers is present.
func ParseRateLimits(h http.Header) *llm.RateLimits {
	var rl llm.RateLimits
	found := false
	set := func(dst *int64, key string) {
		if v, ok := headerInt(h, key); ok {
			*dst = v
			found = true
		}
	}
	set(&rl.RequestsLimit, "anthropic-ratelimit-requests-limit")
	set(&rl.RequestsRemaining, "anthropic-ratelimit-requests-remaining")
	set(&rl.InputTokensLimit, "anthropic-ratelimit-input-tokens-limit")
	set(&rl.InputTokensRemaining, "anthropic-ratelimit-input-tokens-remaining")
	set(&rl.OutputTokensLimit, "anthropic-ratelimit-output-tokens-limit")
	set(&rl.OutputTokensRemaining, "anthropic-ratelimit-output-tokens-remaining")
	for _, name := range limitNames[:3] {
		if t, ok := headerTime(h, "anthropic-ratelimit-"+name+"-reset"); ok {
			found = true
			if rl.Reset.IsZero() || t.Before(rl.Reset) {
				rl.Reset = t
			}
		}
	}
	if !found {
		return nil
	}
	return &rl
}

func headerInt(h http.Header, key string) (int64, bool) {
	v := h.Get(key)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

func headerTime(h http.Header, key string) (time.Time, bool) {
	v := h.Get(key)
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	return t, err == nil
}
