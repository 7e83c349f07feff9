package sim

// writeNXOS writes a Cisco NX-OS running config.
func writeNXOS(g *gen, d *device) {
	c := newPlan(d)
	c.inVRF = iff(c.mgmt, " use-vrf management")
	_, c.ibgp = d.mlagIBGP()
	c.write(g, d, writeNXOSFeatures, writeNXOSContexts, writeNXOSLinks, writeNXOSPorts, writeNXOSRouting)
}

// writeNXOSFeatures writes the features and global settings: users, names,
// AAA, NTP, logging, SNMP, spanning tree and VLANs.
func writeNXOSFeatures(g *gen, d *device, c plan) {
	const in = "  "
	mgmt, useVRF, bgp, ospf, ibgp := c.mgmt, c.inVRF, c.bgp, c.ospf, c.ibgp
	writeHeader(g, d, "!")
	g.line("!")
	g.lineIf(d.hostname.present(), "hostname ", g.s(d.hostname))
	g.lineIf(d.feat.evpn, "nv overlay evpn")
	if ospf {
		g.line("feature ospf")
		g.lineIf(d.feat.bfd, "feature bfd")
	}
	g.lineIf(bgp, "feature bgp")
	if d.feat.evpn {
		g.line("feature vn-segment-vlan-based")
		g.line("feature nv overlay")
	}
	g.lineIf(d.feat.lacp || d.feat.mlag, "feature lacp")
	g.lineIf(d.feat.mlag, "feature vpc")
	g.lineIf(d.aaa.tacacs.present(), "feature tacacs+")
	if len(d.svis()) > 0 || d.vrfs.present() || ibgp {
		g.line("feature interface-vlan")
		if !d.feat.vrrp {
			g.line("feature hsrp")
		} else {
			g.line("feature vrrp")
		}
	}
	g.line("feature lldp")
	g.line("no feature telnet")
	g.line("!")
	// NX-OS has no enable mode: the enable secret guards the built-in admin
	// account, as it guards root on Junos.
	if d.enableSecret.present() {
		g.when(func() {
			g.line("username admin password 5 ", secretRef(g, d.enableSecret), " role network-admin")
		}, g.not(g.nameIs(d.adminUser, "admin")))
	}
	writeSecret(g, d.adminSecret, noUserSecret, "username "+g.s(d.adminUser)+" password 5 ", " role network-admin")
	g.line("ssh key rsa 2048")
	g.line("ssh login-attempts 3")
	g.lineIf(d.domain.present(), "ip domain-name ", g.s(d.domain))
	g.each(d.dns, "$s", func(s val) { g.line("ip name-server ", g.s(s), useVRF) })
	g.line("!")
	writeNXOSAAA(g, d, mgmt)
	g.line("aaa authentication login error-enable")
	g.line("!")
	if d.ntp.present() {
		g.each(d.ntp, "$s", func(s val) { g.line("ntp server ", g.s(s), useVRF) })
		g.line("!")
	}
	g.each(d.logHosts, "$s", func(s val) { g.line("logging server ", g.s(s), " 6", useVRF) })
	g.line("logging timestamp milliseconds")
	g.line("!")
	writeIOSSNMP(g, d, "")
	g.lineIf(d.feat.portfast, "spanning-tree port type edge default")
	g.lineIf(d.feat.bpduguard, "spanning-tree port type edge bpduguard default")
	g.each(d.vlans, "$v", func(v val) {
		id := d.vlanID(g, v)
		g.line("vlan ", g.s(id))
		if d.vlanMaps {
			name := g.field(v, "name")
			g.when(func() { g.line(in, "name ", g.s(name)) }, name)
		}
		g.lineIf(d.feat.evpn, in, "vn-segment ", g.printf(vniFormat, id))
	})
	g.line("!")
}

