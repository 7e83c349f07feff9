package emulate

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/confparse"
)

var update = flag.Bool("update", false, "rewrite testdata/fabric from the generator")

// fabric writes an FRR leaf-spine fabric as the frr platform does: every
// spine linked to every leaf by an eBGP /31, loopback lo advertised. Each
// spine has its own ASN, so that spines reach each other through a leaf.
func fabric(spines, leaves int) ([]Device, []Link) {
	devs, links, _ := fabricFleet(spines, leaves)
	return devs, links
}

// fabricFleet is fabric with the fleet file the configs are made from.
func fabricFleet(spines, leaves int) ([]Device, []Link, string) {
	type ifc struct{ port, addr, peerAddr, peerAS, peer, peerPort string }
	type dev struct {
		name, asn, lo string
		ifs           []ifc
	}
	var sp, lf []*dev
	for i := 1; i <= spines; i++ {
		sp = append(sp, &dev{name: fmt.Sprintf("spine%d", i), asn: fmt.Sprint(65000 + i), lo: fmt.Sprintf("10.255.0.%d", i)})
	}
	for j := 1; j <= leaves; j++ {
		lf = append(lf, &dev{name: fmt.Sprintf("leaf%d", j), asn: fmt.Sprint(65100 + j), lo: fmt.Sprintf("10.255.1.%d", j)})
	}
	var links []Link
	k := 0
	for i, s := range sp {
		for j, l := range lf {
			base := netip.AddrFrom4([4]byte{10, 254, byte(k * 2 / 256), byte(k * 2 % 256)})
			sa, la := base.String(), base.Next().String()
			s.ifs = append(s.ifs, ifc{fmt.Sprintf("eth%d", j+1), sa, la, l.asn, l.name, fmt.Sprintf("eth%d", i+1)})
			l.ifs = append(l.ifs, ifc{fmt.Sprintf("eth%d", i+1), la, sa, s.asn, s.name, fmt.Sprintf("eth%d", j+1)})
			links = append(links, Link{A: s.name, APort: fmt.Sprintf("eth%d", j+1), B: l.name, BPort: fmt.Sprintf("eth%d", i+1)})
			k++
		}
	}
	var devs []Device
	var y strings.Builder
	fmt.Fprintf(&y, `# An FRR leaf-spine fabric: %d spines, %d leaves, eBGP on /31 links,
# loopbacks advertised. Written by fabricFleet in fabric_test.go.
version: 1
defaults:
  platform: frr
  os_version: "8.4"
groups:
  spines:
    role: spine
    requirements: eBGP to every leaf on routed /31 downlinks; advertise loopback lo.
  leaves:
    role: leaf
    requirements: eBGP to every spine on routed /31 uplinks; advertise loopback lo.
devices:
`, spines, leaves)
	for _, d := range append(sp, lf...) {
		group, key := "spines", "downlinks"
		if strings.HasPrefix(d.name, "leaf") {
			group, key = "leaves", "uplinks"
		}
		fmt.Fprintf(&y, "  - hostname: %s\n    group: %s\n    vars:\n      asn: %s\n      loopback0: %s/32\n      %s:\n", d.name, group, d.asn, d.lo, key)
		for _, i := range d.ifs {
			fmt.Fprintf(&y, "        - {port: %s, peer: %s, peer_port: %s, ip: %s/31, peer_ip: %s, peer_asn: %s}\n", i.port, i.peer, i.peerPort, i.addr, i.peerAddr, i.peerAS)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "frr version 8.4\nfrr defaults datacenter\nhostname %s\nno ipv6 forwarding\n!\n", d.name)
		fmt.Fprintf(&b, "interface lo\n ip address %s/32\nexit\n!\n", d.lo)
		for _, i := range d.ifs {
			fmt.Fprintf(&b, "interface %s\n ip address %s/31\nexit\n!\n", i.port, i.addr)
		}
		fmt.Fprintf(&b, "router bgp %s\n bgp router-id %s\n", d.asn, d.lo)
		for _, i := range d.ifs {
			fmt.Fprintf(&b, " neighbor %s remote-as %s\n", i.peerAddr, i.peerAS)
		}
		fmt.Fprintf(&b, " !\n address-family ipv4 unicast\n  network %s/32\n", d.lo)
		for _, i := range d.ifs {
			fmt.Fprintf(&b, "  neighbor %s activate\n  neighbor %s route-map PERMIT-ALL in\n  neighbor %s route-map PERMIT-ALL out\n", i.peerAddr, i.peerAddr, i.peerAddr)
		}
		b.WriteString(" exit-address-family\nexit\n!\nroute-map PERMIT-ALL permit 10\nexit\n!\n")
		devs = append(devs, Device{Hostname: d.name, Platform: confparse.FRR, Config: b.String()})
	}
	return devs, links, y.String()
}

// readFabric reads testdata/fabric's configs (HOSTNAME.cfg).
func readFabric(t testing.TB, dir string) []Device {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.cfg"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no configs in %s: %v", dir, err)
	}
	var devs []Device
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, Device{Hostname: strings.TrimSuffix(filepath.Base(p), ".cfg"), Platform: confparse.FRR, Config: string(b)})
	}
	return devs
}

// TestFabricTestdata keeps testdata/fabric what the generator writes.
func TestFabricTestdata(t *testing.T) {
	devs, _, fleet := fabricFleet(2, 4)
	dir := filepath.Join("testdata", "fabric")
	devs = append(devs, Device{Hostname: "fleet", Config: fleet})
	for _, d := range devs {
		p := filepath.Join(dir, d.Hostname+".cfg")
		if d.Hostname == "fleet" {
			p = filepath.Join(dir, "fleet.yaml")
		}
		if *update {
			if err := os.WriteFile(p, []byte(d.Config), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != d.Config {
			t.Errorf("%s differs from the generator (go test -run TestFabricTestdata -update)", p)
		}
	}
}
