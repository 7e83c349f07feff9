package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"netsmith/internal/adapt"
	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/prompt"
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

// TestGateAdmitsWorkNotWaits: with a gate of 2, four jobs the queue
// admitted (adapt.Enter) are in their model call at once, as Run has a job
// waiting on the upstream give its slot to the next; each comes back and
// finishes.
func TestGateAdmitsWorkNotWaits(t *testing.T) {
	t.Parallel()
	const jobs = 4
	up := &meetingLLM{n: jobs, all: make(chan struct{})}
	svc := generate.New(generate.Config{LLM: up, Provider: "test", Model: "m"})
	runner := worker.New(svc, nil, nil, slog.New(slog.DiscardHandler))
	gate := adapt.New(adapt.Config{Max: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make(chan error, jobs)
	for i := range jobs {
		go func() {
			_, j := deviceJob(t, fmt.Sprintf("sw%d", i), "")
			ctx, leave, err := adapt.Enter(ctx, gate)
			if err == nil {
				_, err = runner.Run(ctx, j)
				leave()
			}
			errs <- err
		}()
	}
	for range jobs {
		if err := <-errs; err != nil {
			t.Errorf("job: %v (the jobs waiting on the model kept the others out)", err)
		}
	}
}
