package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"netsmith/internal/netcfg"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Conn is what the store needs from a database handle or transaction. The
// SQLite side (database/sql) and the PostgreSQL side (pgx) each get a small
// adapter, so every query in this package is written once, with $N
// placeholders that both databases accept.
type Conn interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows iterates over a query's result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result. Scan returns netcfg.ErrNotFound when there is no row.
type Row interface {
	Scan(dest ...any) error
}

// sqlQuerier is satisfied by *sql.DB, *sql.Conn and *sql.Tx.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SQL adapts a database/sql handle or transaction.
func SQL(q sqlQuerier) Conn { return sqlConn{q} }

type sqlConn struct{ q sqlQuerier }

func (c sqlConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c sqlConn) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c sqlConn) QueryRow(ctx context.Context, query string, args ...any) Row {
	return sqlRow{c.q.QueryRowContext(ctx, query, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return netcfg.ErrNotFound
	} else {
		return err
	}
}

// pgxQuerier is satisfied by *pgxpool.Pool, *pgx.Conn and pgx.Tx.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PGX adapts a pgx pool, connection or transaction.
func PGX(q pgxQuerier) Conn { return pgxConn{q} }

type pgxConn struct{ q pgxQuerier }

func (c pgxConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c pgxConn) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (c pgxConn) QueryRow(ctx context.Context, query string, args ...any) Row {
	return pgxRow{c.q.QueryRow(ctx, query, args...)}
}

type pgxRows struct{ pgx.Rows }

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return netcfg.ErrNotFound
	} else {
		return err
	}
}

// rowQuery is one statement of queryEach, with what reads its row.
type rowQuery struct {
	sql  string
	args []any
	// scan reads the statement's row: netcfg.ErrNotFound from Row.Scan when
	// there is none. An error it returns ends queryEach. nil: the
	// statement returns no rows (an Exec) or rows reads them; its error is
	// returned wrapped with errText (as it is when errText is empty), and
	// an Exec's count of rows affected goes to affected when that is set.
	scan     func(Row) error
	errText  string
	affected *int64
	// rows, when set instead of scan, reads all the statement's rows; its
	// error, or the statement's, is returned wrapped with errText.
	rows func(Rows) error
}

// pgxBatcher is satisfied by the pgx pool, connection and transaction.
type pgxBatcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// queryEach runs qs in order, each returning at most one row or read
// whole by its rows. On PostgreSQL they go in one pipelined round trip (in
// the caller's transaction, if c is one); elsewhere one after another.
// Each statement still runs alone and in order, taking its rows' locks as
// it would on its own.
func queryEach(ctx context.Context, c Conn, qs []rowQuery) error {
	if s, ok := c.(*sharedTx); ok {
		c = s.Conn
	}
	if p, ok := c.(pgxConn); ok && len(qs) > 1 {
		if b, ok := p.q.(pgxBatcher); ok {
			batch := &pgx.Batch{}
			for _, q := range qs {
				batch.Queue(q.sql, q.args...)
			}
			br := b.SendBatch(ctx, batch)
			for _, q := range qs {
				var err error
				switch {
				case q.rows != nil:
					rows, qerr := br.Query()
					if qerr != nil {
						rows.Close()
					}
					err = readRows(pgxRows{rows}, qerr, q.rows)
				case q.scan == nil:
					var tag pgconn.CommandTag
					tag, err = br.Exec()
					q.setAffected(tag.RowsAffected())
				default:
					err = q.scan(pgxRow{br.QueryRow()})
				}
				if err = q.wrap(err); err != nil {
					_ = br.Close()
					return err
				}
			}
			return br.Close()
		}
	}
	for _, q := range qs {
		var err error
		switch {
		case q.rows != nil:
			rows, qerr := c.Query(ctx, q.sql, q.args...)
			err = readRows(rows, qerr, q.rows)
		case q.scan == nil:
			var n int64
			n, err = c.Exec(ctx, q.sql, q.args...)
			q.setAffected(n)
		default:
			err = q.scan(c.QueryRow(ctx, q.sql, q.args...))
		}
		if err = q.wrap(err); err != nil {
			return err
		}
	}
	return nil
}

func (q rowQuery) setAffected(n int64) {
	if q.affected != nil {
		*q.affected = n
	}
}

// readRows reads rows (or returns err, the query's) with read, and
// closes them.
func readRows(rows Rows, err error, read func(Rows) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return err
	}
	return rows.Err()
}

func (q rowQuery) wrap(err error) error {
	if err != nil && q.scan == nil && q.errText != "" {
		return fmt.Errorf("%s: %w", q.errText, err)
	}
	return err
}
