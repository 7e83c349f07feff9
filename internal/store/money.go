package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"netsmith/internal/netcfg"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Periods are UTC days and months, named 'd2026-11-29' and 'm2026-11'.
func dayPeriod(t time.Time) string   { return t.UTC().Format("d2006-01-02") }
func monthPeriod(t time.Time) string { return t.UTC().Format("m2006-01") }

// PutBudget creates or replaces a department's budget.
func PutBudget(ctx context.Context, c Conn, b *netcfg.Budget) error {
	_, err := c.Exec(ctx, `INSERT INTO netsmith_budget (department, daily_nusd, monthly_nusd, warn_pct, webhook_url, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (department) DO UPDATE SET daily_nusd = excluded.daily_nusd,
			monthly_nusd = excluded.monthly_nusd, warn_pct = excluded.warn_pct,
			webhook_url = excluded.webhook_url, updated_at = excluded.updated_at`,
		b.Department, b.DailyNUSD, b.MonthlyNUSD, b.WarnPct, b.WebhookURL, b.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put budget: %w", err)
	}
	return nil
}

// SharedTx is c, a transaction that a group of submissions shares (a
// group commit), reading once for all of them what none of them writes:
// a department's budget, which each submission's hold reads (TakeHolds),
// takes one query per department and transaction rather than one per
// submission. The holds planned in it (PlanHolds) are taken together: the
// first Take sends all of their writes in one round trip. Not for
// concurrent use.
func SharedTx(c Conn) Conn { return &sharedTx{Conn: c, budgets: map[string]*netcfg.Budget{}} }

type sharedTx struct {
	Conn
	budgets map[string]*netcfg.Budget // nil: the department has none
	plans   []*HoldPlan               // planned here, in order, not taken yet
}

// GetBudget returns a department's budget or netcfg.ErrNotFound.
func GetBudget(ctx context.Context, c Conn, department string) (*netcfg.Budget, error) {
	if s, ok := c.(*sharedTx); ok {
		b, read := s.budgets[department]
		if !read {
			var err error
			if b, err = GetBudget(ctx, s.Conn, department); err != nil && err != netcfg.ErrNotFound {
				return nil, err
			}
			s.budgets[department] = b
		}
		if b == nil {
			return nil, netcfg.ErrNotFound
		}
		cp := *b
		return &cp, nil
	}
	var b netcfg.Budget
	var updated int64
	err := c.QueryRow(ctx, `SELECT department, daily_nusd, monthly_nusd, warn_pct, webhook_url, updated_at
		FROM netsmith_budget WHERE department = $1`, department).
		Scan(&b.Department, &b.DailyNUSD, &b.MonthlyNUSD, &b.WarnPct, &b.WebhookURL, &updated)
	if err != nil {
		return nil, err
	}
	b.UpdatedAt = time.UnixMilli(updated).UTC()
	return &b, nil
}

// Usage returns a department's day and month usage at now against b (nil:
// no limits).
func Usage(ctx context.Context, c Conn, department string, b *netcfg.Budget, now time.Time) ([]netcfg.BudgetUsage, error) {
	out := budgetPeriods(now, b)
	for i := range out {
		err := c.QueryRow(ctx, `SELECT spent_nusd, reserved_nusd FROM netsmith_budget_usage
			WHERE department = $1 AND period = $2`, department, out[i].Name).
			Scan(&out[i].SpentNUSD, &out[i].ReservedNUSD)
		if err != nil && err != netcfg.ErrNotFound {
			return nil, fmt.Errorf("budget usage: %w", err)
		}
	}
	return out, nil
}

// Holds are what a submission takes before its jobs are inserted: a budget
// reservation and slots under its key's max_active.
type Holds struct {
	Department string
	// ReserveNUSD is the estimate of all the jobs' cost.
	ReserveNUSD int64
	KeyID       string
	// Slots is how many of the key's max_active slots to take (0: the key
	// has no such limit).
	Slots int64
}

