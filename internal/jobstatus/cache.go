// Package jobstatus remembers jobs for status reads, so that a client polling
// a job's status costs no database read while the job has not changed.
//
// A Cache holds final jobs, which never change, in a least-recently-used
// list bounded in bytes; and unfinished jobs, each until a change of it is
// seen, bounded in number. A Feed tells the cache of changes: in the same
// process at once (the queue's watchers), from other processes through
// PostgreSQL's LISTEN/NOTIFY, or, where that is not available (SQLite,
// PgBouncer, a lost listener connection), by reading the versions of the
// remembered unfinished jobs together every interval. Unfinished jobs are
// served from memory only while a Feed runs.
//
// The cache keeps records, not answers: whoever serves one still checks
// that the caller may see it.
package jobstatus

import (
	"container/list"
	"netsmith/internal/netcfg"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxBytes bounds the final jobs kept: a poller reads a job
	// final within a poll interval of its end, and this holds the last few
	// hundred of a few kilobytes, while a process's memory stays as it was
	// without the cache (bench/s8-legacy-poll.sh); the heap holds up to
	// about twice it.
	DefaultMaxBytes = 1 << 20
	// DefaultMaxOpen bounds the unfinished jobs kept: the feed's poll
	// reads them all every interval.
	DefaultMaxOpen = 2000
	// entryOverhead is what a job costs beside its text fields: the
	// struct, its times, the list element and the map slot.
	entryOverhead = 512
)

// Config bounds a Cache.
type Config struct {
	// MaxBytes bounds the final jobs kept (their request, result body,
	// error and ids, plus a fixed overhead each): DefaultMaxBytes when
	// zero; negative keeps none.
	MaxBytes int64
	// MaxEntry is the largest job kept, MaxBytes/16 when zero: a job
	// with a larger result is read from the database each time, so that
	// a few large configs cannot push out everything else.
	MaxEntry int64
	// MaxOpen bounds the unfinished jobs kept: DefaultMaxOpen when zero.
	MaxOpen int
}

// Result is how a lookup went, for the metrics.
type Result string

// Lookup results.
const (
	HitFinal Result = "hit_final" // a final job, from memory
	HitOpen  Result = "hit_open"  // an unfinished job unchanged since read, from memory
	Miss     Result = "miss"      // read from the database
)

// Cache remembers jobs for status reads. Its methods are safe for
// concurrent use. The jobs it hands out are shared: callers must not
// change them.
type Cache struct {
	cfg Config

	mu    sync.Mutex
	final lru
	open  lru
	bytes int64 // of final
	// live: unfinished jobs may be served (a Feed runs); epoch counts
	// the times it stopped or its source changed, when changes may have
	// been missed.
	live  bool
	epoch uint64
	seen  changes
}

// New returns an empty cache bounded by cfg.
func New(cfg Config) *Cache {
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxEntry <= 0 {
		cfg.MaxEntry = cfg.MaxBytes / 16
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = DefaultMaxOpen
	}
	return &Cache{cfg: cfg, final: newLRU(), open: newLRU(), seen: newChanges(changesKept)}
}

// Lookup returns job id if it is remembered and may be served: final, or
// unfinished and unchanged since it was read while a feed runs.
func (c *Cache) Lookup(id string) (*netcfg.Job, Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.final.get(id); e != nil {
		return e.j, HitFinal
	}
	if c.live {
		if e := c.open.get(id); e != nil {
			return e.j, HitOpen
		}
	}
	return nil, Miss
}

// Ticket marks the moment before a read of jobs: Fill keeps what the read
// returned only if no change of that job was seen since.
type Ticket struct{ gen, epoch uint64 }

// Ticket returns a ticket for a read about to start.
func (c *Cache) Ticket() Ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Ticket{gen: c.seen.gen, epoch: c.epoch}
}

// Fill remembers j, read (or written) after t was taken. A final job is
// kept unless it is too large; an unfinished one only if a feed runs and
// no change of it has been seen since t: the read may have missed it.
func (c *Cache) Fill(t Ticket, j *netcfg.Job) {
	size := sizeOf(j)
	c.mu.Lock()
	defer c.mu.Unlock()
	if j.State.Final() {
		c.putFinal(j, size)
		return
	}
	if !c.live || t.epoch != c.epoch || c.seen.since(j.ID, t.gen) {
		return
	}
	c.open.put(j.ID, &entry{j: j, version: netcfg.VersionOf(j)})
	for c.open.len() > c.cfg.MaxOpen {
		c.open.removeOldest()
	}
}

