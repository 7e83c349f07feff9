package sim

// writeEOS writes an Arista EOS running config.
func writeEOS(g *gen, d *device) {
	c := newPlan(d)
	c.vrf = iff(c.mgmt, "MGMT")
	c.inVRF = iff(c.mgmt, "vrf MGMT ") // before an argument
	c.write(g, d, writeEOSGlobal, writeEOSLinks, writeEOSPorts, writeEOSRouting)
}

// writeEOSGlobal writes the global settings: AAA, users, names, NTP,
// logging, SNMP, spanning tree, VLANs and VRFs.
func writeEOSGlobal(g *gen, d *device, c plan) {
	const in = "   "
	vrf, inVRF := c.vrf, c.inVRF
	writeHeader(g, d, "!")
	g.line("!")
	g.line("no aaa root")
	writeEOSAAA(g, d, vrf)
	g.line("!")
	writeSecret(g, d.adminSecret, noUserSecret, "username "+g.s(d.adminUser)+" privilege 15 role network-admin secret sha512 ", "")
	writeSecret(g, d.enableSecret, "! enable password: no secret reference given (var enable_secret)", "enable password sha512 ", "")
	g.line("!")
	g.line("service routing protocols model multi-agent")
	g.line("!")
	g.lineIf(d.hostname.present(), "hostname ", g.s(d.hostname))
	g.lineIf(d.domain.present(), "ip domain-name ", g.s(d.domain))
	g.each(d.dns, "$s", func(s val) { g.line("ip name-server ", inVRF, g.s(s)) })
	g.line("!")
	if d.ntp.present() {
		g.each(d.ntp, "$s", func(s val) { g.line("ntp server ", inVRF, g.s(s)) })
		g.line("!")
	}
	g.line("logging buffered 10000 informational")
	g.line("logging format timestamp high-resolution")
	g.each(d.logHosts, "$s", func(s val) { g.line("logging ", inVRF, "host ", g.s(s)) })
	g.line("!")
	writeIOSSNMP(g, d, vrf)
	g.line("spanning-tree mode mstp")
	g.lineIf(d.feat.bpduguard, "spanning-tree edge-port bpduguard default")
	g.lineIf(d.feat.mlag, "no spanning-tree vlan-id 4094")
	g.line("!")
	g.each(d.vlans, "$v", func(v val) {
		g.line("vlan ", g.s(d.vlanID(g, v)))
		if d.vlanMaps {
			name := g.field(v, "name")
			g.when(func() { g.line(in, "name ", g.s(name)) }, name)
		}
		g.line("!")
	})
	if d.feat.mlag {
		g.line("vlan 4094")
		g.line(in, "name MLAG_PEER")
		g.line(in, "trunk group MLAG")
		g.line("!")
	}
	if vrf != "" {
		g.line("vrf instance ", vrf)
		g.line("!")
	}
	eachVRF(g, d, func(name, _ val) {
		g.line("vrf instance ", g.s(name))
		g.line("!")
	})
}

// writeEOSLinks writes the port-channels, the MLAG peer link and the
// uplink and downlink interfaces.
func writeEOSLinks(g *gen, d *device, c plan) {
	const in = "   "
	bundle, ospf := c.bundle, c.ospf
	if bundle {
		writeUplinkBundle(g, d, in, "interface Port-Channel", func(val) {
			g.line(in, "no shutdown")
			writeEOSTrunk(g, d)
		})
	}
	if d.feat.mlag {
		g.block("interface Port-Channel10", in, "description MLAG peer link"+peerSuffix(g, d),
			"no shutdown", "switchport mode trunk", "switchport trunk group MLAG")
	}
	eachDownlinkBundle(g, d, func(l, pc val) {
		writePortChannel(g, in, "interface Port-Channel", l, pc, func(pc val) {
			g.line(in, "no shutdown")
			writeEOSTrunk(g, d)
			g.lineIf(d.feat.mlag, in, "mlag ", g.s(pc))
		})
	})
	if d.feat.mlag {
		writePeerLinkMembers(g, d, in, []any{"Ethernet47", "Ethernet48"}, "MLAG", "no shutdown", "channel-group 10 mode active")
	}
	eachLinkInterface(g, d, in, func(lk link, u val) {
		g.line(in, "no shutdown")
		switch {
		case lk.routed:
			ip := g.field(u, "ip")
			mtu, ok := d.linkMTU(g, u, 9214)
			g.when(func() { g.line(in, "mtu ", mtu) }, ok)
			g.line(in, "no switchport")
			g.when(func() { g.line(in, "ip address ", g.s(ip)) }, ip)
			if ospf {
				g.when(func() {
					g.line(in, "ip ospf network point-to-point")
					g.line(in, "ip ospf area 0.0.0.0")
					g.lineIf(d.feat.bfd, in, "bfd interval 300 min-rx 300 multiplier 3")
				}, d.ospfOn(g, u))
			}
		case lk.downlink:
			pc := g.field(u, "port_channel")
			g.whenElse(func() { g.line(in, "channel-group ", g.s(pc), " mode active") },
				func() { writeEOSTrunk(g, d) }, pc)
		default:
			writeEOSTrunk(g, d)
			g.lineIf(bundle, in, "channel-group 1 mode active")
		}
		g.line("!")
	})
}

