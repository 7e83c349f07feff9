// Package queuetest is the conformance suite every database behind package
// queue must pass: SQLite and PostgreSQL run the same tests, as River's own
// drivers do.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/adapt"
	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// Harness is one open queue under test and the work function's controls.
type Harness struct {
	Q  *queue.Queue
	DB *store.DB
	// Calls counts Work calls per job id.
	Calls sync.Map // string -> *atomic.Int32
	// Behave decides what Work does for a job on a given call (1-based).
	Behave func(ctx context.Context, j *store.Job, call int) (*store.Result, error)
}

// Open opens a started queue with workers on url and closes it at the end of
// the test. cfg's Work is replaced by the harness's.
func Open(t testing.TB, url string, cfg queue.Config, opts ...queue.Option) *Harness {
	t.Helper()
	h := &Harness{}
	cfg.Work = func(ctx context.Context, j *store.Job) (*store.Result, error) {
		v, _ := h.Calls.LoadOrStore(j.ID, new(atomic.Int32))
		n := int(v.(*atomic.Int32).Add(1))
		if h.Behave != nil {
			return h.Behave(ctx, j, n)
		}
		return okResult(), nil
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase, cfg.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	}
	if cfg.MaintainInterval == 0 {
		cfg.MaintainInterval = 200 * time.Millisecond
	}
	ctx := context.Background()
	h.DB = dbtest.Open(t, url)
	q, err := queue.New(h.DB, cfg, opts...)
	if err != nil {
		t.Fatalf("open queue: %v", err)
	}
	if err := q.Start(ctx); err != nil {
		q.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		q.Close()
	})
	h.Q = q
	return h
}

// CallsOf returns how many times Work ran for job id.
func (h *Harness) CallsOf(id string) int {
	v, ok := h.Calls.Load(id)
	if !ok {
		return 0
	}
	return int(v.(*atomic.Int32).Load())
}

// okResult is a job's result after one model call, with the ledger row
// that call makes (a batch's calls and tokens are read from the ledger).
func okResult() *store.Result {
	return &store.Result{Body: []byte(`{"config":"hostname x\n"}`), Provider: "test", Model: "m", InputTokens: 10, OutputTokens: 20,
		Charges: []store.Charge{{Kind: store.ChargeCall, Provider: "test", Model: "m", InputTokens: 10, OutputTokens: 20}}}
}

var seq atomic.Int64

// NewJob returns a job to enqueue with a unique id.
func NewJob(idemKey string, body string) *store.Job {
	return &store.Job{
		ID:             fmt.Sprintf("job-%d-%d", time.Now().UnixNano(), seq.Add(1)),
		Kind:           netcfg.KindGenerate,
		IdempotencyKey: idemKey,
		RequestHash:    body,
		Request:        []byte(`{"body":"` + body + `"}`),
	}
}

// WaitState polls until job id is in a final state and returns it.
func WaitState(t testing.TB, q *queue.Queue, id string, timeout time.Duration) *store.Job {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if j.State.Final() {
			return j
		}
		select {
		case <-deadline:
			t.Fatalf("job %s still %s after %s (attempts %d, error %q)", id, j.State, timeout, j.Attempts, j.Error)
		case <-tick.C:
		}
	}
}

// Run runs the suite against databases made by newURL.
func Run(t *testing.T, newURL func(testing.TB) string) {
	tests := []struct {
		name string
		f    func(t *testing.T, url string)
	}{
		{"CompletesWithResult", testCompletes},
		{"Idempotency", testIdempotency},
		{"PermanentFailsAtOnce", testPermanent},
		{"TransientRetriesThenSucceeds", testTransient},
		{"GivesUpAfterMaxAttempts", testGivesUp},
		{"SnoozeDoesNotExhaustAttempts", testSnooze},
		{"ExpiresIfNotStarted", testExpires},
		{"ExpiresWhileWorkersBusy", testExpiresBusy},
		{"CancelQueued", testCancelQueued},
		{"CancelRunning", testCancelRunning},
		{"TimeoutRetries", testTimeout},
		{"DepthCounts", testDepth},
		{"ManyJobsEachOnce", testMany},
		{"BatchAllOrNothing", testBatch},
		{"SweepFinishesQueuedSiblings", testSweep},
		{"SweepRacesWorkers", testSweepRace},
		{"LongJobShowsRunning", testRunningMark},
		{"ConcurrentSubmitsKeepOwnOutcome", testConcurrentSubmits},
		{"FinishedJobNotRunAgain", testFinishedNotRerun},
		{"BacklogCountsFinishedJobsOut", testBacklogPriority},
		{"GateBoundsWorkNotWaits", testGate},
		{"WatchHandsOverCompletedJob", testWatchFinal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.f(t, newURL(t))
		})
	}
}

