package sim

import (
	"maps"

	"netsmith/internal/prompt"
)

// intent is one group of devices that share a template.
type intent struct {
	name         string // golden-file stem of the template
	platform     string
	role         string
	osVersion    string
	requirements string
	constants    map[string]any
	devices      []testDevice
}

type testDevice struct {
	hostname string
	vars     map[string]any
}

// campusDefaults are the fleet defaults of docs/design.md §6a.
func campusDefaults() map[string]any {
	return map[string]any{
		"domain_name":   "example.net",
		"ntp_servers":   []any{"10.0.0.1", "10.0.0.2"},
		"enable_secret": "vault:net/enable",
	}
}

func with(base map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	maps.Copy(out, base)
	maps.Copy(out, extra)
	return out
}

func campusVLANs() []any {
	return []any{
		map[string]any{"id": 10, "name": "DATA"},
		map[string]any{"id": 20, "name": "VOICE"},
		map[string]any{"id": 99, "name": "MGMT"},
	}
}

// intents are the test fleet: a few intents per platform, a few devices each.
func intents() []intent {
	return []intent{
		{
			name:      "cisco_xe_campus_access",
			platform:  "cisco_xe",
			role:      "access",
			osVersion: "17.9",
			requirements: "Layer-2 access switch. Dual uplinks as an LACP trunk to the distribution pair.\n" +
				"Access ports in the data VLAN with a voice VLAN, portfast and bpduguard. SSH v2 only.\n",
			devices: []testDevice{
				{"bld1-fl1-acc01", with(campusDefaults(), map[string]any{
					"vlans":        campusVLANs(),
					"mgmt_ip":      "10.99.1.11/24",
					"mgmt_gateway": "10.99.1.1",
					"uplinks": []any{
						map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld1-dist01", "peer_port": "Te1/0/11"},
						map[string]any{"port": "TenGigabitEthernet1/1/2", "peer": "bld1-dist02", "peer_port": "Te1/0/11"},
					},
				})},
				{"bld1-fl2-acc01", with(campusDefaults(), map[string]any{
					"vlans":        campusVLANs(),
					"mgmt_ip":      "10.99.1.12/24",
					"mgmt_gateway": "10.99.1.1",
					"uplinks": []any{
						map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld1-dist01", "peer_port": "Te1/0/12"},
						map[string]any{"port": "TenGigabitEthernet1/1/2", "peer": "bld1-dist02", "peer_port": "Te1/0/12"},
					},
				})},
				{"bld2-fl1-acc01", with(campusDefaults(), map[string]any{
					"vlans": []any{
						map[string]any{"id": 110, "name": "DATA"},
						map[string]any{"id": 120, "name": "VOICE"},
						map[string]any{"id": 199, "name": "MGMT"},
						map[string]any{"id": 130},
					},
					"mgmt_ip":      "10.99.2.11/25",
					"mgmt_gateway": "10.99.2.1",
					"uplinks": []any{
						map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld2-dist01"},
					},
				})},
			},
		},
		{
			name:         "cisco_ios_branch_access",
			platform:     "cisco_ios",
			role:         "access",
			osVersion:    "15.2(7)E9",
			requirements: "Branch access switch, layer 2 only. Management in the MGMT VLAN. Trunk uplink to the branch router.",
			constants: map[string]any{
				"logging_hosts": []any{"10.0.0.5"},
				"name_servers":  []any{"10.0.0.53", "10.0.0.54"},
				"banner":        "Property of Example Corp {{internal}}. Authorized use only.  ",
			},
			devices: []testDevice{
				{"br12-acc01", map[string]any{
					"enable_secret": "vault:net/branch-enable",
					"admin_secret":  "vault:net/branch-admin",
					"vlans":         []any{map[string]any{"id": 10, "name": "DATA"}, map[string]any{"id": 99, "name": "MGMT"}},
					"mgmt_ip":       "10.12.99.10/24",
					"mgmt_gateway":  "10.12.99.1",
					"uplinks":       []any{map[string]any{"port": "GigabitEthernet0/49", "peer": "br12-rtr01", "peer_port": "Gi0/0/1"}},
				}},
				{"br13-acc01", map[string]any{
					"enable_secret": "vault:net/branch-enable",
					"admin_secret":  "vault:net/branch-admin",
					"vlans":         []any{map[string]any{"id": 10, "name": "DATA"}, map[string]any{"id": 98, "name": "MGMT"}},
					"mgmt_ip":       "10.13.98.10/24",
					"mgmt_gateway":  "10.13.98.1",
					"uplinks":       []any{map[string]any{"port": "GigabitEthernet0/49", "peer": "br13-rtr01", "peer_port": "Gi0/0/1"}},
				}},
			},
		},
		{
			name:         "cisco_ios_wan_edge",
			platform:     "cisco_ios",
			role:         "wan-edge",
			osVersion:    "15.9(3)M",
			requirements: "WAN edge router. eBGP to the provider on each uplink, OSPF to the core, advertise loopback0.",
			devices: []testDevice{
				{"wan1-rtr01", map[string]any{
					"enable_secret": "vault:net/enable",
					"asn":           65010,
					"loopback0":     "10.255.10.1/32",
					"mgmt_ip":       "192.168.50.11/24",
					"mgmt_gateway":  "192.168.50.1",
					"ntp_servers":   []any{"10.0.0.1"},
					"uplinks": []any{
						map[string]any{"port": "GigabitEthernet0/1", "peer": "isp-a-pe1", "peer_port": "ge-0/0/3", "ip": "203.0.113.2/30", "peer_ip": "203.0.113.1", "peer_asn": 64500},
						map[string]any{"port": "GigabitEthernet0/2", "peer": "isp-b-pe7", "ip": "198.51.100.6/30", "peer_ip": "198.51.100.5", "peer_asn": 64501},
						map[string]any{"port": "GigabitEthernet0/3", "peer": "wan-core1", "peer_port": "Gi1/0/24", "ip": "10.10.0.1/30"},
					},
				}},
				{"wan2-rtr01", map[string]any{
					"enable_secret": "vault:net/enable",
					"asn":           4200000010,
					"loopback0":     "10.255.10.2/32",
					"mgmt_ip":       "192.168.50.12/24",
					"mgmt_gateway":  "192.168.50.1",
					"ntp_servers":   []any{"10.0.0.2"},
					"uplinks": []any{
						map[string]any{"port": "GigabitEthernet0/1", "peer": "isp-a-pe2", "peer_port": "ge-0/0/4", "ip": "203.0.113.6/30", "peer_ip": "203.0.113.5", "peer_asn": 64500},
					},
				}},
			},
		},
		{
			name:         "arista_eos_evpn_leaf",
			platform:     "arista_eos",
			role:         "leaf",
			osVersion:    "4.31.2F",
			requirements: "EVPN/VXLAN L3 leaf, eBGP underlay to 2 spines, MLAG with its pair leaf",
			constants:    map[string]any{"ntp_servers": []any{"10.0.0.1", "10.0.0.2"}, "domain_name": "dc1.example.net"},
			devices: []testDevice{
				{"dc1-leaf1a", map[string]any{
					"mgmt_ip": "172.16.1.101/24", "mgmt_gateway": "172.16.1.1",
					"asn": 65101, "loopback0": "10.255.0.3/32", "loopback1": "10.255.1.3/32",
					"enable_secret": "vault:net/enable", "admin_secret": "vault:net/admin",
					"mlag_peer": "dc1-leaf1b", "mlag_ip": "10.255.252.0/31", "mlag_peer_ip": "10.255.252.1",
					"vlans": []any{map[string]any{"id": 110, "name": "Tenant_A_WEB"}, map[string]any{"id": 111, "name": "Tenant_A_APP"}},
					"uplinks": []any{
						map[string]any{"port": "Ethernet49/1", "peer": "dc1-spine1", "peer_port": "Ethernet3", "ip": "10.255.255.1/31", "peer_ip": "10.255.255.0", "peer_asn": 65100},
						map[string]any{"port": "Ethernet50/1", "peer": "dc1-spine2", "peer_port": "Ethernet3", "ip": "10.255.255.3/31", "peer_ip": "10.255.255.2", "peer_asn": 65100},
					},
				}},
				{"dc1-leaf1b", map[string]any{
					"mgmt_ip": "172.16.1.102/24", "mgmt_gateway": "172.16.1.1",
					"asn": 65101, "loopback0": "10.255.0.4/32", "loopback1": "10.255.1.3/32",
					"enable_secret": "vault:net/enable", "admin_secret": "vault:net/admin",
					"mlag_peer": "dc1-leaf1a", "mlag_ip": "10.255.252.1/31", "mlag_peer_ip": "10.255.252.0",
					"vlans": []any{map[string]any{"id": 110, "name": "Tenant_A_WEB"}, map[string]any{"id": 111, "name": "Tenant_A_APP"}},
					"uplinks": []any{
						map[string]any{"port": "Ethernet49/1", "peer": "dc1-spine1", "peer_port": "Ethernet4", "ip": "10.255.255.5/31", "peer_ip": "10.255.255.4", "peer_asn": 65100},
						map[string]any{"port": "Ethernet50/1", "peer": "dc1-spine2", "peer_port": "Ethernet4", "ip": "10.255.255.7/31", "peer_ip": "10.255.255.6", "peer_asn": 65100},
					},
				}},
			},
		},
		{
			name:         "arista_eos_spine",
			platform:     "arista_eos",
			role:         "spine",
			osVersion:    "4.31.2F",
			requirements: "EVPN route server spine, eBGP to every leaf.",
			devices: []testDevice{
				{"dc1-spine1", map[string]any{
					"mgmt_ip": "172.16.1.11/24", "mgmt_gateway": "172.16.1.1", "asn": 65100, "loopback0": "10.255.0.1/32",
					"enable_secret": "vault:net/enable", "logging_hosts": []any{"10.0.0.5", "10.0.0.6"},
					"bgp_neighbors": []any{
						map[string]any{"ip": "10.255.255.1", "asn": 65101, "description": "dc1-leaf1a"},
						map[string]any{"ip": "10.255.255.5", "asn": 65101, "description": "dc1-leaf1b"},
						map[string]any{"ip": "10.255.255.9", "asn": 65102},
					},
				}},
				{"dc1-spine2", map[string]any{
					"mgmt_ip": "172.16.1.12/24", "mgmt_gateway": "172.16.1.1", "asn": 65100, "loopback0": "10.255.0.2/32",
					"enable_secret": "vault:net/enable", "logging_hosts": []any{"10.0.0.5"},
					"bgp_neighbors": []any{
						map[string]any{"ip": "10.255.255.3", "asn": 65101, "description": "dc1-leaf1a"},
					},
				}},
			},
		},
		{
			name:         "cisco_nxos_vpc_leaf",
			platform:     "cisco_nxos",
			role:         "leaf",
			osVersion:    "10.3(4a)",
			requirements: "VXLAN EVPN leaf with vPC to its peer, OSPF underlay, iBGP EVPN to the spines.",
			devices: []testDevice{
				{"dc2-leaf1", map[string]any{
					"mgmt_ip": "172.16.2.21/24", "mgmt_gateway": "172.16.2.1", "asn": 65200,
					"loopback0": "10.254.0.21/32", "loopback1": "10.254.1.21/32",
					"enable_secret": "vault:net/enable", "admin_secret": "vault:net/admin",
					"mlag_peer": "dc2-leaf2", "mlag_peer_ip": "172.16.2.22", "mlag_domain": 21,
					"vlans":         []any{100, 200},
					"uplinks":       []any{map[string]any{"port": "Ethernet1/49", "peer": "dc2-spine1", "peer_port": "Ethernet1/1", "ip": "10.254.255.1/31"}},
					"bgp_neighbors": []any{map[string]any{"ip": "10.254.0.1", "asn": 65200, "description": "dc2-spine1"}},
				}},
				{"dc2-leaf2", map[string]any{
					"mgmt_ip": "172.16.2.22/24", "mgmt_gateway": "172.16.2.1", "asn": 65200,
					"loopback0": "10.254.0.22/32", "loopback1": "10.254.1.21/32",
					"enable_secret": "vault:net/enable", "admin_secret": "vault:net/admin",
					"mlag_peer": "dc2-leaf1", "mlag_peer_ip": "172.16.2.21", "mlag_domain": 21,
					"vlans":         []any{100, 200, 300},
					"uplinks":       []any{map[string]any{"port": "Ethernet1/49", "peer": "dc2-spine1", "peer_port": "Ethernet1/2", "ip": "10.254.255.3/31"}},
					"bgp_neighbors": []any{map[string]any{"ip": "10.254.0.1", "asn": 65200, "description": "dc2-spine1"}},
				}},
			},
		},
		{
			name:         "juniper_junos_campus_access",
			platform:     "juniper_junos",
			role:         "access",
			osVersion:    "21.4R3-S5",
			requirements: "EX access switch: LACP uplink bundle to the distribution pair, access ports with a voice VLAN, bpduguard on edge ports.",
			constants: map[string]any{
				"vlans":         []any{map[string]any{"id": 10, "name": "DATA"}, map[string]any{"id": 20, "name": "VOICE"}},
				"snmp_location": "Building 3, floor 2",
			},
			devices: []testDevice{
				{"bld3-fl2-acc01", with(campusDefaults(), map[string]any{
					"mgmt_ip": "10.99.3.21/24", "mgmt_gateway": "10.99.3.1",
					"admin_secret":  "vault:net/junos-admin",
					"logging_hosts": []any{"10.0.0.5"},
					"uplinks": []any{
						map[string]any{"port": "xe-0/1/0", "peer": "bld3-dist01", "peer_port": "xe-0/0/21"},
						map[string]any{"port": "xe-0/1/1", "peer": "bld3-dist02", "peer_port": "xe-0/0/21"},
					},
				})},
				{"bld3-fl3-acc01", with(campusDefaults(), map[string]any{
					"mgmt_ip": "10.99.3.31/24", "mgmt_gateway": "10.99.3.1",
					"admin_secret":  "vault:net/junos-admin",
					"logging_hosts": []any{"10.0.0.5"},
					"uplinks": []any{
						map[string]any{"port": "xe-0/1/0", "peer": "bld3-dist01", "peer_port": "xe-0/0/31"},
						map[string]any{"port": "xe-0/1/1", "peer": "bld3-dist02", "peer_port": "xe-0/0/31"},
					},
				})},
			},
		},
		{
			name:         "juniper_junos_evpn_leaf",
			platform:     "juniper_junos",
			role:         "leaf",
			osVersion:    "22.2R3",
			requirements: "QFX EVPN-VXLAN leaf, eBGP underlay and overlay to the spines, OSPF not used.",
			devices: []testDevice{
				{"dc3-leaf1", map[string]any{
					"mgmt_ip": "172.16.3.31/24", "mgmt_gateway": "172.16.3.1", "asn": 65301, "loopback0": "10.253.0.31/32",
					"enable_secret": "vault:net/enable",
					"vlans":         []any{map[string]any{"id": 300, "name": "web"}, map[string]any{"id": 301}},
					"uplinks": []any{
						map[string]any{"port": "et-0/0/48", "peer": "dc3-spine1", "peer_port": "et-0/0/1", "ip": "10.253.255.1/31", "peer_ip": "10.253.255.0", "peer_asn": 65300},
						map[string]any{"port": "et-0/0/49", "peer": "dc3-spine2", "peer_port": "et-0/0/1", "ip": "10.253.255.3/31", "peer_ip": "10.253.255.2", "peer_asn": 65300},
					},
				}},
				{"dc3-leaf2", map[string]any{
					"mgmt_ip": "172.16.3.32/24", "mgmt_gateway": "172.16.3.1", "asn": 65302, "loopback0": "10.253.0.32/32",
					"enable_secret": "vault:net/enable",
					"vlans":         []any{map[string]any{"id": 300, "name": "web"}},
					"uplinks": []any{
						map[string]any{"port": "et-0/0/48", "peer": "dc3-spine1", "peer_port": "et-0/0/2", "ip": "10.253.255.5/31", "peer_ip": "10.253.255.4", "peer_asn": 65300},
					},
				}},
			},
		},
		{
			name:         "frr_leaf",
			platform:     "frr",
			role:         "leaf",
			osVersion:    "8.4",
			requirements: "eBGP leaf on routed /31 uplinks to both spines, BFD on every session, loopbacks advertised.",
			devices: []testDevice{
				{"fab-leaf1", map[string]any{
					"asn": 65101, "loopback0": "10.0.0.11/32", "loopback1": "10.0.1.11/32",
					"uplinks": []any{
						map[string]any{"port": "eth1", "peer": "fab-spine1", "peer_port": "eth1", "ip": "10.1.0.1/31", "peer_ip": "10.1.0.0", "peer_asn": 65000},
						map[string]any{"port": "eth2", "peer": "fab-spine2", "peer_port": "eth1", "ip": "10.1.0.3/31", "peer_ip": "10.1.0.2", "peer_asn": 65000},
					},
				}},
				{"fab-leaf2", map[string]any{
					"asn": 65102, "loopback0": "10.0.0.12/32", "loopback1": "10.0.1.12/32",
					"uplinks": []any{
						map[string]any{"port": "eth1", "peer": "fab-spine1", "ip": "10.1.0.5/31", "peer_ip": "10.1.0.4", "peer_asn": 65000},
					},
				}},
			},
		},
		{
			name:         "frr_edge",
			platform:     "frr",
			role:         "edge",
			requirements: "Edge router: eBGP to the provider, accept a default route only, advertise our prefix.",
			constants:    map[string]any{"advertise": "192.0.2.0/24"},
			devices: []testDevice{
				{"edge1", map[string]any{
					"asn": 64512, "router_id": "192.0.2.1",
					"bgp_neighbors": []any{map[string]any{"ip": "203.0.113.1", "asn": 64500, "description": "transit-a"}},
					"downlinks":     []any{map[string]any{"port": "eth0", "ip": "203.0.113.2/30"}},
				}},
			},
		},
		{
			name:         "cisco_ios_bare",
			platform:     "cisco_ios",
			role:         "access",
			requirements: "Basic switch.",
			devices: []testDevice{
				{"lab-sw1", map[string]any{}},
				{"lab-sw2", nil},
			},
		},
	}
}

// configSpec is the TaskConfig spec of one device of in.
func configSpec(in intent, d testDevice) prompt.Spec {
	return prompt.Spec{
		Task: prompt.TaskConfig, Platform: in.platform, Role: in.role, OSVersion: in.osVersion,
		Requirements: in.requirements, Constants: in.constants, Hostname: d.hostname, Vars: d.vars,
	}
}

// templateSpec is the TaskTemplate spec of in, with the first device's vars
// (and hostname) as the examples.
func templateSpec(in intent) prompt.Spec {
	return prompt.Spec{
		Task: prompt.TaskTemplate, Platform: in.platform, Role: in.role, OSVersion: in.osVersion,
		Requirements: in.requirements, Constants: in.constants, Vars: renderVars(in.devices[0]),
	}
}

// renderVars is what a worker renders a template with, before netcfg.DeriveVars:
// the device's vars and its hostname.
func renderVars(d testDevice) map[string]any {
	return with(d.vars, map[string]any{"hostname": d.hostname})
}
