package verify

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"netsmith/internal/netcfg"
)

// owner is a device interface that holds an address.
type owner struct {
	dev   *Device
	iface *Interface
	addr  Address
}

// link is a point-to-point link between two device ports; ip is the
// address the fleet gives that end ("" when it gives none).
type link struct{ a, b linkEnd }

type linkEnd struct{ dev, port, ip string }

type checker struct {
	devs     map[string]*Device
	order    []*Device
	owners   map[netip.Addr][]owner // non-virtual addresses
	fleet    map[string]netcfg.Device
	hasFleet bool
	// fleetAddr is the device the fleet gives an address to.
	fleetAddr map[netip.Addr]string
	// external[device][addr]: the fleet marks that device's peer at addr
	// as outside the set.
	external map[string]map[netip.Addr]bool
	fleetLnk []link
	nbrs     map[*Device]map[netip.Addr]*Neighbor // each device's first neighbor per address
	findings []Finding
}

func newChecker(devs []*Device, fleet []netcfg.Device) *checker {
	c := &checker{devs: map[string]*Device{}, order: devs, owners: map[netip.Addr][]owner{},
		fleet: map[string]netcfg.Device{}, hasFleet: fleet != nil,
		fleetAddr: map[netip.Addr]string{}, external: map[string]map[netip.Addr]bool{}}
	c.nbrs = make(map[*Device]map[netip.Addr]*Neighbor, len(devs))
	for _, d := range devs {
		c.devs[d.Hostname] = d
		if d.BGP != nil {
			m := make(map[netip.Addr]*Neighbor, len(d.BGP.Neighbors))
			for _, n := range d.BGP.Neighbors {
				if m[n.Addr] == nil {
					m[n.Addr] = n
				}
			}
			c.nbrs[d] = m
		}
		for _, i := range d.Interfaces {
			for _, a := range i.Addresses {
				if !a.Virtual {
					c.owners[a.Prefix.Addr()] = append(c.owners[a.Prefix.Addr()], owner{d, i, a})
				}
			}
		}
	}
	for _, fd := range fleet {
		c.fleet[fd.Hostname] = fd
	}
	for _, fd := range fleet {
		c.readFleet(fd)
	}
	return c
}

