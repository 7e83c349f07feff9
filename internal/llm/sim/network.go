package sim

import "strings"

// This file holds what the platform writers share about the network around
// a device: AAA servers, links, SVIs, VRFs and BGP sessions. Each helper
// decides what to write once; the writers supply only the syntax.

// aaaServers are the TACACS+ and RADIUS servers a device logs in through.
type aaaServers struct {
	tacacs, radius       val // lists of addresses or names, or of {address, port, vrf, key}
	tacacsKey, radiusKey val // the shared key's secret reference
}

func newAAAServers(g *gen) aaaServers {
	return aaaServers{
		tacacs:    g.get("tacacs_servers", "tacacs_server", "tacacs_hosts"),
		radius:    g.get("radius_servers", "radius_server", "radius_hosts"),
		tacacsKey: g.get("tacacs_key", "tacacs_secret"),
		radiusKey: g.get("radius_key", "radius_secret"),
	}
}

// server is one AAA server entry.
type server struct {
	addr, port, vrf, key val
}

// eachServer calls fn for every entry of list that has an address, with the
// shared key as the key of entries that give none.
func eachServer(g *gen, list, sharedKey val, fn func(s server)) {
	g.each(list, "$a", func(item val) {
		s := server{addr: item, key: sharedKey}
		if _, ok := item.x.(map[string]any); ok {
			s = server{addr: g.field(item, "address"), port: g.field(item, "port"), vrf: g.field(item, "vrf")}
			own := g.field(item, "key")
			g.when(func() {
				g.whenElse(func() { s.key = own; fn(s) }, func() { s.key = sharedKey; fn(s) }, own)
			}, s.addr)
			return
		}
		g.when(func() { fn(s) }, s.addr)
	})
}

// aaaGroup is a server group AAA uses, named as the platform writes it.
type aaaGroup struct {
	name    string // TACACS or RADIUS
	servers val
	key     val
}

// groups returns the server groups to log in through, TACACS+ first.
func (a aaaServers) groups() []aaaGroup {
	var out []aaaGroup
	if a.tacacs.present() {
		out = append(out, aaaGroup{"TACACS", a.tacacs, a.tacacsKey})
	}
	if a.radius.present() {
		out = append(out, aaaGroup{"RADIUS", a.radius, a.radiusKey})
	}
	return out
}

// serverMethods returns the AAA method list of the server groups alone,
// "group TACACS group RADIUS", or "" without servers.
func (a aaaServers) serverMethods() string {
	var m []string
	for _, gr := range a.groups() {
		m = append(m, "group "+gr.name)
	}
	return strings.Join(m, " ")
}

// methods returns the AAA method list for login: every server group, then
// local.
func (a aaaServers) methods() string {
	return strings.TrimSpace(a.serverMethods() + " local")
}

// keyText returns " key <ref>" with the platform's key type, or "" when
// the server has no key.
func keyText(g *gen, k val, prefix string) string {
	return g.ifText(k, prefix+secretRef(g, k))
}

// link is one uplink or downlink list and how its members are written.
type link struct {
	list     val
	routed   bool // each member carries its own "ip"
	downlink bool
}

// links returns the uplinks, then the downlinks.
func (d *device) links() []link {
	return []link{{d.uplinks, d.uplinkRouted, false}, {d.downlinks, d.downlinkRouted, true}}
}

// linkMTU returns the MTU of routed link u: its own mtu, else the mtu var
// or constant, else the platform's jumbo default (def; 0 for none, when
// the whole line is left out).
func (d *device) linkMTU(g *gen, u val, def int) (text string, cond val) {
	own := g.field(u, "mtu")
	switch {
	case d.mtu.present():
		return g.ifElseText(own, g.s(own), g.s(d.mtu)), val{x: true}
	case def > 0:
		return g.ifElseText(own, g.s(own), itoa(def)), val{x: true}
	}
	return g.s(own), own
}

// eachDownlinkBundle calls fn for every non-routed downlink that names its
// port_channel: one LACP port-channel toward the device below.
func eachDownlinkBundle(g *gen, d *device, fn func(l, pc val)) {
	if d.downlinkRouted {
		return
	}
	g.each(d.downlinks, "$l", func(l val) {
		pc := g.field(l, "port_channel")
		g.when(func() { fn(l, pc) }, pc)
	})
}

