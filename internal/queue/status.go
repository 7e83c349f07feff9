package queue

import (
	"context"
	"time"

	"netsmith/internal/jobstatus"
	"netsmith/internal/netcfg"
)

// newStatus sets up Status's cache and its change feed: changes made here
// arrive through the watchers at once; other processes' by LISTEN on
// PostgreSQL, else by a read of the remembered jobs' versions every
// StatusPoll.
func (q *Queue) newStatus() {
	q.status = jobstatus.New(jobstatus.Config{MaxBytes: q.cfg.StatusCache})
	m := q.cfg.Metrics
	fc := jobstatus.FeedConfig{Every: q.cfg.StatusPoll, Retry: q.cfg.StatusRetry, Versions: q.Versions,
		Listen: q.db.ListenJobChanges, Logger: q.cfg.Logger}
	if m != nil {
		fc.SourceFunc = func(s jobstatus.Source) {
			for _, o := range []jobstatus.Source{jobstatus.SourceNotify, jobstatus.SourcePoll} {
				v := 0.0
				if o == s {
					v = 1
				}
				m.StatusFeed.WithLabelValues(string(o)).Set(v)
			}
		}
		fc.LagFunc = func(d time.Duration) { m.StatusFeedLag.Observe(d.Seconds()) }
	}
	fc.ChangedFunc = q.watch.wake
	q.feed = jobstatus.NewFeed(q.status, fc)
	q.feedDone = make(chan struct{})
	q.watch.all = func(id string, final *netcfg.Job) {
		if q.statusUsed.Load() {
			q.status.Changed(id, final)
		}
	}
}

// Status returns a job as Get does, for a status read: from memory when it
// is final, or unfinished and unchanged since it was last read (see package
// jobstatus), so that a client polling a job that has not changed costs no
// query. It may be as stale as the change feed's lag: LISTEN/NOTIFY's
// on PostgreSQL, else up to StatusPoll plus one read. A job not found is
// not remembered: one submitted through another replica appears at the
// next read. The job returned is shared: callers must not change it.
func (q *Queue) Status(ctx context.Context, id string) (*netcfg.Job, error) {
	q.useStatus()
	j, res := q.status.Lookup(id)
	q.countStatus(res)
	if j != nil {
		return j, nil
	}
	t := q.status.Ticket()
	j, err := q.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	q.status.Fill(t, j)
	return j, nil
}

// Announced reports whether other processes' changes reach Watch now, as
// they do while the change feed listens (PostgreSQL LISTEN/NOTIFY): then
// a watcher need not poll. The feed starts at the first Status or Watch.
func (q *Queue) Announced() bool { return q.feed.Source() == jobstatus.SourceNotify }

// useStatus starts the change feed at the first status read or watch: a
// process that serves none (a worker) keeps no jobs and holds no
// listener.
func (q *Queue) useStatus() {
	q.feedOnce.Do(func() {
		q.statusUsed.Store(true)
		go func() {
			defer close(q.feedDone)
			q.feed.Run(q.life)
		}()
	})
}

// stopFeed ends the change feed, if it runs, and waits for it.
func (q *Queue) stopFeed() {
	q.feedOnce.Do(func() { close(q.feedDone) }) // never started: nothing to wait for
	q.endLife()
	<-q.feedDone
}

// remember keeps a job this process just submitted for Status: its
// submitter reads it back at once. t was taken before its insert.
func (q *Queue) remember(t jobstatus.Ticket, j *netcfg.Job) {
	if !q.statusUsed.Load() {
		return
	}
	cp := *j // as GetJob would read it: times in whole milliseconds, UTC
	cp.CreatedAt, cp.UpdatedAt = roundMillis(j.CreatedAt), roundMillis(j.UpdatedAt)
	cp.ExpiresAt = roundMillis(j.ExpiresAt)
	q.status.Fill(t, &cp)
}

func roundMillis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func (q *Queue) countStatus(r jobstatus.Result) {
	if q.cfg.Metrics != nil {
		q.cfg.Metrics.StatusReads.WithLabelValues(string(r)).Inc()
	}
}
