package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"netsmith/internal/fleet"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// Summary is DIR/summary.json, written at the end of a batch.
type Summary struct {
	Batch       string         `json:"batch"`
	Fleet       string         `json:"fleet"`
	Provider    string         `json:"provider,omitempty"`
	Model       string         `json:"model,omitempty"` // the models that wrote the configs, comma-separated
	Devices     int            `json:"devices"`
	Intents     int            `json:"intents"`
	Succeeded   int            `json:"succeeded"`
	LLMCalls    int64          `json:"llm_calls"`
	CacheHits   int64          `json:"cache_hits"`
	Coalesced   int64          `json:"coalesced"`
	Fallbacks   int64          `json:"fallbacks"`
	Tokens      summaryTokens  `json:"tokens"`
	SavedTokens summaryTokens  `json:"saved_tokens"`
	CostUSD     float64        `json:"cost_usd"`
	SavedUSD    float64        `json:"saved_usd"`
	Failed      []failedDevice `json:"failed"`
	Lint        map[string]int `json:"lint"`
	LintRules   []lintRule     `json:"lint_rules"` // by rule, with the devices
	Coverage    batchCoverage  `json:"coverage"`
	Pruned      []string       `json:"pruned,omitempty"`
	WallSeconds float64        `json:"wall_seconds"`
	Warnings    []string       `json:"warnings,omitempty"`
	Files       int            `json:"files"`
	Out         string         `json:"out"`
	Verify      *VerifySummary `json:"verify,omitempty"` // the checks of netsmith verify over the configs written
	// VerifySeconds is the part of WallSeconds the checks took.
	VerifySeconds float64 `json:"verify_seconds,omitempty"`

	// TemplatesRejected is, by intent, why its template was refused.
	TemplatesRejected map[string]string `json:"templates_rejected,omitempty"`

	// Drift holds the configs against the running configs of --running:
	// devices in sync, drifted (HOSTNAME.diff written beside HOSTNAME.cfg)
	// and missing (no running config in the folder).
	Drift *DriftSummary `json:"drift,omitempty"`
}

type summaryTokens struct {
	Input  int64 `json:"input"`
	Output int64 `json:"output"`
}

type failedDevice struct {
	Hostname string `json:"hostname"`
	Reason   string `json:"reason"`
}

func runBatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg            Config
		out, srvURL    string
		apiKey, format string
		department     string
		progressEvery  time.Duration
		economy        bool
		resolveSecrets bool
		resume, prune  bool
		verifyOn       bool
		emulateAfter   bool
		failOnFlag     string
		runningDir     string
	)
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.engineFlags(fs)
	fs.StringVar(&out, "out", "", "directory for HOSTNAME.cfg files and summary.json (required)")
	fs.StringVar(&srvURL, "server", "", "run on this netsmith server `URL` instead of embedded")
	fs.StringVar(&apiKey, "api-key", "", "API key for --server (or NETSMITH_API_KEY)")
	fs.StringVar(&department, "department", "", "department that pays for the batch (embedded default \""+defaultDepartment+"\"; with --server, the key's own)")
	fs.StringVar(&format, "format", "", "fleet format: yaml, csv or json (default: from the file name)")
	fs.BoolVar(&economy, "economy", false, "make the intents' templates through the Message Batches API: half price, slower (anthropic provider)")
	fs.BoolVar(&resolveSecrets, "resolve-secrets", false, "write env: and file: secret references as the secret, read on this machine as each config is written (vault: references stay placeholders)")
	fs.BoolVar(&resume, "resume", false, "continue the interrupted batch that wrote to --out (its finished and queued jobs are reused); without it, that batch's unfinished jobs are canceled")
	fs.StringVar(&failOnFlag, "fail-on", "none", "exit 1 when a config has a lint finding of this `severity` or higher: info, low, medium, high, critical, or none")
	fs.BoolVar(&verifyOn, "verify", true, "check the configs as one network at the end, as netsmith verify does; an error there makes the exit code 1")
	fs.BoolVar(&emulateAfter, "emulate", false, "at the end, boot the configs with netsmith emulate when every device is FRR (needs root and FRR)")
	fs.BoolVar(&prune, "prune", false, "remove HOSTNAME.cfg files in --out of devices no longer in the fleet")
	fs.StringVar(&runningDir, "running", "", "folder of the devices' running configs (`RUNDIR`, HOSTNAME.cfg): write HOSTNAME.diff, the remediation, beside each drifted device's config and count devices in sync, drifted and missing")
	fs.DurationVar(&progressEvery, "progress-every", 0, "how often to report progress (default 200ms on a terminal, 2s otherwise)")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 || out == "" {
		return usagef("usage: netsmith batch FLEET.(yaml|csv|json) --out DIR [--server URL]")
	}
	path := pos[0]
	failOn, err := parseFailOn(failOnFlag)
	if err != nil {
		return err
	}
	if err := checkRunningDir(runningDir); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &usageError{err}
	}
	// Validate before anything is queued or paid for.
	f, err := fleet.Parser{Format: fleet.Format(format)}.Parse(path, data)
	if err != nil {
		var fe fleet.Errors
		if errors.As(err, &fe) {
			return usagef("%s has %d error(s); nothing was queued:\n%s", path, len(fe), fe.Error())
		}
		return &usageError{err}
	}
	for _, w := range f.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w.Error())
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	started := time.Now()
	resumeID, err := resumeOrCancel(ctx, out, path, data, resume, cfg.DB, stderr)
	if err != nil {
		return err
	}

	var client *httpapi.Client
	if srvURL != "" {
		client = httpapi.NewClient(srvURL, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	} else {
		c, stop, err := startEmbedded(ctx, &cfg, getenv, stderr)
		if err != nil {
			return err
		}
		defer stop()
		client = c
		department = cmp.Or(department, defaultDepartment)
	}

	b, err := submitOrResume(ctx, client, resumeID, out, &batchState{Fleet: path, SHA256: fleetSum(data), Embedded: srvURL == ""},
		httpapi.SubmitOptions{Name: filepath.Base(path), Format: format, Economy: economy, Department: department}, data)
	if err != nil {
		return err
	}
	isTTY := false
	if fd, ok := stderr.(interface{ Fd() uintptr }); ok {
		isTTY = term.IsTerminal(int(fd.Fd()))
	}
	if progressEvery == 0 {
		progressEvery = 2 * time.Second
		if isTTY {
			progressEvery = 200 * time.Millisecond
		}
	}
	fmt.Fprintf(stderr, "batch %s: %d devices, %d intents, charged to department %q\n", b.ID, b.Devices, b.Intents, cmp.Or(b.Department, "(none)"))
	col, err := newCollector(client, b.ID, out)
	if err != nil {
		return err
	}
	if resolveSecrets {
		col.resolve = localSecrets(getenv)
	}
	final, err := followBatch(ctx, client, b.ID, started, progressEvery, isTTY, stderr, col.poll)
	if err != nil {
		if ctx.Err() != nil {
			done := int64(0)
			if final != nil {
				done = final.Done
			}
			return fmt.Errorf("interrupted with %d of %d devices done; `netsmith batch %s --out %s --resume` continues it", done, b.Devices, path, out)
		}
		return err
	}
	sum, err := col.finish(ctx, final)
	if err != nil {
		return err
	}
	sum.Fleet, sum.Provider, sum.Intents = path, cfg.Provider, len(f.Intents)
	if srvURL != "" {
		sum.Provider = ""
	}
	// What fails after the configs are written (prune, verify) still
	// leaves a summary of them, with the error in its warnings.
	var after []error
	if prune {
		if sum.Pruned, err = pruneConfigs(out, fleetHostnames(f)); err != nil {
			after = append(after, fmt.Errorf("prune %s: %w", out, err))
		}
	}
	for _, w := range f.Warnings {
		sum.Warnings = append(sum.Warnings, w.Error())
	}
	if verifyOn && sum.Files > 0 {
		verified := time.Now()
		if sum.Verify, err = verifyBatch(out, f, sum.Failed); err != nil {
			after = append(after, fmt.Errorf("verify %s: %w", out, err))
		}
		sum.VerifySeconds = time.Since(verified).Seconds()
	}
	if runningDir != "" && sum.Files > 0 {
		if sum.Drift, err = driftBatch(out, runningDir, f, sum.Failed); err != nil {
			after = append(after, fmt.Errorf("drift against %s: %w", runningDir, err))
		}
	}
	for _, err := range after {
		sum.Warnings = append(sum.Warnings, err.Error())
	}
	sum.WallSeconds = time.Since(started).Seconds()
	b2, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := writeOutFile(out, "summary.json", append(b2, '\n')); err != nil {
		return err
	}
	printSummary(stdout, sum)
	if err := errors.Join(after...); err != nil {
		return err
	}
	if err := clearBatchState(out); err != nil {
		return err
	}
	if len(sum.Failed) > 0 {
		return fmt.Errorf("%d of %d devices failed (see %s)", len(sum.Failed), sum.Devices, filepath.Join(out, "summary.json"))
	}
	if sum.Verify != nil && sum.Verify.Errors > 0 {
		return fmt.Errorf("verify found %d errors across the configs (see %s, or run netsmith verify %s --fleet %s)",
			sum.Verify.Errors, filepath.Join(out, "summary.json"), out, path)
	}
	if emulateAfter {
		if err := emulateBatch(ctx, out, f, stdout, stderr); err != nil {
			return err
		}
	}
	return lintFailure(sum.LintRules, failOn, filepath.Join(out, "summary.json"))
}