func enqueue(t testing.TB, q *queue.Queue, j *store.Job) *store.Job {
	t.Helper()
	got, dup, err := q.Enqueue(context.Background(), j, nil)
	if err != nil || dup {
		t.Fatalf("Enqueue = %v, duplicate %v", err, dup)
	}
	return got
}

func testCompletes(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 2})
	j := enqueue(t, h.Q, NewJob("", "a"))
	got := WaitState(t, h.Q, j.ID, 20*time.Second)
	if got.State != netcfg.StateSucceeded || got.Attempts != 1 || got.Result == nil {
		t.Fatalf("job = %s attempts %d result %v, want succeeded after 1 attempt with a result", got.State, got.Attempts, got.Result)
	}
	if string(got.Result.Body) != `{"config":"hostname x\n"}` || got.Result.InputTokens != 10 || got.Result.OutputTokens != 20 {
		t.Errorf("result = %+v", got.Result)
	}
	if got.StartedAt.IsZero() || got.FinishedAt.Before(got.StartedAt) {
		t.Errorf("timestamps started %v finished %v", got.StartedAt, got.FinishedAt)
	}
}

func testIdempotency(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	ctx := context.Background()
	first := enqueue(t, h.Q, NewJob("key-1", "same"))
	again, dup, err := h.Q.Enqueue(ctx, NewJob("key-1", "same"), nil)
	if err != nil || !dup || again.ID != first.ID {
		t.Fatalf("same key, same body: id %v dup %v err %v; want %s, true, nil", again, dup, err, first.ID)
	}
	_, dup, err = h.Q.Enqueue(ctx, NewJob("key-1", "different"), nil)
	if !errors.Is(err, store.ErrConflict) || !dup {
		t.Fatalf("same key, other body: dup %v err %v; want ErrConflict", dup, err)
	}
	// Concurrent submissions of one key make one job.
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range ids {
		wg.Go(func() {
			j, _, err := h.Q.Enqueue(ctx, NewJob("key-2", "x"), nil)
			errs[i] = err
			if j != nil {
				ids[i] = j.ID
			}
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("concurrent enqueue %d: id %q err %v; want %q", i, ids[i], errs[i], ids[0])
		}
	}
	WaitState(t, h.Q, ids[0], 20*time.Second)
	if n := h.CallsOf(ids[0]); n != 1 {
		t.Errorf("key-2 job ran %d times, want 1", n)
	}
}

func testPermanent(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1, MaxAttempts: 5})
	h.Behave = func(context.Context, *store.Job, int) (*store.Result, error) {
		return nil, &queue.PermanentError{Err: errors.New("upstream 400 invalid_request_error: prompt is too long")}
	}
	j := enqueue(t, h.Q, NewJob("", "p"))
	got := WaitState(t, h.Q, j.ID, 20*time.Second)
	if got.State != netcfg.StateFailed || h.CallsOf(j.ID) != 1 {
		t.Fatalf("state %s after %d calls, want failed after 1", got.State, h.CallsOf(j.ID))
	}
	if got.Error != "upstream 400 invalid_request_error: prompt is too long" {
		t.Errorf("error = %q, want the upstream's message", got.Error)
	}
}

func testTransient(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1, MaxAttempts: 5})
	h.Behave = func(_ context.Context, _ *store.Job, call int) (*store.Result, error) {
		if call < 3 {
			return nil, errors.New("upstream 529 overloaded_error")
		}
		return okResult(), nil
	}
	j := enqueue(t, h.Q, NewJob("", "t"))
	got := WaitState(t, h.Q, j.ID, 30*time.Second)
	if got.State != netcfg.StateSucceeded || got.Attempts != 3 || h.CallsOf(j.ID) != 3 {
		t.Fatalf("state %s attempts %d calls %d, want succeeded at attempt 3", got.State, got.Attempts, h.CallsOf(j.ID))
	}
}

