package llm

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// NewHTTPClient returns the HTTP client provider adapters use when given
// none: dial, TLS and idle timeouts, a large idle-connection pool per host
// (thousands of calls may be in flight), no redirects, and no overall
// timeout (each call carries its own deadline). Never http.DefaultClient.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          0,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ResponseError is the Err of an *Error built from an HTTP response: what
// the response said besides its error body. The upstream limiter reads the
// rate-limit headers of failed calls through its RateLimits method.
type ResponseError struct {
	StatusCode int
	RequestID  string
	Limits     *RateLimits // nil when the response had no rate-limit headers
	Err        error       // why a 2xx body was unusable, if it was
}

func (e *ResponseError) Error() string {
	s := "http " + strconv.Itoa(e.StatusCode)
	if e.RequestID != "" {
		s += " request-id " + e.RequestID
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ResponseError) Unwrap() error { return e.Err }

// RateLimits returns the rate limits the failed response reported, or nil.
func (e *ResponseError) RateLimits() *RateLimits { return e.Limits }

// ResponseTime is the server's clock from a response's Date header, so that
// reset times are read against the clock that wrote them; time.Now without
// one.
func ResponseTime(h http.Header) time.Time {
	if t, err := http.ParseTime(h.Get("date")); err == nil {
		return t
	}
	return time.Now()
}

// RetryAfter reads retry-after-ms, then retry-after (seconds or an HTTP
// date), relative to now.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("retry-after"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e9 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
