package sim

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/prompt"
)

// device is what the platform writers draw on: the spec's facts as vals
// (known now or at render time) and the features its requirements ask for.
type device struct {
	platform  string
	role      string
	osVersion string

	hostname val
	domain   val
	ntp      val // list (or a single server)
	dns      val
	logHosts val
	banner   val

	adminUser    val
	adminSecret  val
	enableSecret val

	snmpLocation  val
	snmpContact   val
	snmpCommunity val

	vlans     val
	vlanMaps  bool // vlans are {id, name} maps rather than ids
	dataVLAN  val
	voiceVLAN val
	mgmtVLAN  val

	mgmtIP      val // CIDR
	mgmtAddress val
	mgmtNetmask val
	mgmtGateway val

	uplinks      val
	uplinkRouted bool // the (first) uplink carries its own "ip"
	// downlinks are the links toward the devices below: routed
	// point-to-point links (an "ip" each) or LACP trunks ("port_channel").
	downlinks      val
	downlinkRouted bool
	mtu            val // routed link MTU, from vars or constants
	aaa            aaaServers
	evpnPeers      val // list of {ip, asn, description}: overlay sessions from Loopback0
	vrfs           val // list of {name, vni}
	virtualMAC     val // anycast gateway MAC
	fhrpPriority   val
	guestVLAN      val // 802.1X authentication-failure VLAN
	advertise      val // prefixes eBGP advertises (CIDR, or a list)
	dhcpRelays     val // DHCP relay (helper) addresses on every SVI
	nativeVLAN     val

	loopbacks []loopback

	asn       val
	routerID  val
	neighbors val // list of {ip, asn, description}
	// neighborsFromLinks: the BGP neighbors are the uplinks' and
	// downlinks' peers (peer_ip, peer_asn) because no bgp_neighbors were
	// given; neighbors then holds the uplinks and linkNeighbors the
	// downlinks.
	neighborsFromLinks bool
	linkNeighbors      val

	mlagPeer   val // peer hostname
	mlagIP     val // CIDR on the peer VLAN (EOS)
	mlagPeerIP val
	mlagDomain val
	mlagPorts  val
	// mlagLocalIP is this switch's own peer-keepalive address (vPC); the
	// management address when absent.
	mlagLocalIP val

	accessPorts val // platform range string

	feat features
}

type loopback struct {
	n       int
	cidr    val
	address val
	netmask val
}

type features struct {
	layer2    bool
	router    bool // a router rather than a switch: no switchport, no STP
	lacp      bool
	portfast  bool
	bpduguard bool
	voice     bool
	access    bool // access ports wanted
	mlag      bool
	evpn      bool
	ospf      bool
	anycast   bool // an anycast gateway (EOS ip address virtual) on SVIs
	vrrp      bool // VRRP rather than HSRP for an SVI's virtual_ip
	mgmtSVI   bool // management on an SVI in the management VLAN
	bfd       bool // BFD on routed links, for OSPF
	dot1x     bool // 802.1X with MAB on access ports (IOS)
	storm     bool // broadcast storm control on access ports
	// defaultOnly: accept only a default route from eBGP peers.
	defaultOnly bool
}

var (
	loopbackName = regexp.MustCompile(`^loopback(0|[1-9]\d{0,3})$`)
	majorMinor   = regexp.MustCompile(`^\d+(\.\d+)?`)
	mlagWith     = regexp.MustCompile(`(?i)\b(?:mlag|vpc|mc-lag)\s+(?:with|to|peer)\s+([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])`)
	negation     = regexp.MustCompile(`\b(no|not|without|never|disable|disabled)\s+(\w+\s+)?$`)
	negationTail = regexp.MustCompile(`^\s*(is\s+|are\s+)?(not|disabled)\b`)
)

