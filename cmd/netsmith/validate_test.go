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
)

// TestBatchGoodFleets batches every internal/fleet/testdata/good-*.yaml end
// to end (embedded, sim provider): a file the fleet checks accept must not
// fail one job, because fleet files and jobs share one value checker
// (netcfg.CheckVars). New good-*.yaml files are covered by the glob.
func TestBatchGoodFleets(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "fleet", "testdata", "good-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d good-*.yaml files, want at least good-values.yaml and good-inventory.yaml", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			code, sum, stderr := batchFile(t, file)
			if len(sum.Failed) != 0 {
				t.Errorf("%d of %d devices failed: %+v", len(sum.Failed), sum.Devices, sum.Failed)
			}
			if code != 0 || sum.Devices == 0 || sum.Succeeded != sum.Devices || sum.Files != sum.Devices {
				t.Errorf("batch exited %d, %d of %d devices succeeded, %d configs written\nstderr:\n%s",
					code, sum.Succeeded, sum.Devices, sum.Files, stderr)
			}
			if strings.Contains(stderr, "warning:") || len(sum.Warnings) > 0 {
				t.Errorf("a good fleet gave warnings: %q\nstderr:\n%s", sum.Warnings, stderr)
			}
		})
	}
}

// TestBatchMisspelledVar: a misspelled well-known var name does not stop
// the batch; the warning names its line, column and the likely name, on
// stderr and in summary.json.
func TestBatchMisspelledVar(t *testing.T) {
	t.Parallel()
	code, sum, stderr := batchFile(t, filepath.Join("..", "..", "internal", "fleet", "testdata", "warn", "misspelled-var.yaml"))
	if code != 0 || len(sum.Failed) != 0 {
		t.Fatalf("batch exited %d, failed %+v\nstderr:\n%s", code, sum.Failed, stderr)
	}
	want := `misspelled-var.yaml:15:7: sw1: vars.mgmt_gatway: unknown var "mgmt_gatway" (did you mean "mgmt_gateway"?)`
	if !slices.ContainsFunc(sum.Warnings, func(w string) bool { return strings.HasSuffix(w, want) }) {
		t.Errorf("summary warnings %q lack %q", sum.Warnings, want)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

// batchFile runs an embedded batch of file and returns its exit code, its
// summary.json and its stderr.
func batchFile(t *testing.T, file string) (int, Summary, string) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"batch", file, "--out", out,
		"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--sim-latency", "20ms", "--poll-interval", "100ms"},
		noEnv, strings.NewReader(""), &stdout, &stderr)
	var sum Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatalf("batch exited %d without a summary (%v)\nstderr:\n%s", code, err, stderr.String())
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return code, sum, stderr.String()
}
