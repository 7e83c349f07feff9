package verify

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// Ref is one line of a config: where a fact came from.
type Ref struct {
	Line int    `json:"line,omitempty"`
	Text string `json:"text,omitempty"`
}

func ref(n *confparse.Node) Ref { return Ref{Line: n.Line, Text: n.Text} }

// Device is what the checks know of one device: the facts of its config
// that other devices' configs must agree with.
type Device struct {
	Hostname   string
	Platform   netcfg.Platform
	Interfaces []*Interface // in config order
	BGP        *BGP         // nil without "router bgp" (or Junos BGP)
	MLAG       *MLAG        // nil without an MLAG or vPC domain

	byName map[string]*Interface // by canonical name
}

// Address is one interface address.
type Address struct {
	Prefix netip.Prefix
	// Virtual addresses are shared by design: an EOS "ip address virtual"
	// or "ip virtual-router address", an NX-OS anycast-gateway SVI, an
	// HSRP/VRRP address. They are never duplicates and never BGP peers.
	Virtual bool
	Ref
}

// Interface is one interface (a Junos logical unit 0 is its physical
// interface; other units are "name.unit").
type Interface struct {
	Name         string
	VRF          string
	Addresses    []Address
	MTU          int // 0: not set
	MTURef       Ref
	Mode         string // "routed", "access", "trunk" or "" (not said)
	AllowedVLANs string // normalised: "1-4094", "10,20-30", names for Junos; "" when not a trunk
	AllowedRef   Ref
	ChannelGroup string // canonical name of the LAG this port is a member of
	ChannelRef   Ref
	Description  string
	PeerLink     bool // NX-OS "vpc peer-link"
	Ref
}

// BGP is a device's BGP process (the default VRF's ASN; neighbors of every
// VRF).
type BGP struct {
	ASN       string
	RouterID  string
	Neighbors []*Neighbor
	Ref
}

// Neighbor is one BGP neighbor with what its peer group or template gives
// it.
type Neighbor struct {
	Addr         netip.Addr
	VRF          string // "" for the default VRF
	RemoteAS     string
	UpdateSource string
	Multihop     bool
	Families     []string // "evpn", "ipv4", "ipv6", sorted
	Ref                   // the first line that names the neighbor
}

// MLAG is an EOS MLAG or NX-OS vPC domain.
type MLAG struct {
	Kind        string // "mlag" or "vpc"
	Domain      string
	PeerAddr    netip.Addr
	PeerRef     Ref
	LocalAddr   netip.Addr // local-interface address (EOS) or keepalive source (NX-OS)
	PeerLink    string     // canonical interface name; "" when not configured
	PeerLinkRef Ref
	Ref
}

// Interface returns the interface named name (any common spelling), or nil.
func (d *Device) Interface(name string) *Interface { return d.byName[canonIf(name)] }

func (d *Device) iface(name string, n Ref) *Interface {
	c := canonIf(name)
	if i := d.byName[c]; i != nil {
		return i
	}
	i := &Interface{Name: name, Ref: n}
	d.byName[c] = i
	d.Interfaces = append(d.Interfaces, i)
	return i
}

// ifAbbrev maps the letters of an abbreviated interface name to the full
// type, so that "Gi0/1", "gig0/1" and "GigabitEthernet0/1" are one port.
var ifAbbrev = map[string]string{
	"e": "ethernet", "et": "ethernet", "eth": "ethernet",
	"gi": "gigabitethernet", "gig": "gigabitethernet", "ge": "gigabitethernet",
	"te": "tengigabitethernet", "ten": "tengigabitethernet",
	"fa": "fastethernet", "tw": "twentyfivegige", "fo": "fortygigabitethernet",
	"hu": "hundredgige", "po": "port-channel", "portchannel": "port-channel",
	"lo": "loopback", "vl": "vlan", "mgmt": "management", "ma": "management",
}