// newDevice reads the spec into g and returns the device to write.
func newDevice(g *gen, s prompt.Spec) *device {
	req := strings.ToLower(s.Requirements)
	has := func(words ...string) bool {
		for _, w := range words {
			if mentions(req, w) {
				return true
			}
		}
		return false
	}
	role := strings.ToLower(strings.TrimSpace(s.Role))
	d := &device{
		platform:  s.Platform,
		role:      role,
		osVersion: s.OSVersion,
		feat: features{
			layer2:      role == "access" || has("layer-2", "layer 2", "l2 access"),
			router:      strings.Contains(role, "wan") || strings.Contains(role, "router") || role == "edge",
			lacp:        has("lacp", "port-channel", "port channel", "portchannel", "etherchannel", "802.3ad", "bundle"),
			portfast:    has("portfast", "edge port"),
			bpduguard:   has("bpduguard", "bpdu guard", "bpdu-guard"),
			voice:       has("voice"),
			mlag:        has("mlag", "mc-lag", "multi-chassis", "vpc"),
			evpn:        has("evpn", "vxlan"),
			ospf:        has("ospf"),
			anycast:     has("anycast", "ip address virtual"),
			vrrp:        has("vrrp"),
			mgmtSVI:     has("management svi", "mgmt svi"),
			bfd:         has("bfd"),
			dot1x:       has("802.1x", "dot1x"),
			storm:       has("storm control", "storm-control"),
			defaultOnly: has("default route only", "only a default route", "default-route only"),
		},
	}
	d.feat.access = has("access port") || d.feat.voice || d.feat.portfast || d.feat.bpduguard

	d.hostname = g.get("hostname")
	if !g.template && s.Hostname != "" {
		d.hostname = val{x: s.Hostname}
	}
	if !d.hostname.present() && g.template {
		// Every device has a hostname; the renderer must supply it.
		d.hostname = val{expr: "$.hostname", x: "hostname"}
	}
	d.domain = g.get("domain_name", "domain")
	d.ntp = g.get("ntp_servers", "ntp_server", "ntp")
	d.dns = g.get("name_servers", "dns_servers", "name_server", "dns_server")
	d.logHosts = g.get("logging_hosts", "syslog_servers", "logging_servers", "syslog_hosts", "logging_host", "syslog_server")
	d.banner = g.get("banner", "login_banner", "motd")

	d.adminUser = g.get("admin_user", "username")
	if !d.adminUser.present() {
		d.adminUser = val{x: "netadmin"}
	}
	d.enableSecret = g.get("enable_secret")
	d.adminSecret = g.get("admin_secret", "user_secret", "local_user_secret")
	if !d.adminSecret.present() {
		d.adminSecret = d.enableSecret
	}
	d.snmpLocation = g.get("snmp_location")
	d.snmpContact = g.get("snmp_contact")
	d.snmpCommunity = g.get("snmp_community")

	d.vlans = g.get("vlans")
	_, d.vlanMaps = first(elems(d.vlans.x)).(map[string]any)
	d.dataVLAN = g.get("data_vlan")
	d.voiceVLAN = g.get("voice_vlan")
	d.mgmtVLAN = g.get("mgmt_vlan")

	d.mgmtIP = g.get("mgmt_ip")
	if _, cidr := d.mgmtIP.x.(string); !cidr || !g.get("mgmt_ip_address").present() {
		d.mgmtIP = val{} // not an address in CIDR form
	}
	d.mgmtAddress = g.get("mgmt_ip_address")
	d.mgmtNetmask = g.get("mgmt_ip_netmask")
	d.mgmtGateway = g.get("mgmt_gateway", "default_gateway", "gateway")

	d.uplinks = g.get("uplinks")
	u, _ := first(elems(d.uplinks.x)).(map[string]any)
	if u == nil {
		d.uplinks = val{} // only lists of {port, peer, peer_port, …} are understood
	}
	d.uplinkRouted = truth(u["ip"]) && !d.feat.layer2
	d.downlinks = g.get("downlinks")
	dl, _ := first(elems(d.downlinks.x)).(map[string]any)
	if dl == nil {
		d.downlinks = val{}
	}
	d.downlinkRouted = truth(dl["ip"]) && !d.feat.layer2
	d.mtu = g.get("mtu", "p2p_mtu", "link_mtu")
	d.aaa = newAAAServers(g)
	d.evpnPeers = mapList(g.get("evpn_peers", "overlay_peers"))
	d.vrfs = mapList(g.get("vrfs"))
	d.virtualMAC = g.get("virtual_router_mac", "anycast_mac")
	d.fhrpPriority = g.get("fhrp_priority", "hsrp_priority", "vrrp_priority")
	d.nativeVLAN = g.get("native_vlan")
	d.guestVLAN = g.get("guest_vlan", "auth_fail_vlan")
	d.advertise = g.get("advertise", "advertised_prefixes")
	d.dhcpRelays = g.get("dhcp_relays", "dhcp_helpers", "helper_addresses")

	d.loopbacks = loopbacks(g)

	d.asn = g.get("asn", "bgp_asn")
	d.routerID = g.get("router_id")
	if !d.routerID.present() && len(d.loopbacks) > 0 && d.loopbacks[0].n == 0 && d.loopbacks[0].netmask.present() {
		d.routerID = d.loopbacks[0].address
	}
	d.neighbors = g.get("bgp_neighbors")
	if _, ok := first(elems(d.neighbors.x)).(map[string]any); !ok {
		d.neighbors = val{}
	}
	if !d.neighbors.present() && (truth(u["peer_ip"]) || truth(dl["peer_ip"])) {
		d.neighborsFromLinks = true
		if truth(u["peer_ip"]) {
			d.neighbors = d.uplinks
		}
		if truth(dl["peer_ip"]) {
			d.linkNeighbors = d.downlinks
		}
	}

	d.mlagPeer = g.get("mlag_peer", "vpc_peer")
	if !d.mlagPeer.present() {
		// "MLAG with dc1-leaf1b", but not "MLAG with its pair".
		if m := mlagWith.FindStringSubmatch(s.Requirements); m != nil && strings.ContainsAny(m[1], "0123456789-") {
			d.mlagPeer = val{x: m[1]}
		}
	}
	d.mlagIP = g.get("mlag_ip")
	d.mlagPeerIP = g.get("mlag_peer_ip", "vpc_peer_keepalive_ip")
	d.mlagLocalIP = g.get("vpc_keepalive_ip", "mlag_local_ip")
	d.mlagDomain = g.get("mlag_domain", "vpc_domain")
	d.mlagPorts = g.get("mlag_ports", "peer_link_ports", "vpc_peer_link")
	d.accessPorts = g.get("access_ports")
	return d
}