// writeNXOSContexts writes the VRF contexts and the vPC domain.
func writeNXOSContexts(g *gen, d *device, c plan) {
	const in = "  "
	mgmt := c.mgmt
	eachVRF(g, d, func(name, vni val) {
		g.line("vrf context ", g.s(name))
		g.when(func() {
			g.line(in, "vni ", g.s(vni))
			g.line(in, "rd auto")
			g.line(in, "address-family ipv4 unicast")
			g.line(in, in, "route-target both auto")
			g.lineIf(d.feat.evpn, in, in, "route-target both auto evpn")
		}, vni)
		g.line("!")
	})
	if mgmt {
		g.line("vrf context management")
		g.when(func() { g.line(in, "ip route 0.0.0.0/0 ", g.s(d.mgmtGateway)) }, d.mgmtGateway)
		g.line("!")
	}
	if d.feat.mlag {
		if d.mlagDomain.present() {
			g.line("vpc domain ", g.s(d.mlagDomain))
		} else {
			g.line("vpc domain 1")
		}
		g.line(in, "peer-switch")
		if mgmt {
			g.when(func() {
				src := d.mlagLocalIP
				if !src.present() {
					src = d.mgmtAddress
				}
				g.line(in, "peer-keepalive destination ", g.s(d.mlagPeerIP), " source ", g.s(src), " vrf management")
			}, d.mlagPeerIP)
		}
		g.line(in, "peer-gateway")
		g.line(in, "ip arp synchronize")
		g.line("!")
	}
}

// writeNXOSLinks writes the port-channels, the NVE, and the uplink,
// downlink and peer-link interfaces.
func writeNXOSLinks(g *gen, d *device, c plan) {
	const in = "  "
	bundle, ospf := c.bundle, c.ospf
	if bundle {
		writeUplinkBundle(g, d, in, "interface port-channel", func(val) { writeNXOSTrunk(g, d) })
	}
	if d.feat.mlag {
		g.block("interface port-channel10", in, "description vPC peer link"+peerSuffix(g, d),
			"switchport", "switchport mode trunk", "spanning-tree port type network", "vpc peer-link")
	}
	if d.feat.evpn && d.vlans.present() {
		g.line("interface nve1")
		g.line(in, "no shutdown")
		g.line(in, "host-reachability protocol bgp")
		g.line(in, "source-interface loopback", itoa(d.vtepLoopback()))
		g.each(d.vlans, "$v", func(v val) {
			g.line(in, "member vni ", g.printf(vniFormat, d.vlanID(g, v)))
			g.line(in, in, "ingress-replication protocol bgp")
		})
		g.line("!")
	}
	eachDownlinkBundle(g, d, func(l, pc val) {
		writePortChannel(g, in, "interface port-channel", l, pc, func(pc val) {
			writeNXOSTrunk(g, d)
			g.lineIf(d.feat.mlag, in, "vpc ", g.s(pc))
		})
	})
	eachLinkInterface(g, d, in, func(lk link, u val) {
		switch {
		case lk.routed:
			ip := g.field(u, "ip")
			g.line(in, "no switchport")
			mtu, ok := d.linkMTU(g, u, 9216)
			g.when(func() { g.line(in, "mtu ", mtu) }, ok)
			g.when(func() { g.line(in, "ip address ", g.s(ip)) }, ip)
			if ospf {
				g.when(func() {
					g.line(in, "ip ospf network point-to-point")
					g.line(in, "ip router ospf UNDERLAY area 0.0.0.0")
					if d.feat.bfd {
						g.line(in, "bfd interval 300 min_rx 300 multiplier 3")
						g.line(in, "ip ospf bfd")
					}
				}, d.ospfOn(g, u))
			}
		case lk.downlink:
			writeNXOSTrunk(g, d)
			pc := g.field(u, "port_channel")
			g.when(func() { g.line(in, "channel-group ", g.s(pc), " mode active") }, pc)
		default:
			writeNXOSTrunk(g, d)
			g.lineIf(bundle, in, "channel-group 1 mode active")
		}
		g.line(in, "no shutdown")
		g.line("!")
	})
	if d.feat.mlag {
		writePeerLinkMembers(g, d, in, []any{"Ethernet1/53", "Ethernet1/54"}, "vPC",
			"switchport", "switchport mode trunk", "channel-group 10 mode active", "no shutdown")
	}
}

