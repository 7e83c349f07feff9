package llm

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestClassOf(t *testing.T) {
	t.Parallel()
	perm := &Error{Provider: "anthropic", Class: Permanent, Status: 400, Type: "invalid_request_error", Message: "bad"}
	tests := []struct {
		err  error
		want Class
	}{
		{perm, Permanent},
		{fmt.Errorf("call: %w", perm), Permanent},
		{&Error{Class: RateLimited}, RateLimited},
		{context.DeadlineExceeded, Transient},
		{errors.New("boom"), Transient},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got, want := perm.Error(), "anthropic 400 invalid_request_error: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestUsageAdd(t *testing.T) {
	t.Parallel()
	got := Usage{InputTokens: 1, OutputTokens: 2}.Add(Usage{InputTokens: 10, OutputTokens: 20, CacheReadTokens: 3})
	want := Usage{InputTokens: 11, OutputTokens: 22, CacheReadTokens: 3}
	if got != want {
		t.Errorf("Add = %+v, want %+v", got, want)
	}
}
