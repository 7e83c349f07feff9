package generate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/intentkey"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
	"netsmith/internal/render"
)

// templateTries is how many times the model is asked for a template of one
// intent (the second time with the first answer's problems) before its
// devices fall back to per-device calls.
const templateTries = 2

// IntentKey returns the template-cache key of req's intent and the variable
// names its template is written over. Per-device values never enter it.
func (s *Service) IntentKey(req *netcfg.JobRequest) (key string, varNames []string) {
	d := req.Device
	varNames = VarNames(d)
	key = intentkey.Key(intentkey.KeyInput{
		Kind: string(netcfg.KindGenerate), Role: d.Role, Platform: string(d.Platform), OSVersion: d.OSVersion,
		Requirements: req.Requirements, Constants: req.Constants, VarNames: varNames,
		Model: s.cfg.Model, PromptVersion: prompt.Version,
	})
	return key, varNames
}

// VarNames returns the sorted names of the variables d's template is
// written over: with the rest of the intent, they are all of d that enters
// its intent key.
func VarNames(d *netcfg.Device) []string { return slices.Sorted(maps.Keys(deviceVars(d))) }

// deviceVars is what a template sees of a device, before DeriveVars: its
// vars plus hostname (and site, when set).
func deviceVars(d *netcfg.Device) map[string]any {
	out := make(map[string]any, len(d.Vars)+2)
	maps.Copy(out, d.Vars)
	out["hostname"] = d.Hostname
	if d.Site != "" {
		out["site"] = d.Site
	}
	return out
}

// exampleItems is how many items of each list the model is shown.
const exampleItems = 2

// exampleOf returns the values a template is asked for and proved with: the
// device's own, with every list cut to exampleItems items. The shape is what
// a template needs; and the fewer example values, the fewer coincidences
// between them and the template's constants (a distribution switch's 20th
// port-channel, 120, met "login block-for 120"), which the proof would take
// for hard-coded device values.
func exampleOf(v map[string]any) map[string]any {
	out, _ := trimLists(v).(map[string]any)
	return out
}

func trimLists(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = trimLists(e)
		}
		return out
	case []any:
		out := make([]any, 0, min(len(x), exampleItems))
		for _, e := range x[:min(len(x), exampleItems)] {
			out = append(out, trimLists(e))
		}
		return out
	}
	return v
}

// renderData is the data a device's template is rendered with.
func renderData(vars map[string]any) map[string]any { return netcfg.DeriveVars(vars) }

// TemplateMeta describes the template-cache entry of req's intent: its key,
// what invalidation selects it by, and its lifetime (req.CacheTTL, which is
// not part of the key).
func (s *Service) TemplateMeta(req *netcfg.JobRequest) cache.Meta {
	d := req.Device
	key, _ := s.IntentKey(req)
	intentJSON, _ := json.Marshal(netcfg.Intent{Role: d.Role, Platform: d.Platform, OSVersion: d.OSVersion,
		Requirements: req.Requirements, Constants: netcfg.RedactSecrets(req.Constants)})
	return cache.Meta{Key: key, Kind: cache.KindTemplate, Role: d.Role, Platform: string(d.Platform), Intent: string(intentJSON),
		TTL: time.Duration(req.CacheTTL)}
}

// renderTries is how many times a device's render that ran out of time
// is tried in the job before the job fails for a retry: renders cost no
// call, and the job that filled the template would otherwise end failed
// with its call paid.
const renderTries = 3

// maxBusyWait caps how long a device job snoozes on another filler's lease:
// an economy job leases its templates for a day, and its devices must look
// again soon after the Message Batch ends, not hours later.
const maxBusyWait = 30 * time.Second

func (s *Service) generateCached(ctx context.Context, r *run, req *netcfg.JobRequest) (*Result, error) {
	d := req.Device
	meta := s.TemplateMeta(req)
	key := meta.Key
	// Templates see secrets as placeholders, the same for every device;
	// Run puts each device's own in.
	vars := netcfg.SecretPlaceholders(deviceVars(d))
	if r.cacheOnly {
		return s.renderCached(ctx, r, d, key, vars)
	}
	e, outcome, err := s.resolve(ctx, r, meta, func(ctx context.Context) (*cache.Entry, error) {
		return s.fillTemplate(ctx, r, req, exampleOf(vars))
	})
	if errors.Is(err, cache.ErrInvalid) {
		return s.fallback(ctx, r, req, key, err)
	}
	var busy *cache.BusyError
	if errors.As(err, &busy) && busy.Wait > maxBusyWait {
		busy.Wait = maxBusyWait
	}
	if err != nil {
		return nil, err
	}
	config, err := s.render(ctx, r, e.Template, vars)
	for try := 1; try < renderTries && errors.Is(err, render.ErrTimeLimit) && ctx.Err() == nil; try++ {
		config, err = s.render(ctx, r, e.Template, vars)
	}
	if errors.Is(err, render.ErrTimeLimit) {
		// Out of time is no misfit: a starved CPU (or the job's own
		// deadline) stops a render whose template fits. A per-device
		// call would be paid, and cached under the hostname for good;
		// the job's retry renders again for nothing, and its attempts
		// bound how often.
		return nil, fmt.Errorf("render %s from template %.12s: %w", d.Hostname, key, err)
	}
	if err != nil {
		// This device's vars do not fit its intent's template (a list
		// shaped differently, say): it gets a call of its own.
		return s.fallback(ctx, r, req, key, err)
	}
	return s.cachedResult(d, config, e, outcome), nil
}

