package store_test

import (
	"runtime"
	"strings"
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/store"
)

func TestDefaultMaxConns(t *testing.T) {
	for procs, want := range map[int]int{1: 8, 2: 8, 3: 12, 4: 16, 5: 20, 64: 20} {
		if got := store.DefaultMaxConns(procs); got != want {
			t.Errorf("DefaultMaxConns(%d) = %d; want %d", procs, got, want)
		}
	}
}

// TestPoolSize checks that a PostgreSQL database opened without a size
// gets DefaultMaxConns for this process's CPUs (and the lazy pool half of
// it, at least 4), and that the URL's pool_max_conns still wins.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	url := dbtest.Postgres(t)
	sizes := func(db *store.DB) map[string]int {
		m := map[string]int{}
		for _, p := range db.PoolStats() {
			m[p.Name] = p.Max
		}
		return m
	}
	n := store.DefaultMaxConns(runtime.GOMAXPROCS(0))
	db := dbtest.Open(t, url)
	if got := sizes(db); got["main"] != n || got["lazy"] != max(4, n/2) {
		t.Errorf("pools %v; want main %d, lazy %d", got, n, max(4, n/2))
	}
	if got, want := db.WriteGroups(), min(4, n/4); got != want {
		t.Errorf("WriteGroups() = %d with a pool of %d; want %d (a quarter of it, at most 4)", got, n, want)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	big := dbtest.Open(t, url+sep+"pool_max_conns=30")
	if got := sizes(big); got["main"] != 30 || got["lazy"] != 15 || big.WriteGroups() != 4 {
		t.Errorf("pool_max_conns=30: pools %v, %d write groups; want main 30, lazy 15, 4 write groups", got, big.WriteGroups())
	}
}

// TestWriteGroupsSQLite: SQLite's one writer commits one group at a time.
func TestWriteGroupsSQLite(t *testing.T) {
	t.Parallel()
	if got := dbtest.Open(t, dbtest.SQLite(t)).WriteGroups(); got != 1 {
		t.Errorf("WriteGroups() on SQLite = %d; want 1", got)
	}
}
