package sim

// writeIOS writes a Cisco IOS or IOS-XE running config.
func writeIOS(g *gen, d *device) {
	c := newPlan(d)
	c.xe = d.platform == "cisco_xe"
	c.switching = !d.feat.router
	// Management: the dedicated port in a management VRF, or on a classic
	// IOS layer-2 switch an SVI in the management VLAN.
	c.mgmtSVI = (!c.xe || d.feat.mgmtSVI) && c.switching && (d.mgmtVLAN.present() || d.hasNamedVLAN(mgmtNames))
	if c.mgmt && !c.mgmtSVI {
		c.vrf = "Mgmt-intf"
		if c.xe {
			c.vrf = "Mgmt-vrf"
		}
	}
	c.inVRF = iff(c.vrf != "", " vrf "+c.vrf)
	c.write(g, d, writeIOSGlobal, writeIOSLinks, writeIOSAccess, writeIOSSVIs, writeIOSProtocols, writeIOSManagement)
}

// writeIOSGlobal writes the global settings: services, VRFs, AAA, spanning
// tree, users and VLANs.
func writeIOSGlobal(g *gen, d *device, c plan) {
	xe, switching, vrf, inVRF := c.xe, c.switching, c.vrf, c.inVRF
	writeHeader(g, d, "!")
	g.line("!")
	if v := osMajorMinor(d.osVersion); v != "" {
		g.line("version ", g.lit(v))
	}
	g.line("service timestamps debug datetime msec localtime show-timezone")
	g.line("service timestamps log datetime msec localtime show-timezone")
	g.line("service password-encryption")
	g.line("service tcp-keepalives-in")
	g.line("service tcp-keepalives-out")
	g.line("no service pad")
	g.line("!")
	if d.hostname.present() {
		g.line("hostname ", g.s(d.hostname))
		g.line("!")
	}
	if vrf != "" {
		g.line("vrf definition ", vrf)
		g.line(" !")
		g.line(" address-family ipv4")
		g.line(" exit-address-family")
		g.line("!")
	}
	eachVRF(g, d, func(name, vni val) {
		g.line("vrf definition ", g.s(name))
		g.when(func() {
			g.when(func() { g.line(" rd ", g.s(d.routerID), ":", g.s(vni)) }, d.routerID)
			g.line(" !")
			g.line(" address-family ipv4")
			if d.feat.evpn && xe {
				g.line("  route-target export ", g.s(vni), ":", g.s(vni), " stitching")
				g.line("  route-target import ", g.s(vni), ":", g.s(vni), " stitching")
			} else {
				g.line("  route-target both ", g.s(vni), ":", g.s(vni))
			}
			g.line(" exit-address-family")
		}, vni)
		g.line("!")
	})
	g.line("no logging console")
	g.line("logging buffered 64000 informational")
	writeSecret(g, d.enableSecret, "! enable secret: no secret reference given (var enable_secret)", "enable secret 9 ", "")
	g.line("!")
	g.line("aaa new-model")
	writeIOSAAA(g, d, vrf)
	g.line("aaa session-id common")
	g.line("!")
	g.lineIf(d.feat.router, "no ip source-route")
	if d.domain.present() {
		if xe {
			g.line("ip domain name ", g.s(d.domain))
		} else {
			g.line("ip domain-name ", g.s(d.domain))
		}
	}
	if d.dns.present() {
		g.each(d.dns, "$s", func(s val) { g.line("ip name-server", inVRF, " ", g.s(s)) })
	} else {
		g.line("no ip domain lookup")
	}
	g.line("login block-for 120 attempts 3 within 60")
	g.line("login on-failure log")
	g.line("login on-success log")
	g.line("!")
	if switching {
		g.lineIf(d.vlans.present(), "vtp mode transparent")
		g.line("spanning-tree mode rapid-pvst")
		g.lineIf(d.feat.portfast, "spanning-tree portfast default")
		g.lineIf(d.feat.bpduguard, "spanning-tree portfast bpduguard default")
		g.line("spanning-tree extend system-id")
		g.line("!")
	}
	writeSecret(g, d.adminSecret, noUserSecret, "username "+g.s(d.adminUser)+" privilege 15 secret 9 ", "")
	g.line("!")
	if switching {
		g.each(d.vlans, "$v", func(v val) {
			g.line("vlan ", g.s(d.vlanID(g, v)))
			if d.vlanMaps {
				name := g.field(v, "name")
				g.when(func() { g.line(" name ", g.s(name)) }, name)
			}
			g.line("!")
		})
	}
	if d.feat.evpn && xe {
		writeXEEVPNGlobal(g, d)
	}
	if d.feat.mlag {
		g.line("! MLAG is not available on ", g.lit(d.platform), ": use StackWise Virtual or a vPC/MLAG-capable pair")
		g.line("!")
	}
}

