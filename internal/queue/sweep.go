package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// sweepChunk is how many of an intent's queued devices one sweep
// transaction finishes; sweepMax bounds what one worker sweeps after one
// job, so that it returns to River's priorities now and then.
const (
	sweepChunk = 128
	sweepMax   = 4096
)

// sweeping is the set of (batch, intent) pairs a worker of this process is
// sweeping: one sweeper per intent, since two would render the same
// devices and race for them.
type sweeping struct {
	mu  sync.Mutex
	set map[string]bool
}

func newSweeping() *sweeping { return &sweeping{set: map[string]bool{}} }

func (s *sweeping) start(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set[key] {
		return false
	}
	s.set[key] = true
	return true
}

func (s *sweeping) end(key string) {
	s.mu.Lock()
	delete(s.set, key)
	s.mu.Unlock()
}

// swept is a sibling job rendered by a sweep, waiting to be committed.
type swept struct {
	j   *netcfg.Job
	res *netcfg.Result
}

// sweep runs after j, a fleet batch's device job, succeeded: the template
// of j's intent is now cached, so the intent's other devices that are still
// queued need no model call. Rather than a queue round trip each (claim,
// running mark, completion, River's own completion), this worker renders
// them with the WithSweep function and finishes them sweepChunk at a time, each chunk
// in one transaction that removes their River rows and stores their
// results. A device River hands to another worker meanwhile is left to
// that worker: only rows still available are taken, and rows another
// transaction holds are skipped. A device Sweep cannot serve (its vars do
// not fit the template, say) is left queued for the normal path; a chunk
// in which it serves none ends the sweep.
func (e *riverEngine[TDriver, TTx]) sweep(ctx context.Context, j *netcfg.Job) {
	q := e.q
	if q.opts.sweep == nil || j.BatchID == "" || j.IntentKey == "" {
		return
	}
	key := j.BatchID + "/" + j.IntentKey
	if !q.sweeps.start(key) {
		return
	}
	defer q.sweeps.end(key)
	after := ""
	for total := 0; total < sweepMax && ctx.Err() == nil; {
		sibs, err := store.QueuedSiblings(ctx, e.db.ReadConn(), j.BatchID, j.IntentKey, after, sweepChunk)
		if err != nil {
			q.cfg.Logger.WarnContext(ctx, "sweep: list queued devices", "batch_id", j.BatchID, slog.Any("error", err))
			return
		}
		if len(sibs) == 0 {
			return
		}
		after = sibs[len(sibs)-1].ID
		group := make([]*swept, 0, len(sibs))
		for _, s := range sibs {
			started := time.Now()
			res, err := q.opts.sweep(ctx, s)
			if err != nil {
				continue
			}
			if res.Duration == 0 {
				res.Duration = time.Since(started)
			}
			group = append(group, &swept{j: s, res: res})
		}
		if len(group) == 0 {
			return
		}
		dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		done, err := e.commitSweep(dbctx, group)
		cancel()
		if err != nil {
			// Nothing of this chunk landed; its devices take the normal path.
			q.cfg.Logger.WarnContext(ctx, "sweep: commit", "batch_id", j.BatchID, "devices", len(group), slog.Any("error", err))
			return
		}
		m := q.cfg.Metrics
		for _, s := range done {
			q.watch.notify(s.j.ID)
			q.countFinal(s.j, netcfg.StateSucceeded, metrics.ReasonNone)
			if m != nil {
				m.JobDuration.WithLabelValues(string(s.j.Kind)).Observe(time.Since(s.j.CreatedAt).Seconds())
			}
		}
		total += len(done)
		if len(done) == 0 || len(sibs) < sweepChunk {
			return
		}
	}
}

// commitSweep stores group's results in one transaction and returns the
// jobs it finished: those still queued in our table whose River rows were
// still available. A job canceled or expired meanwhile has its River row
// cancelled with it, so it is not taken. On PostgreSQL our rows are locked
// first, as every other writer locks ours before River's.
func (e *riverEngine[TDriver, TTx]) commitSweep(ctx context.Context, group []*swept) ([]*swept, error) {
	now := e.q.cfg.Clock()
	ids := make([]string, len(group))
	for i, s := range group {
		ids[i] = s.j.ID
	}
	var done []*swept
	err := e.inTx(ctx, func(tx TTx) error {
		done = done[:0]
		c := e.wrap(tx)
		riverIDs := make([]int64, 0, len(group))
		if e.db.Dialect() == "postgres" {
			// Lock ours before River's, as every other writer does. On
			// SQLite the transaction holds the one writer lock already.
			queued, err := store.TouchQueued(ctx, c, ids, now)
			if err != nil {
				return err
			}
			for _, s := range group {
				if queued[s.j.ID] {
					riverIDs = append(riverIDs, s.j.RiverJobID)
				}
			}
		} else {
			for _, s := range group {
				riverIDs = append(riverIDs, s.j.RiverJobID)
			}
		}
		if len(riverIDs) == 0 {
			return nil
		}
		res, err := e.client.JobDeleteManyTx(ctx, tx, river.NewJobDeleteManyParams().
			IDs(riverIDs...).States(rivertype.JobStateAvailable).First(len(riverIDs)))
		if err != nil {
			return err
		}
		taken := make(map[int64]bool, len(res.Jobs))
		for _, r := range res.Jobs {
			taken[r.ID] = true
		}
		var (
			cs   []store.Completion
			took []*swept
		)
		for _, s := range group {
			if taken[s.j.RiverJobID] {
				cs = append(cs, store.Completion{ID: s.j.ID, Attempt: 1, Started: now, Result: s.res})
				took = append(took, s)
			}
		}
		ok, err := store.CompleteMany(ctx, c, cs, now)
		if err != nil {
			return err
		}
		for i, s := range took {
			if ok[i] {
				done = append(done, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}
