package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strings"
	"time"

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
	// riverPool is where River's own work runs on PostgreSQL (see
	// RiverPool): the lazy pool, or pgPool through PgBouncer.
	riverPool *pgxpool.Pool
	sqlDB     *sql.DB
	// pgBouncer: PostgreSQL through PgBouncer in transaction mode
	// (?pgbouncer=true): nothing may outlive a transaction.
	pgBouncer bool
	// migrationLock, when set, tries to take a lock in tx that
	// serializes the migrations of replicas starting together
	// (PostgreSQL), and reports whether it did: Migrate holds tx open
	// while it runs them. SQLite has one writer.
	migrationLock func(ctx context.Context, tx Conn) (bool, error)
	stats         func() []metrics.DBPool
	closeFn       func()
}

// Options tune Open.
type Options struct {
	// MaxConns bounds the PostgreSQL pool when the URL does not
	// (pool_max_conns); DefaultMaxConns when zero.
	MaxConns int
}

// DefaultMaxConns is the PostgreSQL pool's size when neither Options nor
// the URL set it: four connections per CPU of this process, at least 8 and
// at most 20. Each connection is a PostgreSQL backend that plans its
// statements and fills its caches on its own, and a pool grows to what its
// busiest moment asked for: on a small machine 20 connections cost
// PostgreSQL more CPU than they saved in waits, and where PostgreSQL shares
// the machine that CPU is the requests' (bench s8-legacy-poll.sh and
// s6-submit.sh). The writes that matter go in groups (queue's committers),
// so a few connections carry them.
func DefaultMaxConns(procs int) int { return min(20, max(8, 4*procs)) }

// Open connects to the database named by url (sqlite://PATH or
// postgres://…; ?pgbouncer=true for PostgreSQL through PgBouncer in
// transaction mode). It does not migrate; call Migrate.
func Open(ctx context.Context, u string, opts Options) (*DB, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns(runtime.GOMAXPROCS(0))
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

// PgBouncer reports a PostgreSQL database reached through PgBouncer in
// transaction mode: River must poll, as LISTEN needs a session.
func (db *DB) PgBouncer() bool { return db.pgBouncer }

// Conn returns the pooled connection for writes and reads that must see
// them at once.
func (db *DB) Conn() Conn { return db.conn }

// ReadConn returns connections for reads only. On SQLite they read beside
// the single writer connection instead of queueing behind it; on
// PostgreSQL it is the same pool as Conn.
func (db *DB) ReadConn() Conn { return db.read }

// LazyConn returns connections for writes whose loss in a database crash
// costs only repeated work, never a job or a result. Its Execs are
// committed in groups, each statement whole or not at all as on its own:
// on PostgreSQL a group is one pipelined round trip that commits without
// waiting for the WAL flush (synchronous_commit off), instead of a round
// trip and a commit per statement; on SQLite it takes the one writer once
// per group instead of once per statement. The template cache's leases and fills use
// it: a lost fill is one more model call for that intent after the crash.
func (db *DB) LazyConn() Conn { return db.lazy }

// PGXPool is the PostgreSQL pool behind Conn, for transactions that must
// be durable at commit (River's inserts with netsmith's rows among them);
// nil on SQLite.
func (db *DB) PGXPool() *pgxpool.Pool { return db.pgPool }

// WriteGroups is how many groups of writes one kind of group committer
// (the queue's submissions, its completions, the workers' call
// reservations) commits at once at most: 1 on SQLite's one writer; on
// PostgreSQL four, within a quarter of the main pool, so that the
// committers never take the connections the rest of the process needs.
func (db *DB) WriteGroups() int {
	if db.pgPool == nil {
		return 1
	}
	return max(1, min(4, int(db.pgPool.Config().MaxConns)/4))
}

// RiverPool is the PostgreSQL pool for River's own work, outside
// netsmith's transactions: fetching jobs, completing them, its
// maintenance. Its commits do not wait for the WAL flush (the lazy pool,
// synchronous_commit off), as losing their last moments in a database
// crash costs at most repeated work: netsmith's own row is the record
// (docs/design.md §1), so a job whose River row reverts to available or
// running is run again or rescued, and a worker finding netsmith's row
// final ends it without running it. A later durable commit flushes the
// WAL written before it, River's rows included. Through PgBouncer, which
// passes no startup parameter, it is PGXPool. nil on SQLite.
func (db *DB) RiverPool() *pgxpool.Pool { return db.riverPool }

// SQLDB is SQLite's one writer connection behind Conn, for River's driver
// and transactions; nil on PostgreSQL.
func (db *DB) SQLDB() *sql.DB { return db.sqlDB }

// PoolStats reports the database connection pools: on PostgreSQL "main"
// (everything that must be durable at commit) and "lazy" (LazyConn); on
// SQLite "writer" (the one writer connection) and "read" (the readers).
func (db *DB) PoolStats() []metrics.DBPool { return db.stats() }

// Ping checks the database takes work on every path a job uses: the pool,
// and on PostgreSQL the lazy connection, whose settings (a startup
// parameter, or SET LOCAL through PgBouncer) a database or a pooler may
// refuse while the pool's plain queries pass. SQLite's lazy connection is
// the same database file behind its one writer, which a probe should not
// queue for.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return err
	}
	if db.dialect != "postgres" {
		return nil
	}
	if _, err := db.lazy.Exec(ctx, `SELECT 1`); err != nil {
		return fmt.Errorf("lazy connection: %w", err)
	}
	return nil
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
	// River's migrations commit one by one (one adds an enum value that
	// the next uses, which one transaction cannot do): the lock's
	// transaction stays open beside them, on a connection of its own.
	run := func() error {
		var err error
		applied, err = db.migrateRiver(ctx)
		if err != nil {
			return err
		}
		return db.InTx(ctx, func(tx Conn) error {
			ours, err := Migrate(ctx, tx, db.dialect)
			applied = append(applied, ours...)
			return err
		})
	}
	if db.migrationLock == nil {
		return applied, run()
	}
	// A replica that finds the lock taken lets its transaction go and
	// tries again later: waiting in it would hold a server connection,
	// and through PgBouncer enough waiting replicas would take every one
	// from the replica that holds the lock and needs more to migrate.
	wait := 20 * time.Millisecond
	for {
		err := db.InTx(ctx, func(tx Conn) error {
			ok, err := db.migrationLock(ctx, tx)
			if err != nil {
				return err
			}
			if !ok {
				return errMigrationBusy
			}
			return run()
		})
		if !errors.Is(err, errMigrationBusy) {
			return applied, err
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for another replica's migrations: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// errMigrationBusy is a migration lock held by another replica.
var errMigrationBusy = errors.New("another replica is migrating")

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
