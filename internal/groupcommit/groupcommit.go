// Package groupcommit commits writes that arrive together in one
// transaction (group commit), each keeping its own all-or-nothing outcome.
// The queue groups submissions and completions with it, the store the
// template cache's single-statement writes on SQLite.
package groupcommit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Committer commits writes that arrive together in one transaction
// (group commit). Each write keeps its own guarantee: it commits whole or
// not at all, and its caller learns which. The database sees one commit,
// and on SQLite one turn at the single writer connection, for the group
// instead of one per write: that hand-over, not the statements, is most of
// a small write's cost there (BENCHMARKS.md, scenario 1).
//
// A fixed number of goroutines (one on SQLite, whose writer is one
// connection anyway) each commit one group after another. A group is what
// has arrived by the time its goroutine is free, up to max, plus what
// arrives within wait of its first write: with wait = 0 a write alone
// waits for nothing, and under load the groups grow by themselves.
type Committer[T any] struct {
	in     chan *item[T]
	stop   chan struct{}
	ended  sync.WaitGroup
	max    int
	wait   time.Duration
	commit func(ctx context.Context, group []T) error
	// splits counts groups that failed and were committed one by one.
	splits atomic.Int64
}

type item[T any] struct {
	ctx  context.Context
	v    T
	done chan error
}

// groupTimeout bounds one group's transaction.
const groupTimeout = 30 * time.Second

// New starts a group committer with n goroutines.
func New[T any](n, limit int, wait time.Duration, commit func(ctx context.Context, group []T) error) *Committer[T] {
	g := &Committer[T]{
		in:     make(chan *item[T]),
		stop:   make(chan struct{}),
		max:    limit,
		wait:   wait,
		commit: commit,
	}
	for range max(n, 1) {
		g.ended.Go(g.run)
	}
	return g
}

// Do commits v, in a group with whatever else is being committed, and
// returns v's own outcome. Once handed over, v is committed or refused
// whatever happens to ctx, and Do waits to say which: a caller told
// "canceled" must be able to trust that nothing was written. After Close,
// Do commits v on its own.
func (g *Committer[T]) Do(ctx context.Context, v T) error {
	it := &item[T]{ctx: ctx, v: v, done: make(chan error, 1)}
	select {
	case g.in <- it:
		return <-it.done
	case <-g.stop:
		return g.commitOne(it)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the committer once the groups in hand are committed; Do calls
// that follow commit on their own.
func (g *Committer[T]) Close() {
	close(g.stop)
	g.ended.Wait()
}

func (g *Committer[T]) run() {
	for {
		var first *item[T]
		select {
		case first = <-g.in:
		case <-g.stop:
			return
		}
		group := g.gather(first)
		vs := make([]T, len(group))
		for i, it := range group {
			vs[i] = it.v
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(first.ctx), groupTimeout)
		err := g.commit(ctx, vs)
		cancel()
		if err != nil && len(group) > 1 {
			// One bad write fails the group: commit each on its own so
			// that the others land and the bad one gets its own error.
			g.splits.Add(1)
			for _, it := range group {
				it.done <- g.commitOne(it)
			}
			continue
		}
		for _, it := range group {
			it.done <- err
		}
	}
}

// gather collects a group that starts with first.
func (g *Committer[T]) gather(first *item[T]) []*item[T] {
	group := []*item[T]{first}
	// What is waiting already.
	for len(group) < g.max {
		select {
		case it := <-g.in:
			group = append(group, it)
			continue
		default:
		}
		break
	}
	if g.wait <= 0 {
		return group
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	for len(group) < g.max {
		select {
		case it := <-g.in:
			group = append(group, it)
		case <-timer.C:
			return group
		}
	}
	return group
}

func (g *Committer[T]) commitOne(it *item[T]) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(it.ctx), groupTimeout)
	defer cancel()
	return g.commit(ctx, []T{it.v})
}

// Splits reports how many groups failed and were committed one by one.
func (g *Committer[T]) Splits() int64 { return g.splits.Load() }
