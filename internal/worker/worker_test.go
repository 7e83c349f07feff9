package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/queue"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	perm := &llm.Error{Provider: "anthropic", Class: llm.Permanent, Status: 400, Message: "bad"}
	rl := &llm.Error{Provider: "anthropic", Class: llm.RateLimited, Status: 429, RetryAfter: 2 * time.Second}
	tr := &llm.Error{Provider: "anthropic", Class: llm.Transient, Status: 529}
	tests := []struct {
		name      string
		in        error
		permanent bool
		snooze    time.Duration // 0: not a snooze
	}{
		{"permanent", fmt.Errorf("call: %w", perm), true, 0},
		{"rate limited", rl, false, 2 * time.Second},
		{"cache busy", &cache.BusyError{Key: "k", Wait: 3 * time.Second}, false, 3 * time.Second},
		{"transient", tr, false, 0},
		{"plain", context.DeadlineExceeded, false, 0},
		{"template as config", fmt.Errorf("sw1: %w", generate.ErrTemplateConfig), true, 0},
	}
	for _, tt := range tests {
		got := classify(tt.in)
		var pe *queue.PermanentError
		var se *queue.SnoozeError
		if errors.As(got, &pe) != tt.permanent {
			t.Errorf("%s: permanent = %v, want %v (%v)", tt.name, !tt.permanent, tt.permanent, got)
		}
		if errors.As(got, &se) != (tt.snooze > 0) || (se != nil && se.After != tt.snooze) {
			t.Errorf("%s: snooze %+v, want %s", tt.name, se, tt.snooze)
		}
		if !errors.Is(got, tt.in) {
			t.Errorf("%s: classify lost the cause: %v", tt.name, got)
		}
	}
}
