package lint

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"

	"netsmith/internal/confparse"
)

// bgpPeer is what a router bgp block says about one neighbor, peer group or
// session template.
type bgpPeer struct {
	name     string
	line     int // the remote-as statement, else the first statement naming the peer
	group    bool
	remoteAS string
	localAS  string
	parents  []string // peer groups and templates it inherits from
	in, out  bool     // has an inbound / outbound policy of its own
	shutdown bool
}

// The statements about a peer, without "neighbor X" (IOS, EOS, FRR) or
// with the peer given by an enclosing "neighbor X" or "template peer X"
// block (NX-OS).
var (
	bgpRemoteAS  = regexp.MustCompile(`^(?:interface )?(?:peer[- ]group \S+ )?remote-as (\S+)`)
	bgpGroup     = regexp.MustCompile(`^(?:interface )?peer[- ]group(?: (\S+))?(?: remote-as \S+)?$`)
	bgpInherit   = regexp.MustCompile(`^inherit peer(?:-session|-policy)? (\S+)`)
	bgpPolicy    = regexp.MustCompile(`^(?:route-map|prefix-list|filter-list|distribute-list) \S+ (in|out)\b`)
	bgpLocalAS   = regexp.MustCompile(`^local-as (\S+)`)
	bgpNeighbor  = regexp.MustCompile(`^neighbor (\S+)(?: (.+))?$`)
	bgpTemplate  = regexp.MustCompile(`^template peer(?:-session|-policy)? (\S+)$`)
	bgpVRF       = regexp.MustCompile(`^(?:vrf (\S+)|address-family \S+(?: \S+)? vrf (\S+))$`)
	bgpRouter    = regexp.MustCompile(`^router bgp (\S+)`)
	junosBGP     = regexp.MustCompile(`^set ((?:logical-systems \S+ )?(?:routing-instances \S+ )?)protocols bgp(?: (.*))?$`)
	junosLocalAS = regexp.MustCompile(`^set ((?:logical-systems \S+ )?(?:routing-instances \S+ )?)routing-options autonomous-system (\S+)`)
)

// bgpPeers holds the peers of one router bgp block, keyed by VRF and name.
type bgpPeers map[string]*bgpPeer

func bgpKey(vrf, name string) string { return vrf + "\x00" + name }

func (ps bgpPeers) get(vrf, name string, line int) *bgpPeer {
	k := bgpKey(vrf, name)
	p := ps[k]
	if p == nil {
		p = &bgpPeer{name: name, line: line}
		ps[k] = p
	}
	return p
}

// apply records one statement about p.
func (p *bgpPeer) apply(stmt string, line int) {
	if strings.HasPrefix(stmt, "description ") {
		return
	}
	if m := bgpRemoteAS.FindStringSubmatch(stmt); m != nil {
		p.remoteAS, p.line = m[1], line
	}
	if m := bgpGroup.FindStringSubmatch(stmt); m != nil {
		if m[1] == "" {
			p.group = true
		} else {
			p.parents = append(p.parents, m[1])
		}
	}
	if m := bgpInherit.FindStringSubmatch(stmt); m != nil {
		p.parents = append(p.parents, m[1])
	}
	if m := bgpPolicy.FindStringSubmatch(stmt); m != nil {
		if m[1] == "in" {
			p.in = true
		} else {
			p.out = true
		}
	}
	if m := bgpLocalAS.FindStringSubmatch(stmt); m != nil {
		p.localAS = m[1]
	}
	if stmt == "shutdown" {
		p.shutdown = true
	}
}

// collect walks the statements below a router bgp line. vrf is the VRF
// context ("" for the default one); peer is the peer an enclosing block is
// about (NX-OS "neighbor X" and "template peer X" blocks).
func (ps bgpPeers) collect(n *confparse.Node, vrf string, peer *bgpPeer) {
	for _, ch := range n.Children {
		if !ch.IsConfig() {
			continue
		}
		p, v := peer, vrf
		switch {
		case peer != nil:
			peer.apply(ch.Text, ch.Line)
		case bgpTemplate.MatchString(ch.Text):
			p = ps.get(vrf, bgpTemplate.FindStringSubmatch(ch.Text)[1], ch.Line)
			p.group = true
		case bgpNeighbor.MatchString(ch.Text):
			m := bgpNeighbor.FindStringSubmatch(ch.Text)
			name, stmt := m[1], m[2]
			if name == "interface" { // EOS "neighbor interface Et1 peer-group G remote-as N"
				name, stmt, _ = strings.Cut(stmt, " ")
			}
			p = ps.get(vrf, name, ch.Line)
			p.apply(stmt, ch.Line)
		case bgpVRF.MatchString(ch.Text):
			m := bgpVRF.FindStringSubmatch(ch.Text)
			v = m[1] + m[2]
		}
		ps.collect(ch, v, p)
	}
}

// resolve returns p's remote AS, local AS override, policies and shutdown,
// its own or inherited from its groups and templates (looked up in its VRF,
// then the default one).
func (ps bgpPeers) resolve(vrf string, p *bgpPeer, seen map[*bgpPeer]bool) (remote, local string, in, out, shut bool) {
	if seen[p] {
		return "", "", false, false, false
	}
	seen[p] = true
	remote, local, in, out, shut = p.remoteAS, p.localAS, p.in, p.out, p.shutdown
	for _, g := range p.parents {
		gp := ps[bgpKey(vrf, g)]
		if gp == nil {
			gp = ps[bgpKey("", g)]
		}
		if gp == nil {
			continue
		}
		r, l, i, o, s := ps.resolve(vrf, gp, seen)
		remote, local = cmp.Or(remote, r), cmp.Or(local, l)
		in, out, shut = in || i, out || o, shut || s
	}
	return remote, local, in, out, shut
}

