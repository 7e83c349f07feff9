package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/emulate"
	"netsmith/internal/fleet"
	"netsmith/internal/netcfg"
)

func TestEmulateHelpAndBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout, or in stderr when code is not 0
	}{
		{"help", []string{"emulate", "-h"}, 0, "Usage: netsmith emulate OUTDIR --fleet FILE"},
		{"no outdir", []string{"emulate", "--fleet", "x.yaml"}, exitUsage, "give OUTDIR and --fleet FILE"},
		{"no fleet", []string{"emulate", "out"}, exitUsage, "give OUTDIR and --fleet FILE"},
		{"missing fleet file", []string{"emulate", "out", "--fleet", filepath.Join(t.TempDir(), "none.yaml")}, exitUsage, "--fleet:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, noEnv, strings.NewReader(""), &stdout, &stderr)
			got := stdout.String()
			if tc.code != 0 {
				got = stderr.String()
			}
			if code != tc.code || !strings.Contains(got, tc.out) {
				t.Errorf("exit %d, output %q; want %d and %q", code, got, tc.code, tc.out)
			}
		})
	}
}

// emulateFabric copies internal/emulate/testdata/fabric to a temporary
// directory, with the fleet's platform one this build's fleet parser
// knows: frr once it is a platform, until then another (emulate goes by
// the configs, which are FRR).
func emulateFabric(t *testing.T) (dir, fleetPath string) {
	t.Helper()
	src := filepath.Join("..", "..", "internal", "emulate", "testdata", "fabric")
	dir = t.TempDir()
	paths, err := filepath.Glob(filepath.Join(src, "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files in %s: %v", src, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "fleet.yaml" {
			if _, err := netcfg.ParsePlatform("frr"); err != nil {
				b = bytes.ReplaceAll(b, []byte("platform: frr"), []byte("platform: cisco_ios"))
			}
			fleetPath = filepath.Join(t.TempDir(), "fleet.yaml")
			if err := os.WriteFile(fleetPath, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, fleetPath
}

func TestEmulateFabric(t *testing.T) {
	if err := emulate.Check(""); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%v (CI runs this)", err)
		}
		t.Fatal(err)
	}
	dir, fleetPath := emulateFabric(t)
	// A device the fleet has but the batch did not write is skipped.
	if err := os.Remove(filepath.Join(dir, "leaf4.cfg")); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"emulate", dir, "--fleet", fleetPath, "--json", "--timeout", "1m"}, noEnv, strings.NewReader(""), &stdout, &stderr)
	var rep emulate.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, stderr %s, stdout not JSON: %v", code, stderr.String(), err)
	}
	// Without leaf4 the spines' sessions to it stay down.
	if code != 1 || rep.Devices != 5 || len(rep.Sessions) != 14 || rep.SessionsUp != 12 || rep.Unreachable != 0 {
		t.Errorf("exit %d, devices %d, sessions %d up %d, unreachable %d; want 1, 5, 14, 12, 0 (stderr %s)",
			code, rep.Devices, len(rep.Sessions), rep.SessionsUp, rep.Unreachable, stderr.String())
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Hostname != "leaf4" {
		t.Errorf("skipped %+v; want leaf4", rep.Skipped)
	}
	for _, s := range rep.Down() {
		if s.Peer != "" {
			t.Errorf("down session %+v: its peer is not leaf4's address", s)
		}
	}
}

func TestEmulateBatchNeedsAllFRR(t *testing.T) {
	t.Parallel()
	out := filepath.Join("..", "..", "internal", "verify", "testdata", "eos-clean")
	yaml := "version: 1\ndefaults: {platform: arista_eos}\ngroups:\n  g: {role: leaf, requirements: routed leaf}\ndevices:\n" +
		"  - {hostname: spine1, group: g}\n  - {hostname: leaf1a, group: g}\n  - {hostname: leaf1b, group: g}\n"
	fl, err := fleet.Parse("fleet.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := emulateBatch(context.Background(), out, fl, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if want := "emulate: not run: spine1 is arista_eos, and only an all-FRR fleet is emulated"; !strings.Contains(stderr.String(), want) || stdout.Len() != 0 {
		t.Errorf("stderr %q, stdout %q; want %q", stderr.String(), stdout.String(), want)
	}
	// The command says what is missing: privilege and FRR, or FRR configs.
	fleetPath := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(fleetPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code := run(context.Background(), []string{"emulate", out, "--fleet", fleetPath}, noEnv, strings.NewReader(""), &stdout, &stderr)
	want := "holds no FRR config of the fleet's 3 devices"
	if emulate.Check("") != nil {
		want = "emulate needs root (or CAP_NET_ADMIN) and FRR (apt-get install frr): "
	}
	if code != exitUsage || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}
