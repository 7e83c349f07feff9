package emulate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"netsmith/internal/netcfg"
)

// needEmulation skips a test only where it cannot run and CI is not
// set: CI installs FRR and runs as root, so there it must run.
func needEmulation(tb testing.TB) {
	tb.Helper()
	if err := Check(""); err != nil {
		if os.Getenv("CI") == "" {
			tb.Skipf("%v (CI runs this)", err)
		}
		tb.Fatal(err)
	}
}

// rootLinks lists the interface names of the machine's own namespace.
func rootLinks(tb testing.TB) []string {
	tb.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":"))
		}
	}
	return names
}

// assertNothingLeft checks that the run's namespaces, files, processes and
// links are gone.
func assertNothingLeft(t *testing.T, rep *Report, linksBefore []string, links []Link) {
	t.Helper()
	if len(rep.Namespaces) == 0 || rep.Dir == "" {
		t.Fatalf("report names no namespaces or dir: %v %q", rep.Namespaces, rep.Dir)
	}
	existing, err := existingNamespaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range rep.Namespaces {
		if existing[ns] {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	if _, err := os.Stat(rep.Dir); !os.IsNotExist(err) {
		t.Errorf("dir %s left behind (%v)", rep.Dir, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), rep.Dir) {
			t.Errorf("process %s left behind: %s", filepath.Dir(p), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	after := rootLinks(t)
	for _, l := range links {
		for _, port := range []string{l.APort, l.BPort} {
			if slices.Contains(after, port) && !slices.Contains(linksBefore, port) {
				t.Errorf("link %s left in the root namespace", port)
			}
		}
	}
}

func TestFabricConverges(t *testing.T) {
	needEmulation(t)
	_, links := fabric(2, 4)
	devs := readFabric(t, filepath.Join("testdata", "fabric"))
	before := rootLinks(t)
	rep, err := Run(context.Background(), Config{Devices: devs, Links: links, Timeout: time.Minute, Settle: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, rep, before, links)
	if !rep.Converged || !rep.OK() {
		t.Errorf("converged %t, ok %t: down %+v, unreachable %d, warnings %v", rep.Converged, rep.OK(), rep.Down(), rep.Unreachable, rep.Warnings)
	}
	if len(rep.Sessions) != 16 || rep.SessionsUp != 16 {
		t.Errorf("sessions %d, up %d; want 16 and 16", len(rep.Sessions), rep.SessionsUp)
	}
	if len(rep.Reach) != 30 {
		t.Errorf("%d pings; want 30 (6 loopbacks, each to the 5 others)", len(rep.Reach))
	}
	for _, d := range devs {
		var bgp []string
		for _, r := range rep.Routes[d.Hostname] {
			if r.Protocol == "bgp" {
				bgp = append(bgp, r.Prefix)
			}
		}
		if len(bgp) < 5 {
			t.Errorf("%s: BGP routes %v; want the 5 other loopbacks at least (table %+v)", d.Hostname, bgp, rep.Routes[d.Hostname])
		}
	}
	t.Logf("6 devices, 8 links: converged in %d ms, daemons' peak RSS %.1f MiB", rep.ConvergeMS, float64(rep.PeakRSS)/(1<<20))
}

// plant changes the config of host in devs by replacing old with new
// (new "" removes every line that holds old).
func plant(t *testing.T, devs []Device, host, old, new string) {
	t.Helper()
	for i := range devs {
		if devs[i].Hostname != host {
			continue
		}
		c := devs[i].Config
		if !strings.Contains(c, old) {
			t.Fatalf("%s: %q not in config", host, old)
		}
		if new == "" {
			var keep []string
			for line := range strings.SplitSeq(c, "\n") {
				if !strings.Contains(line, old) {
					keep = append(keep, line)
				}
			}
			devs[i].Config = strings.Join(keep, "\n")
		} else {
			devs[i].Config = strings.ReplaceAll(c, old, new)
		}
		return
	}
	t.Fatalf("no device %s", host)
}

func TestPlantedFaults(t *testing.T) {
	needEmulation(t)
	_, links := fabric(2, 4)
	devs := readFabric(t, filepath.Join("testdata", "fabric"))
	// leaf1 expects the wrong ASN of spine1 and has the wrong /31 towards
	// spine2, so it is cut off; leaf2 has no neighbor for spine2.
	plant(t, devs, "leaf1", "neighbor 10.254.0.0 remote-as 65001", "neighbor 10.254.0.0 remote-as 65009")
	plant(t, devs, "leaf1", "ip address 10.254.0.9/31", "ip address 10.254.0.19/31")
	plant(t, devs, "leaf2", "neighbor 10.254.0.10 ", "")
	before := rootLinks(t)
	rep, err := Run(context.Background(), Config{Devices: devs, Links: links, Timeout: time.Minute, Settle: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, rep, before, links)
	var down []string
	for _, s := range rep.Down() {
		down = append(down, s.Device+" "+s.Neighbor+" "+s.Peer)
		if s.State == "" || s.State == "Established" {
			t.Errorf("down session %+v has no state", s)
		}
	}
	want := []string{
		"leaf1 10.254.0.0 spine1",  // wrong remote-as
		"leaf1 10.254.0.8 spine2",  // wrong /31: the neighbor is not on a connected subnet
		"spine1 10.254.0.1 leaf1",  // leaf1 refuses spine1's ASN
		"spine2 10.254.0.11 leaf2", // leaf2 has no such neighbor
		"spine2 10.254.0.9 ",       // wrong /31: no device owns the address
	}
	if !slices.Equal(down, want) {
		t.Errorf("down sessions:\n%s\nwant:\n%s", strings.Join(down, "\n"), strings.Join(want, "\n"))
	}
	if len(rep.Sessions) != 15 || rep.SessionsUp != 10 {
		t.Errorf("sessions %d, up %d; want 15 and 10", len(rep.Sessions), rep.SessionsUp)
	}
	for _, s := range rep.Down() {
		if s.Device == "leaf1" && s.Neighbor == "10.254.0.0" && !strings.Contains(s.Notification, "Bad Peer AS") {
			t.Errorf("wrong remote-as session %+v: no Bad Peer AS notification", s)
		}
	}
	var unreachable []string
	for _, r := range rep.Reach {
		if !r.OK {
			unreachable = append(unreachable, r.From+">"+r.To)
		}
	}
	slices.Sort(unreachable)
	wantUnreach := []string{"leaf1>leaf2", "leaf1>leaf3", "leaf1>leaf4", "leaf1>spine1", "leaf1>spine2",
		"leaf2>leaf1", "leaf3>leaf1", "leaf4>leaf1", "spine1>leaf1", "spine2>leaf1"}
	if !slices.Equal(unreachable, wantUnreach) {
		t.Errorf("unreachable %v; want %v", unreachable, wantUnreach)
	}
	if rep.OK() {
		t.Error("report OK with planted faults")
	}
}

// TestCanceledRunCleansUp cancels a run once its daemons run, as Ctrl-C
// does, and checks it leaves nothing behind.
func TestCanceledRunCleansUp(t *testing.T) {
	needEmulation(t)
	devs, links := fabric(1, 2)
	before := rootLinks(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := Run(ctx, Config{Devices: devs, Links: links, afterStart: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want context.Canceled", err)
	}
	assertNothingLeft(t, rep, before, links)
}

func TestSkipsOtherPlatforms(t *testing.T) {
	rep := &Report{}
	nodes, err := prepare(Config{Devices: []Device{
		{Hostname: "eos1", Platform: netcfg.AristaEOS, Config: "hostname eos1\n"},
	}}, rep)
	if err != nil || len(nodes) != 0 {
		t.Fatalf("nodes %v, err %v", nodes, err)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Hostname != "eos1" || !strings.Contains(rep.Skipped[0].Reason, "only FRR") {
		t.Errorf("skipped %+v", rep.Skipped)
	}
}

func TestLinksFromFleet(t *testing.T) {
	up := func(port, peer, peerPort string) map[string]any {
		return map[string]any{"port": port, "peer": peer, "peer_port": peerPort}
	}
	devs := []netcfg.Device{
		{Hostname: "s1", Vars: map[string]any{"downlinks": []any{up("eth1", "l1", "eth1"), up("eth9", "outside", "x")}}},
		{Hostname: "l1", Vars: map[string]any{"uplinks": []any{up("eth1", "s1", "eth1"), up("eth2", "s2", "eth1")}}},
		{Hostname: "s2"},
	}
	got := LinksFromFleet(devs)
	want := []Link{{"s1", "eth1", "l1", "eth1"}, {"l1", "eth2", "s2", "eth1"}}
	if !slices.Equal(got, want) {
		t.Errorf("links %v; want %v", got, want)
	}
}

func TestUsableLinksRejectsBadPorts(t *testing.T) {
	nodes := []*node{{Device: Device{Hostname: "a"}}, {Device: Device{Hostname: "b"}}}
	for _, tc := range []struct {
		name  string
		links []Link
		err   string
	}{
		{"slash", []Link{{"a", "Ethernet1/1", "b", "eth1"}}, "not a Linux interface name"},
		{"port twice", []Link{{"a", "eth1", "b", "eth1"}, {"a", "eth1", "b", "eth2"}}, "also in link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := usableLinks(tc.links, nodes, &Report{})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err %v; want %q", err, tc.err)
			}
		})
	}
}

func BenchmarkFabric16(b *testing.B) {
	needEmulation(b)
	devs, links := fabric(4, 12)
	for b.Loop() {
		rep, err := Run(context.Background(), Config{Devices: devs, Links: links, Timeout: 2 * time.Minute, Settle: 3 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("16-device fabric: down %+v, unreachable %d", rep.Down(), rep.Unreachable)
		}
		b.ReportMetric(float64(rep.ConvergeMS), "converge-ms")
		b.ReportMetric(float64(rep.PeakRSS)/(1<<20), "peak-rss-MiB")
	}
}
