package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
	"netsmith/internal/store"
)

// BatchAPI is the part of the Message Batches API economy mode uses;
// *anthropic.Client has it.
type BatchAPI interface {
	CreateBatch(ctx context.Context, reqs []llm.BatchRequest) (*llm.Batch, error)
	GetBatch(ctx context.Context, id string) (*llm.Batch, error)
	EachBatchResult(ctx context.Context, id string, fn func(llm.BatchResult) error) error
}

// EconomyRunnerConfig configures an EconomyRunner.
type EconomyRunnerConfig struct {
	Batches  BatchAPI
	Conn     store.Conn // writes: the economy record and the templates
	ReadConn store.Conn // the batch's jobs; Conn when nil
	// Poll is how long the job sleeps between looks at a running Message
	// Batch (default 30 s).
	Poll time.Duration
	// TTL is the life of a template made here when its request sets no
	// CacheTTL (default 7 days, as the cache's).
	TTL time.Duration
	// Price is what a Message Batch request's usage costs, in nano-USD,
	// batch discount included; nil records it at zero.
	Price  func(model string, u llm.Usage) int64
	Clock  func() time.Time
	Logger *slog.Logger
}

// EconomyRunner makes the templates a fleet batch leased at submit through one
// Message Batch (half price), polled until it ends and matched by
// custom_id, which is the intent key. A template proved as in the normal
// path is stored under the batch's lease; any other outcome gives the lease
// back and the intent's devices pay the normal price.
type EconomyRunner struct {
	svc *Service
	cfg EconomyRunnerConfig
}

// NewEconomyRunner returns the economy-mode runner of s.
func (s *Service) NewEconomyRunner(cfg EconomyRunnerConfig) *EconomyRunner {
	if cfg.ReadConn == nil {
		cfg.ReadConn = cfg.Conn
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 7 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &EconomyRunner{svc: s, cfg: cfg}
}

// economyIntent is one leased intent: the first device of the batch that
// has it, and the example values its template is asked for and proved with.
type economyIntent struct {
	req     *netcfg.JobRequest
	example map[string]any
}

// Step runs one step of batchID's economy job (a worker.EconomyStepFunc): it
// submits the Message Batch, or looks at it, or stores its results. It
// returns again > 0 while the Message Batch runs.
func (e *EconomyRunner) Step(ctx context.Context, batchID string) (again time.Duration, err error) {
	c := e.cfg.Conn
	ec, err := store.GetEconomy(ctx, c, batchID)
	if errors.Is(err, netcfg.ErrNotFound) {
		return 0, nil
	}
	if err != nil || ec.State == netcfg.EconomyDone {
		return 0, err
	}
	owner := store.EconomyOwner(batchID)
	keys, err := store.LeasedTemplateKeys(ctx, c, owner)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, e.finish(ctx, ec)
	}
	intents, err := e.intents(ctx, batchID, keys)
	if err != nil {
		return 0, err
	}
	log := e.cfg.Logger.With("batch_id", batchID)
	if ec.MessageBatchID == "" {
		reqs := make([]llm.BatchRequest, 0, len(intents))
		for _, k := range keys {
			in, ok := intents[k]
			if !ok {
				continue // released below: no device of the batch has it
			}
			r, err := prompt.Build(templateSpec(in.req, in.example), e.svc.cfg.Model, e.svc.cfg.MaxTokens)
			if err != nil {
				return 0, err
			}
			reqs = append(reqs, llm.BatchRequest{CustomID: k, Request: r})
		}
		if len(reqs) == 0 {
			return 0, e.releaseAll(ctx, ec, keys, "no device of the batch has the intent")
		}
		b, err := e.cfg.Batches.CreateBatch(ctx, reqs)
		if llm.ClassOf(err) == llm.Permanent {
			log.ErrorContext(ctx, "economy: message batch refused; devices take the normal path", slog.Any("error", err))
			return 0, e.releaseAll(ctx, ec, keys, err.Error())
		}
		if err != nil {
			return 0, fmt.Errorf("create message batch: %w", err)
		}
		ec.MessageBatchID, ec.State, ec.Requests = b.ID, netcfg.EconomySubmitted, int64(len(reqs))
		if err := store.UpdateEconomy(context.WithoutCancel(ctx), c, ec, e.cfg.Clock()); err != nil {
			return 0, err
		}
		log.InfoContext(ctx, "economy: message batch submitted", "message_batch_id", b.ID, "requests", len(reqs))
		return e.cfg.Poll, nil
	}
	b, err := e.cfg.Batches.GetBatch(ctx, ec.MessageBatchID)
	if llm.ClassOf(err) == llm.Permanent {
		log.ErrorContext(ctx, "economy: message batch lost; devices take the normal path", "message_batch_id", ec.MessageBatchID, slog.Any("error", err))
		return 0, e.releaseAll(ctx, ec, keys, err.Error())
	}
	if err != nil {
		return 0, fmt.Errorf("get message batch %s: %w", ec.MessageBatchID, err)
	}
	if !b.Ended() {
		return e.cfg.Poll, nil
	}
	leased := make(map[string]bool, len(keys))
	for _, k := range keys {
		leased[k] = true
	}
	err = e.cfg.Batches.EachBatchResult(ctx, ec.MessageBatchID, func(r llm.BatchResult) error {
		in, ok := intents[r.CustomID]
		if !ok || !leased[r.CustomID] {
			return nil
		}
		delete(leased, r.CustomID)
		if err := e.charge(ctx, batchID, r); err != nil {
			return err
		}
		filled, why, err := e.store(ctx, owner, r, in)
		if err != nil {
			return err
		}
		if filled {
			ec.Filled++
			return nil
		}
		ec.Released++
		log.WarnContext(ctx, "economy: no template from the message batch; its devices take the normal path",
			"intent_key", r.CustomID, "reason", why)
		return store.ReleaseTemplateLease(context.WithoutCancel(ctx), c, r.CustomID, owner)
	})
	if err != nil {
		return 0, fmt.Errorf("message batch %s results: %w", ec.MessageBatchID, err)
	}
	for k := range leased {
		ec.Released++
		log.WarnContext(ctx, "economy: intent missing from the message batch's results; its devices take the normal path", "intent_key", k)
		if err := store.ReleaseTemplateLease(context.WithoutCancel(ctx), c, k, owner); err != nil {
			return 0, err
		}
	}
	log.InfoContext(ctx, "economy: message batch done", "message_batch_id", ec.MessageBatchID,
		"filled", ec.Filled, "released", ec.Released)
	return 0, e.finish(ctx, ec)
}

