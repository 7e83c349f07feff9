// Package generate is netsmith's main use case: a job request in, a prompt
// to the model, the model's answer checked and turned into a result. It
// knows nothing of queues or HTTP; package worker runs it for the queue.
package generate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/coverage"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

// Config configures a Service.
type Config struct {
	// LLM is the model provider, with whatever keeps its calls inside the
	// upstream's limits already wrapped around it (package limiter).
	LLM      llm.Client
	Provider string // provider name for results and metrics
	Model    string // model for generate jobs
	// AnalyzeModel is the cheaper model asked for a second opinion on
	// analyze jobs; Model when empty.
	AnalyzeModel string
	MaxTokens    int
	// CallTimeout bounds one model call; the job's own deadline still applies.
	CallTimeout time.Duration
	Metrics     *metrics.Metrics
	// Cache, when set, makes generate jobs share one template per intent;
	// without it every device costs one model call.
	Cache *cache.Cache
	// Linter checks every config handed out (and analyze jobs' input).
	Linter *lint.Linter
	// MaxCalls bounds the model calls this Service has in flight at once
	// (0: no bound). A process may run more jobs than that: the database
	// work before and after a job's call then happens while other jobs'
	// calls use every slot, instead of holding a slot the upstream could
	// use (see serve's jobSlots).
	MaxCalls int
	// MaxInputTokens bounds one call's prompt (DefaultMaxInputTokens when
	// 0): a request over it is refused at submit (Estimate), a call over it
	// is never made.
	MaxInputTokens int64
}

// Service runs jobs.
type Service struct {
	cfg   Config
	calls chan struct{} // a token per call in flight, when MaxCalls > 0

	// memo keeps the findings of the last configs linted: a template's
	// proof lints its render with the example values, which for the device
	// that asked is most often its own config, linted again at once.
	memoMu sync.Mutex
	memo   map[memoKey][]lint.Finding
}

type memoKey struct {
	platform netcfg.Platform
	sum      [sha256.Size]byte
	context  string // the linter's ContextKey: the vars and requirements its rules look at
}

// memoSize bounds the lint memo; it is cleared when full.
const memoSize = 1024

func (s *Service) lintMemo(p netcfg.Platform, text string, c lint.Context) []lint.Finding {
	k := memoKey{p, sha256.Sum256([]byte(text)), s.cfg.Linter.ContextKey(c)}
	s.memoMu.Lock()
	fs, ok := s.memo[k]
	s.memoMu.Unlock()
	if ok {
		return fs
	}
	fs = s.cfg.Linter.LintContext(p, text, c)
	s.memoMu.Lock()
	if s.memo == nil || len(s.memo) >= memoSize {
		s.memo = make(map[memoKey][]lint.Finding, memoSize)
	}
	s.memo[k] = fs
	s.memoMu.Unlock()
	return fs
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 8192
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 2 * time.Minute
	}
	if cfg.AnalyzeModel == "" {
		cfg.AnalyzeModel = cfg.Model
	}
	s := &Service{cfg: cfg}
	if cfg.MaxCalls > 0 {
		s.calls = make(chan struct{}, cfg.MaxCalls)
	}
	return s
}

// Tokens counts a result's tokens the way the legacy API reports them.
type Tokens struct {
	Input  int64 `json:"input"`
	Output int64 `json:"output"`
	Total  int64 `json:"total"`
	// CacheRead and CacheWrite are the provider's prompt-cache tokens.
	CacheRead  int64 `json:"cache_read,omitempty"`
	CacheWrite int64 `json:"cache_write,omitempty"`
}