// canonIf is the canonical form of an interface name: lower case, the type
// spelled out. Junos names (xe-0/0/0, ae0, lo0) keep their form.
func canonIf(name string) string {
	s := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	if strings.Contains(s, "-") && !strings.HasPrefix(s, "port-channel") {
		return s // Junos xe-0/0/0
	}
	i := strings.IndexAny(s, "0123456789")
	if i <= 0 {
		return s
	}
	if full, ok := ifAbbrev[s[:i]]; ok && !(s[:i] == "lo" && strings.Contains(s, ".")) {
		return full + s[i:]
	}
	return s
}

func isLoopback(name string) bool {
	c := canonIf(name)
	return strings.HasPrefix(c, "loopback") || strings.HasPrefix(c, "lo0") || c == "lo"
}

// Extract builds a device's model from its parsed config.
func Extract(hostname string, t *confparse.Tree) *Device {
	d := &Device{Hostname: hostname, Platform: t.Platform, byName: map[string]*Interface{}}
	if t.Format == confparse.FormatIndented {
		extractIndented(d, t)
	} else {
		extractJunos(d, t.Statements())
	}
	return d
}

func fields(s string) []string { return strings.Fields(s) }

func extractIndented(d *Device, t *confparse.Tree) {
	var eosLocal string
	for _, n := range t.Children {
		if !n.IsConfig() {
			continue
		}
		f := fields(n.Text)
		switch {
		case len(f) >= 2 && f[0] == "interface":
			indentedInterface(d, n, strings.Join(f[1:], ""))
		case len(f) >= 3 && f[0] == "router" && f[1] == "bgp":
			indentedBGP(d, n, f)
		case n.Text == "mlag configuration":
			m := &MLAG{Kind: "mlag", Ref: ref(n)}
			for _, c := range n.Children {
				cf := fields(c.Text)
				if !c.IsConfig() || len(cf) < 2 {
					continue
				}
				switch cf[0] {
				case "domain-id":
					m.Domain = cf[1]
				case "peer-address":
					if a, err := netip.ParseAddr(cf[1]); err == nil && len(cf) == 2 {
						m.PeerAddr, m.PeerRef = a, ref(c)
					}
				case "peer-link":
					m.PeerLink, m.PeerLinkRef = canonIf(strings.Join(cf[1:], "")), ref(c)
				case "local-interface":
					eosLocal = strings.Join(cf[1:], "")
				}
			}
			d.MLAG = m
		case len(f) == 3 && f[0] == "vpc" && f[1] == "domain":
			m := &MLAG{Kind: "vpc", Domain: f[2], Ref: ref(n)}
			for _, c := range n.ChildrenWithPrefix("peer-keepalive destination ") {
				cf := fields(c.Text)
				m.PeerAddr, _ = netip.ParseAddr(cf[2])
				m.PeerRef = ref(c)
				if i := slices.Index(cf, "source"); i > 0 && i+1 < len(cf) {
					m.LocalAddr, _ = netip.ParseAddr(cf[i+1])
				}
			}
			d.MLAG = m
		}
	}
	if d.MLAG == nil {
		return
	}
	if eosLocal != "" {
		if i := d.Interface(eosLocal); i != nil && len(i.Addresses) > 0 {
			d.MLAG.LocalAddr = i.Addresses[0].Prefix.Addr()
		}
	}
	if d.MLAG.Kind == "vpc" {
		for _, i := range d.Interfaces {
			if i.PeerLink {
				d.MLAG.PeerLink, d.MLAG.PeerLinkRef = canonIf(i.Name), i.Ref
			}
		}
	}
}

