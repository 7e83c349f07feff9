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
// on to the model call, and one goroutine writes what has gathered every
// flushEvery (or every flushMax marks) in one transaction. Started in
// Queue.Start, stopped (after a last flush) in Queue.Stop.
type runMarks struct {
	q       *Queue
	mu      sync.Mutex
	pending []runMark
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

const (
	flushEvery = 50 * time.Millisecond
	flushMax   = 256
)

func newRunMarks(q *Queue) *runMarks {
	return &runMarks{q: q, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (r *runMarks) add(m runMark) {
	r.mu.Lock()
	r.pending = append(r.pending, m)
	full := len(r.pending) >= flushMax
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

func (r *runMarks) run() {
	defer close(r.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			r.flush()
			return
		case <-t.C:
		case <-r.kick:
		}
		r.flush()
	}
}

func (r *runMarks) flush() {
	r.mu.Lock()
	marks := r.pending
	r.pending = nil
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
