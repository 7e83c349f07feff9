package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/verify"
)

// runVerifyJSON runs "netsmith verify DIR --fleet FLEET --json" in-process.
func runVerifyJSON(t *testing.T, dir, fleetPath string) (*verify.Report, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", dir, "--fleet", fleetPath, "--json"}, noEnv, strings.NewReader(""), &stdout, &stderr)
	if code == exitUsage {
		t.Fatalf("verify exited 2: %s", stderr.String())
	}
	var rep verify.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, stdout.String())
	}
	return &rep, code
}

// editFile replaces the first occurrence of old in path, which must hold it.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyFabric is issue 17's done-check: the dc-fabric batch output
// verifies clean, and with one point-to-point address deleted and one
// remote-as changed makes verify exit 1 with new errors that name both
// devices.
func TestVerifyFabric(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fleetPath := filepath.Join("..", "..", "examples", "dc-fabric.yaml")
	out := filepath.Join(dir, "out")
	var stdout, stderr syncBuffer // batch logs from the queue's goroutines
	code := run(context.Background(), []string{"batch", fleetPath, "--out", out,
		"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--sim-latency", "20ms", "--poll-interval", "100ms"},
		noEnv, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("batch exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	base, baseCode := runVerifyJSON(t, out, fleetPath)
	if sum.Verify == nil || sum.Verify.Errors != base.Errors || sum.Verify.Warnings != base.Warnings {
		t.Fatalf("summary.json verify = %+v, want the %d errors and %d warnings netsmith verify reports", sum.Verify, base.Errors, base.Warnings)
	}
	if base.Errors != 0 || baseCode != 0 {
		t.Fatalf("the fabric's configs: verify exited %d with %d errors: %+v", baseCode, base.Errors, base.Findings)
	}
	if want := "verify: 0 errors"; !strings.Contains(stdout.String(), want) {
		t.Errorf("batch output lacks a %q line:\n%s", want, stdout.String())
	}

	editFile(t, filepath.Join(out, "dc1-leaf1a.cfg"), "   ip address 10.255.255.1/31\n", "")
	editFile(t, filepath.Join(out, "dc1-leaf2a.cfg"), "neighbor 10.255.255.8 remote-as 65100", "neighbor 10.255.255.8 remote-as 65999")
	rep, code := runVerifyJSON(t, out, fleetPath)
	if code != 1 {
		t.Fatalf("verify of the edited configs exited %d, want 1", code)
	}
	seen := map[verify.Finding]bool{}
	for _, f := range base.Findings {
		seen[f] = true
	}
	named := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Severity == verify.Error && !seen[f] {
			named[f.Device] = append(named[f.Device], f.Check)
			named[f.Peer] = append(named[f.Peer], f.Check)
		}
	}
	for _, host := range []string{"dc1-leaf1a", "dc1-leaf2a"} {
		if len(named[host]) == 0 {
			t.Errorf("no new error names %s; new errors by device: %v", host, named)
		}
	}
	if !slices.Contains(named["dc1-leaf2a"], "bgp-remote-as-mismatch") {
		t.Errorf("dc1-leaf2a's changed remote-as is not a bgp-remote-as-mismatch: %v", named["dc1-leaf2a"])
	}
}

func TestVerifyExitCodes(t *testing.T) {
	t.Parallel()
	clean := filepath.Join("..", "..", "internal", "verify", "testdata", "eos-clean")
	broken := filepath.Join("..", "..", "internal", "verify", "testdata", "eos-broken")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout, or stderr for code 2
	}{
		{"clean", []string{clean}, 0, "verify: 3 configs, 0 errors, 0 warnings"},
		{"errors", []string{broken}, 1, "leaf1b:\n  error"},
		{"missing dir", []string{filepath.Join(t.TempDir(), "nope")}, 2, "no such file"},
		{"unreadable fleet", []string{clean, "--fleet", filepath.Join(t.TempDir(), "nope.yaml")}, 2, "--fleet"},
		{"no dir", nil, 2, "give one DIR"},
		{"empty dir", []string{t.TempDir()}, 2, "no *.cfg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"verify"}, tc.args...), noEnv, strings.NewReader(""), &stdout, &stderr)
			out := stdout.String()
			if tc.code == exitUsage {
				out = stderr.String()
			}
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d with %q in:\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, stdout.String(), stderr.String())
			}
		})
	}
}

// TestBatchVerifyFlag: --verify=false leaves the checks out of the batch;
// with them, a verify error makes the batch exit 1 (the fleet gives leaf1a
// an address its uplink's far end does not share).
func TestBatchVerifyFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "dc-fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "ip: 10.255.255.1/31", "ip: 10.255.255.9/31", 1)
	if broken == string(data) {
		t.Fatal("the fabric no longer gives leaf1a 10.255.255.1/31")
	}
	fleetPath := filepath.Join(dir, "fabric.yaml")
	if err := os.WriteFile(fleetPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		code int
	}{{"--verify=false", 0}, {"--verify=true", 1}} {
		out := filepath.Join(dir, tc.flag)
		var stdout, stderr syncBuffer
		code := run(context.Background(), []string{"batch", fleetPath, "--out", out, tc.flag,
			"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--sim-latency", "1ms", "--poll-interval", "100ms"},
			noEnv, strings.NewReader(""), &stdout, &stderr)
		sum := readSummary(t, out)
		if code != tc.code || (sum.Verify == nil) != (tc.code == 0) {
			t.Errorf("batch %s: exit %d, verify %+v; want exit %d\nstderr: %s", tc.flag, code, sum.Verify, tc.code, stderr.String())
		}
		if tc.code == 1 && !strings.Contains(stderr.String(), "verify found") {
			t.Errorf("batch %s: stderr lacks the verify error:\n%s", tc.flag, stderr.String())
		}
	}
}
