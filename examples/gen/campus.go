package main

import (
	"fmt"
	"strings"
)

// Campus groups: one intent each.
const (
	officeXE179  = "office-access-xe179"
	officeXE1712 = "office-access-xe1712"
	legacyIOS    = "legacy-access-ios"
	labAccess    = "lab-access"
	apEOS        = "ap-access-eos"
	warehouse    = "warehouse-access-junos"
	distXE       = "dist-xe"
	distEOS      = "dist-eos"
	coreNXOS     = "core-nxos"
	wanEdge      = "wan-edge-xe"
)

// platformOf and uplinkPorts describe each access group's hardware.
var (
	platformOf = map[string]string{
		officeXE179: "cisco_xe", officeXE1712: "cisco_xe", legacyIOS: "cisco_ios", labAccess: "cisco_xe",
		apEOS: "arista_eos", warehouse: "juniper_junos", distXE: "cisco_xe", distEOS: "arista_eos",
	}
	uplinkPorts = map[string][2]string{
		"cisco_xe":      {"TenGigabitEthernet1/1/1", "TenGigabitEthernet1/1/2"}, // C9300 + NM-8X
		"cisco_ios":     {"TenGigabitEthernet1/0/1", "TenGigabitEthernet1/0/2"}, // C2960X-48FPD-L
		"arista_eos":    {"Ethernet49/1", "Ethernet50/1"},                       // 720XP-48ZC2
		"juniper_junos": {"xe-0/1/0", "xe-0/1/1"},                               // EX2300-48P
	}
)

// vlan is one building VLAN with its subnet (the distribution pair takes .2
// and .3, the gateway address is .1).
type vlan struct {
	id     int
	name   string
	subnet string // e.g. "10.101.0.0/20"
}

// host returns address n of the subnet with the subnet's length: "10.101.0.2/20".
func (v vlan) host(n int) string {
	addr, bits, _ := strings.Cut(v.subnet, "/")
	o := strings.Split(addr, ".")
	return fmt.Sprintf("%s.%s.%s.%d/%s", o[0], o[1], o[2], n, bits)
}

func (v vlan) gateway() string {
	a, _, _ := strings.Cut(v.host(1), "/")
	return a
}

// floorSet is a run of access switches of one group on one floor.
type floorSet struct {
	floor  string // "fl3", or "b1" for the basement
	label  string // for snmp_location
	group  string
	count  int
	prefix string // hostname kind: "acc" or "poe"
}

type building struct {
	n        int
	name     string // bld1
	desc     string
	dist     string // distribution group
	vlans    []vlan
	accesses []floorSet
}

func campusBuildings() []building {
	mgmt := func(b int) vlan { return vlan{99, "MGMT", fmt.Sprintf("10.99.%d.0/24", b)} }
	floors := func(group string, from, to, count int) []floorSet {
		var out []floorSet
		for f := from; f <= to; f++ {
			out = append(out, floorSet{floor: fmt.Sprintf("fl%d", f), label: fmt.Sprintf("floor %d", f), group: group, count: count, prefix: "acc"})
		}
		return out
	}
	basement := floorSet{floor: "b1", label: "basement plant room", group: legacyIOS, count: 4, prefix: "acc"}

	lab := floors(labAccess, 1, 4, 10)
	var labAll []floorSet
	for _, fs := range lab {
		labAll = append(labAll, fs, floorSet{floor: fs.floor, label: fs.label, group: apEOS, count: 3, prefix: "poe"})
	}
	return []building{
		{
			n: 1, name: "bld1", desc: "Building 1 (HQ offices)", dist: distXE,
			vlans:    []vlan{{10, "DATA", "10.101.0.0/20"}, {20, "VOICE", "10.111.0.0/21"}, mgmt(1)},
			accesses: append(floors(officeXE179, 1, 8, 12), basement),
		},
		{
			n: 2, name: "bld2", desc: "Building 2 (offices)", dist: distXE,
			vlans:    []vlan{{10, "DATA", "10.102.0.0/20"}, {20, "VOICE", "10.112.0.0/21"}, mgmt(2)},
			accesses: append(floors(officeXE1712, 1, 6, 14), basement),
		},
		{
			n: 3, name: "bld3", desc: "Building 3 (engineering labs)", dist: distEOS,
			vlans: []vlan{
				{10, "DATA", "10.103.0.0/21"}, {20, "VOICE", "10.113.0.0/22"}, {30, "LAB", "10.123.0.0/21"},
				{40, "IOT", "10.133.0.0/22"}, {50, "WLAN-AP", "10.143.0.0/24"}, {60, "GUEST", "10.153.0.0/22"}, mgmt(3),
			},
			accesses: labAll,
		},
		{
			n: 4, name: "bld4", desc: "Building 4 (warehouse)", dist: distXE,
			vlans:    []vlan{{10, "DATA", "10.104.0.0/22"}, {70, "SCANNERS", "10.174.0.0/22"}, mgmt(4)},
			accesses: floors(warehouse, 1, 2, 16),
		},
	}
}

