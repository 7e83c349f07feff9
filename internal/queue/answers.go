package queue

import (
	"context"
	"netsmith/internal/netcfg"
	"sync"
	"time"
)

// A job's result is an answer the provider was already paid for: when the
// transaction that records it fails (the database is down a few seconds,
// a connection drops), running the job again would pay for it twice and
// record it once. So the worker keeps trying to complete it for a while,
// the job still running and leased to it, and if that runs out keeps the
// result for the job's next attempt in this process (answers), which
// completes it without running it again.

// completeBackoff bounds the pause between two tries of a failed
// completion.
var completeBackoff = [2]time.Duration{50 * time.Millisecond, 2 * time.Second}

// completePaid is complete(c), tried again with backoff until it commits
// or ctx ends; it returns the last error.
func (e *riverEngine[TDriver, TTx]) completePaid(ctx context.Context, c *completion) error {
	wait := completeBackoff[0]
	for {
		err := e.complete(ctx, c)
		if err == nil {
			return nil
		}
		e.q.cfg.Logger.WarnContext(ctx, "complete job; trying again, not calling the model again",
			"job_id", c.j.ID, "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, completeBackoff[1])
	}
}

// maxKeptAnswers bounds the answers a process keeps: a job rescued by
// another replica never comes back for its answer here, and a long outage
// must not grow the map without end. Past the bound an arbitrary answer is
// dropped, which costs at most that job one more call.
const maxKeptAnswers = 4096

// answers are results of jobs whose completion failed, kept for their
// next attempt, by job id.
type answers struct {
	mu sync.Mutex
	m  map[string]*netcfg.Result
}

// keep holds r for job id's next attempt.
func (a *answers) keep(id string, r *netcfg.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]*netcfg.Result{}
	}
	if _, ok := a.m[id]; !ok && len(a.m) >= maxKeptAnswers {
		for old := range a.m {
			delete(a.m, old)
			break
		}
	}
	a.m[id] = r
}

// take returns and forgets the result kept for job id, if any.
func (a *answers) take(id string) (*netcfg.Result, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.m[id]
	delete(a.m, id)
	return r, ok
}
