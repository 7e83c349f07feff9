package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

const lintUsage = `Usage: netsmith lint [flags] FILE|DIR...

Checks device configs for security and consistency problems and prints one
line per finding: FILE:LINE RULE SEVERITY MESSAGE (line 0: something is
missing from the config). A directory is searched recursively for config
files (*.cfg, *.conf, *.config, *.txt, *.ios, *.eos, *.nxos, *.junos, *.set;
hidden files are skipped). A file, named or found, that does not look like a
config is skipped with a note unless --platform is given. Flags may come
before or after the files.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 bad flags
or unreadable input.

Flags:
`

// lintExtensions are the file extensions a directory walk lints.
var lintExtensions = []string{".cfg", ".conf", ".config", ".txt", ".ios", ".eos", ".nxos", ".junos", ".set"}

// maxLintFile bounds the size of one config; device configs are far smaller.
const maxLintFile = 64 << 20

// lintFileResult is the JSON form of one file's findings.
type lintFileResult struct {
	File     string         `json:"file"`
	Platform string         `json:"platform"`
	Findings []lint.Finding `json:"findings"`
}

type lintFileError struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

type lintReport struct {
	Files   []lintFileResult `json:"files"`
	Skipped []string         `json:"skipped,omitempty"` // not recognised as configs, no --platform
	Errors  []lintFileError  `json:"errors,omitempty"`
	Summary lintSummary      `json:"summary"`
}

