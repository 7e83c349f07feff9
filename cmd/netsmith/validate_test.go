package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"batch", file, "--out", out,
				"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--sim-latency", "20ms", "--poll-interval", "100ms"},
				noEnv, strings.NewReader(""), &stdout, &stderr)
			b, err := os.ReadFile(filepath.Join(out, "summary.json"))
			if err != nil {
				t.Fatalf("batch exited %d without a summary (%v)\nstderr:\n%s", code, err, stderr.String())
			}
			var sum Summary
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			if len(sum.Failed) != 0 {
				t.Errorf("%d of %d devices failed: %+v", len(sum.Failed), sum.Devices, sum.Failed)
			}
			if code != 0 || sum.Devices == 0 || sum.Succeeded != sum.Devices || sum.Files != sum.Devices {
				t.Errorf("batch exited %d, %d of %d devices succeeded, %d configs written\nstderr:\n%s",
					code, sum.Succeeded, sum.Devices, sum.Files, stderr.String())
			}
			if strings.Contains(stderr.String(), "warning:") {
				t.Errorf("a good fleet gave warnings:\n%s", stderr.String())
			}
		})
	}
}