// followBatch polls the batch until it is done or ctx ends, reporting
// progress every `every` and passing each reading to onPoll.
func followBatch(ctx context.Context, c *httpapi.Client, id string, started time.Time, every time.Duration, tty bool, w io.Writer,
	onPoll func(context.Context, *httpapi.BatchView) error) (*httpapi.BatchView, error) {
	tick := time.NewTicker(min(every, 250*time.Millisecond))
	defer tick.Stop()
	var (
		last    *httpapi.BatchView
		printed time.Time
		retry   httpapi.Backoff
	)
	for {
		v, err := c.Batch(ctx, id)
		if err != nil {
			// A proxy between replicas, or a replica restarting, fails
			// a poll now and then: the batch goes on meanwhile.
			if ctx.Err() == nil && httpapi.Transient(err) {
				if err := retry.Wait(ctx); err != nil {
					return last, err
				}
				continue
			}
			return last, err
		}
		retry.Reset()
		last = v
		if v.Status != "done" {
			if err := onPoll(ctx, v); err != nil {
				return last, err
			}
		}
		if v.Status == "done" || time.Since(printed) >= every {
			progress(w, v, time.Since(started), tty)
			printed = time.Now()
		}
		if v.Status == "done" {
			if tty {
				fmt.Fprintln(w)
			}
			return v, nil
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return last, ctx.Err()
		case <-tick.C:
		}
	}
}

