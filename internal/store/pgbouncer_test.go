package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/store"
)

// TestPingSeesRefusedLazyPath: through PgBouncer without ?pgbouncer=true the
// pool's plain queries pass but the lazy connection's startup parameter is
// refused, so every job's cache write would fail: Ping (/readyz) must say
// so. With the switch, it passes.
func TestPingSeesRefusedLazyPath(t *testing.T) {
	t.Parallel()
	url := dbtest.PgBouncer(t)
	for _, tc := range []struct {
		url    string
		wantOK bool
	}{
		{strings.Replace(url, "pgbouncer=true", "pgbouncer=false", 1), false},
		{url, true},
	} {
		db, err := store.Open(t.Context(), tc.url, store.Options{})
		if err != nil {
			t.Fatalf("open %s: %v", tc.url, err)
		}
		err = db.Ping(t.Context())
		db.Close()
		if ok := err == nil; ok != tc.wantOK || !ok && !strings.Contains(err.Error(), "synchronous_commit") {
			t.Errorf("ping %s: %v; want ok %t (or PgBouncer refusing synchronous_commit)", tc.url, err, tc.wantOK)
		}
	}
}

// TestReplicasMigrateAtOnce starts more replicas at once on an empty
// database, through PgBouncer, than PgBouncer has server connections (its
// stock 20): each migrates once the one before it has, and none holds a
// server connection while it waits for the lock, so the replica holding
// it can always get the ones it needs.
func TestReplicasMigrateAtOnce(t *testing.T) {
	t.Parallel()
	url := dbtest.PgBouncer(t)
	const replicas = 24
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	applied := make([]int, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			db, err := store.Open(ctx, url, store.Options{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			names, err := db.Migrate(ctx)
			applied[i], errs[i] = len(names), err
		})
	}
	wg.Wait()
	migrated := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
		if applied[i] > 0 {
			migrated++
		}
	}
	if migrated != 1 {
		t.Errorf("%d replicas applied migrations; want exactly 1, the others finding them done", migrated)
	}
}