// writeIOSLinks writes the port-channels and the uplink and downlink
// interfaces.
func writeIOSLinks(g *gen, d *device, c plan) {
	switching, ospf := c.switching, c.ospf
	bundle := d.feat.lacp && d.uplinks.present() && !d.uplinkRouted && switching
	trunk := func(val) { writeIOSTrunk(g, d) }
	if bundle {
		writeUplinkBundle(g, d, " ", "interface Port-channel", trunk)
	}
	eachDownlinkBundle(g, d, func(l, pc val) {
		if switching {
			writePortChannel(g, " ", "interface Port-channel", l, pc, trunk)
		}
	})
	eachLinkInterface(g, d, " ", func(lk link, u val) {
		switch {
		case lk.routed:
			ip, mask := g.field(u, "ip_address"), g.field(u, "ip_netmask")
			g.lineIf(switching, " no switchport")
			mtu, ok := d.linkMTU(g, u, 0)
			g.when(func() { g.line(" mtu ", mtu) }, ok)
			g.whenElse(func() {
				g.line(" ip address ", g.s(ip), " ", g.s(mask))
			}, func() {
				v6 := g.field(u, "ip")
				g.when(func() { g.line(" ipv6 address ", g.s(v6)) }, v6)
			}, ip, mask)
			if ospf {
				g.when(func() {
					g.line(" ip ospf network point-to-point")
					g.line(" ip ospf 1 area 0")
					if d.feat.bfd {
						g.line(" bfd interval 300 min_rx 300 multiplier 3")
						g.line(" ip ospf bfd")
					}
				}, d.ospfOn(g, u))
			}
		case !switching:
		case lk.downlink:
			writeIOSTrunk(g, d)
			pc := g.field(u, "port_channel")
			g.when(func() { g.line(" channel-group ", g.s(pc), " mode active") }, pc)
		default:
			writeIOSTrunk(g, d)
			g.lineIf(bundle, " channel-group 1 mode active")
		}
		g.line(" no shutdown")
		g.line("!")
	})
}

