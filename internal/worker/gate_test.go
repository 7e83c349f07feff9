package worker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"netsmith/internal/adapt"
	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/prompt"
	"netsmith/internal/queue"
	"netsmith/internal/worker"
)

// meetingLLM answers no call until n calls are in flight at once, or ctx
// ends.
type meetingLLM struct {
	n   int
	mu  sync.Mutex
	in  int
	all chan struct{}
}

func (m *meetingLLM) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	m.mu.Lock()
	if m.in++; m.in == m.n {
		close(m.all)
	}
	m.mu.Unlock()
	select {
	case <-m.all:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	spec, _ := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
	return &llm.Response{Provider: "test", Model: req.Model, Text: "```\nhostname " + spec.Hostname + "\n```\n"}, nil
}

// TestGateAdmitsWorkNotWaits: with a gate of 2, four jobs are in their
// model call at once, as a job waiting on the upstream gives its slot to
// the next; each comes back and finishes.
func TestGateAdmitsWorkNotWaits(t *testing.T) {
	t.Parallel()
	const jobs = 4
	up := &meetingLLM{n: jobs, all: make(chan struct{})}
	svc := generate.New(generate.Config{LLM: up, Provider: "test", Model: "m"})
	runner := worker.New(svc, nil, nil, slog.New(slog.DiscardHandler))
	runner.Admit(adapt.New(adapt.Config{Max: 2}))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make(chan error, jobs)
	for i := range jobs {
		go func() {
			_, j := deviceJob(t, fmt.Sprintf("sw%d", i), "")
			_, err := runner.Run(ctx, j)
			errs <- err
		}()
	}
	for range jobs {
		if err := <-errs; err != nil {
			t.Errorf("job: %v (the jobs waiting on the model kept the others out)", err)
		}
	}
}

// TestGateWaitSnoozes: a job whose attempt ends while it waits for the
// gate comes back later, without spending the attempt.
func TestGateWaitSnoozes(t *testing.T) {
	t.Parallel()
	g := adapt.New(adapt.Config{Max: 1})
	held, err := g.Admit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Leave()
	svc := generate.New(generate.Config{LLM: &meetingLLM{n: 1, all: make(chan struct{})}, Provider: "test", Model: "m"})
	runner := worker.New(svc, nil, nil, slog.New(slog.DiscardHandler))
	runner.Admit(g)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, j := deviceJob(t, "sw1", "")
	_, err = runner.Run(ctx, j)
	var snooze *queue.SnoozeError
	if !errors.As(err, &snooze) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run with the gate full until its deadline = %v, want a snooze", err)
	}
}