// writeEOSPorts writes the access ports, the loopbacks, the management
// interface, the SVIs and the VXLAN interface.
func writeEOSPorts(g *gen, d *device, c plan) {
	const in = "   "
	vrf, ospf := c.vrf, c.ospf
	if d.feat.access {
		ports := d.accessPorts.or("Ethernet1-46")
		g.line("interface ", g.s(ports))
		g.line(in, "description access port")
		g.line(in, "no shutdown")
		if d.feat.voice {
			d.namedVLAN(g, d.dataVLAN, dataNames, func(id val) { g.line(in, "switchport trunk native vlan ", g.s(id)) })
			d.namedVLAN(g, d.voiceVLAN, voiceNames, func(id val) { g.line(in, "switchport phone vlan ", g.s(id)) })
			g.line(in, "switchport phone trunk untagged")
			g.line(in, "switchport mode trunk phone")
		} else if d.nativeVLAN.present() {
			g.line(in, "switchport trunk native vlan ", g.s(d.nativeVLAN))
			writeEOSTrunk(g, d)
		} else {
			d.namedVLAN(g, d.dataVLAN, dataNames, func(id val) { g.line(in, "switchport access vlan ", g.s(id)) })
			g.line(in, "switchport mode access")
		}
		g.lineIf(d.feat.portfast, in, "spanning-tree portfast")
		g.lineIf(d.feat.bpduguard, in, "spanning-tree bpduguard enable")
		g.line("!")
	}
	writeLoopbacks(g, d, in, "interface Loopback", iff(ospf, "ip ospf area 0.0.0.0"))
	if d.mgmtIP.present() {
		g.line("interface Management1")
		g.line(in, "description management")
		g.line(in, "vrf ", vrf)
		g.line(in, "ip address ", g.s(d.mgmtIP))
		g.line("!")
	}
	if d.feat.mlag {
		g.line("interface Vlan4094")
		g.line(in, "description MLAG peer")
		g.line(in, "mtu 9214")
		g.line(in, "no autostate")
		g.when(func() { g.line(in, "ip address ", g.s(d.mlagIP)) }, d.mlagIP)
		g.line("!")
	}
	eachSVI(g, d, func(v svi) {
		writeSVIHead(g, v, in, "no shutdown", "vrf ")
		if d.feat.anycast {
			g.line(in, "ip address virtual ", g.s(v.ip))
		} else {
			g.line(in, "ip address ", g.s(v.ip))
		}
		g.each(d.dhcpRelays, "$r", func(r val) { g.line(in, "ip helper-address ", g.s(r)) })
		g.when(func() {
			g.line(in, "vrrp ", g.s(v.id), " ipv4 ", g.s(v.virtualIP))
			g.when(func() { g.line(in, "vrrp ", g.s(v.id), " priority-level ", g.s(d.fhrpPriority)) }, d.fhrpPriority)
		}, v.virtualIP)
		g.line("!")
	})
	if d.feat.evpn && d.vlans.present() {
		g.line("interface Vxlan1")
		g.lineIf(d.hostname.present(), in, "description ", g.s(d.hostname), "_VTEP")
		g.line(in, "vxlan source-interface Loopback", itoa(d.vtepLoopback()))
		g.line(in, "vxlan udp-port 4789")
		g.each(d.vlans, "$v", func(v val) {
			id := d.vlanID(g, v)
			g.line(in, "vxlan vlan ", g.s(id), " vni ", d.vni(g, v))
		})
		eachVRF(g, d, func(name, vni val) {
			g.when(func() { g.line(in, "vxlan vrf ", g.s(name), " vni ", g.s(vni)) }, vni)
		})
		g.line("!")
	}
}

