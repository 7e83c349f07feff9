package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBatchOutHostile: a symlink named like a config in --out is neither
// followed nor replaced, and a device whose config cannot be written (a
// directory in its place) fails alone: the others are written, summary.json
// lists both failures with their reasons, and the batch exits 1.
func TestBatchOutHostile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(out, "fab1-leaf2.cfg", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(out, "fab1-spine1.cfg")); err != nil {
		t.Fatal(err)
	}
	args := []string{"batch", filepath.Join("..", "..", "examples", "frr-fabric.yaml"), "--out", out,
		"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--poll-interval", "100ms"}
	var stdout, stderr syncBuffer
	if code := run(context.Background(), args, noEnv, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("batch exited %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "precious\n" {
		t.Errorf("symlink target = %q, %v; want it untouched", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(out, "fab1-spine1.cfg")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("fab1-spine1.cfg: %v, %v; want the symlink left as it was", fi, err)
	}
	sum := readSummary(t, out)
	reasons := map[string]string{}
	for _, f := range sum.Failed {
		reasons[f.Hostname] = f.Reason
	}
	for host, want := range map[string]string{"fab1-spine1": "symbolic link", "fab1-leaf2": "not a regular file"} {
		if !strings.Contains(reasons[host], want) {
			t.Errorf("summary: %s failed with %q, want a reason with %q", host, reasons[host], want)
		}
	}
	if len(sum.Failed) != 2 || sum.Files != sum.Devices-2 {
		t.Errorf("summary: %d files of %d devices, failed %v; want all but the 2 written", sum.Files, sum.Devices, sum.Failed)
	}
	for _, host := range []string{"fab1-spine2", "fab1-leaf1", "fab1-leaf3", "fab1-leaf4"} {
		if b, err := os.ReadFile(filepath.Join(out, host+".cfg")); err != nil || !strings.Contains(string(b), host) {
			t.Errorf("%s.cfg: %v; want its config", host, err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(out, ".netsmith-*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left in --out: %v", tmps)
	}
}

func TestWriteOutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := writeOutFile(dir, "a.cfg", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := writeOutFile(dir, "a.cfg", []byte("two")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "a.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.cfg")); string(b) != "two" || fi.Mode().Perm() != 0o644 {
		t.Errorf("a.cfg = %q, mode %v; want the second write, 0644", b, fi.Mode().Perm())
	}
	if err := os.Symlink("a.cfg", filepath.Join(dir, "b.cfg")); err != nil {
		t.Fatal(err)
	}
	if err := writeOutFile(dir, "b.cfg", []byte("three")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("write over a symlink = %v, want refused", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.cfg")); string(b) != "two" {
		t.Errorf("symlink target = %q after a refused write, want unchanged", b)
	}
}

// TestBatchTemplateAsConfig: when an intent's template is refused and the
// model answers its devices' config prompts with a template too, those
// devices fail with the reason and get no file; the rest are written, the
// summary lists the failures, and the batch exits 1.
func TestBatchTemplateAsConfig(t *testing.T) {
	t.Parallel()
	b := rejectingBatch(t, templateAsConfigMarker)
	if b.code != 1 {
		t.Fatalf("batch exited %d, want 1\nstdout:\n%s\nstderr:\n%s", b.code, b.stdout, b.stderr)
	}
	sum := readSummary(t, b.out)
	failed := map[string]string{}
	for _, f := range sum.Failed {
		failed[f.Hostname] = f.Reason
	}
	for _, host := range []string{"dist1", "dist2", "dist3"} {
		if !strings.Contains(failed[host], "template actions in a device config") {
			t.Errorf("%s failed with %q, want the template-text reason", host, failed[host])
		}
		if _, err := os.Stat(filepath.Join(b.out, host+".cfg")); !os.IsNotExist(err) {
			t.Errorf("%s.cfg: %v; want no file", host, err)
		}
	}
	for _, host := range []string{"acc1", "acc2", "acc3"} {
		text, err := os.ReadFile(filepath.Join(b.out, host+".cfg"))
		if err != nil || strings.Contains(string(text), "{{") {
			t.Errorf("%s.cfg: %v; want its config", host, err)
		}
	}
	if len(sum.Failed) != 3 {
		t.Errorf("summary: failed %v, want the 3 dist devices", sum.Failed)
	}
	// One template call for acc, two refused for dist, then one config
	// call per dist device: a template answer is not tried again.
	if n := b.calls.Load(); n != 1+2+3 {
		t.Errorf("upstream answered %d calls, want 6", n)
	}
}

// TestBatchSummaryDespiteVerifyError: when the checks after the configs are
// written fail (here verify, on a config with a NUL byte), summary.json is
// still written, with the error among its warnings, and the batch exits 1.
func TestBatchSummaryDespiteVerifyError(t *testing.T) {
	t.Parallel()
	b := rejectingBatch(t, nulConfigMarker)
	if b.code != 1 || !strings.Contains(b.stderr, "verify") {
		t.Fatalf("batch exited %d, want 1 with the verify error\nstdout:\n%s\nstderr:\n%s", b.code, b.stdout, b.stderr)
	}
	sum := readSummary(t, b.out)
	if sum.Files != 6 || !strings.Contains(strings.Join(sum.Warnings, "\n"), "verify") {
		t.Errorf("summary: %d files, warnings %q; want all 6 and the verify error", sum.Files, sum.Warnings)
	}
}

// markedBatch is what rejectingBatch ran.
type markedBatch struct {
	out, stdout, stderr string
	code                int
	calls               *atomic.Int64
}

// rejectingBatch runs rejectingFleet, with marker added to the refused
// intent's requirements, embedded against hardCodingUpstream.
func rejectingBatch(t *testing.T, marker string) markedBatch {
	t.Helper()
	b := markedBatch{calls: new(atomic.Int64)}
	up := hardCodingUpstream(t, b.calls)
	dir := t.TempDir()
	fleetPath := filepath.Join(dir, "fleet.yaml")
	fleetYAML := strings.Replace(rejectingFleet, hardCodeMarker, hardCodeMarker+" "+marker, 1)
	if err := os.WriteFile(fleetPath, []byte(fleetYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	b.out = filepath.Join(dir, "out")
	env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": up.URL}
	var stdout, stderr syncBuffer
	b.code = run(context.Background(), []string{"batch", fleetPath, "--out", b.out, "--db", "sqlite://" + filepath.Join(dir, "b.db"),
		"--poll-interval", "100ms"}, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	b.stdout, b.stderr = stdout.String(), stderr.String()
	return b
}
