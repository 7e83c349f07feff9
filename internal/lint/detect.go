package lint

import (
	"regexp"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// detectSignal is a line pattern that votes for a platform.
type detectSignal struct {
	re       *regexp.Regexp
	prefixes []string
	platform netcfg.Platform
	weight   int
}

var detectSignals = func() []detectSignal {
	s := func(expr string, p netcfg.Platform, w int) detectSignal {
		return detectSignal{regexp.MustCompile(expr), literalPrefixes(expr), p, w}
	}
	return []detectSignal{
		// Arista EOS.
		s(`^! device: .*\bEOS-`, netcfg.AristaEOS, 10),
		s(`^!! `, netcfg.AristaEOS, 2),
		s(`^management (?:api|ssh|console|telnet|security|cvx)\b`, netcfg.AristaEOS, 4),
		s(`^(?:no )?aaa root\b`, netcfg.AristaEOS, 4),
		s(`^(?:service routing protocols model|transceiver qsfp|daemon TerminAttr|switchport default mode|vrf instance |ip virtual-router |mlag configuration)`, netcfg.AristaEOS, 3),
		s(`^interface (?:Management\d|Port-Channel\d|Ethernet\d+(?:/\d+)?$)`, netcfg.AristaEOS, 1),
		s(`^username \S+ .*\brole network-`, netcfg.AristaEOS, 1),
		// Cisco NX-OS.
		s(`^!Command: show running-config|^!Time: `, netcfg.CiscoNXOS, 6),
		s(`^feature `, netcfg.CiscoNXOS, 4),
		s(`^version \d+\.\d+\(\d+\)`, netcfg.CiscoNXOS, 6),
		s(`^(?:vdc |boot nxos |hardware access-list |copp profile |line console$|interface mgmt0$)`, netcfg.CiscoNXOS, 4),
		s(`^interface (?:loopback|port-channel)\d`, netcfg.CiscoNXOS, 1),
		s(`^interface Ethernet\d+/\d+(?:/\d+)?$`, netcfg.CiscoNXOS, 1),
		s(`^username \S+ .*\brole network-`, netcfg.CiscoNXOS, 1),
		// Cisco IOS and IOS-XE.
		s(`^version 1[0-9]\.\d+$`, netcfg.CiscoIOS, 4),
		s(`^(?:boot-start-marker|boot-end-marker|service timestamps |service password-encryption|ip cef$|no ip domain[ -]lookup|ip subnet-zero|(?:no )?aaa new-model|ip http |ip ssh |control-plane$|crypto (?:pki|isakmp|ipsec) |zone security |class-map type inspect )`, netcfg.CiscoIOS, 2),
		s(`^line (?:con|aux|vty) \d`, netcfg.CiscoIOS, 2),
		s(`^interface (?:(?:Gigabit|FastEthernet|TenGigabit|Serial|Tunnel|Dialer|Virtual-Template|BVI|Port-channel)\S*)$`, netcfg.CiscoIOS, 1),
		// FRRouting.
		s(`^frr (?:version|defaults) `, netcfg.FRR, 20),
		s(`^(?:ip|ipv6) forwarding$|^log (?:syslog|file|stdout)\b|^agentx$|^line vty$`, netcfg.FRR, 3),
		s(`^router (?:rift|openfabric|babel|fabricd|ospf6|ripng)\b|^router ospf$|^router isis [A-Za-z]`, netcfg.FRR, 3),
		s(`^interface (?:eth|ens|enp|eno|swp|bond|br|veth|vlan|lo\b)\S*`, netcfg.FRR, 2),
	}
}()

// Detect guesses the platform of a config from its content: Junos (set or
// brace form), FRRouting (an "frr version" header, Linux interface names,
// daemon-only commands), NX-OS ("feature …", NX-OS version strings), EOS
// ("management …", "aaa root", EOS headers) or IOS (the default; IOS-XE
// when the version is 16 or later). It reads at most the first 4,000 lines.
func Detect(text string) netcfg.Platform {
	p, _ := Identify(text)
	return p
}

// Identify is Detect that also reports whether the text showed any sign of
// being a device config at all; when it did not, the platform is the
// cisco_ios default.
func Identify(text string) (netcfg.Platform, bool) {
	if confparse.LooksJunos(text) {
		return netcfg.JuniperJunos, true
	}
	score := map[netcfg.Platform]int{}
	xe := false
	lines := 0
	for line := range strings.Lines(text) {
		if lines++; lines > 4000 {
			break
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // only top-level statements vote
		}
		s := strings.TrimRight(line, " \t\r\n")
		for _, sig := range detectSignals {
			if hasAnyPrefix(s, sig.prefixes) && sig.re.MatchString(s) {
				score[sig.platform] += sig.weight
			}
		}
		if strings.HasPrefix(s, "version 16.") || strings.HasPrefix(s, "version 17.") || strings.HasPrefix(s, "version 18.") {
			xe = true
		}
	}
	best, bestScore := netcfg.CiscoIOS, score[netcfg.CiscoIOS]
	for _, p := range []netcfg.Platform{netcfg.AristaEOS, netcfg.CiscoNXOS, netcfg.FRR} {
		if score[p] > bestScore {
			best, bestScore = p, score[p]
		}
	}
	switch {
	case bestScore == 0 && routingOnly(text):
		// No device-level statement at all, only routing-protocol
		// stanzas: a routing daemon's config.
		return netcfg.FRR, true
	case best == netcfg.CiscoIOS && xe:
		return netcfg.CiscoXE, true
	}
	return best, bestScore > 0
}

var (
	routingStanza = regexp.MustCompile(`^(?:router |interface |ip route |ipv6 route |route-map |ip prefix-list |ipv6 prefix-list |access-list |bgp |exit$|end$|hostname |!)`)
	// IOS writes networks with masks or wildcards, FRR with prefix lengths.
	iosNetwork = regexp.MustCompile(`^\s*network \d+\.\d+\.\d+\.\d+ (?:mask )?\d+\.\d+\.\d+\.\d+`)
)

// routingOnly reports whether every top-level statement of text is one a
// routing daemon (FRR) holds, there is at least one router stanza, and no
// IOS-style network statement.
func routingOnly(text string) bool {
	router := false
	for line := range strings.Lines(text) {
		if iosNetwork.MatchString(line) {
			return false
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' || strings.TrimSpace(line) == "" {
			continue
		}
		if !routingStanza.MatchString(line) {
			return false
		}
		router = router || strings.HasPrefix(line, "router ")
	}
	return router
}
