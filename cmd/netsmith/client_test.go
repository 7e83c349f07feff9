package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestClientCommands drives submit, submit --wait, status and migrate
// through run(), against an in-process server.
func TestClientCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "c.db")
	c := startInProcess(t, "--db", db, "--sim-latency", "10ms", "--poll-interval", "100ms")
	server := c.BaseURL()

	code, out, errOut := cli("submit", "--server", server, "--hostname", "core1", "--platform", "arista_eos",
		"--role", "core", "--requirements", "core router, OSPF", "--vars", `{"mgmt_ip":"10.0.0.5/24"}`, "--wait")
	if code != 0 || !strings.Contains(out, "hostname core1") || !strings.Contains(out, "10.0.0.5") {
		t.Fatalf("submit --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Same intent as core1, so it can only hit the cache: stats stay at one miss.
	code, out, _ = cli("submit", "--server", server, "--hostname", "core2", "--platform", "arista_eos",
		"--role", "core", "--requirements", "core router, OSPF", "--vars", `{"mgmt_ip":"10.0.0.6/24"}`)
	id := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("submit: exit %d, printed %q; want a job id", code, out)
	}
	code, out, _ = cli("status", "--server", server, id)
	if code != 0 || !strings.Contains(out, "job       "+id) {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	code, _, errOut = cli("submit", "--server", server, "--hostname", "x/y", "--platform", "cisco_ios", "--requirements", "r")
	if code != exitUsage || !strings.Contains(errOut, "device.hostname") {
		t.Errorf("submit with a bad hostname: exit %d, %q; want 2 naming device.hostname", code, errOut)
	}
	code, out, _ = cli("cache", "stats", "--server", server)
	if code != 0 || !strings.Contains(out, `"misses": 1`) || !strings.Contains(out, `"coalesced"`) {
		t.Errorf("cache stats: exit %d\n%s", code, out)
	}
	code, out, _ = cli("cache", "invalidate", "--server", server, "--role", "core")
	if code != 0 || out != "invalidated 1 entries\n" {
		t.Errorf("cache invalidate --role core: exit %d, %q; want 1 entry", code, out)
	}
	if code, _, _ = cli("cache", "invalidate", "--server", server); code != exitUsage {
		t.Errorf("cache invalidate with no selector: exit %d, want %d", code, exitUsage)
	}
	code, out, _ = cli("migrate", "--db", db)
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("migrate on a migrated database: exit %d, %q", code, out)
	}
	code, out, _ = cli("migrate", "--db", "sqlite://"+filepath.Join(dir, "fresh.db"))
	if code != 0 || !strings.Contains(out, "applied 001_jobs") {
		t.Errorf("migrate on a new database: exit %d, %q", code, out)
	}
}

// cli runs the netsmith command line in this process and returns its exit
// code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var stdout, stderr syncBuffer // serve and batch log from their goroutines
	code := run(context.Background(), args, noEnv, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}