func progress(w io.Writer, v *httpapi.BatchView, elapsed time.Duration, tty bool) {
	rate := float64(v.Done) / max(elapsed.Seconds(), 0.001)
	eta := "–"
	if rate > 0 && v.Done < int64(v.Devices) {
		eta = (time.Duration(float64(int64(v.Devices)-v.Done) / rate * float64(time.Second))).Round(time.Second).String()
	}
	pct := 100 * float64(v.Done) / float64(max(v.Devices, 1))
	line := fmt.Sprintf("%d/%d %3.0f%%  %.1f/s  ETA %s  %s, failed %d",
		v.Done, v.Devices, pct, rate, eta, cacheOutcomes(v.LLMCalls, v.CacheHits, v.Coalesced, v.Fallbacks), v.Counts[netcfg.StateFailed])
	if n := len(v.TemplatesRejected); n > 0 {
		line += fmt.Sprintf(", templates rejected %d", n)
	}
	if !tty {
		fmt.Fprintln(w, "progress: "+line)
		return
	}
	const width = 30
	filled := int(pct / 100 * width)
	fmt.Fprintf(w, "\r[%s%s] %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), line)
}

// collector writes HOSTNAME.cfg for every succeeded device and gathers the
// summary. It collects results while the batch runs (poll), so that the
// files are written beside the work instead of after it, and once more at
// the end (finish).
type collector struct {
	c    *httpapi.Client
	id   string
	root string
	sum  Summary
	// seen holds the jobs already handled; since is where the next pull
	// starts, resultLag before the newest finish seen so far.
	seen     map[string]bool
	since    time.Time
	lastPull time.Time
	// resolve, when set, writes the secret references a config holds as
	// the secrets (batch --resolve-secrets).
	resolve fleet.SecretResolveFunc
	// models and rules gather the summary's model and lint_rules
	// (noteResult).
	models []string
	rules  map[string]*lintRule
}

// resultLag is how far before the newest finish a pull reaches back: a
// job's finished_at is taken before its transaction commits, so a job that
// commits late still turns up in the next pull. Any that a pull misses are
// found by finish, which checks that every device was handled.
const resultLag = time.Second

// pullEvery spaces the pulls made while the batch runs.
const pullEvery = time.Second

func newCollector(c *httpapi.Client, id, out string) (*collector, error) {
	root, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	return &collector{c: c, id: id, root: root, seen: map[string]bool{},
		sum: Summary{Batch: id, Lint: map[string]int{}, Out: out, Failed: []failedDevice{}}}, nil
}

// poll pulls the results finished since the last pull, at most every
// pullEvery, when some are new.
func (col *collector) poll(ctx context.Context, v *httpapi.BatchView) error {
	if v.Done <= int64(len(col.seen)) || time.Since(col.lastPull) < pullEvery {
		return nil
	}
	if col.since.IsZero() {
		col.since = v.CreatedAt
	}
	return col.pull(ctx, col.since)
}

// pull handles every final result that finished at or after since (all,
// when since is zero) and was not handled before.
func (col *collector) pull(ctx context.Context, since time.Time) error {
	col.lastPull = time.Now()
	var newest time.Time
	err := col.c.BatchResultsSince(ctx, col.id, since, func(br *httpapi.BatchResult) error {
		if !br.Status.Final() || col.seen[br.JobID] {
			return nil
		}
		col.seen[br.JobID] = true
		if br.FinishedAt != nil && br.FinishedAt.After(newest) {
			newest = *br.FinishedAt
		}
		return col.add(br)
	})
	if !newest.IsZero() {
		col.since = newest.Add(-resultLag)
	}
	return err
}

// add writes one device's config, or records why it has none.
func (col *collector) add(br *httpapi.BatchResult) error {
	sum := &col.sum
	if br.Status != netcfg.StateSucceeded {
		sum.Failed = append(sum.Failed, failedDevice{Hostname: br.Hostname, Reason: cmp.Or(br.Error, string(br.Status))})
		return nil
	}
	var res generate.Result
	if err := json.Unmarshal(br.Result, &res); err != nil {
		sum.Failed = append(sum.Failed, failedDevice{Hostname: br.Hostname, Reason: fmt.Sprintf("unreadable result: %v", err)})
		return nil
	}
	if col.resolve != nil {
		config, _, err := fleet.ResolveSecretRefs(res.Config, col.resolve)
		if err != nil {
			sum.Failed = append(sum.Failed, failedDevice{Hostname: br.Hostname, Reason: err.Error()})
			return nil
		}
		res.Config, res.Lint = config, resolvedFindings(config, res.Lint)
	}
	// A device whose file cannot be written is one failed device: the
	// others are still written and the summary still lists it.
	if err := writeConfig(col.root, br.Hostname, res.Config); err != nil {
		sum.Failed = append(sum.Failed, failedDevice{Hostname: br.Hostname, Reason: "write config: " + err.Error()})
		return nil
	}
	for _, f := range res.Lint {
		sum.Lint[f.Severity]++
	}
	if res.VarCoverage != nil {
		sum.Coverage.add(br.Hostname, res.VarCoverage.Checked, res.UnusedVars)
	}
	col.noteResult(br.Hostname, &res)
	sum.Succeeded++
	sum.Files++
	return nil
}

// finish collects what the pulls so far have not, given the batch's final
// view, and returns the summary: the results since the last pull, then,
// if any device is still unaccounted for, all of them.
func (col *collector) finish(ctx context.Context, v *httpapi.BatchView) (*Summary, error) {
	partial := !col.since.IsZero()
	if err := col.pull(ctx, col.since); err != nil {
		return nil, err
	}
	if partial && len(col.seen) < v.Devices {
		if err := col.pull(ctx, time.Time{}); err != nil {
			return nil, err
		}
	}
	sum := &col.sum
	sum.Devices, sum.Intents, sum.LLMCalls, sum.CacheHits = v.Devices, v.Intents, v.LLMCalls, v.CacheHits
	sum.Coalesced, sum.Fallbacks, sum.CostUSD, sum.SavedUSD = v.Coalesced, v.Fallbacks, v.CostUSD, v.SavedUSD
	sum.Tokens = summaryTokens{Input: v.Tokens.Input, Output: v.Tokens.Output}
	sum.SavedTokens = summaryTokens{Input: v.Saved.Input, Output: v.Saved.Output}
	sum.TemplatesRejected = v.TemplatesRejected
	sort.Slice(sum.Failed, func(i, j int) bool { return sum.Failed[i].Hostname < sum.Failed[j].Hostname })
	col.report(sum)
	return sum, nil
}

// writeConfig writes root/HOSTNAME.cfg, refusing any name that would leave
// root and, as writeOutFile, any link already there.
func writeConfig(root, hostname, config string) error {
	if err := netcfg.ValidateHostname(hostname); err != nil {
		return err
	}
	name := hostname + ".cfg"
	if filepath.Dir(filepath.Join(root, name)) != root {
		return fmt.Errorf("hostname %q would be written outside %s", hostname, root)
	}
	return writeOutFile(root, name, []byte(config))
}

func printSummary(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "%d devices, %d intents: %d configs in %s, %d failed\n", s.Devices, s.Intents, s.Files, s.Out, len(s.Failed))
	fmt.Fprintf(w, "%s; model %s\n", cacheOutcomes(s.LLMCalls, s.CacheHits, s.Coalesced, s.Fallbacks), cmp.Or(s.Model, "-"))
	fmt.Fprintf(w, "tokens %d in, %d out (saved %d in, %d out); cost $%.4f, saved $%.4f\n",
		s.Tokens.Input, s.Tokens.Output, s.SavedTokens.Input, s.SavedTokens.Output, s.CostUSD, s.SavedUSD)
	printLintRules(w, s.LintRules)
	if len(s.Pruned) > 0 {
		fmt.Fprintf(w, "pruned %d configs of devices no longer in the fleet: %s\n", len(s.Pruned), strings.Join(s.Pruned, ", "))
	}
	s.Coverage.print(w)
	if s.Verify != nil {
		fmt.Fprintf(w, "verify: %d errors, %d warnings (netsmith verify %s --fleet %s)\n", s.Verify.Errors, s.Verify.Warnings, s.Out, s.Fleet)
	}
	s.Drift.print(w, s.Out)
	for _, name := range slices.Sorted(maps.Keys(s.TemplatesRejected)) {
		fmt.Fprintf(w, "template rejected for %s: %s\n", name, s.TemplatesRejected[name])
	}
	for _, f := range s.Failed {
		fmt.Fprintf(w, "FAILED %s: %s\n", f.Hostname, f.Reason)
	}
	fmt.Fprintf(w, "wall time %.1fs; summary in %s\n", s.WallSeconds, filepath.Join(s.Out, "summary.json"))
}