func testGivesUp(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1, MaxAttempts: 3})
	h.Behave = func(context.Context, *store.Job, int) (*store.Result, error) {
		return nil, errors.New("connection reset")
	}
	j := enqueue(t, h.Q, NewJob("", "g"))
	got := WaitState(t, h.Q, j.ID, 30*time.Second)
	if got.State != netcfg.StateFailed || h.CallsOf(j.ID) != 3 {
		t.Fatalf("state %s after %d calls, want failed after 3", got.State, h.CallsOf(j.ID))
	}
	if want := "gave up after 3 attempts: connection reset"; got.Error != want {
		t.Errorf("error = %q, want %q", got.Error, want)
	}
}

func testSnooze(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1, MaxAttempts: 2})
	h.Behave = func(_ context.Context, _ *store.Job, call int) (*store.Result, error) {
		if call <= 3 {
			return nil, &queue.SnoozeError{After: 50 * time.Millisecond, Err: errors.New("429 rate_limit_error")}
		}
		return okResult(), nil
	}
	j := enqueue(t, h.Q, NewJob("", "s"))
	got := WaitState(t, h.Q, j.ID, 30*time.Second)
	if got.State != netcfg.StateSucceeded || h.CallsOf(j.ID) != 4 {
		t.Fatalf("state %s (%q) after %d calls, want succeeded after 3 snoozes with max 2 attempts", got.State, got.Error, h.CallsOf(j.ID))
	}
}

func testExpires(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	j := NewJob("", "e")
	j.CreatedAt = time.Now().Add(-time.Minute)
	j.ExpiresAt = time.Now().Add(-time.Second)
	enqueue(t, h.Q, j)
	got := WaitState(t, h.Q, j.ID, 20*time.Second)
	if got.State != netcfg.StateExpired || h.CallsOf(j.ID) != 0 {
		t.Fatalf("state %s after %d calls, want expired without running", got.State, h.CallsOf(j.ID))
	}
}

// testExpiresBusy: maintenance runs while every worker is busy: a job
// that expires while the one worker holds another is expired on time, not
// when a worker comes free. (Maintenance that took a job worker's slot
// also piled up behind a long job and then kept the worker from jobs.)
func testExpiresBusy(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	started, hold := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // before Open's, which stops the queue
	h.Behave = func(ctx context.Context, j *store.Job, _ int) (*store.Result, error) {
		close(started)
		<-hold
		return okResult(), nil
	}
	holder := enqueue(t, h.Q, NewJob("", "holds the worker"))
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("no job started")
	}
	j := NewJob("", "expires")
	j.CreatedAt = time.Now().Add(-time.Minute)
	j.ExpiresAt = time.Now().Add(-time.Second)
	enqueue(t, h.Q, j)
	got := WaitState(t, h.Q, j.ID, 20*time.Second)
	release()
	if got.State != netcfg.StateExpired || h.CallsOf(j.ID) != 0 {
		t.Fatalf("state %s after %d calls, want expired without running", got.State, h.CallsOf(j.ID))
	}
	if got := WaitState(t, h.Q, holder.ID, 20*time.Second); got.State != netcfg.StateSucceeded {
		t.Fatalf("the job holding the worker: %s: %s", got.State, got.Error)
	}
}

func testCancelQueued(t *testing.T, url string) {
	// No workers: the job waits until canceled.
	h := Open(t, url, queue.Config{Workers: 0})
	j := enqueue(t, h.Q, NewJob("", "c"))
	ok, err := h.Q.Cancel(context.Background(), j)
	if err != nil || !ok {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	got, err := h.Q.Get(context.Background(), j.ID)
	if err != nil || got.State != netcfg.StateCanceled {
		t.Fatalf("state %v err %v, want canceled", got.State, err)
	}
	if ok, err := h.Q.Cancel(context.Background(), got); ok || err != nil {
		t.Errorf("second Cancel = %v, %v; want false, nil", ok, err)
	}
}

func testCancelRunning(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	started := make(chan struct{})
	ended := make(chan error, 1)
	h.Behave = func(ctx context.Context, _ *store.Job, _ int) (*store.Result, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}
	j := enqueue(t, h.Q, NewJob("", "cr"))
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("job never started")
	}
	cur, _ := h.Q.Get(context.Background(), j.ID)
	if ok, err := h.Q.Cancel(context.Background(), cur); !ok || err != nil {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("running job's context was not canceled")
	}
	got := WaitState(t, h.Q, j.ID, 5*time.Second)
	if got.State != netcfg.StateCanceled || h.CallsOf(j.ID) != 1 {
		t.Fatalf("state %s calls %d, want canceled after 1", got.State, h.CallsOf(j.ID))
	}
}