func indentedInterface(d *Device, n *confparse.Node, name string) {
	i := d.iface(name, ref(n))
	anycast := false
	for _, c := range n.Children {
		if !c.IsConfig() {
			continue
		}
		f := fields(c.Text)
		switch {
		case len(f) >= 3 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "address":
			virtual := f[2] == "virtual"
			if virtual {
				f = slices.Delete(f, 2, 3)
			}
			if p, ok := parsePrefix(f[2:]); ok {
				i.Addresses = append(i.Addresses, Address{Prefix: p, Virtual: virtual, Ref: ref(c)})
			}
		case len(f) >= 4 && f[0] == "ip" && f[1] == "virtual-router" && f[2] == "address":
			if p, ok := parsePrefix(f[3:]); ok {
				i.Addresses = append(i.Addresses, Address{Prefix: p, Virtual: true, Ref: ref(c)})
			}
		case c.Text == "fabric forwarding mode anycast-gateway":
			anycast = true
		case len(f) == 2 && f[0] == "mtu":
			i.MTU, _ = strconv.Atoi(f[1])
			i.MTURef = ref(c)
		case c.Text == "no switchport":
			i.Mode = "routed"
		case len(f) == 3 && f[0] == "switchport" && f[1] == "mode":
			i.Mode = f[2]
		case len(f) >= 5 && f[0] == "switchport" && f[1] == "trunk" && f[2] == "allowed" && f[3] == "vlan":
			i.AllowedVLANs = editVLANs(i.AllowedVLANs, f[4:])
			i.AllowedRef = ref(c)
		case len(f) >= 2 && f[0] == "channel-group":
			i.ChannelGroup, i.ChannelRef = "port-channel"+f[1], ref(c)
		case len(f) >= 2 && f[0] == "description":
			i.Description = strings.TrimSpace(strings.TrimPrefix(c.Text, "description"))
		case c.Text == "vpc peer-link":
			i.PeerLink = true
		case len(f) == 2 && f[0] == "vrf", len(f) == 3 && f[0] == "vrf" && (f[1] == "forwarding" || f[1] == "member"),
			len(f) == 4 && f[0] == "ip" && f[1] == "vrf" && f[2] == "forwarding":
			i.VRF = f[len(f)-1]
		}
	}
	if anycast {
		for k := range i.Addresses {
			i.Addresses[k].Virtual = true
		}
	}
	if i.Mode == "trunk" && i.AllowedVLANs == "" {
		i.AllowedVLANs = "1-4094"
	}
}

// parsePrefix reads "A/len", "A MASK" or "A/len secondary".
func parsePrefix(f []string) (netip.Prefix, bool) {
	if len(f) == 0 {
		return netip.Prefix{}, false
	}
	if p, err := netip.ParsePrefix(f[0]); err == nil {
		return p, true
	}
	if len(f) < 2 {
		return netip.Prefix{}, false
	}
	a, err1 := netip.ParseAddr(f[0])
	m, err2 := netip.ParseAddr(f[1])
	if err1 != nil || err2 != nil || !m.Is4() {
		return netip.Prefix{}, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&(1<<31) != 0 {
		bits, v = bits+1, v<<1
	}
	if v != 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits), true
}

// nbrConf is what a neighbor line sets for an address or a peer group.
type nbrConf struct {
	remoteAS, updateSource, group string
	multihop                      bool
	families                      []string
	ref                           Ref
	vrf                           string
}

func (c *nbrConf) inherit(g *nbrConf) {
	if c.remoteAS == "" {
		c.remoteAS = g.remoteAS
	}
	if c.updateSource == "" {
		c.updateSource = g.updateSource
	}
	c.multihop = c.multihop || g.multihop
	c.families = append(c.families, g.families...)
}

// family reduces an address-family line's words to evpn, ipv4 or ipv6.
func family(f []string) string {
	s := strings.Join(f, " ")
	switch {
	case strings.Contains(s, "evpn"):
		return "evpn"
	case strings.Contains(s, "ipv6") || strings.Contains(s, "inet6"):
		return "ipv6"
	case strings.Contains(s, "ipv4") || strings.Contains(s, "inet"):
		return "ipv4"
	}
	return s
}

type bgpBuilder struct {
	conf  map[string]*nbrConf // by vrf + " " + address or group name
	order []string
}

func (b *bgpBuilder) get(vrf, key string, n *confparse.Node) *nbrConf {
	k := vrf + " " + key
	c := b.conf[k]
	if c == nil {
		c = &nbrConf{ref: ref(n), vrf: vrf}
		b.conf[k] = c
		b.order = append(b.order, k)
	}
	return c
}

