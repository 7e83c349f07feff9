// Package queue is netsmith's durable job queue: River on the database
// store.Open returned (an embedded SQLite file or PostgreSQL), with
// netsmith's own job rows (package store) written in the same transactions
// as River's. The queue does not own the database: New takes it, Close
// leaves it open.
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
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/sync/singleflight"

	"netsmith/internal/jobstatus"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// WorkFunc runs one job outside any transaction and returns its result. The
// error's class decides what happens next: a *PermanentError fails the job at
// once; a *SnoozeError waits and tries again without counting an attempt; any
// other error retries with backoff until MaxAttempts.
type WorkFunc func(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error)

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

// AdmitFunc waits until this process lets one more job do its work. It
// returns the context the work runs in and a function that gives the place
// back, or an error when the job should come back later without spending
// an attempt.
type AdmitFunc func(ctx context.Context) (context.Context, func(), error)

// Tx is a transaction on the queue's database: the caller's own (InTx),
// or the one that stores a submission, as its PrepareFunc sees it.
// Statements on Conn and the rows inserted with InsertTx and EnqueueManyTx
// commit together or not at all.
type Tx struct {
	conn     store.Conn
	raw      any   // the driver's transaction: *sql.Tx or pgx.Tx
	queued   int64 // jobs EnqueueManyTx queued in it
	deferred []func(ctx context.Context, c store.Conn) error
}

// Conn is the transaction's connection.
func (t *Tx) Conn() store.Conn { return t.conn }

// Defer runs fn last in the transaction, after everything else it writes
// and just before its commit; its error rolls the transaction back. Writes
// to rows that every submission shares (a department's budget usage, a
// key's slots) go there: PostgreSQL holds a row's lock from its write to
// the commit, so the later the write, the shorter the others wait. Deferred
// writes run in the order they were deferred.
func (t *Tx) Defer(fn func(ctx context.Context, c store.Conn) error) {
	t.deferred = append(t.deferred, fn)
}

// runDeferred runs what was deferred, in order.
func (t *Tx) runDeferred(ctx context.Context) error {
	for _, fn := range t.deferred {
		if err := fn(ctx, t.conn); err != nil {
			return err
		}
	}
	return nil
}

// PrepareFunc runs inside the transaction that stores a submission, before
// its rows: the caller's own writes (budget holds, leases, jobs of its
// own, and what it defers with Tx.Defer) commit with the submission. It
// may run more than once for one submission (a failed group commit is
// retried submission by submission) and must start over each time; an
// error rolls the submission back.
type PrepareFunc func(ctx context.Context, tx *Tx) error

// Option adds the application's work to a Queue (New).
type Option func(*options)

type options struct {
	sweep   WorkFunc
	admit   AdmitFunc
	workers []Worker
}

// WithSweep serves a fleet batch's device jobs from their intent's cached
// template without a model call, or fails (see riverEngine.sweep): after a
// device job succeeds, its worker finishes the intent's other queued
// devices with sweep, many per transaction.
func WithSweep(sweep WorkFunc) Option { return func(o *options) { o.sweep = sweep } }

// WithAdmission bounds how many jobs do work at once in this process below
// Config.Workers: each job's work waits for admit first. Without it all
// Workers work at once.
func WithAdmission(admit AdmitFunc) Option { return func(o *options) { o.admit = admit } }

// WithWorker runs w's jobs beside netsmith's (see NewWorker).
func WithWorker(w Worker) Option { return func(o *options) { o.workers = append(o.workers, w) } }

// Worker is a River worker of the application with a River queue of its
// own, so that its jobs and netsmith's never starve each other of workers.
// Its jobs are inserted with Queue.InsertTx.
type Worker struct {
	queue      string
	maxWorkers int
	poll       time.Duration
	add        func(*river.Workers)
}

