package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
)

// stmtCacheSize bounds the prepared statements kept per SQLite connection.
const stmtCacheSize = 256

// cachingConn keeps prepared statements per connection. modernc.org/sqlite
// parses and plans every statement anew on each query, and River's
// completion statements are large: without this cache, SQL parsing was half
// of netsmith's CPU time on SQLite. A cached statement that is still
// reading rows is never handed to a second query: that one gets a
// statement of its own. It counts the connection's statements and
// transactions in ctr (see poolCounters).
type cachingConn struct {
	driver.Conn
	stmts map[string]*list.Element
	order *list.List // of *cachedStmt, most recent first
	ctr   *poolCounters
	tx    countedTx // the transaction open on the connection, when inTx
	inTx  bool
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // rows are open on it
}

func newCachingConn(c driver.Conn, ctr *poolCounters) *cachingConn {
	return &cachingConn{Conn: c, stmts: map[string]*list.Element{}, order: list.New(), ctr: ctr}
}

// ran counts a statement that ran, and outside a transaction the one
// SQLite ran it in.
func (c *cachingConn) ran(err error) {
	c.ctr.roundTrips.Add(1)
	if !c.inTx {
		c.ctr.implicit.end(err == nil)
	}
}

// prepared returns the cached statement for query, preparing it on a miss,
// and whether it is cached (false: the caller must close it).
func (c *cachingConn) prepared(ctx context.Context, query string) (*cachedStmt, bool, error) {
	if el, ok := c.stmts[query]; ok {
		cs := el.Value.(*cachedStmt)
		if !cs.busy {
			c.order.MoveToFront(el)
			return cs, true, nil
		}
		st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
		return &cachedStmt{query: query, stmt: st}, false, err
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.stmts[query] = c.order.PushFront(cs)
	for c.order.Len() > stmtCacheSize {
		last := c.order.Back()
		old := last.Value.(*cachedStmt)
		if old.busy {
			break // closes when its rows do
		}
		c.order.Remove(last)
		delete(c.stmts, old.query)
		old.stmt.Close()
	}
	return cs, true, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, cached, err := c.prepared(ctx, query)
	if err != nil {
		c.ran(err)
		return nil, err
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.ran(err)
	if !cached {
		cs.stmt.Close()
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, cached, err := c.prepared(ctx, query)
	if err != nil {
		c.ran(err)
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	c.ran(err)
	if err != nil {
		if !cached {
			cs.stmt.Close()
		}
		return nil, err
	}
	cs.busy = cached
	return &cachedRows{Rows: rows, cs: cs, owned: !cached}, nil
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	c.ctr.roundTrips.Add(1)
	if err != nil {
		return nil, err
	}
	// database/sql runs one transaction at a time on a connection: the
	// counting wrapper lives in the connection, not on the heap anew.
	c.tx, c.inTx = countedTx{Tx: tx, c: c}, true
	return &c.tx, nil
}

// countedTx counts its connection's transaction as it ends.
type countedTx struct {
	driver.Tx
	c *cachingConn
}

func (t *countedTx) Commit() error {
	err := t.Tx.Commit()
	t.done(err == nil)
	return err
}

func (t *countedTx) Rollback() error {
	err := t.Tx.Rollback()
	t.done(false)
	return err
}

func (t *countedTx) done(committed bool) {
	c := t.c
	c.ctr.roundTrips.Add(1)
	c.ctr.explicit.end(committed)
	c.inTx = false
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Close() error {
	var errs []error
	for el := c.order.Front(); el != nil; el = el.Next() {
		errs = append(errs, el.Value.(*cachedStmt).stmt.Close())
	}
	clear(c.stmts)
	c.order.Init()
	return errors.Join(append(errs, c.Conn.Close())...)
}

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	driver.Rows
	cs    *cachedStmt
	owned bool // an uncached statement, closed with the rows
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.owned {
		return errors.Join(err, r.cs.stmt.Close())
	}
	r.cs.busy = false
	return err
}

// ColumnTypeDatabaseTypeName passes through, so database/sql's scanning into
// time.Time and friends works as without the cache.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}