// TakeHolds takes h inside the submission's transaction: every period's
// check and reservation is one conditional write, so concurrent
// submissions on any number of replicas cannot reserve past a limit. It
// reports whether a budget applied (when none did, nothing is reserved and
// the jobs must carry no reservation), and any alert to raise after commit.
// It is PlanHolds, then the plan's Take.
func TakeHolds(ctx context.Context, c Conn, h Holds, now time.Time) (reserved bool, alerts []netcfg.BudgetAlert, err error) {
	p, err := PlanHolds(ctx, c, h, now)
	if err != nil {
		return false, nil, err
	}
	alerts, err = p.Take(ctx, c)
	return p.Reserves(), alerts, err
}

// HoldPlan is a hold whose department's budget has been read: whether it
// reserves is known, and its writes are still to make (Take), which a
// transaction may leave to its end (queue.Tx.Defer).
type HoldPlan struct {
	h   Holds
	b   *netcfg.Budget // nil: nothing to reserve
	now time.Time
	// done and its outcome: set when a shared transaction took it with
	// the other holds planned in it.
	done   bool
	alerts []netcfg.BudgetAlert
	err    error
}

// PlanHolds reads what h needs to know before it takes anything: its
// department's budget, when it has an estimate to reserve.
func PlanHolds(ctx context.Context, c Conn, h Holds, now time.Time) (*HoldPlan, error) {
	p := &HoldPlan{h: h, now: now}
	if h.ReserveNUSD > 0 {
		b, err := GetBudget(ctx, c, h.Department)
		switch {
		case err == nil:
			p.b = b
		case err != netcfg.ErrNotFound:
			return nil, fmt.Errorf("read budget: %w", err)
		}
	}
	if s, ok := c.(*sharedTx); ok {
		s.plans = append(s.plans, p)
	}
	return p, nil
}

// Reserves reports whether the hold reserves its estimate: a budget
// applies to its department.
func (p *HoldPlan) Reserves() bool { return p.b != nil }

// Take makes the hold's writes in c, the transaction PlanHolds read in:
// every period's reservation and warning, then the key's slots, in one
// round trip (queryEach), in that order; in a shared transaction, with
// those of every hold planned in it and not taken yet, in the order they
// were planned. It locks the department's periods before the key, the
// order in which a settlement gives them back (see settlement), so that a
// submission and a completion group never wait for each other in a circle.
// A refused write does not stop the ones after it, but the error it
// returns must roll the transaction back with them.
func (p *HoldPlan) Take(ctx context.Context, c Conn) ([]netcfg.BudgetAlert, error) {
	plans := []*HoldPlan{p}
	if s, ok := c.(*sharedTx); ok && !p.done {
		plans, s.plans = s.plans, nil
		if !slices.Contains(plans, p) {
			plans = append(plans, p)
		}
	}
	if !p.done {
		var qs []rowQuery
		finish := make([]func() ([]netcfg.BudgetAlert, error), len(plans))
		for i, q := range plans {
			var more []rowQuery
			more, finish[i] = q.writes(ctx, c)
			qs = append(qs, more...)
		}
		if err := queryEach(ctx, c, qs); err != nil {
			return nil, err
		}
		for i, q := range plans {
			q.alerts, q.err = finish[i]()
			q.done = true
		}
	}
	return p.alerts, p.err
}

