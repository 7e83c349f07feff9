package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/worker"
)

// failingLLM fails every call with err.
type failingLLM struct{ err error }

func (f failingLLM) Generate(context.Context, llm.Request) (*llm.Response, error) { return nil, f.err }

// TestFailedAttemptLoggedOnce: the worker logs a failed attempt that River
// only records (a permanent failure, a snooze), and leaves one River
// retries to River's own log line.
func TestFailedAttemptLoggedOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		class llm.Class
		want  int
	}{{llm.Permanent, 1}, {llm.RateLimited, 1}, {llm.Transient, 0}} {
		t.Run(tt.class.String(), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return buf.Write(p)
			}), nil))
			svc := generate.New(generate.Config{LLM: failingLLM{&llm.Error{Provider: "test", Class: tt.class, Message: "no"}},
				Provider: "test", Model: "m"})
			_, j := deviceJob(t, "sw1", "")
			if _, err := worker.New(svc, nil, nil, logger).Run(t.Context(), j); err == nil {
				t.Fatal("Run succeeded; want the upstream's error")
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Count(buf.String(), "job attempt failed"); got != tt.want {
				t.Errorf("logged %d times, want %d:\n%s", got, tt.want, buf.String())
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
