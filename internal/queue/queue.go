// Package queue is netsmith's durable job queue: River on an embedded SQLite
// file or on PostgreSQL, chosen by the database URL, with netsmith's own job
// rows (package store) written in the same transactions as River's.
//
// What River lacks and this package adds on top: queue-depth backpressure,
// expire-if-not-started, and reconciliation of our job rows with River's
// (a job River discarded after a rescue is marked failed here).
//
// The two databases differ only in their River driver and transaction type;
// engine[TDriver, TTx] is written once over both.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"netsmith/internal/adapt"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// WorkFunc runs one job outside any transaction and returns its result. The
// error's class decides what happens next: a *PermanentError fails the job at
// once; a *SnoozeError waits and tries again without counting an attempt; any
// other error retries with backoff until MaxAttempts.
type WorkFunc func(ctx context.Context, j *store.Job) (*store.Result, error)

// PermanentError fails a job at once, with Err's message stored as its
// error. Reason, when set, is the reason netsmith_jobs_total counts (one of
// metrics' Reason constants); else it is told from Err (failureReason).
type PermanentError struct {
	Err    error
	Reason string
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// SnoozeError puts a job back for After without counting a failed attempt
// (an upstream rate limit).
type SnoozeError struct {
	After time.Duration
	Err   error
}

func (e *SnoozeError) Error() string { return fmt.Sprintf("snooze %s: %v", e.After, e.Err) }
func (e *SnoozeError) Unwrap() error { return e.Err }

// EconomyFunc runs one step of a fleet batch's economy job. It returns
// again > 0 to be run again after that long (its Message Batch is still
// running), 0 when the job is done, or an error to retry with backoff.
type EconomyFunc func(ctx context.Context, batchID string) (again time.Duration, err error)

// Economy asks EnqueueBatch for economy mode: the templates of these
// intents are leased to the batch's economy job until LeaseUntil.
type Economy struct {
	Templates  []*store.Template // one per distinct intent: key and provenance
	LeaseUntil time.Time
}

// DefaultPollInterval is how often workers look for jobs when no
// notification wakes them. It bounds how long a job can sit ready with a
// worker free: River sends at most one insert notification per queue per
// fetch cooldown and drops the rest, so a job committed just after
// another, once that one's fetch has run, waits for the next poll: a long
// poll shows as a long tail of submit-to-done latency for single jobs
// submitted one after another on PostgreSQL (bench single-latency.sh). It
// costs an idle process an empty fetch per poll (the economy queue polls
// once a second).
const DefaultPollInterval = 100 * time.Millisecond

// Config configures a Queue.
type Config struct {
	// Workers is how many jobs this process runs at once; 0 makes an
	// insert-only queue (the api role).
	Workers int
	// Work runs a job; required when Workers > 0.
	Work WorkFunc
	// Sweep, when set, serves a fleet batch's device job from its intent's
	// cached template without a model call, or fails (see riverEngine.sweep):
	// after a device job succeeds, its worker finishes the intent's other
	// queued devices with it, many per transaction.
	Sweep WorkFunc
	// Economy runs economy jobs (see EnqueueBatch); without it they give
	// their leases back and devices take the normal path.
	Economy EconomyFunc
	// EconomyWorkers is how many economy jobs this process runs at once
	// (default 2), in a queue of their own.
	EconomyWorkers int
	// MaxAttempts is how many times a job is tried before it fails.
	MaxAttempts int
	// JobTimeout bounds one attempt.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is presumed
	// lost with its process and is run again; must exceed JobTimeout.
	RescueAfter time.Duration
	// RetryBase and RetryMax shape the exponential backoff with jitter.
	RetryBase, RetryMax time.Duration
	// PollInterval is how often workers look for jobs when no notification
	// arrives (and how often the SQLite listener polls); DefaultPollInterval
	// when zero.
	PollInterval time.Duration
	// MaintainInterval is how often the leader expires overdue jobs and
	// reconciles orphans.
	MaintainInterval time.Duration
	// MaxConns bounds the PostgreSQL pool.
	MaxConns int
	// DepthTTL is how long a queue-depth reading is reused.
	DepthTTL time.Duration
	// OnBudgetAlert is called after a submission whose reservation took
	// its department past a budget's warning share (once per period
	// across all replicas).
	OnBudgetAlert func(store.BudgetAlert)
	// Gate, when set, bounds how many jobs do work at once in this process
	// and moves that bound with the API's latency (adapt.Gate). Nil: all
	// Workers work at once.
	Gate *adapt.Gate
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// BeforeComplete, when set, runs before each try to commit a job's
	// result and fails that try with its error: fault tests break the
	// completion with it.
	BeforeComplete func(ctx context.Context, jobID string) error

	// Role is the process's role (all, api, worker) its heartbeat row
	// records; by default worker with Workers, else api.
	Role string

	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

func (c *Config) setDefaults() {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.EconomyWorkers <= 0 {
		c.EconomyWorkers = 2
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 3 * time.Minute
	}
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + c.JobTimeout/5 + 10*time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.MaintainInterval <= 0 {
		c.MaintainInterval = 10 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 20
	}
	if c.DepthTTL <= 0 {
		c.DepthTTL = 500 * time.Millisecond
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// engine is the part that differs between the SQLite and PostgreSQL drivers.
type engine interface {
	conn() store.Conn
	readConn() store.Conn
	lazyConn() store.Conn
	// enqueue inserts j and its River row in one transaction; backlog is
	// its department's unfinished jobs, for its priority.
	enqueue(ctx context.Context, j *store.Job, backlog int64) (existing *store.Job, err error)
	// enqueueBatch inserts b, its jobs and their River rows in one
	// transaction, with eco's leases and economy job when eco is set.
	enqueueBatch(ctx context.Context, b *store.Batch, jobs []*store.Job, eco *Economy, backlog int64) (leased int, err error)
	// cancel cancels the River row and marks j canceled, in one transaction.
	cancel(ctx context.Context, j *store.Job, state netcfg.JobState, reason string) (bool, error)
	migrate(ctx context.Context) ([]string, error)
	markRunning(ctx context.Context, marks []runMark) error
	poolStats() []metrics.DBPool
	id() string
	start(ctx context.Context) error
	stop(ctx context.Context) error
	close()
}

// Queue is the job queue.
type Queue struct {
	cfg     Config
	eng     engine
	dialect string
	watch   *watchers
	marks   *runMarks
	sweeps  *sweeping
	beats   heartbeats
	// answers are paid results whose completion failed (see answers.go).
	answers answers

	depthMu sync.Mutex
	depthAt time.Time
	depth   map[netcfg.JobState]int64

	backlogMu sync.Mutex
	backlogs  map[string]backlogReading
}

// backlogReading is a department's backlog as read at `at`, plus what this
// process queued for it since, less what this process finished of it
// since. (Counting only the new jobs, a reading grew by every submission
// until the next read: at 600 submissions a second a backlog of 200 read as
// 800 by the end of a second, and the jobs submitted then got a lower
// priority than the ones after the next read, and waited seconds behind
// them.)
type backlogReading struct {
	n  int64
	at time.Time
}

// backlog returns department's unfinished jobs for the fair priority of n
// new ones, read outside the submit transaction (on SQLite the writer is
// the bottleneck) at most DepthTTL ago, and counts the n in.
func (q *Queue) backlog(ctx context.Context, department string, n int) (int64, error) {
	q.backlogMu.Lock()
	defer q.backlogMu.Unlock()
	now := time.Now()
	r, ok := q.backlogs[department]
	if !ok || now.Sub(r.at) >= q.cfg.DepthTTL {
		v, err := store.Backlog(ctx, q.eng.readConn(), department, fairDepth)
		if err != nil {
			return 0, err
		}
		if len(q.backlogs) > 1000 { // departments are few; drop stale ones
			for d, old := range q.backlogs {
				if now.Sub(old.at) >= q.cfg.DepthTTL {
					delete(q.backlogs, d)
				}
			}
		}
		r = backlogReading{n: v, at: now}
	}
	before := r.n
	r.n += int64(n)
	q.backlogs[department] = r
	return before, nil
}

// Open connects to the database named by url (sqlite://PATH or
// postgres://…) and returns a Queue. It does not migrate; call Migrate.
func Open(ctx context.Context, url string, cfg Config) (*Queue, error) {
	cfg.setDefaults()
	q := &Queue{cfg: cfg, watch: newWatchers(), backlogs: map[string]backlogReading{}}
	q.marks = newRunMarks(q)
	q.sweeps = newSweeping()
	var err error
	switch {
	case isSQLite(url):
		q.dialect = "sqlite"
		q.eng, err = openSQLite(ctx, url, q)
	case isPostgres(url):
		q.dialect = "postgres"
		q.eng, err = openPostgres(ctx, url, q)
	default:
		return nil, fmt.Errorf("database url %q: scheme must be sqlite:// or postgres://", redactURL(url))
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Dialect is "sqlite" or "postgres".
func (q *Queue) Dialect() string { return q.dialect }

// Conn returns the pooled connection for writes and reads that must see
// them at once.
func (q *Queue) Conn() store.Conn { return q.eng.conn() }

// ReadConn returns connections for reads only. On SQLite they read beside
// the single writer connection instead of queueing behind it; on
// PostgreSQL it is the same pool as Conn.
func (q *Queue) ReadConn() store.Conn { return q.eng.readConn() }

// LazyConn returns connections for writes whose loss in a database crash
// costs only repeated work, never a job or a result: on PostgreSQL they
// commit without waiting for the WAL flush (synchronous_commit off), which
// is most of a short transaction's time there; on SQLite it is Conn with
// its Execs committed in groups, which take the one writer once per group
// instead of once per statement. The template cache's leases and fills use
// it: a lost fill is one more model call for that intent after the crash.
func (q *Queue) LazyConn() store.Conn { return q.eng.lazyConn() }

// Migrate brings River's schema and netsmith's tables up to date.
func (q *Queue) Migrate(ctx context.Context) ([]string, error) { return q.eng.migrate(ctx) }

// Start starts the workers (if any) and River's maintenance; it returns at
// once. Stop ends them.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.eng.start(ctx); err != nil {
		return err
	}
	if q.cfg.Workers > 0 {
		go q.marks.run()
	}
	q.beats.start(q)
	return nil
}

// Stop stops fetching new jobs and waits for running ones to finish until
// ctx is done; then it cancels them, and River returns them to the queue.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.eng.stop(ctx)
	if q.cfg.Workers > 0 {
		q.marks.stop()
	}
	q.beats.stop()
	return err
}

// Close releases the database (and ends the heartbeat of a queue never
// stopped).
func (q *Queue) Close() {
	q.beats.stop()
	q.eng.close()
}

// Ping checks the database takes work on every path a job uses: the pool,
// and on PostgreSQL the lazy connection, whose settings (a startup
// parameter, or SET LOCAL through PgBouncer) a database or a pooler may
// refuse while the pool's plain queries pass. SQLite's lazy connection is
// the same database file behind its one writer, which a probe should not
// queue for.
func (q *Queue) Ping(ctx context.Context) error {
	var one int
	if err := q.eng.conn().QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return err
	}
	if q.dialect != "postgres" {
		return nil
	}
	if _, err := q.eng.lazyConn().Exec(ctx, `SELECT 1`); err != nil {
		return fmt.Errorf("lazy connection: %w", err)
	}
	return nil
}

// ErrQueueFull is returned by Enqueue when the queue is deeper than allowed.
var ErrQueueFull = errors.New("queue is full")

// Enqueue stores j as queued and puts it on the queue, in one transaction.
// When j's idempotency key was used before, it returns the earlier job and
// duplicate=true (or store.ErrConflict if the request differs).
func (q *Queue) Enqueue(ctx context.Context, j *store.Job) (got *store.Job, duplicate bool, err error) {
	if j.MaxAttempts == 0 {
		j.MaxAttempts = q.cfg.MaxAttempts
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = q.cfg.Clock()
	}
	backlog, err := q.backlog(ctx, j.Department, 1)
	if err != nil {
		return nil, false, err
	}
	existing, err := q.eng.enqueue(ctx, j, backlog)
	if existing != nil {
		return existing, true, err
	}
	if err != nil {
		return nil, false, err
	}
	j.State = netcfg.StateQueued
	j.UpdatedAt = j.CreatedAt
	q.bumpDepth(1)
	return j, false, nil
}

// EnqueueBatch stores a batch and all its jobs, queued, in one transaction:
// either every device is queued or none is.
func (q *Queue) EnqueueBatch(ctx context.Context, b *store.Batch, jobs []*store.Job) error {
	_, err := q.EnqueueEconomyBatch(ctx, b, jobs, nil)
	return err
}

// EnqueueEconomyBatch is EnqueueBatch in economy mode: in the same
// transaction it leases the template of every intent in eco that has no
// usable entry and no other filler to the owner store.EconomyOwner(b.ID),
// and, when it leased any, queues the batch's economy job, which makes them
// through one Message Batch. Device jobs wait on those leases as on any
// other filler's. It returns how many templates it leased. A nil eco is
// plain EnqueueBatch.
func (q *Queue) EnqueueEconomyBatch(ctx context.Context, b *store.Batch, jobs []*store.Job, eco *Economy) (int, error) {
	now := q.cfg.Clock()
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	for _, j := range jobs {
		j.BatchID = b.ID
		if j.MaxAttempts == 0 {
			j.MaxAttempts = q.cfg.MaxAttempts
		}
		if j.CreatedAt.IsZero() {
			j.CreatedAt = now
		}
		j.State, j.UpdatedAt = netcfg.StateQueued, j.CreatedAt
	}
	backlog, err := q.backlog(ctx, b.Department, len(jobs))
	if err != nil {
		return 0, err
	}
	leased, err := q.eng.enqueueBatch(ctx, b, jobs, eco, backlog)
	if err != nil {
		return 0, err
	}
	q.bumpDepth(int64(len(jobs)))
	return leased, nil
}

// Get returns a job with its result, or store.ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (*store.Job, error) {
	return store.GetJob(ctx, q.eng.readConn(), id)
}

// Versions returns the versions of the jobs named in ids that exist, read
// together (see store.JobVersions).
func (q *Queue) Versions(ctx context.Context, ids []string) (map[string]store.JobVersion, error) {
	return store.JobVersions(ctx, q.eng.readConn(), ids)
}

// Cancel cancels a job that has not finished. It reports false when the job
// was already final.
func (q *Queue) Cancel(ctx context.Context, j *store.Job) (bool, error) {
	ok, err := q.eng.cancel(ctx, j, netcfg.StateCanceled, "canceled by request")
	if ok {
		q.watch.notify(j.ID)
		q.countFinal(j, netcfg.StateCanceled, metrics.ReasonCanceled)
	}
	return ok, err
}

// PoolStats reports the database connection pools: on PostgreSQL "main"
// (everything that must be durable at commit) and "lazy" (LazyConn); on
// SQLite "writer" (the one writer connection) and "read" (the readers).
func (q *Queue) PoolStats() []metrics.DBPool { return q.eng.poolStats() }

// Depth returns the number of jobs per non-final state, read now.
func (q *Queue) Depth(ctx context.Context) (map[netcfg.JobState]int64, error) {
	return store.CountByState(ctx, q.eng.readConn())
}

// CachedDepth is Depth read at most DepthTTL ago, with the jobs this
// process enqueued since counted in: for the queue limit, checked on every
// submission. It is approximate: a submission committed while the reading
// was taken, and counted in after it, is counted twice until the next
// reading.
func (q *Queue) CachedDepth(ctx context.Context) (map[netcfg.JobState]int64, error) {
	q.depthMu.Lock()
	defer q.depthMu.Unlock()
	now := time.Now()
	if q.depth != nil && now.Sub(q.depthAt) < q.cfg.DepthTTL {
		return maps.Clone(q.depth), nil
	}
	d, err := store.CountByState(ctx, q.eng.readConn())
	if err != nil {
		return nil, err
	}
	q.depth, q.depthAt = d, now
	// A copy: bumpDepth changes the cached map under the lock, callers
	// read theirs without it.
	return maps.Clone(d), nil
}

// bumpDepth counts a job this process just enqueued into the cached
// reading, so a burst of submissions between readings still meets the limit.
func (q *Queue) bumpDepth(n int64) {
	q.depthMu.Lock()
	if q.depth != nil {
		q.depth[netcfg.StateQueued] += n
	}
	q.depthMu.Unlock()
}

func (q *Queue) alert(alerts []store.BudgetAlert) {
	if q.cfg.OnBudgetAlert == nil {
		return
	}
	for _, a := range alerts {
		q.cfg.OnBudgetAlert(a)
	}
}

// Watch returns a channel that receives a value whenever this process
// changes job id's state, and a function to stop watching. The value is
// the job itself when this process just completed it (as GetJob would read
// it), else nil: read the job. Other processes' changes are not seen here;
// callers poll as well.
func (q *Queue) Watch(id string) (<-chan *store.Job, func()) { return q.watch.add(id) }

// countFinal counts job j's move to final state s for reason (one of
// metrics' Reason constants): in the metrics, and out of its department's
// cached backlog.
func (q *Queue) countFinal(j *store.Job, s netcfg.JobState, reason string) {
	if q.cfg.Metrics != nil {
		q.cfg.Metrics.JobsTotal.WithLabelValues(string(j.Kind), string(s), reason).Inc()
	}
	q.backlogMu.Lock()
	if r, ok := q.backlogs[j.Department]; ok && r.n > 0 {
		r.n--
		q.backlogs[j.Department] = r
	}
	q.backlogMu.Unlock()
}

// watchers fans out local job-change signals.
type watchers struct {
	mu   sync.Mutex
	byID map[string]map[chan *store.Job]struct{}
}

func newWatchers() *watchers { return &watchers{byID: map[string]map[chan *store.Job]struct{}{}} }

func (w *watchers) add(id string) (<-chan *store.Job, func()) {
	ch := make(chan *store.Job, 1)
	w.mu.Lock()
	if w.byID[id] == nil {
		w.byID[id] = map[chan *store.Job]struct{}{}
	}
	w.byID[id][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.byID[id], ch)
		if len(w.byID[id]) == 0 {
			delete(w.byID, id)
		}
		w.mu.Unlock()
	}
}

// notify signals job id's watchers that it changed.
func (w *watchers) notify(id string) { w.notifyFinal(id, nil) }

// notifyFinal signals job id's watchers, handing them final (nil: they
// read the job). A final job replaces a signal not yet taken; a plain
// signal never replaces one.
func (w *watchers) notifyFinal(id string, final *store.Job) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.byID[id] {
		select {
		case ch <- final:
			continue
		default:
		}
		if final == nil {
			continue
		}
		select { // full: take the pending signal out (unless the watcher just did)
		case <-ch:
		default:
		}
		ch <- final // the one sender, under w.mu: there is room now
	}
}
