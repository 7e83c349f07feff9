package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"netsmith/internal/store"
)

// groupCommitter commits writes that arrive together in one transaction
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
type groupCommitter[T any] struct {
	in     chan *groupItem[T]
	stop   chan struct{}
	ended  sync.WaitGroup
	max    int
	wait   time.Duration
	commit func(ctx context.Context, group []T) error
	// splits counts groups that failed and were committed one by one.
	splits atomic.Int64
}

type groupItem[T any] struct {
	ctx  context.Context
	v    T
	done chan error
}

// groupTimeout bounds one group's transaction.
const groupTimeout = 30 * time.Second

// newGroupCommitter starts a group committer with n goroutines.
func newGroupCommitter[T any](n, limit int, wait time.Duration, commit func(ctx context.Context, group []T) error) *groupCommitter[T] {
	g := &groupCommitter[T]{
		in:     make(chan *groupItem[T]),
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

// do commits v, in a group with whatever else is being committed, and
// returns v's own outcome. Once handed over, v is committed or refused
// whatever happens to ctx, and do waits to say which: a caller told
// "canceled" must be able to trust that nothing was written. After close,
// do commits v on its own.
func (g *groupCommitter[T]) do(ctx context.Context, v T) error {
	it := &groupItem[T]{ctx: ctx, v: v, done: make(chan error, 1)}
	select {
	case g.in <- it:
		return <-it.done
	case <-g.stop:
		return g.commitOne(it)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close ends the committer once the groups in hand are committed; do calls
// that follow commit on their own.
func (g *groupCommitter[T]) close() {
	close(g.stop)
	g.ended.Wait()
}

func (g *groupCommitter[T]) run() {
	for {
		var first *groupItem[T]
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
func (g *groupCommitter[T]) gather(first *groupItem[T]) []*groupItem[T] {
	group := []*groupItem[T]{first}
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

func (g *groupCommitter[T]) commitOne(it *groupItem[T]) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(it.ctx), groupTimeout)
	defer cancel()
	return g.commit(ctx, []T{it.v})
}

// execGroupConn is a store.Conn whose Execs, from any number of goroutines,
// are committed in groups, each Exec whole or not at all as on its own;
// its queries go to the connection beneath. On SQLite it carries the
// template cache's lease and fill statements, which are single statements
// that would otherwise each take the one writer connection for themselves.
type execGroupConn struct {
	store.Conn
	g *groupCommitter[*execItem]
}

// execItem is one statement of an execGroupConn and, once committed, the
// rows it affected.
type execItem struct {
	query string
	args  []any
	n     int64
}

// execGroupMax bounds the statements of one execGroupConn transaction.
const execGroupMax = 64

// newExecGroupConn groups the Execs on c; inTx runs a transaction whose
// handle the function it is given receives.
func newExecGroupConn(c store.Conn, inTx func(ctx context.Context, fn func(tx store.Conn) error) error) *execGroupConn {
	return &execGroupConn{Conn: c, g: newGroupCommitter(1, execGroupMax, 0, func(ctx context.Context, items []*execItem) error {
		return inTx(ctx, func(tx store.Conn) error {
			for _, it := range items {
				n, err := tx.Exec(ctx, it.query, it.args...)
				if err != nil {
					return err
				}
				it.n = n
			}
			return nil
		})
	})}
}

func (c *execGroupConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	it := &execItem{query: query, args: args}
	if err := c.g.do(ctx, it); err != nil {
		return 0, err
	}
	return it.n, nil
}