// writeEOSRouting writes IP routing, the management route, MLAG, BGP and
// OSPF, then management access.
func writeEOSRouting(g *gen, d *device, c plan) {
	const in = "   "
	vrf, routed, ospf := c.vrf, c.routed, c.ospf
	if d.virtualMAC.present() && routed {
		g.line("ip virtual-router mac-address ", g.s(d.virtualMAC))
		g.line("!")
	}
	if routed {
		g.line("ip routing")
		eachVRF(g, d, func(name, _ val) { g.line("ip routing vrf ", g.s(name)) })
	}
	g.lineIf(vrf != "", "no ip routing vrf ", vrf)
	g.line("!")
	if d.mgmtGateway.present() && d.mgmtIP.present() {
		g.line("ip route vrf ", vrf, " 0.0.0.0/0 ", g.s(d.mgmtGateway))
		g.line("!")
	}
	if d.feat.mlag {
		g.line("mlag configuration")
		if d.mlagDomain.present() {
			g.line(in, "domain-id ", g.s(d.mlagDomain))
		} else {
			g.line(in, "domain-id MLAG")
		}
		g.line(in, "local-interface Vlan4094")
		g.when(func() { g.line(in, "peer-address ", g.s(d.mlagPeerIP)) }, d.mlagPeerIP)
		g.line(in, "peer-link Port-Channel10")
		g.line(in, "reload-delay mlag 300")
		g.line(in, "reload-delay non-mlag 330")
		g.line("!")
	}
	if d.bgp() && routed {
		writeRouteMaps(g, d)
		writeEOSBGP(g, d)
	}
	if ospf {
		g.line("router ospf 1")
		writeOSPFHead(g, d, in)
		g.lineIf(d.feat.bfd, in, "bfd default")
		g.line(in, "max-lsa 12000")
		g.line("!")
	}
	writeBanner(g, d, "banner login", "EOF")
	g.line("!")
	g.line("management console")
	g.line(in, "idle-timeout 10")
	g.line("!")
	g.line("management api http-commands")
	g.line(in, "shutdown")
	g.line("!")
	g.line("management ssh")
	g.line(in, "idle-timeout 10")
	if vrf != "" {
		g.line(in, "vrf ", vrf)
		g.line(in, in, "no shutdown")
	}
	g.line("!")
	g.line("management telnet")
	g.line(in, "shutdown")
	g.line("!")
	g.line("end")
}

// writeEOSTrunk writes the trunk lines of an EOS switch port.
func writeEOSTrunk(g *gen, d *device) {
	const in = "   "
	g.when(func() { g.line(in, "switchport trunk allowed vlan ", d.vlanList(g, ",")) }, d.vlans)
	g.line(in, "switchport mode trunk")
}

// peerSuffix returns " to <mlag peer>" when the MLAG peer is known.
func peerSuffix(g *gen, d *device) string {
	if !d.mlagPeer.present() {
		return ""
	}
	return " to " + g.s(d.mlagPeer)
}

// writeEOSAAA writes the AAA servers, their groups and the method lists:
// the groups then local, or local alone without servers.
func writeEOSAAA(g *gen, d *device, mgmtVRF string) {
	const in = "   "
	for _, gr := range d.aaa.groups() {
		kind := "tacacs-server"
		if gr.name == "RADIUS" {
			kind = "radius-server"
		}
		eachServer(g, gr.servers, gr.key, func(s server) {
			g.line(kind, " host ", g.s(s.addr), eosServerVRF(g, s, mgmtVRF), g.ifText(s.port, " port "+g.s(s.port)), keyText(g, s.key, " key 7 "))
		})
	}
	for _, gr := range d.aaa.groups() {
		proto := "tacacs+"
		if gr.name == "RADIUS" {
			proto = "radius"
		}
		g.line("aaa group server ", proto, " ", gr.name)
		eachServer(g, gr.servers, gr.key, func(s server) {
			g.line(in, "server ", g.s(s.addr), eosServerVRF(g, s, mgmtVRF))
		})
		g.line("!")
	}
	writeAAAMethods(g, d, "all")
}