// writes are the hold's statements, and what reads their outcome once
// they ran.
func (p *HoldPlan) writes(ctx context.Context, c Conn) ([]rowQuery, func() ([]netcfg.BudgetAlert, error)) {
	h, b := p.h, p.b
	var (
		qs      []rowQuery
		slotsOK int64 = 1
	)
	slots, takesSlots := slotsQuery(h, &slotsOK)
	if b == nil {
		if takesSlots {
			qs = append(qs, slots)
		}
		return qs, func() ([]netcfg.BudgetAlert, error) {
			if slotsOK == 0 {
				return nil, activeLimitError(ctx, c, h)
			}
			return nil, nil
		}
	}
	periods := budgetPeriods(p.now, b)
	var (
		took   [2]int64
		warned [2]bool
	)
	for i := range periods {
		u := &periods[i]
		qs = append(qs, reserveQuery(h.Department, *u, h.ReserveNUSD, &took[i]))
		if u.LimitNUSD <= 0 || b.WarnPct <= 0 {
			continue
		}
		qs = append(qs, rowQuery{sql: `UPDATE netsmith_budget_usage SET warned = 1
			WHERE department = $1 AND period = $2 AND warned = 0 AND (spent_nusd + reserved_nusd) * 100 >= CAST($3 AS BIGINT) * CAST($4 AS BIGINT)
			RETURNING spent_nusd, reserved_nusd`, args: []any{h.Department, u.Name, u.LimitNUSD, b.WarnPct},
			scan: func(r Row) error {
				switch err := r.Scan(&u.SpentNUSD, &u.ReservedNUSD); err {
				case nil:
					warned[i] = true
					return nil
				case netcfg.ErrNotFound:
					return nil
				default:
					return fmt.Errorf("budget warning: %w", err)
				}
			}})
	}
	if takesSlots {
		qs = append(qs, slots)
	}
	return qs, func() (alerts []netcfg.BudgetAlert, err error) {
		for i, u := range periods {
			if took[i] == 0 {
				return nil, budgetError(ctx, c, h.Department, u, h.ReserveNUSD)
			}
		}
		if slotsOK == 0 {
			return nil, activeLimitError(ctx, c, h)
		}
		for i, u := range periods {
			if warned[i] {
				alerts = append(alerts, netcfg.BudgetAlert{Department: h.Department, Usage: u, WarnPct: b.WarnPct, WebhookURL: b.WebhookURL})
			}
		}
		return alerts, nil
	}
}

// reserveQuery reserves nusd in one period of a department's budget:
// one conditional upsert of the period's row, whose count of rows (0: the
// period's limit, u.LimitNUSD, cannot cover it) goes to took. An
// UPDATE alone would miss a period's first reservation, and an INSERT …
// DO NOTHING before it waited, on PostgreSQL, for every transaction that
// held the row (a department's two rows are its hottest).
func reserveQuery(department string, u netcfg.BudgetUsage, nusd int64, took *int64) rowQuery {
	return rowQuery{sql: `INSERT INTO netsmith_budget_usage (department, period, reserved_nusd)
		SELECT $1, $2, $3 WHERE CAST($4 AS BIGINT) = 0 OR $3 <= $4
		ON CONFLICT (department, period) DO UPDATE SET reserved_nusd = netsmith_budget_usage.reserved_nusd + excluded.reserved_nusd
		WHERE CAST($4 AS BIGINT) = 0 OR netsmith_budget_usage.spent_nusd + netsmith_budget_usage.reserved_nusd + excluded.reserved_nusd <= $4`,
		args: []any{department, u.Name, nusd, u.LimitNUSD}, errText: "reserve budget", affected: took}
}

// budgetPeriods are the day and the month of at, with b's limits (none
// when b is nil).
func budgetPeriods(at time.Time, b *netcfg.Budget) []netcfg.BudgetUsage {
	out := []netcfg.BudgetUsage{{Period: "day", Name: dayPeriod(at)}, {Period: "month", Name: monthPeriod(at)}}
	if b != nil {
		out[0].LimitNUSD, out[1].LimitNUSD = b.DailyNUSD, b.MonthlyNUSD
	}
	return out
}

