package netcfg_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: the domain imports no other netsmith package (docs/style.md),
// so every package may use its types.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "netsmith/") && dep != "netsmith/internal/netcfg" {
			t.Errorf("package netcfg depends on %s", dep)
		}
	}
}