// writeIOSAccess writes the access ports, the management interface and
// the loopbacks.
func writeIOSAccess(g *gen, d *device, c plan) {
	xe, switching, ospf, mgmtSVI, vrf := c.xe, c.switching, c.ospf, c.mgmtSVI, c.vrf
	if d.feat.access && switching {
		ports := d.accessPorts.or("GigabitEthernet1/0/1 - 48")
		g.line("interface range ", g.s(ports))
		g.line(" description access port")
		if d.nativeVLAN.present() {
			g.line(" switchport trunk native vlan ", g.s(d.nativeVLAN))
			writeIOSTrunk(g, d)
		} else {
			g.line(" switchport mode access")
			d.namedVLAN(g, d.dataVLAN, dataNames, func(id val) { g.line(" switchport access vlan ", g.s(id)) })
		}
		if d.feat.voice {
			d.namedVLAN(g, d.voiceVLAN, voiceNames, func(id val) { g.line(" switchport voice vlan ", g.s(id)) })
		}
		g.line(" switchport nonegotiate")
		g.lineIf(d.feat.storm, " storm-control broadcast level 1.00")
		if d.feat.dot1x && d.aaa.radius.present() {
			g.line(" authentication port-control auto")
			g.line(" authentication order dot1x mab")
			g.line(" authentication priority dot1x mab")
			g.when(func() { g.line(" authentication event fail action authorize vlan ", g.s(d.guestVLAN)) }, d.guestVLAN)
			g.line(" mab")
			g.line(" dot1x pae authenticator")
		}
		g.lineIf(d.feat.portfast, " spanning-tree portfast")
		g.lineIf(d.feat.bpduguard, " spanning-tree bpduguard enable")
		g.line("!")
	}
	if d.mgmtIP.present() {
		mgmtIf := func(name string) {
			g.line("interface ", name)
			g.line(" description management")
			g.lineIf(vrf != "", " vrf forwarding ", vrf)
			if d.mgmtNetmask.present() {
				g.line(" ip address ", g.s(d.mgmtAddress), " ", g.s(d.mgmtNetmask))
			} else {
				g.line(" ipv6 address ", g.s(d.mgmtIP))
			}
			g.lineIf(vrf != "" && xe, " negotiation auto")
			g.line(" no shutdown")
			g.line("!")
		}
		if mgmtSVI {
			d.namedVLAN(g, d.mgmtVLAN, mgmtNames, func(id val) { mgmtIf("Vlan" + g.s(id)) })
		} else {
			mgmtIf("GigabitEthernet0/0")
		}
	}
	for _, l := range d.loopbacks {
		g.line("interface Loopback", itoa(l.n))
		if !l.netmask.present() {
			g.line(" ipv6 address ", g.s(l.cidr))
			g.line("!")
			continue
		}
		g.line(" ip address ", g.s(l.address), " ", g.s(l.netmask))
		g.lineIf(ospf, " ip ospf 1 area 0")
		g.line("!")
	}
}

// writeIOSSVIs writes the VLAN interfaces and the NVE.
func writeIOSSVIs(g *gen, d *device, c plan) {
	xe := c.xe
	eachSVI(g, d, func(v svi) {
		writeSVIHead(g, v, " ", "", "vrf forwarding ")
		g.whenElse(func() { g.line(" ip address ", g.s(v.ipAddress), " ", g.s(v.ipNetmask)) },
			func() { g.line(" ipv6 address ", g.s(v.ip)) }, v.ipNetmask)
		g.each(d.dhcpRelays, "$r", func(r val) { g.line(" ip helper-address ", g.s(r)) })
		g.when(func() {
			if d.feat.vrrp {
				g.line(" vrrp ", g.s(v.id), " ip ", g.s(v.virtualIP))
				g.when(func() { g.line(" vrrp ", g.s(v.id), " priority ", g.s(d.fhrpPriority)) }, d.fhrpPriority)
			} else {
				g.line(" standby ", g.s(v.id), " ip ", g.s(v.virtualIP))
				g.when(func() {
					g.line(" standby ", g.s(v.id), " priority ", g.s(d.fhrpPriority))
					g.line(" standby ", g.s(v.id), " preempt")
				}, d.fhrpPriority)
			}
		}, v.virtualIP)
		g.line(" no shutdown")
		g.line("!")
	})
	if d.feat.evpn && xe && d.vlans.present() {
		g.line("interface nve1")
		g.line(" no ip address")
		g.line(" source-interface Loopback", itoa(d.vtepLoopback()))
		g.line(" host-reachability protocol bgp")
		g.each(d.vlans, "$v", func(v val) {
			g.line(" member vni ", g.printf(vniFormat, d.vlanID(g, v)), " ingress-replication")
		})
		g.line("!")
	}
}