// eosServerVRF returns " vrf NAME" for an AAA server: its own vrf, else the
// management VRF.
func eosServerVRF(g *gen, s server, mgmtVRF string) string {
	def := ""
	if mgmtVRF != "" {
		def = " vrf " + mgmtVRF
	}
	return g.ifElseText(s.vrf, " vrf "+g.s(s.vrf), def)
}

// writeEOSBGP writes router bgp: the underlay sessions with their
// policies, the EVPN overlay from Loopback0, the MLAG iBGP session, the
// MAC-VRFs and the tenant VRFs.
func writeEOSBGP(g *gen, d *device) {
	const in = "   "
	overlay := d.evpnPeers.present()
	g.line("router bgp ", g.s(d.asn))
	g.when(func() { g.line(in, "router-id ", g.s(d.routerID)) }, d.routerID)
	g.line(in, "no bgp default ipv4-unicast")
	g.line(in, "maximum-paths 4 ecmp 4")
	ebgp := func(ip, asn, desc val) {
		g.line(in, "neighbor ", g.s(ip), " remote-as ", g.s(asn))
		g.when(func() { g.line(in, "neighbor ", g.s(ip), " description ", g.s(desc)) }, desc)
		g.line(in, "neighbor ", g.s(ip), " route-map ", policyIn, " in")
		g.line(in, "neighbor ", g.s(ip), " route-map ", policyOut, " out")
	}
	eachNeighbor(g, d, func(ip, asn, desc val) {
		ebgp(ip, asn, desc)
		g.lineIf(d.feat.evpn && !overlay, in, "neighbor ", g.s(ip), " send-community extended")
	})
	eachOverlayPeer(g, d, func(ip, asn, desc val) {
		ebgp(ip, asn, desc)
		g.line(in, "neighbor ", g.s(ip), " update-source Loopback0")
		g.line(in, "neighbor ", g.s(ip), " ebgp-multihop 3")
		g.line(in, "neighbor ", g.s(ip), " send-community extended")
	})
	peer, ibgp := d.mlagIBGP()
	if ibgp {
		g.line(in, "neighbor ", g.s(peer), " remote-as ", g.s(d.asn))
		g.line(in, "neighbor ", g.s(peer), " description MLAG iBGP", peerSuffix(g, d))
		g.line(in, "neighbor ", g.s(peer), " next-hop-self")
	}
	if d.feat.evpn {
		g.each(d.vlans, "$v", func(v val) {
			id := d.vlanID(g, v)
			vni := d.vni(g, v)
			g.line(in, "!")
			g.line(in, "vlan ", g.s(id))
			g.when(func() { g.line(in, in, "rd ", g.s(d.routerID), ":", vni) }, d.routerID)
			g.line(in, in, "route-target both ", vni, ":", vni)
			g.line(in, in, "redistribute learned")
		})
		g.line(in, "!")
		g.line(in, "address-family evpn")
		if overlay {
			eachOverlayPeer(g, d, func(ip, _, _ val) { g.line(in, in, "neighbor ", g.s(ip), " activate") })
		} else {
			eachNeighbor(g, d, func(ip, _, _ val) { g.line(in, in, "neighbor ", g.s(ip), " activate") })
		}
	}
	g.line(in, "!")
	g.line(in, "address-family ipv4")
	eachNeighbor(g, d, func(ip, _, _ val) { g.line(in, in, "neighbor ", g.s(ip), " activate") })
	g.lineIf(ibgp, in, in, "neighbor ", g.s(peer), " activate")
	writeNetworks(g, d, in+in)
	if d.feat.evpn {
		eachVRF(g, d, func(name, vni val) {
			g.line(in, "!")
			g.line(in, "vrf ", g.s(name))
			g.when(func() {
				g.when(func() { g.line(in, in, "rd ", g.s(d.routerID), ":", g.s(vni)) }, d.routerID)
				g.line(in, in, "route-target import evpn ", g.s(vni), ":", g.s(vni))
				g.line(in, in, "route-target export evpn ", g.s(vni), ":", g.s(vni))
			}, vni)
			g.line(in, in, "redistribute connected")
		})
	}
	g.line("!")
}
