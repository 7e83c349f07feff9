package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"netsmith/internal/metrics"
)

// DB is netsmith's database: its connection pools, its dialect and its
// migrations (River's and netsmith's). Open makes one; the queue, the
// ledger, the cache and the HTTP API share it, and whoever opened it
// closes it, after them.
type DB struct {
	dialect string
	conn    Conn
	read    Conn // reads that need not wait for the writer (SQLite); conn on PostgreSQL
	lazy    Conn // writes whose loss in a crash costs only repeated work
	pgPool  *pgxpool.Pool
	sqlDB   *sql.DB
	lock    func(ctx context.Context, fn func() error) error // serializes migrations across processes
	stats   func() []metrics.DBPool
	closeFn func()
}

// Options tune Open.
type Options struct {
	// MaxConns bounds the PostgreSQL pool when the URL does not
	// (pool_max_conns); 20 when zero.
	MaxConns int
}

// Open connects to the database named by url (sqlite://PATH or
// postgres://…). It does not migrate; call Migrate.
func Open(ctx context.Context, u string, opts Options) (*DB, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	switch {
	case IsSQLite(u):
		return openSQLite(ctx, u)
	case IsPostgres(u):
		return openPostgres(ctx, u, opts)
	default:
		return nil, fmt.Errorf("database url %q: scheme must be sqlite:// or postgres://", RedactURL(u))
	}
}

// IsSQLite reports whether u names an SQLite database.
func IsSQLite(u string) bool {
	return strings.HasPrefix(u, "sqlite://") || strings.HasPrefix(u, "sqlite:")
}

// IsPostgres reports whether u names a PostgreSQL database.
func IsPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Conn returns the pooled connection for writes and reads that must see
// them at once.
func (db *DB) Conn() Conn { return db.conn }

// ReadConn returns connections for reads only. On SQLite they read beside
// the single writer connection instead of queueing behind it; on
// PostgreSQL it is the same pool as Conn.
func (db *DB) ReadConn() Conn { return db.read }

// LazyConn returns connections for writes whose loss in a database crash
// costs only repeated work, never a job or a result: on PostgreSQL they
// commit without waiting for the WAL flush (synchronous_commit off), which
// is most of a short transaction's time there; on SQLite it is Conn with
// its Execs committed in groups, which take the one writer once per group
// instead of once per statement. The template cache's leases and fills use
// it: a lost fill is one more model call for that intent after the crash.
func (db *DB) LazyConn() Conn { return db.lazy }

// PGXPool is the PostgreSQL pool behind Conn, for River's driver and
// transactions; nil on SQLite.
func (db *DB) PGXPool() *pgxpool.Pool { return db.pgPool }

// SQLDB is SQLite's one writer connection behind Conn, for River's driver
// and transactions; nil on PostgreSQL.
func (db *DB) SQLDB() *sql.DB { return db.sqlDB }

// PoolStats reports the database connection pools: on PostgreSQL "main"
// (everything that must be durable at commit) and "lazy" (LazyConn); on
// SQLite "writer" (the one writer connection) and "read" (the readers).
func (db *DB) PoolStats() []metrics.DBPool { return db.stats() }

// Ping checks the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.conn.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// Close releases the database.
func (db *DB) Close() { db.closeFn() }

// InTx runs fn in one transaction on Conn: committed when fn returns nil,
// rolled back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(tx Conn) error) error {
	if db.pgPool != nil {
		tx, err := db.pgPool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(PGX(tx)); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	tx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(SQL(tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Migrate brings River's schema and netsmith's tables up to date, under a
// lock that replicas starting together share. It returns the names of the
// migrations it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	var applied []string
	err := db.lock(ctx, func() error {
		var err error
		applied, err = db.migrateRiver(ctx)
		if err != nil {
			return err
		}
		return db.InTx(ctx, func(tx Conn) error {
			ours, err := Migrate(ctx, tx)
			applied = append(applied, ours...)
			return err
		})
	})
	return applied, err
}

func (db *DB) migrateRiver(ctx context.Context) ([]string, error) {
	var res *rivermigrate.MigrateResult
	var err error
	if db.pgPool != nil {
		m, merr := rivermigrate.New(riverpgxv5.New(db.pgPool), nil)
		if merr != nil {
			return nil, fmt.Errorf("river migrator: %w", merr)
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	} else {
		m, merr := rivermigrate.New(riversqlite.New(db.sqlDB), nil)
		if merr != nil {
			return nil, fmt.Errorf("river migrator: %w", merr)
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	var names []string
	for _, v := range res.Versions {
		names = append(names, fmt.Sprintf("river_%03d_%s", v.Version, v.Name))
	}
	return names, nil
}

// RedactURL hides a password in a database URL.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	return p.String()
}
