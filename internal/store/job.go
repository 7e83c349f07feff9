package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/netcfg"
)

// InsertJob inserts j in state queued. When j carries an idempotency key that
// its department already used, it inserts nothing and returns the existing
// job with existing=true, or netcfg.ErrConflict when the stored request differs.
func InsertJob(ctx context.Context, c Conn, j *netcfg.Job) (existing *netcfg.Job, err error) {
	var idem any
	if j.IdempotencyKey != "" {
		idem = j.IdempotencyKey
	}
	now := j.CreatedAt.UnixMilli()
	n, err := c.Exec(ctx, `INSERT INTO netsmith_job
		(id, kind, state, department, owner, idempotency_key, request_hash, request, batch_id,
		 max_attempts, created_at, expires_at, updated_at, key_id, reserved_nusd, holds_slot, river_job_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $13, $14, $15, $16)
		ON CONFLICT (department, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
		j.ID, string(j.Kind), string(netcfg.StateQueued), j.Department, j.Owner, idem, j.RequestHash,
		string(j.Request), nullString(j.BatchID), j.MaxAttempts, now, millis(j.ExpiresAt),
		j.KeyID, j.ReservedNUSD, boolInt(j.HoldsSlot), nullInt(j.RiverJobID))
	if err != nil {
		return nil, fmt.Errorf("insert job: %w", err)
	}
	if n == 1 {
		return nil, nil
	}
	prev, err := getJob(ctx, c, `j.department = $1 AND j.idempotency_key = $2`, j.Department, j.IdempotencyKey)
	if err != nil {
		return nil, fmt.Errorf("load job for idempotency key: %w", err)
	}
	if prev.RequestHash != j.RequestHash {
		return prev, netcfg.ErrConflict
	}
	return prev, nil
}

// GetJob returns the job with its result, or netcfg.ErrNotFound.
func GetJob(ctx context.Context, c Conn, id string) (*netcfg.Job, error) {
	return getJob(ctx, c, `j.id = $1`, id)
}

// GetJobs returns the jobs of ids that exist, with their results, in no
// particular order: one read for many (the queue's workers read the jobs
// River hands them together).
func GetJobs(ctx context.Context, c Conn, ids []string) ([]*netcfg.Job, error) {
	out := make([]*netcfg.Job, 0, len(ids))
	for _, ch := range chunks(len(ids)) {
		chunk := ids[ch[0]:ch[1]]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		js, err := listJobs(ctx, c, `j.id IN (`+params(len(chunk), 1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, js...)
	}
	return out, nil
}

const jobColumns = `j.id, j.kind, j.state, j.department, j.owner, j.key_id, j.idempotency_key, j.request_hash, j.request,
	j.river_job_id, j.batch_id, j.intent_key, j.attempts, j.max_attempts, j.error, j.created_at, j.started_at,
	j.finished_at, j.expires_at, j.updated_at, j.reserved_nusd, j.holds_slot,
	r.body, r.provider, r.model, r.input_tokens, r.output_tokens, r.duration_ms, r.created_at,
	r.cache, r.cache_key, r.saved_input_tokens, r.saved_output_tokens`

func getJob(ctx context.Context, c Conn, where string, args ...any) (*netcfg.Job, error) {
	row := c.QueryRow(ctx, `SELECT `+jobColumns+`
		FROM netsmith_job j LEFT JOIN netsmith_result r ON r.job_id = j.id WHERE `+where, args...)
	return scanJob(row)
}

func scanJob(row Row) (*netcfg.Job, error) {
	var (
		j                                   netcfg.Job
		kind, state, request                string
		idem, batch, body, provider, model  *string
		intentKey                           *string
		riverID, started, finished, expires *int64
		in, out, dur, rcreated              *int64
		cache, cacheKey                     *string
		savedIn, savedOut                   *int64
		created, updated, holds             int64
	)
	if err := row.Scan(&j.ID, &kind, &state, &j.Department, &j.Owner, &j.KeyID, &idem, &j.RequestHash, &request,
		&riverID, &batch, &intentKey, &j.Attempts, &j.MaxAttempts, &j.Error, &created, &started,
		&finished, &expires, &updated, &j.ReservedNUSD, &holds,
		&body, &provider, &model, &in, &out, &dur, &rcreated,
		&cache, &cacheKey, &savedIn, &savedOut); err != nil {
		return nil, err
	}
	j.Kind, j.State, j.Request = netcfg.JobKind(kind), netcfg.JobState(state), json.RawMessage(request)
	j.HoldsSlot = holds != 0
	j.IdempotencyKey, j.BatchID, j.IntentKey = deref(idem), deref(batch), deref(intentKey)
	if riverID != nil {
		j.RiverJobID = *riverID
	}
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	j.StartedAt, j.FinishedAt, j.ExpiresAt = fromMillis(started), fromMillis(finished), fromMillis(expires)
	if body != nil {
		j.Result = &netcfg.Result{
			Body:         json.RawMessage(*body),
			Provider:     deref(provider),
			Model:        deref(model),
			InputTokens:  *in,
			OutputTokens: *out,
			Duration:     time.Duration(*dur) * time.Millisecond,
			CreatedAt:    fromMillis(rcreated),
			Cache:        deref(cache),
			CacheKey:     deref(cacheKey),
		}
		if savedIn != nil {
			j.Result.SavedInputTokens, j.Result.SavedOutputTokens = *savedIn, *savedOut
		}
	}
	return &j, nil
}

// notFinal is the SQL condition that a job can still change state. It
// names the open states rather than excluding the final ones, so that
// counts of open jobs use the state index instead of reading every job
// that ever finished.
var notFinal = func() string {
	open := []netcfg.JobState{netcfg.StateQueued, netcfg.StateRunning, netcfg.StateRetrying}
	q := make([]string, len(open))
	for i, s := range open {
		if s.Final() {
			panic("store: open state " + string(s) + " is final")
		}
		q[i] = "'" + string(s) + "'"
	}
	return "state IN (" + strings.Join(q, ", ") + ")"
}()

// MarkRunning records that attempt of job id started at now. It reports
// false when the job is already in a final state (canceled or expired while
// it waited) and must not run.
func MarkRunning(ctx context.Context, c Conn, id string, attempt int, now time.Time) (bool, error) {
	n, err := c.Exec(ctx, `UPDATE netsmith_job SET state = $2, attempts = $3,
		started_at = COALESCE(started_at, $4), updated_at = $4
		WHERE id = $1 AND `+notFinal, id, string(netcfg.StateRunning), attempt, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("mark job %s running: %w", id, err)
	}
	return n == 1, nil
}

// MarkState moves a job that is not yet final to state with the given error
// text (empty to clear it). Final states also set finished_at. attempt and
// started, when set, record the attempt that got here (a worker may record
// them before its "running" mark lands). It reports whether the job changed.
func MarkState(ctx context.Context, c Conn, id string, state netcfg.JobState, errText string, attempt int, started, now time.Time) (bool, error) {
	st := newSettlement()
	ok, _, err := markState(ctx, c, id, state, errText, attempt, started, now, st)
	if err != nil || !ok {
		return ok, err
	}
	return ok, st.apply(ctx, c)
}

// markState is MarkState; on a move to a final state it also releases what
// the job held and returns its account.
func markState(ctx context.Context, c Conn, id string, state netcfg.JobState, errText string, attempt int, started, now time.Time, st settlement) (bool, *account, error) {
	if !state.Final() {
		n, err := c.Exec(ctx, markUpdate, markArgs(id, state, errText, attempt, started, now)...)
		if err != nil {
			return false, nil, fmt.Errorf("mark job %s %s: %w", id, state, err)
		}
		return n == 1, nil, nil
	}
	var a *account
	err := queryEach(ctx, c, []rowQuery{finalMark(id, state, errText, attempt, started, now, &a)})
	if err != nil || a == nil {
		return false, nil, err
	}
	if err := releaseAll(ctx, c, []string{id}, []*account{a}, st); err != nil {
		return false, nil, err
	}
	return true, a, nil
}

// markUpdate moves a job that is not final ($1) to a state ($2) with an
// error text ($3), finished ($4, or NULL) at $5 by attempt $6 started at
// $7 (or NULL).
var markUpdate = `UPDATE netsmith_job SET state = $2, error = $3,
	finished_at = COALESCE($4, finished_at), updated_at = $5,
	attempts = CASE WHEN attempts < $6 THEN $6 ELSE attempts END,
	started_at = COALESCE(started_at, $7)
	WHERE id = $1 AND ` + notFinal

func markArgs(id string, state netcfg.JobState, errText string, attempt int, started, now time.Time) []any {
	var finished any
	if state.Final() {
		finished = now.UnixMilli()
	}
	return []any{id, string(state), errText, finished, now.UnixMilli(), attempt, millis(started)}
}

// finalMark is the statement that moves job id to final state and returns
// what the job holds, in the same statement; its scan sets *a to the job's
// account, or leaves it nil when the job was final already.
func finalMark(id string, state netcfg.JobState, errText string, attempt int, started, now time.Time, a **account) rowQuery {
	return rowQuery{
		sql:  markUpdate + ` RETURNING department, key_id, owner, COALESCE(batch_id, ''), reserved_nusd, holds_slot, created_at`,
		args: markArgs(id, state, errText, attempt, started, now),
		scan: func(r Row) error {
			var (
				acct          account
				slot, created int64
			)
			err := r.Scan(&acct.department, &acct.keyID, &acct.owner, &acct.batchID, &acct.reserved, &slot, &created)
			if errors.Is(err, netcfg.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mark job %s %s: %w", id, state, err)
			}
			acct.holdsSlot, acct.created = slot != 0, time.UnixMilli(created)
			*a = &acct
			return nil
		},
	}
}

// Complete marks job id succeeded and stores its result, unless the job was
// already final (canceled while it ran). It is idempotent: a job that runs
// twice after a crash stores one result and is charged once. The result,
// the ledger rows and the settled budget commit together.
func Complete(ctx context.Context, c Conn, id string, attempt int, started time.Time, r *netcfg.Result, now time.Time) (bool, error) {
	done, err := CompleteMany(ctx, c, []Completion{{ID: id, Attempt: attempt, Started: started, Result: r}}, now)
	if err != nil {
		return false, err
	}
	return done[0], nil
}

// Completion is one job's successful attempt, for CompleteMany.
type Completion struct {
	ID      string // once per call: a second completion of a job is ignored
	Attempt int
	Started time.Time
	Result  *netcfg.Result
}

// Completed returns job j as GetJob reads it after CompleteMany completed
// it with c at now (reported done): succeeded, its times and result at the
// precision the database keeps. The process that completed a job hands it
// to its local watchers with this instead of their reading it back.
func Completed(j *netcfg.Job, c Completion, now time.Time) *netcfg.Job {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return time.UnixMilli(t.UnixMilli()).UTC()
	}
	f := *j
	f.State, f.Error = netcfg.StateSucceeded, ""
	f.Attempts = max(f.Attempts, c.Attempt)
	if f.StartedAt.IsZero() {
		f.StartedAt = c.Started
	}
	f.StartedAt, f.CreatedAt, f.ExpiresAt = ms(f.StartedAt), ms(f.CreatedAt), ms(f.ExpiresAt)
	f.FinishedAt, f.UpdatedAt = ms(now), ms(now)
	f.ReservedNUSD, f.HoldsSlot = 0, false // released
	r := *c.Result
	r.Duration = r.Duration.Truncate(time.Millisecond)
	r.CreatedAt, r.Charges = ms(now), nil
	f.Result = &r
	return &f
}

// CompleteMany is Complete for several jobs in one transaction. It reports
// which of them it completed (the others were already final). The rows the
// jobs share (a department's spend, a key's slots) are updated once at the
// end, in a fixed order (see settlement). The jobs' ledger rows and results
// are written many per statement (see chunks), where each job took a
// statement for each (a round trip and an executor start each).
func CompleteMany(ctx context.Context, c Conn, cs []Completion, now time.Time) ([]bool, error) {
	st := newSettlement()
	done := make([]bool, len(cs))
	byJob := make(map[string]*account, len(cs))
	var charged []ledgerEntry
	var stored []int
	// One job per UPDATE, in the caller's order: on PostgreSQL a
	// multi-row UPDATE … FROM (derived rows) missed jobs now and then
	// when it raced a sweep on the same rows (they stayed open while
	// their workers reported them done; queuetest SweepRacesWorkers), and
	// it locks rows in its plan's order, not the caller's. They go in one
	// round trip (queryEach), each still on its own.
	accts := make([]*account, len(cs))
	marks := make([]rowQuery, len(cs))
	for i, x := range cs {
		marks[i] = finalMark(x.ID, netcfg.StateSucceeded, "", x.Attempt, x.Started, now, &accts[i])
	}
	if err := queryEach(ctx, c, marks); err != nil {
		return nil, err
	}
	var ids []string
	var held []*account
	for i, x := range cs {
		a := accts[i]
		if a == nil {
			continue // already final, or completed earlier in this call
		}
		ids, held = append(ids, x.ID), append(held, a)
		done[i], byJob[x.ID] = true, a
		for k, ch := range x.Result.Charges {
			charged = append(charged, ledgerEntry{jobID: x.ID, n: k, a: a, ch: ch})
		}
		stored = append(stored, i)
	}
	if err := releaseAll(ctx, c, ids, held, st); err != nil {
		return nil, err
	}
	// The ledger rows and the results, in one round trip (queryEach).
	writes := chargeAll(charged, now, st)
	for _, ch := range chunks(len(stored)) {
		writes = append(writes, storeResults(cs, stored[ch[0]:ch[1]], byJob, now))
	}
	if err := queryEach(ctx, c, writes); err != nil {
		return nil, err
	}
	return done, st.apply(ctx, c)
}

// chunks splits n rows into runs of powers of two, largest first, at most
// maxChunk each: [0,32) [32,36) [36,37) for 37. Each statement shape (rows
// per statement) is prepared once per connection and then reused, so a
// few fixed shapes serve every group size.
func chunks(n int) [][2]int {
	var out [][2]int
	for at := 0; at < n; {
		size := maxChunk
		for size > n-at {
			size /= 2
		}
		out = append(out, [2]int{at, at + size})
		at += size
	}
	return out
}

// maxChunk bounds the rows of one statement: 64 results of 13 values stay
// far below both databases' limits on bound values.
const maxChunk = 64

// values returns n rows of width placeholders each, numbered from first:
// "($2, $3), ($4, $5)" for n 2, width 2, first 2.
func values(n, width, first int) string {
	var b strings.Builder
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(params(width, first+r*width))
		b.WriteByte(')')
	}
	return b.String()
}

// params is the placeholder list $first, …, $(first+n-1).
func params(n, first int) string {
	var b strings.Builder
	for k := range n {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + k))
	}
	return b.String()
}

// storeResults is the statement that inserts the results of the
// completions cs[i] for i in idx.
func storeResults(cs []Completion, idx []int, accts map[string]*account, now time.Time) rowQuery {
	const width = 13
	args := make([]any, 0, len(idx)*width)
	for _, i := range idx {
		x, r := cs[i], cs[i].Result
		args = append(args, x.ID, string(r.Body), r.Provider, r.Model, r.InputTokens, r.OutputTokens,
			r.Duration.Milliseconds(), now.UnixMilli(), r.Cache, r.CacheKey, r.SavedInputTokens, r.SavedOutputTokens,
			nullString(accts[x.ID].batchID))
	}
	return rowQuery{sql: `INSERT INTO netsmith_result
		(job_id, body, provider, model, input_tokens, output_tokens, duration_ms, created_at,
		 cache, cache_key, saved_input_tokens, saved_output_tokens, batch_id)
		VALUES ` + values(len(idx), width, 1) + ` ON CONFLICT (job_id) DO NOTHING`, args: args,
		errText: fmt.Sprintf("store results of %d jobs", len(idx))}
}

// CountByState returns how many jobs are in each non-final state.
func CountByState(ctx context.Context, c Conn) (map[netcfg.JobState]int64, error) {
	rows, err := c.Query(ctx, `SELECT state, count(*) FROM netsmith_job WHERE `+notFinal+` GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[netcfg.JobState]int64{
		netcfg.StateQueued: 0, netcfg.StateRunning: 0, netcfg.StateRetrying: 0,
	}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[netcfg.JobState(s)] = n
	}
	return out, rows.Err()
}

// Overdue returns up to limit jobs still queued (never started) whose
// expiry passed before now, with their queue row ids.
func Overdue(ctx context.Context, c Conn, now time.Time, limit int) ([]*netcfg.Job, error) {
	return listJobs(ctx, c, `j.state = 'queued' AND j.started_at IS NULL AND j.expires_at IS NOT NULL
		AND j.expires_at < $1 ORDER BY j.expires_at LIMIT $2`, now.UnixMilli(), limit)
}

// Orphans returns up to limit jobs that are not final by our record but
// whose queue row has ended or vanished (discarded after a rescue, deleted by
// hand), last touched before `before`. The caller reconciles them.
func Orphans(ctx context.Context, c Conn, before time.Time, limit int) ([]*netcfg.Job, error) {
	return listJobs(ctx, c, `j.`+notFinal+` AND j.updated_at < $1 AND j.river_job_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM river_job q WHERE q.id = j.river_job_id
			AND q.state NOT IN ('discarded', 'cancelled', 'completed'))
		ORDER BY j.updated_at LIMIT $2`, before.UnixMilli(), limit)
}

func listJobs(ctx context.Context, c Conn, where string, args ...any) ([]*netcfg.Job, error) {
	rows, err := c.Query(ctx, `SELECT `+jobColumns+`
		FROM netsmith_job j LEFT JOIN netsmith_result r ON r.job_id = j.id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []*netcfg.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// CountResults returns the number of result rows and of distinct jobs among
// them; the two are equal unless a job was stored twice.
func CountResults(ctx context.Context, c Conn) (rows, jobs int64, err error) {
	err = c.QueryRow(ctx, `SELECT count(*), count(DISTINCT job_id) FROM netsmith_result`).Scan(&rows, &jobs)
	return rows, jobs, err
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// JobVersions returns the versions of the jobs named in ids that exist:
// the status feed's poll of the jobs it keeps. The ids go in the shared
// chunks (a few statement shapes, each prepared once), all in one
// pipelined round trip on PostgreSQL (queryEach).
func JobVersions(ctx context.Context, c Conn, ids []string) (map[string]netcfg.JobVersion, error) {
	out := make(map[string]netcfg.JobVersion, len(ids))
	read := func(rows Rows) error {
		for rows.Next() {
			var (
				id, state string
				v         netcfg.JobVersion
			)
			if err := rows.Scan(&id, &state, &v.Attempts, &v.UpdatedAt); err != nil {
				return err
			}
			v.State = netcfg.JobState(state)
			out[id] = v
		}
		return nil
	}
	var qs []rowQuery
	for _, ch := range chunks(len(ids)) {
		chunk := ids[ch[0]:ch[1]]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		qs = append(qs, rowQuery{
			sql:  `SELECT id, state, attempts, updated_at FROM netsmith_job WHERE id IN (` + params(len(chunk), 1) + `)`,
			args: args, rows: read, errText: "job versions",
		})
	}
	if err := queryEach(ctx, c, qs); err != nil {
		return nil, err
	}
	return out, nil
}
