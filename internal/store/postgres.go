package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"netsmith/internal/metrics"
)

// migrationLockKey is the advisory lock that serializes migrations of
// replicas starting together.
const migrationLockKey = 0x6e65_7473 // "nets"

func openPostgres(ctx context.Context, u string, opts Options) (*DB, error) {
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("database url %s: %w", RedactURL(u), err)
	}
	// pgx reads pool_max_conns from the URL; without it the pool has
	// Options.MaxConns connections, not pgx's default of max(4, CPUs).
	if !strings.Contains(u, "pool_max_conns=") {
		pc.MaxConns = int32(opts.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", RedactURL(u), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", RedactURL(u), err)
	}
	lc := pc.Copy()
	lc.MaxConns = max(2, pc.MaxConns/4)
	lc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	lazy, err := pgxpool.NewWithConfig(ctx, lc)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", RedactURL(u), err)
	}
	return &DB{
		dialect: "postgres",
		conn:    PGX(pool),
		read:    PGX(pool),
		lazy:    PGX(lazy),
		pgPool:  pool,
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
	}, nil
}

func pgxPoolStat(name string, p *pgxpool.Pool) metrics.DBPool {
	st := p.Stat()
	return metrics.DBPool{Name: name, Max: int(st.MaxConns()), InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()),
		Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}
}
