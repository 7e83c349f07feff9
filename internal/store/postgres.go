package store

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"netsmith/internal/metrics"
)

// migrationLockKey is the advisory lock that serializes migrations of
// replicas starting together.
const migrationLockKey = 0x6e65_7473 // "nets"

// pgOptions are netsmith's own parameters of a PostgreSQL URL. They are
// taken out of the URL before pgx parses it, as PostgreSQL would reject
// them as unknown startup parameters.
type pgOptions struct {
	// PgBouncer (?pgbouncer=true) is a database reached through PgBouncer
	// in transaction mode: a server connection is ours only for one
	// transaction, so nothing may outlive one there — no prepared
	// statements, no session settings, no LISTEN, no session locks.
	PgBouncer bool
}

// parsePGURL takes netsmith's parameters out of a PostgreSQL URL and
// returns the URL for pgx.
func parsePGURL(u string) (string, pgOptions, error) {
	var o pgOptions
	p, err := url.Parse(u)
	if err != nil {
		return "", o, fmt.Errorf("database url %s: %w", RedactURL(u), err)
	}
	v := p.Query()
	if s, ok := v["pgbouncer"]; ok {
		if len(s) != 1 {
			return "", o, fmt.Errorf("database url %s: pgbouncer is given %d times", RedactURL(u), len(s))
		}
		o.PgBouncer, err = strconv.ParseBool(s[0])
		if err != nil {
			return "", o, fmt.Errorf("database url %s: pgbouncer=%q must be true or false", RedactURL(u), s[0])
		}
		v.Del("pgbouncer")
		p.RawQuery = v.Encode()
	}
	return p.String(), o, nil
}

// pgPoolConfig is the pool configuration of u, which parsePGURL returned.
func pgPoolConfig(u string, o pgOptions, maxConns int) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("database url %s: %w", RedactURL(u), err)
	}
	// pgx reads pool_max_conns from the URL; without it the pool has
	// Options.MaxConns connections, not pgx's default of max(4, CPUs).
	if !strings.Contains(u, "pool_max_conns=") {
		pc.MaxConns = int32(maxConns)
	}
	// Migrations hold the lock's transaction open beside their own.
	if pc.MaxConns < 2 {
		return nil, fmt.Errorf("database url %s: pool_max_conns must be at least 2", RedactURL(u))
	}
	if o.PgBouncer {
		// PgBouncer hands each transaction any server connection:
		// a statement prepared on one is unknown (or, named alike,
		// already there) on the next. Unnamed statements, parsed and
		// run in one round trip, live within one.
		cc := pc.ConnConfig
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
		cc.StatementCacheCapacity, cc.DescriptionCacheCapacity = 0, 0
		// PgBouncer refuses startup parameters it does not track,
		// and the ones it does would follow no transaction.
		if len(cc.RuntimeParams) > 0 {
			names := make([]string, 0, len(cc.RuntimeParams))
			for k := range cc.RuntimeParams {
				names = append(names, k)
			}
			slices.Sort(names)
			return nil, fmt.Errorf("database url %s: pgbouncer=true cannot pass the startup parameter %s; set it on the role or database (ALTER ROLE … SET) instead",
				RedactURL(u), strings.Join(names, ", "))
		}
	}
	return pc, nil
}

func openPostgres(ctx context.Context, u string, opts Options) (*DB, error) {
	u, po, err := parsePGURL(u)
	if err != nil {
		return nil, err
	}
	pc, err := pgPoolConfig(u, po, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	mainCtr := new(poolCounters)
	pc.ConnConfig.Tracer = pgTracer{mainCtr}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", RedactURL(u), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", RedactURL(u), err)
	}
	d := &DB{
		dialect:       "postgres",
		conn:          PGX(pool),
		read:          PGX(pool),
		pgPool:        pool,
		riverPool:     pool,
		pgBouncer:     po.PgBouncer,
		migrationLock: pgMigrationLock,
	}
	closeLazy, err := d.pgLazyConn(ctx, pc, po, mainCtr)
	if err != nil {
		pool.Close()
		return nil, err
	}
	d.closeFn = func() {
		closeLazy()
		pool.Close()
	}
	return d, nil
}

