package httpapi_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports: the HTTP edge talks to the interfaces it declares over the
// domain's types (package netcfg), never to the database package; the
// wiring (package app) hands it a *store.DB.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if imports := strings.Fields(string(out)); slices.Contains(imports, "netsmith/internal/store") {
		t.Errorf("package httpapi imports netsmith/internal/store: %v", imports)
	}
}
