package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/fleet"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
	"netsmith/internal/verify"
)

const verifyUsage = `Usage: netsmith verify DIR [--fleet FILE] [--json]

Checks the configs DIR/*.cfg (one per device, named HOSTNAME.cfg) as one
network: both ends of every point-to-point link, BGP sessions (peer, ASN,
both sides, update-source and multihop to loopbacks), duplicate addresses,
MLAG/vPC pairs, trunk VLANs and LAG members on both ends. With --fleet the
links come from the fleet's uplinks/downlinks and each device's platform
from its entry; without it links are the /31 and /30 subnets two devices
share, and platforms are detected.

Exit status: 0 no error found, 1 at least one error, 2 bad flags or input.

Flags:
`

// VerifySummary is the verification of a batch's configs in summary.json.
type VerifySummary = verify.Report

// runVerify implements "netsmith verify DIR [--fleet FILE] [--json]" and
// returns the exit code.
func runVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fleetFlag := fs.String("fleet", "", "fleet `FILE` (YAML, CSV or JSON) the configs were made from")
	jsonFlag := fs.Bool("json", false, "print the report as JSON")
	pos, fail, code, done := parseCodeCommand(fs, verifyUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return fail("give one DIR (usage: netsmith verify DIR [--fleet FILE] [--json])")
	}
	var fl *fleet.Fleet
	if *fleetFlag != "" {
		var err error
		if fl, err = readFleetFlag(*fleetFlag); err != nil {
			return fail("%v", err)
		}
	}
	rep, n, err := verifyDir(pos[0], fl)
	if err != nil {
		return fail("%v", err)
	}
	if *jsonFlag {
		if err := printJSON(stdout, rep); err != nil {
			return fail("%v", err)
		}
	} else {
		printVerify(stdout, rep, n)
	}
	if rep.Errors > 0 {
		return 1
	}
	return 0
}

// verifyDir parses DIR/*.cfg (HOSTNAME.cfg) and verifies them as one
// network, with the fleet's links and platforms when fl is not nil. It
// returns the report and how many configs it read.
func verifyDir(dir string, fl *fleet.Fleet) (*verify.Report, int, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, 0, err
	}
	if !st.IsDir() {
		return nil, 0, fmt.Errorf("%s is not a directory", dir)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.cfg"))
	if err != nil {
		return nil, 0, err
	}
	if len(paths) == 0 {
		return nil, 0, fmt.Errorf("%s holds no *.cfg files", dir)
	}
	rep, err := verifyFiles(paths, fl)
	return rep, len(paths), err
}

// verifyBatch verifies the configs a batch of fl has just written to out:
// every device's but the failed ones', and no other file of out.
func verifyBatch(out string, fl *fleet.Fleet, failed []failedDevice) (*verify.Report, error) {
	skip := map[string]bool{}
	for _, f := range failed {
		skip[f.Hostname] = true
	}
	var paths []string
	for _, r := range fl.Devices {
		if !skip[r.Device.Hostname] {
			paths = append(paths, filepath.Join(out, r.Device.Hostname+".cfg"))
		}
	}
	return verifyFiles(paths, fl)
}

// verifyFiles parses the configs at paths (HOSTNAME.cfg) and verifies them.
func verifyFiles(paths []string, fl *fleet.Fleet) (*verify.Report, error) {
	var devices []netcfg.Device
	platforms := map[string]netcfg.Platform{}
	if fl != nil {
		devices = make([]netcfg.Device, len(fl.Devices))
		for i, r := range fl.Devices {
			devices[i] = r.Device
			platforms[r.Device.Hostname] = r.Device.Platform
		}
	}
	cfgs := make([]verify.Config, 0, len(paths))
	for _, p := range paths {
		b, err := readOutFile(p)
		if err != nil {
			return nil, err
		}
		host := strings.TrimSuffix(filepath.Base(p), ".cfg")
		text := string(b)
		platform := platforms[host]
		if platform == "" {
			platform = lint.Detect(text)
		}
		tree, err := confparse.Parse(platform, text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		cfgs = append(cfgs, verify.Config{Hostname: host, Tree: tree})
	}
	return verify.Verify(cfgs, devices), nil
}

// printVerify prints the findings grouped by device, then a total line.
func printVerify(w io.Writer, rep *verify.Report, configs int) {
	last := ""
	for _, f := range rep.Findings {
		if f.Device != last {
			fmt.Fprintf(w, "%s:\n", f.Device)
			last = f.Device
		}
		at := ""
		if f.Line > 0 {
			at = fmt.Sprintf(" line %d", f.Line)
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n", f.Severity, f.Check, at, f.Message)
		if f.Text != "" {
			fmt.Fprintf(w, "      %d: %s\n", f.Line, f.Text)
		}
		if f.Peer != "" && f.PeerText != "" {
			fmt.Fprintf(w, "      %s %d: %s\n", f.Peer, f.PeerLine, f.PeerText)
		}
	}
	fmt.Fprintf(w, "verify: %d configs, %d errors, %d warnings\n", configs, rep.Errors, rep.Warnings)
}

// parseCodeCommand parses the flags of a command that returns its own exit
// code (verify, emulate). On -h it prints usage and the flags on stdout; on a
// bad flag one line on stderr; done then says code is the exit code. fail
// prints "netsmith NAME: …" on stderr and returns the usage exit code.
func parseCodeCommand(fs *flag.FlagSet, usage string, args []string, getenv func(string) string, stdout, stderr io.Writer) (pos []string, fail func(string, ...any) int, code int, done bool) {
	fail = func(format string, a ...any) int {
		fmt.Fprintf(stderr, "netsmith "+fs.Name()+": "+format+"\n", a...)
		return exitUsage
	}
	pos, err := parseFlags(fs, args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, fail, 0, true
	}
	if err != nil {
		return nil, fail, fail("%v", err), true
	}
	return pos, fail, 0, false
}

// readFleetFlag reads and parses the fleet file a --fleet flag names.
func readFleetFlag(path string) (*fleet.Fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--fleet: %w", err)
	}
	fl, err := fleet.Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("--fleet %s: %w", path, err)
	}
	return fl, nil
}