// budgetError is the *BudgetError of a reservation of nusd that period u
// refused, with the period's usage as it is now.
func budgetError(ctx context.Context, c Conn, department string, u netcfg.BudgetUsage, nusd int64) error {
	// No row: the period's first reservation, refused, so nothing used.
	if err := c.QueryRow(ctx, `SELECT spent_nusd, reserved_nusd FROM netsmith_budget_usage
		WHERE department = $1 AND period = $2`, department, u.Name).Scan(&u.SpentNUSD, &u.ReservedNUSD); err != nil && err != netcfg.ErrNotFound {
		return fmt.Errorf("read budget usage: %w", err)
	}
	return &netcfg.BudgetError{Department: department, Usage: u, EstimateNUSD: nusd}
}

// CallHold is one model call's reservation beyond what its job's
// submission reserved: NUSD more for Job against Budget, its department's
// budget as the job's attempt read it (GetBudget): the limits a call is
// checked against are the department's as the attempt found them, while
// its usage is the database's at the call.
type CallHold struct {
	Job    *netcfg.Job
	Budget *netcfg.Budget // nil: none, and nothing is reserved
	NUSD   int64
}

// ReserveCalls reserves calls in c, a transaction: for the periods their
// jobs were created in, which each job's final move releases (see
// releaseAll). Each job's row is added to first, only while the job is not
// final, in id order, as a completion group locks them; then each
// department period takes the calls' sum in one conditional upsert, in the
// order settlements lock them, so that neither waits for the other in a
// circle. All go in one round trip (queryEach). When a period cannot cover
// the sum it returns a *BudgetError (or, for a job already final, an error
// wrapping netcfg.ErrNotFound) and the caller must roll back: then none of
// the calls may be made, and a group retries each call alone to learn
// which one it was (groupcommit). A job's final move either waits for
// this transaction and releases its reservation too, or comes first and
// this one reserves nothing.
func ReserveCalls(ctx context.Context, c Conn, calls []CallHold) error {
	calls = slices.DeleteFunc(slices.Clone(calls), func(x CallHold) bool { return x.NUSD <= 0 || x.Budget == nil })
	if len(calls) == 0 {
		return nil
	}
	slices.SortFunc(calls, func(a, b CallHold) int { return strings.Compare(a.Job.ID, b.Job.ID) })
	type periodKey struct{ department, name string }
	type periodSum struct {
		u    netcfg.BudgetUsage
		nusd int64
		took int64
	}
	sums := map[periodKey]*periodSum{}
	jobs := make([]int64, len(calls))
	var qs []rowQuery
	for i, x := range calls {
		qs = append(qs, rowQuery{sql: `UPDATE netsmith_job SET reserved_nusd = reserved_nusd + $2 WHERE id = $1 AND ` + notFinal,
			args: []any{x.Job.ID, x.NUSD}, errText: "reserve a call for job " + x.Job.ID, affected: &jobs[i]})
		for _, u := range budgetPeriods(x.Job.CreatedAt, x.Budget) {
			k := periodKey{x.Job.Department, u.Name}
			ps := sums[k]
			if ps == nil {
				ps = &periodSum{u: u}
				sums[k] = ps
			} else if u.LimitNUSD > 0 && (ps.u.LimitNUSD == 0 || u.LimitNUSD < ps.u.LimitNUSD) {
				ps.u.LimitNUSD = u.LimitNUSD // budgets read apart: the tighter one
			}
			ps.nusd += x.NUSD
		}
	}
	keys := slices.SortedFunc(maps.Keys(sums), func(a, b periodKey) int {
		return cmp.Or(strings.Compare(a.department, b.department), strings.Compare(a.name, b.name))
	})
	for _, k := range keys {
		ps := sums[k]
		qs = append(qs, reserveQuery(k.department, ps.u, ps.nusd, &ps.took))
	}
	if err := queryEach(ctx, c, qs); err != nil {
		return err
	}
	for i, n := range jobs {
		if n == 0 {
			return fmt.Errorf("reserve a call for job %s: %w", calls[i].Job.ID, netcfg.ErrNotFound)
		}
	}
	for _, k := range keys {
		if ps := sums[k]; ps.took == 0 {
			return budgetError(ctx, c, k.department, ps.u, ps.nusd)
		}
	}
	return nil
}

