package store

import (
	"context"
	"fmt"
	"time"

	"netsmith/internal/netcfg"
)

// InsertBatch stores b.
func InsertBatch(ctx context.Context, c Conn, b *netcfg.Batch) error {
	_, err := c.Exec(ctx, `INSERT INTO netsmith_batch (id, name, department, devices, intents, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, b.ID, b.Name, b.Department, b.Devices, b.Intents, b.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	return nil
}

// jobsPerInsert is the rows of one multi-row INSERT. Small on purpose: the
// SQLite driver looks up every bound parameter's name in a list as long as
// the statement's parameters, so a statement's binding cost grows with the
// square of its rows, and 25 rows cost far less per job than 200 on SQLite
// and less on PostgreSQL too (BenchmarkSubmitBatch).
const jobsPerInsert = 25

// InsertJobs inserts queued jobs that carry no idempotency key (a batch's
// devices, a group of single submissions) with multi-row INSERTs.
func InsertJobs(ctx context.Context, c Conn, jobs []*netcfg.Job) error {
	const cols = 17
	for start := 0; start < len(jobs); start += jobsPerInsert {
		chunk := jobs[start:min(start+jobsPerInsert, len(jobs))]
		args := make([]any, 0, len(chunk)*cols)
		for _, j := range chunk {
			created := j.CreatedAt.UnixMilli()
			args = append(args, j.ID, string(j.Kind), string(netcfg.StateQueued), j.Department, j.Owner, j.RequestHash,
				string(j.Request), j.RiverJobID, nullString(j.BatchID), j.MaxAttempts, created, millis(j.ExpiresAt), created,
				j.KeyID, j.ReservedNUSD, boolInt(j.HoldsSlot), nullString(j.IntentKey))
		}
		query := `INSERT INTO netsmith_job (id, kind, state, department, owner, request_hash, request,
			river_job_id, batch_id, max_attempts, created_at, expires_at, updated_at, key_id, reserved_nusd, holds_slot, intent_key)
			VALUES ` + values(len(chunk), cols, 1)
		if _, err := c.Exec(ctx, query, args...); err != nil {
			return fmt.Errorf("insert jobs %d–%d: %w", start, start+len(chunk)-1, err)
		}
	}
	return nil
}

// GetBatch returns a batch and its progress, or netcfg.ErrNotFound.
func GetBatch(ctx context.Context, c Conn, id string) (*netcfg.BatchStatus, error) {
	var (
		s       netcfg.BatchStatus
		created int64
	)
	err := c.QueryRow(ctx, `SELECT id, name, department, devices, intents, created_at FROM netsmith_batch WHERE id = $1`, id).
		Scan(&s.ID, &s.Name, &s.Department, &s.Devices, &s.Intents, &created)
	if err != nil {
		return nil, err
	}
	s.CreatedAt = time.UnixMilli(created).UTC()
	s.States = map[netcfg.JobState]int64{}
	rows, err := c.Query(ctx, `SELECT state, count(*), min(started_at), max(finished_at) FROM netsmith_job
		WHERE batch_id = $1 GROUP BY state`, id)
	if err != nil {
		return nil, fmt.Errorf("batch %s states: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state           string
			n               int64
			started, finish *int64
		)
		if err := rows.Scan(&state, &n, &started, &finish); err != nil {
			return nil, err
		}
		s.States[netcfg.JobState(state)] = n
		if t := fromMillis(started); !t.IsZero() && (s.FirstStarted.IsZero() || t.Before(s.FirstStarted)) {
			s.FirstStarted = t
		}
		if t := fromMillis(finish); t.After(s.LastFinished) {
			s.LastFinished = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Calls and tokens are the ledger's: every call a job paid for is a row
	// there (a refused template's tries and the fallback call after them
	// too), while a result carries only the tokens of what it shows.
	err = c.QueryRow(ctx, `SELECT COALESCE(sum(input_tokens), 0), COALESCE(sum(output_tokens), 0),
		COALESCE(sum(CASE WHEN kind <> '`+netcfg.ChargeCacheHit+`' THEN 1 ELSE 0 END), 0)
		FROM netsmith_ledger WHERE batch_id = $1 AND batch_id <> ''`, id).
		Scan(&s.InputTokens, &s.OutputTokens, &s.LLMCalls)
	if err != nil {
		return nil, fmt.Errorf("batch %s tokens: %w", id, err)
	}
	cs, err := GetCacheStats(ctx, c, id)
	if err != nil {
		return nil, err
	}
	s.Cache = *cs
	if s.Rejected, err = batchRejected(ctx, c, id); err != nil {
		return nil, err
	}
	return &s, nil
}

// batchRejected returns the batch's intents whose template is refused, by
// key.
func batchRejected(ctx context.Context, c Conn, id string) ([]netcfg.RejectedTemplate, error) {
	rows, err := c.Query(ctx, `SELECT t.key, t.role, t.platform, t.reason FROM netsmith_template t
		WHERE t.state = '`+string(netcfg.TemplateInvalid)+`' AND t.key IN (SELECT DISTINCT intent_key FROM netsmith_job
			WHERE batch_id = $1 AND intent_key IS NOT NULL)
		ORDER BY t.key`, id)
	if err != nil {
		return nil, fmt.Errorf("batch %s rejected templates: %w", id, err)
	}
	defer rows.Close()
	var out []netcfg.RejectedTemplate
	for rows.Next() {
		var r netcfg.RejectedTemplate
		if err := rows.Scan(&r.Key, &r.Role, &r.Platform, &r.Reason); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListBatchJobs returns up to limit of a batch's jobs with ids after
// `after`, in id order, with their results: one page of the results.
func ListBatchJobs(ctx context.Context, c Conn, batchID, after string, limit int) ([]*netcfg.Job, error) {
	return listJobs(ctx, c, `j.batch_id = $1 AND j.id > $2 ORDER BY j.id LIMIT $3`, batchID, after, limit)
}

// ListBatchJobsFinishedSince is ListBatchJobs for the jobs that reached a
// final state at or after since: one page of the results finished since a
// client last looked.
func ListBatchJobsFinishedSince(ctx context.Context, c Conn, batchID string, since time.Time, after string, limit int) ([]*netcfg.Job, error) {
	return listJobs(ctx, c, `j.batch_id = $1 AND j.finished_at >= $2 AND j.id > $3 ORDER BY j.id LIMIT $4`,
		batchID, since.UnixMilli(), after, limit)
}

// QueuedSiblings returns up to limit jobs of batch batchID whose intent is
// key that are still queued and never started, with ids after `after`, in
// id order, with their queue row ids: the devices a worker holding the
// intent's template may finish at once (see TouchQueued).
func QueuedSiblings(ctx context.Context, c Conn, batchID, key, after string, limit int) ([]*netcfg.Job, error) {
	return listJobs(ctx, c, `j.batch_id = $1 AND j.intent_key = $2 AND j.id > $3 AND j.state = 'queued'
		AND j.started_at IS NULL AND j.river_job_id IS NOT NULL ORDER BY j.id LIMIT $4`, batchID, key, after, limit)
}

// TouchQueued returns those of ids that are still queued, touching their
// rows. On PostgreSQL the touch locks them until the transaction ends, so
// that a cancel cannot change them between this check and their completion
// in the same transaction; it waits for a cancel already under way.
func TouchQueued(ctx context.Context, c Conn, ids []string, now time.Time) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += jobsPerInsert {
		chunk := ids[start:min(start+jobsPerInsert, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, now.UnixMilli())
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := c.Query(ctx, `UPDATE netsmith_job SET updated_at = $1 WHERE state = 'queued' AND id IN (`+
			params(len(chunk), 2)+`) RETURNING id`, args...)
		if err != nil {
			return nil, fmt.Errorf("touch queued jobs: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