// distPort names the distribution port facing the i-th access switch of a
// building (0-based), by distribution platform.
func distPort(distGroup string, i int) string {
	slot, port := 1+i/48, 1+i%48
	if distGroup == distEOS {
		return fmt.Sprintf("Ethernet%d/%d", slot+2, port) // 7508R line cards 3-8
	}
	return fmt.Sprintf("TwentyFiveGigE%d/0/%d", slot, port) // C9606R line cards 1-4
}

func distUplinkPorts(distGroup string) [2]string {
	if distGroup == distEOS {
		return [2]string{"Ethernet1/1/1", "Ethernet1/2/1"}
	}
	return [2]string{"HundredGigE5/0/1", "HundredGigE5/0/2"}
}

func campusGroups() []group {
	campusVLANs := func(b building, ids ...int) []any {
		var out []any
		for _, v := range b.vlans {
			for _, id := range ids {
				if v.id == id {
					out = append(out, kv{"id", v.id, "name", v.name})
				}
			}
		}
		return out
	}
	bs := campusBuildings()
	officeVLANs := campusVLANs(bs[0], 10, 20, 99)
	const mgmtAndAAA = "Management SVI in the MGMT VLAN with a default gateway.\nSSH v2 only, TACACS+ with local fallback, NTP, syslog and SNMPv2c read-only."
	office := func(model string) string {
		return "Layer-2 access switch for office floors (" + model + `).
Dual 10G uplinks as one LACP port-channel trunk to the building distribution pair,
allowing only the building VLANs. Access ports in the data VLAN with the voice VLAN,
portfast and bpduguard, storm control on broadcast.
` + mgmtAndAAA
	}
	return []group{
		{
			name: officeXE179, role: "access", platform: "cisco_xe", osVersion: "17.9.5",
			requirements: office("Catalyst 9300-48P"),
			constants:    kv{"stp_mode", "rapid-pvst"},
			vars: kv{"vlans", officeVLANs, "data_vlan", 10, "voice_vlan", 20, "mgmt_vlan", 99,
				"access_ports", "GigabitEthernet1/0/1-48"},
		},
		{
			name: officeXE1712, role: "access", platform: "cisco_xe", osVersion: "17.12.4",
			requirements: office("Catalyst 9300X-48HX"),
			constants:    kv{"stp_mode", "rapid-pvst"},
			vars: kv{"vlans", officeVLANs, "data_vlan", 10, "voice_vlan", 20, "mgmt_vlan", 99,
				"access_ports", "TwoGigabitEthernet1/0/1-48"},
		},
		{
			name: legacyIOS, role: "access", platform: "cisco_ios", osVersion: "15.2(7)E9",
			requirements: `Legacy layer-2 access switch (Catalyst 2960-X) in the basement plant rooms.
Dual 10G uplinks as one LACP port-channel trunk to the distribution pair.
Access ports in the data VLAN with portfast and bpduguard, no voice VLAN.
` + mgmtAndAAA,
			constants: kv{"stp_mode", "rapid-pvst"},
			vars: kv{"vlans", campusVLANs(bs[0], 10, 99), "data_vlan", 10, "mgmt_vlan", 99,
				"access_ports", "GigabitEthernet1/0/1-48"},
		},
		{
			name: labAccess, role: "access", platform: "cisco_xe", osVersion: "17.9.5",
			requirements: `Layer-2 access switch for engineering labs (Catalyst 9300-48U).
802.1X with MAB fallback on every access port, dynamic VLAN assignment from RADIUS,
the GUEST VLAN on authentication failure, the voice VLAN for phones.
Dual LACP uplinks as one port-channel trunk to the distribution pair.
Portfast and bpduguard; DHCP snooping and dynamic ARP inspection on DATA, LAB and IOT.
` + mgmtAndAAA,
			cacheTTL:  "24h", // the labs' access policy changes often: make its template again daily
			constants: kv{"stp_mode", "rapid-pvst", "radius_servers", []string{"10.0.0.61", "10.0.0.62"}},
			vars: kv{"vlans", campusVLANs(bs[2], 10, 20, 30, 40, 60, 99), "data_vlan", 10, "voice_vlan", 20,
				"mgmt_vlan", 99, "guest_vlan", 60, "access_ports", "GigabitEthernet1/0/1-48"},
		},
		{
			name: apEOS, role: "access", platform: "arista_eos", osVersion: "4.31.2F",
			requirements: `PoE access switch for wireless access points (Arista 720XP-48ZC2).
Access ports are trunks to the APs: native VLAN WLAN-AP, IOT and GUEST tagged,
portfast edge and bpduguard, PoE class 4. Dual uplinks as one LACP port-channel
to the distribution pair. MSTP. Management in the MGMT VLAN. SSH only, TACACS+, NTP, syslog.`,
			constants: kv{"stp_mode", "mstp"},
			vars: kv{"vlans", campusVLANs(bs[2], 40, 50, 60, 99), "native_vlan", 50, "mgmt_vlan", 99,
				"access_ports", "Ethernet1-48"},
		},
		{
			name: warehouse, role: "access", platform: "juniper_junos", osVersion: "22.4R3",
			requirements: `Layer-2 access switch in the warehouse (EX2300-48P).
Access ports in the DATA VLAN; ports 40-47 in the SCANNERS VLAN with PoE.
Dual uplinks as one LACP aggregated Ethernet trunk (ae0) to the distribution pair.
RSTP with edge ports and BPDU protection. Management on irb.99 in the MGMT VLAN.
SSH only, TACACS+ with local fallback, NTP and syslog.`,
			constants: kv{"stp_mode", "rstp"},
			vars: kv{"vlans", campusVLANs(bs[3], 10, 70, 99), "data_vlan", 10, "mgmt_vlan", 99,
				"access_ports", "ge-0/0/0-47"},
		},
		{
			name: distXE, role: "distribution", platform: "cisco_xe", osVersion: "17.9.5",
			requirements: `Building distribution switch, one of a pair (Catalyst 9606R).
Routed point-to-point uplinks to both core switches, OSPF area 0 with BFD and
MD5 authentication; advertise loopback0 and the building subnets.
An SVI for every building VLAN with HSRP (the pair's 01 switch active), DHCP relay
to 10.0.0.51 and 10.0.0.52. One LACP port-channel trunk per access switch,
allowing only the building VLANs. Rapid-PVST root for all building VLANs.
Out-of-band management on GigabitEthernet0/0 in VRF Mgmt-vrf. SSH v2, TACACS+, NTP, syslog.`,
			constants: kv{"routing", "ospf", "ospf_area", 0, "fhrp", "hsrp", "dhcp_relays", []string{"10.0.0.51", "10.0.0.52"}, "mtu", 9216},
		},
		{
			name: distEOS, role: "distribution", platform: "arista_eos", osVersion: "4.31.2F",
			requirements: `Building distribution switch, one of a pair (Arista 7508R) for the lab building.
Routed point-to-point uplinks to both core switches, OSPF area 0 with BFD;
advertise loopback0 and the building subnets. An SVI for every building VLAN
with VRRP (the pair's 01 switch master), DHCP relay to 10.0.0.51 and 10.0.0.52.
One LACP port-channel trunk per access switch. MSTP root for all VLANs.
Out-of-band management on Management1 in VRF MGMT. SSH, TACACS+, NTP, syslog.`,
			constants: kv{"routing", "ospf", "ospf_area", 0, "fhrp", "vrrp", "dhcp_relays", []string{"10.0.0.51", "10.0.0.52"}, "mtu", 9216},
		},
		{
			name: coreNXOS, role: "core", platform: "cisco_nxos", osVersion: "10.3(4a)",
			requirements: `Campus core switch, one of a pair (Nexus 9508).
Routed point-to-point links to every building distribution switch and to both
WAN edge routers, OSPF area 0 with BFD and MD5 authentication, ECMP.
No VLANs beyond the vPC peer link to the other core switch for the services VLAN.
Out-of-band management on mgmt0 in VRF management. SSH, TACACS+, NTP, syslog.`,
			constants: kv{"routing", "ospf", "ospf_area", 0, "mtu", 9216},
			vars:      kv{"vpc_domain", 10, "vpc_peer_link", []string{"Ethernet1/35", "Ethernet1/36"}},
		},
		{
			name: wanEdge, role: "wan-edge", platform: "cisco_xe", osVersion: "17.9.5",
			requirements: `WAN edge router (Catalyst 8500-12X). eBGP to the internet provider on the
provider uplink: accept a default route only, advertise 192.0.2.0/24.
OSPF area 0 to both core switches on routed links, originate a default route
into OSPF while the eBGP session is up. NAT is out of scope.
Out-of-band management on GigabitEthernet0 in VRF Mgmt-intf. SSH v2, TACACS+, NTP, syslog.`,
			constants: kv{"routing", "ebgp+ospf", "ospf_area", 0, "advertise", "192.0.2.0/24", "mtu", 9216},
			vars:      kv{"asn", 65010},
		},
	}
}

