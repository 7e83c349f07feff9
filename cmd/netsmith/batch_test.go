package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"netsmith/internal/coverage"
	"netsmith/internal/fleet"
	"netsmith/internal/httpapi"
)

// TestBatchCampus is the README's main job: the campus example, embedded,
// sim provider. One model call per intent, and every config holds its own
// hostname, management address and uplink peers, and no other device's.
func TestBatchCampus(t *testing.T) {
	t.Parallel()
	out, f, sum, stdout := batchExample(t, "campus.yaml", "--sim-latency", "20ms")
	if sum.Devices != len(f.Devices) || sum.Files != len(f.Devices) || len(sum.Failed) != 0 {
		t.Fatalf("summary: %d devices, %d files, failed %v; want %d, all written", sum.Devices, sum.Files, sum.Failed, len(f.Devices))
	}
	if sum.LLMCalls != int64(len(f.Intents)) || sum.Intents != len(f.Intents) {
		t.Errorf("summary: %d LLM calls for %d intents; want one call per intent", sum.LLMCalls, len(f.Intents))
	}
	if sum.CacheHits+sum.Coalesced != int64(len(f.Devices)-len(f.Intents)) {
		t.Errorf("summary: %d hits + %d coalesced, want %d", sum.CacheHits, sum.Coalesced, len(f.Devices)-len(f.Intents))
	}

	checkCoverage(t, f, out, &sum, stdout)
	checkNetwork(t, out, &sum)

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
		for _, k := range []string{"mlag_peer", "vpc_peer"} {
			if peer := str(dev.Vars[k]); peer != "" {
				allowed[peer] = true
			}
		}
		for _, w := range hostRE.FindAllString(text, -1) {
			if hosts[w] && !allowed[w] {
				t.Errorf("%s: config names another device, %s, which is not its peer", dev.Hostname, w)
			}
		}
		// One pass over the config's addresses, not one regexp per other
		// device: 284 × 284 of those took minutes under -race on a busy
		// machine. A peer's address the device's own vars give (a vPC
		// keepalive destination) belongs in its config.
		for _, addr := range addrRE.FindAllString(text, -1) {
			if owner, ok := mgmt[addr]; ok && owner != dev.Hostname && !varsHold(dev.Vars, addr) {
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
	var stdout, stderr syncBuffer
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

// checkCoverage recounts the variable coverage of a batch's configs from
// the fleet and the files, and compares it with the summary's.
func checkCoverage(t *testing.T, f *fleet.Fleet, out string, sum *Summary, stdout string) {
	t.Helper()
	var want batchCoverage
	for _, d := range f.Devices {
		dev := d.Device
		text, err := os.ReadFile(filepath.Join(out, dev.Hostname+".cfg"))
		if err != nil {
			t.Fatal(err)
		}
		vars := maps.Clone(dev.Vars)
		vars["hostname"] = dev.Hostname
		if dev.Site != "" {
			vars["site"] = dev.Site
		}
		rep := coverage.Check(dev.Platform, vars, string(text))
		want.add(dev.Hostname, rep.Checked, rep.Missing)
	}
	got := sum.Coverage
	if got.Checked == 0 || got.Checked != want.Checked || got.Missing != want.Missing || got.DevicesIncomplete != want.DevicesIncomplete {
		t.Errorf("summary coverage: %d checked, %d missing, %d devices incomplete; the configs have %d, %d, %d",
			got.Checked, got.Missing, got.DevicesIncomplete, want.Checked, want.Missing, want.DevicesIncomplete)
	}
	if len(got.Devices) != len(want.Devices) || len(got.Devices) > 0 && got.Devices[0].Hostname != want.Devices[0].Hostname {
		t.Errorf("summary lists %d incomplete devices, want the first %d by hostname", len(got.Devices), len(want.Devices))
	}
	if !strings.Contains(stdout, fmt.Sprintf("variable coverage: %d of %d values used", got.Checked-got.Missing, got.Checked)) {
		t.Errorf("printed summary lacks the coverage line:\n%s", stdout)
	}
}

// TestBatchCoverageBounded: the summary lists at most maxIncompleteListed
// devices, the first by hostname whatever the order results come in, each
// with at most maxUnusedListed paths.
func TestBatchCoverageBounded(t *testing.T) {
	t.Parallel()
	var c batchCoverage
	unused := make([]coverage.Missing, maxUnusedListed+3)
	for i := range unused {
		unused[i] = coverage.Missing{Path: fmt.Sprintf("v%d", i), Name: "v"}
	}
	unused[0].Suggest = "vlan"
	for i := 2*maxIncompleteListed - 1; i >= 0; i-- {
		c.add(fmt.Sprintf("sw%03d", i), 20, unused)
		c.add(fmt.Sprintf("ok%03d", i), 20, nil)
	}
	if c.Checked != 4*maxIncompleteListed*20 || c.Missing != 2*maxIncompleteListed*len(unused) || c.DevicesIncomplete != 2*maxIncompleteListed {
		t.Errorf("counts %d/%d/%d", c.Checked, c.Missing, c.DevicesIncomplete)
	}
	if len(c.Devices) != maxIncompleteListed || c.Devices[0].Hostname != "sw000" || c.Devices[maxIncompleteListed-1].Hostname != fmt.Sprintf("sw%03d", maxIncompleteListed-1) {
		t.Fatalf("listed %d devices, %s to %s", len(c.Devices), c.Devices[0].Hostname, c.Devices[len(c.Devices)-1].Hostname)
	}
	d := c.Devices[0]
	if len(d.Unused) != maxUnusedListed || d.More != 3 || d.Unused[0] != "v0 (did you mean vlan?)" {
		t.Errorf("device entry %+v", d)
	}
}
