package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"netsmith/internal/groupcommit"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// jobArgs is the River payload of a netsmith job: only our row's id. The
// request itself lives in netsmith_job.
type jobArgs struct {
	JobID string `json:"job_id"`
}

func (jobArgs) Kind() string { return "netsmith_job" }

// maintainArgs is the periodic leader job that expires overdue jobs and
// reconciles orphans.
type maintainArgs struct{}

func (maintainArgs) Kind() string { return "netsmith_maintain" }

// maintainQueue holds the maintenance jobs, worked by one worker of its
// own. In the jobs' queue each took a job worker's slot ahead of every
// waiting job, and a starved process that ran one slower than
// MaintainInterval queued them faster than it ran them: with one worker
// (Workers 1), maintenance alone kept it busy and no job started.
const maintainQueue = "netsmith_maintain"

// riverEngine is the engine for one River driver.
type riverEngine[TDriver riverdriver.Driver[TTx], TTx any] struct {
	q        *Queue
	db       *store.DB
	client   *river.Client[TTx]
	begin    func(ctx context.Context) (TTx, error)
	commit   func(ctx context.Context, tx TTx) error
	rollback func(ctx context.Context, tx TTx) error
	wrap     func(tx TTx) store.Conn
	// committers is how many groups of completions, and of single
	// submissions, are committed at once at most (store.DB.WriteGroups):
	// 1 on SQLite's one writer; more on PostgreSQL, where a group's statements are round
	// trips and one connection at a time would bound the submission
	// latency (bench s6-submit.sh) and the throughput (bench
	// s1-machinery.sh) under a burst. Beyond the first, they commit only
	// while extraAt writes wait (groupcommit.ExtraAt): at a steady rate one
	// committer's larger groups cost PostgreSQL less CPU than several small
	// ones, and on a machine it shares that CPU is the submissions' latency
	// (bench s8-legacy-poll.sh).
	committers int

	// submits commits single submissions in groups, committers groups at a
	// time. A group is what arrived while the committer was busy, with no
	// waiting, so a submission alone commits at once; under load one
	// commit, and one River insert, serves many.
	submits     *groupcommit.Committer[*submission]
	completions *groupcommit.Committer[*completion] // group commit of completions, while workers run
	// reads reads the rows of the jobs River hands the workers together,
	// in one query per group, as submits writes them.
	reads   *groupcommit.Committer[*jobRead]
	started bool
}

func newRiverEngine[TDriver riverdriver.Driver[TTx], TTx any](q *Queue, driver TDriver, e *riverEngine[TDriver, TTx]) (*riverEngine[TDriver, TTx], error) {
	cfg := &q.cfg
	e.q, e.db = q, q.db
	e.committers = q.db.WriteGroups()
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobWorker[TDriver, TTx]{e: e})
	river.AddWorker(workers, &maintainWorker[TDriver, TTx]{e: e})
	for _, w := range q.opts.workers {
		w.add(workers)
	}
	rc := &river.Config{
		ID:                   newClientID(),
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		MaxAttempts:          cfg.MaxAttempts,
		RetryPolicy:          &backoff{base: cfg.RetryBase, max: cfg.RetryMax},
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 20*time.Millisecond),
		Workers:              workers,
		Logger:               cfg.Logger.With("component", "river"),
		// Our table is the record; River's finished rows are only kept a day.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		PollOnly:                    e.db.PgBouncer(),
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}, maintainQueue: {MaxWorkers: 1}}
		for _, w := range q.opts.workers {
			rc.Queues[w.queue] = river.QueueConfig{MaxWorkers: max(1, w.maxWorkers), FetchPollInterval: max(cfg.PollInterval, w.poll)}
		}
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(cfg.MaintainInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return maintainArgs{}, &river.InsertOpts{MaxAttempts: 1, Queue: maintainQueue}
			},
			&river.PeriodicJobOpts{RunOnStart: true, ID: "netsmith_maintain"},
		)}
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	e.client = client
	e.submits = groupcommit.New(e.committers, submitGroupMax, 0, e.insertGroup, groupcommit.ExtraAt(extraAt))
	return e, nil
}