// svi is a VLAN's routed interface: its address and gateway settings.
type svi struct {
	id, name, ip, vrf, virtualIP val
	ipAddress, ipNetmask         val
}

// eachSVI calls fn for every VLAN that gives an svi_ip, on routed devices.
func eachSVI(g *gen, d *device, fn func(s svi)) {
	if !d.vlanMaps || d.feat.layer2 {
		return
	}
	g.each(d.vlans, "$v", func(v val) {
		s := svi{
			id: g.field(v, "id"), name: g.field(v, "name"), ip: g.field(v, "svi_ip"),
			vrf: g.field(v, "vrf"), virtualIP: g.field(v, "virtual_ip"),
			ipAddress: g.field(v, "svi_ip_address"), ipNetmask: g.field(v, "svi_ip_netmask"),
		}
		g.when(func() { fn(s) }, s.ip)
	})
}

// vni returns the text of a VLAN's VXLAN VNI: its own "vni" when the VLAN
// map gives one, else 10000 + id.
func (d *device) vni(g *gen, v val) string {
	id := d.vlanID(g, v)
	if !d.vlanMaps {
		return g.printf(vniFormat, id)
	}
	own := g.field(v, "vni")
	return g.ifElseText(own, g.s(own), g.printf(vniFormat, id))
}

// eachVRF calls fn for every tenant VRF with its name and L3 VNI.
func eachVRF(g *gen, d *device, fn func(name, vni val)) {
	g.each(d.vrfs, "$f", func(f val) {
		name := g.field(f, "name")
		g.when(func() { fn(name, g.field(f, "vni")) }, name)
	})
}

// eachOverlayPeer calls fn for every EVPN overlay peer (a loopback
// session) that has an address and a remote AS.
func eachOverlayPeer(g *gen, d *device, fn func(ip, asn, desc val)) {
	g.each(d.evpnPeers, "$o", func(o val) {
		ip, asn, desc := g.field(o, "ip"), g.field(o, "asn"), g.field(o, "description")
		g.when(func() { fn(ip, asn, desc) }, ip, asn)
	})
}

// mlagIBGP reports whether the MLAG pair peers over iBGP across the peer
// SVI, and the peer's address there.
func (d *device) mlagIBGP() (val, bool) {
	if !d.feat.mlag || !d.bgp() || d.feat.layer2 || !d.mlagIP.present() || !d.mlagPeerIP.present() {
		return val{}, false
	}
	return d.mlagPeerIP, true
}

// Names of the eBGP policies every external session gets, in and out.
const (
	policyIn  = "BGP-IN"
	policyOut = "BGP-OUT"
)

// writeRouteMaps writes the eBGP route-maps IOS, EOS and NX-OS share. By
// default they accept what the peers send and advertise what BGP carries;
// "default route only" in the requirements narrows the inbound one to
// 0.0.0.0/0, and an advertise var or constant narrows the outbound one to
// those prefixes.
func writeRouteMaps(g *gen, d *device) {
	g.lineIf(d.feat.defaultOnly, "ip prefix-list ", policyIn, " permit 0.0.0.0/0")
	g.each(d.advertise, "$p", func(p val) { g.line("ip prefix-list ", policyOut, " permit ", g.s(p)) })
	g.lineIf(d.feat.defaultOnly || d.advertise.present(), "!")
	routeMap := func(name string, match bool) {
		g.line("route-map ", name, " permit 10")
		g.lineIf(match, " match ip address prefix-list ", name)
		g.line("!")
	}
	routeMap(policyIn, d.feat.defaultOnly)
	routeMap(policyOut, d.advertise.present())
}

// svis returns the example VLANs that are routed: whether any SVI is
// written (decided by the example in template mode).
func (d *device) svis() []any {
	if !d.vlanMaps || d.feat.layer2 {
		return nil
	}
	var out []any
	for _, x := range elems(d.vlans.x) {
		if m, ok := x.(map[string]any); ok && truth(m["svi_ip"]) {
			out = append(out, x)
		}
	}
	return out
}

// eachLinkInterface calls fn for every uplink and downlink that names its
// port, after writing its "interface PORT" and description lines (indent
// is the platform's).
func eachLinkInterface(g *gen, d *device, indent string, fn func(lk link, u val)) {
	for _, lk := range d.links() {
		g.each(lk.list, "$u", func(u val) {
			port := g.field(u, "port")
			g.when(func() {
				g.line("interface ", g.s(port))
				writeUplinkDescription(g, u, indent+"description ", "")
				fn(lk, u)
			}, port)
		})
	}
}