// Result is what a job produced; it is stored as the job's result document.
type Result struct {
	Kind          netcfg.JobKind `json:"kind"`
	Hostname      string         `json:"hostname,omitempty"`
	Platform      string         `json:"platform,omitempty"`
	Config        string         `json:"config,omitempty"`
	SecondOpinion string         `json:"second_opinion,omitempty"`
	Provider      string         `json:"provider"`
	Model         string         `json:"model"`
	Tokens        Tokens         `json:"tokens"`
	Cached        bool           `json:"cached"`
	// Cache is how the template cache served the job (hit, miss,
	// coalesced, fallback); CacheKey names the entry.
	Cache       cache.Outcome `json:"cache,omitempty"`
	CacheKey    string        `json:"cache_key,omitempty"`
	SavedTokens *Tokens       `json:"saved_tokens,omitempty"`
	// Lint holds the static findings on Config (generate) or on the
	// analyzed config (analyze).
	Lint []lint.Finding `json:"lint"`
	// FallbackReason says why the device got a model call of its own.
	FallbackReason  string  `json:"fallback_reason,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Calls are the model calls this job made and paid for, for the
	// ledger; a cache hit or a coalesced wait has none.
	Calls []Call `json:"-"`
	// Phases is where the job's time went, for the phases it went through.
	Phases map[Phase]time.Duration `json:"-"`
	// UnusedVars are the device's variables whose values Config does not
	// contain (package coverage), after the template was told of them;
	// VarCoverage counts the values looked for and found.
	UnusedVars  []coverage.Missing `json:"unused_vars,omitempty"`
	VarCoverage *VarCoverage       `json:"var_coverage,omitempty"`
	// templateVars are the names the template that rendered Config
	// references, for coverage's "did you mean".
	templateVars []string
}

// Call is one model call a job paid for. Model is what the provider says
// answered (often a dated snapshot name); Requested is what was asked for.
type Call struct {
	Provider, Model, Requested string
	Usage                      llm.Usage
}

// Phase names a part of a job's work, as netsmith_job_phase_seconds
// labels it.
type Phase string

// The phases of Run; Result.Phases has those a job went through.
const (
	// PhaseTemplate is the template cache's own time: its lookup, lease
	// and fill writes, and waiting on another job's fill of the same
	// intent.
	PhaseTemplate Phase = "template"
	PhaseWait     Phase = "wait" // for a call slot and the upstream limiter
	PhaseCall     Phase = "call" // model calls
	PhaseCheck    Phase = "check"
	PhaseRender   Phase = "render"
	PhaseLint     Phase = "lint"
)

// Options are what the runner of a job tells Run about it.
type Options struct {
	// Budget, when set, is asked to cover each model call before it is
	// made (see CallBudget).
	Budget CallBudget
	// Yield, when set, is called as the job starts waiting on the
	// upstream (a call slot, the upstream limiter, the model's answer),
	// and the function it returns once the job is back: the runner's
	// admission gate lets another job work meanwhile (adapt.Admission).
	Yield func(ctx context.Context) (resume func())
}

// run is one Run: its options, and what it records (the model calls it
// made and where its time went), a template fill made on its behalf
// included.
type run struct {
	Options
	cacheOnly bool // RunCached: serve from a ready template or not at all

	mu     sync.Mutex
	calls  []Call
	phases map[Phase]time.Duration
}

func newRun(opts Options) *run { return &run{Options: opts, phases: map[Phase]time.Duration{}} }

func (r *run) recordCall(requested string, resp *llm.Response) {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Provider: resp.Provider, Model: resp.Model, Requested: requested, Usage: resp.Usage})
	r.mu.Unlock()
}

// paid is the calls made so far.
func (r *run) paid() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// timePhase adds the time since start to phase p.
func (r *run) timePhase(p Phase, start time.Time) { r.addPhase(p, time.Since(start)) }

// addPhase adds d to phase p.
func (r *run) addPhase(p Phase, d time.Duration) {
	r.mu.Lock()
	r.phases[p] += d
	r.mu.Unlock()
}

// phaseSum is the time spent so far in the phases ps.
func (r *run) phaseSum(ps ...Phase) time.Duration {
	var d time.Duration
	r.mu.Lock()
	for _, p := range ps {
		d += r.phases[p]
	}
	r.mu.Unlock()
	return d
}

// reserveCall asks the run's CallBudget, if any, to cover one call.
func (r *run) reserveCall(ctx context.Context, model string, inputTokens, maxOutputTokens int64) error {
	if r.Budget == nil {
		return nil
	}
	return r.Budget.ReserveCall(ctx, model, inputTokens, maxOutputTokens)
}

// yield is Options.Yield, or nothing to resume.
func (r *run) yield(ctx context.Context) (resume func()) {
	if r.Yield == nil {
		return func() {}
	}
	return r.Yield(ctx)
}

// ErrNeedsCall is RunCached's answer for a request it cannot serve without
// a model call.
var ErrNeedsCall = errors.New("not servable from the template cache without a model call")

// RunCached does the work of a generate request only from a template that
// is already cached and renders for its device, without filling, waiting
// on another filler or calling the model; otherwise it returns
// ErrNeedsCall and the request takes the normal path (Run).
func (s *Service) RunCached(ctx context.Context, req *netcfg.JobRequest) (*Result, error) {
	if req.Kind != netcfg.KindGenerate || s.cfg.Cache == nil {
		return nil, ErrNeedsCall
	}
	r := newRun(Options{})
	r.cacheOnly = true
	return s.run(ctx, r, req)
}

// Run does the work of req.
func (s *Service) Run(ctx context.Context, req *netcfg.JobRequest, opts Options) (*Result, error) {
	return s.run(ctx, newRun(opts), req)
}

func (s *Service) run(ctx context.Context, r *run, req *netcfg.JobRequest) (*Result, error) {
	started := time.Now()
	var (
		res *Result
		err error
	)
	switch req.Kind {
	case netcfg.KindGenerate:
		if s.cfg.Cache != nil {
			res, err = s.generateCached(ctx, r, req)
		} else {
			res, err = s.generate(ctx, r, req)
		}
	case netcfg.KindAnalyze:
		res, err = s.analyze(ctx, r, req)
	default:
		return nil, fmt.Errorf("unknown kind %q", req.Kind)
	}
	if err != nil {
		if calls := r.paid(); len(calls) > 0 {
			return nil, &PaidError{Calls: calls, Err: err}
		}
		return nil, err
	}
	res.Kind = req.Kind
	if req.Kind == netcfg.KindGenerate {
		// The paths above check what they make; this is the last look,
		// for whatever a cache held from before those checks.
		if err := checkNoActions(res.Config, req); err != nil {
			return nil, fmt.Errorf("%s: %w", req.Device.Hostname, err)
		}
		// Every path wrote the secrets' placeholders (what the model and
		// the template saw); the device's own go in here, after the
		// caches, which never hold them.
		res.Config = netcfg.FillSecrets(res.Config, req.Device.Vars, req.Constants)
	}
	linted := time.Now()
	switch req.Kind {
	case netcfg.KindGenerate:
		res.Lint = s.lint(req.Device.Platform, res.Config, lint.Context{Vars: req.Device.Vars, Requirements: req.Requirements})
		cover(res, req.Device)
	case netcfg.KindAnalyze:
		res.Lint = s.lint(req.Platform, req.Config, lint.Context{Requirements: req.Requirements})
	}
	r.timePhase(PhaseLint, linted)
	res.DurationSeconds = time.Since(started).Seconds()
	r.mu.Lock()
	res.Calls, res.Phases = r.calls, r.phases
	r.mu.Unlock()
	return res, nil
}

// lint runs the static checks, with what the request says about the
// device (c), and counts their findings.
func (s *Service) lint(p netcfg.Platform, text string, c lint.Context) []lint.Finding {
	if s.cfg.Linter == nil {
		return nil
	}
	fs := s.lintMemo(p, text, c)
	if m := s.cfg.Metrics; m != nil {
		for _, f := range fs {
			m.LintFindings.WithLabelValues(f.Rule, f.Severity).Inc()
		}
	}
	if fs == nil {
		fs = []lint.Finding{}
	}
	return fs
}

func (s *Service) generate(ctx context.Context, r *run, req *netcfg.JobRequest) (*Result, error) {
	d := req.Device
	spec := prompt.Spec{
		Task:         prompt.TaskConfig,
		Platform:     string(d.Platform),
		Role:         d.Role,
		OSVersion:    d.OSVersion,
		Requirements: req.Requirements,
		Constants:    netcfg.SecretPlaceholders(req.Constants),
		Hostname:     d.Hostname,
		Vars:         netcfg.SecretPlaceholders(d.Vars),
	}
	resp, err := s.call(ctx, r, spec, s.cfg.Model)
	if err != nil {
		return nil, err
	}
	config := prompt.ExtractBlock(resp.Text)
	if strings.TrimSpace(config) == "" {
		return nil, fmt.Errorf("model %s returned an empty config", resp.Model)
	}
	if err := checkNoActions(config, req); err != nil {
		return nil, fmt.Errorf("model %s answered a template where %s's config was asked: %w", resp.Model, d.Hostname, err)
	}
	return &Result{
		Hostname: d.Hostname,
		Platform: string(d.Platform),
		Config:   config,
		Provider: resp.Provider,
		Model:    resp.Model,
		Tokens:   tokens(resp.Usage),
	}, nil
}

func (s *Service) analyze(ctx context.Context, r *run, req *netcfg.JobRequest) (*Result, error) {
	spec := prompt.Spec{Task: prompt.TaskAnalyze, Platform: string(req.Platform), Config: req.Config}
	resp, err := s.call(ctx, r, spec, s.cfg.AnalyzeModel)
	if err != nil {
		return nil, err
	}
	return &Result{
		Platform:      string(req.Platform),
		SecondOpinion: prompt.ExtractBlock(resp.Text),
		Provider:      resp.Provider,
		Model:         resp.Model,
		Tokens:        tokens(resp.Usage),
	}, nil
}

func (s *Service) call(ctx context.Context, r *run, spec prompt.Spec, model string) (*llm.Response, error) {
	req, err := prompt.Build(spec, model, s.cfg.MaxTokens)
	if err != nil {
		return nil, err
	}
	// A prompt over the limit is never sent (a fallback's device vars are
	// not estimated at submit).
	in := req.EstimateInputTokens()
	if in > s.maxInput() {
		return nil, fmt.Errorf("%w: about %d input tokens, over the limit of %d", ErrPromptTooLarge, in, s.maxInput())
	}
	// Reserved before waiting for a slot, so that a job over its budget
	// gives up without holding one.
	if err := r.reserveCall(ctx, model, in, int64(req.MaxTokens)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	// Waiting on the upstream is not this process's work: another job
	// may have the job's admission meanwhile (Options.Yield).
	defer r.yield(ctx)()
	waited := time.Now()
	release, err := s.callSlot(ctx)
	if err != nil {
		return nil, err
	}
	slotWait := time.Since(waited)
	called := time.Now()
	resp, err := func() (*llm.Response, error) {
		defer release()
		return s.cfg.LLM.Generate(ctx, req)
	}()
	took := time.Since(called)
	var held time.Duration // by the upstream limiter, before the call was sent
	if resp != nil {
		held = resp.Waited
	}
	r.addPhase(PhaseWait, slotWait+held)
	r.addPhase(PhaseCall, took-held)
	if !errors.Is(err, llm.ErrHeldBack) {
		s.observe(model, resp, err)
	}
	if err == nil && resp != nil {
		r.recordCall(model, resp)
	}
	return resp, err
}

// callSlot waits for one of MaxCalls call slots; release gives it back.
func (s *Service) callSlot(ctx context.Context) (release func(), err error) {
	if s.calls == nil {
		return func() {}, nil
	}
	select {
	case s.calls <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return func() { <-s.calls }, nil
}

func (s *Service) observe(model string, resp *llm.Response, err error) {
	m := s.cfg.Metrics
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = llm.ClassOf(err).String()
	}
	m.LLMRequests.WithLabelValues(s.cfg.Provider, model, outcome).Inc()
	if resp != nil {
		u := resp.Usage
		m.LLMTokens.WithLabelValues(s.cfg.Provider, model, "input").Add(float64(u.InputTokens))
		m.LLMTokens.WithLabelValues(s.cfg.Provider, model, "output").Add(float64(u.OutputTokens))
		if u.CacheReadTokens > 0 || u.CacheWriteTokens > 0 {
			m.LLMTokens.WithLabelValues(s.cfg.Provider, model, "cache_read").Add(float64(u.CacheReadTokens))
			m.LLMTokens.WithLabelValues(s.cfg.Provider, model, "cache_write").Add(float64(u.CacheWriteTokens))
		}
	}
}

func tokens(u llm.Usage) Tokens {
	return Tokens{Input: u.InputTokens, Output: u.OutputTokens, Total: u.InputTokens + u.OutputTokens,
		CacheRead: u.CacheReadTokens, CacheWrite: u.CacheWriteTokens}
}