func (e *riverEngine[TDriver, TTx]) inTx(ctx context.Context, fn func(tx TTx) error) error {
	tx, err := e.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = e.rollback(ctx, tx)
		return err
	}
	if err := e.commit(ctx, tx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// submission is one job being stored, and what storing it found.
type submission struct {
	j        *netcfg.Job
	backlog  int64
	prepare  PrepareFunc
	existing *netcfg.Job
}

// submitGroupMax bounds the submissions committed in one transaction.
const submitGroupMax = 64

// enqueue stores j, the writes of the caller's prepare and its River row
// in one transaction, shared with the submissions that arrive while the
// previous group commits (see groupcommit.Committer).
func (e *riverEngine[TDriver, TTx]) enqueue(ctx context.Context, j *netcfg.Job, backlog int64, prepare PrepareFunc) (*netcfg.Job, error) {
	sub := &submission{j: j, backlog: backlog, prepare: prepare}
	var err error
	err = e.submits.Do(ctx, sub)
	var dup errDuplicate
	if errors.As(err, &dup) {
		return sub.existing, dup.err
	}
	return nil, err
}

// insertGroup stores submissions in one transaction. Any error fails them
// all (the group committer then stores each on its own). On PostgreSQL
// several groups commit at once: each takes the rows they may share (a
// department's budget usage, a key's slots, an idempotency key) in one
// order, so that two groups never wait on each other in a cycle.
func (e *riverEngine[TDriver, TTx]) insertGroup(ctx context.Context, subs []*submission) error {
	slices.SortStableFunc(subs, func(a, b *submission) int {
		return cmp.Or(strings.Compare(a.j.Department, b.j.Department),
			strings.Compare(a.j.KeyID, b.j.KeyID),
			strings.Compare(a.j.IdempotencyKey, b.j.IdempotencyKey))
	})
	return e.inTx(ctx, func(tx TTx) error { return e.insertMany(ctx, tx, subs) })
}

// insertMany stores submissions in tx: each one's prepare, then all their
// River rows in one statement, then our rows (which name the River rows),
// then what the prepares deferred (Tx.Defer).
// A duplicate idempotency key returns errDuplicate carrying the earlier
// job; the caller rolls back.
func (e *riverEngine[TDriver, TTx]) insertMany(ctx context.Context, tx TTx, subs []*submission) error {
	c := e.wrap(tx)
	// One Tx for the group's prepares: they read each budget once
	// (store.SharedTx), and what they defer runs after all the rows.
	gtx := &Tx{conn: store.SharedTx(c), raw: tx}
	params := make([]river.InsertManyParams, len(subs))
	for i, sub := range subs {
		j := sub.j
		sub.existing = nil // a retry after a failed group starts over
		// The caller's writes first (a budget hold decides the job's
		// reservation). A duplicate rolls them back with everything else.
		if sub.prepare != nil {
			if err := sub.prepare(ctx, gtx); err != nil {
				return err
			}
		}
		params[i] = river.InsertManyParams{Args: jobArgs{JobID: j.ID},
			InsertOpts: &river.InsertOpts{MaxAttempts: j.MaxAttempts, Priority: fairPriority(sub.backlog, false)}}
	}
	res, err := e.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("insert queue rows: %w", err)
	}
	// Rows without an idempotency key cannot conflict: they go in
	// multi-row INSERTs. The others may find an earlier job, one by one.
	plain := make([]*netcfg.Job, 0, len(subs))
	for i, sub := range subs {
		sub.j.RiverJobID = res[i].Job.ID
		if sub.j.IdempotencyKey == "" {
			plain = append(plain, sub.j)
		}
	}
	if err := store.InsertJobs(ctx, c, plain); err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.j.IdempotencyKey == "" {
			continue
		}
		prev, err := store.InsertJob(ctx, c, sub.j)
		if prev != nil || err != nil {
			sub.existing = prev
			return errDuplicate{err}
		}
	}
	return gtx.runDeferred(ctx)
}

// fairPriority is the River priority (1 first, 4 last) of a department's
// job that has backlog of its department's jobs unfinished ahead of it; bulk
// is true for a fleet batch's jobs. River claims by priority, then age, so
// a department's first single jobs go first and the deeper its backlog, the
// further back its new jobs go: one department's 10,000-device batch cannot
// starve another's single request. A batch never takes the top priority,
// which is for single requests.
func fairPriority(backlog int64, bulk bool) int {
	p := 4
	switch {
	case backlog < 32:
		p = 1
	case backlog < 512:
		p = 2
	case backlog < fairDepth:
		p = 3
	}
	if bulk {
		p = max(p, 2)
	}
	return p
}

