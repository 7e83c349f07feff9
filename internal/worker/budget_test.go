package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/ledger"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/prompt"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/worker"
)

// billingLLM is an upstream that refuses to write a usable template (so
// every intent's two template tries fail and its devices fall back to a
// call each) and bills every answer at the most its request allows: the
// prompt's estimate in and max_tokens out. It keeps the provider's bill.
type billingLLM struct {
	prices *pricing.Table

	mu       sync.Mutex
	calls    int
	billNUSD int64
	maxCall  int64 // the dearest single call
}

func (b *billingLLM) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	spec, _ := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
	text := "```\nhostname " + spec.Hostname + "\n```\n"
	if spec.Task == prompt.TaskTemplate {
		text = "```\n{{ if\n```\n" // never parses
	}
	u := llm.Usage{InputTokens: req.EstimateInputTokens(), OutputTokens: int64(req.MaxTokens)}
	c, err := ledger.CallCost(b.prices, time.Now(), req.Model, "", u, false)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.calls++
	b.billNUSD += c
	b.maxCall = max(b.maxCall, c)
	b.mu.Unlock()
	return &llm.Response{Provider: "test", Model: req.Model, Text: text, Usage: u}, nil
}

// budgetRig is a queue whose jobs run the generate service with the
// template cache over billingLLM, every call beyond a job's first
// reserving against its department's budget.
type budgetRig struct {
	db     *store.DB
	q      *queue.Queue
	svc    *generate.Service
	llm    *billingLLM
	prices *pricing.Table
}