func indentedBGP(d *Device, n *confparse.Node, f []string) {
	vrf := ""
	if len(f) >= 5 && f[3] == "vrf" { // FRR "router bgp N vrf X"
		vrf = f[4]
	}
	if d.BGP == nil {
		d.BGP = &BGP{Ref: ref(n)}
	}
	if vrf == "" {
		d.BGP.ASN, d.BGP.Ref = f[2], ref(n)
	}
	b := &bgpBuilder{conf: map[string]*nbrConf{}}
	b.block(d, n.Children, vrf, "")
	for _, k := range b.order {
		c := b.conf[k]
		_, key, _ := strings.Cut(k, " ")
		a, err := netip.ParseAddr(key)
		if err != nil {
			continue
		}
		if c.group != "" {
			if g := b.conf[c.vrf+" "+c.group]; g != nil {
				c.inherit(g)
			} else if g := b.conf[" "+c.group]; g != nil {
				c.inherit(g)
			}
		}
		d.BGP.Neighbors = append(d.BGP.Neighbors, c.neighbor(a))
	}
}

func (c *nbrConf) neighbor(a netip.Addr) *Neighbor {
	fam := slices.Clone(c.families)
	slices.Sort(fam)
	return &Neighbor{Addr: a, VRF: c.vrf, RemoteAS: c.remoteAS, UpdateSource: c.updateSource,
		Multihop: c.multihop, Families: slices.Compact(fam), Ref: c.ref}
}

// block reads the statements of a router bgp block (or a vrf or
// address-family inside it); af is the address family the block is in.
func (b *bgpBuilder) block(d *Device, ns []*confparse.Node, vrf, af string) {
	for _, c := range ns {
		if !c.IsConfig() {
			continue
		}
		f := fields(c.Text)
		switch {
		case len(f) >= 2 && (f[0] == "router-id" || f[0] == "bgp" && f[1] == "router-id"):
			if vrf == "" {
				d.BGP.RouterID = f[len(f)-1]
			}
		case len(f) == 2 && f[0] == "vrf":
			b.block(d, c.Children, f[1], "")
		case len(f) >= 2 && f[0] == "address-family":
			v := vrf
			if i := slices.Index(f, "vrf"); i > 0 && i+1 < len(f) { // IOS "address-family ipv4 vrf X"
				v = f[i+1]
			}
			b.block(d, c.Children, v, family(f[1:]))
		case len(f) >= 2 && (f[0] == "template" && f[1] == "peer" && len(f) == 3):
			b.nxosNeighbor(d, c, vrf, f[2])
		case len(f) >= 2 && f[0] == "neighbor":
			if len(f) == 2 || len(f) >= 4 && f[2] == "remote-as" && len(c.Children) > 0 {
				// NX-OS "neighbor X" (or "neighbor X remote-as N") block
				nc := b.nxosNeighbor(d, c, vrf, f[1])
				if len(f) >= 4 {
					nc.remoteAS = f[3]
				}
				continue
			}
			b.neighborLine(c, f, vrf, af)
		}
	}
}

func (b *bgpBuilder) neighborLine(c *confparse.Node, f []string, vrf, af string) {
	nc := b.get(vrf, f[1], c)
	rest := f[2:]
	switch {
	case len(rest) >= 2 && rest[0] == "remote-as":
		nc.remoteAS = rest[1]
	case len(rest) >= 2 && rest[0] == "update-source":
		nc.updateSource = strings.Join(rest[1:], "")
	case len(rest) >= 1 && rest[0] == "ebgp-multihop":
		nc.multihop = true
	case len(rest) >= 2 && rest[0] == "peer-group":
		nc.group = rest[1]
	case len(rest) >= 3 && rest[0] == "peer" && rest[1] == "group":
		nc.group = rest[2]
	case len(rest) == 1 && rest[0] == "activate" && af != "":
		nc.families = append(nc.families, af)
	}
}

// nxosNeighbor reads an NX-OS "neighbor X" or "template peer T" block.
func (b *bgpBuilder) nxosNeighbor(d *Device, n *confparse.Node, vrf, key string) *nbrConf {
	nc := b.get(vrf, key, n)
	for _, c := range n.Children {
		f := fields(c.Text)
		if !c.IsConfig() || len(f) < 2 {
			continue
		}
		switch f[0] {
		case "remote-as":
			nc.remoteAS = f[1]
		case "update-source":
			nc.updateSource = strings.Join(f[1:], "")
		case "ebgp-multihop":
			nc.multihop = true
		case "inherit":
			if len(f) >= 3 && f[1] == "peer" {
				nc.group = f[2]
			}
		case "address-family":
			nc.families = append(nc.families, family(f[1:]))
		}
	}
	return nc
}

