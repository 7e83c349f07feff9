package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// runMark is a job that started an attempt.
type runMark struct {
	id      string
	attempt int
	at      time.Time
}

// runMarks batches "running" marks: a worker hands its mark over and goes
// on to the model call, and one goroutine writes the marks that are
// markDelay old every flushEvery, in one transaction. A job that ends
// before its mark is due takes the mark back (drop): its completion or
// failure records the attempt and start time itself, so a fast job costs
// no "running" write at all, and its completion never waits on a running
// mark's row lock (PostgreSQL). Readers see such a job go from queued to
// its final state. Started in Queue.Start, stopped (after writing every
// pending mark) in Queue.Stop.
type runMarks struct {
	q       *Queue
	mu      sync.Mutex
	pending map[string]runMark
	quit    chan struct{}
	done    chan struct{}
}

const (
	flushEvery = 50 * time.Millisecond
	markDelay  = 250 * time.Millisecond
)

func newRunMarks(q *Queue) *runMarks {
	return &runMarks{q: q, pending: map[string]runMark{}, quit: make(chan struct{}), done: make(chan struct{})}
}

func (r *runMarks) add(m runMark) {
	r.mu.Lock()
	r.pending[m.id] = m
	r.mu.Unlock()
}

// drop takes back job id's mark if it is not written yet.
func (r *runMarks) drop(id string) {
	r.mu.Lock()
	delete(r.pending, id)
	r.mu.Unlock()
}

func (r *runMarks) run() {
	defer close(r.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			r.flush(time.Time{})
			return
		case <-t.C:
		}
		r.flush(r.q.cfg.Clock().Add(-markDelay))
	}
}

// flush writes the marks made before `before` (all when it is zero).
func (r *runMarks) flush(before time.Time) {
	r.mu.Lock()
	var marks []runMark
	for id, m := range r.pending {
		if before.IsZero() || m.at.Before(before) {
			marks = append(marks, m)
			delete(r.pending, id)
		}
	}
	r.mu.Unlock()
	if len(marks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.q.eng.markRunning(ctx, marks); err != nil {
		// Only the live "running" state is lost: completion and failure
		// record the attempt themselves.
		r.q.cfg.Logger.Warn("record running jobs", "jobs", len(marks), slog.Any("error", err))
		return
	}
	for _, m := range marks {
		r.q.watch.notify(m.id)
	}
}

func (r *runMarks) stop() {
	close(r.quit)
	<-r.done
}
