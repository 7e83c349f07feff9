package generate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"netsmith/internal/generate"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/metrics"
	"netsmith/internal/prompt"
)

// heldLLM answers a config for the device asked once its calls are let
// go; it records how many calls it had in flight at most.
type heldLLM struct {
	mu           sync.Mutex
	now, most, n int
	free         chan struct{}
}

func (h *heldLLM) inFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *heldLLM) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	h.mu.Lock()
	h.now++
	h.n++
	h.most = max(h.most, h.now)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.now--
		h.mu.Unlock()
	}()
	select {
	case <-h.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	spec, _ := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
	return &llm.Response{Provider: "test", Model: req.Model, Text: "```\nhostname " + spec.Hostname + "\n```\n",
		Usage: llm.Usage{InputTokens: 10, OutputTokens: 5}}, nil
}

// TestMaxCalls: with MaxCalls 2, five jobs at once have two model calls in
// flight, never more; the others wait for a slot, and one whose context
// ends while it waits gives up without calling.
func TestMaxCalls(t *testing.T) {
	t.Parallel()
	l, err := lint.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := &heldLLM{free: make(chan struct{})}
	svc := generate.New(generate.Config{LLM: m, Provider: "test", Model: "m", Linter: l, MaxCalls: 2})
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			res, err := svc.Run(t.Context(), job(fmt.Sprintf("sw%d", i)), generate.Options{})
			if err == nil && res.Config != fmt.Sprintf("hostname sw%d\n", i) {
				err = fmt.Errorf("config %q", res.Config)
			}
			errs[i] = err
		})
	}
	for deadline := time.Now().Add(5 * time.Second); m.inFlight() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in flight after 5 s, want 2", m.inFlight())
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := svc.Run(ctx, job("late"), generate.Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a job whose context ends waiting for a slot: %v, want the deadline", err)
	}
	if n := m.inFlight(); n != 2 {
		t.Errorf("%d calls in flight while all were held, want 2", n)
	}
	close(m.free)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("job %d: %v", i, err)
		}
	}
	if m.most != 2 || m.n != 5 {
		t.Errorf("%d calls, at most %d in flight; want 5, at most 2", m.n, m.most)
	}
}

// refusingLLM fails every call with err.
type refusingLLM struct{ err error }

func (r refusingLLM) Generate(context.Context, llm.Request) (*llm.Response, error) { return nil, r.err }

// TestHeldBackNotCounted: a call a decorator held back never reached the
// provider and is no request in netsmith_llm_requests_total; one the
// provider refused is.
func TestHeldBackNotCounted(t *testing.T) {
	t.Parallel()
	refused := &llm.Error{Provider: "test", Class: llm.RateLimited, Status: 429}
	for _, tt := range []struct {
		name string
		err  error
		want float64
	}{
		{"held back", fmt.Errorf("%w: %w", llm.ErrHeldBack, refused), 0},
		{"refused", refused, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := metrics.New(prometheus.NewRegistry())
			svc := generate.New(generate.Config{LLM: refusingLLM{tt.err}, Provider: "test", Model: "m", Metrics: m})
			if _, err := svc.Run(t.Context(), job("sw1"), generate.Options{}); llm.ClassOf(err) != llm.RateLimited {
				t.Fatalf("Run = %v, want the rate limit", err)
			}
			var c dto.Metric
			if err := m.LLMRequests.WithLabelValues("test", "m", "rate_limited").Write(&c); err != nil {
				t.Fatal(err)
			}
			if got := c.GetCounter().GetValue(); got != tt.want {
				t.Errorf("requests counted %v, want %v", got, tt.want)
			}
		})
	}
}
