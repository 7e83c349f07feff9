package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/fleet"
	"netsmith/internal/frrtest"
	"netsmith/internal/llm/sim"
	"netsmith/internal/prompt"
)

// TestBatchExamples batches the fabrics, the CSV campus and the NetBox
// branch embedded with the
// sim provider: no failures, no fallbacks, one call per intent, every
// variable used, verify clean, and every config exactly what sim writes for
// the device alone.
func TestBatchExamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"dc-fabric.yaml", "campus.csv", "netbox-branch.json", "frr-fabric.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, f, sum, stdout := batchExample(t, name)
			if len(sum.Failed) != 0 || sum.Fallbacks != 0 || sum.LLMCalls != int64(len(f.Intents)) {
				t.Errorf("summary: failed %v, %d fallbacks, %d calls; want none, none, %d (one per intent)",
					sum.Failed, sum.Fallbacks, sum.LLMCalls, len(f.Intents))
			}
			checkCoverage(t, f, out, &sum, stdout)
			checkNetwork(t, out, &sum)
			for _, r := range f.Devices {
				d, in := r.Device, r.Intent
				want := sim.Render(prompt.Spec{Task: prompt.TaskConfig, Platform: string(in.Platform), Role: in.Role,
					OSVersion: in.OSVersion, Requirements: in.Requirements, Constants: fleet.RedactSecrets(in.Constants),
					Hostname: d.Hostname, Vars: fleet.RedactSecrets(d.Vars)})
				got, err := os.ReadFile(filepath.Join(out, d.Hostname+".cfg"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(strings.TrimSpace(want), strings.TrimSpace(string(got))); diff != "" {
					t.Errorf("%s: batch config differs from sim's own (-sim +batch):\n%s", d.Hostname, diff)
				}
			}
		})
	}
}

// TestBatchFRRConfigsParse batches the FRR fabric and has FRR's own parser
// read every config it wrote, as vtysh -b would at boot.
func TestBatchFRRConfigsParse(t *testing.T) {
	t.Parallel()
	vtysh := frrtest.Vtysh(t)
	out, f, _, _ := batchExample(t, "frr-fabric.yaml")
	for _, r := range f.Devices {
		frrtest.Check(t, vtysh, filepath.Join(out, r.Device.Hostname+".cfg"))
	}
}

// varsHold reports whether any scalar value in vars is s.
func varsHold(vars any, s string) bool {
	switch x := vars.(type) {
	case map[string]any:
		for _, v := range x {
			if varsHold(v, s) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if varsHold(v, s) {
				return true
			}
		}
	case string:
		return x == s
	}
	return false
}

// batchExample runs `netsmith batch examples/NAME` embedded with the sim
// provider and returns the output directory, the parsed fleet, the summary
// and what the batch printed. It fails the test when the batch exits
// non-zero.
func batchExample(t *testing.T, name string, flags ...string) (string, *fleet.Fleet, Summary, string) {
	t.Helper()
	dir := t.TempDir()
	fleetPath := filepath.Join("..", "..", "examples", name)
	out := filepath.Join(dir, "out")
	args := append([]string{"batch", fleetPath, "--out", out,
		"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--poll-interval", "100ms"}, flags...)
	var stdout, stderr syncBuffer
	if code := run(context.Background(), args, noEnv, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("batch exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(fleetPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Parse(fleetPath, data)
	if err != nil {
		t.Fatal(err)
	}
	return out, f, readSummary(t, out), stdout.String()
}

// checkNetwork fails the test unless the batch in out (batchExample's)
// used every variable of every device, verify found no error across its
// configs, and its summary's calls and tokens are the ledger's.
func checkNetwork(t *testing.T, out string, sum *Summary) {
	t.Helper()
	checkLedger(t, "sqlite://"+filepath.Join(filepath.Dir(out), "b.db"), sum)
	if sum.Coverage.Missing != 0 {
		t.Errorf("coverage: %d of %d values unused, on %d devices: %+v", sum.Coverage.Missing, sum.Coverage.Checked,
			sum.Coverage.DevicesIncomplete, sum.Coverage.Devices)
	}
	if sum.Verify == nil {
		t.Fatal("summary has no verify section")
	}
	if sum.Verify.Errors != 0 {
		for _, f := range sum.Verify.Findings {
			t.Logf("verify: %+v", f)
		}
		t.Errorf("verify: %d errors, want none", sum.Verify.Errors)
	}
}
