package store

import (
	"context"
	"fmt"
	"netsmith/internal/netcfg"
	"time"
)

// GetTemplate returns the entry for key, or netcfg.ErrNotFound.
func GetTemplate(ctx context.Context, c Conn, key string) (*netcfg.Template, error) {
	var (
		t                            netcfg.Template
		leaseUntil, created, expires int64
	)
	err := c.QueryRow(ctx, `SELECT key, kind, state, body, role, platform, hostname, intent, provider, model,
		prompt_version, input_tokens, output_tokens, reason, lease_owner, lease_until, version, created_at, expires_at
		FROM netsmith_template WHERE key = $1`, key).Scan(&t.Key, &t.Kind, &t.State, &t.Body, &t.Role, &t.Platform,
		&t.Hostname, &t.Intent, &t.Provider, &t.Model, &t.PromptVersion, &t.InputTokens, &t.OutputTokens, &t.Reason,
		&t.LeaseOwner, &leaseUntil, &t.Version, &created, &expires)
	if err != nil {
		return nil, err
	}
	t.LeaseUntil, t.CreatedAt, t.ExpiresAt = time.UnixMilli(leaseUntil).UTC(), time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return &t, nil
}

// AcquireTemplateLease makes owner the one process that fills entry t.Key,
// until `until`. It succeeds when there is no entry, when the entry's lease
// has run out (its holder died), or when a finished entry has expired. It
// is one statement, so concurrent callers on any number of replicas cannot
// both win.
func AcquireTemplateLease(ctx context.Context, c Conn, t *netcfg.Template, owner string, until, now time.Time) (bool, error) {
	n, err := c.Exec(ctx, `INSERT INTO netsmith_template
		(key, kind, state, role, platform, hostname, intent, lease_owner, lease_until, created_at, expires_at)
		VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, 0)
		ON CONFLICT (key) DO UPDATE SET state = 'pending', kind = excluded.kind, body = '', reason = '',
			lease_owner = excluded.lease_owner, lease_until = excluded.lease_until,
			created_at = excluded.created_at, version = netsmith_template.version + 1
		WHERE (netsmith_template.state = 'pending' AND netsmith_template.lease_until < $9)
		   OR (netsmith_template.state <> 'pending' AND netsmith_template.expires_at < $9)`,
		t.Key, t.Kind, t.Role, t.Platform, t.Hostname, t.Intent, owner, until.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("acquire template lease %.12s: %w", t.Key, err)
	}
	return n == 1, nil
}

// FillTemplate stores a finished entry under owner's lease. It reports false
// when the lease was lost (expired and taken by another).
func FillTemplate(ctx context.Context, c Conn, t *netcfg.Template, owner string) (bool, error) {
	n, err := c.Exec(ctx, `UPDATE netsmith_template SET state = $3, body = $4, provider = $5, model = $6,
		prompt_version = $7, input_tokens = $8, output_tokens = $9, reason = $10, expires_at = $11,
		lease_owner = '', lease_until = 0
		WHERE key = $1 AND lease_owner = $2 AND state = 'pending'`,
		t.Key, owner, t.State, t.Body, t.Provider, t.Model, t.PromptVersion, t.InputTokens, t.OutputTokens,
		t.Reason, t.ExpiresAt.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("fill template %.12s: %w", t.Key, err)
	}
	return n == 1, nil
}

// ReleaseTemplateLease gives up owner's lease on an entry it did not fill
// (the model call failed), so the next caller tries again at once.
func ReleaseTemplateLease(ctx context.Context, c Conn, key, owner string) error {
	_, err := c.Exec(ctx, `DELETE FROM netsmith_template WHERE key = $1 AND lease_owner = $2 AND state = 'pending'`, key, owner)
	return err
}

// InvalidateTemplates deletes the entries f selects and returns how many.
func InvalidateTemplates(ctx context.Context, c Conn, f netcfg.TemplateFilter) (int64, error) {
	where, args := "1 = 1", []any{}
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where += fmt.Sprintf(" AND %s = $%d", col, len(args))
		}
	}
	add("key", f.Key)
	add("role", f.Role)
	add("platform", f.Platform)
	add("hostname", f.Hostname)
	if len(args) == 0 && !f.All {
		return 0, fmt.Errorf("invalidate: name a key, role, platform or hostname, or all")
	}
	return c.Exec(ctx, `DELETE FROM netsmith_template WHERE `+where, args...)
}

// GetCacheStats reads cache statistics, over one batch when batchID is set.
func GetCacheStats(ctx context.Context, c Conn, batchID string) (*netcfg.CacheStats, error) {
	q := `SELECT r.cache, count(*), COALESCE(sum(r.saved_input_tokens), 0), COALESCE(sum(r.saved_output_tokens), 0)
		FROM netsmith_result r`
	var args []any
	if batchID != "" {
		q += ` WHERE r.batch_id = $1`
		args = append(args, batchID)
	}
	rows, err := c.Query(ctx, q+` GROUP BY r.cache`, args...)
	if err != nil {
		return nil, fmt.Errorf("cache stats: %w", err)
	}
	defer rows.Close()
	var s netcfg.CacheStats
	for rows.Next() {
		var kind string
		var n, in, out int64
		if err := rows.Scan(&kind, &n, &in, &out); err != nil {
			return nil, err
		}
		switch kind {
		case "hit":
			s.Hits += n
		case "miss":
			s.Misses += n
		case "coalesced":
			s.Coalesced += n
		case "fallback":
			s.Fallbacks += n
		}
		s.SavedInputTokens += in
		s.SavedOutputTokens += out
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ledger := `SELECT COALESCE(sum(cost_nusd), 0), COALESCE(sum(saved_nusd), 0) FROM netsmith_ledger`
	if batchID != "" {
		ledger += ` WHERE batch_id = $1`
	}
	if err := c.QueryRow(ctx, ledger, args...).Scan(&s.CostNUSD, &s.SavedNUSD); err != nil {
		return nil, fmt.Errorf("cache stats: ledger: %w", err)
	}
	if batchID == "" {
		err = c.QueryRow(ctx, `SELECT count(*),
			COALESCE(sum(CASE WHEN state = 'ready' THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN state = 'invalid' THEN 1 ELSE 0 END), 0) FROM netsmith_template`).
			Scan(&s.Entries, &s.Ready, &s.Invalid)
	}
	return &s, err
}
