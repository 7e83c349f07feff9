package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
)

// TestPaidAnswerKept breaks the completion of every job a few times, as a
// database blip would: each job's model call (Work) is made once, and the
// ledger has one row per call.
func TestPaidAnswerKept(t *testing.T) {
	for name, url := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testPaidAnswerKept(t, url(t))
		})
	}
}

func testPaidAnswerKept(t *testing.T, url string) {
	const (
		jobs     = 8
		failures = 3 // per job
	)
	ctx := t.Context()
	var (
		calls atomic.Int32
		mu    sync.Mutex
		broke = map[string]int{}
	)
	db := dbtest.Open(t, url)
	q, err := New(db, Config{
		Workers: 4, PollInterval: 20 * time.Millisecond,
		Work: func(context.Context, *netcfg.Job) (*netcfg.Result, error) {
			calls.Add(1)
			return &netcfg.Result{Body: []byte(`{"config":"hostname x\n"}`), Provider: "test", Model: "m",
				Charges: []netcfg.Charge{{Kind: netcfg.ChargeCall, Provider: "test", Model: "m", InputTokens: 10, OutputTokens: 20, CostNUSD: 7}}}, nil
		},
		BeforeComplete: func(_ context.Context, id string) error {
			mu.Lock()
			defer mu.Unlock()
			if broke[id] < failures {
				broke[id]++
				return errors.New("database unavailable")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	var ids []string
	for i := range jobs {
		j := &netcfg.Job{ID: fmt.Sprintf("paid-%d", i), Kind: netcfg.KindGenerate, Department: "net",
			RequestHash: fmt.Sprint(i), Request: []byte(`{}`), CreatedAt: time.Now()}
		if _, _, err := q.Enqueue(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		ch, stop := q.Watch(id)
		timeout := time.After(30 * time.Second)
		for done := false; !done; {
			j, err := q.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if done = j.State.Final(); done {
				if j.State != netcfg.StateSucceeded {
					t.Errorf("job %s %s: %s", id, j.State, j.Error)
				}
				break
			}
			select {
			case <-ch:
			case <-timeout:
				t.Fatalf("job %s still %s after 30 s", id, j.State)
			}
		}
		stop()
	}
	var rows int64
	if err := db.Conn().QueryRow(ctx, `SELECT count(*) FROM netsmith_ledger`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != jobs || rows != jobs {
		t.Errorf("%d jobs, each completion broken %d times: %d upstream calls, %d ledger rows; want %d and %d",
			jobs, failures, n, rows, jobs, jobs)
	}
}

// TestAnswersKeep: a result kept for a job is taken once.
func TestAnswersKeep(t *testing.T) {
	t.Parallel()
	var a answers
	r := &netcfg.Result{Model: "m"}
	a.keep("j1", r)
	if got, ok := a.take("j1"); !ok || got != r {
		t.Fatalf("take j1 = %v, %v; want the kept result", got, ok)
	}
	if _, ok := a.take("j1"); ok {
		t.Fatal("a kept result was taken twice")
	}
}

// TestAnswersBounded: a process keeps at most maxKeptAnswers answers, and
// the newest is always among them.
func TestAnswersBounded(t *testing.T) {
	var a answers
	for i := range maxKeptAnswers + 10 {
		a.keep(fmt.Sprint("job", i), &netcfg.Result{})
	}
	if len(a.m) != maxKeptAnswers {
		t.Errorf("%d answers kept, want %d", len(a.m), maxKeptAnswers)
	}
	if _, ok := a.take(fmt.Sprint("job", maxKeptAnswers+9)); !ok {
		t.Error("the newest answer was dropped")
	}
}
