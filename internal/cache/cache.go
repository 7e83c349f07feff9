// Package cache is the template cache (docs/design.md §3), netsmith's main cost
// lever: one model call per intent, not per device.
//
// Entries live in the shared database (package store), so every replica sees
// them, with an in-process LRU (L1) in front. A miss is filled by exactly one
// caller: in a process, concurrent callers of one key share one fill
// (singleflight); across processes, the first to take the entry's lease
// fills it while the others poll the row until it is ready (and give up
// with a *BusyError after WaitFor, which the worker turns into a snooze).
// A fill that yields no usable template is stored as an invalid verdict for
// InvalidTTL, so its devices fall back to per-device calls without asking
// again. L1 entries are re-checked against the database after L1TTL, so an
// invalidation on another replica takes effect within that time.
package cache

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/render"
	"netsmith/internal/store"
)

// Outcome is how Resolve served a caller.
type Outcome string

// The outcomes, as counted in netsmith_cache_requests_total{result}.
const (
	Hit       Outcome = "hit"       // the entry was there
	Miss      Outcome = "miss"      // this caller filled it (and paid)
	Coalesced Outcome = "coalesced" // another caller filled it while this one waited
	Fallback  Outcome = "fallback"  // the template was unusable; a per-device call was made
)

// Entry kinds.
const (
	KindTemplate = "template" // a Go text/template for an intent
	KindConfig   = "config"   // a finished config for one device
)

// Entry is a cache entry ready to use.
type Entry struct {
	Key          string
	Kind         string
	Body         string
	Template     *render.Template // parsed Body, for KindTemplate
	Provider     string
	Model        string
	InputTokens  int64
	OutputTokens int64
}

// Meta describes an entry before it exists: what invalidation selects by,
// and how long it lives. The caller that fills the entry sets its lifetime;
// an invalid verdict always lives Config.InvalidTTL.
type Meta struct {
	Key      string
	Kind     string
	Role     string
	Platform string
	Hostname string        // per-device entries only
	Intent   string        // JSON, for provenance
	TTL      time.Duration // life of the entry once ready; 0 means Config.TTL
}

// FillFunc produces the entry on a miss. Returning an error wrapping
// ErrInvalid stores an invalid verdict; any other error releases the lease
// so the next caller tries again.
type FillFunc func(ctx context.Context) (*Entry, error)

// ErrInvalid marks an intent whose template could not be made.
var ErrInvalid = errors.New("no valid template for this intent")

// InvalidError is ErrInvalid with the reason stored with the verdict.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string        { return "invalid template: " + e.Reason }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// BusyError says another process is filling the entry; try again after Wait.
type BusyError struct {
	Key  string
	Wait time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("template %.12s is being made by another worker; retry in %s", e.Key, e.Wait)
}

// Config configures a Cache.
type Config struct {
	Conn     store.Conn
	ReadConn store.Conn // for lookups; Conn when nil
	// LeaseConn takes and fills entries (Conn when nil). It may be a
	// connection whose commits are not flushed at once (store.DB.LazyConn):
	// an entry lost in a database crash is made again, at one model call.
	// Invalidation always goes through Conn.
	LeaseConn  store.Conn
	Owner      string        // this process's lease owner id
	TTL        time.Duration // life of a ready entry (default 7 days)
	InvalidTTL time.Duration // life of an invalid verdict (default 1 hour)
	LeaseTTL   time.Duration // how long a lease lasts unless renewed while its fill runs (default DefaultLeaseTTL)
	WaitFor    time.Duration // how long to wait for another process's fill (default 30 s)
	PollEvery  time.Duration // how often to look while waiting (default 200 ms)
	L1Size     int           // entries kept in process (default 4096)
	L1TTL      time.Duration // how long an L1 entry is trusted without the database (default 30 s)
	Clock      func() time.Time
	Metrics    *metrics.Metrics
}

// Cache is the template cache.
type Cache struct {
	cfg Config
	sf  singleflight.Group
	l1  *lru
}

