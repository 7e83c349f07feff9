package main

import (
	"net/netip"
	"os"
	"path/filepath"
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
				if match == nil && name == "campus.csv" {
					continue // the CSV's distribution rows list no downlinks (it would take 80 columns)
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