func testTimeout(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1, JobTimeout: 200 * time.Millisecond, MaxAttempts: 3})
	h.Behave = func(ctx context.Context, _ *store.Job, call int) (*store.Result, error) {
		if call == 1 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return okResult(), nil
	}
	j := enqueue(t, h.Q, NewJob("", "to"))
	got := WaitState(t, h.Q, j.ID, 30*time.Second)
	if got.State != netcfg.StateSucceeded || got.Attempts != 2 {
		t.Fatalf("state %s attempts %d, want succeeded at attempt 2 after a timeout", got.State, got.Attempts)
	}
}

// testDepth: Depth reads the database; CachedDepth keeps its reading (an
// hour here) and counts in the jobs this process enqueues meanwhile.
func testDepth(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 0, DepthTTL: time.Hour})
	ctx := context.Background()
	if d, err := h.Q.CachedDepth(ctx); err != nil || d[netcfg.StateQueued] != 0 {
		t.Fatalf("CachedDepth = %v, %v; want 0 queued", d, err)
	}
	var first *store.Job
	for i := range 7 {
		j := enqueue(t, h.Q, NewJob("", fmt.Sprint("d", i)))
		if first == nil {
			first = j
		}
	}
	for name, depth := range map[string]func(context.Context) (map[netcfg.JobState]int64, error){
		"Depth": h.Q.Depth, "CachedDepth": h.Q.CachedDepth} {
		if d, err := depth(ctx); err != nil || d[netcfg.StateQueued] != 7 {
			t.Errorf("%s = %v, %v; want 7 queued", name, d, err)
		}
	}
	if _, err := store.MarkState(ctx, h.DB.Conn(), first.ID, netcfg.StateCanceled, "gone", 0, time.Time{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, err := h.Q.Depth(ctx); err != nil || d[netcfg.StateQueued] != 6 {
		t.Errorf("Depth after a change behind the cache's back = %v, %v; want 6 queued", d, err)
	}
}

func testMany(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 20})
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		ids[i] = enqueue(t, h.Q, NewJob("", fmt.Sprint("m", i))).ID
	}
	for _, id := range ids {
		if got := WaitState(t, h.Q, id, 60*time.Second); got.State != netcfg.StateSucceeded {
			t.Fatalf("job %s %s", id, got.State)
		}
		if c := h.CallsOf(id); c != 1 {
			t.Errorf("job %s ran %d times", id, c)
		}
	}
	rows, jobs, err := store.CountResults(context.Background(), h.DB.Conn())
	if err != nil || rows != n || jobs != n {
		t.Errorf("results: %d rows for %d jobs (%v), want %d each", rows, jobs, err, n)
	}
}

func testBatch(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 10})
	ctx := context.Background()
	const n = 450 // more than one multi-row insert
	jobs := make([]*store.Job, n)
	for i := range jobs {
		jobs[i] = NewJob("", fmt.Sprint("b", i))
	}
	b := &store.Batch{ID: "batch-1", Name: "campus.yaml", Devices: n, Intents: 3}
	if err := h.Q.EnqueueBatch(ctx, b, jobs, nil); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if got := WaitState(t, h.Q, j.ID, 60*time.Second); got.State != netcfg.StateSucceeded || got.BatchID != "batch-1" {
			t.Fatalf("job %s: %s in batch %q", j.ID, got.State, got.BatchID)
		}
	}
	st, err := store.GetBatch(ctx, h.DB.Conn(), "batch-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.States[netcfg.StateSucceeded] != n || st.Devices != n || st.OutputTokens != 20*n || st.LLMCalls != n {
		t.Errorf("batch status %+v", st)
	}
	page, err := store.ListBatchJobs(ctx, h.DB.Conn(), "batch-1", "", 100)
	if err != nil || len(page) != 100 || page[0].Result == nil {
		t.Errorf("first page: %d jobs, %v", len(page), err)
	}
	// A batch whose insert fails leaves nothing behind: the same batch id
	// again violates the primary key after its jobs were staged.
	again := []*store.Job{NewJob("", "x"), NewJob("", "y")}
	if err := h.Q.EnqueueBatch(ctx, b, again, nil); err == nil {
		t.Fatal("a second batch with the same id was accepted")
	}
	for _, j := range again {
		if _, err := h.Q.Get(ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("job %s of the failed batch exists: %v", j.ID, err)
		}
	}
}