func campusYAML() string {
	var w writer
	w.line(0, "# A campus fleet: four buildings (offices, labs, a warehouse) with access")
	w.line(0, "# switches on every floor, a distribution pair per building, two core switches")
	w.line(0, "# and two WAN edge routers: 284 devices over 10 intents.")
	w.line(0, "#")
	w.line(0, "# Generated by `go run ./examples/gen -dir examples`; edit the generator, not this file.")
	w.line(0, "version: 1")
	w.line(0, "defaults:")
	w.line(1, "vars:")
	for _, f := range []struct {
		k string
		v any
	}{
		{"domain_name", "campus.example.net"},
		{"ntp_servers", []string{"10.0.0.11", "10.0.0.12"}},
		{"name_servers", []string{"10.0.0.21", "10.0.0.22"}},
		{"logging_hosts", []string{"10.0.0.31"}},
		{"tacacs_servers", []any{kv{"address", "10.0.0.41"}, kv{"address", "10.0.0.42"}}},
		{"tacacs_key", "vault:campus/tacacs"},
		{"enable_secret", "vault:campus/enable"},
		{"admin_secret", "vault:campus/admin"},
		{"snmp_community", "vault:campus/snmp-ro"},
		{"snmp_contact", "noc@example.net"},
		{"banner", "Authorized access only. Disconnect now if you are not an authorized user."},
	} {
		w.field(2, f.k, f.v)
	}
	w.line(0, "groups:")
	for _, g := range campusGroups() {
		w.group(g)
	}
	w.line(0, "devices:")
	for _, d := range campusDevices() {
		w.device(d)
	}
	return w.String()
}

