package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// EconomyArgs is the River payload of a fleet batch's economy job: it makes
// the templates the batch leased at submit through one Message Batch.
type EconomyArgs struct {
	BatchID string `json:"batch_id"`
}

// Kind is the River job kind of economy jobs.
func (EconomyArgs) Kind() string { return "netsmith_economy" }

// EconomyQueue is the River queue of economy jobs, apart from the device
// jobs so that devices waiting on its leases never starve it of workers.
const EconomyQueue = "netsmith_economy"

// EconomyInsertOpts are the River options an economy job is inserted with:
// its queue, and at most ten failed steps (polls do not count).
func EconomyInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: EconomyQueue, MaxAttempts: 10}
}

// EconomyStepFunc runs one step of a fleet batch's economy job
// (generate.Economy.Step). It returns again > 0 to be run again after that
// long (its Message Batch is still running), 0 when the job is done, or an
// error to retry with backoff.
type EconomyStepFunc func(ctx context.Context, batchID string) (again time.Duration, err error)

// EconomyWorker runs economy jobs for River: each step either ends the job
// or asks to be run again after a while. Every process registers it (River
// refuses to insert a kind no worker knows); without Step, a job that lands
// here gives its leases back and its devices take the normal path.
type EconomyWorker struct {
	river.WorkerDefaults[EconomyArgs]
	Step EconomyStepFunc
	// Conn is the database the leases are given back on.
	Conn        store.Conn
	StepTimeout time.Duration // bounds one step
	Logger      *slog.Logger
}

// EconomyWorkers is how many economy jobs a process runs at once.
const EconomyWorkers = 2

// QueueWorker is w registered with a queue: in EconomyQueue, polled at
// most once a second (economy jobs wait minutes on a Message Batch).
func (w *EconomyWorker) QueueWorker() queue.Worker {
	return queue.NewWorker(EconomyQueue, EconomyWorkers, time.Second, w)
}

// Timeout bounds one step.
func (w *EconomyWorker) Timeout(*river.Job[EconomyArgs]) time.Duration { return w.StepTimeout }

// Work runs one step of rj's economy job.
func (w *EconomyWorker) Work(ctx context.Context, rj *river.Job[EconomyArgs]) error {
	id := rj.Args.BatchID
	if w.Step == nil {
		// No one here can make the templates: give the leases back so the
		// devices take the normal path at once.
		w.Logger.ErrorContext(ctx, "economy job on a worker without economy mode; releasing its leases", "batch_id", id)
		if err := ReleaseEconomyLeases(ctx, w.Conn, id); err != nil {
			return err
		}
		return river.JobCancel(errors.New("economy mode is not configured on this worker"))
	}
	again, err := w.Step(ctx, id)
	switch {
	case err != nil && rj.Attempt >= rj.MaxAttempts:
		w.Logger.ErrorContext(ctx, "economy job gave up; releasing its leases", "batch_id", id, slog.Any("error", err))
		return errors.Join(err, ReleaseEconomyLeases(context.WithoutCancel(ctx), w.Conn, id))
	case err != nil:
		w.Logger.WarnContext(ctx, "economy step failed", "batch_id", id, "attempt", rj.Attempt, slog.Any("error", err))
		return err
	case again > 0:
		return river.JobSnooze(again)
	}
	return nil
}

// ReleaseEconomyLeases gives back every template lease a batch's economy
// job holds.
func ReleaseEconomyLeases(ctx context.Context, c store.Conn, batchID string) error {
	owner := store.EconomyOwner(batchID)
	keys, err := store.LeasedTemplateKeys(ctx, c, owner)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := store.ReleaseTemplateLease(ctx, c, k, owner); err != nil {
			return err
		}
	}
	return nil
}