// resolve is Cache.Resolve, its time counted as PhaseTemplate but for
// what its fill, if this job made it, spent in the other phases.
func (s *Service) resolve(ctx context.Context, r *run, meta cache.Meta, fill cache.FillFunc) (*cache.Entry, cache.Outcome, error) {
	start, before := time.Now(), r.phaseSum(PhaseWait, PhaseCall, PhaseCheck)
	e, outcome, err := s.cfg.Cache.Resolve(ctx, meta, fill)
	r.timePhase(PhaseTemplate, start.Add(r.phaseSum(PhaseWait, PhaseCall, PhaseCheck)-before))
	return e, outcome, err
}

// render renders t for a device's vars, timed as PhaseRender.
func (s *Service) render(ctx context.Context, r *run, t *render.Template, vars map[string]any) (string, error) {
	defer r.timePhase(PhaseRender, time.Now())
	return t.Render(ctx, renderData(vars))
}

// renderCached is RunCached's generateCached: the device's config from a
// ready entry, or ErrNeedsCall.
func (s *Service) renderCached(ctx context.Context, r *run, d *netcfg.Device, key string, vars map[string]any) (*Result, error) {
	looked := time.Now()
	e, err := s.cfg.Cache.Lookup(ctx, key)
	r.timePhase(PhaseTemplate, looked)
	if err != nil {
		return nil, err
	}
	if e == nil || e.Template == nil {
		return nil, ErrNeedsCall
	}
	config, err := s.render(ctx, r, e.Template, vars)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNeedsCall, err)
	}
	return s.cachedResult(d, config, e, cache.Hit), nil
}

// cachedResult accounts a result served through the cache: the caller that
// filled the entry paid for it, everyone else saved that much.
func (s *Service) cachedResult(d *netcfg.Device, config string, e *cache.Entry, outcome cache.Outcome) *Result {
	t := Tokens{Input: e.InputTokens, Output: e.OutputTokens, Total: e.InputTokens + e.OutputTokens}
	res := &Result{
		Hostname: d.Hostname, Platform: string(d.Platform), Config: config,
		Provider: e.Provider, Model: e.Model, Cache: outcome, CacheKey: e.Key,
	}
	if e.Template != nil {
		res.templateVars = e.Template.Vars()
	}
	if outcome == cache.Miss {
		res.Tokens = t
	} else {
		res.Cached, res.SavedTokens = true, &t
	}
	return res
}

// fillTemplate asks the model for the intent's template, parses it and
// proves with two synthetic variable sets that only variable lines change.
// A second try carries the first answer's problems; after that the intent
// is stored invalid.
func (s *Service) fillTemplate(ctx context.Context, r *run, req *netcfg.JobRequest, example map[string]any) (*cache.Entry, error) {
	spec := templateSpec(req, example)
	var (
		usage    llm.Usage
		problems []string
		reason   string
	)
	for try := range templateTries {
		resp, err := s.call(ctx, r, spec, s.cfg.Model)
		if err != nil {
			return nil, err
		}
		usage = usage.Add(resp.Usage)
		body := prompt.ExtractBlock(resp.Text)
		var t *render.Template
		checked := time.Now()
		t, problems, reason = s.checkTemplate(ctx, body, example, req)
		r.timePhase(PhaseCheck, checked)
		if len(problems) > 0 && try == templateTries-1 && advisory(problems) {
			// The model kept the risky lines, or still leaves variables
			// out, after being told: use the template, and every config
			// from it carries its findings and unused variables.
			problems = nil
		}
		if len(problems) == 0 {
			return &cache.Entry{Body: body, Template: t, Provider: resp.Provider, Model: resp.Model,
				InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens}, nil
		}
		spec.Feedback = problems
	}
	return nil, &cache.InvalidError{Reason: reason}
}

// templateSpec is the prompt asking for the template of req's intent.
func templateSpec(req *netcfg.JobRequest, example map[string]any) prompt.Spec {
	d := req.Device
	return prompt.Spec{
		Task: prompt.TaskTemplate, Platform: string(d.Platform), Role: d.Role, OSVersion: d.OSVersion,
		Requirements: req.Requirements, Constants: netcfg.SecretPlaceholders(req.Constants), Vars: example,
	}
}

