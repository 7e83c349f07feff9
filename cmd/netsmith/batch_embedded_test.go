package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBatchEmbeddedWithKeys: API keys on the database (one revoked) do not
// lock the embedded batch out, and it says which department it charges.
func TestBatchEmbeddedWithKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "b.db")
	for _, args := range [][]string{
		{"keys", "create", "--db", db, "--name", "alice", "--department", "neteng", "--role", "admin"},
		{"keys", "create", "--db", db, "--name", "bob", "--department", "lab"},
		{"keys", "revoke", "--db", db, "bob"},
	} {
		if code, out, errOut := cli(args...); code != 0 {
			t.Fatalf("%s: %d %q %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	fleetPath := filepath.Join("..", "..", "examples", "dc-fabric.yaml")
	for _, tt := range []struct {
		name, dept string
		args       []string
	}{
		{"default department", defaultDepartment, nil},
		{"named department", "neteng", []string{"--department", "neteng"}},
	} {
		out := filepath.Join(dir, tt.dept)
		args := append([]string{"batch", fleetPath, "--out", out, "--db", db, "--sim-latency", "1ms"}, tt.args...)
		code, stdout, stderr := cli(args...)
		if code != 0 {
			t.Fatalf("%s: batch with keys exited %d\nstdout:\n%s\nstderr:\n%s", tt.name, code, stdout, stderr)
		}
		if want := `charged to department "` + tt.dept + `"`; !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr does not say %s:\n%s", tt.name, want, stderr)
		}
		var sum Summary
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err == nil {
			err = json.Unmarshal(b, &sum)
		}
		if err != nil || sum.Files != 10 || len(sum.Failed) != 0 {
			t.Errorf("%s: summary %+v (%v); want 10 files, none failed", tt.name, sum, err)
		}
	}
	// Both batches were charged where they said.
	code, out, errOut := cli("cost", "--db", db, "--group-by", "department")
	if code != 0 || !strings.Contains(out, defaultDepartment) || !strings.Contains(out, "neteng") {
		t.Errorf("cost by department: %d %q %q; want default and neteng", code, out, errOut)
	}
}
