package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"netsmith/internal/diff"
	"netsmith/internal/httpapi"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

const diffUsage = `Usage: netsmith diff RUNNING INTENDED [--platform P] [--json] [--rules FILE]
       netsmith diff --dir RUNDIR --intended OUTDIR [--write] [--json] [--rules FILE]
       netsmith diff --job ID RUNNING [--server URL] [--platform P] [--json]

Prints the commands that turn the RUNNING config into the INTENDED one, as
the device takes them (RUNNING "-" reads standard input): new and changed lines under their section, removed
lines negated ("no …", Junos "delete …"), a removed section negated once,
overwriting commands (hostname, an interface's primary address) not
negated first, ordered lists (ACLs, prefix lists, Junos filters and
policies) replaced as a block or edited by sequence number.

With --dir, every OUTDIR/HOSTNAME.cfg is compared with its running config in
RUNDIR (HOSTNAME.cfg, .conf, .txt or no extension) and each device is
reported in sync, drifted or missing; --write puts the remediation of each
drifted device in OUTDIR/HOSTNAME.diff. With --job, the server compares RUNNING
with the config job ID generated (POST /v1/jobs/{id}/diff), with its own rules.

Exit status: 0 nothing to do, 1 something to do (a drifted or missing
device), 2 bad flags or input.

Flags:
`

