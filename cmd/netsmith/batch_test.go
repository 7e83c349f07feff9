package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"netsmith/internal/fleet"
	"netsmith/internal/httpapi"
)

// TestBatchCampus is the README's main job: the campus example, embedded,
// sim provider. One model call per intent, and every config holds its own
// hostname, management address and uplink peers, and no other device's.
func TestBatchCampus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fleetPath := filepath.Join("..", "..", "examples", "campus.yaml")
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"batch", fleetPath, "--out", out,
		"--db", "sqlite://" + filepath.Join(dir, "b.db"), "--sim-latency", "20ms", "--poll-interval", "100ms"},
		noEnv, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("batch exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(fleetPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Parse(fleetPath, data)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Devices != len(f.Devices) || sum.Files != len(f.Devices) || len(sum.Failed) != 0 {
		t.Fatalf("summary: %d devices, %d files, failed %v; want %d, all written", sum.Devices, sum.Files, sum.Failed, len(f.Devices))
	}
	if sum.LLMCalls != int64(len(f.Intents)) || sum.Intents != len(f.Intents) {
		t.Errorf("summary: %d LLM calls for %d intents; want one call per intent", sum.LLMCalls, len(f.Intents))
	}
	if sum.CacheHits+sum.Coalesced != int64(len(f.Devices)-len(f.Intents)) {
		t.Errorf("summary: %d hits + %d coalesced, want %d", sum.CacheHits, sum.Coalesced, len(f.Devices)-len(f.Intents))
	}

	hostRE := regexp.MustCompile(`[a-z0-9]+(?:-[a-z0-9]+)+`)
	addrRE := regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`)
	hosts := map[string]bool{}
	mgmt := map[string]string{} // address -> hostname
	for _, d := range f.Devices {
		hosts[d.Device.Hostname] = true
		if p, err := netip.ParsePrefix(str(d.Device.Vars["mgmt_ip"])); err == nil {
			mgmt[p.Addr().String()] = d.Device.Hostname
		}
	}
	for _, d := range f.Devices {
		dev := d.Device
		cfgText, err := os.ReadFile(filepath.Join(out, dev.Hostname+".cfg"))
		if err != nil {
			t.Fatal(err)
		}
		text := string(cfgText)
		if !strings.Contains(text, dev.Hostname) {
			t.Errorf("%s: config lacks its own hostname", dev.Hostname)
		}
		if p, err := netip.ParsePrefix(str(dev.Vars["mgmt_ip"])); err == nil && !strings.Contains(text, p.Addr().String()) {
			t.Errorf("%s: config lacks its management address %s", dev.Hostname, p.Addr())
		}
		allowed := map[string]bool{dev.Hostname: true}
		for _, u := range list(dev.Vars["uplinks"]) {
			peer := str(u["peer"])
			allowed[peer] = true
			if peer != "" && !strings.Contains(text, peer) {
				t.Errorf("%s: config lacks uplink peer %s", dev.Hostname, peer)
			}
		}
		for _, l := range []string{"downlinks", "mlag_peers"} {
			for _, u := range list(dev.Vars[l]) {
				allowed[str(u["peer"])] = true
			}
		}
		if peer := str(dev.Vars["mlag_peer"]); peer != "" {
			allowed[peer] = true
		}
		for _, w := range hostRE.FindAllString(text, -1) {
			if hosts[w] && !allowed[w] {
				t.Errorf("%s: config names another device, %s, which is not its peer", dev.Hostname, w)
			}
		}
		// One pass over the config's addresses, not one regexp per other
		// device: 284 × 284 of those took minutes under -race on a busy
		// machine.
		for _, addr := range addrRE.FindAllString(text, -1) {
			if owner, ok := mgmt[addr]; ok && owner != dev.Hostname {
				t.Errorf("%s: config holds %s's management address %s", dev.Hostname, owner, addr)
			}
		}
	}
}

// TestBatchBadFleet: a fleet with errors exits 2 naming them and queues
// nothing.
func TestBatchBadFleet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`version: 1
devices:
  - hostname: sw1
    role: access
    platform: cisco_asa
    requirements: x
  - hostname: sw1
    role: access
    platform: cisco_ios
    requirements: x
    vars: {vlans: [5000]}
`), 0o644)
	db := filepath.Join(dir, "b.db")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"batch", bad, "--out", filepath.Join(dir, "out"), "--db", "sqlite://" + db},
		noEnv, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
	}
	for _, want := range []string{"bad.yaml:5", "cisco_asa", "bad.yaml:7", "duplicate", "vlans", "5000", "nothing was queued"} {
		if !strings.Contains(strings.ToLower(stderr.String()), strings.ToLower(want)) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created (%v): the fleet should be refused before anything opens", err)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestCollectorFindsMissedResults: a device whose result committed after
// the collector's cursor had passed its finish time is still written: the
// final pass sees devices unaccounted for and reads the whole batch.
func TestCollectorFindsMissedResults(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "c.db"), "--sim-latency", "1ms")
	ctx := t.Context()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "campus.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SubmitFleet(ctx, httpapi.SubmitOptions{Name: "campus.csv"}, data)
	if err != nil {
		t.Fatal(err)
	}
	var progressOut bytes.Buffer
	final, err := followBatch(ctx, c, b.ID, time.Now(), time.Hour, false, &progressOut,
		func(context.Context, *httpapi.BatchView) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	col, err := newCollector(c, b.ID, out)
	if err != nil {
		t.Fatal(err)
	}
	// As if every result had committed after a pull that moved the cursor
	// to the batch's end.
	col.since = time.Now().Add(time.Hour)
	sum, err := col.finish(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.cfg"))
	if sum.Files != b.Devices || len(files) != b.Devices || sum.Succeeded != b.Devices || len(sum.Failed) != 0 {
		t.Errorf("%d files (%d on disk), %d succeeded, failed %v; want all %d", sum.Files, len(files), sum.Succeeded, sum.Failed, b.Devices)
	}
}
