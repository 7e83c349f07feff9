package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"netsmith/internal/llm"
	"netsmith/internal/metrics"
)

func TestFailureReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&PermanentError{Err: &llm.Error{Provider: "anthropic", Status: 400, Type: "invalid_request_error"}}, metrics.ReasonUpstream4xx},
		{fmt.Errorf("gave up: %w", &llm.Error{Provider: "anthropic", Status: 529}), metrics.ReasonUpstream5xx},
		{&llm.Error{Provider: "anthropic", Err: errors.New("connection refused")}, metrics.ReasonUpstream5xx},
		{&llm.Error{Provider: "anthropic", Err: context.DeadlineExceeded}, metrics.ReasonTimeout},
		{fmt.Errorf("render: %w", context.DeadlineExceeded), metrics.ReasonTimeout},
		{&PermanentError{Err: errors.New("template actions in a device config"), Reason: metrics.ReasonLint}, metrics.ReasonLint},
		{&PermanentError{Err: errors.New("decode request")}, metrics.ReasonInternal},
		{errors.New("database is locked"), metrics.ReasonInternal},
	} {
		if got := failureReason(tc.err); got != tc.want {
			t.Errorf("failureReason(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
