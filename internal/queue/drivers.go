package queue

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"netsmith/internal/store"
)

// newEngine builds the River engine for db's driver.
func newEngine(q *Queue, db *store.DB) (engine, error) {
	switch db.Dialect() {
	case "sqlite":
		sdb := db.SQLDB()
		return newRiverEngine(q, riversqlite.New(sdb), &riverEngine[*riversqlite.Driver, *sql.Tx]{
			begin:    func(ctx context.Context) (*sql.Tx, error) { return sdb.BeginTx(ctx, nil) },
			commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
			rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
			wrap:     func(tx *sql.Tx) store.Conn { return store.SQL(tx) },
		})
	case "postgres":
		// River's own work on the pool whose commits do not wait for the
		// WAL flush (store.DB.RiverPool); netsmith's transactions, which
		// carry River's inserts, on the durable one.
		pool := db.PGXPool()
		return newRiverEngine(q, riverpgxv5.New(db.RiverPool()), &riverEngine[*riverpgxv5.Driver, pgx.Tx]{
			begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
			commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
			rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
			wrap:     func(tx pgx.Tx) store.Conn { return store.PGX(tx) },
		})
	}
	return nil, fmt.Errorf("queue: unknown database dialect %q", db.Dialect())
}
