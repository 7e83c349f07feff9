package queue

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"

	"netsmith/internal/metrics"
	"netsmith/internal/store"
)

func isSQLite(u string) bool {
	return strings.HasPrefix(u, "sqlite://") || strings.HasPrefix(u, "sqlite:")
}

// sqliteDSN turns sqlite://PATH[?query] into a modernc.org/sqlite DSN with
// the pragmas netsmith needs: WAL, a busy timeout, foreign keys and
// temporary storage in memory.
// sqlite://netsmith.db is relative to the working directory;
// sqlite:///var/lib/netsmith.db is absolute.
func sqliteDSN(u string) (string, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", fmt.Errorf("database url %q: no file path", u)
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("database url %q: %w", u, err)
	}
	// temp_store(MEMORY) keeps statement journals (a multi-row INSERT or
	// UPDATE writes one, to undo itself if it fails half-way) in memory
	// instead of temporary files: write system calls on the one writer.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", "temp_store(MEMORY)"} {
		v.Add("_pragma", p)
	}
	if v.Get("_txlock") == "" {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode(), nil
}

type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn), nil
}
func (c sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

func openSQLite(ctx context.Context, u string, q *Queue) (engine, error) {
	dsn, err := sqliteDSN(u)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(sqliteConnector{dsn})
	// SQLite allows one writer at a time; River recommends a single
	// connection so that its own goroutines never meet SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", u, err)
	}
	// Readers beside the writer: WAL lets them read the last committed
	// state while the writer works. query_only keeps them readers.
	rdb := sql.OpenDB(sqliteConnector{dsn + "&_pragma=query_only(1)"})
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)
	e := &riverEngine[*riversqlite.Driver, *sql.Tx]{
		pool:         store.SQL(db),
		readPool:     store.SQL(rdb),
		begin:        func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:       func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback:     func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		wrap:         func(tx *sql.Tx) store.Conn { return store.SQL(tx) },
		committers:   1,
		groupSubmits: true,
		stats: func() []metrics.DBPool {
			return []metrics.DBPool{sqlPoolStat("writer", db.Stats()), sqlPoolStat("read", rdb.Stats())}
		},
	}
	// The template cache's leases and fills, single statements from many
	// workers at once, share transactions (see execGroupConn).
	lazy := newExecGroupConn(e.pool, func(ctx context.Context, fn func(store.Conn) error) error {
		return e.inTx(ctx, func(tx *sql.Tx) error { return fn(store.SQL(tx)) })
	})
	e.lazyPool = lazy
	e.closeFn = func() { lazy.g.close(); rdb.Close(); db.Close() }
	eng, err := newRiverEngine(q, riversqlite.New(db), e)
	if err != nil {
		e.closeFn()
		return nil, err
	}
	return eng, nil
}

func sqlPoolStat(name string, st sql.DBStats) metrics.DBPool {
	return metrics.DBPool{Name: name, Max: st.MaxOpenConnections, InUse: st.InUse, Idle: st.Idle,
		Waits: st.WaitCount, WaitTime: st.WaitDuration}
}