// slotsQuery takes h's key slots, if its key limits how many jobs it may
// have unfinished: a conditional UPDATE whose count of rows (0: refused)
// goes to took; false when h takes no slots.
func slotsQuery(h Holds, took *int64) (rowQuery, bool) {
	if h.Slots <= 0 || h.KeyID == "" {
		return rowQuery{}, false
	}
	return rowQuery{sql: `UPDATE netsmith_key SET active = active + $2
		WHERE id = $1 AND (max_active = 0 OR active + $2 <= max_active)`,
		args: []any{h.KeyID, h.Slots}, errText: "take key slots", affected: took}, true
}

// activeLimitError is the *netcfg.ActiveLimitError of h's refused slots.
func activeLimitError(ctx context.Context, c Conn, h Holds) error {
	e := &netcfg.ActiveLimitError{Want: h.Slots}
	_ = c.QueryRow(ctx, `SELECT name, max_active, active FROM netsmith_key WHERE id = $1`, h.KeyID).
		Scan(&e.Key, &e.MaxActive, &e.Active)
	return e
}

// account is what a job's final transition needs to know about it.
type account struct {
	department, keyID, owner, batchID string
	reserved                          int64
	holdsSlot                         bool
	created                           time.Time
}

// releaseAll gives back what the jobs ids[i] still hold (their
// reservations, their key slots), as held[i] read by the update that made
// each final. That update happens once, so nothing is released twice. The
// jobs' own rows are updated in one round trip (queryEach); the shared rows
// are only noted in st, to be updated with the rest of the group.
func releaseAll(ctx context.Context, c Conn, ids []string, held []*account, st settlement) error {
	var qs []rowQuery
	for i, a := range held {
		if a.reserved == 0 && !a.holdsSlot {
			continue
		}
		id := ids[i]
		qs = append(qs, rowQuery{sql: `UPDATE netsmith_job SET reserved_nusd = 0, holds_slot = 0 WHERE id = $1`,
			args: []any{id}, errText: "release job " + id + " holds"})
		if a.reserved > 0 {
			st.period(a.department, dayPeriod(a.created)).reserved -= a.reserved
			st.period(a.department, monthPeriod(a.created)).reserved -= a.reserved
		}
		if a.holdsSlot && a.keyID != "" {
			st.row(settleRow{department: a.department, key: true, name: a.keyID}).slots++
		}
	}
	return queryEach(ctx, c, qs)
}

// settlement is what the final moves of one transaction change in rows
// that many jobs share: a department's spend and reservations per period,
// a key's active slots. It is applied once, after the jobs' own rows, each
// shared row in one statement, so that transactions finishing many jobs at
// once (a completion group, a sweep) hold those hot rows only at their
// end. The rows go in one fixed order, department by department, each
// department's periods and then its keys, the order in which submissions
// take them (TakeHolds, one department after another), so that no two
// transactions lock two of them in opposite orders.
type settlement map[settleRow]*settleDelta

// settleRow names a shared row; its field order is the order of apply.
type settleRow struct {
	department string
	key        bool   // false: a budget period; true: a key's slots
	name       string // the period, or the key id
}

type settleDelta struct{ spent, reserved, slots int64 }

func newSettlement() settlement { return settlement{} }

func (st settlement) row(r settleRow) *settleDelta {
	d := st[r]
	if d == nil {
		d = &settleDelta{}
		st[r] = d
	}
	return d
}

func (st settlement) period(department, period string) *settleDelta {
	return st.row(settleRow{department: department, name: period})
}

// spend notes money a department spent now.
func (st settlement) spend(department string, nusd int64, now time.Time) {
	if nusd == 0 {
		return
	}
	st.period(department, dayPeriod(now)).spent += nusd
	st.period(department, monthPeriod(now)).spent += nusd
}

