package verify

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// fabric builds a leaf-spine fabric of EOS configs: spines in pairs, each
// pair serving an equal share of the leaves, leaves in MLAG pairs with a
// shared VTEP loopback, eBGP on every link and EVPN from loopbacks. It
// verifies clean.
func fabric(spines, leaves int) map[string]string {
	cfgs := make(map[string]string, spines+leaves)
	spineCfg := make([]*strings.Builder, spines)
	spineBGP := make([]*strings.Builder, spines)
	loop := func(n int) string { return netip.AddrFrom4([4]byte{172, 16, byte(n >> 8), byte(n)}).String() }
	for s := range spines {
		spineCfg[s], spineBGP[s] = &strings.Builder{}, &strings.Builder{}
		fmt.Fprintf(spineCfg[s], "hostname spine%d\n!\ninterface Loopback0\n   ip address %s/32\n!\n", s, loop(s))
		fmt.Fprintf(spineBGP[s], "router bgp 65000\n   router-id %s\n", loop(s))
	}
	link := 0
	p2p := func() (netip.Addr, netip.Addr) {
		base := netip.AddrFrom4([4]byte{10, byte(link >> 15), byte(link >> 7), byte(link << 1)})
		link++
		return base, base.Next()
	}
	perPair := (leaves + spines/2 - 1) / (spines / 2)
	for l := range leaves {
		host := fmt.Sprintf("leaf%d", l)
		asn := 65001 + l/2
		lo := loop(spines + l)
		var b, bgp strings.Builder
		fmt.Fprintf(&b, "hostname %s\n!\nvlan 10\n!\ninterface Port-Channel10\n   switchport mode trunk\n   switchport trunk allowed vlan 10,4094\n!\n", host)
		b.WriteString("interface Ethernet51/1\n   channel-group 10 mode active\n!\n")
		fmt.Fprintf(&bgp, "router bgp %d\n   router-id %s\n", asn, lo)
		pair := l / perPair
		for k, s := range []int{2 * pair, 2*pair + 1} {
			sa, la := p2p()
			fmt.Fprintf(&b, "interface Ethernet%d/1\n   mtu 9214\n   no switchport\n   ip address %s/31\n!\n", 49+k, la)
			fmt.Fprintf(spineCfg[s], "interface Ethernet%d\n   mtu 9214\n   no switchport\n   ip address %s/31\n!\n", l%perPair+1, sa)
			fmt.Fprintf(&bgp, "   neighbor %s remote-as 65000\n   neighbor %s remote-as 65000\n   neighbor %s update-source Loopback0\n   neighbor %s ebgp-multihop 3\n",
				sa, loop(s), loop(s), loop(s))
			fmt.Fprintf(spineBGP[s], "   neighbor %s remote-as %d\n   neighbor %s remote-as %d\n   neighbor %s update-source Loopback0\n   neighbor %s ebgp-multihop 3\n",
				la, asn, lo, asn, lo, lo)
		}
		mine := netip.AddrFrom4([4]byte{192, 168, byte(l >> 8), byte(l)}) // the pair's /31: leaf 2k has .0, 2k+1 has .1
		peer := netip.AddrFrom4([4]byte{192, 168, byte(l >> 8), byte(l ^ 1)})
		fmt.Fprintf(&b, "interface Loopback0\n   ip address %s/32\n!\ninterface Loopback1\n   ip address 172.17.%d.%d/32\n!\n", lo, (l/2)>>8, byte(l/2))
		fmt.Fprintf(&b, "interface Vlan10\n   ip address virtual 10.200.0.1/24\n!\ninterface Vlan4094\n   ip address %s/31\n!\n", mine)
		fmt.Fprintf(&b, "mlag configuration\n   domain-id pair%d\n   local-interface Vlan4094\n   peer-address %s\n   peer-link Port-Channel10\n!\n", l/2, peer)
		fmt.Fprintf(&bgp, "   neighbor %s remote-as %d\n", peer, asn)
		cfgs[host] = b.String() + bgp.String() + "!\nend\n"
	}
	for s := range spines {
		cfgs[fmt.Sprintf("spine%d", s)] = spineCfg[s].String() + spineBGP[s].String() + "!\nend\n"
	}
	return cfgs
}

func parseAll(tb testing.TB, texts map[string]string) []Config {
	cfgs := make([]Config, 0, len(texts))
	for host, text := range texts {
		tree, err := confparse.Parse(netcfg.AristaEOS, text)
		if err != nil {
			tb.Fatal(err)
		}
		cfgs = append(cfgs, Config{Hostname: host, Tree: tree})
	}
	return cfgs
}

func TestFabricVerifiesClean(t *testing.T) {
	t.Parallel()
	r := Verify(parseAll(t, fabric(4, 40)), nil)
	if r.Errors+r.Warnings != 0 {
		t.Fatalf("the generated fabric has findings: %s", render(r))
	}
}

// BenchmarkVerify10k parses and verifies 10,000 configs: 40 spines and
// 9,960 leaves. peak-heap-MB is the live heap with every tree and the
// report held, after a collection.
func BenchmarkVerify10k(b *testing.B) {
	texts := fabric(40, 9960)
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		cfgs := parseAll(b, texts)
		r := Verify(cfgs, nil)
		if r.Errors != 0 {
			b.Fatalf("%d errors: %v", r.Errors, r.Findings[0])
		}
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		runtime.KeepAlive(cfgs)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