// NewWorker is w working queueName's jobs, at most maxWorkers at once in
// this process; that queue is polled every poll, or every
// Config.PollInterval when that is longer.
func NewWorker[T river.JobArgs](queueName string, maxWorkers int, poll time.Duration, w river.Worker[T]) Worker {
	return Worker{queue: queueName, maxWorkers: maxWorkers, poll: poll,
		add: func(ws *river.Workers) { river.AddWorker(ws, w) }}
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
	// DepthTTL is how long a queue-depth reading is reused.
	DepthTTL time.Duration
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// BeforeComplete, when set, runs before each try to commit a job's
	// result and fails that try with its error: fault tests break the
	// completion with it.
	BeforeComplete func(ctx context.Context, jobID string) error

	// StatusCache bounds the final jobs Status keeps, in bytes:
	// jobstatus.DefaultMaxBytes when zero, none when negative.
	StatusCache int64
	// StatusPoll is how often Status's change feed reads the versions of
	// the unfinished jobs it keeps when it cannot listen (SQLite,
	// PgBouncer, a lost listener), and how long its listener connection
	// may stay quiet before it is pinged: how stale a status can be. One
	// second when zero.
	StatusPoll time.Duration
	// StatusRetry is how long Status's change feed polls after its
	// listener connection was lost before it listens again: 5 s when
	// zero.
	StatusRetry time.Duration

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
	// enqueue inserts j and its River row in one transaction, after
	// prepare; backlog is its department's unfinished jobs, for its
	// priority.
	enqueue(ctx context.Context, j *netcfg.Job, backlog int64, prepare PrepareFunc) (existing *netcfg.Job, err error)
	// inTxConn runs fn in one transaction: raw is the driver's, c its
	// connection.
	inTxConn(ctx context.Context, fn func(raw any, c store.Conn) error) error
	// enqueueManyTx inserts jobs and their River rows in raw, a fleet
	// batch's: backlog is its department's, for their priorities.
	enqueueManyTx(ctx context.Context, raw any, c store.Conn, jobs []*netcfg.Job, backlog int64) error
	// insertTx inserts a River row in tx, a transaction of the driver.
	insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) error
	// cancel cancels the River row and marks j canceled, in one transaction.
	cancel(ctx context.Context, j *netcfg.Job, state netcfg.JobState, reason string) (bool, error)
	markRunning(ctx context.Context, marks []runMark) error
	id() string
	start(ctx context.Context) error
	stop(ctx context.Context) error
	close()
}

