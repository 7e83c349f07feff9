package ledger

import (
	"context"
	"time"

	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/store"
)

// Ledger is the money on one database: budgets, their usage, the cost
// reports, and the warnings of submissions that cross a budget's share.
type Ledger struct {
	db     *store.DB
	alerts *Alerts // nil: warnings are dropped
}

// New returns the ledger on db; alerts (which may be nil) reports the
// budget warnings of submissions.
func New(db *store.DB, alerts *Alerts) *Ledger { return &Ledger{db: db, alerts: alerts} }

// Alert reports the warnings of a committed submission's hold.
func (l *Ledger) Alert(alerts []netcfg.BudgetAlert) {
	if l == nil || l.alerts == nil {
		return
	}
	for _, a := range alerts {
		l.alerts.Alert(a)
	}
}

// Budget returns department's budget, or netcfg.ErrNotFound.
func (l *Ledger) Budget(ctx context.Context, department string) (*netcfg.Budget, error) {
	return store.GetBudget(ctx, l.db.ReadConn(), department)
}

// Usage returns what department spent and holds reserved in each of b's
// periods at now.
func (l *Ledger) Usage(ctx context.Context, department string, b *netcfg.Budget, now time.Time) ([]netcfg.BudgetUsage, error) {
	return store.Usage(ctx, l.db.ReadConn(), department, b, now)
}

// PutBudget creates or replaces a department's budget.
func (l *Ledger) PutBudget(ctx context.Context, b *netcfg.Budget) error {
	return store.PutBudget(ctx, l.db.Conn(), b)
}

// Costs is the cost report grouped by groupBy over [since, until), of one
// department or, with all, of every one (see store.CostReport).
func (l *Ledger) Costs(ctx context.Context, groupBy string, since, until time.Time, department string, all bool) ([]netcfg.CostRow, error) {
	return store.CostReport(ctx, l.db.ReadConn(), groupBy, since, until, department, all)
}

// CostGroups are the groups Costs may be by, sorted.
func (l *Ledger) CostGroups() []string { return store.CostGroupNames() }

// CallCost prices a call's usage by the model that answered (often a dated
// snapshot name), or else by the model that was asked for, which start-up
// checked has a price; batch applies the Message Batches discount.
func CallCost(t *pricing.Table, at time.Time, model, requested string, u llm.Usage, batch bool) (int64, error) {
	pu := pricing.Usage{Input: u.InputTokens, Output: u.OutputTokens, CacheWrite: u.CacheWriteTokens, CacheRead: u.CacheReadTokens}
	c, err := t.Cost(model, at, pu, batch)
	if err != nil && requested != "" {
		c, err = t.Cost(requested, at, pu, batch)
	}
	if err != nil {
		return 0, err
	}
	return int64(c), nil
}
