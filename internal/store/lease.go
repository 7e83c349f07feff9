package store

import (
	"context"
	"fmt"
	"time"
)

// RenewTemplateLease moves owner's lease on the pending entry key to until,
// so that a lease can be short (a crashed holder's runs out in seconds) and
// still outlast a long model call. It reports false when owner no longer
// holds it (it ran out and another took it, or the entry was filled).
func RenewTemplateLease(ctx context.Context, c Conn, key, owner string, until time.Time) (bool, error) {
	n, err := c.Exec(ctx, `UPDATE netsmith_template SET lease_until = $3
		WHERE key = $1 AND lease_owner = $2 AND state = 'pending'`, key, owner, until.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("renew template lease %.12s: %w", key, err)
	}
	return n == 1, nil
}
