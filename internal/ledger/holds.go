package ledger

import (
	"context"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// holdsOf sums what a submission's jobs hold: their reservations and, for
// a key with a max_active limit, one slot each.
func holdsOf(jobs []*netcfg.Job) store.Holds {
	var h store.Holds
	for _, j := range jobs {
		h.Department, h.KeyID = j.Department, j.KeyID
		h.ReserveNUSD += j.ReservedNUSD
		if j.HoldsSlot {
			h.Slots++
		}
	}
	return h
}

// Hold is a submission's holds, taken inside the transaction that stores
// it: its budget reservations and its key's slots. Take may run more than
// once (a failed group commit is retried job by job); each run starts over
// from the reservations the jobs were submitted with.
type Hold struct {
	jobs    []*netcfg.Job
	reserve []int64 // each job's ReservedNUSD as submitted
	// Alerts are the budget warnings the last Take raised, to report once
	// the transaction has committed (Ledger.Alert).
	Alerts []netcfg.BudgetAlert
}

// NewHold is the hold of jobs, all of one department and key.
func NewHold(jobs []*netcfg.Job) *Hold {
	h := &Hold{jobs: jobs, reserve: make([]int64, len(jobs))}
	for i, j := range jobs {
		h.reserve[i] = j.ReservedNUSD
	}
	return h
}

// Take takes the holds in tx (see store.TakeHolds): when no budget applies
// the jobs carry no reservation.
func (h *Hold) Take(ctx context.Context, tx store.Conn, now time.Time) error {
	take, err := h.Plan(ctx, tx, now)
	if err != nil {
		return err
	}
	return take(ctx, tx)
}

// Plan is Take in two steps for a transaction that makes its shared writes
// last (queue.Tx.Defer): it reads the department's budget in tx and sets
// the jobs' reservations now, and returns the writes, to run in the same
// transaction. Alerts are set once they ran.
func (h *Hold) Plan(ctx context.Context, tx store.Conn, now time.Time) (take func(ctx context.Context, c store.Conn) error, err error) {
	for i, j := range h.jobs {
		j.ReservedNUSD = h.reserve[i]
	}
	h.Alerts = nil
	p, err := store.PlanHolds(ctx, tx, holdsOf(h.jobs), now)
	if err != nil {
		return nil, err
	}
	if !p.Reserves() {
		for _, j := range h.jobs {
			j.ReservedNUSD = 0
		}
	}
	return func(ctx context.Context, c store.Conn) error {
		alerts, err := p.Take(ctx, c)
		h.Alerts = alerts
		return err
	}, nil
}