// editVLANs applies a "switchport trunk allowed vlan" argument list to the
// current allowed set.
func editVLANs(cur string, args []string) string {
	if len(args) == 0 {
		return cur
	}
	op, list := "", args[0]
	if len(args) >= 2 && (args[0] == "add" || args[0] == "remove" || args[0] == "except") {
		op, list = args[0], args[1]
	}
	if cur == "" {
		cur = "1-4094"
	}
	set := vlanSet(list)
	switch op {
	case "add":
		set = union(vlanSet(cur), set)
	case "remove":
		set = minus(vlanSet(cur), set)
	case "except":
		set = minus(vlanSet("1-4094"), set)
	}
	return formatVLANs(set)
}

// vlanSet reads "1-10,20", "all" or "none" as a 4096-bit set.
func vlanSet(s string) *[4096]bool {
	var set [4096]bool
	switch s {
	case "all":
		s = "1-4094"
	case "none":
		return &set
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, ok := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		z := a
		if ok {
			if z, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for v := max(a, 0); v <= z && v < len(set); v++ {
			set[v] = true
		}
	}
	return &set
}

func union(a, b *[4096]bool) *[4096]bool {
	for i := range a {
		a[i] = a[i] || b[i]
	}
	return a
}

func minus(a, b *[4096]bool) *[4096]bool {
	for i := range a {
		a[i] = a[i] && !b[i]
	}
	return a
}

func formatVLANs(set *[4096]bool) string {
	var parts []string
	for i := 0; i < len(set); i++ {
		if !set[i] {
			continue
		}
		j := i
		for j+1 < len(set) && set[j+1] {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(i))
		} else {
			parts = append(parts, strconv.Itoa(i)+"-"+strconv.Itoa(j))
		}
		i = j
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ",")
}

// junosIPMTUOverhead is what a Junos interface MTU counts beyond the IP
// packet (the Ethernet header), so that a Junos "mtu 9214" compares with an
// EOS or Cisco IP MTU of 9200.
const junosIPMTUOverhead = 14

// extractJunos reads the set-form statements of a Junos config (brace
// configs are flattened to the same statements by confparse).
func extractJunos(d *Device, sts []confparse.Statement) {
	type group struct {
		conf     nbrConf
		internal bool
	}
	type junosNeighbor struct {
		addr  netip.Addr
		group string
		conf  nbrConf
	}
	groups := map[string]*group{}
	var nbrs []*junosNeighbor
	ipMTU := map[*Interface]bool{} // the MTU came from "family inet mtu"
	for _, st := range sts {
		f := fields(strings.NewReplacer("[", " ", "]", " ", `"`, "").Replace(st.Text))
		if len(f) < 2 || f[0] != "set" {
			continue
		}
		r := Ref{Line: st.Line, Text: st.Text}
		f = f[1:]
		vrf := ""
		if len(f) >= 3 && f[0] == "routing-instances" {
			vrf = f[1]
			if f[2] == "interface" && len(f) == 4 {
				d.iface(junosUnitName(f[3]), r).VRF = vrf
				continue
			}
			f = f[2:]
		}
		switch {
		case vrf == "" && len(f) >= 3 && f[0] == "interfaces":
			name, rest := f[1], f[2:]
			if len(rest) >= 2 && rest[0] == "unit" {
				if rest[1] != "0" {
					name += "." + rest[1]
				}
				rest = rest[2:]
			}
			junosInterface(d.iface(name, r), rest, r, ipMTU)
		case vrf == "" && len(f) == 3 && f[0] == "routing-options" && (f[1] == "autonomous-system" || f[1] == "router-id"):
			if d.BGP == nil {
				d.BGP = &BGP{}
			}
			if f[1] == "router-id" {
				d.BGP.RouterID = f[2]
			} else {
				d.BGP.ASN, d.BGP.Ref = f[2], r
			}
		case len(f) >= 5 && f[0] == "protocols" && f[1] == "bgp" && f[2] == "group":
			key := vrf + " " + f[3]
			g := groups[key]
			if g == nil {
				g = &group{conf: nbrConf{ref: r, vrf: vrf}}
				groups[key] = g
			}
			rest := f[4:]
			if rest[0] != "neighbor" || len(rest) < 2 {
				junosBGP(&g.conf, rest, &g.internal)
				continue
			}
			a, err := netip.ParseAddr(rest[1])
			if err != nil {
				continue
			}
			i := slices.IndexFunc(nbrs, func(n *junosNeighbor) bool { return n.group == key && n.addr == a })
			if i < 0 {
				nbrs = append(nbrs, &junosNeighbor{addr: a, group: key, conf: nbrConf{ref: r, vrf: vrf}})
				i = len(nbrs) - 1
			}
			junosBGP(&nbrs[i].conf, rest[2:], &g.internal)
		}
	}
	for _, n := range nbrs {
		g := groups[n.group]
		n.conf.inherit(&g.conf)
		if d.BGP == nil {
			d.BGP = &BGP{Ref: n.conf.ref}
		}
		if n.conf.remoteAS == "" && g.internal {
			n.conf.remoteAS = d.BGP.ASN
		}
		d.BGP.Neighbors = append(d.BGP.Neighbors, n.conf.neighbor(n.addr))
	}
	for i, fromInet := range ipMTU {
		if !fromInet && i.MTU > 0 {
			i.MTU -= junosIPMTUOverhead
		}
	}
}

