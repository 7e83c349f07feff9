package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"

	"netsmith/internal/groupcommit"
	"netsmith/internal/metrics"
)

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

// sqliteConnector opens connections to dsn whose work ctr counts.
type sqliteConnector struct {
	dsn string
	ctr *poolCounters
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn, c.ctr), nil
}
func (c sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

func openSQLite(ctx context.Context, u string) (*DB, error) {
	dsn, err := sqliteDSN(u)
	if err != nil {
		return nil, err
	}
	wctr, rctr := new(poolCounters), new(poolCounters)
	db := sql.OpenDB(sqliteConnector{dsn, wctr})
	// SQLite allows one writer at a time; River recommends a single
	// connection so that its own goroutines never meet SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", u, err)
	}
	// Readers beside the writer: WAL lets them read the last committed
	// state while the writer works. query_only keeps them readers.
	rdb := sql.OpenDB(sqliteConnector{dsn + "&_pragma=query_only(1)", rctr})
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)
	d := &DB{
		dialect: "sqlite",
		conn:    SQL(db),
		read:    SQL(rdb),
		sqlDB:   db,
		stats: func() []metrics.DBPool {
			return []metrics.DBPool{sqlPoolStat("writer", db.Stats(), wctr), sqlPoolStat("read", rdb.Stats(), rctr)}
		},
	}
	// The template cache's leases and fills, single statements from many
	// workers at once, share transactions (see execGroupConn).
	lazy := newExecGroupConn(d.conn, 1, execInTx(d.InTx))
	d.lazy = lazy
	d.closeFn = func() { lazy.g.Close(); rdb.Close(); db.Close() }
	return d, nil
}

func sqlPoolStat(name string, st sql.DBStats, c *poolCounters) metrics.DBPool {
	s := metrics.DBPool{Name: name, Max: st.MaxOpenConnections, InUse: st.InUse, Idle: st.Idle,
		Waits: st.WaitCount, WaitTime: st.WaitDuration}
	c.fill(&s)
	return s
}

// execGroupConn is a Conn whose Execs, from any number of goroutines,
// are committed in groups, each Exec whole or not at all as on its own;
// its queries go to the connection beneath. It carries the lazy
// connection's statements (the template cache's lease and fill, process
// heartbeats): single statements that would otherwise each take SQLite's
// one writer connection for themselves, or on PostgreSQL each be a
// transaction and a round trip of their own.
type execGroupConn struct {
	Conn
	g *groupcommit.Committer[*execItem]
}

// execItem is one statement of an execGroupConn and, once committed, the
// rows it affected.
type execItem struct {
	query string
	args  []any
	n     int64
}

// execGroupMax bounds the statements of one execGroupConn transaction.
const execGroupMax = 64

// newExecGroupConn groups the Execs on c; commit stores a group, each
// statement whole and the group at once or not at all, and sets each
// item's n. committers groups are stored at a time.
func newExecGroupConn(c Conn, committers int, commit func(ctx context.Context, items []*execItem) error) *execGroupConn {
	return &execGroupConn{Conn: c, g: groupcommit.New(committers, execGroupMax, 0, commit)}
}

// execInTx is an execGroupConn's commit that runs a group's statements in
// one transaction of inTx, which runs a transaction whose handle the
// function it is given receives.
func execInTx(inTx func(ctx context.Context, fn func(tx Conn) error) error) func(context.Context, []*execItem) error {
	return func(ctx context.Context, items []*execItem) error {
		return inTx(ctx, func(tx Conn) error {
			for _, it := range items {
				n, err := tx.Exec(ctx, it.query, it.args...)
				if err != nil {
					return err
				}
				it.n = n
			}
			return nil
		})
	}
}

func (c *execGroupConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	it := &execItem{query: query, args: args}
	if err := c.g.Do(ctx, it); err != nil {
		return 0, err
	}
	return it.n, nil
}
