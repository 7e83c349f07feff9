package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"netsmith/internal/netcfg"
)

// cancelOn is a stderr that cancels the run once it has been told want:
// an interrupt at a known point, with no timing involved.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// interruptedBatch runs an embedded batch of the dc-fabric fleet into out
// and interrupts it as soon as it is queued, as Ctrl-C would; the model
// takes an hour per call, so nothing finishes first. It returns the batch id.
func interruptedBatch(t *testing.T, db, out string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{want: "charged to department", cancel: cancel}
	var stdout bytes.Buffer
	code := run(ctx, []string{"batch", filepath.Join("..", "..", "examples", "dc-fabric.yaml"), "--out", out, "--db", db,
		"--sim-latency", "1h", "--concurrency", "1"}, noEnv, strings.NewReader(""), &stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, "interrupted with 0 of 10 devices done") || !strings.Contains(last, "--resume") {
		t.Fatalf("interrupted batch: exit %d, stderr:\n%s", code, stderr)
	}
	if n := strings.Count(stderr.String(), "context canceled"); n > 0 {
		t.Errorf("the interrupt printed %d context-canceled lines:\n%s", n, stderr)
	}
	st, err := readBatchState(out)
	if err != nil || st == nil || !st.Embedded {
		t.Fatalf("batch state after the interrupt: %+v, %v", st, err)
	}
	return st.Batch
}

// jobStates counts a database's jobs by batch and state.
func jobStates(t *testing.T, db string) map[string]map[netcfg.JobState]int {
	t.Helper()
	q, err := openMigrated(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rows, err := q.ReadConn().Query(t.Context(), `SELECT batch_id, state FROM netsmith_job`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[netcfg.JobState]int{}
	for rows.Next() {
		var b, s string
		if err := rows.Scan(&b, &s); err != nil {
			t.Fatal(err)
		}
		if out[b] == nil {
			out[b] = map[netcfg.JobState]int{}
		}
		out[b][netcfg.JobState(s)]++
	}
	return out
}

// TestBatchResume: --resume finishes the interrupted batch with its own
// jobs (no second batch); without it the next batch cancels the
// interrupted one's leftovers first, so they are never run twice.
func TestBatchResume(t *testing.T) {
	t.Parallel()
	fleetPath := filepath.Join("..", "..", "examples", "dc-fabric.yaml")
	for _, resume := range []bool{true, false} {
		dir := t.TempDir()
		db, out := "sqlite://"+filepath.Join(dir, "b.db"), filepath.Join(dir, "out")
		first := interruptedBatch(t, db, out)
		args := []string{"batch", fleetPath, "--out", out, "--db", db, "--sim-latency", "1ms"}
		if resume {
			args = append(args, "--resume")
		}
		code, stdout, stderr := cli(args...)
		if code != 0 {
			t.Fatalf("resume=%v: exit %d\n%s\n%s", resume, code, stdout, stderr)
		}
		sum := readSummary(t, out)
		states := jobStates(t, db)
		if st, err := readBatchState(out); st != nil || err != nil {
			t.Errorf("resume=%v: batch state left after a finished batch: %+v, %v", resume, st, err)
		}
		if sum.Files != 10 || len(sum.Failed) != 0 {
			t.Errorf("resume=%v: %d files, failed %v", resume, sum.Files, sum.Failed)
		}
		if resume {
			if sum.Batch != first || len(states) != 1 || states[first][netcfg.StateSucceeded] != 10 {
				t.Errorf("resume: summary of batch %s, jobs %v; want batch %s's 10 jobs succeeded and no other", sum.Batch, states, first)
			}
			continue
		}
		if sum.Batch == first || states[first][netcfg.StateCanceled] != 10 || states[sum.Batch][netcfg.StateSucceeded] != 10 ||
			!strings.Contains(stderr, "canceled 10 unfinished jobs of interrupted batch "+first) {
			t.Errorf("no resume: batch %s, jobs %v, stderr %q; want %s's 10 canceled and a new batch", sum.Batch, states, stderr, first)
		}
	}
	// A resume with nothing to resume, or of a changed fleet, is refused.
	dir := t.TempDir()
	if code, _, stderr := cli("batch", fleetPath, "--out", dir, "--resume", "--db", "sqlite://"+filepath.Join(dir, "x.db")); code != exitUsage || !strings.Contains(stderr, "no interrupted batch") {
		t.Errorf("--resume on a fresh --out: exit %d, %q", code, stderr)
	}
	if err := writeBatchState(dir, &batchState{Batch: "b1", Fleet: fleetPath, SHA256: "other"}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli("batch", fleetPath, "--out", dir, "--resume", "--db", "sqlite://"+filepath.Join(dir, "x.db")); code != exitUsage || !strings.Contains(stderr, "changed since batch b1") {
		t.Errorf("--resume of a changed fleet: exit %d, %q", code, stderr)
	}
}

// TestBatchReport: the summary names the model and each lint rule with its
// devices, progress and summary use the same cache words, --fail-on sets
// the exit code, and --prune removes the configs of departed devices.
func TestBatchReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, out := "sqlite://"+filepath.Join(dir, "b.db"), filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gone-sw1.cfg", "gone-sw1.diff"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte("hostname gone-sw1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fleetPath := filepath.Join("..", "..", "examples", "campus.csv")
	code, stdout, stderr := cli("batch", fleetPath, "--out", out, "--db", db, "--sim-latency", "1ms", "--fail-on", "info", "--prune")
	sum := readSummary(t, out)
	if sum.Model == "" {
		t.Error("summary.json has no model")
	}
	if len(sum.LintRules) == 0 || len(sum.LintRules[0].Devices) == 0 {
		t.Fatalf("summary.json lint_rules = %+v; want the sim configs' findings by rule", sum.LintRules)
	}
	if code != 1 || !strings.Contains(stderr, "--fail-on") || !strings.Contains(stderr, sum.LintRules[0].Rule) {
		t.Errorf("--fail-on info with findings: exit %d, stderr %q; want 1 naming the rules", code, stderr)
	}
	if !strings.Contains(stdout, sum.LintRules[0].Rule+" on ") || !strings.Contains(stdout, sum.LintRules[0].Devices[0]) {
		t.Errorf("summary does not list rule %s with its devices:\n%s", sum.LintRules[0].Rule, stdout)
	}
	words := cacheOutcomes(sum.LLMCalls, sum.CacheHits, sum.Coalesced, sum.Fallbacks)
	if !strings.Contains(stdout, words) || !strings.Contains(stderr, words) {
		t.Errorf("progress and summary do not both say %q:\nstdout:\n%s\nstderr:\n%s", words, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "gone-sw1.cfg")); !os.IsNotExist(err) || len(sum.Pruned) != 1 || sum.Pruned[0] != "gone-sw1" {
		t.Errorf("--prune: gone-sw1.cfg stat %v, pruned %v", err, sum.Pruned)
	}
	if _, err := os.Stat(filepath.Join(out, "gone-sw1.diff")); !os.IsNotExist(err) {
		t.Errorf("--prune left gone-sw1.diff: %v", err)
	}
	if code, _, stderr := cli("batch", fleetPath, "--out", out, "--db", db, "--fail-on", "critical"); code != 0 {
		t.Errorf("--fail-on critical without critical findings: exit %d, %q", code, stderr)
	}
	if code, _, _ := cli("batch", fleetPath, "--out", out, "--db", db, "--fail-on", "severe"); code != exitUsage {
		t.Errorf("--fail-on severe: exit %d, want %d", code, exitUsage)
	}
}