// entries returns the list of maps at vars[key].
func entries(vars map[string]any, key string) []map[string]any {
	list, _ := vars[key].([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(m map[string]any, key string) string {
	if v, ok := m[key]; ok && v != nil {
		return strings.TrimSpace(fmt.Sprint(v))
	}
	return ""
}

// hostAddr reads "10.0.0.1" or "10.0.0.1/31" as an address.
func hostAddr(s string) (netip.Addr, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

func (c *checker) readFleet(fd netcfg.Device) {
	host := fd.Hostname
	for _, k := range []string{"loopback0", "loopback1", "mlag_ip", "mgmt_ip"} {
		if a, ok := hostAddr(str(fd.Vars, k)); ok {
			c.fleetAddr[a] = host
		}
	}
	markExternal := func(s string) {
		if a, ok := hostAddr(s); ok {
			if c.external[host] == nil {
				c.external[host] = map[netip.Addr]bool{}
			}
			c.external[host][a] = true
		}
	}
	for _, key := range []string{"uplinks", "downlinks", "external_peers", "bgp_neighbors"} {
		for _, e := range entries(fd.Vars, key) {
			peer := str(e, "peer")
			_, inFleet := c.fleet[peer]
			if peer != "" && !inFleet {
				markExternal(str(e, "peer_ip"))
			}
			if key == "bgp_neighbors" && str(e, "external") == "true" {
				markExternal(str(e, "ip"))
			}
			if key != "uplinks" && key != "downlinks" {
				continue
			}
			if a, ok := hostAddr(str(e, "ip")); ok {
				c.fleetAddr[a] = host
			}
			if port := str(e, "port"); port != "" && inFleet && str(e, "peer_port") != "" {
				c.addFleetLink(linkEnd{host, port, str(e, "ip")}, linkEnd{peer, str(e, "peer_port"), ""})
			}
		}
	}
}

// addFleetLink records a link once, whichever end lists it; the second
// listing fills in the address the first did not know.
func (c *checker) addFleetLink(a, b linkEnd) {
	for k := range c.fleetLnk {
		l := &c.fleetLnk[k]
		if l.a.dev == b.dev && canonIf(l.a.port) == canonIf(b.port) && l.b.dev == a.dev && canonIf(l.b.port) == canonIf(a.port) {
			l.b.ip = a.ip
			return
		}
	}
	c.fleetLnk = append(c.fleetLnk, link{a, b})
}

// inferLinks finds point-to-point links from addresses: a /31 or /30 (or
// IPv6 /127) subnet that exactly two devices have an address in.
func (c *checker) inferLinks() []link {
	type key struct {
		vrf    string
		prefix netip.Prefix
	}
	subnets := map[key][]owner{}
	var keys []key
	for _, d := range c.order {
		for _, i := range d.Interfaces {
			for _, a := range i.Addresses {
				bits := a.Prefix.Bits()
				if a.Virtual || !(a.Prefix.Addr().Is4() && (bits == 31 || bits == 30) || bits == 127) {
					continue
				}
				k := key{i.VRF, a.Prefix.Masked()}
				if subnets[k] == nil {
					keys = append(keys, k)
				}
				subnets[k] = append(subnets[k], owner{d, i, a})
			}
		}
	}
	var out []link
	for _, k := range keys {
		o := subnets[k]
		switch {
		case len(o) == 2 && o[0].dev != o[1].dev:
			out = append(out, link{linkEnd{o[0].dev.Hostname, o[0].iface.Name, ""}, linkEnd{o[1].dev.Hostname, o[1].iface.Name, ""}})
		case len(o) == 1:
			c.add(Warning, "link-one-end", o[0].dev.Hostname, o[0].addr.Ref, "", Ref{},
				"%s has the only address in point-to-point subnet %s: no device in the set has the other end", o[0].iface.Name, k.prefix)
		}
	}
	return out
}

// links checks both ends of every point-to-point link: configured, one
// subnet, distinct addresses, the MTU, LAG membership and trunk VLANs.
func (c *checker) links() {
	lnks := c.fleetLnk
	if !c.hasFleet {
		lnks = c.inferLinks()
	}
	missing := map[string]bool{}
	for _, l := range lnks {
		da, db := c.devs[l.a.dev], c.devs[l.b.dev]
		for _, e := range []linkEnd{l.a, l.b} {
			if c.devs[e.dev] == nil && !missing[e.dev] {
				missing[e.dev] = true
				c.add(Warning, "config-missing", e.dev, Ref{}, "", Ref{}, "the fleet lists %s but the set has no config for it: its links and sessions are not checked", e.dev)
			}
		}
		if da == nil || db == nil {
			continue
		}
		ia, ib := da.Interface(l.a.port), db.Interface(l.b.port)
		if ia == nil || ib == nil {
			for _, s := range [][2]linkEnd{{l.a, l.b}, {l.b, l.a}} {
				me, other := s[0], s[1]
				if c.devs[me.dev].Interface(me.port) != nil {
					continue
				}
				var pr Ref
				if oi := c.devs[other.dev].Interface(other.port); oi != nil {
					pr = oi.Ref
				}
				c.add(Error, "link-interface-missing", me.dev, Ref{}, other.dev, pr,
					"link to %s %s: interface %s is not configured", other.dev, other.port, me.port)
			}
			continue
		}
		c.checkLink(da, ia, l.a, db, ib, l.b)
	}
}

func firstAddr(i *Interface, v4 bool) (Address, bool) {
	for _, a := range i.Addresses {
		if !a.Virtual && a.Prefix.Addr().Is4() == v4 {
			return a, true
		}
	}
	return Address{}, false
}

func mtu(i *Interface) int {
	if i.MTU > 0 {
		return i.MTU
	}
	return 1500
}

func (c *checker) checkLink(da *Device, ia *Interface, ea linkEnd, db *Device, ib *Interface, eb linkEnd) {
	// LAG membership: a member on one end only bundles nothing.
	if (ia.ChannelGroup == "") != (ib.ChannelGroup == "") {
		me, mi, other, oi := da, ia, db, ib
		if ia.ChannelGroup == "" {
			me, mi, other, oi = db, ib, da, ia
		}
		c.add(Error, "lag-one-sided", me.Hostname, mi.ChannelRef, other.Hostname, oi.Ref,
			"%s is a member of %s but %s %s is in no LAG", mi.Name, mi.ChannelGroup, other.Hostname, oi.Name)
	}
	la, lb := lagOf(da, ia), lagOf(db, ib)
	if la.Mode == "trunk" && lb.Mode == "trunk" && la.AllowedVLANs != lb.AllowedVLANs {
		// A trunk whose far end allows more VLANs than it does only
		// carries the VLANs both allow: untidy, not broken (a
		// distribution switch allows every access VLAN toward each access
		// switch). VLANs that each end allows and the other does not are
		// a mistake.
		sev, check := Error, "trunk-vlans-mismatch"
		if onlyA, onlyB, ok := vlanDiff(la.AllowedVLANs, lb.AllowedVLANs); ok && (onlyA == "none" || onlyB == "none") {
			sev, check = Warning, "trunk-vlans-subset"
		}
		c.add(sev, check, da.Hostname, cmpRef(la.AllowedRef, la.Ref), db.Hostname, cmpRef(lb.AllowedRef, lb.Ref),
			"trunk %s allows VLANs %s but %s %s allows %s", la.Name, la.AllowedVLANs, db.Hostname, lb.Name, lb.AllowedVLANs)
	}
	routed := len(ia.Addresses) > 0 || len(ib.Addresses) > 0 || ea.ip != "" || eb.ip != ""
	if !routed || la != ia || lb != ib {
		return
	}
	pa, okA := firstAddr(ia, true)
	pb, okB := firstAddr(ib, true)
	if !okA || !okB {
		for _, s := range []struct {
			ok     bool
			d, o   *Device
			i, oi  *Interface
			e      linkEnd
			oaddr  Address
			oaddOK bool
		}{{okA, da, db, ia, ib, ea, pb, okB}, {okB, db, da, ib, ia, eb, pa, okA}} {
			if s.ok {
				continue
			}
			want := ""
			if s.e.ip != "" {
				want = " (the fleet gives it " + s.e.ip + ")"
			}
			c.add(Error, "link-address-missing", s.d.Hostname, s.i.Ref, s.o.Hostname, s.oaddr.Ref,
				"%s, the link to %s %s, has no IPv4 address%s", s.i.Name, s.o.Hostname, s.oi.Name, want)
		}
		return
	}
	for _, s := range []struct {
		d *Device
		i *Interface
		e linkEnd
		a Address
	}{{da, ia, ea, pa}, {db, ib, eb, pb}} {
		if want, err := netip.ParsePrefix(s.e.ip); err == nil && want != s.a.Prefix {
			c.add(Error, "link-address-intent", s.d.Hostname, s.a.Ref, "", Ref{},
				"%s has %s but the fleet gives it %s", s.i.Name, s.a.Prefix, want)
		}
	}
	switch {
	case pa.Prefix.Addr() == pb.Prefix.Addr():
		c.add(Error, "link-address-duplicate", da.Hostname, pa.Ref, db.Hostname, pb.Ref,
			"%s and %s %s have the same address %s", ia.Name, db.Hostname, ib.Name, pa.Prefix.Addr())
	case pa.Prefix.Masked() != pb.Prefix.Masked():
		c.add(Error, "link-subnet-mismatch", da.Hostname, pa.Ref, db.Hostname, pb.Ref,
			"%s is in %s but %s %s is in %s", ia.Name, pa.Prefix.Masked(), db.Hostname, ib.Name, pb.Prefix.Masked())
	}
	if mtu(ia) != mtu(ib) {
		c.add(Error, "link-mtu-mismatch", da.Hostname, cmpRef(ia.MTURef, ia.Ref), db.Hostname, cmpRef(ib.MTURef, ib.Ref),
			"%s has IP MTU %d but %s %s has %d", ia.Name, mtu(ia), db.Hostname, ib.Name, mtu(ib))
	}
}

// lagOf is the interface that carries a port's layer-2 settings: its LAG
// when it is a member of one that is configured.
func lagOf(d *Device, i *Interface) *Interface {
	if i.ChannelGroup != "" {
		if l := d.Interface(i.ChannelGroup); l != nil {
			return l
		}
	}
	return i
}

func cmpRef(a, b Ref) Ref {
	if a.Line != 0 {
		return a
	}
	return b
}

// ownerOf returns the interface of another device than self that holds
// addr, preferring one in vrf.
func (c *checker) ownerOf(addr netip.Addr, self *Device, vrf string) (owner, bool) {
	var found owner
	ok := false
	for _, o := range c.owners[addr] {
		if o.dev == self {
			continue
		}
		if o.iface.VRF == vrf {
			return o, true
		}
		if !ok {
			found, ok = o, true
		}
	}
	return found, ok
}

// bgp checks every neighbor: a device of the set has its address, that
// device's ASN is the remote-as, it has a session back, and sessions to a
// loopback have an update-source (and multihop for eBGP).
func (c *checker) bgp() {
	for _, d := range c.order {
		if d.BGP == nil {
			continue
		}
		for _, n := range d.BGP.Neighbors {
			c.neighbor(d, n)
		}
	}
}

func (c *checker) neighbor(d *Device, n *Neighbor) {
	if n.RemoteAS == "" {
		c.add(Error, "bgp-no-remote-as", d.Hostname, n.Ref, "", Ref{}, "neighbor %s has no remote-as (nor a peer group or template that gives one)", n.Addr)
	}
	if mine := slices.ContainsFunc(c.owners[n.Addr], func(o owner) bool { return o.dev == d }); mine {
		c.add(Error, "bgp-self-peer", d.Hostname, n.Ref, "", Ref{}, "neighbor %s is an address of this device", n.Addr)
		return
	}
	o, ok := c.ownerOf(n.Addr, d, n.VRF)
	if !ok {
		switch host := c.fleetAddr[n.Addr]; {
		case c.external[d.Hostname][n.Addr]:
		case host != "" && c.devs[host] != nil:
			c.add(Error, "bgp-peer-address-missing", d.Hostname, n.Ref, host, Ref{},
				"neighbor %s is %s's address in the fleet, but no interface of %s's config has it", n.Addr, host, host)
			if p := c.devs[host]; p.BGP != nil && n.RemoteAS != "" && p.BGP.ASN != "" && n.RemoteAS != p.BGP.ASN {
				c.remoteASMismatch(d, n, p)
			}
		case host != "":
		default:
			c.add(Warning, "bgp-peer-unknown", d.Hostname, n.Ref, "", Ref{},
				"neighbor %s is not an address of any device in the set (mark it external in the fleet if it is outside)", n.Addr)
		}
		return
	}
	p := o.dev
	if p.BGP == nil || p.BGP.ASN == "" {
		c.add(Error, "bgp-peer-no-bgp", d.Hostname, n.Ref, p.Hostname, o.addr.Ref,
			"neighbor %s is %s %s, which runs no BGP", n.Addr, p.Hostname, o.iface.Name)
		return
	}
	if n.RemoteAS != "" && n.RemoteAS != p.BGP.ASN {
		c.remoteASMismatch(d, n, p)
	}
	back := c.backSession(d, n, p, isLoopback(o.iface.Name))
	if back == nil {
		c.add(Error, "bgp-session-one-sided", d.Hostname, n.Ref, p.Hostname, p.BGP.Ref,
			"neighbor %s (%s) has no neighbor statement for any address of %s", n.Addr, p.Hostname, d.Hostname)
	} else if slices.Contains(n.Families, "evpn") != slices.Contains(back.Families, "evpn") {
		c.add(Warning, "bgp-family-mismatch", d.Hostname, n.Ref, p.Hostname, back.Ref,
			"neighbor %s activates families %v but %s's session back activates %v", n.Addr, n.Families, p.Hostname, back.Families)
	}
	if !isLoopback(o.iface.Name) {
		return
	}
	if n.UpdateSource == "" {
		c.add(Error, "bgp-no-update-source", d.Hostname, n.Ref, p.Hostname, o.addr.Ref,
			"neighbor %s is %s's %s: the session needs an update-source (local-address) on a loopback, or %s sees the wrong source address", n.Addr, p.Hostname, o.iface.Name, p.Hostname)
	}
	if ebgp := n.RemoteAS != "" && d.BGP.ASN != "" && n.RemoteAS != d.BGP.ASN; ebgp && !n.Multihop {
		c.add(Error, "bgp-no-multihop", d.Hostname, n.Ref, p.Hostname, o.addr.Ref,
			"eBGP neighbor %s is %s's %s, not directly connected: it needs ebgp-multihop (multihop)", n.Addr, p.Hostname, o.iface.Name)
	}
}

func (c *checker) remoteASMismatch(d *Device, n *Neighbor, p *Device) {
	c.add(Error, "bgp-remote-as-mismatch", d.Hostname, n.Ref, p.Hostname, p.BGP.Ref,
		"neighbor %s remote-as %s, but %s's ASN is %s", n.Addr, n.RemoteAS, p.Hostname, p.BGP.ASN)
}

// sourceAddr is the address d sends n's session from: its update-source's,
// or that of the interface in the neighbor's subnet.
func sourceAddr(d *Device, n *Neighbor) (netip.Addr, bool) {
	if n.UpdateSource != "" {
		if i := d.Interface(n.UpdateSource); i != nil {
			a, ok := firstAddr(i, n.Addr.Is4())
			return a.Prefix.Addr(), ok
		}
		if a, err := netip.ParseAddr(n.UpdateSource); err == nil { // Junos local-address
			return a, true
		}
	}
	for _, i := range d.Interfaces {
		for _, a := range i.Addresses {
			if !a.Virtual && a.Prefix.Contains(n.Addr) {
				return a.Prefix.Addr(), true
			}
		}
	}
	return netip.Addr{}, false
}

// backSession returns p's neighbor for d's session n: the one to the
// address d sends from; without an update-source (whose absence the loopback
// check reports) any to an address of d, a loopback one when n is to p's
// loopback.
func (c *checker) backSession(d *Device, n *Neighbor, p *Device, toLoopback bool) *Neighbor {
	byAddr := c.nbrs[p]
	src, ok := sourceAddr(d, n)
	if ok {
		if pn := byAddr[src]; pn != nil {
			return pn
		}
		if n.UpdateSource != "" {
			return nil // p has no session to the address d sends from
		}
	}
	var back *Neighbor
	for _, i := range d.Interfaces {
		if toLoopback && !isLoopback(i.Name) {
			continue
		}
		for _, a := range i.Addresses {
			if pn := byAddr[a.Prefix.Addr()]; pn != nil && !a.Virtual && (back == nil || pn.Line < back.Line) {
				back = pn
			}
		}
	}
	return back
}

// duplicates reports an address held by more than one interface in one
// VRF, but for virtual addresses and a loopback shared by an MLAG pair.
func (c *checker) duplicates() {
	seen := map[netip.Addr]bool{}
	for _, d := range c.order {
		for _, i := range d.Interfaces {
			for _, a := range i.Addresses {
				addr := a.Prefix.Addr()
				if a.Virtual || seen[addr] {
					continue
				}
				seen[addr] = true
				byVRF := map[string][]owner{}
				for _, o := range c.owners[addr] {
					byVRF[o.iface.VRF] = append(byVRF[o.iface.VRF], o)
				}
				for _, os := range byVRF {
					if len(os) < 2 || len(os) == 2 && isLoopback(os[0].iface.Name) && isLoopback(os[1].iface.Name) && c.mlagPair(os[0].dev, os[1].dev) {
						continue
					}
					for k, o := range os {
						other := os[(k+1)%len(os)]
						c.add(Error, "duplicate-ip", o.dev.Hostname, o.addr.Ref, other.dev.Hostname, other.addr.Ref,
							"%s on %s is also on %s %s", addr, o.iface.Name, other.dev.Hostname, other.iface.Name)
					}
				}
			}
		}
	}
}

// mlagPeer returns the device whose address d's MLAG/vPC peer-address is.
func (c *checker) mlagPeer(d *Device) *Device {
	if d.MLAG == nil || !d.MLAG.PeerAddr.IsValid() {
		return nil
	}
	if o, ok := c.ownerOf(d.MLAG.PeerAddr, d, ""); ok {
		return o.dev
	}
	return nil
}

// mlagPair reports whether a and b are the two members of one MLAG or vPC
// pair (by their configs, or by the fleet's mlag_peer).
func (c *checker) mlagPair(a, b *Device) bool {
	if a == b {
		return false
	}
	if c.mlagPeer(a) == b || c.mlagPeer(b) == a {
		return true
	}
	return str(c.fleet[a.Hostname].Vars, "mlag_peer") == b.Hostname
}

// mlag checks that MLAG/vPC pairs agree: the peer is in the set and has a
// domain too, the domain ids match, each peer-address is the other's local
// address and the peer link is configured with members.
func (c *checker) mlag() {
	for _, d := range c.order {
		m := d.MLAG
		if m == nil {
			continue
		}
		if m.PeerLink == "" {
			c.add(Error, "mlag-no-peer-link", d.Hostname, m.Ref, "", Ref{}, "%s domain %s has no peer link", m.Kind, m.Domain)
		} else if pl := d.Interface(m.PeerLink); pl == nil {
			c.add(Error, "mlag-no-peer-link", d.Hostname, m.PeerLinkRef, "", Ref{}, "peer link %s is not configured", m.PeerLink)
		} else if !slices.ContainsFunc(d.Interfaces, func(i *Interface) bool { return i.ChannelGroup == canonIf(pl.Name) }) && strings.HasPrefix(canonIf(pl.Name), "port-channel") {
			c.add(Error, "mlag-no-peer-link", d.Hostname, cmpRef(m.PeerLinkRef, pl.Ref), "", Ref{}, "peer link %s has no member ports", pl.Name)
		}
		if !m.PeerAddr.IsValid() {
			c.add(Error, "mlag-no-peer-address", d.Hostname, m.Ref, "", Ref{}, "%s domain %s has no peer address", m.Kind, m.Domain)
			continue
		}
		p := c.mlagPeer(d)
		if p == nil {
			c.add(Error, "mlag-peer-unknown", d.Hostname, m.PeerRef, "", Ref{}, "peer address %s is not an address of any device in the set", m.PeerAddr)
			continue
		}
		pm := p.MLAG
		if pm == nil {
			c.add(Error, "mlag-peer-not-mlag", d.Hostname, m.PeerRef, p.Hostname, Ref{}, "peer %s has no %s configuration", p.Hostname, m.Kind)
			continue
		}
		if pm.Domain != m.Domain {
			c.add(Error, "mlag-domain-mismatch", d.Hostname, m.Ref, p.Hostname, pm.Ref, "domain %s but peer %s has domain %s", m.Domain, p.Hostname, pm.Domain)
		}
		if m.LocalAddr.IsValid() && pm.PeerAddr != m.LocalAddr {
			c.add(Error, "mlag-peer-address-mismatch", d.Hostname, m.PeerRef, p.Hostname, pm.PeerRef,
				"local address is %s but peer %s points at %s", m.LocalAddr, p.Hostname, pm.PeerAddr)
		}
		if d.Hostname < p.Hostname && m.PeerLink != "" && pm.PeerLink != "" {
			a, b := d.Interface(m.PeerLink), p.Interface(pm.PeerLink)
			if a != nil && b != nil && a.Mode == "trunk" && b.Mode == "trunk" && a.AllowedVLANs != b.AllowedVLANs {
				c.add(Error, "trunk-vlans-mismatch", d.Hostname, cmpRef(a.AllowedRef, a.Ref), p.Hostname, cmpRef(b.AllowedRef, b.Ref),
					"peer link %s allows VLANs %s but %s %s allows %s", a.Name, a.AllowedVLANs, p.Hostname, b.Name, b.AllowedVLANs)
			}
		}
	}
}

// vlanDiff returns the VLANs that only a allows and that only b allows
// ("none" for none), for
// two normalised allowed-VLAN lists of ids and ranges; ok is false when
// either holds anything else (Junos VLAN names).
func vlanDiff(a, b string) (onlyA, onlyB string, ok bool) {
	numeric := func(s string) bool {
		return strings.Trim(s, "0123456789,-") == ""
	}
	if !numeric(a) || !numeric(b) {
		return "", "", false
	}
	sa, sb := vlanSet(a), vlanSet(b)
	return formatVLANs(minus(vlanSet(a), sb)), formatVLANs(minus(vlanSet(b), sa)), true
}