// junosUnitName is the interface name the model uses for a Junos
// "IF.UNIT": unit 0 is the physical interface.
func junosUnitName(s string) string { return strings.TrimSuffix(s, ".0") }

// junosInterface applies the words after "interfaces IF [unit U]".
func junosInterface(i *Interface, f []string, r Ref, ipMTU map[*Interface]bool) {
	switch {
	case len(f) == 2 && f[0] == "mtu":
		if !ipMTU[i] {
			i.MTU, _ = strconv.Atoi(f[1])
			i.MTURef, ipMTU[i] = r, false
		}
	case len(f) >= 2 && f[0] == "description":
		i.Description = strings.Join(f[1:], " ")
	case len(f) >= 3 && (f[0] == "ether-options" || f[0] == "gigether-options") && f[1] == "802.3ad":
		i.ChannelGroup, i.ChannelRef = f[2], r
	case len(f) >= 4 && f[0] == "family" && (f[1] == "inet" || f[1] == "inet6") && f[2] == "address":
		if p, err := netip.ParsePrefix(f[3]); err == nil {
			i.Addresses = append(i.Addresses, Address{Prefix: p, Ref: r})
			i.Mode = "routed"
		}
	case len(f) == 4 && f[0] == "family" && f[1] == "inet" && f[2] == "mtu":
		i.MTU, _ = strconv.Atoi(f[3])
		i.MTURef, ipMTU[i] = r, true
	case len(f) >= 4 && f[0] == "family" && f[1] == "ethernet-switching" && (f[2] == "interface-mode" || f[2] == "port-mode"):
		i.Mode = f[3]
	case len(f) >= 5 && f[0] == "family" && f[1] == "ethernet-switching" && f[2] == "vlan" && f[3] == "members":
		members := append(strings.Split(i.AllowedVLANs, ","), f[4:]...)
		members = slices.DeleteFunc(members, func(s string) bool { return s == "" })
		slices.Sort(members)
		i.AllowedVLANs, i.AllowedRef = strings.Join(slices.Compact(members), ","), r
	}
}

// junosBGP applies the words after "protocols bgp group G [neighbor X]".
func junosBGP(c *nbrConf, f []string, internal *bool) {
	switch {
	case len(f) == 2 && f[0] == "type":
		*internal = f[1] == "internal"
	case len(f) == 2 && f[0] == "peer-as":
		c.remoteAS = f[1]
	case len(f) == 2 && f[0] == "local-address":
		c.updateSource = f[1]
	case len(f) >= 1 && f[0] == "multihop":
		c.multihop = true
	case len(f) >= 2 && f[0] == "family":
		c.families = append(c.families, family(f[1:2]))
	}
}
