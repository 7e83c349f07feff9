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
//
// With ExtraAt(k), one goroutine takes every group and the others join
// only while k or more writes wait to be handed over. Every transaction
// costs the database its round trips and its commit whatever it holds, so
// on a machine the database shares, several small groups at once cost
// more CPU than one larger group, and slow everything else down; the
// others are for the moments when one goroutine cannot keep up.
type Committer[T any] struct {
	in     chan *item[T]
	stop   chan struct{}
	ended  sync.WaitGroup
	max    int
	wait   time.Duration
	commit func(ctx context.Context, group []T) error
	// splits counts groups that failed and were committed one by one.
	splits atomic.Int64

	// extraAt is ExtraAt's k (0: every goroutine takes groups).
	extraAt int64
	// waiting counts the writes not handed over yet.
	waiting atomic.Int64
	// wake nudges a waiting extra goroutine when waiting reaches extraAt.
	wake chan struct{}
	// extra counts the groups the extra goroutines took.
	extra atomic.Int64
}

// Option changes a Committer.
type Option func(*config)

type config struct{ extraAt int }

// ExtraAt makes all but one of the goroutines take a group only while at
// least k writes wait to be handed over.
func ExtraAt(k int) Option { return func(c *config) { c.extraAt = k } }

type item[T any] struct {
	ctx  context.Context
	v    T
	done chan error
}

// groupTimeout bounds one group's transaction.
const groupTimeout = 30 * time.Second

// New starts a group committer with n goroutines.
func New[T any](n, limit int, wait time.Duration, commit func(ctx context.Context, group []T) error, opts ...Option) *Committer[T] {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	g := &Committer[T]{
		in:      make(chan *item[T]),
		stop:    make(chan struct{}),
		max:     limit,
		wait:    wait,
		commit:  commit,
		extraAt: int64(max(cfg.extraAt, 0)),
		wake:    make(chan struct{}, 1),
	}
	g.ended.Go(g.run)
	for range max(n, 1) - 1 {
		if g.extraAt > 0 {
			g.ended.Go(g.runExtra)
		} else {
			g.ended.Go(g.run)
		}
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
	if g.extraAt > 0 && g.waiting.Add(1) >= g.extraAt {
		select {
		case g.wake <- struct{}{}:
		default: // a nudge is pending already
		}
	}
	select {
	case g.in <- it:
		return <-it.done // the receiver counted it out of waiting
	case <-g.stop:
		g.notWaiting()
		return g.commitOne(it)
	case <-ctx.Done():
		g.notWaiting()
		return ctx.Err()
	}
}

// notWaiting counts a write out of waiting: its receiver calls it, or Do
// when the write was not handed over.
func (g *Committer[T]) notWaiting() {
	if g.extraAt > 0 {
		g.waiting.Add(-1)
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
		select {
		case first := <-g.in:
			g.commitGroup(first)
		case <-g.stop:
			return
		}
	}
}

// runExtra is an extra goroutine of ExtraAt: woken when extraAt writes
// wait, it takes groups while that many still do. It never waits for a
// write: those it finds gone were taken by the others.
func (g *Committer[T]) runExtra() {
	for {
		select {
		case <-g.wake:
		case <-g.stop:
			return
		}
		for g.waiting.Load() >= g.extraAt {
			if !g.takeWaiting() {
				break
			}
		}
	}
}

// takeWaiting commits a group if a write is waiting, and reports whether
// one was.
func (g *Committer[T]) takeWaiting() bool {
	select {
	case first := <-g.in:
		g.extra.Add(1)
		g.commitGroup(first)
		return true
	default:
		return false
	}
}

// commitGroup commits the group that starts with first and tells each
// write its outcome.
func (g *Committer[T]) commitGroup(first *item[T]) {
	g.notWaiting()
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
		return
	}
	for _, it := range group {
		it.done <- err
	}
}

// gather collects a group that starts with first.
func (g *Committer[T]) gather(first *item[T]) []*item[T] {
	group := []*item[T]{first}
	// What is waiting already.
	for len(group) < g.max {
		select {
		case it := <-g.in:
			g.notWaiting()
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
			g.notWaiting()
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

// Extra reports how many groups ExtraAt's extra goroutines took.
func (g *Committer[T]) Extra() int64 { return g.extra.Load() }