// fairDepth is the deepest backlog fairPriority tells apart.
const fairDepth = 2048

// riverInsertChunk bounds one River InsertManyTx call.
const riverInsertChunk = 1000

func (e *riverEngine[TDriver, TTx]) inTxConn(ctx context.Context, fn func(raw any, c store.Conn) error) error {
	return e.inTx(ctx, func(tx TTx) error { return fn(tx, e.wrap(tx)) })
}

func (e *riverEngine[TDriver, TTx]) enqueueManyTx(ctx context.Context, raw any, c store.Conn, jobs []*netcfg.Job, backlog int64) error {
	tx := raw.(TTx)
	for start := 0; start < len(jobs); start += riverInsertChunk {
		chunk := jobs[start:min(start+riverInsertChunk, len(jobs))]
		params := make([]river.InsertManyParams, len(chunk))
		for i, j := range chunk {
			params[i] = river.InsertManyParams{Args: jobArgs{JobID: j.ID}, InsertOpts: &river.InsertOpts{
				MaxAttempts: j.MaxAttempts, Priority: fairPriority(backlog+int64(start+i), true)}}
		}
		res, err := e.client.InsertManyTx(ctx, tx, params)
		if err != nil {
			return fmt.Errorf("insert queue rows: %w", err)
		}
		for i, r := range res {
			chunk[i].RiverJobID = r.Job.ID
		}
	}
	return store.InsertJobs(ctx, c, jobs)
}

func (e *riverEngine[TDriver, TTx]) insertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := e.client.InsertTx(ctx, tx.(TTx), args, opts); err != nil {
		return fmt.Errorf("insert %s queue row: %w", args.Kind(), err)
	}
	return nil
}

// errDuplicate rolls back an enqueue that found an existing job.
type errDuplicate struct{ err error }

func (e errDuplicate) Error() string { return "duplicate" }

func (e *riverEngine[TDriver, TTx]) cancel(ctx context.Context, j *netcfg.Job, state netcfg.JobState, reason string) (bool, error) {
	var changed bool
	err := e.inTx(ctx, func(tx TTx) error {
		ok, err := store.MarkState(ctx, e.wrap(tx), j.ID, state, reason, 0, time.Time{}, e.q.cfg.Clock())
		if err != nil || !ok {
			return err
		}
		changed = true
		if j.RiverJobID == 0 {
			return nil
		}
		if _, err := e.client.JobCancelTx(ctx, tx, j.RiverJobID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("cancel queue row %d: %w", j.RiverJobID, err)
		}
		return nil
	})
	return changed, err
}