func newBudgetRig(t *testing.T, url string, hooks func(*queue.Config)) *budgetRig {
	t.Helper()
	prices, err := pricing.Load("testdata/prices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	var runner *worker.Runner
	cfg := queue.Config{
		Workers: 4, PollInterval: 20 * time.Millisecond, Logger: logger,
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Work: func(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) { return runner.Run(ctx, j) },
	}
	if hooks != nil {
		hooks(&cfg)
	}
	db := dbtest.Open(t, url)
	q, err := queue.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	b := &billingLLM{prices: prices}
	tc := cache.New(cache.Config{Conn: db.Conn(), ReadConn: db.ReadConn(), Owner: "budget-test", PollEvery: 10 * time.Millisecond})
	svc := generate.New(generate.Config{LLM: b, Provider: "test", Model: "m", MaxTokens: 2000, Cache: tc})
	runner = worker.New(svc, prices, nil, logger)
	runner.ReserveCalls(db)
	t.Cleanup(runner.Close) // after the queue stops (cleanups run last first)
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return &budgetRig{db: db, q: q, svc: svc, llm: b, prices: prices}
}

// estimate is what serve reserves at submit for req.
func (r *budgetRig) estimate(t *testing.T, req *netcfg.JobRequest) int64 {
	model, in, out, err := r.svc.Estimate(req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.prices.Estimate(model, time.Now(), in, out)
	if err != nil {
		t.Fatal(err)
	}
	return int64(c)
}

func deviceJob(t *testing.T, host, department string) (*netcfg.JobRequest, *netcfg.Job) {
	t.Helper()
	req := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
		Device: &netcfg.Device{Hostname: host, Platform: netcfg.CiscoIOS, Role: "access",
			Vars: map[string]any{"mgmt_ip": "10.1.1.11/24"}}}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return req, &netcfg.Job{ID: "job-" + host, Kind: netcfg.KindGenerate, Department: department,
		RequestHash: hex.EncodeToString(sum[:]), Request: body, CreatedAt: time.Now()}
}

// ledgerTotal is every ledger row's count and cost.
func ledgerTotal(t *testing.T, db *store.DB) (rows, nusd int64) {
	t.Helper()
	cost, err := store.CostReport(t.Context(), db.Conn(), "department", time.Time{}, time.Time{}, "", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cost {
		rows += r.Calls
		nusd += r.CostNUSD
	}
	return rows, nusd
}

// TestBudgetHoldsForEveryCall: a department's budget holds for every
// upstream call, not every job: with the template refused, a batch's
// devices each fall back to a call of their own and single jobs call three
// times, yet the provider's bill stays within the budget plus one call,
// the jobs the budget cannot cover fail with budget_exceeded, and every
// paid call is in the ledger.
func TestBudgetHoldsForEveryCall(t *testing.T) {
	t.Parallel()
	dbs := []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}}
	tests := []struct {
		name    string
		devices int
		batch   bool // one reservation for the intent, on its first device
	}{
		{"batch", 12, true},
		{"single jobs", 6, false},
	}
	for _, db := range dbs {
		for _, tt := range tests {
			t.Run(db.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				rig := newBudgetRig(t, db.url(t), nil)
				ctx := t.Context()
				const dept = "net"
				var (
					jobs []*netcfg.Job
					per  int64
				)
				for i := range tt.devices {
					req, j := deviceJob(t, fmt.Sprintf("%s-sw%02d", strings.ReplaceAll(tt.name, " ", "-"), i), dept)
					per = rig.estimate(t, req)
					if !tt.batch || i == 0 {
						j.ReservedNUSD = per
					}
					jobs = append(jobs, j)
				}
				// Room for about three and a half calls: without per-call
				// reservations, the batch would make 2 + 12 calls and the
				// single jobs 3 each.
				budget := per*7/2 + 1
				if err := store.PutBudget(ctx, rig.db.Conn(), &netcfg.Budget{Department: dept, DailyNUSD: budget,
					MonthlyNUSD: 100 * budget, UpdatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
				var queued []*netcfg.Job
				if tt.batch {
					b := &netcfg.Batch{ID: "b1", Department: dept, Devices: len(jobs), Intents: 1, CreatedAt: time.Now()}
					for _, j := range jobs {
						j.BatchID = b.ID
						j.IntentKey, _ = rig.svc.IntentKey(mustRequest(t, j))
					}
					hold := ledger.NewHold(jobs)
					if err := rig.q.EnqueueBatch(ctx, b, jobs, func(ctx context.Context, tx *queue.Tx) error {
						return hold.Take(ctx, tx.Conn(), b.CreatedAt)
					}); err != nil {
						t.Fatal(err)
					}
					queued = jobs
				} else {
					for _, j := range jobs {
						hold := ledger.NewHold([]*netcfg.Job{j})
						_, _, err := rig.q.Enqueue(ctx, j, func(ctx context.Context, tx *queue.Tx) error {
							return hold.Take(ctx, tx.Conn(), j.CreatedAt)
						})
						var be *netcfg.BudgetError
						if errors.As(err, &be) {
							continue // refused at submit: fine, and no call
						}
						if err != nil {
							t.Fatal(err)
						}
						queued = append(queued, j)
					}
				}
				over := 0
				for _, j := range queued {
					f := waitFinal(t, rig.q, j.ID)
					if f.State == netcfg.StateFailed {
						if !strings.HasPrefix(f.Error, "budget_exceeded: ") {
							t.Errorf("%s failed with %q, want budget_exceeded", j.ID, f.Error)
						}
						t.Logf("%s: %s", j.ID, f.Error)
						over++
					}
				}
				b := rig.llm
				b.mu.Lock()
				calls, bill, maxCall := b.calls, b.billNUSD, b.maxCall
				b.mu.Unlock()
				t.Logf("budget %d nUSD (one call reserves %d): %d calls billed %d nUSD, %d of %d jobs over budget",
					budget, per, calls, bill, over, len(queued))
				if bill > budget+maxCall {
					t.Errorf("provider billed %d nUSD over %d calls; budget %d + one call %d = %d",
						bill, calls, budget, maxCall, budget+maxCall)
				}
				if over == 0 {
					t.Errorf("no job failed with budget_exceeded; the budget did not bind (%d calls)", calls)
				}
				rows, nusd := ledgerTotal(t, rig.db)
				if rows != int64(calls) || nusd != bill {
					t.Errorf("ledger has %d calls costing %d nUSD; the provider billed %d calls, %d nUSD", rows, nusd, calls, bill)
				}
			})
		}
	}
}

func mustRequest(t *testing.T, j *netcfg.Job) *netcfg.JobRequest {
	t.Helper()
	var req netcfg.JobRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

// waitFinal waits for job id to be final, on the queue's notification.
func waitFinal(t *testing.T, q *queue.Queue, id string) *netcfg.Job {
	t.Helper()
	ch, stop := q.Watch(id)
	defer stop()
	timeout := time.After(30 * time.Second)
	for {
		j, err := q.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Final() {
			return j
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("job %s still %s after 30 s (error %q)", id, j.State, j.Error)
		}
	}
}
