// Package llm holds the provider-neutral shape of a call to a language model:
// the request, the response with its token usage, and the typed errors that
// tell the queue whether to retry, snooze or give up. Provider adapters live
// in sub-packages (anthropic, openai, sim).
package llm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Client is a model provider: an adapter in a sub-package, or a decorator
// around one (package limiter keeps calls inside the upstream's limits).
type Client interface {
	Generate(ctx context.Context, req Request) (*Response, error)
}

// ErrHeldBack matches the error of a call a decorator held back before it
// was sent (package limiter: the wait for capacity outlasts the call's
// deadline, or its context ended): no request reached the provider, and
// none is counted.
var ErrHeldBack = errors.New("call held back before it was sent")

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "user" or "assistant"
	Content string `json:"content"`
}

// Request is one model call.
type Request struct {
	Model     string
	System    string
	Messages  []Message
	MaxTokens int
}

// Usage counts the tokens a call consumed.
type Usage struct {
	InputTokens      int64 `json:"input"`
	OutputTokens     int64 `json:"output"`
	CacheWriteTokens int64 `json:"cache_write,omitempty"`
	CacheReadTokens  int64 `json:"cache_read,omitempty"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:      u.InputTokens + v.InputTokens,
		OutputTokens:     u.OutputTokens + v.OutputTokens,
		CacheWriteTokens: u.CacheWriteTokens + v.CacheWriteTokens,
		CacheReadTokens:  u.CacheReadTokens + v.CacheReadTokens,
	}
}

// RateLimits is what a provider said about its limits in response headers
// (anthropic-ratelimit-*). Zero fields are unknown.
type RateLimits struct {
	RequestsLimit         int64
	RequestsRemaining     int64
	InputTokensLimit      int64
	InputTokensRemaining  int64
	OutputTokensLimit     int64
	OutputTokensRemaining int64
	Reset                 time.Time
}

// Response is a model's answer.
type Response struct {
	Provider   string
	Model      string
	Text       string
	StopReason string
	Usage      Usage
	RequestID  string
	RateLimits *RateLimits
	// Waited is how long the call was held back before it was sent (by
	// package limiter's decorator); adapters leave it zero.
	Waited time.Duration
}

// Class tells the queue what to do with a failed call.
type Class int

// The error classes.
const (
	// Transient errors (5xx, 529 overloaded, timeouts, connection resets) are
	// retried with exponential backoff and jitter.
	Transient Class = iota
	// RateLimited errors (429) wait RetryAfter and try again without
	// counting as a failed attempt.
	RateLimited
	// Permanent errors (400, 401, 402, 403, 404, 413) fail the job at once.
	Permanent
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Error is a failed model call, classified.
type Error struct {
	Provider   string
	Class      Class
	Status     int    // HTTP status, 0 when there was none
	Type       string // provider's error type, e.g. "overloaded_error"
	Message    string // provider's message, safe to show to the job's owner
	RetryAfter time.Duration
	Err        error // underlying cause, if any
}

func (e *Error) Error() string {
	s := e.Provider
	if e.Status != 0 {
		s += fmt.Sprintf(" %d", e.Status)
	}
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// FailureReason is the reason netsmith_jobs_total counts for a job this
// error failed: upstream_4xx when the provider refused the request,
// timeout when the call ran out of time without an answer, upstream_5xx
// otherwise (it failed, was overloaded, or could not be reached).
func (e *Error) FailureReason() string {
	switch {
	case e.Status >= 400 && e.Status < 500:
		return "upstream_4xx"
	case e.Status == 0 && errors.Is(e.Err, context.DeadlineExceeded):
		return "timeout"
	}
	return "upstream_5xx"
}

// ClassOf returns the class of err: the class of an *Error in its chain, or
// Transient for any other error.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}

// EstimateTokens guesses the tokens in s the way the usual tokenizers land
// on English and config text: about one token per four bytes.
func EstimateTokens(s string) int64 {
	if s == "" {
		return 0
	}
	return int64(len(s)+3) / 4
}

// EstimateInputTokens guesses the input tokens of r before a provider counts
// them: its system prompt and every message.
func (r Request) EstimateInputTokens() int64 {
	n := EstimateTokens(r.System)
	for _, m := range r.Messages {
		n += EstimateTokens(m.Content)
	}
	return n
}
