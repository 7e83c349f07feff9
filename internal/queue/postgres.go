package queue

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"netsmith/internal/metrics"
	"netsmith/internal/store"
)

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// migrationLockKey is the advisory lock that serializes migrations of
// replicas starting together.
const migrationLockKey = 0x6e65_7473 // "nets"

func openPostgres(ctx context.Context, u string, q *Queue) (engine, error) {
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("database url %s: %w", redactURL(u), err)
	}
	// pgx reads pool_max_conns from the URL; without it the pool has
	// Config.MaxConns connections, not pgx's default of max(4, CPUs).
	if !strings.Contains(u, "pool_max_conns=") {
		pc.MaxConns = int32(q.cfg.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redactURL(u), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", redactURL(u), err)
	}
	lc := pc.Copy()
	lc.MaxConns = max(2, pc.MaxConns/4)
	lc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	lazy, err := pgxpool.NewWithConfig(ctx, lc)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", redactURL(u), err)
	}
	e := &riverEngine[*riverpgxv5.Driver, pgx.Tx]{
		pool:     store.PGX(pool),
		lazyPool: store.PGX(lazy),
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		wrap:     func(tx pgx.Tx) store.Conn { return store.PGX(tx) },
		// Four completion groups at a time, within a quarter of the pool.
		committers:   max(1, min(4, int(pc.MaxConns)/4)),
		groupSubmits: true,
		lock: func(ctx context.Context, fn func() error) error {
			c, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer c.Release()
			if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
			defer c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
			return fn()
		},
		stats: func() []metrics.DBPool { return []metrics.DBPool{pgxPoolStat("main", pool), pgxPoolStat("lazy", lazy)} },
		closeFn: func() {
			lazy.Close()
			pool.Close()
		},
	}
	eng, err := newRiverEngine(q, riverpgxv5.New(pool), e)
	if err != nil {
		lazy.Close()
		pool.Close()
		return nil, err
	}
	return eng, nil
}

func pgxPoolStat(name string, p *pgxpool.Pool) metrics.DBPool {
	st := p.Stat()
	return metrics.DBPool{Name: name, Max: int(st.MaxConns()), InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()),
		Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	return p.String()
}
