package store

import (
	"context"
	"fmt"
	"time"

	"netsmith/internal/netcfg"
)

// Process is one netsmith process's heartbeat row.
type Process struct {
	ID        string
	Role      string // all, api or worker
	Version   string
	StartedAt time.Time
	LastSeen  time.Time
}

// Heartbeat records that process p is alive at p.LastSeen, inserting its
// row the first time.
func Heartbeat(ctx context.Context, c Conn, p Process) error {
	_, err := c.Exec(ctx, `INSERT INTO netsmith_process (id, role, version, started_at, last_seen)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`,
		p.ID, p.Role, p.Version, p.StartedAt.UnixMilli(), p.LastSeen.UnixMilli())
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// RemoveProcess deletes process id's row (it stopped), and the rows of
// processes not seen since before: they died without removing theirs.
func RemoveProcess(ctx context.Context, c Conn, id string, before time.Time) error {
	if _, err := c.Exec(ctx, `DELETE FROM netsmith_process WHERE id = $1 OR last_seen < $2`, id, before.UnixMilli()); err != nil {
		return fmt.Errorf("remove process: %w", err)
	}
	return nil
}

// LiveProcesses returns the processes seen at or after since, oldest first.
func LiveProcesses(ctx context.Context, c Conn, since time.Time) ([]Process, error) {
	rows, err := c.Query(ctx, `SELECT id, role, version, started_at, last_seen FROM netsmith_process
		WHERE last_seen >= $1 ORDER BY started_at, id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer rows.Close()
	var out []Process
	for rows.Next() {
		var p Process
		var started, seen int64
		if err := rows.Scan(&p.ID, &p.Role, &p.Version, &started, &seen); err != nil {
			return nil, err
		}
		p.StartedAt, p.LastSeen = time.UnixMilli(started), time.UnixMilli(seen)
		out = append(out, p)
	}
	return out, rows.Err()
}

// OldestSince returns, for the queued and running states, the oldest of
// their jobs' times: queued since submission, running since start. A
// state with no job is left out.
func OldestSince(ctx context.Context, c Conn) (map[netcfg.JobState]time.Time, error) {
	var queued, running *int64
	err := c.QueryRow(ctx, `SELECT
		(SELECT min(created_at) FROM netsmith_job WHERE state = 'queued'),
		(SELECT min(started_at) FROM netsmith_job WHERE state = 'running')`).Scan(&queued, &running)
	if err != nil {
		return nil, fmt.Errorf("oldest jobs: %w", err)
	}
	out := map[netcfg.JobState]time.Time{}
	if queued != nil {
		out[netcfg.StateQueued] = time.UnixMilli(*queued)
	}
	if running != nil {
		out[netcfg.StateRunning] = time.UnixMilli(*running)
	}
	return out, nil
}
