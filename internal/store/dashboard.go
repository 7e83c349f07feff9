package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"netsmith/internal/netcfg"
)

// The dashboard's reads (GET /v1/dashboard). Each takes a department: ""
// reads the whole cluster (admin keys), a name only that department's jobs,
// batches and spend (user keys). They read the database, never a process's
// counters, so every replica shows the same page.

// DashboardJobs counts department's jobs (every job when "") by state: all
// open ones, and those that finished at or after since. Finished jobs only
// grow, so they are counted over a window, through the finished_at index,
// and open ones through the state index: the read costs the open jobs and
// the window's, never the whole history.
func DashboardJobs(ctx context.Context, c Conn, department string, since time.Time) (*netcfg.JobOverview, error) {
	o := &netcfg.JobOverview{States: map[netcfg.JobState]int64{}}
	for _, s := range []netcfg.JobState{netcfg.StateQueued, netcfg.StateRunning, netcfg.StateRetrying,
		netcfg.StateSucceeded, netcfg.StateFailed, netcfg.StateCanceled, netcfg.StateExpired} {
		o.States[s] = 0
	}
	dept := ""
	args := []any{since.UnixMilli()}
	if department != "" {
		dept = " AND department = $2"
		args = append(args, department)
	}
	rows, err := c.Query(ctx, `SELECT state, count(*), min(created_at) FROM netsmith_job WHERE `+notFinal+dept+` GROUP BY state
		UNION ALL
		SELECT state, count(*), min(created_at) FROM netsmith_job WHERE finished_at >= $1`+dept+` GROUP BY state`, args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s       string
			n       int64
			created *int64
		)
		if err := rows.Scan(&s, &n, &created); err != nil {
			return nil, err
		}
		o.States[netcfg.JobState(s)] += n
		if netcfg.JobState(s) == netcfg.StateQueued {
			o.OldestQueued = fromMillis(created)
		}
	}
	return o, rows.Err()
}

// Throughput returns n buckets of width each, the last one ending at now,
// with the jobs finished in each (department's only when set). It reads
// the finished_at index, so its cost is the jobs of those minutes, not the
// table.
func Throughput(ctx context.Context, c Conn, department string, now time.Time, width time.Duration, n int) ([]netcfg.ThroughputBucket, error) {
	start := now.Add(-width * time.Duration(n))
	out := make([]netcfg.ThroughputBucket, n)
	for i := range out {
		out[i].Start = start.Add(width * time.Duration(i)).UTC()
	}
	q := `SELECT (finished_at - $1) / $2, state, count(*) FROM netsmith_job
		WHERE finished_at >= $1 AND finished_at <= $3`
	args := []any{start.UnixMilli(), width.Milliseconds(), now.UnixMilli()}
	if department != "" {
		q += ` AND department = $4`
		args = append(args, department)
	}
	rows, err := c.Query(ctx, q+` GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard throughput: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i, cnt int64
			state  string
		)
		if err := rows.Scan(&i, &state, &cnt); err != nil {
			return nil, err
		}
		if i == int64(n) { // finished at now itself: the last bucket ends there
			i--
		}
		if i < 0 || i >= int64(n) {
			continue
		}
		if netcfg.JobState(state) == netcfg.StateSucceeded {
			out[i].Succeeded += cnt
		} else {
			out[i].Failed += cnt
		}
	}
	return out, rows.Err()
}

// RecentFailures reads the jobs that ended failed, canceled or expired
// since `since`, newest first, at most limit of them, and keeps latest of
// them with their messages.
func RecentFailures(ctx context.Context, c Conn, department string, since time.Time, limit, latest int) (*netcfg.Failures, error) {
	q := `SELECT id, COALESCE(batch_id, ''), department, state, error, finished_at FROM netsmith_job
		WHERE finished_at >= $1 AND state IN ('failed', 'canceled', 'expired')`
	args := []any{since.UnixMilli()}
	if department != "" {
		q += ` AND department = $2`
		args = append(args, department)
	}
	args = append(args, limit+1)
	rows, err := c.Query(ctx, q+fmt.Sprintf(` ORDER BY finished_at DESC, id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard failures: %w", err)
	}
	defer rows.Close()
	f := &netcfg.Failures{ByReason: map[string]int64{}}
	for rows.Next() {
		var (
			x        netcfg.Failure
			state    string
			finished int64
		)
		if err := rows.Scan(&x.JobID, &x.BatchID, &x.Department, &state, &x.Error, &finished); err != nil {
			return nil, err
		}
		if f.Read == limit {
			f.Truncated = true
			break
		}
		f.Read++
		x.State = netcfg.JobState(state)
		x.Reason = netcfg.FailureReason(x.State, x.Error)
		x.FinishedAt = time.UnixMilli(finished).UTC()
		f.ByReason[x.Reason]++
		if len(f.Latest) < latest {
			f.Latest = append(f.Latest, x)
		}
	}
	return f, rows.Err()
}

