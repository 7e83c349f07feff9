// Package golden compares a test's output with a file kept in testdata,
// or rewrites that file when the test runs with its package's -update
// flag. Each package keeps its own flag (go test registers test flags per
// package), and passes its value in.
package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Check fails t when the file at path does not hold got; with update it
// writes got there instead (creating the directory) and passes.
func Check(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; if intended, run go test with -update):\n%s", path, diff)
	}
}
