package generate_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports: the use case knows nothing of the admission gate, the
// upstream limiter (a decorator of its client) or fleet files.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{"netsmith/internal/adapt", "netsmith/internal/llm/limiter", "netsmith/internal/fleet"} {
		if slices.Contains(deps, banned) {
			t.Errorf("package generate depends on %s", banned)
		}
	}
}