// p2p returns the two ends of the /31 at 10.254.<third>.<fourth>: the lower
// address (core side) and the higher one.
func p2p(third, fourth int) (lo, hi string) {
	return fmt.Sprintf("10.254.%d.%d/31", third, fourth), fmt.Sprintf("10.254.%d.%d/31", third, fourth+1)
}

func addr(cidr string) string {
	a, _, _ := strings.Cut(cidr, "/")
	return a
}

func campusDevices() []device {
	const oobGateway = "10.98.0.1"
	var (
		access, dists []device
		coreDown      = [2][]kv{}
	)
	for _, b := range campusBuildings() {
		dist := [2]string{b.name + "-dist01", b.name + "-dist02"}
		mgmt := b.vlans[len(b.vlans)-1]
		var downlinks [2][]kv
		i := 0
		for _, fs := range b.accesses {
			for k := 1; k <= fs.count; k++ {
				host := fmt.Sprintf("%s-%s-%s%02d", b.name, fs.floor, fs.prefix, k)
				up := uplinkPorts[platformOf[fs.group]]
				var uplinks []kv
				for j := range 2 {
					uplinks = append(uplinks, kv{"port", up[j], "peer", dist[j], "peer_port", distPort(b.dist, i)})
					downlinks[j] = append(downlinks[j], kv{"port", distPort(b.dist, i), "peer", host, "peer_port", up[j], "port_channel", 101 + i})
				}
				access = append(access, device{
					hostname: host, group: fs.group, site: b.name,
					vars: kv{
						"snmp_location", fmt.Sprintf("%s, %s, IDF %s%c", b.desc, fs.label, strings.TrimPrefix(fs.floor, "fl"), 'A'+rune((k-1)/12)),
						"mgmt_ip", mgmt.host(11 + i),
						"mgmt_gateway", mgmt.gateway(),
						"uplinks", uplinks,
					},
				})
				i++
			}
		}
		ups := distUplinkPorts(b.dist)
		for j := range 2 {
			var uplinks []kv
			for c := range 2 {
				coreSide, distSide := p2p(b.n, 4*j+2*c)
				corePort := fmt.Sprintf("Ethernet1/%d", 2*b.n-1+j)
				uplinks = append(uplinks, kv{"port", ups[c], "peer", fmt.Sprintf("campus-core%02d", c+1), "peer_port", corePort, "ip", distSide})
				coreDown[c] = append(coreDown[c], kv{"port", corePort, "peer", dist[j], "peer_port", ups[c], "ip", coreSide})
			}
			var vlans []any
			for _, v := range b.vlans {
				vlans = append(vlans, kv{"id", v.id, "name", v.name, "svi_ip", v.host(2 + j), "virtual_ip", v.gateway()})
			}
			dists = append(dists, device{
				hostname: dist[j], group: b.dist, site: b.name,
				vars: kv{
					"snmp_location", b.desc + ", main distribution frame",
					"mgmt_ip", fmt.Sprintf("10.98.0.%d/24", 19+2*b.n+j),
					"mgmt_gateway", oobGateway,
					"loopback0", fmt.Sprintf("10.255.%d.%d/32", b.n, j+1),
					"fhrp_priority", 110 - 10*j,
					"vlans", vlans,
					"uplinks", uplinks,
					"downlinks", downlinks[j],
				},
			})
		}
	}

	var cores, wans []device
	for c := range 2 {
		var uplinks []kv
		for wi := range 2 {
			coreSide, _ := p2p(0, 4*wi+2*c)
			uplinks = append(uplinks, kv{"port", fmt.Sprintf("Ethernet1/%d", 33+wi), "peer", fmt.Sprintf("campus-wan%02d", wi+1),
				"peer_port", fmt.Sprintf("TenGigabitEthernet0/0/%d", 1+c), "ip", coreSide})
		}
		cores = append(cores, device{
			hostname: fmt.Sprintf("campus-core%02d", c+1), group: coreNXOS, site: "dc-room",
			vars: kv{
				"snmp_location", "Building 1, data centre room, row A",
				"mgmt_ip", fmt.Sprintf("10.98.0.%d/24", 11+c),
				"mgmt_gateway", oobGateway,
				"loopback0", fmt.Sprintf("10.255.0.%d/32", 1+c),
				"vpc_peer", fmt.Sprintf("campus-core%02d", 2-c),
				"vpc_keepalive_ip", fmt.Sprintf("10.98.0.%d", 11+c),
				"vpc_peer_keepalive_ip", fmt.Sprintf("10.98.0.%d", 12-c),
				"uplinks", uplinks,
				"downlinks", coreDown[c],
			},
		})
	}
	isps := []struct {
		name, ip, peer string
		asn            int
	}{{"isp-a-pe1", "203.0.113.2/30", "203.0.113.1", 64500}, {"isp-b-pe7", "198.51.100.6/30", "198.51.100.5", 64501}}
	for wi, isp := range isps {
		uplinks := []kv{{"port", "TenGigabitEthernet0/0/0", "peer", isp.name, "ip", isp.ip, "peer_ip", isp.peer, "peer_asn", isp.asn, "mtu", 1500}}
		for c := range 2 {
			_, wanSide := p2p(0, 4*wi+2*c)
			uplinks = append(uplinks, kv{"port", fmt.Sprintf("TenGigabitEthernet0/0/%d", 1+c), "peer", fmt.Sprintf("campus-core%02d", c+1),
				"peer_port", fmt.Sprintf("Ethernet1/%d", 33+wi), "ip", wanSide})
		}
		wans = append(wans, device{
			hostname: fmt.Sprintf("campus-wan%02d", wi+1), group: wanEdge, site: "dc-room",
			vars: kv{
				"snmp_location", "Building 1, data centre room, row A",
				"mgmt_ip", fmt.Sprintf("10.98.0.%d/24", 13+wi),
				"mgmt_gateway", oobGateway,
				"loopback0", fmt.Sprintf("10.255.0.%d/32", 3+wi),
				"uplinks", uplinks,
			},
		})
	}
	out := append(access, dists...)
	out = append(out, cores...)
	return append(out, wans...)
}
