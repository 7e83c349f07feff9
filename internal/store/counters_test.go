package store_test

import (
	"errors"
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/metrics"
	"netsmith/internal/store"
)

// TestPoolCounters runs a known sequence of statements on the pool behind
// Conn and checks it moved that pool's transaction and round-trip counters
// by exactly that: a committed block of two statements, a rolled-back
// block of one, and a statement on its own that succeeds and one that
// fails. The statements take no arguments, so PostgreSQL runs them
// without preparing them first (a round trip of its own).
func TestPoolCounters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db := dbtest.Open(t, url)
		pool := map[string]string{"sqlite": "writer", "postgres": "main"}[db.Dialect()]
		stat := func() metrics.DBPool {
			t.Helper()
			for _, p := range db.PoolStats() {
				if p.Name == pool {
					return p
				}
			}
			t.Fatalf("no pool %q in %+v", pool, db.PoolStats())
			return metrics.DBPool{}
		}
		type counts struct{ explicitCommits, explicitRollbacks, implicitCommits, implicitRollbacks, roundTrips int64 }
		delta := func(a, b metrics.DBPool) counts {
			return counts{b.ExplicitCommits - a.ExplicitCommits, b.ExplicitRollbacks - a.ExplicitRollbacks,
				b.ImplicitCommits - a.ImplicitCommits, b.ImplicitRollbacks - a.ImplicitRollbacks, b.RoundTrips - a.RoundTrips}
		}
		step := func(name string, want counts, f func() error) {
			t.Helper()
			before := stat()
			err := f()
			if got := delta(before, stat()); got != want {
				t.Errorf("%s (error %v): counters moved by %+v, want %+v", name, err, got, want)
			}
		}

		step("block of two statements", counts{explicitCommits: 1, roundTrips: 4}, func() error {
			return db.InTx(ctx, func(tx store.Conn) error {
				if _, err := tx.Exec(ctx, `CREATE TABLE counted (x integer)`); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO counted VALUES (1)`); err != nil {
					t.Fatal(err)
				}
				return nil
			})
		})
		errAbort := errors.New("abort")
		step("block rolled back", counts{explicitRollbacks: 1, roundTrips: 3}, func() error {
			return db.InTx(ctx, func(tx store.Conn) error {
				if _, err := tx.Exec(ctx, `INSERT INTO counted VALUES (2)`); err != nil {
					t.Fatal(err)
				}
				return errAbort
			})
		})
		step("statement on its own", counts{implicitCommits: 1, roundTrips: 1}, func() error {
			_, err := db.Conn().Exec(ctx, `INSERT INTO counted VALUES (3)`)
			if err != nil {
				t.Fatal(err)
			}
			return err
		})
		step("failing statement on its own", counts{implicitRollbacks: 1, roundTrips: 1}, func() error {
			_, err := db.Conn().Exec(ctx, `INSERT INTO no_such_table VALUES (4)`)
			if err == nil {
				t.Fatal("insert into a missing table succeeded")
			}
			return err
		})
		var n int
		if err := db.Conn().QueryRow(ctx, `SELECT count(*) FROM counted`).Scan(&n); err != nil || n != 2 {
			t.Errorf("rows in counted: %d, %v; want 2 (the rolled-back block's row gone)", n, err)
		}
	})
}