// store proves one result's template as fillTemplate does and stores it
// under the economy lease. It reports false, with why, when the result gave
// no usable template.
func (e *EconomyRunner) store(ctx context.Context, owner string, r llm.BatchResult, in economyIntent) (bool, string, error) {
	s := e.svc
	if r.Response == nil {
		why := "batch request " + r.Type
		if r.Err != nil {
			why = r.Err.Error()
		}
		s.observe(s.cfg.Model, nil, cmpErr(r.Err))
		return false, why, nil
	}
	resp := r.Response
	s.observe(s.cfg.Model, resp, nil)
	body := prompt.ExtractBlock(resp.Text)
	if _, problems, _ := s.checkTemplate(ctx, body, in.example, in.req); len(problems) > 0 &&
		!only(problems, coverageProblem) {
		// The normal path asks again, with these problems. Unused
		// variables alone do not make it: asking again at full price
		// for them would undo what the Message Batch saved, and every
		// config from the template lists them (Result.UnusedVars).
		return false, fmt.Sprintf("%d problem(s): %s", len(problems), problems[0]), nil
	}
	ttl := e.cfg.TTL
	if in.req.CacheTTL > 0 { // a fleet gives every device of an intent the same
		ttl = time.Duration(in.req.CacheTTL)
	}
	ok, err := store.FillTemplate(context.WithoutCancel(ctx), e.cfg.Conn, &netcfg.Template{Key: r.CustomID,
		State: netcfg.TemplateReady, Body: body, Provider: resp.Provider, Model: resp.Model,
		InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens,
		ExpiresAt: e.cfg.Clock().Add(ttl)}, owner)
	if err != nil {
		return false, "", err
	}
	if !ok {
		return false, "the lease ran out before the message batch ended", nil
	}
	return true, "", nil
}

// charge writes a Message Batch request that succeeded to the ledger, for
// the fleet batch's department, once (its id is the batch and custom_id).
// A request that succeeded is paid for even if its template is refused.
func (e *EconomyRunner) charge(ctx context.Context, batchID string, r llm.BatchResult) error {
	if r.Response == nil {
		return nil
	}
	c := context.WithoutCancel(ctx)
	dept, err := store.BatchDepartment(c, e.cfg.ReadConn, batchID)
	if err != nil {
		return err
	}
	resp := r.Response
	ch := netcfg.Charge{Kind: netcfg.ChargeBatchCall, Provider: resp.Provider, Model: resp.Model,
		InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens,
		CacheWriteTokens: resp.Usage.CacheWriteTokens, CacheReadTokens: resp.Usage.CacheReadTokens}
	if e.cfg.Price != nil {
		ch.CostNUSD = e.cfg.Price(resp.Model, resp.Usage)
	}
	return store.InsertLedger(c, e.cfg.Conn, "economy:"+batchID+":"+r.CustomID, batchID, dept,
		[]netcfg.Charge{ch}, e.cfg.Clock())
}

func cmpErr(err *llm.Error) error {
	if err == nil {
		return errors.New("batch request not succeeded")
	}
	return err
}

// intents finds, for each leased key, the batch's first device with that
// intent and its example values.
func (e *EconomyRunner) intents(ctx context.Context, batchID string, keys []string) (map[string]economyIntent, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	out := make(map[string]economyIntent, len(keys))
	after := ""
	for len(out) < len(want) {
		jobs, err := store.ListBatchJobs(ctx, e.cfg.ReadConn, batchID, after, 500)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			var req netcfg.JobRequest
			if json.Unmarshal(j.Request, &req) != nil || req.Kind != netcfg.KindGenerate || req.Device == nil {
				continue
			}
			k, _ := e.svc.IntentKey(&req)
			if _, seen := out[k]; seen || !want[k] {
				continue
			}
			out[k] = economyIntent{req: &req, example: exampleOf(netcfg.SecretPlaceholders(deviceVars(req.Device)))}
		}
		if len(jobs) < 500 {
			break
		}
		after = jobs[len(jobs)-1].ID
	}
	return out, nil
}

// releaseAll gives every lease back and ends the job.
func (e *EconomyRunner) releaseAll(ctx context.Context, ec *netcfg.BatchEconomy, keys []string, why string) error {
	owner := store.EconomyOwner(ec.BatchID)
	for _, k := range keys {
		if err := store.ReleaseTemplateLease(context.WithoutCancel(ctx), e.cfg.Conn, k, owner); err != nil {
			return err
		}
		ec.Released++
	}
	e.cfg.Logger.WarnContext(ctx, "economy: leases released", "batch_id", ec.BatchID, "count", len(keys), "reason", why)
	return e.finish(ctx, ec)
}

func (e *EconomyRunner) finish(ctx context.Context, ec *netcfg.BatchEconomy) error {
	ec.State = netcfg.EconomyDone
	return store.UpdateEconomy(context.WithoutCancel(ctx), e.cfg.Conn, ec, e.cfg.Clock())
}
