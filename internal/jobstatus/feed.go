package jobstatus

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// Source is where a Feed learns of other processes' changes.
type Source string

// Sources.
const (
	SourceNone   Source = ""       // no feed runs: unfinished jobs are read every time
	SourceNotify Source = "notify" // PostgreSQL LISTEN/NOTIFY
	SourcePoll   Source = "poll"   // the remembered jobs' versions, read every interval
)

// FeedConfig configures a Feed.
type FeedConfig struct {
	// Every is how often the remembered unfinished jobs are read when
	// the feed polls, and how long a listener connection may be quiet
	// before it is pinged: the bound on how stale an unfinished job
	// served from memory can be (plus one read). One second when zero.
	Every time.Duration
	// Versions reads the versions of the jobs named that exist
	// (store.JobVersions).
	Versions func(ctx context.Context, ids []string) (map[string]netcfg.JobVersion, error)
	// Listen, when set, listens for changes until ctx ends or its
	// connection fails (store.DB.ListenJobChanges); store.ErrNoListen
	// means never: the feed polls.
	Listen func(ctx context.Context, every time.Duration, ready func(), changed func(store.JobChange)) error
	// Retry is how long the feed polls after the listener failed before
	// it listens again: 5 s when zero.
	Retry time.Duration
	// SourceFunc, when set, is told each time the source changes, and
	// LagFunc how long each announced change took to arrive (from the
	// job's updated_at): the metrics.
	SourceFunc func(Source)
	LagFunc    func(time.Duration)
	// ChangedFunc, when set, is told of every announced change's job id
	// (the queue wakes its watchers: event streams).
	ChangedFunc func(id string)
	Logger      *slog.Logger
}

// Feed tells a Cache of other processes' changes: it is the one change feed
// of a process, shared by all its status reads.
type Feed struct {
	cfg    FeedConfig
	cache  *Cache
	source atomic.Value // Source
}

// NewFeed returns a feed for c; Run runs it.
func NewFeed(c *Cache, cfg FeedConfig) *Feed {
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Feed{cfg: cfg, cache: c}
}

// Run runs the feed until ctx ends: it listens where it can, and polls
// while it cannot. While it listens or polls the cache serves unfinished
// jobs; while its listener connects, it does not.
func (f *Feed) Run(ctx context.Context) {
	defer f.setSource(SourceNone)
	listen := f.cfg.Listen
	for ctx.Err() == nil {
		if listen != nil {
			// No poll runs until the listener is ready, which a slow
			// connect may delay: meanwhile no change of the
			// unfinished jobs kept would be seen.
			f.cache.setLive(false)
			err := listen(ctx, f.cfg.Every, func() { f.setSource(SourceNotify) }, f.changed)
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, store.ErrNoListen) {
				listen = nil
			} else {
				f.cfg.Logger.Warn("job status feed: listener lost; polling until it is back",
					"retry", f.cfg.Retry.String(), slog.Any("error", err))
			}
		}
		f.setSource(SourcePoll)
		if listen == nil {
			f.poll(ctx, nil)
			continue
		}
		retry := time.NewTimer(f.cfg.Retry)
		f.poll(ctx, retry.C)
		retry.Stop()
	}
}

// Source is where the feed learns of other processes' changes now.
func (f *Feed) Source() Source {
	s, _ := f.source.Load().(Source)
	return s
}

func (f *Feed) setSource(s Source) {
	f.cache.setLive(s != SourceNone)
	f.source.Store(s)
	if f.cfg.SourceFunc != nil {
		f.cfg.SourceFunc(s)
	}
}

func (f *Feed) changed(c store.JobChange) {
	f.cache.announced(c.ID, c.UpdatedAt)
	if f.cfg.ChangedFunc != nil {
		f.cfg.ChangedFunc(c.ID)
	}
	if f.cfg.LagFunc != nil && !c.UpdatedAt.IsZero() {
		f.cfg.LagFunc(max(0, time.Since(c.UpdatedAt)))
	}
}

// poll reads the remembered unfinished jobs' versions every interval until
// ctx ends or until fires, and forgets the jobs that changed. A failed read
// forgets them all: they can no longer be vouched for.
func (f *Feed) poll(ctx context.Context, until <-chan time.Time) {
	t := time.NewTicker(f.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-until:
			return
		case <-t.C:
		}
		before := f.cache.openVersions()
		if len(before) == 0 {
			continue
		}
		ids := make([]string, 0, len(before))
		for id := range before {
			ids = append(ids, id)
		}
		rctx, cancel := context.WithTimeout(ctx, max(f.cfg.Every, 5*time.Second))
		now, err := f.cfg.Versions(rctx, ids)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.cfg.Logger.Warn("job status feed: read job versions", "jobs", len(ids), slog.Any("error", err))
			f.cache.setLive(true) // drops them
			continue
		}
		f.cache.validate(before, now)
	}
}