// ActiveBatches returns the batches (department's when set) that still
// have unfinished jobs or finished one at or after since, newest first, at
// most limit, with their progress.
func ActiveBatches(ctx context.Context, c Conn, department string, since time.Time, limit int) ([]*netcfg.BatchStatus, error) {
	q := `SELECT b.id FROM netsmith_batch b WHERE EXISTS (SELECT 1 FROM netsmith_job j
		WHERE j.batch_id = b.id AND (j.` + notFinal + ` OR j.finished_at >= $1))`
	args := []any{since.UnixMilli()}
	if department != "" {
		q += ` AND b.department = $2`
		args = append(args, department)
	}
	args = append(args, limit)
	rows, err := c.Query(ctx, q+fmt.Sprintf(` ORDER BY b.created_at DESC, b.id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard batches: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	out := make([]*netcfg.BatchStatus, 0, len(ids))
	for _, id := range ids {
		b, err := GetBatch(ctx, c, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// SpendToday returns each department's spend today (UTC) from the ledger,
// with its daily budget and open reservations; departments with a budget
// and no spend are listed too. Sorted by spend, highest first.
func SpendToday(ctx context.Context, c Conn, department string, now time.Time) ([]netcfg.DepartmentSpend, error) {
	day := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	by := map[string]*netcfg.DepartmentSpend{}
	get := func(d string) *netcfg.DepartmentSpend {
		s, ok := by[d]
		if !ok {
			s = &netcfg.DepartmentSpend{Department: d}
			by[d] = s
		}
		return s
	}
	filter := func(col string, n int) (string, []any) {
		if department == "" {
			return "", nil
		}
		return fmt.Sprintf(" AND %s = $%d", col, n), []any{department}
	}
	w, extra := filter("department", 2)
	rows, err := c.Query(ctx, `SELECT department, COALESCE(sum(cost_nusd), 0), COALESCE(sum(saved_nusd), 0),
		COALESCE(sum(CASE WHEN kind = '`+netcfg.ChargeCacheHit+`' THEN 0 ELSE 1 END), 0),
		COALESCE(sum(CASE WHEN kind = '`+netcfg.ChargeCacheHit+`' THEN 1 ELSE 0 END), 0)
		FROM netsmith_ledger WHERE created_at >= $1`+w+` GROUP BY department`, append([]any{day.UnixMilli()}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dashboard spend: %w", err)
	}
	for rows.Next() {
		var s netcfg.DepartmentSpend
		if err := rows.Scan(&s.Department, &s.SpentNUSD, &s.SavedNUSD, &s.Calls, &s.CacheHits); err != nil {
			rows.Close()
			return nil, err
		}
		*get(s.Department) = s
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	w, extra = filter("b.department", 2)
	rows, err = c.Query(ctx, `SELECT b.department, b.daily_nusd, b.warn_pct, COALESCE(u.reserved_nusd, 0)
		FROM netsmith_budget b LEFT JOIN netsmith_budget_usage u ON u.department = b.department AND u.period = $1
		WHERE 1 = 1`+w, append([]any{dayPeriod(now)}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dashboard budgets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d                  string
			daily, warn, reser int64
		)
		if err := rows.Scan(&d, &daily, &warn, &reser); err != nil {
			return nil, err
		}
		s := get(d)
		s.DailyNUSD, s.WarnPct, s.ReservedNUSD = daily, warn, reser
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]netcfg.DepartmentSpend, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SpentNUSD != out[j].SpentNUSD {
			return out[i].SpentNUSD > out[j].SpentNUSD
		}
		return out[i].Department < out[j].Department
	})
	return out, nil
}

// UpstreamStates reads every row of the upstream limiter's table.
func UpstreamStates(ctx context.Context, c Conn, now time.Time) ([]netcfg.UpstreamState, error) {
	rows, err := c.Query(ctx, `SELECT provider, model, paused_until_us, factor, factor_at_us, tat_req_us, tat_in_us, tat_out_us
		FROM netsmith_upstream_limit ORDER BY provider, model`)
	if err != nil {
		return nil, fmt.Errorf("dashboard upstream: %w", err)
	}
	defer rows.Close()
	nowUS := now.UnixMicro()
	ahead := func(tat int64) time.Duration {
		if tat <= nowUS {
			return 0
		}
		return time.Duration(tat-nowUS) * time.Microsecond
	}
	var out []netcfg.UpstreamState
	for rows.Next() {
		var (
			s                             netcfg.UpstreamState
			paused, fat, treq, tin, toutt int64
		)
		if err := rows.Scan(&s.Provider, &s.Model, &paused, &s.Factor, &fat, &treq, &tin, &toutt); err != nil {
			return nil, err
		}
		if paused > 0 {
			s.PausedUntil = time.UnixMicro(paused).UTC()
		}
		if fat > 0 {
			s.FactorAt = time.UnixMicro(fat).UTC()
		}
		s.AheadReq, s.AheadIn, s.AheadOut = ahead(treq), ahead(tin), ahead(toutt)
		out = append(out, s)
	}
	return out, rows.Err()
}
