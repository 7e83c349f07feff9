package queue_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports: the queue is River and the job lifecycle; money (package
// ledger) and the work itself (package generate) are registered by the
// application, so the queue depends on neither.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{"netsmith/internal/ledger", "netsmith/internal/generate", "netsmith/internal/submit", "netsmith/internal/httpapi"} {
		if slices.Contains(deps, banned) {
			t.Errorf("package queue depends on %s", banned)
		}
	}
}
