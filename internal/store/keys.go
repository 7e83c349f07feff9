package store

import (
	"context"
	"fmt"
	"netsmith/internal/netcfg"
	"time"
)

// InsertKey stores k under the hash of its secret.
func InsertKey(ctx context.Context, c Conn, k *netcfg.Key, hash string) error {
	var taken int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM netsmith_key WHERE name = $1 AND revoked_at IS NULL`,
		k.Name).Scan(&taken); err != nil {
		return fmt.Errorf("insert key: %w", err)
	}
	if taken > 0 {
		return netcfg.ErrKeyName
	}
	_, err := c.Exec(ctx, `INSERT INTO netsmith_key (id, name, department, role, hash, rpm, max_active, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Name, k.Department, k.Role, hash, k.RPM, k.MaxActive, k.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert key: %w", err)
	}
	return nil
}

const keyColumns = `id, name, department, role, rpm, max_active, active, created_at, revoked_at`

func scanKey(r Row) (*netcfg.Key, error) {
	var (
		k       netcfg.Key
		created int64
		revoked *int64
	)
	if err := r.Scan(&k.ID, &k.Name, &k.Department, &k.Role, &k.RPM, &k.MaxActive, &k.Active,
		&created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = time.UnixMilli(created).UTC(), fromMillis(revoked)
	return &k, nil
}

// KeyByHash returns the key whose secret hashes to hash, revoked or not,
// or netcfg.ErrNotFound.
func KeyByHash(ctx context.Context, c Conn, hash string) (*netcfg.Key, error) {
	return scanKey(c.QueryRow(ctx, `SELECT `+keyColumns+` FROM netsmith_key WHERE hash = $1`, hash))
}

// ListKeys returns every key, oldest first.
func ListKeys(ctx context.Context, c Conn) ([]*netcfg.Key, error) {
	rows, err := c.Query(ctx, `SELECT `+keyColumns+` FROM netsmith_key ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []*netcfg.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey revokes the live key with that id or name. It reports false
// when there is none.
func RevokeKey(ctx context.Context, c Conn, idOrName string, now time.Time) (bool, error) {
	n, err := c.Exec(ctx, `UPDATE netsmith_key SET revoked_at = $2
		WHERE (id = $1 OR name = $1) AND revoked_at IS NULL`, idOrName, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("revoke key: %w", err)
	}
	return n > 0, nil
}

// AnyKeys reports whether a key was ever created. Once one was, the API
// requires keys, even if all are revoked later: revoking the last key must
// not open the service.
func AnyKeys(ctx context.Context, c Conn) (bool, error) {
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM netsmith_key LIMIT 1) k`).Scan(&n); err != nil {
		return false, fmt.Errorf("count keys: %w", err)
	}
	return n > 0, nil
}

// TakeKeyRate admits one submission under key id's per-minute limit, shared
// by every replica: a GCRA in one conditional UPDATE, allowing a burst of a
// tenth of a minute's worth. It returns 0 when admitted, or how long to
// wait.
func TakeKeyRate(ctx context.Context, c Conn, id string, rpm int64, now time.Time) (time.Duration, error) {
	if rpm <= 0 {
		return 0, nil
	}
	nowUS := now.UnixMicro()
	interval := int64(time.Minute/time.Microsecond) / rpm
	tau := interval * max(rpm/10-1, 0) // burst of rpm/10 requests
	n, err := c.Exec(ctx, `UPDATE netsmith_key
		SET tat_us = CASE WHEN tat_us > $2 THEN tat_us ELSE $2 END + $3
		WHERE id = $1 AND (CASE WHEN tat_us > $2 THEN tat_us ELSE $2 END) - $2 <= $4`,
		id, nowUS, interval, tau)
	if err != nil {
		return 0, fmt.Errorf("key rate: %w", err)
	}
	if n == 1 {
		return 0, nil
	}
	var tat int64
	if err := c.QueryRow(ctx, `SELECT tat_us FROM netsmith_key WHERE id = $1`, id).Scan(&tat); err != nil {
		return 0, fmt.Errorf("key rate: %w", err)
	}
	wait := time.Duration(tat-nowUS-tau) * time.Microsecond
	return max(wait, time.Millisecond), nil
}
