package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// JobChannel is the PostgreSQL channel on which every change of a job's row
// is announced at commit (migration 009): the payload is "<id> <updated_at
// in Unix ms>" (0 for a deleted job).
const JobChannel = "netsmith_job"

// ListenerName is the application_name by which the listener's connection
// is known in pg_stat_activity, after the URL's own application_name, if
// any: it tells the listener from the pools' connections, some of which
// LISTEN too (River's).
const ListenerName = "netsmith job listener"

// ErrNoListen is returned by ListenJobChanges on a database that announces
// no changes: SQLite, or PostgreSQL through PgBouncer in transaction mode,
// where LISTEN needs a session that PgBouncer does not keep.
var ErrNoListen = errors.New("database cannot LISTEN for job changes")

// JobChange is one announced change of a job's row.
type JobChange struct {
	ID        string
	UpdatedAt time.Time // zero: the job was deleted
}

// ListenJobChanges listens on JobChannel on a connection of its own (not the
// pool's), calls ready once LISTEN is in effect (a change committed after
// that is announced), then changed with every announced change, until ctx
// ends (it returns nil) or the connection fails (it returns why). It pings
// the connection after every quiet interval `every`, so that a connection
// lost without a word is noticed within about every, not at the TCP
// keepalive's pace.
func (db *DB) ListenJobChanges(ctx context.Context, every time.Duration, ready func(), changed func(JobChange)) error {
	if db.pgPool == nil || db.pgBouncer {
		return ErrNoListen
	}
	cc := db.pgPool.Config().ConnConfig.Copy()
	cc.RuntimeParams["application_name"] = strings.TrimSpace(cc.RuntimeParams["application_name"] + " " + ListenerName)
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("listen for job changes: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+JobChannel); err != nil {
		return fmt.Errorf("listen for job changes: %w", err)
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, every)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			changed(parseJobChange(n.Payload))
			continue
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("listen for job changes: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listen for job changes: ping: %w", err)
		}
	}
}

func parseJobChange(payload string) JobChange {
	id, at, _ := strings.Cut(payload, " ")
	ms, _ := strconv.ParseInt(at, 10, 64)
	c := JobChange{ID: id}
	if ms > 0 {
		c.UpdatedAt = time.UnixMilli(ms).UTC()
	}
	return c
}
