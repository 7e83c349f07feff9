package netcfg

import "testing"

func TestFailureReason(t *testing.T) {
	for _, tt := range []struct {
		state JobState
		msg   string
		want  string
	}{
		{"failed", "anthropic 401 authentication_error: invalid x-api-key", ReasonUpstream4xx},
		{"failed", "gave up after 5 attempts: anthropic 429 rate_limit_error: slow down", ReasonUpstream4xx},
		{"failed", "openai 500: boom", ReasonUpstream5xx},
		{"failed", "gave up after 5 attempts: context deadline exceeded", ReasonTimeout},
		{"failed", "lint: 2 errors", ReasonLint},
		{"failed", "the queue lost this job", ReasonInternal},
		{"expired", "expired: not started before 2026-01-01T00:00:00Z", ReasonExpired},
		{"canceled", "anthropic 400 whatever", ReasonCanceled},
	} {
		if got := FailureReason(tt.state, tt.msg); got != tt.want {
			t.Errorf("FailureReason(%s, %q) = %s, want %s", tt.state, tt.msg, got, tt.want)
		}
	}
}