// markRunning writes a batch of "running" marks in one transaction.
func (e *riverEngine[TDriver, TTx]) markRunning(ctx context.Context, marks []runMark) error {
	// Rows are locked in id order, as the group committer locks them, so
	// the two never deadlock on PostgreSQL.
	slices.SortFunc(marks, func(a, b runMark) int { return strings.Compare(a.id, b.id) })
	return e.inTx(ctx, func(tx TTx) error {
		c := e.wrap(tx)
		for _, m := range marks {
			if _, err := store.MarkRunning(ctx, c, m.id, m.attempt, m.at); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *riverEngine[TDriver, TTx]) start(ctx context.Context) error {
	if e.q.cfg.Workers == 0 {
		return nil // insert-only: River has nothing to run here
	}
	e.completions = groupcommit.New(e.committers, groupMax, groupWait, e.commitGroup, groupcommit.ExtraAt(extraAt))
	e.reads = groupcommit.New(max(2, e.committers), groupMax, 0, e.readGroup)
	if err := e.client.Start(ctx); err != nil {
		e.completions.Close()
		e.reads.Close()
		return fmt.Errorf("start river: %w", err)
	}
	e.started = true
	return nil
}

func (e *riverEngine[TDriver, TTx]) stop(ctx context.Context) error {
	if !e.started {
		return nil
	}
	// Every worker has returned once River has stopped: then the group
	// committers can end.
	defer e.reads.Close()
	defer e.completions.Close()
	err := e.client.Stop(ctx)
	if err == nil {
		return nil
	}
	// Soft stop ran out: cancel the jobs still running; River records them
	// as retryable, so they run again elsewhere or after restart.
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(err, e.client.StopAndCancel(hard))
}

func (e *riverEngine[TDriver, TTx]) close() { e.submits.Close() }

// jobWorker runs netsmith jobs for River.
type jobWorker[TDriver riverdriver.Driver[TTx], TTx any] struct {
	river.WorkerDefaults[jobArgs]
	e *riverEngine[TDriver, TTx]
}

func (w *jobWorker[TDriver, TTx]) Timeout(*river.Job[jobArgs]) time.Duration {
	return w.e.q.cfg.JobTimeout
}

func (w *jobWorker[TDriver, TTx]) Work(ctx context.Context, rj *river.Job[jobArgs]) error {
	e, q := w.e, w.e.q
	cfg := &q.cfg
	m := cfg.Metrics
	t := time.Now()
	// phase observes the time since t as phase p, and starts the next.
	phase := func(p string) {
		now := time.Now()
		if m != nil {
			m.JobPhase.WithLabelValues(p).Observe(max(0, now.Sub(t)).Seconds())
		}
		t = now
	}
	if m != nil {
		// Available since ScheduledAt (insert, snooze or retry), by the
		// database's clock: a skewed one reads as 0.
		m.JobPhase.WithLabelValues("queued").Observe(max(0, t.Sub(rj.ScheduledAt)).Seconds())
	}
	// River hands out jobs up to Workers; admission may let fewer work
	// at once (while the API is slow, say). A job still waiting when its
	// attempt ends comes back later without spending the attempt.
	if admit := q.opts.admit; admit != nil {
		actx, leave, err := admit(ctx)
		if err != nil {
			return river.JobSnooze(time.Second)
		}
		defer leave()
		ctx = actx
		phase("gate")
	}
	j, err := e.readJob(ctx, rj.Args.JobID)
	phase("read")
	if errors.Is(err, netcfg.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("job %s has no row", rj.Args.JobID))
	}
	if err != nil {
		return err
	}
	if j.State.Final() {
		return river.JobCancel(fmt.Errorf("job %s is already %s", j.ID, j.State))
	}
	now := cfg.Clock()
	if !j.ExpiresAt.IsZero() && j.StartedAt.IsZero() && now.After(j.ExpiresAt) {
		q.finish(ctx, j, netcfg.StateExpired, metrics.ReasonExpired, "expired: not started before "+j.ExpiresAt.Format(time.RFC3339))
		return river.JobCancel(errors.New("expired before start"))
	}
	// The "running" mark is written in batches, off the job's path, and
	// only for a job still running markDelay later (see runMarks): on
	// SQLite every write waits for the one writer. The completion below
	// records the attempt too, so a mark that lands late changes nothing.
	q.marks.add(runMark{id: j.ID, attempt: rj.Attempt, at: now})
	j.Attempts, j.State = rj.Attempt, netcfg.StateRunning
	if j.StartedAt.IsZero() {
		j.StartedAt = now
	}

	if m != nil {
		m.WorkersBusy.Inc()
		defer m.WorkersBusy.Dec()
	}
	started := time.Now()
	res, kept := q.answers.take(j.ID)
	var werr error
	if !kept {
		res, werr = cfg.Work(ctx, j)
	}
	// Whatever follows records the attempt: a mark not yet written is moot.
	q.marks.drop(j.ID)
	if werr == nil {
		if res.Duration == 0 {
			res.Duration = time.Since(started)
		}
		// Record the result even if the job's context ended meanwhile.
		dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		c := &completion{j: j, rj: rj, res: res}
		t = time.Now()
		if err := e.completePaid(dbctx, c); err != nil {
			q.answers.keep(j.ID, res)
			return fmt.Errorf("complete job %s: %w", j.ID, err)
		}
		phase("complete")
		q.watch.notifyFinal(j.ID, c.final)
		q.countFinal(j, netcfg.StateSucceeded, metrics.ReasonNone)
		if m != nil {
			m.JobDuration.WithLabelValues(string(j.Kind)).Observe(time.Since(j.CreatedAt).Seconds())
		}
		e.sweep(ctx, j)
		return nil
	}

	var perm *PermanentError
	var snooze *SnoozeError
	switch {
	case errors.As(werr, &perm):
		q.finish(ctx, j, netcfg.StateFailed, failureReason(werr), werr.Error())
		return river.JobCancel(werr)
	case errors.As(werr, &snooze):
		q.mark(ctx, j, netcfg.StateRetrying, werr.Error())
		return river.JobSnooze(snooze.After)
	case rj.Attempt >= rj.MaxAttempts:
		q.finish(ctx, j, netcfg.StateFailed, failureReason(werr), fmt.Sprintf("gave up after %d attempts: %v", rj.Attempt, werr))
		// River logs the error, the one log of it: with netsmith's job
		// id in its text, as River's own id is not netsmith's.
		return fmt.Errorf("job %s: %w", j.ID, werr)
	default:
		q.mark(ctx, j, netcfg.StateRetrying, werr.Error())
		return fmt.Errorf("job %s: %w", j.ID, werr)
	}
}

// jobRead is a worker's read of its job's row.
type jobRead struct {
	id string
	j  *netcfg.Job // nil: no such row
}

// readJob returns job id's row, or netcfg.ErrNotFound, read together with
// the rows other workers ask for at the same time: a group of jobs River
// fetched together costs one query, not one each.
func (e *riverEngine[TDriver, TTx]) readJob(ctx context.Context, id string) (*netcfg.Job, error) {
	r := &jobRead{id: id}
	if err := e.reads.Do(ctx, r); err != nil {
		return nil, err
	}
	if r.j == nil {
		return nil, fmt.Errorf("job %s: %w", id, netcfg.ErrNotFound)
	}
	return r.j, nil
}

func (e *riverEngine[TDriver, TTx]) readGroup(ctx context.Context, group []*jobRead) error {
	ids := make([]string, len(group))
	for i, r := range group {
		ids[i] = r.id
	}
	js, err := store.GetJobs(ctx, e.db.ReadConn(), ids)
	if err != nil {
		return err
	}
	byID := make(map[string]*netcfg.Job, len(js))
	for _, j := range js {
		byID[j.ID] = j
	}
	for _, r := range group {
		r.j = byID[r.id] // the same id twice gets one row each time
		if r.j != nil {
			byID[r.id] = copyJob(r.j)
		}
	}
	return nil
}

// copyJob is a copy of j that its worker may change alone.
func copyJob(j *netcfg.Job) *netcfg.Job {
	c := *j
	return &c
}

// mark records a non-final state change made by a worker.
func (q *Queue) mark(ctx context.Context, j *netcfg.Job, s netcfg.JobState, msg string) {
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := store.MarkState(dbctx, q.db.Conn(), j.ID, s, msg, j.Attempts, j.StartedAt, q.cfg.Clock())
	if err != nil {
		q.cfg.Logger.WarnContext(ctx, "record job state", "job_id", j.ID, "state", s, slog.Any("error", err))
		return
	}
	if ok {
		q.watch.notify(j.ID)
	}
}

// finish records a final state change made by a worker and counts it
// with reason.
func (q *Queue) finish(ctx context.Context, j *netcfg.Job, s netcfg.JobState, reason, msg string) {
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := store.MarkState(dbctx, q.db.Conn(), j.ID, s, msg, j.Attempts, j.StartedAt, q.cfg.Clock())
	if err != nil {
		q.cfg.Logger.WarnContext(ctx, "record job state", "job_id", j.ID, "state", s, slog.Any("error", err))
		return
	}
	if ok {
		q.watch.notify(j.ID)
		q.countFinal(j, s, reason)
	}
}

// completion is a job's result waiting to be committed.
type completion struct {
	j   *netcfg.Job
	rj  *river.Job[jobArgs]
	res *netcfg.Result
	// final is the job as committed (store.Completed), set when this
	// completion made it succeed; nil if it was final already.
	final *netcfg.Job
}

// groupMax and groupWait bound a group commit: completions that arrive
// within groupWait of each other share one transaction, up to groupMax.
const (
	groupMax  = 64
	groupWait = 2 * time.Millisecond
	// extraAt is how many submissions, or completions, must wait for a
	// second group to be committed beside the first: by then the groups
	// hold enough to pay for their transactions.
	extraAt = 8
)

// complete commits c's result, its ledger rows and its final state in one
// transaction. Concurrent completions are committed together (group
// commit): each keeps the guarantee (all of it commits or none), and the
// database sees one commit instead of many, which on SQLite's single
// writer is most of a job's cost.
//
// The job's River row is completed after Work returns, by River's own
// completer, which batches many jobs in one statement. Our row is the
// record: if the process dies between the two, River rescues the job
// after RescueAfter and Work, finding our row final, cancels it without
// running it again. Completing River's rows inside this transaction
// instead (river.JobCompleteTx, or one JobSetStateIfRunningMany per group)
// cost PostgreSQL more CPU than every other statement of a job together
// (BENCHMARKS.md, scenario 1), and River's completer updated the rows once
// more anyway. On PostgreSQL River's completer, like its fetches, commits
// on the lazy pool without waiting for the WAL flush (store.DB.RiverPool):
// per job, only this transaction and the submission's wait for one.
func (e *riverEngine[TDriver, TTx]) complete(ctx context.Context, c *completion) error {
	if hook := e.q.cfg.BeforeComplete; hook != nil {
		if err := hook(ctx, c.j.ID); err != nil {
			return err
		}
	}
	if e.completions == nil {
		return e.commitGroup(ctx, []*completion{c})
	}
	return e.completions.Do(ctx, c)
}

func (e *riverEngine[TDriver, TTx]) commitGroup(ctx context.Context, group []*completion) error {
	now := e.q.cfg.Clock()
	// Our rows in id order (see markRunning); a copy, since the group
	// committer answers in its order.
	cs := make([]store.Completion, len(group))
	for i, c := range group {
		cs[i] = store.Completion{ID: c.j.ID, Attempt: c.rj.Attempt, Started: c.j.StartedAt, Result: c.res}
	}
	slices.SortFunc(cs, func(a, b store.Completion) int { return strings.Compare(a.ID, b.ID) })
	var done []bool
	err := e.inTx(ctx, func(tx TTx) (err error) {
		done, err = store.CompleteMany(ctx, e.wrap(tx), cs, now)
		return err
	})
	if err != nil {
		return err
	}
	byID := make(map[string]*completion, len(group))
	for _, c := range group {
		byID[c.j.ID] = c
	}
	for k, ok := range done {
		if c := byID[cs[k].ID]; ok && c != nil {
			c.final = store.Completed(c.j, cs[k], now)
		}
	}
	return nil
}

// maintainWorker expires overdue jobs and reconciles orphans, on the leader.
type maintainWorker[TDriver riverdriver.Driver[TTx], TTx any] struct {
	river.WorkerDefaults[maintainArgs]
	e *riverEngine[TDriver, TTx]
}

func (w *maintainWorker[TDriver, TTx]) Work(ctx context.Context, _ *river.Job[maintainArgs]) error {
	e, q := w.e, w.e.q
	now := q.cfg.Clock()
	overdue, err := store.Overdue(ctx, e.db.ReadConn(), now, 1000)
	if err != nil {
		return err
	}
	for _, j := range overdue {
		ok, err := e.cancel(ctx, j, netcfg.StateExpired, "expired: not started before "+j.ExpiresAt.Format(time.RFC3339))
		if err != nil {
			return err
		}
		if ok {
			q.watch.notify(j.ID)
			q.countFinal(j, netcfg.StateExpired, metrics.ReasonExpired)
		}
	}
	orphans, err := store.Orphans(ctx, e.db.ReadConn(), now.Add(-q.cfg.MaintainInterval), 1000)
	if err != nil {
		return err
	}
	for _, j := range orphans {
		state, reason, msg := netcfg.StateFailed, metrics.ReasonInternal, "the queue lost this job"
		rj, err := e.client.JobGet(ctx, j.RiverJobID)
		switch {
		case errors.Is(err, river.ErrNotFound):
		case err != nil:
			return err
		case rj.State == rivertype.JobStateCancelled:
			state, reason, msg = netcfg.StateCanceled, metrics.ReasonCanceled, "canceled"
		case rj.State == rivertype.JobStateDiscarded:
			msg = fmt.Sprintf("gave up after %d attempts", rj.Attempt)
			if n := len(rj.Errors); n > 0 {
				msg += ": " + rj.Errors[n-1].Error
			}
		case rj.State == rivertype.JobStateCompleted:
			msg = "the queue completed this job without a result"
		}
		q.cfg.Logger.WarnContext(ctx, "reconcile orphaned job", "job_id", j.ID, "state", state, "reason", msg)
		q.finish(ctx, j, state, reason, msg)
	}
	return nil
}

// backoff is exponential backoff with full jitter: attempt n waits a random
// time in [d/2, d] with d = base·2^(n-1), capped at max.
type backoff struct{ base, max time.Duration }

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.delay(job.Attempt, rand.Float64()))
}

func (b *backoff) delay(attempt int, r float64) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + time.Duration(r*float64(d/2))
}