// runDiff implements "netsmith diff" and returns the exit code.
func runDiff(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platformFlag := fs.String("platform", "", "platform of the configs (with --dir, of every device): cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos or frr (default: detected)")
	jsonFlag := fs.Bool("json", false, "print the remediation with a structured diff per section (added, removed, changed) as JSON")
	rulesFlag := fs.String("rules", "", "YAML `file` of remediation rules that add to, replace (same id) or disable (disabled: true) the built-in ones")
	dirFlag := fs.String("dir", "", "folder of running configs (`RUNDIR`), compared with --intended")
	intendedFlag := fs.String("intended", "", "folder of intended configs (`OUTDIR`, HOSTNAME.cfg) for --dir")
	writeFlag := fs.Bool("write", false, "with --dir: write OUTDIR/HOSTNAME.diff for every drifted device (and remove stale ones)")
	jobFlag := fs.String("job", "", "compare RUNNING with the config of the server's job `ID`")
	var server, apiKey string
	clientFlags(fs, &server, &apiKey)
	pos, fail, code, done := parseCodeCommand(fs, diffUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	d, err := differ(*rulesFlag)
	if err != nil {
		return fail("%v", err)
	}
	var platform netcfg.Platform
	if *platformFlag != "" {
		if platform, err = netcfg.ParsePlatform(*platformFlag); err != nil {
			return fail("--platform: %v", err)
		}
	}
	if *dirFlag != "" || *intendedFlag != "" {
		if *dirFlag == "" || *intendedFlag == "" || len(pos) != 0 {
			return fail("--dir RUNDIR and --intended OUTDIR go together, without files")
		}
		return diffDirs(d, platform, *dirFlag, *intendedFlag, *writeFlag, *jsonFlag, stdout, fail)
	}
	read := func(path string) ([]byte, error) {
		if path == "-" {
			return io.ReadAll(io.LimitReader(stdin, netcfg.MaxConfig+1))
		}
		return os.ReadFile(path)
	}
	if *jobFlag != "" {
		if len(pos) != 1 {
			return fail("give RUNNING with --job (usage: netsmith diff --job ID RUNNING [--server URL])")
		}
		b, err := read(pos[0])
		if err != nil {
			return fail("%v", err)
		}
		c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
		out, err := c.JobDiff(ctx, *jobFlag, httpapi.DiffRequest{Running: string(b), Platform: platform})
		if err != nil {
			return fail("%v", err)
		}
		return printDiff(stdout, out, out.Result, *jsonFlag, fail)
	}
	if len(pos) != 2 {
		return fail("give RUNNING and INTENDED (usage: netsmith diff RUNNING INTENDED [--platform P] [--json])")
	}
	texts := make([]string, 2)
	if pos[0] == "-" && pos[1] == "-" {
		return fail("only one of RUNNING and INTENDED can be standard input")
	}
	for i, p := range pos {
		b, err := read(p)
		if err != nil {
			return fail("%v", err)
		}
		texts[i] = string(b)
	}
	if platform == "" {
		platform = lint.Detect(texts[1])
	}
	res, err := d.DiffText(platform, texts[0], texts[1])
	if err != nil {
		return fail("%v", err)
	}
	return printDiff(stdout, res, res, *jsonFlag, fail)
}

// printDiff prints a remediation (doc as JSON with --json) and returns the
// exit code: 0 nothing to do, 1 something.
func printDiff(w io.Writer, doc any, res *diff.Result, asJSON bool, fail func(string, ...any) int) int {
	if asJSON {
		if err := printJSON(w, doc); err != nil {
			return fail("%v", err)
		}
	} else {
		fmt.Fprint(w, res.Text())
	}
	if res.Empty() {
		return 0
	}
	return 1
}

// differ returns the built-in remediation rules, with a user rule file's
// added when path is not empty.
func differ(path string) (*diff.Differ, error) {
	d, err := diff.Default()
	if err != nil || path == "" {
		return d, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	defer f.Close()
	rf, err := diff.Load(f)
	if err != nil {
		return nil, fmt.Errorf("--rules %s: %w", path, err)
	}
	return d.With(rf)
}

func diffDirs(d *diff.Differ, platform netcfg.Platform, runDir, outDir string, write, asJSON bool, stdout io.Writer, fail func(string, ...any) int) int {
	for _, dir := range []string{runDir, outDir} {
		if st, err := os.Stat(dir); err != nil {
			return fail("%v", err)
		} else if !st.IsDir() {
			return fail("%s is not a folder", dir)
		}
	}
	targets, err := diff.Targets(outDir)
	if err != nil {
		return fail("%v", err)
	}
	if len(targets) == 0 {
		return fail("%s holds no HOSTNAME.cfg", outDir)
	}
	for i := range targets {
		targets[i].Platform = platform
	}
	dr := d.DriftFiles(targets, runDir)
	if write {
		if err := writeDiffs(outDir, dr); err != nil {
			return fail("%v", err)
		}
	}
	if asJSON {
		if err := printJSON(stdout, dr); err != nil {
			return fail("%v", err)
		}
	} else {
		printDrift(stdout, dr)
	}
	switch {
	case dr.Errors > 0:
		return exitUsage
	case dr.Drifted+dr.Missing > 0:
		return 1
	}
	return 0
}

// writeDiffs writes dir/HOSTNAME.diff for every drifted device and removes
// the file of every other device, so that the folder says what is to do now.
func writeDiffs(dir string, dr *diff.Drift) error {
	for _, dd := range dr.Devices {
		name := dd.Hostname + ".diff"
		if dd.Status == diff.Drifted {
			if err := writeOutFile(dir, name, []byte(dd.Result.Text())); err != nil {
				return err
			}
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func printDrift(w io.Writer, dr *diff.Drift) {
	for _, dd := range dr.Devices {
		switch dd.Status {
		case diff.Drifted:
			fmt.Fprintf(w, "%s\tdrifted\t%d commands (+%d -%d ~%d)\n", dd.Hostname, dd.Commands, dd.Added, dd.Removed, dd.Changed)
		case diff.InSync:
			fmt.Fprintf(w, "%s\tin sync\n", dd.Hostname)
		case diff.Missing:
			fmt.Fprintf(w, "%s\tmissing\tno running config\n", dd.Hostname)
		default:
			fmt.Fprintf(w, "%s\terror\t%s\n", dd.Hostname, dd.Error)
		}
	}
	fmt.Fprintf(w, "%d devices: %d in sync, %d drifted, %d missing", len(dr.Devices), dr.InSync, dr.Drifted, dr.Missing)
	if dr.Errors > 0 {
		fmt.Fprintf(w, ", %d errors", dr.Errors)
	}
	fmt.Fprintln(w)
}