// writeIOSProtocols writes OSPF and BGP.
func writeIOSProtocols(g *gen, d *device, c plan) {
	xe, ospf := c.xe, c.ospf
	if ospf {
		g.line("router ospf 1")
		writeOSPFHead(g, d, " ")
		g.line("!")
	}
	if d.bgp() {
		writeRouteMaps(g, d)
		g.line("router bgp ", g.s(d.asn))
		g.when(func() { g.line(" bgp router-id ", g.s(d.routerID)) }, d.routerID)
		g.line(" bgp log-neighbor-changes")
		g.line(" no bgp default ipv4-unicast")
		eachNeighbor(g, d, func(ip, asn, desc val) {
			g.line(" neighbor ", g.s(ip), " remote-as ", g.s(asn))
			g.when(func() { g.line(" neighbor ", g.s(ip), " description ", g.s(desc)) }, desc)
		})
		if xe {
			eachOverlayPeer(g, d, func(ip, asn, desc val) {
				g.line(" neighbor ", g.s(ip), " remote-as ", g.s(asn))
				g.when(func() { g.line(" neighbor ", g.s(ip), " description ", g.s(desc)) }, desc)
				g.line(" neighbor ", g.s(ip), " update-source Loopback0")
				g.line(" neighbor ", g.s(ip), " ebgp-multihop 3")
			})
		}
		g.line(" !")
		g.line(" address-family ipv4")
		for _, l := range d.loopbacks {
			g.lineIf(l.netmask.present(), "  network ", g.s(l.address), " mask ", g.s(l.netmask))
		}
		if a, m := g.get("advertise_address"), g.get("advertise_netmask"); a.present() && m.present() {
			g.line("  network ", g.s(a), " mask ", g.s(m))
		}
		eachNeighbor(g, d, func(ip, _, _ val) {
			g.line("  neighbor ", g.s(ip), " activate")
			g.line("  neighbor ", g.s(ip), " route-map ", policyIn, " in")
			g.line("  neighbor ", g.s(ip), " route-map ", policyOut, " out")
		})
		g.line(" exit-address-family")
		if d.feat.evpn && xe {
			g.line(" !")
			g.line(" address-family l2vpn evpn")
			evpn := func(ip, _, _ val) {
				g.line("  neighbor ", g.s(ip), " activate")
				g.line("  neighbor ", g.s(ip), " send-community both")
			}
			if d.evpnPeers.present() {
				eachOverlayPeer(g, d, func(ip, asn, desc val) {
					evpn(ip, asn, desc)
					g.line("  neighbor ", g.s(ip), " route-map ", policyIn, " in")
					g.line("  neighbor ", g.s(ip), " route-map ", policyOut, " out")
				})
			} else {
				eachNeighbor(g, d, evpn)
			}
			g.line(" exit-address-family")
		}
		g.line("!")
	}
	if d.feat.evpn && !xe {
		g.line("! EVPN/VXLAN is not available on ", g.lit(d.platform), "; use cisco_xe or a data-centre platform")
		g.line("!")
	}
}

// writeIOSManagement writes management access: HTTP off, SSH, the
// management route, logging, SNMP, the banner, lines and NTP.
func writeIOSManagement(g *gen, d *device, c plan) {
	vrf, inVRF := c.vrf, c.inVRF
	g.line("ip forward-protocol nd")
	g.line("no ip http server")
	g.line("no ip http secure-server")
	g.line("!")
	g.line("ip ssh version 2")
	g.line("ip ssh time-out 60")
	g.line("ip ssh authentication-retries 3")
	if d.mgmtGateway.present() && d.mgmtIP.present() {
		switch {
		case vrf != "":
			g.line("ip route vrf ", vrf, " 0.0.0.0 0.0.0.0 ", g.s(d.mgmtGateway))
		case d.feat.layer2:
			g.line("ip default-gateway ", g.s(d.mgmtGateway))
		default:
			g.line("ip route 0.0.0.0 0.0.0.0 ", g.s(d.mgmtGateway))
		}
	}
	g.line("!")
	g.each(d.logHosts, "$s", func(s val) { g.line("logging host ", g.s(s), inVRF) })
	g.line("logging trap informational")
	g.line("!")
	writeIOSSNMP(g, d, "")
	writeBanner(g, d, "banner login ^C", "^C")
	g.line("!")
	g.line("line con 0")
	g.line(" exec-timeout 10 0")
	g.line(" logging synchronous")
	g.line("line vty 0 4")
	g.line(" exec-timeout 10 0")
	g.line(" transport input ssh")
	g.line(" transport output ssh")
	g.line("line vty 5 15")
	g.line(" exec-timeout 10 0")
	g.line(" transport input ssh")
	g.line(" transport output ssh")
	g.line("!")
	g.each(d.ntp, "$s", func(s val) { g.line("ntp server", inVRF, " ", g.s(s)) })
	g.lineIf(d.ntp.present(), "!")
	g.line("end")
}

