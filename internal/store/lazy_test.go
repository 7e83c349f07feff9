package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/store"
)

// TestLazyConnGroups: statements sent on the lazy connection together are
// stored in groups, and a failing one fails alone: the others are stored
// and each reports its own rows.
func TestLazyConnGroups(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db := dbtest.Open(t, url)
		c := db.LazyConn()
		now := time.Now()
		const n = 32
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				if i%8 == 7 { // a duplicate key: a statement the database refuses as it runs
					_, errs[i] = c.Exec(ctx, `INSERT INTO netsmith_process (id, role, version, started_at, last_seen)
						VALUES ($1, 'all', 'v', 0, 0), ($1, 'all', 'v', 0, 0)`, fmt.Sprint("dup", i))
					return
				}
				errs[i] = store.Heartbeat(ctx, c, store.Process{ID: fmt.Sprint("p", i), Role: "all", Version: "v",
					StartedAt: now, LastSeen: now})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (i%8 == 7) != (err != nil) {
				t.Errorf("statement %d: error %v", i, err)
			}
		}
		ps, err := store.LiveProcesses(ctx, db.Conn(), now.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != n-n/8 {
			t.Errorf("%d heartbeats stored, want %d", len(ps), n-n/8)
		}
		got, err := c.Exec(ctx, `DELETE FROM netsmith_process WHERE id IN ('p0', 'p1', 'nobody')`)
		if err != nil || got != 2 {
			t.Errorf("delete on the lazy connection = %d rows, %v; want 2", got, err)
		}
	})
}
