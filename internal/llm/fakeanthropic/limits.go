package fakeanthropic

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// bucket is a token bucket refilled continuously at limit per minute up to
// capacity, the way Anthropic describes its own limits.
type bucket struct {
	name     string  // "requests", "input-tokens", "output-tokens"
	unit     string  // for messages: "requests", "input tokens", …
	limit    int64   // per minute, as reported in the -limit header
	capacity float64 // what may be spent at once
	level    float64
	last     time.Time
}

func newBucket(name, unit string, limit int64, burst time.Duration, now time.Time) *bucket {
	if limit <= 0 {
		return nil
	}
	capacity := max(float64(limit)*burst.Minutes(), 1)
	return &bucket{name: name, unit: unit, limit: limit, capacity: capacity, level: capacity, last: now}
}

func (b *bucket) perSecond() float64 { return float64(b.limit) / 60 }

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.level = min(b.capacity, b.level+d.Seconds()*b.perSecond())
		b.last = now
	}
}

// wait is how long until n units are available (never less than zero).
func (b *bucket) wait(n float64) time.Duration {
	if b.level >= n {
		return 0
	}
	return time.Duration((n - b.level) / b.perSecond() * float64(time.Second))
}

// state is what the bucket reports in headers.
func (b *bucket) state(now time.Time) limitState {
	full := time.Duration((b.capacity - b.level) / b.perSecond() * float64(time.Second))
	return limitState{
		name:      b.name,
		limit:     b.limit,
		remaining: int64(math.Floor(max(b.level, 0))),
		reset:     now.Add(full),
	}
}

type limitState struct {
	name      string
	limit     int64
	remaining int64
	reset     time.Time
}

// limits holds the server's buckets. One set serves every model, as if the
// organisation had one limit for all of them. It is guarded by Server.mu.
type limits struct {
	requests, input, output *bucket
	// requestsLow is the least the requests bucket held right after
	// admitting a request: how close the clients came to a 429.
	requestsLow float64
}

func newLimits(cfg Config, now time.Time) *limits {
	l := &limits{
		requests: newBucket("requests", "requests", cfg.RequestsPerMinute, cfg.Burst, now),
		input:    newBucket("input-tokens", "input tokens", cfg.InputTokensPerMinute, cfg.Burst, now),
		output:   newBucket("output-tokens", "output tokens", cfg.OutputTokensPerMinute, cfg.Burst, now),
	}
	if l.requests != nil {
		l.requestsLow = l.requests.capacity
	}
	return l
}

// admission is the outcome of asking for capacity.
type admission struct {
	ok         bool
	retryAfter time.Duration
	exceeded   *bucket // the limit that refused, when !ok
	states     []limitState
}

// admit takes one request, in input tokens and out output tokens from the
// buckets if all of them can give it, or none of them.
func (l *limits) admit(now time.Time, in, out int64) admission {
	type want struct {
		b *bucket
		n float64
	}
	wants := []want{{l.requests, 1}, {l.input, float64(in)}, {l.output, float64(out)}}
	a := admission{ok: true}
	for _, w := range wants {
		if w.b == nil {
			continue
		}
		w.b.refill(now)
		if d := w.b.wait(w.n); d > 0 {
			a.ok = false
			if d > a.retryAfter || a.exceeded == nil {
				a.retryAfter = max(d, a.retryAfter)
				a.exceeded = w.b
			}
		}
	}
	if a.ok {
		for _, w := range wants {
			if w.b != nil {
				w.b.level -= w.n
			}
		}
		if l.requests != nil {
			l.requestsLow = min(l.requestsLow, l.requests.level)
		}
	}
	a.states = l.states(now)
	return a
}

// peek refills the buckets and reports their state without spending.
func (l *limits) peek(now time.Time) []limitState {
	for _, b := range []*bucket{l.requests, l.input, l.output} {
		if b != nil {
			b.refill(now)
		}
	}
	return l.states(now)
}

func (l *limits) states(now time.Time) []limitState {
	var s []limitState
	var tokens *limitState
	for _, b := range []*bucket{l.requests, l.input, l.output} {
		if b == nil {
			continue
		}
		st := b.state(now)
		s = append(s, st)
		if b != l.requests && (tokens == nil || st.remaining < tokens.remaining) {
			t := st
			t.name = "tokens"
			tokens = &t
		}
	}
	if tokens != nil {
		s = append(s, *tokens)
	}
	return s
}

// setLimitHeaders writes the anthropic-ratelimit-* headers for states.
func setLimitHeaders(h http.Header, states []limitState) {
	for _, st := range states {
		p := "anthropic-ratelimit-" + st.name + "-"
		h.Set(p+"limit", strconv.FormatInt(st.limit, 10))
		h.Set(p+"remaining", strconv.FormatInt(st.remaining, 10))
		h.Set(p+"reset", st.reset.UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339))
	}
}

// rateLimitMessage is the 429's message, worded like the real one.
func rateLimitMessage(b *bucket, model string) string {
	return fmt.Sprintf("This request would exceed your organization's rate limit of %d %s per minute (model: %s). "+
		"For details, refer to: https://docs.claude.com/en/api/rate-limits. "+
		"You can see the response headers for current usage. "+
		"Please reduce the prompt length or the maximum tokens requested, or try again later.",
		b.limit, b.unit, model)
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64(math.Ceil(d.Seconds())), 1)
}
