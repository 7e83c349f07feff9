// Package sim is the in-process stand-in for a language model: it answers
// netsmith's prompts (see package prompt) deterministically with plausible
// config text, after a configurable latency, and reports token counts. It is
// for first runs, tests and demos; every response says provider "sim".
//
// # What it writes
//
// For a config task sim writes a hardened running config in the platform's
// own syntax (cisco_ios, cisco_xe, cisco_nxos, arista_eos, and juniper_junos
// in brace form): AAA with local login, SSH only with idle timeouts, secrets
// only as references ("enable secret 9 <vault:net/enable>"), HTTP server and
// telnet off, a login banner, timestamps, NTP, DNS and remote logging in the
// management VRF. The rest follows the spec: the vars below, the group
// constants (same names; a var wins), and keywords in the requirements
// (LACP/port-channel, portfast, bpduguard, voice VLAN, access ports, MLAG or
// vPC, EVPN/VXLAN, OSPF; "no OSPF" or "OSPF not used" does not count). Vars
// it does not know are ignored; missing ones leave their lines out.
//
// For a template task it writes the same config as a Go text/template over
// the declared vars, with built-in actions only (range, if, else, index, eq,
// not, and, printf) and constants written in as text. Rendered with
// missingkey=error on netcfg.DeriveVars of a device's vars plus "hostname", it gives
// exactly the config sim writes for that device, provided the device's vars
// have the shapes of the examples in the spec (a list of maps stays a list
// of maps).
//
// # Vars
//
//	hostname                      the spec's Hostname for a config; must be in the render data for a template
//	domain_name                   domain
//	ntp_servers, name_servers,    lists of addresses (aliases: ntp_server, dns_servers,
//	logging_hosts                 syslog_servers, logging_servers, …)
//	banner                        login banner text (a default otherwise)
//	enable_secret, admin_secret   secret references, written as <ref>; admin_secret defaults to enable_secret
//	admin_user                    local user name, "netadmin" when absent
//	snmp_location, snmp_contact,  SNMP (the community is a secret reference)
//	snmp_community
//	vlans                         list of {id, name} maps, or of ids
//	data_vlan, voice_vlan,        override the VLANs found by name (DATA/USERS, VOICE,
//	mgmt_vlan                     MGMT/MANAGEMENT)
//	mgmt_ip, mgmt_gateway         management address in CIDR form and its default route
//	uplinks                       list of {port, peer, peer_port, ip (CIDR), peer_ip, peer_asn}
//	loopback0, loopback1, …       loopback addresses in CIDR form; loopback0 is the router-id
//	asn, router_id, bgp_neighbors BGP; neighbors are {ip, asn, description}, else the uplinks'
//	                              peer_ip/peer_asn
//	mlag_peer, mlag_ip,           MLAG (EOS) or vPC (NX-OS) peer name, peer-VLAN address (CIDR),
//	mlag_peer_ip, mlag_domain,    peer or keepalive address, domain id, peer-link members
//	mlag_ports
//	access_ports                  access port range in the platform's syntax
//
// # Derived vars
//
// A template cannot split "10.99.1.11/24" into the address and netmask IOS
// wants, so templates refer to vars that netcfg.DeriveVars adds beside every value
// in CIDR form, at any depth: <key>_address, <key>_netmask (IPv4) and
// <key>_prefixlen. The ones sim's templates use are mgmt_ip_address,
// mgmt_ip_netmask, loopbackN_address, loopbackN_netmask, and ip_address and
// ip_netmask inside each uplink. Whoever renders a template must render it
// with netcfg.DeriveVars(vars), which also normalises numbers (JSON's 65001.0 prints
// as 65001). VXLAN VNIs are 10000 + VLAN id, written with printf "1%04d".
package sim