// sweepBatch enqueues a batch of n jobs over intents intent keys (job i has
// intent i % intents) and returns them.
func sweepBatch(t *testing.T, q *queue.Queue, id string, n, intents int) []*store.Job {
	t.Helper()
	jobs := make([]*store.Job, n)
	for i := range jobs {
		jobs[i] = NewJob("", fmt.Sprint(id, i))
		jobs[i].IntentKey = fmt.Sprint("intent-", i%intents)
	}
	if err := q.EnqueueBatch(context.Background(), &store.Batch{ID: id, Name: id, Devices: n, Intents: intents}, jobs, nil); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// bodyResult is a result naming the job it was made for and how.
func bodyResult(by string, j *store.Job) *store.Result {
	return &store.Result{Body: []byte(`{"by":"` + by + `","id":"` + j.ID + `"}`), Provider: "test", Model: "m", Cache: "hit"}
}

// testSweep: one worker; after each intent's first job, the worker
// finishes that intent's other queued jobs itself. A job Sweep cannot
// serve is left to the normal path; a job canceled while it waited stays
// canceled.
func testSweep(t *testing.T, url string) {
	var (
		sweeps   atomic.Int32
		skip     string // the job Sweep refuses
		proceed  = make(chan struct{})
		startedC = make(chan struct{}, 1)
	)
	h := Open(t, url, queue.Config{Workers: 1}, queue.WithSweep(func(_ context.Context, j *store.Job) (*store.Result, error) {
		sweeps.Add(1)
		if j.ID == skip {
			return nil, errors.New("cannot serve this one")
		}
		return bodyResult("sweep", j), nil
	}))
	h.Behave = func(_ context.Context, j *store.Job, _ int) (*store.Result, error) {
		select {
		case startedC <- struct{}{}:
			<-proceed // the first job waits until the test has canceled one
		default:
		}
		return bodyResult("work", j), nil
	}
	const n, intents = 300, 3
	ctx := context.Background()
	jobs := sweepBatch(t, h.Q, "sweep-1", n, intents)
	skip = jobs[30].ID // intent 0, not the first job
	canceled := jobs[31]
	select {
	case <-startedC:
	case <-time.After(20 * time.Second):
		t.Fatal("no job started")
	}
	if ok, err := h.Q.Cancel(ctx, canceled); !ok || err != nil {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	close(proceed)
	worked := 0
	for _, j := range jobs {
		got := WaitState(t, h.Q, j.ID, 60*time.Second)
		if j.ID == canceled.ID {
			if got.State != netcfg.StateCanceled || got.Result != nil || h.CallsOf(j.ID) != 0 {
				t.Errorf("canceled job: %s, result %v, %d calls", got.State, got.Result != nil, h.CallsOf(j.ID))
			}
			continue
		}
		if got.State != netcfg.StateSucceeded || got.Result == nil {
			t.Fatalf("job %s: %s: %s", j.ID, got.State, got.Error)
		}
		by := "sweep"
		if h.CallsOf(j.ID) > 0 {
			by, worked = "work", worked+1
		}
		if want := string(bodyResult(by, j).Body); string(got.Result.Body) != want {
			t.Errorf("job %s result %s, want %s", j.ID, got.Result.Body, want)
		}
		if got.Attempts != 1 || got.StartedAt.IsZero() || got.FinishedAt.IsZero() {
			t.Errorf("job %s: attempts %d, started %v, finished %v", j.ID, got.Attempts, got.StartedAt, got.FinishedAt)
		}
	}
	// One worker: each intent's first job, and the job Sweep refused.
	if worked != intents+1 || h.CallsOf(skip) != 1 {
		t.Errorf("Work ran for %d jobs (the refused one %d times), want %d", worked, h.CallsOf(skip), intents+1)
	}
	if got := int(sweeps.Load()); got < n-intents-1 {
		t.Errorf("Sweep ran %d times, want at least %d", got, n-intents-1)
	}
	rows, distinct, err := store.CountResults(ctx, h.DB.Conn())
	if err != nil || rows != n-1 || distinct != n-1 {
		t.Errorf("results: %d rows for %d jobs (%v), want %d", rows, distinct, err, n-1)
	}
	st, err := store.GetBatch(ctx, h.DB.Conn(), "sweep-1")
	if err != nil || st.States[netcfg.StateSucceeded] != n-1 || st.States[netcfg.StateCanceled] != 1 || st.Cache.Hits != n-1 {
		t.Errorf("batch status %+v, %v", st, err)
	}
}

// testSweepRace: many workers claim jobs of the intents being swept; every
// job ends succeeded with exactly one result, made either by a worker or by
// a sweep, never both committed.
func testSweepRace(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 8}, queue.WithSweep(func(_ context.Context, j *store.Job) (*store.Result, error) {
		time.Sleep(500 * time.Microsecond) // slow enough that workers claim jobs a sweep has rendered
		return bodyResult("sweep", j), nil
	}))
	h.Behave = func(_ context.Context, j *store.Job, _ int) (*store.Result, error) {
		time.Sleep(5 * time.Millisecond)
		return bodyResult("work", j), nil
	}
	const n = 600
	ctx := context.Background()
	jobs := sweepBatch(t, h.Q, "sweep-2", n, 4)
	worked := 0
	for _, j := range jobs {
		got := WaitState(t, h.Q, j.ID, 60*time.Second)
		if got.State != netcfg.StateSucceeded || got.Result == nil {
			t.Fatalf("job %s: %s: %s", j.ID, got.State, got.Error)
		}
		by := "sweep"
		if h.CallsOf(j.ID) > 0 {
			by, worked = "work", worked+1
		}
		if c := h.CallsOf(j.ID); c > 1 {
			t.Errorf("job %s worked %d times", j.ID, c)
		}
		if want := string(bodyResult(by, j).Body); string(got.Result.Body) != want {
			t.Errorf("job %s result %s, want %s", j.ID, got.Result.Body, want)
		}
	}
	if worked == n {
		t.Errorf("no job was swept")
	}
	rows, distinct, err := store.CountResults(ctx, h.DB.Conn())
	if err != nil || rows != n || distinct != n {
		t.Errorf("results: %d rows for %d jobs (%v), want %d", rows, distinct, err, n)
	}
	t.Logf("%d of %d jobs worked, %d swept", worked, n, n-worked)
}