// New returns a Cache.
func New(cfg Config) *Cache {
	if cfg.TTL <= 0 {
		cfg.TTL = 7 * 24 * time.Hour
	}
	if cfg.InvalidTTL <= 0 {
		cfg.InvalidTTL = time.Hour
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.WaitFor <= 0 {
		cfg.WaitFor = 30 * time.Second
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 200 * time.Millisecond
	}
	if cfg.L1Size <= 0 {
		cfg.L1Size = 4096
	}
	if cfg.L1TTL <= 0 {
		cfg.L1TTL = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ReadConn == nil {
		cfg.ReadConn = cfg.Conn
	}
	if cfg.LeaseConn == nil {
		cfg.LeaseConn = cfg.Conn
	}
	return &Cache{cfg: cfg, l1: newLRU(cfg.L1Size)}
}

// Resolve returns the entry for m.Key, filling it with fill on a miss.
func (c *Cache) Resolve(ctx context.Context, m Meta, fill FillFunc) (*Entry, Outcome, error) {
	if e := c.l1.get(m.Key, c.cfg.Clock()); e != nil {
		c.count(Hit)
		return e, Hit, nil
	}
	ran := false
	v, err, _ := c.sf.Do(m.Key, func() (any, error) {
		ran = true
		e, out, err := c.resolveShared(ctx, m, fill)
		return result{e, out}, err
	})
	if err != nil {
		return nil, "", err
	}
	r := v.(result)
	out := r.outcome
	if !ran && out != Hit {
		out = Coalesced // waited on another caller in this process
	}
	c.count(out)
	return r.entry, out, nil
}

// Lookup returns key's entry only if it is ready now, from L1 or else the
// shared store, counting a hit; nil when it is missing, being filled,
// invalid or expired. It never fills, waits or takes a lease.
func (c *Cache) Lookup(ctx context.Context, key string) (*Entry, error) {
	now := c.cfg.Clock()
	if e := c.l1.get(key, now); e != nil {
		c.count(Hit)
		return e, nil
	}
	t, err := store.GetTemplate(ctx, c.cfg.ReadConn, key)
	if errors.Is(err, netcfg.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.State != netcfg.TemplateReady || !t.ExpiresAt.After(now) {
		return nil, nil
	}
	e, err := c.remember(t, now)
	if err != nil {
		return nil, err
	}
	c.count(Hit)
	return e, nil
}

type result struct {
	entry   *Entry
	outcome Outcome
}

func (c *Cache) resolveShared(ctx context.Context, m Meta, fill FillFunc) (*Entry, Outcome, error) {
	waited := false
	var deadline time.Time
	// The lease comes first: it is taken exactly when the entry is
	// missing or expired, and then there is nothing to read. On
	// PostgreSQL it goes in a group of the lazy connection's statements,
	// while the read would be a round trip of its own for every new
	// intent. An entry that is there costs one statement more in a group,
	// once per key and L1TTL in a process.
	for first := true; ; first = false {
		now := c.cfg.Clock()
		if !first {
			t, err := store.GetTemplate(ctx, c.cfg.ReadConn, m.Key)
			switch {
			case errors.Is(err, netcfg.ErrNotFound):
			case err != nil:
				return nil, "", err
			case t.State == netcfg.TemplateReady && t.ExpiresAt.After(now):
				e, err := c.remember(t, now)
				if err != nil {
					return nil, "", err
				}
				if waited {
					return e, Coalesced, nil
				}
				return e, Hit, nil
			case t.State == netcfg.TemplateInvalid && t.ExpiresAt.After(now):
				return nil, "", &InvalidError{Reason: t.Reason}
			case t.State == netcfg.TemplatePending && t.LeaseUntil.After(now):
				// Another process is filling it: wait, up to WaitFor.
				if deadline.IsZero() {
					deadline = now.Add(c.cfg.WaitFor)
				}
				if now.After(deadline) {
					return nil, "", &BusyError{Key: m.Key, Wait: max(time.Second, t.LeaseUntil.Sub(now)/4)}
				}
				waited = true
				if err := sleep(ctx, c.cfg.PollEvery); err != nil {
					return nil, "", err
				}
				continue
			}
		}
		ok, err := store.AcquireTemplateLease(ctx, c.cfg.LeaseConn, &netcfg.Template{Key: m.Key, Kind: m.Kind, Role: m.Role,
			Platform: m.Platform, Hostname: m.Hostname, Intent: m.Intent}, c.cfg.Owner, now.Add(c.cfg.LeaseTTL), now)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue // the entry is there, or another process won the lease a moment ago: look
		}
		e, err := c.fill(ctx, m, fill)
		if err != nil {
			return nil, "", err
		}
		return e, Miss, nil
	}
}

// fill runs fill under the lease this process holds and stores the outcome.
func (c *Cache) fill(ctx context.Context, m Meta, fill FillFunc) (*Entry, error) {
	stop := c.holdLease(ctx, m.Key)
	e, err := fill(ctx)
	stop()
	// The lease is ours to settle even if the job's context ended.
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := c.cfg.Clock()
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		_, serr := store.FillTemplate(dbctx, c.cfg.LeaseConn, &netcfg.Template{Key: m.Key, State: netcfg.TemplateInvalid,
			Reason: inv.Reason, ExpiresAt: now.Add(c.cfg.InvalidTTL)}, c.cfg.Owner)
		return nil, errors.Join(err, serr)
	case err != nil:
		return nil, errors.Join(err, store.ReleaseTemplateLease(dbctx, c.cfg.LeaseConn, m.Key, c.cfg.Owner))
	}
	e.Key, e.Kind = m.Key, m.Kind
	if e.Kind == KindTemplate && e.Template == nil {
		if e.Template, err = render.Parse(shortKey(e.Key), e.Body); err != nil {
			return nil, errors.Join(fmt.Errorf("fill %.12s: %w", m.Key, err), store.ReleaseTemplateLease(dbctx, c.cfg.LeaseConn, m.Key, c.cfg.Owner))
		}
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = c.cfg.TTL
	}
	expires := now.Add(ttl)
	ok, err := store.FillTemplate(dbctx, c.cfg.LeaseConn, &netcfg.Template{Key: m.Key, State: netcfg.TemplateReady, Body: e.Body,
		Provider: e.Provider, Model: e.Model, InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
		ExpiresAt: expires}, c.cfg.Owner)
	if err != nil {
		// The model was paid for this entry: a store that fails now (the
		// database is down) must not throw it away, or the job's retry
		// pays again. The caller uses it; the lease runs out on its own.
		return e, nil
	}
	if ok {
		c.l1.put(e, c.l1Until(now, expires))
	}
	// Not ok: our lease ran out and another filled it; our entry is still
	// right for this caller, it just is not the stored one.
	return e, nil
}

// l1Until is when an entry read or stored at now stops being trusted in L1:
// after L1TTL, and never after the entry itself expires.
func (c *Cache) l1Until(now, expires time.Time) time.Time {
	if until := now.Add(c.cfg.L1TTL); until.Before(expires) {
		return until
	}
	return expires
}

// remember turns a ready stored entry read at now into an Entry and keeps
// it in L1.
func (c *Cache) remember(t *netcfg.Template, now time.Time) (*Entry, error) {
	e, err := c.entryOf(t)
	if err != nil {
		return nil, err
	}
	c.l1.put(e, c.l1Until(now, t.ExpiresAt))
	return e, nil
}

func (c *Cache) entryOf(t *netcfg.Template) (*Entry, error) {
	e := &Entry{Key: t.Key, Kind: t.Kind, Body: t.Body, Provider: t.Provider, Model: t.Model,
		InputTokens: t.InputTokens, OutputTokens: t.OutputTokens}
	if t.Kind == KindTemplate {
		tmpl, err := render.Parse(shortKey(t.Key), t.Body)
		if err != nil {
			return nil, fmt.Errorf("stored template %.12s no longer parses: %w", t.Key, err)
		}
		e.Template = tmpl
	}
	return e, nil
}

func shortKey(k string) string { return k[:min(12, len(k))] }

// Invalidate deletes the entries f selects, here and in the database.
func (c *Cache) Invalidate(ctx context.Context, f netcfg.TemplateFilter) (int64, error) {
	n, err := store.InvalidateTemplates(ctx, c.cfg.Conn, f)
	c.l1.clear()
	return n, err
}

func (c *Cache) count(o Outcome) {
	if c.cfg.Metrics != nil {
		c.cfg.Metrics.CacheRequests.WithLabelValues(string(o)).Inc()
	}
}

// CountFallback counts a per-device fallback in the metrics.
func (c *Cache) CountFallback() { c.count(Fallback) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lru is a small least-recently-used map of entries with expiry.
type lru struct {
	mu    sync.Mutex
	size  int
	order *list.List
	items map[string]*list.Element
}

type lruItem struct {
	e       *Entry
	expires time.Time
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru) get(key string, now time.Time) *Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[key]
	if !ok {
		return nil
	}
	it := el.Value.(*lruItem)
	if now.After(it.expires) {
		l.order.Remove(el)
		delete(l.items, key)
		return nil
	}
	l.order.MoveToFront(el)
	return it.e
}

func (l *lru) put(e *Entry, expires time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.items[e.Key]; ok {
		el.Value = &lruItem{e, expires}
		l.order.MoveToFront(el)
		return
	}
	l.items[e.Key] = l.order.PushFront(&lruItem{e, expires})
	for l.order.Len() > l.size {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(*lruItem).e.Key)
	}
}

func (l *lru) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.order.Init()
	clear(l.items)
}
