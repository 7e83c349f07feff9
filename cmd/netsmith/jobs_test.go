package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJobsCommand: `netsmith jobs` lists a server's jobs, a page at a time
// or all of them, and refuses a bad state with the server's reason.
func TestJobsCommand(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "j.db"), "--sim-latency", "1ms")
	ids := submitN(t, c, 5, "jobs-")
	waitAll(t, c, ids, 5*time.Minute)
	code, out, errOut := cli("jobs", "--server", c.BaseURL(), "--limit", "2")
	if code != 0 || strings.Count(out, "succeeded") != 2 || !strings.Contains(out, "more: --cursor ") {
		t.Errorf("jobs --limit 2: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = cli("jobs", "--server", c.BaseURL(), "--limit", "2", "--all", "--state", "succeeded")
	for _, id := range ids {
		if !strings.Contains(out, id) {
			t.Errorf("jobs --all lacks job %s", id)
		}
	}
	if code != 0 || strings.Contains(out, "more:") {
		t.Errorf("jobs --all: %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cli("jobs", "--server", c.BaseURL(), "--state", "done"); code != exitUsage || !strings.Contains(errOut, "state") {
		t.Errorf("jobs --state done: %d %q", code, errOut)
	}
}
