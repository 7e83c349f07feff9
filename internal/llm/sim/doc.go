// Package sim is the in-process stand-in for a language model: it answers
// netsmith's prompts (see package prompt) deterministically with plausible
// config text, after a configurable latency, and reports token counts. It is
// for first runs, tests and demos; every response says provider "sim".
//
// # What it writes
//
// For a config task sim writes a hardened running config in the platform's
// own syntax (cisco_ios, cisco_xe, cisco_nxos, arista_eos, and juniper_junos
// in brace form): AAA through the TACACS+/RADIUS servers the vars give, then
// local (local alone without servers), SSH only with idle timeouts, secrets
// only as references ("enable secret 9 <vault:net/enable>"), HTTP server and
// telnet off, a login banner, timestamps, NTP, DNS and remote logging in the
// management VRF. The rest follows the spec: the vars below, the group
// constants (same names; a var wins), and keywords in the requirements
// (LACP/port-channel, portfast, bpduguard, voice VLAN, access ports, MLAG or
// vPC, EVPN/VXLAN, OSPF, BFD, anycast gateway, VRRP, management SVI, 802.1X,
// storm control; "no OSPF" or "OSPF not used" does not count). MLAG/vPC is
// written only when the
// requirements ask for it. Every eBGP session gets the inbound and outbound
// policies BGP-IN and BGP-OUT (route-maps, or Junos import/export): they
// accept everything unless the requirements say "default route only"
// (inbound 0.0.0.0/0) or an advertise var or constant lists the prefixes to
// send (outbound, and BGP network statements). Vars it does not know are
// ignored; missing ones leave their lines out.
//
// For frr it writes FRRouting's integrated frr.conf, which holds routing
// only: the hostname, the loopback addresses on "interface lo", the link
// addresses on their Linux interfaces, and eBGP (with BFD when asked) with
// the same BGP-IN and BGP-OUT policies, advertising the loopbacks. NTP, AAA,
// SSH, syslog servers and SNMP are the host's, so FRR configs leave them out.
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
//	tacacs_servers, tacacs_key    lists of addresses or names, or of {address, port, vrf, key}
//	radius_servers, radius_key    maps, and the shared key's reference: server definitions, a
//	                              TACACS/RADIUS group, login, authorization and accounting
//	                              through the group then local
//	uplinks, downlinks            lists of {port, peer, peer_port, ip (CIDR), peer_ip, peer_asn}:
//	                              routed point-to-point interfaces (MTU from mtu, else jumbo) when
//	                              the first has an ip, else trunks; a downlink's port_channel makes
//	                              it a member of that LACP port-channel (an MLAG/vPC one on a pair)
//	mtu                           MTU of routed links (var or constant; a link's own mtu wins)
//	loopback0, loopback1, …       loopback addresses in CIDR form; loopback0 is the router-id
//	asn, router_id, bgp_neighbors BGP; neighbors are {ip, asn, description}, else the uplinks' and
//	                              downlinks' peer_ip/peer_asn
//	evpn_peers                    EVPN overlay sessions {ip, asn, description} from Loopback0
//	                              (update-source, ebgp-multihop); EVPN is then activated on them
//	                              rather than on the underlay neighbors
//	vlans (maps)                  also svi_ip (CIDR: an SVI on routed devices; EOS "ip address
//	                              virtual" when the requirements ask for an anycast gateway), vrf,
//	                              vni (the L2 VNI, else 10000 + id) and virtual_ip (HSRP, or VRRP
//	                              when asked)
//	vrfs                          list of {name, vni}: tenant VRFs with their L3 VNI
//	virtual_router_mac            EOS anycast gateway MAC
//	fhrp_priority                 HSRP/VRRP priority on every SVI
//	dhcp_relays                   DHCP relay addresses on every SVI
//	mlag_peer, mlag_ip,           MLAG (EOS) or vPC (NX-OS) peer name, peer-VLAN address (CIDR),
//	mlag_peer_ip, mlag_domain,    peer or keepalive address, domain id, peer-link members (aliases
//	mlag_ports                    vpc_peer, vpc_peer_keepalive_ip, vpc_domain, vpc_peer_link);
//	                              with BGP, mlag_ip and mlag_peer_ip also carry the pair's iBGP
//	                              session over the peer SVI
//	vpc_keepalive_ip              NX-OS keepalive source, the management address when absent
//	access_ports                  access port range in the platform's syntax
//	native_vlan                   access ports become trunks with this native VLAN (AP ports)
//	guest_vlan                    802.1X authentication-failure VLAN (IOS, with RADIUS servers)
//
// Free-text vars (snmp_location, snmp_contact, banner, descriptions) are
// written verbatim. On NX-OS, which has no enable mode, enable_secret is the
// built-in admin account's password, as it is root's on Junos.
//
// # Derived vars
//
// A template cannot split "10.99.1.11/24" into the address and netmask IOS
// wants, so templates refer to vars that netcfg.DeriveVars adds beside every value
// in CIDR form, at any depth: <key>_address, <key>_netmask (IPv4) and
// <key>_prefixlen. The ones sim's templates use are mgmt_ip_address,
// mgmt_ip_netmask, loopbackN_address, loopbackN_netmask, ip_address and
// ip_netmask inside each uplink and downlink, and svi_ip_address and
// svi_ip_netmask inside each VLAN. Whoever renders a template must render it
// with netcfg.DeriveVars(vars), which also normalises numbers (JSON's 65001.0 prints
// as 65001). VXLAN VNIs without a vni of their own are 10000 + VLAN id,
// written with printf "1%04d".
package sim
