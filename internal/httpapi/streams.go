package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"netsmith/internal/store"
)

// streamPoller tells open event streams that their job changed in another
// process (changes made here arrive at once through Queue.Watch). Every
// interval it reads the versions of all their jobs together, 64 ids per
// statement, and wakes each stream whose job's version moved. So 15,000
// waiting clients cost about 235 small reads a second, and each learns of
// a change within one interval whatever their number. It runs only while
// streams are open.
type streamPoller struct {
	every  time.Duration
	read   func(ctx context.Context, ids []string) (map[string]store.JobVersion, error)
	logger *slog.Logger

	mu      sync.Mutex
	streams map[*polledStream]struct{}
	stop    chan struct{} // closed when the last stream leaves; nil when not running
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
		p.stop = make(chan struct{})
		go p.run(p.stop)
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
		close(p.stop)
		p.stop = nil
	}
}

func (p *streamPoller) run(stop chan struct{}) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.poll(stop)
	}
}

// poll reads the versions of the open streams' jobs and wakes the streams
// whose job changed or is gone (their next read says so).
func (p *streamPoller) poll(stop chan struct{}) {
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
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(p.every, 5*time.Second))
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	versions, err := p.read(ctx, ids)
	if err != nil {
		if ctx.Err() == nil && p.logger != nil {
			p.logger.Warn("event streams: read job versions", "jobs", len(ids), slog.Any("error", err))
		}
		return
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
}
