package store

import (
	"context"
	"fmt"
	"netsmith/internal/netcfg"
	"strings"
)

// ListJobs returns up to f.Limit jobs matching f, newest first (ties by
// id), starting after the cursor. Keyset, not offset: a page costs the same
// however deep it is, and jobs submitted meanwhile do not shift the pages.
func ListJobs(ctx context.Context, c Conn, f netcfg.JobFilter) ([]*netcfg.Job, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Department != "" {
		where = append(where, "j.department = "+arg(f.Department))
	}
	if f.State != "" {
		where = append(where, "j.state = "+arg(string(f.State)))
	}
	if f.BatchID != "" {
		where = append(where, "j.batch_id = "+arg(f.BatchID))
	}
	if f.AfterID != "" {
		at := f.AfterCreated.UnixMilli()
		where = append(where, fmt.Sprintf("(j.created_at < %s OR (j.created_at = %s AND j.id < %s))", arg(at), arg(at), arg(f.AfterID)))
	}
	if len(where) == 0 {
		where = append(where, "1 = 1")
	}
	return listJobs(ctx, c, strings.Join(where, " AND ")+" ORDER BY j.created_at DESC, j.id DESC LIMIT "+arg(f.Limit), args...)
}
