package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver for openTx

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// usd is one US dollar in nano-dollars; estimates above 2^31 nano-dollars
// make sure amounts travel as 64-bit values on PostgreSQL.
const usd int64 = 1_000_000_000

// noon is the fixed "now" of these tests: mid-month, mid-day (UTC).
var noon = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

// txFunc runs fn in a transaction of its own and commits it when fn returns
// nil; otherwise it rolls back and returns fn's error.
type txFunc func(ctx context.Context, fn func(c store.Conn) error) error

// openTx gives a test transactions on the database at url, the way the
// queue runs a submission: on SQLite one writer connection and BEGIN
// IMMEDIATE, on PostgreSQL a pool whose transactions race for real.
func openTx(t *testing.T, url string) txFunc {
	t.Helper()
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return func(ctx context.Context, fn func(store.Conn) error) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := fn(store.SQL(tx)); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return func(ctx context.Context, fn func(store.Conn) error) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(store.PGX(tx)); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	}
}

// usage returns department's day and month usage at now.
func usage(t *testing.T, c store.Conn, department string, now time.Time) (day, month netcfg.BudgetUsage) {
	t.Helper()
	u, err := store.Usage(t.Context(), c, department, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return u[0], u[1]
}

// checkUsage fails unless department's day and month at now both have
// spent and reserved as wanted.
func checkUsage(t *testing.T, c store.Conn, department string, now time.Time, spent, reserved int64) {
	t.Helper()
	checkPeriod(t, c, department, "day", now, spent, reserved)
	checkPeriod(t, c, department, "month", now, spent, reserved)
}

// checkPeriod fails unless department's period ("day" or "month") at now
// has spent and reserved as wanted.
func checkPeriod(t *testing.T, c store.Conn, department, period string, now time.Time, spent, reserved int64) {
	t.Helper()
	day, month := usage(t, c, department, now)
	u := day
	if period == "month" {
		u = month
	}
	if u.SpentNUSD != spent || u.ReservedNUSD != reserved {
		t.Errorf("%s %s usage: spent %d reserved %d, want spent %d reserved %d",
			department, u.Name, u.SpentNUSD, u.ReservedNUSD, spent, reserved)
	}
}

func putBudget(t *testing.T, c store.Conn, b netcfg.Budget) {
	t.Helper()
	if err := store.PutBudget(t.Context(), c, &b); err != nil {
		t.Fatal(err)
	}
}

// putKey inserts a key named name with hash "hash-"+name and returns it.
func putKey(t *testing.T, c store.Conn, k netcfg.Key) *netcfg.Key {
	t.Helper()
	if k.ID == "" {
		k.ID = "id-" + k.Name
	}
	if k.Role == "" {
		k.Role = netcfg.RoleUser
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = noon
	}
	if err := store.InsertKey(t.Context(), c, &k, "hash-"+k.Name); err != nil {
		t.Fatal(err)
	}
	return &k
}

func keyActive(t *testing.T, c store.Conn, k *netcfg.Key) int64 {
	t.Helper()
	got, err := store.KeyByHash(t.Context(), c, "hash-"+k.Name)
	if err != nil {
		t.Fatal(err)
	}
	return got.Active
}

// insertJob inserts a queued job created at noon; set fills in the rest.
func insertJob(t *testing.T, c store.Conn, id string, set func(j *netcfg.Job)) *netcfg.Job {
	t.Helper()
	j := &netcfg.Job{ID: id, Kind: "generate", RequestHash: "h", Request: []byte("{}"), MaxAttempts: 1, CreatedAt: noon}
	if set != nil {
		set(j)
	}
	if prev, err := store.InsertJob(t.Context(), c, j); prev != nil || err != nil {
		t.Fatalf("InsertJob(%s) = %v, %v", id, prev, err)
	}
	return j
}

func takeHolds(t *testing.T, c store.Conn, h store.Holds, now time.Time) (bool, []netcfg.BudgetAlert) {
	t.Helper()
	reserved, alerts, err := store.TakeHolds(t.Context(), c, h, now)
	if err != nil {
		t.Fatalf("TakeHolds(%+v) = %v", h, err)
	}
	return reserved, alerts
}

func ledgerRows(t *testing.T, c store.Conn, jobID string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(t.Context(), `SELECT count(*) FROM netsmith_ledger WHERE job_id = $1`, jobID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTakeHoldsConcurrent(t *testing.T) {
	t.Parallel()
	const est = usd // E; the limit is 10.5 E, so exactly 10 reservations fit
	tests := []struct {
		name   string
		budget netcfg.Budget
		// spentBefore is spent on the day before noon (same month).
		spentBefore int64
		period      string
	}{
		{name: "daily", budget: netcfg.Budget{DailyNUSD: 21 * est / 2}, period: "day"},
		{name: "monthly", budget: netcfg.Budget{MonthlyNUSD: 21 * est / 2}, period: "month"},
		// The month is half spent already; the day has room for it all.
		{name: "monthly after spend", budget: netcfg.Budget{DailyNUSD: 1000 * est, MonthlyNUSD: 41 * est / 2},
			spentBefore: 10 * est, period: "month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, url string) {
				ctx := t.Context()
				c := openConn(t, url)
				inTx := openTx(t, url)
				b := tt.budget
				b.Department = "net"
				putBudget(t, c, b)
				if tt.spentBefore > 0 {
					if err := store.AddSpend(ctx, c, "net", tt.spentBefore, noon.Add(-24*time.Hour)); err != nil {
						t.Fatal(err)
					}
				}

				var (
					mu       sync.Mutex
					ok       int
					refusals []*netcfg.BudgetError
					wg       sync.WaitGroup
				)
				for range 100 {
					wg.Go(func() {
						var reserved bool
						err := inTx(ctx, func(c store.Conn) error {
							var err error
							reserved, _, err = store.TakeHolds(ctx, c, store.Holds{Department: "net", ReserveNUSD: est}, noon)
							return err
						})
						mu.Lock()
						defer mu.Unlock()
						var be *netcfg.BudgetError
						switch {
						case err == nil && reserved:
							ok++
						case err == nil:
							t.Error("TakeHolds under a budget reported reserved=false")
						case errors.As(err, &be):
							refusals = append(refusals, be)
						default:
							t.Errorf("TakeHolds: %v", err)
						}
					})
				}
				wg.Wait()

				if ok != 10 || len(refusals) != 90 {
					t.Errorf("%d reservations succeeded and %d were refused, want 10 and 90", ok, len(refusals))
				}
				for _, be := range refusals {
					if be.Usage.Period != tt.period || be.Department != "net" || be.EstimateNUSD != est ||
						be.Usage.RemainingNUSD() < 0 || be.Usage.RemainingNUSD() >= est {
						t.Errorf("BudgetError = %+v (remaining %d), want period %s and less than %d remaining",
							be, be.Usage.RemainingNUSD(), tt.period, est)
						break
					}
				}
				day, month := usage(t, c, "net", noon)
				for _, u := range []netcfg.BudgetUsage{day, month} {
					if u.ReservedNUSD != 10*est {
						t.Errorf("%s reserved %d, want %d", u.Name, u.ReservedNUSD, 10*est)
					}
				}
				if limit := b.MonthlyNUSD; limit > 0 && month.SpentNUSD+month.ReservedNUSD > limit {
					t.Errorf("month spent %d + reserved %d is over its limit %d", month.SpentNUSD, month.ReservedNUSD, limit)
				}
				if limit := b.DailyNUSD; limit > 0 && day.SpentNUSD+day.ReservedNUSD > limit {
					t.Errorf("day spent %d + reserved %d is over its limit %d", day.SpentNUSD, day.ReservedNUSD, limit)
				}
			})
		})
	}
}

func TestTakeHoldsReservesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := openConn(t, url)
		// No budget row: nothing is reserved.
		if reserved, alerts := takeHolds(t, c, store.Holds{Department: "free", ReserveNUSD: 5 * usd}, noon); reserved || alerts != nil {
			t.Errorf("without a budget: reserved %v, alerts %v; want false, none", reserved, alerts)
		}
		checkUsage(t, c, "free", noon, 0, 0)
		// A budget but no estimate: nothing either.
		putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 10 * usd, WarnPct: 1})
		if reserved, alerts := takeHolds(t, c, store.Holds{Department: "net"}, noon); reserved || alerts != nil {
			t.Errorf("an estimate of 0: reserved %v, alerts %v; want false, none", reserved, alerts)
		}
		checkUsage(t, c, "net", noon, 0, 0)
		// A budget without limits still records the reservation, to be
		// released when the job ends.
		putBudget(t, c, netcfg.Budget{Department: "open"})
		if reserved, _ := takeHolds(t, c, store.Holds{Department: "open", ReserveNUSD: 3 * usd}, noon); !reserved {
			t.Error("a budget without limits: reserved false, want true")
		}
		checkUsage(t, c, "open", noon, 0, 3*usd)
	})
}

// TestSharedTxReadsBudgetOnce checks that a group's shared transaction
// reads a department's budget, or its absence, once: a change made behind
// its back is not seen, holds taken through it still reserve by the budget
// it read, and the same reads on the plain connection see the change.
func TestSharedTxReadsBudgetOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 10 * usd})
		shared := store.SharedTx(c)
		for range 2 {
			if b, err := store.GetBudget(ctx, shared, "net"); err != nil || b.DailyNUSD != 10*usd {
				t.Fatalf("shared read: %+v, %v; want the 10 USD budget", b, err)
			}
			if _, err := store.GetBudget(ctx, shared, "none"); err != netcfg.ErrNotFound {
				t.Fatalf("shared read of no budget: %v, want ErrNotFound", err)
			}
			// Behind the shared transaction's back: it keeps what it read.
			putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 1 * usd})
			putBudget(t, c, netcfg.Budget{Department: "none", DailyNUSD: 1 * usd})
		}
		b, _ := store.GetBudget(ctx, shared, "net")
		b.DailyNUSD = 0 // a caller's copy: the next read must not see this
		if reserved, _ := takeHolds(t, shared, store.Holds{Department: "net", ReserveNUSD: 5 * usd}, noon); !reserved {
			t.Error("a hold through the shared transaction within the budget it read: not reserved")
		}
		checkUsage(t, c, "net", noon, 0, 5*usd)
		if b, err := store.GetBudget(ctx, c, "net"); err != nil || b.DailyNUSD != 1*usd {
			t.Errorf("plain read: %+v, %v; want the 1 USD budget", b, err)
		}
	})
}

// TestTakeHoldsOneRoundTrip checks that on PostgreSQL a hold with a
// budget, warnings and key slots sends its reservations, warnings and
// slots in one round trip after the budget's read: a transaction of
// BEGIN, the read, the pipeline and COMMIT, plus at most one round trip
// to prepare statements the connection has not seen (statement-by-statement
// it took ten). The hold's effect is checked too.
func TestTakeHoldsOneRoundTrip(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t, dbtest.Postgres(t))
	ctx := t.Context()
	c := db.Conn()
	putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 100 * usd, MonthlyNUSD: 150 * usd, WarnPct: 1})
	k := putKey(t, c, netcfg.Key{Name: "k", MaxActive: 10})
	h := store.Holds{Department: "net", ReserveNUSD: 2 * usd, KeyID: k.ID, Slots: 1}
	roundTrips := func() int64 {
		for _, p := range db.PoolStats() {
			if p.Name == "main" {
				return p.RoundTrips
			}
		}
		t.Fatalf("no main pool in %+v", db.PoolStats())
		return 0
	}
	var alerts []netcfg.BudgetAlert
	for i := range 3 {
		before := roundTrips()
		err := db.InTx(ctx, func(tx store.Conn) error {
			var err error
			_, alerts, err = store.TakeHolds(ctx, tx, h, noon)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := roundTrips() - before; n > 5 {
			t.Errorf("hold %d: %d round trips, want at most 5", i, n)
		}
		if i == 0 && len(alerts) != 2 {
			t.Errorf("first hold over 1 %%: alerts %+v, want the day's and the month's", alerts)
		}
	}
	checkUsage(t, c, "net", noon, 0, 6*usd)
	var active int64
	if err := c.QueryRow(ctx, `SELECT active FROM netsmith_key WHERE id = $1`, k.ID).Scan(&active); err != nil || active != 3 {
		t.Errorf("key slots taken: %d, %v; want 3", active, err)
	}
}

// TestSharedTxTakesHoldsTogether plans three holds in one shared
// transaction, two of one department and one that its budget refuses, and
// takes them: the first Take sends every plan's writes (on PostgreSQL in
// one round trip, the later Takes in none), each Take answers for its own
// hold, and the refused one's error names its period.
func TestSharedTxTakesHoldsTogether(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db := dbtest.Open(t, url)
		c := db.Conn()
		putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 10 * usd, WarnPct: 50})
		putBudget(t, c, netcfg.Budget{Department: "ops", DailyNUSD: 1 * usd})
		roundTrips := func() int64 {
			var n int64
			for _, p := range db.PoolStats() {
				n += p.RoundTrips
			}
			return n
		}
		errRefused := errors.New("refused, as planned")
		err := db.InTx(ctx, func(tx store.Conn) error {
			shared := store.SharedTx(tx)
			var plans []*store.HoldPlan
			for _, h := range []store.Holds{
				{Department: "net", ReserveNUSD: 2 * usd},
				{Department: "net", ReserveNUSD: 4 * usd},
				{Department: "ops", ReserveNUSD: 2 * usd},
			} {
				p, err := store.PlanHolds(ctx, shared, h, noon)
				if err != nil || !p.Reserves() {
					t.Fatalf("PlanHolds(%+v) = %v, reserves %v", h, err, p != nil && p.Reserves())
				}
				plans = append(plans, p)
			}
			before := roundTrips()
			if alerts, err := plans[0].Take(ctx, shared); err != nil || alerts != nil {
				t.Errorf("first hold: %v, %v; want no alert, no error", alerts, err)
			}
			first := roundTrips() - before
			alerts, err := plans[1].Take(ctx, shared)
			if err != nil || len(alerts) != 1 || alerts[0].Usage.ReservedNUSD != 6*usd {
				t.Errorf("second hold: %+v, %v; want the day's warning at 6 USD reserved", alerts, err)
			}
			var be *netcfg.BudgetError
			if _, err := plans[2].Take(ctx, shared); !errors.As(err, &be) || be.Department != "ops" {
				t.Errorf("third hold: %v, want ops's *BudgetError", err)
			}
			if db.Dialect() == "postgres" {
				// One round trip, and on a connection that has not seen
				// them one more to prepare each of the two statements.
				if first > 3 {
					t.Errorf("the first Take took %d round trips, want at most 3", first)
				}
				// The refusal's read of its usage (and its preparing).
				if later := roundTrips() - before - first; later > 2 {
					t.Errorf("the later Takes took %d round trips, want at most 2", later)
				}
			}
			return errRefused
		})
		if err != errRefused {
			t.Fatal(err)
		}
		checkUsage(t, c, "net", noon, 0, 0) // rolled back
	})
}