// mentions reports whether req asks for word: it holds word at a word
// start, and that mention is not negated ("no OSPF", "OSPF not used").
func mentions(req, word string) bool {
	for i := 0; ; {
		j := strings.Index(req[i:], word)
		if j < 0 {
			return false
		}
		at := i + j
		i = at + len(word)
		if at > 0 && isWordByte(req[at-1]) {
			continue
		}
		if negation.MatchString(req[max(0, at-24):at]) || negationTail.MatchString(req[i:]) {
			continue
		}
		return true
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// loopbacks returns the loopbackN vars given in CIDR form, lowest N first.
func loopbacks(g *gen) []loopback {
	seen := map[int]bool{}
	var out []loopback
	for _, m := range []map[string]any{g.vars, g.consts} {
		for k := range m {
			sm := loopbackName.FindStringSubmatch(k)
			if sm == nil {
				continue
			}
			n, err := strconv.Atoi(sm[1])
			if err != nil || seen[n] {
				continue
			}
			l := loopback{n: n, cidr: g.get(k), address: g.get(k + "_address"), netmask: g.get(k + "_netmask")}
			if !l.address.present() {
				continue // not in CIDR form
			}
			seen[n] = true
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b loopback) int { return cmp.Compare(a.n, b.n) })
	return out
}

// vtepLoopback is the loopback VXLAN is sourced from: Loopback1 when given,
// else Loopback0.
func (d *device) vtepLoopback() int {
	for _, l := range d.loopbacks {
		if l.n == 1 {
			return 1
		}
	}
	return 0
}

// ospfOn returns the condition for running OSPF on a routed uplink: it is
// not an eBGP peering (it has no peer_asn).
func (d *device) ospfOn(g *gen, u val) val { return g.not(g.field(u, "peer_asn")) }

// bgp reports whether BGP is to be configured.
func (d *device) bgp() bool { return d.asn.present() }

// roles returns what the device does, as the writers test it: whether it
// routes (it is not a layer-2 switch), whether its uplinks are one LACP
// trunk (a bundle), and whether it routes with BGP and with OSPF.
func (d *device) roles() (routed, bundle, bgp, ospf bool) {
	routed = !d.feat.layer2
	return routed, d.feat.lacp && d.uplinks.present() && !d.uplinkRouted, d.bgp() && routed, d.feat.ospf && routed
}

// neighbor returns a BGP neighbor's address, remote AS and description.
func (d *device) neighbor(g *gen, n val) (ip, asn, desc val) {
	if d.neighborsFromLinks {
		return g.field(n, "peer_ip"), g.field(n, "peer_asn"), g.field(n, "peer")
	}
	return g.field(n, "ip"), g.field(n, "asn"), g.field(n, "description")
}

// mapList returns v when it is a list of maps (judged by its first
// element), else nothing.
func mapList(v val) val {
	if _, ok := first(elems(v.x)).(map[string]any); !ok {
		return val{}
	}
	return v
}

// vlanID returns a VLAN list element's id.
func (d *device) vlanID(g *gen, v val) val {
	if d.vlanMaps {
		return g.field(v, "id")
	}
	return v
}

// vlanList returns the VLAN ids joined by sep, inline.
func (d *device) vlanList(g *gen, sep string) string {
	return g.join(d.vlans, sep, "$v", func(v val) string { return g.s(d.vlanID(g, v)) })
}

// namedVLAN writes fn once for the VLAN var explicit (when given) or else for
// every VLAN whose name is one of names.
func (d *device) namedVLAN(g *gen, explicit val, names []string, fn func(id val)) {
	if explicit.present() {
		fn(explicit)
		return
	}
	if !d.vlanMaps {
		return
	}
	g.each(d.vlans, "$v", func(v val) {
		g.when(func() { fn(g.field(v, "id")) }, g.nameIs(g.field(v, "name"), names...))
	})
}

var (
	dataNames  = []string{"DATA", "Data", "data", "USERS", "Users", "users"}
	voiceNames = []string{"VOICE", "Voice", "voice"}
	mgmtNames  = []string{"MGMT", "Mgmt", "mgmt", "MANAGEMENT", "Management", "management"}
)

// hasNamedVLAN reports whether the (example) VLANs hold one named as names.
func (d *device) hasNamedVLAN(names []string) bool {
	if !d.vlanMaps {
		return false
	}
	for _, x := range elems(d.vlans.x) {
		if m, ok := x.(map[string]any); ok {
			if s, ok := m["name"].(string); ok && slices.Contains(names, s) {
				return true
			}
		}
	}
	return false
}

// osMajorMinor returns "17.9" for "17.9.4a", "15.2" for "15.2(7)E".
func osMajorMinor(v string) string {
	return majorMinor.FindString(strings.TrimSpace(v))
}

// plan is what the parts of one config share: the device's roles and its
// management VRF as the platform names and places it.
type plan struct {
	routed, bundle, bgp, ospf bool   // see device.roles
	mgmt                      bool   // a management address is given
	vrf                       string // the management VRF, or ""
	inVRF                     string // the VRF as the platform places it beside an argument, or ""
	xe, switching, mgmtSVI    bool   // IOS: IOS-XE; not a router; management through an SVI
	ibgp                      bool   // NX-OS: the vPC pair peers over iBGP
}

// newPlan returns d's roles and management address; each writer adds the
// rest.
func newPlan(d *device) plan {
	p := plan{mgmt: d.mgmtIP.present()}
	p.routed, p.bundle, p.bgp, p.ospf = d.roles()
	return p
}

// write writes the parts of a config in order.
func (p plan) write(g *gen, d *device, parts ...func(*gen, *device, plan)) {
	for _, part := range parts {
		part(g, d, p)
	}
}