// asNumber normalizes an AS number: asdot "1.10" is 65546.
func asNumber(s string) string {
	hi, lo, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	h, err1 := strconv.ParseUint(hi, 10, 16)
	l, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil {
		return s
	}
	return strconv.FormatUint(h<<16|l, 10)
}

// external reports whether a session with remote AS remote from local is
// eBGP.
func external(remote, local string) bool {
	switch remote {
	case "", "internal":
		return false
	case "external":
		return true
	}
	return asNumber(remote) != asNumber(local)
}

// missingPolicy names the directions without a policy, or "".
func missingPolicy(in, out bool) string {
	switch {
	case !in && !out:
		return "inbound and no outbound"
	case !in:
		return "inbound"
	case !out:
		return "outbound"
	}
	return ""
}

// evalEBGPPolicy reports every eBGP neighbor (remote-as differs from the
// local AS) without a route-map, prefix-list, filter-list or
// distribute-list in each direction, its own or its peer group's or
// template's; on Junos without an import and an export policy at the
// neighbor, group or protocol level.
func (r *Rule) evalEBGPPolicy(d *doc, out []Finding) []Finding {
	if d.tree.Format != confparse.FormatIndented {
		return r.evalJunosEBGPPolicy(d, out)
	}
	for _, n := range d.top {
		m := bgpRouter.FindStringSubmatch(n.Text)
		if m == nil {
			continue
		}
		ps := bgpPeers{}
		ps.collect(n, "", nil)
		for k, p := range ps {
			if p.group {
				continue
			}
			vrf, _, _ := strings.Cut(k, "\x00")
			remote, local, in, o, shut := ps.resolve(vrf, p, map[*bgpPeer]bool{})
			if shut || !external(remote, cmp.Or(local, m[1])) {
				continue
			}
			if miss := missingPolicy(in, o); miss != "" {
				out = append(out, r.finding(p.line, r.expand("", p.name+" (remote-as "+remote+") has no "+miss)))
			}
		}
	}
	return out
}

// junosBGPLevel is the protocol, a group or a neighbor of a Junos bgp
// configuration.
type junosBGPLevel struct {
	line               int
	typ, peerAS, local string
	in, out            bool
}

func (l *junosBGPLevel) apply(stmt string) {
	w := strings.Fields(stmt)
	if len(w) < 2 {
		return
	}
	switch w[0] {
	case "type":
		l.typ = w[1]
	case "peer-as":
		l.peerAS = w[1]
	case "local-as":
		l.local = w[1]
	case "import":
		l.in = true
	case "export":
		l.out = true
	}
}

func (r *Rule) evalJunosEBGPPolicy(d *doc, out []Finding) []Finding {
	type instance struct {
		proto     junosBGPLevel
		groups    map[string]*junosBGPLevel
		neighbors map[[2]string]*junosBGPLevel // group, address
		order     [][2]string
	}
	instances := map[string]*instance{}
	localAS := map[string]string{}
	for _, n := range d.all {
		if !strings.Contains(n.Text, " protocols bgp") && !strings.Contains(n.Text, " autonomous-system ") {
			continue // most statements: no expression to run
		}
		if m := junosLocalAS.FindStringSubmatch(n.Text); m != nil {
			localAS[m[1]] = m[2]
			continue
		}
		m := junosBGP.FindStringSubmatch(n.Text)
		if m == nil {
			continue
		}
		in := instances[m[1]]
		if in == nil {
			in = &instance{groups: map[string]*junosBGPLevel{}, neighbors: map[[2]string]*junosBGPLevel{}}
			instances[m[1]] = in
		}
		w := strings.Fields(m[2])
		if len(w) < 2 || w[0] != "group" {
			in.proto.apply(m[2])
			continue
		}
		g := in.groups[w[1]]
		if g == nil {
			g = &junosBGPLevel{line: n.Line}
			in.groups[w[1]] = g
		}
		if len(w) < 4 || w[2] != "neighbor" {
			g.apply(strings.Join(w[2:], " "))
			continue
		}
		k := [2]string{w[1], w[3]}
		nb := in.neighbors[k]
		if nb == nil {
			nb = &junosBGPLevel{line: n.Line}
			in.neighbors[k] = nb
			in.order = append(in.order, k)
		}
		nb.apply(strings.Join(w[4:], " "))
	}
	for prefix, in := range instances {
		for _, k := range in.order {
			nb, g := in.neighbors[k], in.groups[k[0]]
			typ := cmp.Or(g.typ, in.proto.typ)
			remote := cmp.Or(nb.peerAS, g.peerAS, in.proto.peerAS)
			local := cmp.Or(nb.local, g.local, in.proto.local, localAS[prefix], localAS[""])
			switch {
			case typ == "internal":
				continue
			case typ != "external" && (remote == "" || !external(remote, local)):
				continue
			}
			miss := missingPolicy(nb.in || g.in || in.proto.in, nb.out || g.out || in.proto.out)
			if miss == "" {
				continue
			}
			miss = strings.NewReplacer("inbound", "import", "outbound", "export").Replace(miss)
			as := ""
			if remote != "" {
				as = " (peer-as " + remote + ")"
			}
			out = append(out, r.finding(nb.line, r.expand("", k[1]+as+" in group "+k[0]+" has no "+miss)))
		}
	}
	return out
}
