// Package verify checks a set of device configs as one network: both ends of
// every point-to-point link, BGP sessions (the peer exists, its ASN is the
// remote-as, the session is configured from both sides, loopback sessions
// have an update-source and eBGP multihop), duplicate addresses, MLAG/vPC
// pairs, trunk VLANs and LAG membership on both ends of a link. It works on
// parsed configs (internal/confparse), so it verifies configs netsmith did
// not write; a fleet (the devices' vars) adds the intended links and says
// which BGP peers are outside the set. The checks follow Batfish's
// bgpSessionCompatibility, duplicate-IP and undefined-reference questions.
//
// Decisions:
//   - A BGP neighbor whose address no device in the set has is a warning,
//     unless the fleet marks it external: a bgp_neighbors entry with
//     external: true, or any entry (uplinks, downlinks, external_peers,
//     bgp_neighbors) whose peer_ip is the address and whose peer is not a
//     device of the fleet. When the fleet gives the address to one of its
//     devices (an uplink or downlink ip, loopback0/1, mlag_ip, mgmt_ip) and
//     that device's config lacks it, it is an error.
//   - Duplicate addresses are errors, except virtual ones (EOS "ip address
//     virtual" and "ip virtual-router address", NX-OS anycast-gateway SVIs),
//     which are never counted, and a loopback address shared by exactly the
//     two members of one MLAG/vPC pair (the shared VTEP). Addresses in
//     different VRFs do not collide.
//   - An interface MTU that is not set counts as 1500; a Junos interface
//     MTU counts the Ethernet header, so 14 is taken off it unless "family
//     inet mtu" gives the IP MTU.
//   - Without a fleet, point-to-point links are the /31 and /30 (IPv6 /127)
//     subnets that exactly two devices have an address in.
//   - Junos MC-LAG is not modelled.
package verify

import (
	"cmp"
	"fmt"
	"slices"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// Severity is how bad a finding is.
type Severity string

// The severities: an error breaks forwarding or a session; a warning is
// something the checks cannot prove either way.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem, on a device's line, often with the peer's line
// that disagrees.
type Finding struct {
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Device   string   `json:"device"`
	Line     int      `json:"line,omitempty"`
	Text     string   `json:"text,omitempty"`
	Peer     string   `json:"peer,omitempty"`
	PeerLine int      `json:"peer_line,omitempty"`
	PeerText string   `json:"peer_text,omitempty"`
	Message  string   `json:"message"`
}

// Report is the result of a verification: findings sorted by device, line
// and check, and how many of each severity.
type Report struct {
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Findings []Finding `json:"findings"`
}

// Config is one device's parsed config.
type Config struct {
	Hostname string
	Tree     *confparse.Tree
}

// Verify extracts every config's model and checks them as one network.
// fleet, when not nil, holds the devices' intent (hostnames and vars).
func Verify(cfgs []Config, fleet []netcfg.Device) *Report {
	devs := make([]*Device, len(cfgs))
	for i, c := range cfgs {
		devs[i] = Extract(c.Hostname, c.Tree)
	}
	return Check(devs, fleet)
}

// Check runs every check over devs.
func Check(devs []*Device, fleet []netcfg.Device) *Report {
	c := newChecker(devs, fleet)
	c.links()
	c.bgp()
	c.duplicates()
	c.mlag()
	r := &Report{Findings: c.findings}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Check, b.Check), cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Message, b.Message))
	})
	for _, f := range r.Findings {
		if f.Severity == Error {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
	return r
}

// add records a finding at the device's line at, with the peer's line.
func (c *checker) add(sev Severity, check string, dev string, at Ref, peer string, pat Ref, format string, args ...any) {
	c.findings = append(c.findings, Finding{Severity: sev, Check: check, Device: dev, Line: at.Line, Text: at.Text,
		Peer: peer, PeerLine: pat.Line, PeerText: pat.Text, Message: fmt.Sprintf(format, args...)})
}