// apply writes the settlement.
func (st settlement) apply(ctx context.Context, c Conn) error {
	rows := slices.SortedFunc(maps.Keys(st), func(a, b settleRow) int {
		return cmp.Or(strings.Compare(a.department, b.department), compareBool(a.key, b.key), strings.Compare(a.name, b.name))
	})
	qs := make([]rowQuery, 0, len(rows))
	for _, r := range rows {
		d := st[r]
		switch {
		case r.key:
			qs = append(qs, rowQuery{sql: `UPDATE netsmith_key SET active = CASE WHEN active > $2 THEN active - $2 ELSE 0 END
				WHERE id = $1`, args: []any{r.name, d.slots}, errText: "release key " + r.name + " slots"})
		case d.spent != 0:
			qs = append(qs, rowQuery{sql: `INSERT INTO netsmith_budget_usage (department, period, spent_nusd) VALUES ($1, $2, $3)
				ON CONFLICT (department, period) DO UPDATE SET spent_nusd = netsmith_budget_usage.spent_nusd + excluded.spent_nusd,
					reserved_nusd = netsmith_budget_usage.reserved_nusd + $4`,
				args: []any{r.department, r.name, d.spent, d.reserved}, errText: "settle " + r.department + " budget " + r.name})
		case d.reserved != 0:
			qs = append(qs, rowQuery{sql: `UPDATE netsmith_budget_usage SET reserved_nusd = reserved_nusd + $3
				WHERE department = $1 AND period = $2`,
				args: []any{r.department, r.name, d.reserved}, errText: "settle " + r.department + " budget " + r.name})
		}
	}
	// In the fixed order, in one round trip (queryEach).
	return queryEach(ctx, c, qs)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// ledgerEntry is charge n of job jobID, made under account a.
type ledgerEntry struct {
	jobID string
	n     int
	a     *account
	ch    netcfg.Charge
}

// chargeMany is the statement that writes ledger rows, many jobs'
// charges in one, and notes in st the cost of the rows that were new, for
// their departments' spend. Ledger ids are the job id and the charge's
// number, so a second completion of a job (or an economy batch's second
// settlement) charges nothing.
func chargeMany(es []ledgerEntry, now time.Time, st settlement) rowQuery {
	const width = 16
	args := make([]any, 0, len(es)*width)
	byID := make(map[string]*ledgerEntry, len(es))
	for i := range es {
		e := &es[i]
		id := e.jobID + ":" + strconv.Itoa(e.n)
		byID[id] = e
		args = append(args, id, e.jobID, e.a.batchID, e.a.keyID, e.a.owner, e.a.department,
			e.ch.Provider, e.ch.Model, e.ch.Kind, e.ch.InputTokens, e.ch.OutputTokens, e.ch.CacheWriteTokens,
			e.ch.CacheReadTokens, e.ch.CostNUSD, e.ch.SavedNUSD, now.UnixMilli())
	}
	return rowQuery{sql: `INSERT INTO netsmith_ledger (id, job_id, batch_id, key_id, owner, department,
		provider, model, kind, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
		cost_nusd, saved_nusd, created_at)
		VALUES ` + values(len(es), width, 1) + `
		ON CONFLICT (id) DO NOTHING RETURNING id`, args: args,
		errText: fmt.Sprintf("ledger for %d charges", len(es)),
		rows: func(rows Rows) error {
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				if e := byID[id]; e != nil {
					st.spend(e.a.department, e.ch.CostNUSD, now)
				}
			}
			return rows.Err()
		}}
}

// chargeAll is chargeMany's statements for es, in chunks.
func chargeAll(es []ledgerEntry, now time.Time, st settlement) []rowQuery {
	var qs []rowQuery
	for _, ch := range chunks(len(es)) {
		qs = append(qs, chargeMany(es[ch[0]:ch[1]], now, st))
	}
	return qs
}

