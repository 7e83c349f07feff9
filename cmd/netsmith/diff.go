package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"netsmith/internal/diff"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

const diffUsage = `Usage: netsmith diff RUNNING INTENDED [--platform P] [--json] [--rules FILE]
       netsmith diff --dir RUNDIR --intended OUTDIR [--write] [--json] [--rules FILE]

Prints the commands that turn the RUNNING config into the INTENDED one, as
the device takes them: new and changed lines under their section, removed
lines negated ("no …", Junos "delete …"), a removed section negated once,
overwriting commands (hostname, an interface's primary address) not
negated first, ordered lists (ACLs, prefix lists, Junos filters and
policies) replaced as a block or edited by sequence number.

With --dir, every OUTDIR/HOSTNAME.cfg is compared with its running config in
RUNDIR (HOSTNAME.cfg, .conf, .txt or no extension) and each device is
reported in sync, drifted or missing; --write puts the remediation of each
drifted device in OUTDIR/HOSTNAME.diff.

Exit status: 0 nothing to do, 1 something to do (a drifted or missing
device), 2 bad flags or input.

Flags:
`

// runDiff implements "netsmith diff" and returns the exit code.
func runDiff(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platformFlag := fs.String("platform", "", "platform of both configs: cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos or frr (default: detected)")
	jsonFlag := fs.Bool("json", false, "print the remediation with a structured diff per section (added, removed, changed) as JSON")
	rulesFlag := fs.String("rules", "", "YAML `file` of remediation rules that add to, replace (same id) or disable (disabled: true) the built-in ones")
	dirFlag := fs.String("dir", "", "folder of running configs (`RUNDIR`), compared with --intended")
	intendedFlag := fs.String("intended", "", "folder of intended configs (`OUTDIR`, HOSTNAME.cfg) for --dir")
	writeFlag := fs.Bool("write", false, "with --dir: write OUTDIR/HOSTNAME.diff for every drifted device (and remove stale ones)")
	pos, fail, code, done := parseCodeCommand(fs, diffUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	d, err := differ(*rulesFlag)
	if err != nil {
		return fail("%v", err)
	}
	if *dirFlag != "" || *intendedFlag != "" {
		if *dirFlag == "" || *intendedFlag == "" || len(pos) != 0 {
			return fail("--dir RUNDIR and --intended OUTDIR go together, without files")
		}
		return diffDirs(d, *dirFlag, *intendedFlag, *writeFlag, *jsonFlag, stdout, fail)
	}
	if len(pos) != 2 {
		return fail("give RUNNING and INTENDED (usage: netsmith diff RUNNING INTENDED [--platform P] [--json])")
	}
	var platform netcfg.Platform
	if *platformFlag != "" {
		if platform, err = netcfg.ParsePlatform(*platformFlag); err != nil {
			return fail("--platform: %v", err)
		}
	}
	texts := make([]string, 2)
	for i, p := range pos {
		b, err := os.ReadFile(p)
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
	if *jsonFlag {
		if err := printJSON(stdout, res); err != nil {
			return fail("%v", err)
		}
	} else {
		fmt.Fprint(stdout, res.Text())
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

func diffDirs(d *diff.Differ, runDir, outDir string, write, asJSON bool, stdout io.Writer, fail func(string, ...any) int) int {
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
