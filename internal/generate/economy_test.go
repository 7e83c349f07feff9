package generate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/ledger"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/llm/anthropic"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/submit"
	"netsmith/internal/worker"
)

// economyFleet is the campus example's defaults and groups with n devices in
// each of two office-access groups (two intents).
func economyFleet(t *testing.T, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "campus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(data), "\ndevices:\n")
	if !ok {
		t.Fatal("campus.yaml has no devices list")
	}
	var sb strings.Builder
	sb.WriteString(head + "\ndevices:\n")
	for i := range 2 * n {
		group := "office-access-xe179"
		if i%2 == 1 {
			group = "office-access-xe1712"
		}
		fmt.Fprintf(&sb, `  - hostname: eco-acc%02d
    group: %s
    site: bld1
    vars:
      snmp_location: "Building 1, IDF %d"
      mgmt_ip: 10.99.1.%d/24
      mgmt_gateway: 10.99.1.1
      uplinks:
        - {port: TenGigabitEthernet1/1/1, peer: bld1-dist01, peer_port: TwentyFiveGigE1/0/%d}
        - {port: TenGigabitEthernet1/1/2, peer: bld1-dist02, peer_port: TwentyFiveGigE1/0/%d}
`, i, group, i, 11+i, i+1, i+1)
	}
	return []byte(sb.String())
}

// poisonBatch adds the fake's invalid marker to the batch request of one
// intent, so that its batch result is an error while normal calls work.
type poisonBatch struct {
	*anthropic.Client
	poison func(customID string) bool
}

func (p poisonBatch) CreateBatch(ctx context.Context, reqs []llm.BatchRequest) (*llm.Batch, error) {
	for i := range reqs {
		if p.poison(reqs[i].CustomID) {
			reqs[i].Request.System += "\n" + fakeanthropic.DefaultInvalidMarker
		}
	}
	return p.Client.CreateBatch(ctx, reqs)
}

// rigPrice prices batch requests at $2/MTok in and $10/MTok out, half off.
func rigPrice(_ string, u llm.Usage) int64 {
	return (u.InputTokens*2000 + u.OutputTokens*10000) / 2
}

type economyRig struct {
	fake   *llmtest.Server
	client *httpapi.Client
	svc    *generate.Service
	conn   store.Conn
}

// newEconomyRig wires the real pieces as serve does: SQLite queue with
// workers, template cache, generate on an anthropic client pointed at the
// fake, its economy job, and the HTTP API.
func newEconomyRig(t *testing.T, poison func(string) bool) *economyRig {
	t.Helper()
	fake := llmtest.NewServer(t, fakeanthropic.Config{BatchTime: time.Second, Latency: 20 * time.Millisecond})
	ac := fake.Anthropic(anthropic.Config{})
	var batches generate.BatchAPI = ac
	if poison != nil {
		batches = poisonBatch{Client: ac, poison: poison}
	}
	logger := slog.New(slog.DiscardHandler)
	var (
		runner  *worker.Runner
		economy *generate.EconomyRunner
	)
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.SQLite(t))
	ew := &worker.EconomyWorker{Conn: db.Conn(), StepTimeout: time.Minute, Logger: logger,
		Step: func(ctx context.Context, id string) (time.Duration, error) { return economy.Step(ctx, id) }}
	q, err := queue.New(db, queue.Config{
		Workers: 8,
		Work: func(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) {
			return runner.Run(ctx, j)
		},
		PollInterval: 50 * time.Millisecond,
		RetryBase:    10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Logger: logger,
	}, queue.WithWorker(ew.QueueWorker()))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lint.Default()
	if err != nil {
		q.Close()
		t.Fatal(err)
	}
	tc := cache.New(cache.Config{Conn: db.Conn(), ReadConn: db.ReadConn(), Owner: "rig", PollEvery: 20 * time.Millisecond})
	svc := generate.New(generate.Config{LLM: ac, Provider: "anthropic", Model: llmtest.Model, Cache: tc, Linter: l})
	runner = worker.New(svc, nil, nil, logger)
	economy = svc.NewEconomyRunner(generate.EconomyRunnerConfig{Batches: batches, Conn: db.Conn(), ReadConn: db.ReadConn(),
		Poll: 100 * time.Millisecond, Logger: logger, Price: rigPrice})
	if err := q.Start(ctx); err != nil {
		q.Close()
		t.Fatal(err)
	}
	api := httpapi.NewServer(httpapi.Config{Provider: "anthropic", Economy: true},
		httpapi.Deps{DB: db, Queue: q, Cache: tc, Logger: logger, TemplateMeta: svc.TemplateMeta, Money: ledger.New(db, nil),
			Submit: submit.New(submit.Config{}, submit.Deps{Queue: q, Cache: true, TemplateMeta: svc.TemplateMeta, Logger: logger})})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Errorf("stop queue: %v", err)
		}
		q.Close()
	})
	return &economyRig{fake: fake, client: httpapi.NewClient(srv.URL, nil, ""), svc: svc, conn: db.Conn()}
}