// writeIOSTrunk writes the trunk lines of an IOS switch port.
func writeIOSTrunk(g *gen, d *device) {
	g.when(func() { g.line(" switchport trunk allowed vlan ", d.vlanList(g, ",")) }, d.vlans)
	g.line(" switchport mode trunk")
	g.line(" switchport nonegotiate")
}

// writeXEEVPNGlobal writes IOS-XE's global EVPN instances, one per VLAN.
func writeXEEVPNGlobal(g *gen, d *device) {
	g.line("l2vpn evpn")
	g.line(" replication-type ingress")
	g.line(" router-id Loopback0")
	g.line("!")
	g.each(d.vlans, "$v", func(v val) {
		id := d.vlanID(g, v)
		g.line("l2vpn evpn instance ", g.s(id), " vlan-based")
		g.line(" encapsulation vxlan")
		g.line("!")
		g.line("vlan configuration ", g.s(id))
		g.line(" member evpn-instance ", g.s(id), " vni ", g.printf(vniFormat, id))
		g.line("!")
	})
}

// writeIOSSNMP writes the snmp-server lines IOS, EOS and NX-OS share, when
// any SNMP var is given; vrf is EOS's management VRF.
func writeIOSSNMP(g *gen, d *device, vrf string) {
	wrote := false
	if d.snmpCommunity.present() {
		suffix := " RO"
		if d.platform == "cisco_nxos" {
			suffix = " group network-operator"
		}
		g.line("snmp-server community ", secretRef(g, d.snmpCommunity), suffix)
		wrote = true
	}
	if d.snmpLocation.present() {
		g.line("snmp-server location ", g.s(d.snmpLocation))
		wrote = true
	}
	if d.snmpContact.present() {
		g.line("snmp-server contact ", g.s(d.snmpContact))
		wrote = true
	}
	if wrote {
		g.lineIf(vrf != "", "snmp-server vrf ", vrf)
		g.line("!")
	}
}

// writeIOSAAA writes the TACACS+/RADIUS servers, their groups (in the
// management VRF when there is one) and the method lists.
func writeIOSAAA(g *gen, d *device, vrf string) {
	for _, gr := range d.aaa.groups() {
		kind, proto, port := "tacacs server ", "tacacs+", " port "
		if gr.name == "RADIUS" {
			kind, proto, port = "radius server ", "radius", " auth-port "
		}
		eachServer(g, gr.servers, gr.key, func(s server) {
			g.line(kind, g.s(s.addr))
			g.line(" address ipv4 ", g.s(s.addr), g.ifText(s.port, port+g.s(s.port)))
			g.when(func() { g.line(" key 6 ", secretRef(g, s.key)) }, s.key)
			g.line("!")
		})
		g.line("aaa group server ", proto, " ", gr.name)
		eachServer(g, gr.servers, gr.key, func(s server) { g.line(" server name ", g.s(s.addr)) })
		g.lineIf(vrf != "", " ip vrf forwarding ", vrf)
		g.line("!")
	}
	writeAAAMethods(g, d, "15")
	if d.aaa.radius.present() {
		g.line("aaa authentication dot1x default group RADIUS")
		if d.feat.dot1x {
			g.line("aaa authorization network default group RADIUS")
			g.line("dot1x system-auth-control")
		}
	}
}
