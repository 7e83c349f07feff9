package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"netsmith/internal/generate"
	"netsmith/internal/lint"
)

// cacheOutcomes says how the cache served a batch's devices, in the words
// the cache itself uses (cache.Outcome): progress and summary print the
// same line, so the two never disagree. llm counts the model calls paid
// for: the misses, the fallbacks and jobs run without the cache.
func cacheOutcomes(llm, hit, coalesced, fallback int64) string {
	return fmt.Sprintf("llm %d, hit %d, coalesced %d, fallback %d", llm, hit, coalesced, fallback)
}

// lintRule is one lint rule's findings over a batch: the devices whose
// configs it flagged.
type lintRule struct {
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Devices  []string `json:"devices"`
}

// noteResult records what the summary says about one device's result
// beyond its file: the model that wrote its template and its lint findings
// by rule.
func (col *collector) noteResult(hostname string, res *generate.Result) {
	if res.Model != "" && !slices.Contains(col.models, res.Model) {
		col.models = append(col.models, res.Model)
	}
	if col.rules == nil {
		col.rules = map[string]*lintRule{}
	}
	for _, f := range res.Lint {
		r := col.rules[f.Rule]
		if r == nil {
			r = &lintRule{Rule: f.Rule, Severity: f.Severity}
			col.rules[f.Rule] = r
		}
		if !slices.Contains(r.Devices, hostname) {
			r.Devices = append(r.Devices, hostname)
		}
	}
}

// report fills the summary's model and lint-by-rule fields: rules most
// severe first, then by how many devices they flag.
func (col *collector) report(sum *Summary) {
	slices.Sort(col.models)
	sum.Model = strings.Join(col.models, ", ")
	sum.LintRules = []lintRule{}
	for _, r := range col.rules {
		slices.Sort(r.Devices)
		sum.LintRules = append(sum.LintRules, *r)
	}
	sort.Slice(sum.LintRules, func(i, j int) bool {
		a, b := sum.LintRules[i], sum.LintRules[j]
		sa, _ := lint.ParseSeverity(a.Severity)
		sb, _ := lint.ParseSeverity(b.Severity)
		if sa != sb {
			return sa > sb
		}
		if len(a.Devices) != len(b.Devices) {
			return len(a.Devices) > len(b.Devices)
		}
		return a.Rule < b.Rule
	})
}

// printLintRules lists each rule with up to five of its devices.
func printLintRules(w io.Writer, rules []lintRule) {
	if len(rules) == 0 {
		fmt.Fprintln(w, "lint: no findings")
		return
	}
	fmt.Fprintln(w, "lint findings by rule:")
	for _, r := range rules {
		shown := r.Devices[:min(len(r.Devices), 5)]
		more := ""
		if n := len(r.Devices) - len(shown); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		fmt.Fprintf(w, "  %-8s %s on %d devices: %s%s\n", r.Severity, r.Rule, len(r.Devices), strings.Join(shown, ", "), more)
	}
}

// parseFailOn reads --fail-on: a severity, or none (0: never fail).
func parseFailOn(s string) (lint.Severity, error) {
	if strings.EqualFold(s, "none") || s == "" {
		return 0, nil
	}
	sev, err := lint.ParseSeverity(s)
	if err != nil {
		return 0, usagef("--fail-on: %v", err)
	}
	return sev, nil
}

// lintFailure is the error for findings at or above --fail-on, or nil.
func lintFailure(rules []lintRule, failOn lint.Severity, summaryPath string) error {
	if failOn == 0 {
		return nil
	}
	devices := map[string]bool{}
	var names []string
	for _, r := range rules {
		if sev, err := lint.ParseSeverity(r.Severity); err == nil && sev >= failOn {
			names = append(names, r.Rule)
			for _, d := range r.Devices {
				devices[d] = true
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("lint findings at or above %s (--fail-on) on %d devices: %s (see %s)",
		failOn, len(devices), strings.Join(names, ", "), summaryPath)
}

// pruneConfigs removes out's HOSTNAME.cfg files whose device is not in
// keep and returns the hostnames it removed, sorted.
func pruneConfigs(out string, keep map[string]bool) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(out, "*.cfg"))
	if err != nil {
		return nil, err
	}
	var pruned []string
	for _, f := range files {
		host := strings.TrimSuffix(filepath.Base(f), ".cfg")
		if keep[host] {
			continue
		}
		if err := os.Remove(f); err != nil {
			return pruned, err
		}
		// The device's remediation (batch --running) goes with its config.
		if err := os.Remove(strings.TrimSuffix(f, ".cfg") + ".diff"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pruned, err
		}
		pruned = append(pruned, host)
	}
	slices.Sort(pruned)
	return pruned, nil
}
