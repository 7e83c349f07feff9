package store

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"netsmith/internal/metrics"
)

// poolCounters counts one connection pool's transactions and round trips
// since it opened, for DB.PoolStats. A transaction is a BEGIN … COMMIT
// block (explicit) or a statement run outside one, which the database
// commits on its own (implicit), as PostgreSQL's pg_stat_database counts
// them. A round trip is one statement sent and answered, BEGIN and COMMIT
// included; on PostgreSQL a batch or a COPY is one, and so is a statement's
// preparation. Atomic adds only: they run on every statement.
type poolCounters struct {
	explicit, implicit txCounters
	roundTrips         atomic.Int64
}

// txCounters are transactions ended, by outcome.
type txCounters struct{ commits, rollbacks atomic.Int64 }

func (c *txCounters) end(committed bool) {
	if committed {
		c.commits.Add(1)
	} else {
		c.rollbacks.Add(1)
	}
}

// fill copies the counts into p.
func (c *poolCounters) fill(p *metrics.DBPool) {
	p.ExplicitCommits, p.ExplicitRollbacks = c.explicit.commits.Load(), c.explicit.rollbacks.Load()
	p.ImplicitCommits, p.ImplicitRollbacks = c.implicit.commits.Load(), c.implicit.rollbacks.Load()
	p.RoundTrips = c.roundTrips.Load()
}

// pgTracer counts a PostgreSQL pool's round trips and transactions as pgx
// sends them, River's statements on the pool included. Whether a statement
// ended a transaction shows in the connection's transaction status before
// and after it: in a block before and out of any after, it was the block's
// COMMIT or ROLLBACK; out of any before and after, it was a transaction of
// its own.
type pgTracer struct{ c *poolCounters }

var (
	_ pgx.QueryTracer    = pgTracer{}
	_ pgx.BatchTracer    = pgTracer{}
	_ pgx.CopyFromTracer = pgTracer{}
	_ pgx.PrepareTracer  = pgTracer{}
)

// txStatusKey keeps, in a connection's custom data, its transaction status
// when its current statement started (a byte in an interface: no
// allocation).
const txStatusKey = "netsmith.txstatus"

func (t pgTracer) start(conn *pgx.Conn) {
	pc := conn.PgConn()
	pc.CustomData()[txStatusKey] = pc.TxStatus()
}

// end counts the round trip of the statement that just ran on conn, and
// the transaction it ended, if it ended one. A block's COMMIT of a failed
// transaction answers ROLLBACK.
func (t pgTracer) end(conn *pgx.Conn, tag pgconn.CommandTag, err error) {
	t.c.roundTrips.Add(1)
	pc := conn.PgConn()
	if pc.TxStatus() != 'I' {
		return
	}
	if before, _ := pc.CustomData()[txStatusKey].(byte); before == 'I' {
		t.c.implicit.end(err == nil)
	} else {
		t.c.explicit.end(err == nil && tag.String() != "ROLLBACK")
	}
}

func (t pgTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.start(conn)
	return ctx
}

func (t pgTracer) TraceQueryEnd(_ context.Context, conn *pgx.Conn, d pgx.TraceQueryEndData) {
	t.end(conn, d.CommandTag, d.Err)
}

func (t pgTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.start(conn)
	return ctx
}

func (t pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t pgTracer) TraceBatchEnd(_ context.Context, conn *pgx.Conn, d pgx.TraceBatchEndData) {
	t.end(conn, pgconn.CommandTag{}, d.Err)
}

func (t pgTracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	t.start(conn)
	return ctx
}

func (t pgTracer) TraceCopyFromEnd(_ context.Context, conn *pgx.Conn, d pgx.TraceCopyFromEndData) {
	t.end(conn, d.CommandTag, d.Err)
}

// A statement's preparation (pgx's statement cache missed) is a round
// trip of its own, within whatever transaction the statement is in.
func (t pgTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (t pgTracer) TracePrepareEnd(_ context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	if !d.AlreadyPrepared {
		t.c.roundTrips.Add(1)
	}
}