// testRunningMark: a job that runs for a while is seen running (its mark is
// written, a little late), with its start time, and then succeeds.
func testRunningMark(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	release := make(chan struct{})
	h.Behave = func(context.Context, *store.Job, int) (*store.Result, error) {
		<-release
		return okResult(), nil
	}
	j := enqueue(t, h.Q, NewJob("", "long"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := h.Q.Get(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == netcfg.StateRunning {
			if got.StartedAt.IsZero() || got.Attempts != 1 {
				t.Errorf("running job: started %v, attempts %d", got.StartedAt, got.Attempts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %s after 20 s of running", got.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	if got := WaitState(t, h.Q, j.ID, 20*time.Second); got.State != netcfg.StateSucceeded {
		t.Fatalf("state %s", got.State)
	}
}

// testConcurrentSubmits submits many jobs at once, so that they share
// transactions: new jobs, repeats of one idempotency key and conflicting
// reuses of another each get their own answer, and every new job runs once.
func testConcurrentSubmits(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 4})
	ctx := context.Background()
	taken := enqueue(t, h.Q, NewJob("key-taken", "first"))
	const n = 90
	type answer struct {
		job *store.Job
		dup bool
		err error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var j *store.Job
			switch i % 3 {
			case 0:
				j = NewJob("", fmt.Sprintf("new-%d", i))
			case 1:
				j = NewJob("key-shared", "same")
			default:
				j = NewJob("key-taken", "other")
			}
			got, dup, err := h.Q.Enqueue(ctx, j, nil)
			answers[i] = answer{got, dup, err}
		})
	}
	wg.Wait()
	var shared string
	for i, a := range answers {
		switch i % 3 {
		case 0:
			if a.err != nil || a.dup || a.job == nil {
				t.Fatalf("new job %d: dup %v err %v", i, a.dup, a.err)
			}
			WaitState(t, h.Q, a.job.ID, 20*time.Second)
			if c := h.CallsOf(a.job.ID); c != 1 {
				t.Errorf("new job %d ran %d times, want 1", i, c)
			}
		case 1:
			if a.err != nil || a.job == nil {
				t.Fatalf("shared key %d: err %v", i, a.err)
			}
			if shared == "" {
				shared = a.job.ID
			}
			if a.job.ID != shared {
				t.Errorf("shared key %d: job %s, want %s", i, a.job.ID, shared)
			}
		default:
			if !errors.Is(a.err, store.ErrConflict) || !a.dup || a.job == nil || a.job.ID != taken.ID {
				t.Errorf("taken key, other body %d: job %v dup %v err %v; want ErrConflict naming %s", i, a.job, a.dup, a.err, taken.ID)
			}
		}
	}
	dups := 0
	for i := 1; i < n; i += 3 {
		if answers[i].dup {
			dups++
		}
	}
	if dups != n/3-1 {
		t.Errorf("shared key: %d duplicates among %d submissions, want all but one", dups, n/3)
	}
	WaitState(t, h.Q, shared, 20*time.Second)
	if c := h.CallsOf(shared); c != 1 {
		t.Errorf("shared key's job ran %d times, want 1", c)
	}
}

// testFinishedNotRerun is a process that died after committing a job's
// result and before River's completer completed its queue row: River runs
// the row again (after a rescue), and the job, final by our record, is not
// worked again and keeps its result.
func testFinishedNotRerun(t *testing.T, url string) {
	ctx := context.Background()
	db := dbtest.Open(t, url)
	first, err := queue.New(db, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Close)
	j := enqueue(t, first, NewJob("", "done-before"))
	res := &store.Result{Body: []byte(`{"config":"hostname first\n"}`), Provider: "test", Model: "m"}
	if ok, err := store.Complete(ctx, db.Conn(), j.ID, 1, time.Now(), res, time.Now()); !ok || err != nil {
		t.Fatalf("Complete = %v, %v", ok, err)
	}
	h := Open(t, url, queue.Config{Workers: 1})
	deadline := time.Now().Add(20 * time.Second)
	for {
		var state string
		if err := h.DB.Conn().QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, j.RiverJobID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "cancelled" || state == "completed" || state == "discarded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue row still %s", state)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := h.CallsOf(j.ID); n != 0 {
		t.Errorf("a finished job was worked %d times, want 0", n)
	}
	got, err := h.Q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != netcfg.StateSucceeded || got.Result == nil || string(got.Result.Body) != string(res.Body) {
		t.Errorf("job = %s with result %v, want succeeded with the first result", got.State, got.Result)
	}
}

// testBacklogPriority checks that the cached backlog behind a department's
// fair priority counts out the jobs this process finished: after 40 jobs
// came and went, with no fresh reading, a new job is a single request
// again (River priority 1), not the 41st of a backlog.
func testBacklogPriority(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 4, DepthTTL: time.Hour})
	release := make(chan struct{})
	h.Behave = func(ctx context.Context, _ *store.Job, _ int) (*store.Result, error) {
		select {
		case <-release:
			return okResult(), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx := context.Background()
	priority := func(j *store.Job) int {
		t.Helper()
		var p int
		if err := h.DB.Conn().QueryRow(ctx, `SELECT priority FROM river_job WHERE id = $1`, j.RiverJobID).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var jobs []*store.Job
	for i := range 40 {
		jobs = append(jobs, enqueue(t, h.Q, NewJob("", fmt.Sprintf("b%d", i))))
	}
	if p := priority(jobs[39]); p != 2 {
		t.Errorf("40th job in a row: priority %d, want 2 (a backlog of 39)", p)
	}
	close(release)
	for _, j := range jobs {
		WaitState(t, h.Q, j.ID, 20*time.Second)
	}
	if p := priority(enqueue(t, h.Q, NewJob("", "after"))); p != 1 {
		t.Errorf("a job after the backlog finished: priority %d, want 1", p)
	}
}

// peak tracks how many are inside something at once, and the most seen;
// reached signals when the most first got to a number.
type peak struct {
	mu        sync.Mutex
	now, most int
	changed   chan struct{} // closed, and replaced, when most grows
}

func newPeak() *peak { return &peak{changed: make(chan struct{})} }

func (p *peak) enter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now++
	if p.now > p.most {
		p.most = p.now
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

func (p *peak) leave() {
	p.mu.Lock()
	p.now--
	p.mu.Unlock()
}

func (p *peak) max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.most
}

// reached waits until the most got to n, or until done is closed.
func (p *peak) reached(n int, done <-chan struct{}) {
	for {
		p.mu.Lock()
		most, changed := p.most, p.changed
		p.mu.Unlock()
		if most >= n {
			return
		}
		select {
		case <-changed:
		case <-done:
			return
		}
	}
}

// testGate: with a gate of 2 in front of 8 workers, at most 2 jobs do their
// own work at once, while jobs waiting on the upstream (Admission.Yield) let
// others in; every job still succeeds once. Jobs hold their work until a
// second one works beside them, and their upstream wait until a third job
// is inside Work: what the test sees does not hang on how the workers were
// scheduled, and a gate that let a third work, or kept others out during
// the upstream wait, still shows.
func testGate(t *testing.T, url string) {
	gate := adapt.New(adapt.Config{Max: 2})
	h := Open(t, url, queue.Config{Workers: 8}, queue.WithAdmission(func(ctx context.Context) (context.Context, func(), error) {
		return adapt.Enter(ctx, gate)
	}))
	working, inside := newPeak(), newPeak()
	// A wait that ends unmet shows in the peaks checked below.
	waits, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.Behave = func(ctx context.Context, j *store.Job, call int) (*store.Result, error) {
		inside.enter()
		defer inside.leave()
		working.enter()
		working.reached(2, waits.Done())
		working.leave()
		resume := adapt.FromContext(ctx).Yield(ctx) // the upstream call
		inside.reached(3, waits.Done())
		resume()
		working.enter()
		working.leave()
		return okResult(), nil
	}
	var jobs []*store.Job
	for i := range 24 {
		jobs = append(jobs, enqueue(t, h.Q, NewJob("", fmt.Sprintf("gate %d", i))))
	}
	for _, j := range jobs {
		if got := WaitState(t, h.Q, j.ID, 60*time.Second); got.State != netcfg.StateSucceeded || h.CallsOf(j.ID) != 1 {
			t.Fatalf("job %s: %s after %d calls", j.ID, got.State, h.CallsOf(j.ID))
		}
	}
	if w := working.max(); w != 2 {
		t.Errorf("%d jobs worked at once, want the gate's 2", w)
	}
	if in := inside.max(); in <= 2 {
		t.Errorf("at most %d jobs inside Work at once: waiting on the upstream kept the others out", in)
	}
}

// testWatchFinal: a watcher of a job this process completes is handed the
// job as GetJob reads it, and need not read it back.
func testWatchFinal(t *testing.T, url string) {
	h := Open(t, url, queue.Config{Workers: 1})
	release := make(chan struct{})
	h.Behave = func(ctx context.Context, j *store.Job, call int) (*store.Result, error) {
		<-release
		r := okResult()
		r.Duration = 1234567 * time.Microsecond // kept to the millisecond
		r.Charges = []store.Charge{{Kind: store.ChargeCall, Provider: "sim", Model: "m", CostNUSD: 5}}
		return r, nil
	}
	j := enqueue(t, h.Q, NewJob("", "watched"))
	changed, stop := h.Q.Watch(j.ID)
	defer stop()
	close(release)
	timeout := time.After(20 * time.Second)
	var final *store.Job
	for final == nil {
		select {
		case final = <-changed:
		case <-timeout:
			t.Fatal("no completed job handed to the watcher")
		}
	}
	got, err := h.Q.Get(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(final, got) {
		t.Fatalf("handed over:\n%+v\n%+v\nread back:\n%+v\n%+v", final, final.Result, got, got.Result)
	}
}
