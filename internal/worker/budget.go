package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"netsmith/internal/generate"
	"netsmith/internal/groupcommit"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// ReserveCalls makes every model call of a job beyond the one its
// submission reserved reserve its own estimate in db, against the job's
// department budget, before it is made (see generate.CallBudget). Without
// it, or without prices, calls are not reserved. The calls of jobs running
// at once reserve together, in one transaction (store.ReserveCalls): a
// department's budget rows are the ones every job writes, so each of their
// locks, held until a commit, should serve as many calls as it can. Close
// ends the grouping.
func (r *Runner) ReserveCalls(db *store.DB) {
	r.budgets = db.Conn()
	r.reserves = groupcommit.New(db.WriteGroups(), reserveGroupMax, 0, func(ctx context.Context, calls []store.CallHold) error {
		return db.InTx(ctx, func(tx store.Conn) error { return store.ReserveCalls(ctx, tx, calls) })
	}, groupcommit.ExtraAt(8))
}

// reserveGroupMax bounds the calls reserved in one transaction.
const reserveGroupMax = 64

// Close ends ReserveCalls' grouping; calls reserved after it reserve one by
// one.
func (r *Runner) Close() {
	if r.reserves != nil {
		r.reserves.Close()
	}
}

// jobBudget is one attempt's generate.CallBudget. The submission's
// reservation covers the attempt's first call (an attempt that failed
// charged nothing, so a retry starts over); every other call reserves.
type jobBudget struct {
	r   *Runner
	job *netcfg.Job

	mu    sync.Mutex
	calls int
	// budget is the department's budget as the attempt's first reserving
	// call read it (nil: none); read says it was.
	budget *netcfg.Budget
	read   bool
}

func (b *jobBudget) ReserveCall(ctx context.Context, model string, inputTokens, maxOutputTokens int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	// The reservation as the attempt read its job: nothing of this
	// attempt changed it since.
	if b.calls == 1 && b.job.ReservedNUSD > 0 {
		return nil
	}
	est, err := b.r.prices.Estimate(model, b.r.clock(), inputTokens, maxOutputTokens)
	if err != nil {
		// Start-up checked the model has a price; one without is not
		// reserved, as it is charged at zero (see cost).
		return nil
	}
	if !b.read {
		bud, err := b.r.readBudget(ctx, b.job.Department)
		if err != nil {
			return err
		}
		b.budget, b.read = bud, true
	}
	if b.budget == nil || int64(est) <= 0 {
		return nil // nothing to reserve: no transaction
	}
	err = b.r.reserves.Do(ctx, store.CallHold{Job: b.job, Budget: b.budget, NUSD: int64(est)})
	var be *netcfg.BudgetError
	if errors.As(err, &be) {
		return fmt.Errorf("%w: call %d of job %s: %w", generate.ErrBudgetExceeded, b.calls, b.job.ID, err)
	}
	return err
}

// readBudget returns department's budget (nil: none). Workers that ask
// while a read of it is under way share that read, which began at most one
// query's time before they asked: a department's jobs running together
// cost one query, not one each, and no reading is kept after it returns.
func (r *Runner) readBudget(ctx context.Context, department string) (*netcfg.Budget, error) {
	ch := r.budgetReads.DoChan(department, func() (any, error) {
		// Not the first caller's context: its end must not fail the others.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		b, err := store.GetBudget(rctx, r.budgets, department)
		if errors.Is(err, netcfg.ErrNotFound) {
			return (*netcfg.Budget)(nil), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read budget: %w", err)
		}
		return b, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*netcfg.Budget), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
