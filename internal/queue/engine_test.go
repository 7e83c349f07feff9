package queue

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"netsmith/internal/dbtest"
	"netsmith/internal/ledger"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestSubmitGroupsShareBudgets submits jobs of four departments, each with a
// budget, all at once and in alternating orders, so that groups committed
// side by side (four at a time on PostgreSQL) take the same budget rows.
// Every job must be stored with its reservation, each department's
// reserved total must be exact, and no group may have failed: a group that
// deadlocked on another would have been split and committed job by job.
func TestSubmitGroupsShareBudgets(t *testing.T) {
	for name, url := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testSubmitGroupsShareBudgets(t, url(t))
		})
	}
}

func testSubmitGroupsShareBudgets(t *testing.T, url string) {
	ctx := context.Background()
	db := dbtest.Open(t, url)
	q, err := New(db, Config{Workers: 1, Work: func(context.Context, *netcfg.Job) (*netcfg.Result, error) {
		return nil, fmt.Errorf("not started")
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	depts := []string{"alpha", "bravo", "charlie", "delta"}
	for _, d := range depts {
		b := &netcfg.Budget{Department: d, DailyNUSD: 1e15, MonthlyNUSD: 1e15, UpdatedAt: time.Now()}
		if err := store.PutBudget(ctx, db.Conn(), b); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 100
	want := map[string]int64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for r := range rounds {
		for i := range depts {
			// Even rounds go alpha…delta, odd ones delta…alpha.
			d := depts[i]
			if r%2 == 1 {
				d = depts[len(depts)-1-i]
			}
			nusd := int64(1000 + r*len(depts) + i)
			mu.Lock()
			want[d] += nusd
			mu.Unlock()
			wg.Go(func() {
				j := &netcfg.Job{ID: fmt.Sprintf("job-%s-%d", d, r), Kind: netcfg.KindGenerate, Department: d,
					RequestHash: fmt.Sprint(r, i), Request: []byte(`{}`), ReservedNUSD: nusd}
				hold := ledger.NewHold([]*netcfg.Job{j})
				take := func(ctx context.Context, tx *Tx) error { return hold.Take(ctx, tx.Conn(), j.CreatedAt) }
				if _, dup, err := q.Enqueue(ctx, j, take); err != nil || dup {
					t.Errorf("enqueue %s: duplicate %v, %v", j.ID, dup, err)
				}
			})
		}
	}
	wg.Wait()
	for _, d := range depts {
		b, err := store.GetBudget(ctx, db.Conn(), d)
		if err != nil {
			t.Fatal(err)
		}
		u, err := store.Usage(ctx, db.Conn(), d, b, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range u {
			if p.ReservedNUSD != want[d] {
				t.Errorf("%s %s: reserved %d, want %d", d, p.Period, p.ReservedNUSD, want[d])
			}
		}
	}
	if n := submitSplits(t, q); n != 0 {
		t.Errorf("%d submission groups failed and were split", n)
	}
}

// submitSplits is how many submission groups of q failed as a whole.
func submitSplits(t *testing.T, q *Queue) int64 {
	switch e := q.eng.(type) {
	case *riverEngine[*riverpgxv5.Driver, pgx.Tx]:
		return e.submits.Splits()
	case *riverEngine[*riversqlite.Driver, *sql.Tx]:
		return e.submits.Splits()
	}
	t.Fatalf("unknown engine %T", q.eng)
	return 0
}