// runFleet submits the fleet with economy=true and waits until it is done.
func (r *economyRig) runFleet(t *testing.T, fleetFile []byte, wantEconomy bool) (*httpapi.BatchView, map[string]generate.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b, err := r.client.SubmitFleet(ctx, httpapi.SubmitOptions{Name: "eco.yaml", Economy: true}, fleetFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Economy != nil && b.Economy.State == netcfg.EconomyPending; got != wantEconomy {
		t.Fatalf("submitted batch's economy = %+v, want pending: %t", b.Economy, wantEconomy)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var v *httpapi.BatchView
	for {
		v, err = r.client.Batch(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status == "done" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("batch not done in time: %+v", v)
		case <-tick.C:
		}
	}
	out := map[string]generate.Result{}
	err = r.client.BatchResults(ctx, b.ID, func(br *httpapi.BatchResult) error {
		if br.Status != "succeeded" {
			t.Errorf("%s: %s (%s)", br.Hostname, br.Status, br.Error)
			return nil
		}
		var res generate.Result
		if err := jsonUnmarshal(br.Result, &res); err != nil {
			return err
		}
		out[br.Hostname] = res
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, out
}

func checkConfigs(t *testing.T, results map[string]generate.Result, want int) {
	t.Helper()
	if len(results) != want {
		t.Errorf("%d configs, want %d", len(results), want)
	}
	for host, res := range results {
		if !strings.Contains(res.Config, "hostname "+host+"\n") {
			t.Errorf("%s: config lacks its hostname:\n%.300s", host, res.Config)
		}
		for other := range results {
			if other != host && strings.Contains(res.Config, other+"\n") {
				t.Errorf("%s: config names %s", host, other)
			}
		}
	}
}

// TestEconomyFleet: 20 devices over 2 intents submitted with economy=true
// make one Message Batch of 2 requests and no message call.
func TestEconomyFleet(t *testing.T) {
	t.Parallel()
	r := newEconomyRig(t, nil)
	v, results := r.runFleet(t, economyFleet(t, 10), true)
	checkConfigs(t, results, 20)
	st := r.fake.Fake.Stats()
	if st.Requests != 0 {
		t.Errorf("fake served %d /v1/messages calls, want 0", st.Requests)
	}
	if st.Batches.Created != 1 || st.Batches.Requests != 2 {
		t.Errorf("fake batches: %+v, want 1 created with 2 requests", st.Batches)
	}
	if v.Economy == nil || v.Economy.State != netcfg.EconomyDone || v.Economy.Filled != 2 || v.Economy.Released != 0 {
		t.Errorf("economy view %+v, want done with 2 filled", v.Economy)
	}
	// The batch's calls are the ledger's: the Message Batch's requests.
	if v.LLMCalls != 2 || v.Fallbacks != 0 {
		t.Errorf("batch view: %d llm calls, %d fallbacks; want 2 (the batch requests), 0", v.LLMCalls, v.Fallbacks)
	}
	// The ledger holds the Message Batch's requests at the batch price.
	want := rigPrice("", llm.Usage{InputTokens: st.Batches.InputTokens, OutputTokens: st.Batches.OutputTokens})
	if got := int64(math.Round(v.CostUSD * 1e9)); want == 0 || got != want {
		t.Errorf("batch cost %d nano-USD, want %d (the batch requests' usage at half price)", got, want)
	}
	// A second economy run finds the templates ready: nothing is leased,
	// no batch is made.
	v2, results2 := r.runFleet(t, economyFleet(t, 10), false)
	checkConfigs(t, results2, 20)
	if v2.Economy != nil {
		t.Errorf("second run's economy = %+v, want none (templates were cached)", v2.Economy)
	}
	if st := r.fake.Fake.Stats(); st.Batches.Created != 1 || st.Requests != 0 {
		t.Errorf("after the second run: %d batches, %d messages; want 1, 0", st.Batches.Created, st.Requests)
	}
}

// TestEconomyErroredResultFallsBack: an intent whose batch result is an
// error gives its lease back, and its devices make the template with one
// normal call; the other intent still comes from the batch.
func TestEconomyErroredResultFallsBack(t *testing.T) {
	t.Parallel()
	fleetFile := economyFleet(t, 5)
	poisoned := map[string]bool{}
	var r *economyRig
	r = newEconomyRig(t, func(key string) bool {
		// Poison the first key asked for only.
		if len(poisoned) == 0 {
			poisoned[key] = true
		}
		return poisoned[key]
	})
	v, results := r.runFleet(t, fleetFile, true)
	checkConfigs(t, results, 10)
	st := r.fake.Fake.Stats()
	if st.Batches.Created != 1 || st.Batches.Requests != 2 {
		t.Errorf("fake batches: %+v, want 1 created with 2 requests", st.Batches)
	}
	// The normal path asks a second time, with the names, when the
	// template leaves variables out (the results list them then).
	calls := int64(1)
	for _, res := range results {
		if len(res.UnusedVars) > 0 {
			calls = 2
		}
	}
	if st.Requests != calls || st.Succeeded != calls {
		t.Errorf("fake messages: %d requests, %d succeeded; want %d template calls for the errored intent", st.Requests, st.Succeeded, calls)
	}
	if v.Economy == nil || v.Economy.Filled != 1 || v.Economy.Released != 1 {
		t.Errorf("economy view %+v, want 1 filled and 1 released", v.Economy)
	}
	// Every paid call: the template calls and the batch request that
	// succeeded (an errored one is not paid for).
	if v.LLMCalls != calls+1 {
		t.Errorf("batch view: %d llm calls, want %d", v.LLMCalls, calls+1)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestEconomyCacheTTL: a fleet group's cache_ttl reaches the templates the
// Message Batch makes; the other intent's template gets the default TTL.
func TestEconomyCacheTTL(t *testing.T) {
	t.Parallel()
	r := newEconomyRig(t, nil)
	fleetFile := strings.ReplaceAll(string(economyFleet(t, 2)),
		"    group: office-access-xe179\n", "    group: office-access-xe179\n    cache_ttl: 2h\n")
	start := time.Now().Truncate(time.Millisecond)
	v, results := r.runFleet(t, []byte(fleetFile), true)
	end := time.Now()
	checkConfigs(t, results, 4)
	if v.Economy == nil || v.Economy.Filled != 2 || r.fake.Fake.Stats().Requests != 0 {
		t.Fatalf("economy view %+v, want both templates from the Message Batch", v.Economy)
	}
	for host, res := range results {
		tpl, err := store.GetTemplate(t.Context(), r.conn, res.CacheKey)
		if err != nil {
			t.Fatalf("%s: template %s: %v", host, res.CacheKey, err)
		}
		ttl := 7 * 24 * time.Hour
		if i := strings.TrimPrefix(host, "eco-acc"); i == "00" || i == "02" { // the office-access-xe179 devices
			ttl = 2 * time.Hour
		}
		if tpl.ExpiresAt.Before(start.Add(ttl)) || tpl.ExpiresAt.After(end.Add(ttl)) {
			t.Errorf("%s: template expires at %v, want %s after the run (%v to %v)", host, tpl.ExpiresAt, ttl, start.Add(ttl), end.Add(ttl))
		}
	}
}