// pgLazyConn sets d's lazy connection (see DB.LazyConn), whose commits do
// not wait for the WAL flush and whose Execs go in groups: batches on a
// pool of its own with synchronous_commit off as a startup parameter, or
// through PgBouncer, which passes no such parameter, transactions of the
// main pool that turn it off with SET LOCAL. It returns what closes it.
// mainCtr counts the main pool's work.
func (d *DB) pgLazyConn(ctx context.Context, pc *pgxpool.Config, o pgOptions, mainCtr *poolCounters) (func(), error) {
	pool := d.pgPool
	if o.PgBouncer {
		lazy := newExecGroupConn(d.conn, 1, execInTx(func(ctx context.Context, fn func(Conn) error) error {
			return d.InTx(ctx, func(tx Conn) error {
				if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
					return err
				}
				return fn(tx)
			})
		}))
		d.lazy = lazy
		d.stats = func() []metrics.DBPool { return []metrics.DBPool{pgxPoolStat("main", pool, mainCtr)} }
		return lazy.g.Close, nil
	}
	lc := pc.Copy()
	// River's own work shares it (see RiverPool): its fetches, completer,
	// leader election, maintenance and listener take a few connections.
	lc.MaxConns = max(4, pc.MaxConns/2)
	lc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	lazyCtr := new(poolCounters)
	lc.ConnConfig.Tracer = pgTracer{lazyCtr}
	lazy, err := pgxpool.NewWithConfig(ctx, lc)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", RedactURL(pc.ConnString()), err)
	}
	g := newExecGroupConn(PGX(lazy), lazyCommitters, pgxBatchExec(lazy))
	d.lazy, d.riverPool = g, lazy
	d.stats = func() []metrics.DBPool {
		return []metrics.DBPool{pgxPoolStat("main", pool, mainCtr), pgxPoolStat("lazy", lazy, lazyCtr)}
	}
	return func() {
		g.g.Close()
		lazy.Close()
	}, nil
}

// lazyCommitters is how many groups of lazy statements are sent at once
// on PostgreSQL: one while the next gathers.
const lazyCommitters = 2

// pgxBatchExec is an execGroupConn's commit on PostgreSQL: a group's
// statements go in one pipelined batch, one round trip and one implicit
// transaction, instead of one of each per statement (a job's template
// lease and fill, every worker's). A failed statement fails the group, and
// the group committer then sends each on its own. Two groups that take the
// same rows in opposite orders (two replicas filling the same intents)
// can deadlock; PostgreSQL ends one, which is then sent statement by
// statement.
func pgxBatchExec(pool *pgxpool.Pool) func(context.Context, []*execItem) error {
	c := PGX(pool)
	return func(ctx context.Context, items []*execItem) error {
		qs := make([]rowQuery, len(items))
		for i, it := range items {
			qs[i] = rowQuery{sql: it.query, args: it.args, affected: &it.n}
		}
		return queryEach(ctx, c, qs)
	}
}

// pgMigrationLock tries to take the migration lock in tx. It is
// transaction-scoped, so it holds through PgBouncer's transaction mode too,
// where a session lock would be taken on one server connection and
// released on another (or never): replicas starting together on an empty
// database take turns.
func pgMigrationLock(ctx context.Context, tx Conn) (bool, error) {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(migrationLockKey)).Scan(&ok); err != nil {
		return false, fmt.Errorf("take migration lock: %w", err)
	}
	return ok, nil
}

func pgxPoolStat(name string, p *pgxpool.Pool, c *poolCounters) metrics.DBPool {
	st := p.Stat()
	s := metrics.DBPool{Name: name, Max: int(st.MaxConns()), InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()),
		Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}
	c.fill(&s)
	return s
}
