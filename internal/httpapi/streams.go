package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"netsmith/internal/store"
)

// streamPoller tells open event streams that their job changed in another
// process (changes made here arrive at once through Queue.Watch, and so do
// other processes' while the queue's change feed listens: then it reads
// nothing). Every interval (or less often, see maxPolledJobs) it reads the
// versions of all their jobs together, 64 ids per statement, and wakes
// each stream whose job's version moved. It runs only while streams are
// open.
type streamPoller struct {
	every     time.Duration
	read      func(ctx context.Context, ids []string) (map[string]store.JobVersion, error)
	announced func() bool
	logger    *slog.Logger

	mu      sync.Mutex
	streams map[*polledStream]struct{}
	stop    context.CancelFunc // ends the poller when the last stream leaves; nil when not running
}

// polledStream is one open event stream's view of its job.
type polledStream struct {
	id      string
	version store.JobVersion // as last sent; guarded by the poller's mu
	wake    chan struct{}    // one pending wake-up at most
}

// add registers a stream for job id, last seen at version v.
func (p *streamPoller) add(id string, v store.JobVersion) *polledStream {
	ps := &polledStream{id: id, version: v, wake: make(chan struct{}, 1)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.streams == nil {
		p.streams = map[*polledStream]struct{}{}
	}
	p.streams[ps] = struct{}{}
	if p.stop == nil {
		var ctx context.Context
		ctx, p.stop = context.WithCancel(context.Background())
		go p.run(ctx)
	}
	return ps
}

// seen records the version a stream has just sent.
func (p *streamPoller) seen(ps *polledStream, v store.JobVersion) {
	p.mu.Lock()
	ps.version = v
	p.mu.Unlock()
}

// remove forgets a stream; the last one out stops the poller.
func (p *streamPoller) remove(ps *polledStream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.streams, ps)
	if len(p.streams) == 0 && p.stop != nil {
		p.stop()
		p.stop = nil
	}
}

// maxPolledJobs bounds the job versions the poller reads a second: with
// more open streams than that it reads less often than every interval.
// 15,000 waiting clients then cost 2,000 rows (about 31 reads) a second
// and learn of a change within 7.5 s.
const maxPolledJobs = 2000

func (p *streamPoller) run(ctx context.Context) {
	t := time.NewTimer(p.every)
	defer t.Stop()
	wasAnnounced := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// The first poll after the feed began to listen still reads:
		// it sees the changes made before LISTEN took effect.
		announced := p.announced != nil && p.announced()
		n := 0
		if !announced || !wasAnnounced {
			n = p.poll(ctx)
		}
		wasAnnounced = announced
		t.Reset(p.interval(n))
	}
}

// interval is how long the poller waits after reading n jobs.
func (p *streamPoller) interval(n int) time.Duration {
	return max(p.every, time.Duration(n)*time.Second/maxPolledJobs)
}

// poll reads the versions of the open streams' jobs and wakes the streams
// whose job changed or is gone (their next read says so). It returns how
// many jobs it read.
func (p *streamPoller) poll(ctx context.Context) int {
	p.mu.Lock()
	ids := make([]string, 0, len(p.streams))
	seen := make(map[string]bool, len(p.streams))
	for ps := range p.streams {
		if !seen[ps.id] {
			seen[ps.id] = true
			ids = append(ids, ps.id)
		}
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, max(p.every, 5*time.Second))
	defer cancel()
	versions, err := p.read(ctx, ids)
	if err != nil {
		if ctx.Err() == nil && p.logger != nil {
			p.logger.Warn("event streams: read job versions", "jobs", len(ids), slog.Any("error", err))
		}
		return len(ids)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for ps := range p.streams {
		if !seen[ps.id] { // opened since the read
			continue
		}
		if v, ok := versions[ps.id]; ok && v == ps.version {
			continue
		}
		select {
		case ps.wake <- struct{}{}:
		default:
		}
	}
	return len(ids)
}