// writeNXOSPorts writes the access ports, the management interface, the
// SVIs and the loopbacks.
func writeNXOSPorts(g *gen, d *device, c plan) {
	const in = "  "
	mgmt, ospf, ibgp := c.mgmt, c.ospf, c.ibgp
	if d.feat.access {
		ports := d.accessPorts.or("Ethernet1/1-48")
		g.line("interface ", g.s(ports))
		g.line(in, "description access port")
		g.line(in, "switchport")
		if d.nativeVLAN.present() {
			g.line(in, "switchport mode trunk")
			g.line(in, "switchport trunk native vlan ", g.s(d.nativeVLAN))
			g.when(func() { g.line(in, "switchport trunk allowed vlan ", d.vlanList(g, ",")) }, d.vlans)
		} else {
			g.line(in, "switchport mode access")
			d.namedVLAN(g, d.dataVLAN, dataNames, func(id val) { g.line(in, "switchport access vlan ", g.s(id)) })
		}
		g.lineIf(d.feat.portfast, in, "spanning-tree port type edge")
		g.lineIf(d.feat.bpduguard, in, "spanning-tree bpduguard enable")
		g.line(in, "no shutdown")
		g.line("!")
		if d.feat.voice {
			g.line("! voice VLAN: Nexus access ports carry no voice VLAN; use a trunk with a native data VLAN")
			g.line("!")
		}
	}
	if mgmt {
		g.line("interface mgmt0")
		g.line(in, "description management")
		g.line(in, "vrf member management")
		g.line(in, "ip address ", g.s(d.mgmtIP))
		g.line("!")
	}
	if ibgp {
		g.line("vlan 4094")
		g.line(in, "name VPC_PEER_ROUTING")
		g.line("!")
		g.line("interface Vlan4094")
		g.line(in, "description vPC peer routing", peerSuffix(g, d))
		g.line(in, "no shutdown")
		g.line(in, "ip address ", g.s(d.mlagIP))
		g.line("!")
	}
	eachSVI(g, d, func(v svi) {
		writeSVIHead(g, v, in, "no shutdown", "vrf member ")
		g.line(in, "ip address ", g.s(v.ip))
		g.each(d.dhcpRelays, "$r", func(r val) { g.line(in, "ip dhcp relay address ", g.s(r)) })
		g.when(func() {
			if d.feat.vrrp {
				g.line(in, "vrrp ", g.s(v.id))
				g.line(in, in, "address ", g.s(v.virtualIP))
				g.when(func() { g.line(in, in, "priority ", g.s(d.fhrpPriority)) }, d.fhrpPriority)
				g.line(in, in, "no shutdown")
			} else {
				g.line(in, "hsrp ", g.s(v.id))
				g.line(in, in, "ip ", g.s(v.virtualIP))
				g.when(func() {
					g.line(in, in, "priority ", g.s(d.fhrpPriority))
					g.line(in, in, "preempt")
				}, d.fhrpPriority)
			}
		}, v.virtualIP)
		g.line("!")
	})
	writeLoopbacks(g, d, in, "interface loopback", iff(ospf, "ip router ospf UNDERLAY area 0.0.0.0"))
}