// Queue is the job queue.
type Queue struct {
	cfg    Config
	opts   options
	db     *store.DB
	eng    engine
	watch  *watchers
	marks  *runMarks
	sweeps *sweeping
	beats  heartbeats
	// answers are paid results whose completion failed (see answers.go).
	answers answers

	depthMu sync.Mutex
	depthAt time.Time
	depth   map[netcfg.JobState]int64

	backlogMu sync.Mutex
	backlogs  map[string]backlogReading

	// flight shares the reads of depth and backlogs between callers.
	flight singleflight.Group

	// status remembers jobs for Status, told of changes by feed, which
	// runs from the first Status call until Close (life).
	status     *jobstatus.Cache
	feed       *jobstatus.Feed
	statusUsed atomic.Bool
	feedOnce   sync.Once
	feedDone   chan struct{}
	life       context.Context
	endLife    context.CancelFunc
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
// the bottleneck) at most DepthTTL ago, and counts the n in. No lock is
// held across the read: callers that find the reading stale share one
// read (singleflight) and wait for it.
func (q *Queue) backlog(ctx context.Context, department string, n int) (int64, error) {
	q.backlogMu.Lock()
	if r, ok := q.backlogs[department]; ok && time.Since(r.at) < q.cfg.DepthTTL {
		return q.countBacklog(department, n), nil
	}
	q.backlogMu.Unlock()
	ch := q.flight.DoChan("backlog\x00"+department, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		v, err := store.Backlog(rctx, q.db.ReadConn(), department, fairDepth)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		q.backlogMu.Lock()
		defer q.backlogMu.Unlock()
		if len(q.backlogs) > 1000 { // departments are few; drop stale ones
			for d, old := range q.backlogs {
				if now.Sub(old.at) >= q.cfg.DepthTTL {
					delete(q.backlogs, d)
				}
			}
		}
		q.backlogs[department] = backlogReading{n: v, at: now}
		return nil, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return 0, res.Err
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	q.backlogMu.Lock()
	return q.countBacklog(department, n), nil
}

// countBacklog counts n new jobs into department's reading and returns
// the backlog before them. It is called with backlogMu held, and unlocks
// it.
func (q *Queue) countBacklog(department string, n int) int64 {
	defer q.backlogMu.Unlock()
	r := q.backlogs[department]
	before := r.n
	r.n += int64(n)
	if r.at.IsZero() { // dropped while the caller waited: count from now
		r.at = time.Now()
	}
	q.backlogs[department] = r
	return before
}

// New returns the queue on db, which must be migrated (store.DB.Migrate)
// before Start or the first insert. db stays the caller's: Close does not
// close it.
func New(db *store.DB, cfg Config, opts ...Option) (*Queue, error) {
	cfg.setDefaults()
	q := &Queue{cfg: cfg, db: db, watch: newWatchers(), backlogs: map[string]backlogReading{}}
	q.life, q.endLife = context.WithCancel(context.Background())
	q.newStatus()
	q.marks = newRunMarks(q)
	q.sweeps = newSweeping()
	for _, o := range opts {
		o(&q.opts)
	}
	eng, err := newEngine(q, db)
	if err != nil {
		return nil, err
	}
	q.eng = eng
	return q, nil
}

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

// Close ends the queue's own goroutines (the heartbeat of a queue never
// stopped too); the database stays open.
func (q *Queue) Close() {
	q.beats.stop()
	q.stopFeed()
	q.eng.close()
}

// ErrQueueFull is returned by Enqueue when the queue is deeper than allowed.
var ErrQueueFull = errors.New("queue is full")

// Enqueue stores j as queued and puts it on the queue, in one transaction
// that runs prepare (when not nil) first. Submissions that arrive together
// share that transaction (group commit), each keeping its own outcome.
// When j's idempotency key was used before, it returns the earlier job and
// duplicate=true (or netcfg.ErrConflict if the request differs), and
// nothing of prepare's is kept.
func (q *Queue) Enqueue(ctx context.Context, j *netcfg.Job, prepare PrepareFunc) (got *netcfg.Job, duplicate bool, err error) {
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
	ticket := q.status.Ticket()
	existing, err := q.eng.enqueue(ctx, j, backlog, prepare)
	if existing != nil {
		return existing, true, err
	}
	if err != nil {
		return nil, false, err
	}
	j.State = netcfg.StateQueued
	j.UpdatedAt = j.CreatedAt
	q.bumpDepth(1)
	q.remember(ticket, j)
	return j, false, nil
}

// InTx runs fn in one transaction on the queue's database and commits it
// when fn returns nil; otherwise nothing of it is kept. The caller owns the
// transaction, as with River's InsertTx: its own statements on tx.Conn()
// and what it queues with EnqueueManyTx and InsertTx commit together.
func (q *Queue) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	tx := &Tx{}
	err := q.eng.inTxConn(ctx, func(raw any, c store.Conn) error {
		*tx = Tx{conn: c, raw: raw}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.runDeferred(ctx)
	})
	if err == nil {
		q.bumpDepth(tx.queued)
	}
	return err
}

// EnqueueManyTx stores jobs as queued and puts them on the queue in tx, a
// transaction of InTx: the jobs of one fleet batch (BatchID set), of one
// department, queued behind that department's backlog and never at the
// priority of single requests.
func (q *Queue) EnqueueManyTx(ctx context.Context, tx *Tx, jobs []*netcfg.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	now := q.cfg.Clock()
	for _, j := range jobs {
		if j.MaxAttempts == 0 {
			j.MaxAttempts = q.cfg.MaxAttempts
		}
		if j.CreatedAt.IsZero() {
			j.CreatedAt = now
		}
		j.State, j.UpdatedAt = netcfg.StateQueued, j.CreatedAt
	}
	backlog, err := q.backlog(ctx, jobs[0].Department, len(jobs))
	if err != nil {
		return err
	}
	if err := q.eng.enqueueManyTx(ctx, tx.raw, tx.conn, jobs, backlog); err != nil {
		return err
	}
	tx.queued += int64(len(jobs))
	return nil
}

// EnqueueBatch stores a batch and all its jobs, queued, in one transaction
// that runs prepare (when not nil) after the batch's row: either every
// device is queued or none is.
func (q *Queue) EnqueueBatch(ctx context.Context, b *netcfg.Batch, jobs []*netcfg.Job, prepare PrepareFunc) error {
	if b.CreatedAt.IsZero() {
		b.CreatedAt = q.cfg.Clock()
	}
	for _, j := range jobs {
		j.BatchID = b.ID
		if j.CreatedAt.IsZero() {
			j.CreatedAt = b.CreatedAt
		}
	}
	return q.InTx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := store.InsertBatch(ctx, tx.Conn(), b); err != nil {
			return err
		}
		if prepare != nil {
			if err := prepare(ctx, tx); err != nil {
				return err
			}
		}
		return q.EnqueueManyTx(ctx, tx, jobs)
	})
}

