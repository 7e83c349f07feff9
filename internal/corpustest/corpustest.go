// Package corpustest finds the shared corpus of real device configs
// (../shared/corpus beside the repository) for tests. A test whose corpus is
// absent skips with a clear message, unless CI=true, where it fails: CI
// always has the corpus, so a skip there would hide a broken test.
package corpustest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus directory, or skips (fails in CI) when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("corpus missing at %s (required when CI=true): %v", c, err)
		}
		tb.Skipf("corpus not found at %s; skipping (it is required when CI=true)", c)
	}
	return c
}