// writeAAAMethods writes the IOS and EOS method lists: login and exec
// through the server groups then local, and with servers, command
// authorization and accounting at level (IOS "15", EOS "all").
func writeAAAMethods(g *gen, d *device, level string) {
	m, servers := d.aaa.methods(), d.aaa.serverMethods()
	g.line("aaa authentication login default ", m)
	g.line("aaa authorization exec default ", m)
	if servers != "" {
		g.line("aaa authorization commands ", level, " default ", m)
		g.line("aaa accounting exec default start-stop ", servers)
		g.line("aaa accounting commands ", level, " default start-stop ", servers)
	}
}

// writeLoopbacks writes an interface per loopback address, in CIDR form,
// named head and its number, as EOS and NX-OS do: its role (router-id,
// VTEP) as the description, and ospf, the line that puts it in OSPF, when
// that is not empty.
func writeLoopbacks(g *gen, d *device, in, head, ospf string) {
	for _, l := range d.loopbacks {
		g.line(head, itoa(l.n))
		switch {
		case l.n == 0:
			g.line(in, "description router-id")
		case l.n == 1 && d.feat.evpn:
			g.line(in, "description VTEP")
		}
		g.line(in, "ip address ", g.s(l.cidr))
		g.lineIf(ospf != "", in, ospf)
		g.line("!")
	}
}

// writePeerLinkMembers writes the MLAG or vPC (kind) peer link's member
// ports, mlag_ports or else the platform's defaults, each with its
// description and the lines of body.
func writePeerLinkMembers(g *gen, d *device, in string, defaults []any, kind string, body ...string) {
	g.each(d.mlagPorts.or(defaults), "$p", func(p val) {
		// Inside the range: the peer's name is written from there.
		desc := "description " + kind + " peer link" + peerSuffix(g, d)
		g.block("interface "+g.s(p), in, append([]string{desc}, body...)...)
	})
}

// writeSVIHead writes the first lines of a VLAN's interface: its name and
// description, then noShutdown when the platform wants it there (else ""),
// and its VRF with the platform's keyword.
func writeSVIHead(g *gen, v svi, in, noShutdown, vrfKeyword string) {
	g.line("interface Vlan", g.s(v.id))
	g.when(func() { g.line(in, "description ", g.s(v.name)) }, v.name)
	g.lineIf(noShutdown != "", in, noShutdown)
	g.when(func() { g.line(in, vrfKeyword, g.s(v.vrf)) }, v.vrf)
}

// writeUplinkBundle writes port-channel 1, the uplinks' LACP trunk, named
// head and its number: the description, then the lines body writes.
func writeUplinkBundle(g *gen, d *device, in, head string, body func(pc val)) {
	g.line(head, "1")
	g.line(in, "description LACP uplink to ", g.join(d.uplinks, ", ", "$u", peerName(g)))
	body(val{x: 1})
	g.line("!")
}

// writePortChannel writes downlink l's port-channel pc, named head and its
// number: the description, then the lines body writes.
func writePortChannel(g *gen, in, head string, l, pc val, body func(pc val)) {
	g.line(head, g.s(pc))
	writeUplinkDescription(g, l, in+"description ", "")
	body(pc)
	g.line("!")
}

// writeNetworks writes the BGP network statements in CIDR form, indented
// by in: every loopback, then the prefixes to advertise.
func writeNetworks(g *gen, d *device, in string) {
	for _, l := range d.loopbacks {
		g.line(in, "network ", g.s(l.cidr))
	}
	g.each(d.advertise, "$p", func(p val) { g.line(in, "network ", g.s(p)) })
}

// writeOSPFHead writes the first lines of router ospf as IOS and EOS write
// them: the router-id, and with routed uplinks every interface passive but
// the uplinks that run OSPF.
func writeOSPFHead(g *gen, d *device, in string) {
	g.when(func() { g.line(in, "router-id ", g.s(d.routerID)) }, d.routerID)
	if d.uplinkRouted {
		g.line(in, "passive-interface default")
		g.each(d.uplinks, "$u", func(u val) {
			port := g.field(u, "port")
			g.when(func() { g.line(in, "no passive-interface ", g.s(port)) }, port, d.ospfOn(g, u))
		})
	}
}
