// Package fleet reads fleet files (YAML, CSV, JSON or a NetBox-style device
// export) into devices with fully merged variables and the distinct intents
// they share, and validates them before anything is queued or paid for.
// Parse returns them all; Stream hands them out one at a time, so that a
// CSV or JSON fleet's parse holds one device, not the file's tree.
//
// # YAML
//
//	version: 1
//	defaults:                  # applies to every device
//	  vars: {domain_name: example.net, enable_secret: vault:net/enable}
//	groups:
//	  campus-access:
//	    role: access
//	    platform: cisco_xe
//	    os_version: "17.9"
//	    requirements: Layer-2 access switch, dual LACP uplinks.
//	    cache_ttl: 72h           # how long the template stays cached
//	    constants: {stp_mode: rapid-pvst}
//	    vars: {vlans: [{id: 10, name: DATA}]}
//	devices:
//	  - hostname: bld1-fl1-acc01
//	    group: campus-access
//	    site: bld1
//	    vars: {mgmt_ip: 10.99.1.11/24, mgmt_gateway: 10.99.1.1}
//
// Each device is defaults, then its group, then its own entry, deep-merged in
// that order, as in Ansible group_vars, Nornir and NetBox config contexts:
// maps merge key by key, later levels win, lists and scalars replace, and a
// null removes what a lower level set. A device may set role, platform,
// os_version, requirements, cache_ttl, site and constants itself; per-device
// values go under vars, and any other key on a device is an error. At
// defaults and group level, keys other than role, platform, os_version,
// requirements, cache_ttl, site and vars are intent constants, like the
// entries of constants:. A key within one or two edits of a known one
// ("platfrom") is reported as a typo.
// YAML anchors, aliases and merge keys ("<<") work, within MaxAliasNodes.
//
// Vars never enter the intent; role, platform, os_version, requirements
// (trimmed) and constants do. Devices whose intents are equal share one
// Intent.
//
// cache_ttl is how long the intent's template stays in the template cache,
// a Go duration from 1m to 8760h (365 days): longer for an intent that is
// stable, shorter for one under active change. Unset, the server's
// --cache-ttl applies. It is a setting of the intent, not part of it: devices
// that differ only in cache_ttl share one Intent and one template, cached for
// the shortest cache_ttl they give, with a warning.
//
// # CSV
//
// A header row, then one row per device. Columns: hostname (required),
// group, role, platform, os_version, site, requirements, cache_ttl, and any var.<name>
// (a var) or const.<name> (an intent constant). Names may be dotted to build
// maps and lists: var.uplinks.0.port, var.uplinks.0.peer, var.uplinks.1.port.
// An empty cell inherits from the group and defaults. In var and const cells
// a ';' separates list elements ("10.0.0.1;10.0.0.2"; a trailing ';' makes a
// one-element list), integers written plainly (no sign, no leading zero) stay
// integers (VLAN ids, AS numbers), true and false are booleans, and anything
// else is a string. Errors name the row (the header is row 1) and column.
//
// CSV has no groups section, so a row without hostname defines the group
// named in its group column, and a row with neither hostname nor group sets
// the defaults: a CSV file can stand alone. Groups and defaults may instead
// (or as well) come from a base YAML file: see Parser.Base.
//
// # JSON
//
// Either the YAML layout written as JSON, or a NetBox-style device export: a
// list of devices, or an object whose "results" is one (the API's paginated
// form), each with name, role.slug (or device_role.slug), platform.slug
// (NetBox slugs such as ios, cisco-ios-xe, nxos, eos and junos are mapped to
// netsmith platforms), site.slug, config_context, custom_fields and
// primary_ip4.address. config_context and custom_fields become vars (the
// context wins), except the keys requirements, os_version, cache_ttl,
// constants and group, which set the intent and name a group from
// Parser.Base;
// primary_ip4.address becomes mgmt_ip unless the vars set one. Other NetBox
// fields are ignored.
//
// # Validation
//
// Parse reports every problem at once, each naming the file, the line and
// column (YAML, JSON) or row (CSV), the device and the field:
//
//   - hostnames: valid as host and file names (netcfg.ValidateHostname) and
//     unique, compared without case since they become file names;
//   - every device resolves to an intent: a known platform, a role and
//     requirements after merging; groups it names exist;
//   - cache_ttl, wherever it is set: a Go duration from 1m to 8760h;
//   - the value rules of netcfg.CheckVars, the same rules every job applies,
//     so that a fleet file that parses does not fail its jobs: IP addresses
//     or prefixes (IPv4 or IPv6) under ip, *_ip, ip_address, ipv4_address,
//     ipv6_address (and *_ip_address, …), loopback<N>, in loopbacks, and
//     address in a map inside a list; mgmt_ip one prefix (address/length); gateway and *_gateway an address; subnet and
//     *_subnet a prefix without host bits; NTP, DNS, syslog, TACACS and
//     RADIUS servers (ntp_servers, name_servers, dns_servers, logging_hosts,
//     syslog_servers, tacacs_servers, radius_servers, or the singular
//     forms) addresses, DNS names or {address|host|ip|name, port, vrf, key}
//     entries with a port 1-65535; VLAN ids 1-4094 in vlans (ids, ranges,
//     {id, name} maps, a map by id, or a VLAN list string), vlan, vlan_id,
//     native_vlan, voice_vlan; VLAN lists such as "10,20,30-40" (or all,
//     none) in *_vlan and *_vlans; AS numbers 1-4294967295 (or asdot) in
//     asn, *_asn, *_as (remote_as, local_as, peer_as);
//   - malformed YAML, JSON or CSV, duplicate map keys, unknown fields (with a
//     did-you-mean), unsupported YAML tags, and the limits
//     DefaultMaxDevices, MaxDepth and MaxAliasNodes.
//
// The key rules apply at any depth, in vars and constants alike; a null value
// and secret references are not checked.
//
// Warnings do not stop a batch: literal secrets (a TACACS key too), a var
// name close to a well-known one (unknown var "mgmt_gatway" (did you mean
// "mgmt_gateway"?), said once per CSV column), a management gateway outside
// the management prefix, two devices with one management address, devices of
// one intent with different cache_ttl values.
//
// # Secrets
//
// Secrets should be references (vault:…, env:…, file:…), kept as written for
// the renderer to resolve. A literal value under a secret-looking name
// (IsSecretName) is a warning, and RedactSecrets keeps such values out of
// anything sent to an LLM.
package fleet