// Changed records that job id changed. final, when not nil, is the job as
// it now is, final (this process completed it): it is kept at once.
func (c *Cache) Changed(id string, final *netcfg.Job) {
	var size int64
	if final != nil {
		size = sizeOf(final)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.add(id)
	c.open.remove(id)
	if final != nil && final.State.Final() {
		c.putFinal(final, size)
	} else {
		// A final job does not change; one that did was deleted.
		if e := c.final.remove(id); e != nil {
			c.bytes -= e.size
		}
	}
}

// announced records a change of job id's row announced by the database
// (updated_at at; zero: deleted). The announcement of a completion made
// here arrives after Changed kept the final job: it is the same version,
// and the final job stays.
func (c *Cache) announced(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.add(id)
	c.open.remove(id)
	if e := c.final.get(id); e != nil && (at.IsZero() || e.j.UpdatedAt.UnixMilli() != at.UnixMilli()) {
		c.bytes -= c.final.remove(id).size
	}
}

func (c *Cache) putFinal(j *netcfg.Job, size int64) {
	c.open.remove(j.ID)
	if size > c.cfg.MaxEntry || c.cfg.MaxBytes < 0 {
		return
	}
	if old := c.final.remove(j.ID); old != nil {
		c.bytes -= old.size
	}
	c.final.put(j.ID, &entry{j: j, size: size})
	c.bytes += size
	for c.bytes > c.cfg.MaxBytes {
		c.bytes -= c.final.removeOldest().size
	}
}

// setLive says whether a feed runs. Any change of it drops the unfinished
// jobs: changes may have gone unseen in between.
func (c *Cache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.epoch++
	c.open = newLRU()
}

// openVersions returns the remembered unfinished jobs' versions.
func (c *Cache) openVersions() map[string]netcfg.JobVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]netcfg.JobVersion, c.open.len())
	for id, el := range c.open.byID {
		out[id] = el.Value.(*item).e.version
	}
	return out
}

// validate drops the unfinished jobs whose version, read now, differs
// from the one remembered (or which are gone); before is what
// openVersions returned when the read started.
func (c *Cache) validate(before, now map[string]netcfg.JobVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, v := range before {
		if nv, ok := now[id]; ok && nv == v {
			continue
		}
		c.seen.add(id)
		if e := c.open.get(id); e != nil && e.version == v {
			c.open.remove(id)
		}
	}
}

// Stats is what a Cache holds.
type Stats struct {
	Final, Open int   // jobs kept
	Bytes       int64 // of the final jobs
	Live        bool  // unfinished jobs are served
}

// Stats returns what c holds now.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Final: c.final.len(), Open: c.open.len(), Bytes: c.bytes, Live: c.live}
}

// sizeOf is what keeping j costs, about: its text and a fixed overhead.
func sizeOf(j *netcfg.Job) int64 {
	n := entryOverhead + len(j.ID) + len(j.Request) + len(j.Error) + len(j.Department) + len(j.Owner) +
		len(j.KeyID) + len(j.IdempotencyKey) + len(j.RequestHash) + len(j.BatchID) + len(j.IntentKey)
	if r := j.Result; r != nil {
		n += len(r.Body) + len(r.Provider) + len(r.Model) + len(r.Cache) + len(r.CacheKey)
	}
	return int64(n)
}

// entry is a remembered job.
type entry struct {
	j       *netcfg.Job
	size    int64             // final jobs
	version netcfg.JobVersion // unfinished jobs: as read
}

type item struct {
	id string
	e  *entry
}

// lru is a map in least-recently-used order.
type lru struct {
	l    *list.List
	byID map[string]*list.Element
}

func newLRU() lru { return lru{l: list.New(), byID: map[string]*list.Element{}} }

func (c *lru) len() int { return len(c.byID) }

func (c *lru) get(id string) *entry {
	el, ok := c.byID[id]
	if !ok {
		return nil
	}
	c.l.MoveToFront(el)
	return el.Value.(*item).e
}

func (c *lru) put(id string, e *entry) {
	if el, ok := c.byID[id]; ok {
		el.Value.(*item).e = e
		c.l.MoveToFront(el)
		return
	}
	c.byID[id] = c.l.PushFront(&item{id: id, e: e})
}

func (c *lru) remove(id string) *entry {
	el, ok := c.byID[id]
	if !ok {
		return nil
	}
	c.l.Remove(el)
	delete(c.byID, id)
	return el.Value.(*item).e
}

func (c *lru) removeOldest() *entry {
	el := c.l.Back()
	it := el.Value.(*item)
	c.l.Remove(el)
	delete(c.byID, it.id)
	return it.e
}

// changesKept is how many of the latest changes are remembered for Fill's
// check. A read that outlasts that many changes is not kept.
const changesKept = 8192

// changes remembers the latest changes seen, each numbered (gen), so that
// Fill can tell whether a job changed while it was being read.
type changes struct {
	gen    uint64 // of the latest change
	ring   []change
	next   int
	byID   map[string]uint64 // latest gen of each id in ring
	forgot uint64            // latest gen that fell out of ring
}

type change struct {
	id  string
	gen uint64
}

func newChanges(n int) changes {
	return changes{ring: make([]change, n), byID: map[string]uint64{}}
}

func (s *changes) add(id string) {
	s.gen++
	old := s.ring[s.next]
	if old.gen != 0 {
		if s.byID[old.id] == old.gen {
			delete(s.byID, old.id)
		}
		s.forgot = old.gen
	}
	s.ring[s.next] = change{id: id, gen: s.gen}
	s.next = (s.next + 1) % len(s.ring)
	s.byID[id] = s.gen
}

// since reports whether id may have changed after change number gen.
func (s *changes) since(id string, gen uint64) bool {
	return s.byID[id] > gen || s.forgot > gen
}