// writeNXOSRouting writes the lines, OSPF, BGP, EVPN and the banner.
func writeNXOSRouting(g *gen, d *device, c plan) {
	const in = "  "
	bgp, ospf := c.bgp, c.ospf
	g.line("line console")
	g.line(in, "exec-timeout 10")
	g.line("line vty")
	g.line(in, "exec-timeout 10")
	g.line(in, "session-limit 8")
	g.line("!")
	if ospf {
		g.line("router ospf UNDERLAY")
		g.when(func() { g.line(in, "router-id ", g.s(d.routerID)) }, d.routerID)
		g.line(in, "log-adjacency-changes")
		g.line("!")
	}
	if bgp {
		writeRouteMaps(g, d)
		g.line("router bgp ", g.s(d.asn))
		g.when(func() { g.line(in, "router-id ", g.s(d.routerID)) }, d.routerID)
		g.line(in, "log-neighbor-changes")
		g.line(in, "address-family ipv4 unicast")
		writeNetworks(g, d, in+in)
		g.line(in, in, "maximum-paths 4")
		g.lineIf(d.feat.evpn, in, "address-family l2vpn evpn")
		overlay := d.evpnPeers.present()
		neighbor := func(ip, asn, desc val, loopback bool) {
			g.line(in, "neighbor ", g.s(ip))
			g.line(in, in, "remote-as ", g.s(asn))
			g.when(func() { g.line(in, in, "description ", g.s(desc)) }, desc)
			if loopback {
				g.line(in, in, "update-source loopback0")
				g.line(in, in, "ebgp-multihop 3")
			} else {
				g.line(in, in, "address-family ipv4 unicast")
				g.line(in, in, in, "route-map ", policyIn, " in")
				g.line(in, in, in, "route-map ", policyOut, " out")
			}
			if d.feat.evpn && loopback == overlay {
				g.line(in, in, "address-family l2vpn evpn")
				g.line(in, in, in, "send-community")
				g.line(in, in, in, "send-community extended")
				if loopback {
					g.line(in, in, in, "route-map ", policyIn, " in")
					g.line(in, in, in, "route-map ", policyOut, " out")
				}
			}
		}
		eachNeighbor(g, d, func(ip, asn, desc val) { neighbor(ip, asn, desc, false) })
		if peer, ok := d.mlagIBGP(); ok {
			g.line(in, "neighbor ", g.s(peer))
			g.line(in, in, "remote-as ", g.s(d.asn))
			g.line(in, in, "description vPC iBGP", peerSuffix(g, d))
			g.line(in, in, "address-family ipv4 unicast")
			g.line(in, in, in, "next-hop-self")
		}
		eachOverlayPeer(g, d, func(ip, asn, desc val) { neighbor(ip, asn, desc, true) })
		g.line("!")
	}
	if d.feat.evpn && d.vlans.present() {
		g.line("evpn")
		g.each(d.vlans, "$v", func(v val) {
			g.line(in, "vni ", g.printf(vniFormat, d.vlanID(g, v)), " l2")
			g.line(in, in, "rd auto")
			g.line(in, in, "route-target import auto")
			g.line(in, in, "route-target export auto")
		})
		g.line("!")
	}
	writeBanner(g, d, "banner motd #", "#")
}

// writeNXOSTrunk writes the trunk lines of an NX-OS switch port.
func writeNXOSTrunk(g *gen, d *device) {
	const in = "  "
	g.line(in, "switchport")
	g.line(in, "switchport mode trunk")
	g.when(func() { g.line(in, "switchport trunk allowed vlan ", d.vlanList(g, ",")) }, d.vlans)
}

// writeNXOSAAA writes the TACACS+/RADIUS servers, their groups (in the
// management VRF when there is one) and the method lists.
func writeNXOSAAA(g *gen, d *device, mgmt bool) {
	const in = "  "
	for _, gr := range d.aaa.groups() {
		kind, proto := "tacacs-server", "tacacs+"
		if gr.name == "RADIUS" {
			kind, proto = "radius-server", "radius"
		}
		eachServer(g, gr.servers, gr.key, func(s server) {
			g.line(kind, " host ", g.s(s.addr), keyText(g, s.key, " key 7 "), g.ifText(s.port, " port "+g.s(s.port)))
		})
		g.line("aaa group server ", proto, " ", gr.name)
		eachServer(g, gr.servers, gr.key, func(s server) { g.line(in, "server ", g.s(s.addr)) })
		g.lineIf(mgmt, in, "use-vrf management")
		g.line("!")
	}
	servers := d.aaa.serverMethods()
	if servers == "" {
		g.line("aaa authentication login default local")
		return
	}
	g.line("aaa authentication login default ", servers)
	g.line("aaa authorization commands default ", d.aaa.methods())
	g.line("aaa accounting default ", servers)
}