type lintSummary struct {
	Files      int            `json:"files"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	FailOn     string         `json:"fail_on"`
	Failed     bool           `json:"failed"`
}

// runLint implements "netsmith lint FILE…|DIR [--platform P] [--rules FILE]
// [--json] [--fail-on SEVERITY]". It returns the process exit code.
func runLint(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("lint", flag.ContinueOnError)
	platformFlag := fset.String("platform", "", "platform of every file: cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos or frr (default: detected per file)")
	rulesFlag := fset.String("rules", "", "YAML `file` of rules that add to, replace (same id) or disable (disabled: true) built-in rules")
	jsonFlag := fset.Bool("json", false, "print one JSON document with every file's findings")
	failOnFlag := fset.String("fail-on", "high", "exit 1 when a finding has this `severity` or higher: info, low, medium, high, critical, or none")
	listFlag := fset.Bool("list-rules", false, "print the rules in effect and exit")
	paths, fail, code, done := parseCodeCommand(fset, lintUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	var err error
	var platform netcfg.Platform
	if *platformFlag != "" {
		if platform, err = lint.ParsePlatform(*platformFlag); err != nil {
			return fail("--platform: %v", err)
		}
	}
	var failOn lint.Severity // 0: never fail
	if !strings.EqualFold(*failOnFlag, "none") {
		if failOn, err = lint.ParseSeverity(*failOnFlag); err != nil {
			return fail("--fail-on: %v", err)
		}
	}
	linter, err := lint.Default()
	if err != nil {
		return fail("%v", err)
	}
	if *rulesFlag != "" {
		if linter, err = withRuleFile(linter, *rulesFlag); err != nil {
			return fail("--rules %s: %v", *rulesFlag, err)
		}
	}
	if *listFlag {
		printRules(stdout, linter.Rules())
		return 0
	}
	if len(paths) == 0 {
		fmt.Fprint(stderr, "netsmith lint: no FILE or DIR given\n\n"+lintUsage)
		fset.SetOutput(stderr)
		fset.PrintDefaults()
		return exitUsage
	}

	report := lintReport{Files: []lintFileResult{}}
	var all []lint.Finding
	files, walkErrs := collectLintFiles(paths)
	report.Errors = append(report.Errors, walkErrs...)
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return fail("interrupted: %v", err)
		}
		res, err := lintFile(linter, platform, file)
		if errors.Is(err, errNotConfig) {
			report.Skipped = append(report.Skipped, file.path)
			continue
		}
		if err != nil {
			report.Errors = append(report.Errors, lintFileError{File: file.path, Error: err.Error()})
			continue
		}
		report.Files = append(report.Files, res)
		all = append(all, res.Findings...)
		if !*jsonFlag {
			for _, f := range res.Findings {
				fmt.Fprintf(stdout, "%s:%d %s %s %s\n", file.path, f.Line, f.Rule, f.Severity, f.Message)
			}
		}
	}

	failed := failOn != 0 && slices.ContainsFunc(all, func(f lint.Finding) bool { return f.AtLeast(failOn) })
	report.Summary = lintSummary{
		Files:      len(report.Files),
		Findings:   len(all),
		BySeverity: lint.CountBySeverity(all),
		FailOn:     strings.ToLower(*failOnFlag),
		Failed:     failed,
	}
	if *jsonFlag {
		if err := printJSON(stdout, report); err != nil {
			return fail("write report: %v", err)
		}
	}
	for _, e := range report.Errors {
		fmt.Fprintf(stderr, "netsmith lint: %s: %s\n", e.File, e.Error)
	}
	if len(report.Files) == 0 && len(report.Errors) == 0 && len(report.Skipped) == 0 {
		return fail("no config files found in %s", strings.Join(paths, ", "))
	}
	if len(report.Skipped) > 0 {
		fmt.Fprintf(stderr, "netsmith lint: skipped %d files that do not look like device configs (%s); pass --platform to lint them as that platform\n",
			len(report.Skipped), strings.Join(report.Skipped, ", "))
	}
	if !*jsonFlag {
		fmt.Fprintf(stderr, "netsmith lint: %d files, %s\n", len(report.Files), summarize(report.Summary))
	}
	switch {
	case len(report.Errors) > 0:
		return exitUsage
	case failed:
		return 1
	}
	return 0
}

func withRuleFile(l *lint.Linter, path string) (*lint.Linter, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := lint.Load(f)
	if err != nil {
		return nil, err
	}
	return l.With(rules...)
}

// lintTarget is a file to lint.
type lintTarget struct {
	path string
}

// errNotConfig marks a file that does not look like a device config: found
// in a directory or named (README.md), it is skipped with a note unless
// --platform says what to lint it as.
var errNotConfig = errors.New("not recognised as a device config")

// collectLintFiles expands directories into the config files under them.
// Files named on the command line are always linted, whatever their name.
func collectLintFiles(paths []string) ([]lintTarget, []lintFileError) {
	var files []lintTarget
	var errs []lintFileError
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, lintFileError{File: p, Error: err.Error()})
			continue
		}
		if !info.IsDir() {
			files = append(files, lintTarget{path: p})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, lintFileError{File: path, Error: err.Error()})
				return nil
			}
			hidden := strings.HasPrefix(d.Name(), ".") && path != p
			switch {
			case d.IsDir() && hidden:
				return filepath.SkipDir
			case d.IsDir() || hidden || !d.Type().IsRegular():
				return nil
			case slices.Contains(lintExtensions, strings.ToLower(filepath.Ext(path))):
				files = append(files, lintTarget{path: path})
			}
			return nil
		})
		if err != nil {
			errs = append(errs, lintFileError{File: p, Error: err.Error()})
		}
	}
	return files, errs
}

// lintFile reads, parses and lints one file. The platform is detected from
// the text when none is given; a file whose text shows no sign of being a
// config is not linted (errNotConfig).
func lintFile(l *lint.Linter, platform netcfg.Platform, target lintTarget) (lintFileResult, error) {
	path := target.path
	f, err := os.Open(path)
	if err != nil {
		return lintFileResult{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLintFile+1))
	if err != nil {
		return lintFileResult{}, err
	}
	if len(b) > maxLintFile {
		return lintFileResult{}, fmt.Errorf("larger than %d MiB: not a device config", maxLintFile>>20)
	}
	text := string(b)
	if bytes.IndexByte(b, 0) >= 0 { // an error, not a skip: a config file went wrong
		return lintFileResult{}, fmt.Errorf("parse config: %w", confparse.ErrBinary)
	}
	if platform == "" {
		var ok bool
		platform, ok = lint.Identify(text)
		if !ok {
			return lintFileResult{}, errNotConfig
		}
	}
	tree, err := confparse.Parse(platform, text)
	if err != nil {
		return lintFileResult{}, err
	}
	findings := l.LintTree(tree)
	if findings == nil {
		findings = []lint.Finding{}
	}
	return lintFileResult{File: path, Platform: string(platform), Findings: findings}, nil
}

func summarize(s lintSummary) string {
	var parts []string
	for _, sev := range slices.Backward(lint.Severities) {
		if n := s.BySeverity[sev.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", sev, n))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return fmt.Sprintf("%d findings (%s)", s.Findings, strings.Join(parts, ", "))
}

func printRules(w io.Writer, rules []lint.Rule) {
	for _, r := range rules {
		platforms := "all"
		if len(r.Platforms) > 0 {
			ps := make([]string, len(r.Platforms))
			for i, p := range r.Platforms {
				ps[i] = string(p)
			}
			platforms = strings.Join(ps, ",")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, platforms, r.Message)
	}
}
