package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"netsmith/internal/comply"
	"netsmith/internal/confparse"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

const complyUsage = `Usage: netsmith comply POLICY DIR [--platform P] [--json]

Holds every config in DIR (HOSTNAME.cfg, .conf or .txt) to the POLICY file
(YAML): per role (devices whose hostname matches the role's hosts pattern),
lines that must be present, lines that must not, and a golden config whose
every line the device must hold. Prints one line per device and rule:
HOSTNAME ROLE RULE pass|fail, and the offending or missing lines under a
failure.

Exit status: 0 every device complies, 1 at least one check failed, 2 bad
flags, policy or input.

Flags:
`

type complyReport struct {
	Devices []comply.Device `json:"devices"`
	Rules   []complyRule    `json:"rules"` // per role and rule, the devices that fail it
	Passed  int             `json:"passed"`
	Failed  int             `json:"failed"`
}

type complyRule struct {
	Role    string   `json:"role"`
	Rule    string   `json:"rule"`
	Checked int      `json:"checked"`
	Failing []string `json:"failing"`
}

// runComply implements "netsmith comply POLICY DIR" and returns the exit
// code.
func runComply(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("comply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platformFlag := fs.String("platform", "", "platform of every config (default: detected per file)")
	jsonFlag := fs.Bool("json", false, "print the report as JSON")
	pos, fail, code, done := parseCodeCommand(fs, complyUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 2 {
		return fail("give POLICY and DIR (usage: netsmith comply POLICY DIR [--json])")
	}
	var platform netcfg.Platform
	var err error
	if *platformFlag != "" {
		if platform, err = netcfg.ParsePlatform(*platformFlag); err != nil {
			return fail("--platform: %v", err)
		}
	}
	pol, err := comply.LoadFile(pos[0])
	if err != nil {
		return fail("%s: %v", pos[0], err)
	}
	d, err := differ("")
	if err != nil {
		return fail("%v", err)
	}
	ents, err := os.ReadDir(pos[1])
	if err != nil {
		return fail("%v", err)
	}
	rep := complyReport{Devices: []comply.Device{}}
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains([]string{".cfg", ".conf", ".txt"}, ext) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(pos[1], name))
		if err != nil {
			return fail("%v", err)
		}
		p := platform
		if p == "" {
			p = lint.Detect(string(b))
		}
		t, err := confparse.Parse(p, string(b))
		if err != nil {
			return fail("%s: %v", name, err)
		}
		dev, err := pol.Check(d, strings.TrimSuffix(name, ext), t)
		if err != nil {
			return fail("%s: %v", name, err)
		}
		if dev.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Devices = append(rep.Devices, dev)
	}
	if len(rep.Devices) == 0 {
		return fail("%s holds no configs (HOSTNAME.cfg, .conf or .txt)", pos[1])
	}
	rep.Rules = byRule(rep.Devices)
	if *jsonFlag {
		if err := printJSON(stdout, rep); err != nil {
			return fail("%v", err)
		}
	} else {
		for _, dev := range rep.Devices {
			for _, c := range dev.Checks {
				verdict := "pass"
				if !c.Pass {
					verdict = "fail"
				}
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", dev.Hostname, c.Role, c.Rule, verdict)
				for _, l := range c.Lines {
					fmt.Fprintf(stdout, "\t%s\n", l)
				}
			}
		}
		for _, r := range rep.Rules {
			fmt.Fprintf(stdout, "rule %s/%s: %d of %d devices fail\n", r.Role, r.Rule, len(r.Failing), r.Checked)
		}
		fmt.Fprintf(stdout, "%d devices: %d comply, %d do not\n", len(rep.Devices), rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return 1
	}
	return 0
}

// byRule turns the per-device checks into per-rule counts, in the order
// the rules are first met.
func byRule(devices []comply.Device) []complyRule {
	var out []complyRule
	idx := map[[2]string]int{}
	for _, d := range devices {
		for _, c := range d.Checks {
			k := [2]string{c.Role, c.Rule}
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, complyRule{Role: c.Role, Rule: c.Rule, Failing: []string{}})
			}
			out[i].Checked++
			if !c.Pass {
				out[i].Failing = append(out[i].Failing, d.Hostname)
			}
		}
	}
	return out
}
