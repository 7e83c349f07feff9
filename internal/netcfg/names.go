package netcfg

import "strings"

// KnownVars are the variable names netsmith's checks, prompts and the sim
// provider give a meaning to, at any depth of a device's vars. A name close
// to one of these but not equal is most likely misspelled (mgmt_gatway).
var KnownVars = []string{
	"access_ports", "address", "admin_secret", "admin_user", "asn", "banner",
	"bgp_neighbors", "data_vlan", "description", "dns_servers", "domain_name",
	"downlinks", "enable_secret", "hostname", "id", "ip", "key", "loopback0",
	"loopback1", "logging_hosts", "mgmt_gateway", "mgmt_interface", "mgmt_ip",
	"mgmt_vlan", "mlag_domain", "mlag_ip", "mlag_peer", "mlag_peer_ip",
	"mlag_ports", "mtu", "name", "name_servers", "native_vlan", "ntp_servers",
	"peer", "peer_asn", "peer_ip", "peer_port", "port", "radius_servers",
	"router_id", "site", "snmp_community", "snmp_contact", "snmp_location",
	"svi_ip", "syslog_servers", "tacacs_servers", "uplinks", "virtual_router_mac",
	"vlan", "vlan_id", "vlans", "vni", "voice_vlan", "vrf", "vrfs",
}

// Nearest returns the name in known within a small edit distance of name
// (one edit for names up to five letters, two beyond; case is ignored), or
// "" when none is. A name that is in known returns itself.
func Nearest(name string, known []string) string {
	name = strings.ToLower(name)
	limit := 1
	if len(name) > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