// AddSpend adds money spent now to a department's day and month.
func AddSpend(ctx context.Context, c Conn, department string, nusd int64, now time.Time) error {
	st := newSettlement()
	st.spend(department, nusd, now)
	return st.apply(ctx, c)
}

// InsertLedger writes charges made outside a job (an economy batch's
// Message Batch) under id, once, and adds them to the department's spend.
func InsertLedger(ctx context.Context, c Conn, id, batchID, department string, charges []netcfg.Charge, now time.Time) error {
	st := newSettlement()
	a := &account{department: department, batchID: batchID}
	es := make([]ledgerEntry, len(charges))
	for k, ch := range charges {
		es[k] = ledgerEntry{jobID: id, n: k, a: a, ch: ch}
	}
	if err := queryEach(ctx, c, chargeAll(es, now, st)); err != nil {
		return err
	}
	return st.apply(ctx, c)
}

// costGroups are the columns a cost report may group by.
var costGroups = map[string]string{
	"department": "department",
	"user":       "owner",
	"key":        "key_id",
	"model":      "model",
	"day":        "CAST(created_at / 86400000 AS BIGINT)",
}

// CostGroupNames are the groups a cost report may be by, sorted.
func CostGroupNames() []string { return slices.Sorted(maps.Keys(costGroups)) }

// CostReport sums the ledger between since and until (zero: unbounded),
// grouped by one of CostGroupNames, for one department or all ("" with all).
func CostReport(ctx context.Context, c Conn, groupBy string, since, until time.Time, department string, all bool) ([]netcfg.CostRow, error) {
	col, ok := costGroups[groupBy]
	if !ok {
		return nil, fmt.Errorf("unknown group %q", groupBy)
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !since.IsZero() {
		add("created_at >= ?", since.UnixMilli())
	}
	if !until.IsZero() {
		add("created_at < ?", until.UnixMilli())
	}
	if !all {
		add("department = ?", department)
	}
	q := `SELECT ` + col + `, count(*),
		COALESCE(sum(CASE WHEN kind = 'cache_hit' THEN 0 ELSE 1 END), 0),
		COALESCE(sum(CASE WHEN kind = 'cache_hit' THEN 1 ELSE 0 END), 0),
		COALESCE(sum(input_tokens), 0), COALESCE(sum(output_tokens), 0),
		COALESCE(sum(cost_nusd), 0), COALESCE(sum(saved_nusd), 0)
		FROM netsmith_ledger`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` GROUP BY ` + col + ` ORDER BY 1`
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("cost report: %w", err)
	}
	defer rows.Close()
	var out []netcfg.CostRow
	for rows.Next() {
		var r netcfg.CostRow
		var g any
		if err := rows.Scan(&g, &r.Requests, &r.Calls, &r.CacheHits, &r.InputTokens, &r.OutputTokens,
			&r.CostNUSD, &r.SavedNUSD); err != nil {
			return nil, err
		}
		switch v := g.(type) {
		case int64:
			r.Group = time.UnixMilli(v * 86400000).UTC().Format(time.DateOnly)
		case string:
			r.Group = v
		case []byte:
			r.Group = string(v)
		default:
			r.Group = fmt.Sprint(v)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Backlog is how many unfinished jobs a department has, counted up to
// limit (counting a 100,000-job backlog on every submission would cost more
// than the answer is worth).
func Backlog(ctx context.Context, c Conn, department string, limit int64) (int64, error) {
	var n int64
	err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM netsmith_job WHERE department = $1 AND `+notFinal+`
		LIMIT $2) b`, department, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("department backlog: %w", err)
	}
	return n, nil
}

// BatchDepartment returns the department a batch is charged to.
func BatchDepartment(ctx context.Context, c Conn, batchID string) (string, error) {
	var d string
	if err := c.QueryRow(ctx, `SELECT department FROM netsmith_batch WHERE id = $1`, batchID).Scan(&d); err != nil {
		return "", fmt.Errorf("batch %s department: %w", batchID, err)
	}
	return d, nil
}
