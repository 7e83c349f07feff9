package llm

import (
	"net"
	"net/http"
	"strconv"
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
