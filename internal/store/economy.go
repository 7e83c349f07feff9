package store

import (
	"context"
	"fmt"
	"netsmith/internal/netcfg"
	"time"
)

// EconomyOwner is the template-lease owner of a fleet batch's economy job.
func EconomyOwner(batchID string) string { return "economy:" + batchID }

// InsertEconomy stores a pending economy record for e.BatchID.
func InsertEconomy(ctx context.Context, c Conn, e *netcfg.BatchEconomy) error {
	now := e.CreatedAt.UnixMilli()
	_, err := c.Exec(ctx, `INSERT INTO netsmith_economy (batch_id, state, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
		e.BatchID, netcfg.EconomyPending, now)
	if err != nil {
		return fmt.Errorf("insert economy %s: %w", e.BatchID, err)
	}
	return nil
}

// GetEconomy returns the economy record of a batch, or netcfg.ErrNotFound.
func GetEconomy(ctx context.Context, c Conn, batchID string) (*netcfg.BatchEconomy, error) {
	var (
		e                netcfg.BatchEconomy
		created, updated int64
	)
	err := c.QueryRow(ctx, `SELECT batch_id, message_batch_id, state, requests, filled, released, created_at, updated_at
		FROM netsmith_economy WHERE batch_id = $1`, batchID).Scan(&e.BatchID, &e.MessageBatchID, &e.State,
		&e.Requests, &e.Filled, &e.Released, &created, &updated)
	if err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &e, nil
}

// UpdateEconomy stores e's message batch, state and counts.
func UpdateEconomy(ctx context.Context, c Conn, e *netcfg.BatchEconomy, now time.Time) error {
	_, err := c.Exec(ctx, `UPDATE netsmith_economy SET message_batch_id = $2, state = $3, requests = $4, filled = $5,
		released = $6, updated_at = $7 WHERE batch_id = $1`,
		e.BatchID, e.MessageBatchID, e.State, e.Requests, e.Filled, e.Released, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("update economy %s: %w", e.BatchID, err)
	}
	return nil
}

// LeasedTemplateKeys returns the keys of the pending entries owner holds.
func LeasedTemplateKeys(ctx context.Context, c Conn, owner string) ([]string, error) {
	rows, err := c.Query(ctx, `SELECT key FROM netsmith_template WHERE lease_owner = $1 AND state = 'pending' ORDER BY key`, owner)
	if err != nil {
		return nil, fmt.Errorf("leased templates: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
