package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/fleet"
)

// TestExamplesUpToDate fails when a committed example differs from what the
// generator writes: run `go run ./examples/gen -dir examples` and commit.
func TestExamplesUpToDate(t *testing.T) {
	t.Parallel()
	for name, want := range files() {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Errorf("%v (run go run ./examples/gen -dir examples)", err)
			continue
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("examples/%s is stale (-generated +committed); run go run ./examples/gen -dir examples:\n%s", name, diff)
		}
	}
}

// TestLinksAgree checks the generated topology: every link to another
// device of the same fleet is listed at both ends with matching ports, and
// routed links have both ends in one subnet.
func TestLinksAgree(t *testing.T) {
	t.Parallel()
	for name, text := range files() {
		fl, err := fleet.Parse(name, []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		links := map[string][]map[string]any{}
		for _, d := range fl.Devices {
			for _, key := range []string{"uplinks", "downlinks", "external_peers"} {
				list, _ := d.Device.Vars[key].([]any)
				for _, l := range list {
					links[d.Device.Hostname] = append(links[d.Device.Hostname], l.(map[string]any))
				}
			}
		}
		checked := 0
		for host, ls := range links {
			for _, l := range ls {
				peer, _ := l["peer"].(string)
				back, ok := links[peer]
				if !ok {
					continue // not in this fleet: an ISP, or the campus WAN seen from the fabric
				}
				var match map[string]any
				for _, b := range back {
					if b["peer"] == host && b["port"] == l["peer_port"] {
						match = b
					}
				}
				if match == nil {
					t.Errorf("%s: %s %v -> %s %v has no link back", name, host, l["port"], peer, l["peer_port"])
					continue
				}
				if match["peer_port"] != l["port"] {
					t.Errorf("%s: %s %v -> %s: the far end names port %v", name, host, l["port"], peer, match["peer_port"])
				}
				a, _ := l["ip"].(string)
				b, _ := match["ip"].(string)
				if (a == "") != (b == "") {
					t.Errorf("%s: %s %v -> %s: only one end is routed", name, host, l["port"], peer)
				} else if a != "" {
					pa, pb := netip.MustParsePrefix(a), netip.MustParsePrefix(b)
					if pa.Masked() != pb.Masked() || pa.Addr() == pb.Addr() {
						t.Errorf("%s: %s %s -> %s %s: not two addresses of one subnet", name, host, a, peer, b)
					}
					if pip, ok := l["peer_ip"].(string); ok && pip != pb.Addr().String() {
						t.Errorf("%s: %s peer_ip %s, but %s has %s", name, host, pip, peer, b)
					}
				}
				checked++
			}
		}
		t.Logf("%s: %d link ends checked", name, checked)
		if checked == 0 && name != "campus.csv" {
			t.Errorf("%s: no links checked", name)
		}
	}
}

// TestBGPPeersAgree checks every BGP session the examples give: a link's
// peer_asn and an overlay peer's asn are the far device's asn, an overlay
// peer's ip is its loopback0, and the far device has the session back.
func TestBGPPeersAgree(t *testing.T) {
	t.Parallel()
	for name, text := range files() {
		fl, err := fleet.Parse(name, []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byHost := map[string]map[string]any{}
		byLoopback := map[string]string{}
		for _, d := range fl.Devices {
			byHost[d.Device.Hostname] = d.Device.Vars
			if lo, ok := d.Device.Vars["loopback0"].(string); ok {
				byLoopback[netip.MustParsePrefix(lo).Addr().String()] = d.Device.Hostname
			}
		}
		// sessions[a][b]: a has a session toward b
		sessions := map[string]map[string]int{}
		add := func(a, b string) {
			if sessions[a] == nil {
				sessions[a] = map[string]int{}
			}
			sessions[a][b]++
		}
		checked := 0
		for host, vars := range byHost {
			for _, key := range []string{"uplinks", "downlinks"} {
				list, _ := vars[key].([]any)
				for _, x := range list {
					l := x.(map[string]any)
					peer, _ := l["peer"].(string)
					far, ok := byHost[peer]
					if l["peer_asn"] == nil || !ok {
						continue
					}
					if l["peer_asn"] != far["asn"] {
						t.Errorf("%s: %s -> %s: peer_asn %v, but %s has asn %v", name, host, peer, l["peer_asn"], peer, far["asn"])
					}
					add(host, peer)
					checked++
				}
			}
			overlay, _ := vars["evpn_peers"].([]any)
			for _, x := range overlay {
				o := x.(map[string]any)
				peer, ok := byLoopback[o["ip"].(string)]
				if !ok {
					t.Errorf("%s: %s: overlay peer %v is no device's loopback0", name, host, o["ip"])
					continue
				}
				if o["asn"] != byHost[peer]["asn"] {
					t.Errorf("%s: %s -> %s: overlay asn %v, but %s has asn %v", name, host, peer, o["asn"], peer, byHost[peer]["asn"])
				}
				add(host, peer+" overlay")
				checked++
			}
		}
		for a, to := range sessions {
			for b, n := range to {
				peer, kind, _ := strings.Cut(b, " ")
				back := a
				if kind != "" {
					back += " " + kind
				}
				if sessions[peer][back] != n {
					t.Errorf("%s: %s has %d session(s) %s toward %s, which has %d back", name, a, n, kind, peer, sessions[peer][back])
				}
			}
		}
		t.Logf("%s: %d BGP session ends checked", name, checked)
		if name == "dc-fabric.yaml" && checked == 0 {
			t.Errorf("%s: no BGP sessions checked", name)
		}
	}
}
