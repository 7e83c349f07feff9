package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph holds the dependency rules of docs/design.md §9 for the
// packages this one wires together. A banned entry ending in "/" is a
// prefix; direct rules read the package's own imports, the others every
// package it depends on.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	const p = "netsmith/internal/"
	for _, r := range []struct {
		pkg, why string
		direct   bool
		banned   []string
	}{
		{p + "netcfg", "the domain imports no project package", false, []string{"netsmith/"}},
		{p + "httpapi", "the HTTP edge uses the interfaces it declares, over netcfg's types", true, []string{p + "store"}},
		{p + "queue", "money and the work are registered by the application", false,
			[]string{p + "ledger", p + "generate", p + "submit", p + "httpapi"}},
		{p + "generate", "the use case knows nothing of the admission gate, the upstream limiter (a decorator of its client) or fleet files",
			false, []string{p + "adapt", p + "llm/limiter", p + "fleet"}},
	} {
		args := []string{"list", "-deps", r.pkg}
		if r.direct {
			args = []string{"list", "-f", `{{join .Imports "\n"}}`, r.pkg}
		}
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range r.banned {
				if dep != r.pkg && (dep == b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) {
					t.Errorf("%s depends on %s: %s", r.pkg, dep, r.why)
				}
			}
		}
	}
}