// InsertTx inserts a job of the application's own River workers (see
// NewWorker) in tx (InTx's, or a submission's PrepareFunc's).
func (q *Queue) InsertTx(ctx context.Context, tx *Tx, args river.JobArgs, opts *river.InsertOpts) error {
	return q.eng.insertTx(ctx, tx.raw, args, opts)
}

// Get returns a job with its result, or netcfg.ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (*netcfg.Job, error) {
	return store.GetJob(ctx, q.db.ReadConn(), id)
}

// Versions returns the versions of the jobs named in ids that exist, read
// together (see store.JobVersions).
func (q *Queue) Versions(ctx context.Context, ids []string) (map[string]netcfg.JobVersion, error) {
	return store.JobVersions(ctx, q.db.ReadConn(), ids)
}

// Cancel cancels a job that has not finished. It reports false when the job
// was already final.
func (q *Queue) Cancel(ctx context.Context, j *netcfg.Job) (bool, error) {
	ok, err := q.eng.cancel(ctx, j, netcfg.StateCanceled, "canceled by request")
	if ok {
		q.watch.notify(j.ID)
		q.countFinal(j, netcfg.StateCanceled, metrics.ReasonCanceled)
	}
	return ok, err
}

// Depth returns the number of jobs per non-final state, read now.
func (q *Queue) Depth(ctx context.Context) (map[netcfg.JobState]int64, error) {
	return store.CountByState(ctx, q.db.ReadConn())
}

// CachedDepth is Depth read at most DepthTTL ago, with the jobs this
// process enqueued since counted in: for the queue limit, checked on every
// submission. It is approximate: a submission committed while the reading
// was taken, and counted in after it, is counted twice until the next
// reading. No lock is held across the read: callers that find the reading
// stale share one read (singleflight) and wait for it.
func (q *Queue) CachedDepth(ctx context.Context) (map[netcfg.JobState]int64, error) {
	q.depthMu.Lock()
	var last map[netcfg.JobState]int64
	if q.depth != nil {
		// A copy: bumpDepth changes the cached map under the lock,
		// callers read theirs without it.
		last = maps.Clone(q.depth)
	}
	fresh := last != nil && time.Since(q.depthAt) < q.cfg.DepthTTL
	q.depthMu.Unlock()
	if fresh {
		return last, nil
	}
	ch := q.flight.DoChan("depth", func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		d, err := store.CountByState(rctx, q.db.ReadConn())
		if err != nil {
			return nil, err
		}
		q.depthMu.Lock()
		q.depth, q.depthAt = d, time.Now()
		q.depthMu.Unlock()
		return nil, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	q.depthMu.Lock()
	defer q.depthMu.Unlock()
	return maps.Clone(q.depth), nil
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

// Watch returns a channel that receives a value whenever this process
// changes job id's state, and a function to stop watching. The value is
// the job itself when this process just completed it (as GetJob would read
// it), else nil: read the job. Other processes' changes arrive here only
// while Announced; callers poll otherwise.
func (q *Queue) Watch(id string) (<-chan *netcfg.Job, func()) {
	q.useStatus()
	return q.watch.add(id)
}

// countFinal counts job j's move to final state s for reason (one of
// metrics' Reason constants): in the metrics, and out of its department's
// cached backlog.
func (q *Queue) countFinal(j *netcfg.Job, s netcfg.JobState, reason string) {
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
	byID map[string]map[chan *netcfg.Job]struct{}
	// all, when set, is told of every change first (Status's cache).
	all func(id string, final *netcfg.Job)
}

func newWatchers() *watchers { return &watchers{byID: map[string]map[chan *netcfg.Job]struct{}{}} }

func (w *watchers) add(id string) (<-chan *netcfg.Job, func()) {
	ch := make(chan *netcfg.Job, 1)
	w.mu.Lock()
	if w.byID[id] == nil {
		w.byID[id] = map[chan *netcfg.Job]struct{}{}
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
func (w *watchers) notifyFinal(id string, final *netcfg.Job) {
	if w.all != nil {
		w.all(id, final)
	}
	w.signal(id, final)
}

// wake signals job id's watchers that another process changed it (the
// status feed's announcement, which has told the status cache already).
func (w *watchers) wake(id string) { w.signal(id, nil) }

func (w *watchers) signal(id string, final *netcfg.Job) {
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