// TestReserveCalls reserves several jobs' calls in one transaction: the
// department's periods take their sum and each job its own; a group that
// the day cannot cover fails whole with a *BudgetError and, rolled back,
// reserves nothing; a job already final fails its group with ErrNotFound;
// calls without a budget reserve nothing.
func TestReserveCalls(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		inTx := openTx(t, url)
		putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 10 * usd})
		b, err := store.GetBudget(ctx, c, "net")
		if err != nil {
			t.Fatal(err)
		}
		var jobs []*netcfg.Job
		for i := range 3 {
			jobs = append(jobs, insertJob(t, c, fmt.Sprintf("call-%d", i), func(j *netcfg.Job) { j.Department = "net" }))
		}
		reserved := func(id string) int64 {
			t.Helper()
			var n int64
			if err := c.QueryRow(ctx, `SELECT reserved_nusd FROM netsmith_job WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		hold := func(nusd ...int64) []store.CallHold {
			var hs []store.CallHold
			for i, n := range nusd {
				hs = append(hs, store.CallHold{Job: jobs[i], Budget: b, NUSD: n})
			}
			return hs
		}
		reserve := func(hs []store.CallHold) error {
			return inTx(ctx, func(tx store.Conn) error { return store.ReserveCalls(ctx, tx, hs) })
		}
		if err := reserve(hold(1*usd, 2*usd, 3*usd)); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, c, "net", noon, 0, 6*usd)
		for i, want := range []int64{1 * usd, 2 * usd, 3 * usd} {
			if got := reserved(jobs[i].ID); got != want {
				t.Errorf("job %d reserved %d, want %d", i, got, want)
			}
		}
		// 6 + 2 + 3 > 10: the group fails; 6 + 2 alone fits.
		var be *netcfg.BudgetError
		if err := reserve(hold(2*usd, 3*usd)); !errors.As(err, &be) || be.Usage.Period != "day" {
			t.Fatalf("over the day's limit: %v, want a day *BudgetError", err)
		}
		checkUsage(t, c, "net", noon, 0, 6*usd)
		if got := reserved(jobs[0].ID); got != 1*usd {
			t.Errorf("job 0 after the refused group: reserved %d, want 1 USD (rolled back)", got)
		}
		if err := reserve(hold(2 * usd)); err != nil {
			t.Fatalf("within the limit alone: %v", err)
		}
		checkUsage(t, c, "net", noon, 0, 8*usd)
		// A final job refuses the group.
		if _, err := c.Exec(ctx, `UPDATE netsmith_job SET state = 'canceled' WHERE id = $1`, jobs[2].ID); err != nil {
			t.Fatal(err)
		}
		if err := reserve(hold(0, 0, 1*usd)); !errors.Is(err, netcfg.ErrNotFound) {
			t.Errorf("a final job's call: %v, want ErrNotFound", err)
		}
		checkUsage(t, c, "net", noon, 0, 8*usd)
		// No budget: nothing is reserved.
		if err := reserve([]store.CallHold{{Job: jobs[0], NUSD: 1 * usd}}); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, c, "net", noon, 0, 8*usd)
	})
}

func TestReleaseOnce(t *testing.T) {
	t.Parallel()
	const est = 3 * usd
	// finishedAt is the day after the jobs were created and their holds
	// taken: the reservation is released from the creation day's period.
	finishedAt := noon.Add(24 * time.Hour)

	// hold takes a reservation and a slot of k for job id and inserts it.
	hold := func(t *testing.T, c store.Conn, k *netcfg.Key, id string) *netcfg.Job {
		t.Helper()
		if reserved, _ := takeHolds(t, c, store.Holds{Department: "net", ReserveNUSD: est, KeyID: k.ID, Slots: 1}, noon); !reserved {
			t.Fatal("TakeHolds reserved nothing")
		}
		return insertJob(t, c, id, func(j *netcfg.Job) {
			j.Department, j.Owner, j.KeyID, j.ReservedNUSD, j.HoldsSlot = "net", "alice", k.ID, est, true
		})
	}

	t.Run("mark state", func(t *testing.T) {
		t.Parallel()
		dbtest.Each(t, func(t *testing.T, url string) {
			ctx := t.Context()
			c := openConn(t, url)
			putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 100 * usd})
			k := putKey(t, c, netcfg.Key{Name: "ci", Department: "net", MaxActive: 2})
			j := hold(t, c, k, "j1")
			checkUsage(t, c, "net", noon, 0, est)
			if got := keyActive(t, c, k); got != 1 {
				t.Fatalf("key active %d after one hold, want 1", got)
			}

			// A move that is not final keeps the holds.
			if ok, err := store.MarkState(ctx, c, j.ID, netcfg.StateRetrying, "x", 1, noon, noon); !ok || err != nil {
				t.Fatalf("MarkState(retrying) = %v, %v", ok, err)
			}
			checkUsage(t, c, "net", noon, 0, est)
			if got := keyActive(t, c, k); got != 1 {
				t.Errorf("key active %d after a retry, want 1", got)
			}

			if ok, err := store.MarkState(ctx, c, j.ID, netcfg.StateFailed, "boom", 1, noon, finishedAt); !ok || err != nil {
				t.Fatalf("MarkState(failed) = %v, %v", ok, err)
			}
			checkUsage(t, c, "net", noon, 0, 0)
			if got := keyActive(t, c, k); got != 0 {
				t.Errorf("key active %d after the job failed, want 0", got)
			}

			// A second final move changes nothing, and releases nothing again.
			for _, s := range []netcfg.JobState{netcfg.StateCanceled, netcfg.StateExpired, netcfg.StateFailed} {
				if ok, err := store.MarkState(ctx, c, j.ID, s, "again", 1, noon, finishedAt); ok || err != nil {
					t.Errorf("MarkState(%s) of a failed job = %v, %v; want false", s, ok, err)
				}
			}
			if ok, err := store.Complete(ctx, c, j.ID, 1, noon, &netcfg.Result{Body: []byte("{}"),
				Charges: []netcfg.Charge{{Kind: netcfg.ChargeCall, Provider: "sim", Model: "m", CostNUSD: usd}}}, finishedAt); ok || err != nil {
				t.Errorf("Complete of a failed job = %v, %v; want false", ok, err)
			}
			checkUsage(t, c, "net", noon, 0, 0)
			checkUsage(t, c, "net", finishedAt, 0, 0)
			if got := keyActive(t, c, k); got != 0 {
				t.Errorf("key active %d after a second final move, want 0", got)
			}
			if n := ledgerRows(t, c, j.ID); n != 0 {
				t.Errorf("%d ledger rows for a failed job, want 0", n)
			}
			got, err := store.GetJob(ctx, c, j.ID)
			if err != nil || got.State != netcfg.StateFailed || got.Error != "boom" {
				t.Errorf("GetJob = %+v, %v; want failed with error boom", got, err)
			}
		})
	})

	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		dbtest.Each(t, func(t *testing.T, url string) {
			ctx := t.Context()
			c := openConn(t, url)
			putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 100 * usd})
			k := putKey(t, c, netcfg.Key{Name: "ci", Department: "net", MaxActive: 2})
			j := hold(t, c, k, "j1")
			other := hold(t, c, k, "j2") // stays queued: its holds stay
			checkUsage(t, c, "net", noon, 0, 2*est)

			r := &netcfg.Result{Body: []byte(`{"ok":true}`), Provider: "sim", Model: "m", Charges: []netcfg.Charge{
				{Kind: netcfg.ChargeCall, Provider: "sim", Model: "m", InputTokens: 100, OutputTokens: 200, CostNUSD: 2 * usd},
				{Kind: netcfg.ChargeCall, Provider: "sim", Model: "m", InputTokens: 10, OutputTokens: 20, CostNUSD: usd / 2},
				{Kind: netcfg.ChargeCacheHit, Provider: "sim", Model: "m", SavedNUSD: usd},
			}}
			const cost = 2*usd + usd/2
			if ok, err := store.Complete(ctx, c, j.ID, 1, noon, r, finishedAt); !ok || err != nil {
				t.Fatalf("Complete = %v, %v", ok, err)
			}
			// j1's reservation is released from its creation day; its cost
			// is spent on its completion day; the month sees both.
			checkSettled := func() {
				t.Helper()
				checkPeriod(t, c, "net", "day", noon, 0, est)
				checkPeriod(t, c, "net", "day", finishedAt, cost, 0)
				checkPeriod(t, c, "net", "month", noon, cost, est)
			}
			checkSettled()
			if got := keyActive(t, c, k); got != 1 {
				t.Errorf("key active %d after one of two jobs completed, want 1", got)
			}
			if n := ledgerRows(t, c, j.ID); n != 3 {
				t.Errorf("%d ledger rows, want 3", n)
			}
			var owner, keyID, dept string
			var sum int64
			if err := c.QueryRow(ctx, `SELECT min(owner), min(key_id), min(department), sum(cost_nusd)
				FROM netsmith_ledger WHERE job_id = $1`, j.ID).Scan(&owner, &keyID, &dept, &sum); err != nil {
				t.Fatal(err)
			}
			if owner != "alice" || keyID != k.ID || dept != "net" || sum != cost {
				t.Errorf("ledger rows: owner %q key %q department %q cost %d; want alice, %s, net, %d",
					owner, keyID, dept, sum, k.ID, cost)
			}

			// Completing again (a job that ran twice) adds nothing.
			if ok, err := store.Complete(ctx, c, j.ID, 2, noon, r, finishedAt); ok || err != nil {
				t.Errorf("second Complete = %v, %v; want false", ok, err)
			}
			if ok, err := store.MarkState(ctx, c, j.ID, netcfg.StateCanceled, "", 2, noon, finishedAt); ok || err != nil {
				t.Errorf("MarkState(canceled) of a succeeded job = %v, %v; want false", ok, err)
			}
			checkSettled()
			if n := ledgerRows(t, c, j.ID); n != 3 {
				t.Errorf("%d ledger rows after a second completion, want 3", n)
			}
			if got := keyActive(t, c, k); got != 1 {
				t.Errorf("key active %d after a second completion, want 1", got)
			}

			// The other job's end releases the rest.
			if ok, err := store.MarkState(ctx, c, other.ID, netcfg.StateCanceled, "", 0, time.Time{}, finishedAt); !ok || err != nil {
				t.Fatalf("MarkState(canceled) = %v, %v", ok, err)
			}
			checkPeriod(t, c, "net", "day", noon, 0, 0)
			checkPeriod(t, c, "net", "month", noon, cost, 0)
			if got := keyActive(t, c, k); got != 0 {
				t.Errorf("key active %d after both jobs ended, want 0", got)
			}
		})
	})
}

func TestActiveLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		inTx := openTx(t, url)
		k := putKey(t, c, netcfg.Key{Name: "ci", Department: "net", MaxActive: 2})
		unlimited := putKey(t, c, netcfg.Key{Name: "admin", Department: "net"})
		h := store.Holds{Department: "net", KeyID: k.ID, Slots: 1}
		for i := range 2 {
			if _, _, err := store.TakeHolds(ctx, c, h, noon); err != nil {
				t.Fatalf("hold %d: %v", i+1, err)
			}
		}
		_, _, err := store.TakeHolds(ctx, c, h, noon)
		var ae *netcfg.ActiveLimitError
		if !errors.As(err, &ae) {
			t.Fatalf("third hold: %v, want an ActiveLimitError", err)
		}
		if want := (netcfg.ActiveLimitError{Key: "ci", MaxActive: 2, Active: 2, Want: 1}); *ae != want {
			t.Errorf("ActiveLimitError = %+v, want %+v", *ae, want)
		}
		if got := keyActive(t, c, k); got != 2 {
			t.Errorf("key active %d after a refused hold, want 2", got)
		}
		// A key without max_active is not limited.
		for range 5 {
			if _, _, err := store.TakeHolds(ctx, c, store.Holds{Department: "net", KeyID: unlimited.ID, Slots: 3}, noon); err != nil {
				t.Fatalf("hold on a key without max_active: %v", err)
			}
		}

		// A submission whose budget is refused gives its slots back with
		// its transaction.
		k2 := putKey(t, c, netcfg.Key{Name: "batch", Department: "poor", MaxActive: 10})
		putBudget(t, c, netcfg.Budget{Department: "poor", DailyNUSD: usd})
		err = inTx(ctx, func(c store.Conn) error {
			_, _, err := store.TakeHolds(ctx, c, store.Holds{Department: "poor", ReserveNUSD: 2 * usd, KeyID: k2.ID, Slots: 4}, noon)
			return err
		})
		if be := (*netcfg.BudgetError)(nil); !errors.As(err, &be) {
			t.Fatalf("over-budget hold: %v, want a BudgetError", err)
		}
		if got := keyActive(t, c, k2); got != 0 {
			t.Errorf("key active %d after a rolled-back hold, want 0", got)
		}
	})
}

func TestBudgetWarning(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		reserve := func(dept string, nusd int64) []netcfg.BudgetAlert {
			t.Helper()
			_, alerts := takeHolds(t, c, store.Holds{Department: dept, ReserveNUSD: nusd}, noon)
			return alerts
		}

		// Day: 10 USD with a warning at 80%.
		putBudget(t, c, netcfg.Budget{Department: "net", DailyNUSD: 10 * usd, MonthlyNUSD: 1000 * usd,
			WarnPct: 80, WebhookURL: "http://hook.example/net"})
		if a := reserve("net", 7*usd); a != nil {
			t.Errorf("alerts at 70%%: %+v, want none", a)
		}
		got := reserve("net", usd) // 80%: crosses
		want := []netcfg.BudgetAlert{{Department: "net", WarnPct: 80, WebhookURL: "http://hook.example/net",
			Usage: netcfg.BudgetUsage{Period: "day", Name: "d2026-11-15", LimitNUSD: 10 * usd, ReservedNUSD: 8 * usd}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("alerts at 80%% (-want +got):\n%s", diff)
		}
		if a := reserve("net", usd); a != nil {
			t.Errorf("alerts at 90%%: %+v, want none", a)
		}
		// Falling back under the share and crossing again: still once.
		j := insertJob(t, c, "j1", func(j *netcfg.Job) { j.Department, j.ReservedNUSD = "net", 9*usd })
		if ok, err := store.MarkState(ctx, c, j.ID, netcfg.StateCanceled, "", 0, time.Time{}, noon); !ok || err != nil {
			t.Fatal(ok, err)
		}
		checkUsage(t, c, "net", noon, 0, 0)
		if a := reserve("net", 9*usd); a != nil {
			t.Errorf("alerts on crossing again the same day: %+v, want none", a)
		}
		// The next day is a new period.
		_, a := takeHolds(t, c, store.Holds{Department: "net", ReserveNUSD: 9 * usd}, noon.Add(24*time.Hour))
		if len(a) != 1 || a[0].Usage.Name != "d2026-11-16" {
			t.Errorf("alerts the next day: %+v, want one for d2026-11-16", a)
		}

		// Month: the warning counts what was spent as well as reserved.
		putBudget(t, c, netcfg.Budget{Department: "sec", MonthlyNUSD: 10 * usd, WarnPct: 50})
		if err := store.AddSpend(ctx, c, "sec", 4*usd, noon.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got = reserve("sec", usd)
		want = []netcfg.BudgetAlert{{Department: "sec", WarnPct: 50,
			Usage: netcfg.BudgetUsage{Period: "month", Name: "m2026-11", LimitNUSD: 10 * usd, SpentNUSD: 4 * usd, ReservedNUSD: usd}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("month alerts at 50%% (-want +got):\n%s", diff)
		}
		if a := reserve("sec", usd); a != nil {
			t.Errorf("month alerts at 60%%: %+v, want none", a)
		}

		// Crossing day and month at once: one alert for each.
		putBudget(t, c, netcfg.Budget{Department: "ops", DailyNUSD: 10 * usd, MonthlyNUSD: 10 * usd, WarnPct: 80})
		if a := reserve("ops", 9*usd); len(a) != 2 || a[0].Usage.Period != "day" || a[1].Usage.Period != "month" {
			t.Errorf("alerts crossing both: %+v, want day and month", a)
		}
		// No warning share, no alert.
		putBudget(t, c, netcfg.Budget{Department: "quiet", DailyNUSD: 10 * usd})
		if a := reserve("quiet", 10*usd); a != nil {
			t.Errorf("alerts with warn_pct 0: %+v, want none", a)
		}
	})
}

func TestCostReport(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		day1 := time.Date(2026, 11, 14, 10, 0, 0, 0, time.UTC)
		day2 := day1.Add(24 * time.Hour)
		call := func(model string, in, out, cost int64) netcfg.Charge {
			return netcfg.Charge{Kind: netcfg.ChargeCall, Provider: "sim", Model: model, InputTokens: in, OutputTokens: out, CostNUSD: cost}
		}
		complete := func(id, dept, owner, key string, at time.Time, charges ...netcfg.Charge) {
			t.Helper()
			insertJob(t, c, id, func(j *netcfg.Job) { j.Department, j.Owner, j.KeyID, j.CreatedAt = dept, owner, key, at })
			if ok, err := store.Complete(ctx, c, id, 1, at, &netcfg.Result{Body: []byte("{}"), Charges: charges}, at); !ok || err != nil {
				t.Fatalf("Complete(%s) = %v, %v", id, ok, err)
			}
		}
		complete("j1", "net", "alice", "k1", day1, call("opus", 100, 200, 3000), call("haiku", 10, 20, 100))
		complete("j2", "net", "bob", "k2", day2, netcfg.Charge{Kind: netcfg.ChargeCacheHit, Provider: "sim", Model: "opus", SavedNUSD: 2500})
		complete("j3", "sec", "carol", "k3", day2, call("haiku", 50, 60, 500))
		eco := []netcfg.Charge{{Kind: netcfg.ChargeBatchCall, Provider: "sim", Model: "opus", InputTokens: 1000, OutputTokens: 2000, CostNUSD: 4000}}
		if err := store.InsertLedger(ctx, c, "eco1", "b1", "sec", eco, day1); err != nil {
			t.Fatal(err)
		}
		// Inserting it again (a retried batch poll) charges nothing more.
		if err := store.InsertLedger(ctx, c, "eco1", "b1", "sec", eco, day1); err != nil {
			t.Fatal(err)
		}
		if _, month := usage(t, c, "sec", day1); month.SpentNUSD != 4500 {
			t.Errorf("sec spent %d this month, want 4500", month.SpentNUSD)
		}

		type row = netcfg.CostRow
		tests := []struct {
			name         string
			group        string
			since, until time.Time
			department   string
			all          bool
			want         []row
		}{
			{name: "department", group: "department", all: true, want: []row{
				{Group: "net", Requests: 3, Calls: 2, CacheHits: 1, InputTokens: 110, OutputTokens: 220, CostNUSD: 3100, SavedNUSD: 2500},
				{Group: "sec", Requests: 2, Calls: 2, InputTokens: 1050, OutputTokens: 2060, CostNUSD: 4500},
			}},
			{name: "model", group: "model", all: true, want: []row{
				{Group: "haiku", Requests: 2, Calls: 2, InputTokens: 60, OutputTokens: 80, CostNUSD: 600},
				{Group: "opus", Requests: 3, Calls: 2, CacheHits: 1, InputTokens: 1100, OutputTokens: 2200, CostNUSD: 7000, SavedNUSD: 2500},
			}},
			{name: "user", group: "user", all: true, want: []row{
				{Group: "", Requests: 1, Calls: 1, InputTokens: 1000, OutputTokens: 2000, CostNUSD: 4000},
				{Group: "alice", Requests: 2, Calls: 2, InputTokens: 110, OutputTokens: 220, CostNUSD: 3100},
				{Group: "bob", Requests: 1, CacheHits: 1, SavedNUSD: 2500},
				{Group: "carol", Requests: 1, Calls: 1, InputTokens: 50, OutputTokens: 60, CostNUSD: 500},
			}},
			{name: "key", group: "key", all: true, want: []row{
				{Group: "", Requests: 1, Calls: 1, InputTokens: 1000, OutputTokens: 2000, CostNUSD: 4000},
				{Group: "k1", Requests: 2, Calls: 2, InputTokens: 110, OutputTokens: 220, CostNUSD: 3100},
				{Group: "k2", Requests: 1, CacheHits: 1, SavedNUSD: 2500},
				{Group: "k3", Requests: 1, Calls: 1, InputTokens: 50, OutputTokens: 60, CostNUSD: 500},
			}},
			{name: "day", group: "day", all: true, want: []row{
				{Group: "2026-11-14", Requests: 3, Calls: 3, InputTokens: 1110, OutputTokens: 2220, CostNUSD: 7100},
				{Group: "2026-11-15", Requests: 2, Calls: 1, CacheHits: 1, InputTokens: 50, OutputTokens: 60, CostNUSD: 500, SavedNUSD: 2500},
			}},
			{name: "since", group: "department", since: day2, all: true, want: []row{
				{Group: "net", Requests: 1, CacheHits: 1, SavedNUSD: 2500},
				{Group: "sec", Requests: 1, Calls: 1, InputTokens: 50, OutputTokens: 60, CostNUSD: 500},
			}},
			{name: "until is exclusive", group: "department", until: day2, all: true, want: []row{
				{Group: "net", Requests: 2, Calls: 2, InputTokens: 110, OutputTokens: 220, CostNUSD: 3100},
				{Group: "sec", Requests: 1, Calls: 1, InputTokens: 1000, OutputTokens: 2000, CostNUSD: 4000},
			}},
			{name: "since is inclusive", group: "day", since: day1, until: day1.Add(time.Millisecond), all: true, want: []row{
				{Group: "2026-11-14", Requests: 3, Calls: 3, InputTokens: 1110, OutputTokens: 2220, CostNUSD: 7100},
			}},
			{name: "empty range", group: "day", since: day2.Add(time.Millisecond), until: day2.Add(time.Hour), all: true},
			{name: "one department", group: "model", department: "net", want: []row{
				{Group: "haiku", Requests: 1, Calls: 1, InputTokens: 10, OutputTokens: 20, CostNUSD: 100},
				{Group: "opus", Requests: 2, Calls: 1, CacheHits: 1, InputTokens: 100, OutputTokens: 200, CostNUSD: 3000, SavedNUSD: 2500},
			}},
			{name: "one department and since", group: "user", department: "sec", since: day2, want: []row{
				{Group: "carol", Requests: 1, Calls: 1, InputTokens: 50, OutputTokens: 60, CostNUSD: 500},
			}},
			{name: "unknown department", group: "department", department: "nobody"},
			{name: "all departments need all", group: "department", department: ""},
		}
		for _, tt := range tests {
			got, err := store.CostReport(ctx, c, tt.group, tt.since, tt.until, tt.department, tt.all)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}

		for _, g := range []string{"owner", "department; DROP TABLE netsmith_ledger", ""} {
			if rows, err := store.CostReport(ctx, c, g, time.Time{}, time.Time{}, "", true); err == nil {
				t.Errorf("CostReport grouped by %q = %v, want an error", g, rows)
			}
		}
	})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		anyKeys := func() bool {
			t.Helper()
			ok, err := store.AnyKeys(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if anyKeys() {
			t.Error("AnyKeys on an empty database = true")
		}

		ci := &netcfg.Key{ID: "k1", Name: "ci", Department: "net", Role: netcfg.RoleUser, RPM: 60, MaxActive: 5,
			CreatedAt: noon.Add(123 * time.Millisecond)}
		if err := store.InsertKey(ctx, c, ci, "h1"); err != nil {
			t.Fatal(err)
		}
		got, err := store.KeyByHash(ctx, c, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ci, got); diff != "" {
			t.Errorf("KeyByHash (-want +got):\n%s", diff)
		}
		if got.Revoked() {
			t.Error("a new key is revoked")
		}
		if _, err := store.KeyByHash(ctx, c, "h-unknown"); !errors.Is(err, netcfg.ErrNotFound) {
			t.Errorf("KeyByHash(unknown) error = %v, want ErrNotFound", err)
		}
		if !anyKeys() {
			t.Error("AnyKeys after a key = false")
		}

		// A second live key of that name is refused, until the first is
		// revoked (by name).
		dup := &netcfg.Key{ID: "k2", Name: "ci", Department: "sec", Role: netcfg.RoleAdmin, CreatedAt: noon.Add(time.Hour)}
		if err := store.InsertKey(ctx, c, dup, "h2"); !errors.Is(err, netcfg.ErrKeyName) {
			t.Fatalf("second key named ci: %v, want ErrKeyName", err)
		}
		revokedAt := noon.Add(30 * time.Minute)
		if ok, err := store.RevokeKey(ctx, c, "ci", revokedAt); !ok || err != nil {
			t.Fatalf("RevokeKey(ci) = %v, %v", ok, err)
		}
		if ok, err := store.RevokeKey(ctx, c, "ci", revokedAt); ok || err != nil {
			t.Errorf("RevokeKey(ci) again = %v, %v; want false", ok, err)
		}
		if got, err := store.KeyByHash(ctx, c, "h1"); err != nil || !got.Revoked() || !got.RevokedAt.Equal(revokedAt) {
			t.Errorf("revoked key = %+v, %v; want revoked at %v", got, err, revokedAt)
		}
		if err := store.InsertKey(ctx, c, dup, "h2"); err != nil {
			t.Fatalf("key named ci after revoking the first: %v", err)
		}
		// Revoke by id; an unknown id or name revokes nothing.
		if ok, err := store.RevokeKey(ctx, c, "nope", revokedAt); ok || err != nil {
			t.Errorf("RevokeKey(nope) = %v, %v; want false", ok, err)
		}
		if ok, err := store.RevokeKey(ctx, c, "k2", noon.Add(2*time.Hour)); !ok || err != nil {
			t.Fatalf("RevokeKey(k2) = %v, %v", ok, err)
		}
		if got, err := store.KeyByHash(ctx, c, "h2"); err != nil || !got.Revoked() {
			t.Errorf("key revoked by id = %+v, %v; want revoked", got, err)
		}

		// Oldest first, ties by id.
		for _, k := range []*netcfg.Key{
			{ID: "k4", Name: "late", Department: "net", Role: netcfg.RoleUser, CreatedAt: noon.Add(2 * time.Hour)},
			{ID: "k0", Name: "early", Department: "net", Role: netcfg.RoleUser, CreatedAt: noon.Add(-time.Hour)},
			{ID: "k3", Name: "early-too", Department: "net", Role: netcfg.RoleUser, CreatedAt: noon.Add(-time.Hour)},
		} {
			if err := store.InsertKey(ctx, c, k, "h-"+k.ID); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := store.ListKeys(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if diff := cmp.Diff([]string{"k0", "k3", "k1", "k2", "k4"}, ids); diff != "" {
			t.Errorf("ListKeys order (-want +got):\n%s", diff)
		}

		// Revoking every key does not open the service.
		for _, id := range []string{"k0", "k3", "k4"} {
			if ok, err := store.RevokeKey(ctx, c, id, noon.Add(3*time.Hour)); !ok || err != nil {
				t.Fatalf("RevokeKey(%s) = %v, %v", id, ok, err)
			}
		}
		if !anyKeys() {
			t.Error("AnyKeys after revoking every key = false")
		}
	})
}

func TestTakeKeyRate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		k := putKey(t, c, netcfg.Key{Name: "ci", Department: "net", RPM: 60})
		other := putKey(t, c, netcfg.Key{Name: "other", Department: "net", RPM: 60})
		take := func(k *netcfg.Key, rpm int64, now time.Time) time.Duration {
			t.Helper()
			wait, err := store.TakeKeyRate(ctx, c, k.ID, rpm, now)
			if err != nil {
				t.Fatal(err)
			}
			return wait
		}

		// A burst of rpm/10 at one instant, then a wait of one interval.
		for i := range 6 {
			if wait := take(k, 60, noon); wait != 0 {
				t.Fatalf("request %d of the burst: wait %v, want admitted", i+1, wait)
			}
		}
		wait := take(k, 60, noon)
		if wait < 500*time.Millisecond || wait > 1500*time.Millisecond {
			t.Fatalf("7th request: wait %v, want about 1s", wait)
		}
		// Refused requests take nothing: asking again gives the same wait.
		if again := take(k, 60, noon); again != wait {
			t.Errorf("8th request: wait %v, want %v again", again, wait)
		}
		// The limit is per key.
		if w := take(other, 60, noon); w != 0 {
			t.Errorf("another key: wait %v, want admitted", w)
		}
		later := noon.Add(wait)
		if w := take(k, 60, later); w != 0 {
			t.Errorf("after waiting %v: wait %v, want admitted", wait, w)
		}
		if w := take(k, 60, later); w == 0 {
			t.Error("a second request after one wait was admitted")
		}
		// After a quiet minute the whole burst is back.
		for i := range 6 {
			if w := take(k, 60, noon.Add(2*time.Minute)); w != 0 {
				t.Fatalf("request %d of a burst after a quiet minute: wait %v", i+1, w)
			}
		}

		// No limit: always admitted, and no key row is needed.
		for range 100 {
			if w := take(&netcfg.Key{ID: "no-such-key"}, 0, noon); w != 0 {
				t.Fatalf("rpm 0: wait %v, want 0", w)
			}
		}
	})
}

func TestBacklog(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		// net: 6 jobs, 2 final, 1 running, 1 retrying; sec: 4 queued.
		states := []netcfg.JobState{netcfg.StateQueued, netcfg.StateQueued, netcfg.StateRunning,
			netcfg.StateRetrying, netcfg.StateSucceeded, netcfg.StateCanceled}
		for i, s := range states {
			j := insertJob(t, c, fmt.Sprint("net", i), func(j *netcfg.Job) { j.Department = "net" })
			if s == netcfg.StateQueued {
				continue
			}
			if ok, err := store.MarkState(ctx, c, j.ID, s, "", 1, noon, noon); !ok || err != nil {
				t.Fatalf("MarkState(%s) = %v, %v", s, ok, err)
			}
		}
		for i := range 4 {
			insertJob(t, c, fmt.Sprint("sec", i), func(j *netcfg.Job) { j.Department = "sec" })
		}
		tests := []struct {
			department string
			limit      int64
			want       int64
		}{
			{"net", 100, 4},
			{"net", 4, 4},
			{"net", 2, 2},
			{"sec", 100, 4},
			{"sec", 3, 3},
			{"ops", 100, 0},
		}
		for _, tt := range tests {
			if got, err := store.Backlog(ctx, c, tt.department, tt.limit); got != tt.want || err != nil {
				t.Errorf("Backlog(%s, %d) = %d, %v; want %d", tt.department, tt.limit, got, err, tt.want)
			}
		}
	})
}

// TestCompleteMany completes jobs of two departments and two keys in one
// call: each department is charged its own jobs' cost, each gives back its
// reservations and slots, and a job already final is left alone. Then
// transactions completing jobs of both departments in opposite orders run
// at once; none may fail (on PostgreSQL, a deadlock would).
func TestCompleteMany(t *testing.T) {
	t.Parallel()
	const est = 3 * usd
	finishedAt := noon.Add(24 * time.Hour)
	charge := func(cost int64) *netcfg.Result {
		return &netcfg.Result{Body: []byte("{}"), Charges: []netcfg.Charge{{Kind: netcfg.ChargeCall, Provider: "sim", Model: "m", CostNUSD: cost}}}
	}
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		keys := map[string]*netcfg.Key{}
		for _, d := range []string{"net", "sec"} {
			putBudget(t, c, netcfg.Budget{Department: d, DailyNUSD: 1000 * usd})
			keys[d] = putKey(t, c, netcfg.Key{Name: "k-" + d, Department: d, MaxActive: 100})
		}
		hold := func(dept, id string) {
			t.Helper()
			if reserved, _ := takeHolds(t, c, store.Holds{Department: dept, ReserveNUSD: est, KeyID: keys[dept].ID, Slots: 1}, noon); !reserved {
				t.Fatal("TakeHolds reserved nothing")
			}
			insertJob(t, c, id, func(j *netcfg.Job) {
				j.Department, j.Owner, j.KeyID, j.ReservedNUSD, j.HoldsSlot = dept, "alice", keys[dept].ID, est, true
			})
		}
		for _, id := range []string{"n1", "n2", "n3"} {
			hold("net", id)
		}
		hold("sec", "s1")
		if ok, err := store.MarkState(ctx, c, "n3", netcfg.StateFailed, "boom", 1, noon, noon); !ok || err != nil {
			t.Fatalf("MarkState(failed) = %v, %v", ok, err)
		}
		done, err := store.CompleteMany(ctx, c, []store.Completion{
			{ID: "n2", Attempt: 1, Started: noon, Result: charge(2 * usd)},
			{ID: "s1", Attempt: 1, Started: noon, Result: charge(5 * usd)},
			{ID: "n3", Attempt: 1, Started: noon, Result: charge(7 * usd)},
			{ID: "n1", Attempt: 1, Started: noon, Result: charge(usd)},
		}, finishedAt)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, false, true}; !slices.Equal(done, want) {
			t.Errorf("CompleteMany = %v, want %v", done, want)
		}
		checkPeriod(t, c, "net", "day", noon, 0, 0)
		checkPeriod(t, c, "net", "day", finishedAt, 3*usd, 0)
		checkPeriod(t, c, "sec", "day", finishedAt, 5*usd, 0)
		checkPeriod(t, c, "sec", "month", noon, 5*usd, 0)
		for d, k := range keys {
			if got := keyActive(t, c, k); got != 0 {
				t.Errorf("key of %s: %d active after its jobs ended, want 0", d, got)
			}
		}
		if n := ledgerRows(t, c, "n3"); n != 0 {
			t.Errorf("%d ledger rows for the failed job, want 0", n)
		}

		// More jobs than one statement takes (chunks of 64, 4, 2 and 1),
		// one of them twice: each completes once, with its own result and
		// ledger row, and is charged once.
		const many = 71
		var cs []store.Completion
		for i := range many {
			id := fmt.Sprintf("m%02d", i)
			insertJob(t, c, id, func(j *netcfg.Job) { j.Department = "ops" })
			cs = append(cs, store.Completion{ID: id, Attempt: 2, Started: noon, Result: charge(int64(i+1) * usd)})
		}
		cs = append(cs, store.Completion{ID: "m07", Attempt: 2, Started: noon, Result: charge(1000 * usd)})
		done, err = store.CompleteMany(ctx, c, cs, finishedAt)
		if err != nil {
			t.Fatal(err)
		}
		for i, ok := range done {
			if ok != (i < many) {
				t.Fatalf("CompleteMany of %d: done[%d] = %v", len(cs), i, ok)
			}
		}
		for _, id := range []string{"m00", "m07", "m63", "m64", "m70"} {
			j, err := store.GetJob(ctx, c, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != netcfg.StateSucceeded || j.Attempts != 2 || j.Result == nil || string(j.Result.Body) != "{}" ||
				!j.FinishedAt.Equal(finishedAt) || !j.StartedAt.Equal(noon) {
				t.Errorf("job %s: %s, %d attempts, result %v, started %v, finished %v", id, j.State, j.Attempts, j.Result, j.StartedAt, j.FinishedAt)
			}
			if n := ledgerRows(t, c, id); n != 1 {
				t.Errorf("job %s: %d ledger rows, want 1", id, n)
			}
		}
		checkPeriod(t, c, "ops", "day", finishedAt, many*(many+1)/2*usd, 0) // 1 + 2 + … + 71

		// Opposite orders at once.
		inTx := openTx(t, url)
		const pairs = 16
		for i := range pairs {
			hold("net", fmt.Sprintf("pn%d", i))
			hold("sec", fmt.Sprintf("ps%d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*pairs)
		for i := range pairs {
			// A submission group taking holds in both departments, in the
			// order the queue sorts a group in.
			wg.Go(func() {
				errs <- inTx(ctx, func(c store.Conn) error {
					for _, d := range []string{"net", "sec"} {
						if _, _, err := store.TakeHolds(ctx, c, store.Holds{Department: d, ReserveNUSD: 1, KeyID: keys[d].ID, Slots: 1}, finishedAt); err != nil {
							return err
						}
					}
					return nil
				})
			})
			wg.Go(func() {
				cs := []store.Completion{
					{ID: fmt.Sprintf("pn%d", i), Attempt: 1, Started: noon, Result: charge(usd)},
					{ID: fmt.Sprintf("ps%d", i), Attempt: 1, Started: noon, Result: charge(usd)},
				}
				if i%2 == 1 {
					cs[0], cs[1] = cs[1], cs[0]
				}
				errs <- inTx(ctx, func(c store.Conn) error {
					_, err := store.CompleteMany(ctx, c, cs, finishedAt)
					return err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent CompleteMany: %v", err)
			}
		}
		checkPeriod(t, c, "net", "day", finishedAt, (3+pairs)*usd, pairs)
		checkPeriod(t, c, "sec", "day", finishedAt, (5+pairs)*usd, pairs)
		checkPeriod(t, c, "net", "day", noon, 0, 0)
		for d, k := range keys {
			if got := keyActive(t, c, k); got != pairs {
				t.Errorf("key of %s: %d active, want the %d taken meanwhile", d, got, pairs)
			}
		}
	})
}