// lintProblem prefixes feedback about lint findings in a template's render.
const lintProblem = "lint: "

// checkTemplate returns the parsed template and what is wrong with it, or
// nothing: it must parse, only variable lines may change between two
// synthetic variable sets, it must render with the example values, and
// that render must use every example value (package coverage) and have no
// lint finding at high or above (linted with the example vars and the
// requirements, so "tacacs_servers is set but the config has no TACACS+
// server" goes back to the model). The problems are feedback for the
// model; reason says in a few words why the template is refused, for the
// results of the devices that fall back. The template is nil when the
// body does not parse.
func (s *Service) checkTemplate(ctx context.Context, body string, example map[string]any, req *netcfg.JobRequest) (t *render.Template, problems []string, reason string) {
	t, err := render.Parse("intent", body)
	if err != nil {
		return nil, []string{err.Error()}, err.Error()
	}
	// The example values are what a model would copy into a template by
	// mistake, so one of the two sets is the example itself. What the
	// intent itself says is no per-device value, even when a device's
	// value equals it.
	a := renderData(example)
	b := renderData(render.Synthesize(example, 1))
	proof := render.VerifyConfig{Known: []string{req.Requirements}, KnownValues: netcfg.SecretPlaceholders(req.Constants)}
	rep, err := proof.Verify(ctx, t, a, b)
	if err != nil || len(rep.Errors()) > 0 {
		fb := rep.Feedback(8)
		if len(fb) == 0 && err != nil {
			fb = []string{err.Error()}
		}
		return t, fb, cmp.Or(rep.Reason(), fb[0])
	}
	// Set a is the example values.
	out := rep.RenderA
	if err := checkNoActions(out, req); err != nil {
		// A render that prints template text would hand it out as
		// every device's config.
		return t, []string{"the render prints template text, which no device accepts: " + err.Error()}, "renders template text"
	}
	p := req.Device.Platform
	// Coverage is judged on the asking device's whole vars: the example
	// cuts lists short, and a value that only a later list item carries
	// (VLAN 99 as the third of the vlans, and as mgmt_vlan) would look
	// unused in the example's render.
	covVars, covText := example, out
	full := netcfg.SecretPlaceholders(deviceVars(req.Device))
	if text, err := t.Render(ctx, renderData(full)); err == nil {
		covVars, covText = full, text
	}
	problems = coverageProblems(p, covVars, covText, t.Vars())
	if s.cfg.Linter == nil {
		return t, problems, problemsReason(problems)
	}
	for _, f := range s.lintMemo(p, out, lint.Context{Vars: example, Requirements: req.Requirements}) {
		if f.AtLeast(lint.SeverityHigh) {
			problems = append(problems, fmt.Sprintf("%sline %d: %s (%s, %s)", lintProblem, f.Line, f.Message, f.Rule, f.Severity))
		}
	}
	return t, problems, problemsReason(problems)
}

// problemsReason is the short reason a template with these advisory
// problems (unused variables, lint findings) is refused.
func problemsReason(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	if len(problems) == 1 {
		return problems[0]
	}
	return fmt.Sprintf("%s (and %d more problem(s))", problems[0], len(problems)-1)
}

// RejectedPrefix starts the FallbackReason of a device whose intent's
// template was refused by the proof; the rest is the proof's reason.
const RejectedPrefix = "template rejected: "

// fallback makes one per-device call for a device whose intent has no
// usable template, cached under a key that includes the hostname so that a
// rerun does not pay again.
func (s *Service) fallback(ctx context.Context, r *run, req *netcfg.JobRequest, intentKey string, why error) (*Result, error) {
	d := req.Device
	s.cfg.Cache.CountFallback()
	meta := cache.Meta{Key: intentKey + ":" + d.Hostname, Kind: cache.KindConfig, Role: d.Role,
		Platform: string(d.Platform), Hostname: d.Hostname, TTL: time.Duration(req.CacheTTL)}
	e, outcome, err := s.resolve(ctx, r, meta, func(ctx context.Context) (*cache.Entry, error) {
		res, err := s.generate(ctx, r, req)
		if err != nil {
			return nil, err
		}
		return &cache.Entry{Body: res.Config, Provider: res.Provider, Model: res.Model,
			InputTokens: res.Tokens.Input, OutputTokens: res.Tokens.Output}, nil
	})
	if err != nil {
		return nil, err
	}
	res := s.cachedResult(d, e.Body, e, outcome)
	res.FallbackReason = why.Error()
	var inv *cache.InvalidError
	if errors.As(why, &inv) {
		res.FallbackReason = RejectedPrefix + inv.Reason
	}
	if outcome == cache.Miss {
		res.Cache = cache.Fallback
	}
	return res, nil
}
