package sim

// writeFRR writes an FRRouting integrated config (frr.conf) as vtysh -b
// loads it into zebra, bgpd and bfdd: the host name, the addresses of the
// loopback and the point-to-point links, and eBGP with its policies. FRR
// routes; the Linux host, not FRR, runs NTP, name service, syslog, AAA and
// SSH, so vars about them have nowhere to go and are left out rather than
// written as lines FRR rejects. Interface and router stanzas end with
// "exit", as FRR's own running config does.
func writeFRR(g *gen, d *device) {
	const in = " "
	writeHeader(g, d, "!")
	g.line("frr defaults datacenter")
	g.lineIf(d.hostname.present(), "hostname ", g.s(d.hostname))
	g.line("log syslog informational")
	g.line("ip forwarding")
	g.line("!")
	eachLinkInterface(g, d, in, func(_ link, u val) {
		ip := g.field(u, "ip")
		g.when(func() { g.line(in, "ip address ", g.s(ip)) }, ip)
		g.line("exit")
		g.line("!")
	})
	if len(d.loopbacks) > 0 {
		// Linux has one loopback device; every loopbackN address is on it.
		g.line("interface lo")
		for _, l := range d.loopbacks {
			g.line(in, "ip address ", g.s(l.cidr))
		}
		g.line("exit")
		g.line("!")
	}
	if d.bgp() {
		writeRouteMaps(g, d)
		writeFRRBGP(g, d)
	}
}

// writeFRRBGP writes router bgp: the sessions (with BFD when asked) and the
// IPv4 unicast family that advertises the loopbacks, activates each session
// (explicitly, whatever "bgp default ipv4-unicast" is) and applies its
// policies. eBGP needs both policies: FRR's ebgp-requires-policy, on by
// default outside the datacenter profile, sends and accepts nothing on a
// session without them.
func writeFRRBGP(g *gen, d *device) {
	const in = " "
	g.line("router bgp ", g.s(d.asn))
	g.when(func() { g.line(in, "bgp router-id ", g.s(d.routerID)) }, d.routerID)
	// ECMP over peers in different ASes: spines that each have their own.
	g.line(in, "bgp bestpath as-path multipath-relax")
	eachNeighbor(g, d, func(ip, asn, desc val) {
		g.line(in, "neighbor ", g.s(ip), " remote-as ", g.s(asn))
		g.when(func() { g.line(in, "neighbor ", g.s(ip), " description ", g.s(desc)) }, desc)
		g.lineIf(d.feat.bfd, in, "neighbor ", g.s(ip), " bfd")
	})
	g.line(in, "!")
	g.line(in, "address-family ipv4 unicast")
	writeNetworks(g, d, in+in)
	eachNeighbor(g, d, func(ip, _, _ val) {
		g.line(in, in, "neighbor ", g.s(ip), " activate")
		g.line(in, in, "neighbor ", g.s(ip), " route-map ", policyIn, " in")
		g.line(in, in, "neighbor ", g.s(ip), " route-map ", policyOut, " out")
	})
	g.line(in, "exit-address-family")
	g.line("exit")
	g.line("!")
}
