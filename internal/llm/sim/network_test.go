package sim

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"netsmith/internal/frrtest"
	"netsmith/internal/prompt"
)

// fabricVars are the vars of a routed leaf that uses every network var sim
// places: AAA servers, downlinks with eBGP peers, overlay peers, SVIs in
// tenant VRFs, an MLAG pair with its iBGP session.
func fabricVars() map[string]any {
	return map[string]any{
		"snmp_location":  "Hall 2, rack 7 (row B)",
		"mgmt_ip":        "172.16.1.11/24",
		"mgmt_gateway":   "172.16.1.1",
		"tacacs_servers": []any{map[string]any{"address": "10.0.0.41", "port": 4949}, map[string]any{"address": "tac2.example.net", "key": "vault:net/tac2"}},
		"tacacs_key":     "vault:net/tacacs",
		"asn":            65101,
		"loopback0":      "10.255.0.3/32",
		"downlinks": []any{
			map[string]any{"port": "Ethernet1", "peer": "leaf9", "peer_port": "Ethernet49", "ip": "10.255.255.0/31", "peer_ip": "10.255.255.1", "peer_asn": 65109},
		},
		"evpn_peers": []any{map[string]any{"ip": "10.255.0.9", "asn": 65109, "description": "leaf9-evpn"}},
		"vlans": []any{
			map[string]any{"id": 110, "name": "WEB", "vni": 10110, "vrf": "TENANT_A", "svi_ip": "10.1.10.2/24", "virtual_ip": "10.1.10.1"},
		},
		"vrfs":          []any{map[string]any{"name": "TENANT_A", "vni": 50001}},
		"fhrp_priority": 110,
		"mlag_peer":     "leaf1b",
		"mlag_ip":       "10.255.252.0/31",
		"mlag_peer_ip":  "10.255.252.1",
		"mlag_domain":   "pair1",
	}
}

var platforms = []string{"cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "juniper_junos"}

const fabricReqs = "Routed leaf, eBGP to the spines, EVPN/VXLAN overlay, MLAG with its pair, TACACS+ with local fallback."

// TestNetworkVars checks, on every platform, that the network vars land
// in the config, the template path agrees with the config path, and the
// requirements decide MLAG and AAA.
func TestNetworkVars(t *testing.T) {
	t.Parallel()
	for _, p := range append(platforms, "frr") {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			s := prompt.Spec{Task: prompt.TaskConfig, Platform: p, Role: "leaf", Requirements: fabricReqs, Hostname: "leaf1a", Vars: fabricVars()}
			config := Render(s)
			s.Task, s.Hostname = prompt.TaskTemplate, ""
			if got := render(t, Render(s), with(fabricVars(), map[string]any{"hostname": "leaf1a"})); got != config {
				t.Errorf("template render differs from the config")
			}
			skip := map[string]bool{}
			if p == "cisco_ios" || p == "cisco_xe" || p == "juniper_junos" {
				// no MLAG on these platforms: the MLAG vars have nowhere to go
				for _, k := range []string{"mlag_ip", "mlag_peer_ip", "mlag_domain", "mlag_peer"} {
					skip[k] = true
				}
			}
			if p == "cisco_ios" {
				skip["evpn_peers"] = true // no EVPN on classic IOS, so no L2 VNI either
			}
			if p == "frr" {
				// FRR routes: management, AAA and SNMP are the host's, and
				// sim writes no EVPN, VLANs or MLAG for it.
				for _, k := range []string{"snmp_location", "mgmt_ip", "mgmt_gateway", "tacacs_servers", "tacacs_key",
					"evpn_peers", "vlans", "vrfs", "fhrp_priority", "mlag_peer", "mlag_ip", "mlag_peer_ip", "mlag_domain"} {
					skip[k] = true
				}
			}
			vars := fabricVars()
			for k := range skip {
				delete(vars, k)
			}
			if p == "cisco_ios" {
				delete(vars["vlans"].([]any)[0].(map[string]any), "vni")
			}
			if p == "frr" {
				if bad := frrRejects(config); bad != "" {
					t.Errorf("config holds a line FRR has no command for: %q", bad)
				}
			}
			if miss := missingValues(vars, config); len(miss) > 0 {
				t.Errorf("var values missing: %v\n%s", miss, config)
			}
			for _, want := range aaaWant[p] {
				if !strings.Contains(config, want) {
					t.Errorf("config lacks %q", want)
				}
			}
			// Every eBGP session has an inbound and an outbound policy.
			for _, ip := range []string{"10.255.255.1", "10.255.0.9"} {
				if (p == "cisco_ios" || p == "frr") && ip == "10.255.0.9" {
					continue
				}
				if n := policies(p, config, ip); n != 2 {
					t.Errorf("neighbor %s has %d of 2 policies", ip, n)
				}
			}
		})
	}
}

var aaaWant = map[string][]string{
	"cisco_ios":     {"tacacs server 10.0.0.41", " port 4949", "key 6 <vault:net/tac2>", "aaa authentication login default group TACACS local"},
	"cisco_xe":      {"tacacs server tac2.example.net", "key 6 <vault:net/tacacs>", "aaa authentication login default group TACACS local"},
	"cisco_nxos":    {"feature tacacs+", "tacacs-server host 10.0.0.41 key 7 <vault:net/tacacs> port 4949", "aaa authentication login default group TACACS"},
	"arista_eos":    {"tacacs-server host tac2.example.net vrf MGMT key 7 <vault:net/tac2>", "aaa authentication login default group TACACS local", "neighbor 10.255.0.9 update-source Loopback0"},
	"juniper_junos": {"tacplus-server {", "authentication-order [ tacplus password ];", `secret "<vault:net/tac2>"`, "multihop {"},
}

// policies counts the inbound and outbound policies that apply to the BGP
// session with ip.
func policies(platform, config, ip string) int {
	switch platform {
	case "juniper_junos":
		// group-level import/export covers every neighbor of the group
		n := 0
		if regexp.MustCompile(`(?m)^\s+import \S+;`).MatchString(config) {
			n++
		}
		if regexp.MustCompile(`(?m)^\s+export .+;`).MatchString(config) {
			n++
		}
		return n
	case "cisco_nxos":
		block := regexp.MustCompile(`(?ms)^  neighbor ` + regexp.QuoteMeta(ip) + `\n(.*?)(^  neighbor |^!)`).FindStringSubmatch(config)
		if block == nil {
			return 0
		}
		return strings.Count(block[1], "route-map BGP-IN in") + strings.Count(block[1], "route-map BGP-OUT out")
	}
	return strings.Count(config, "neighbor "+ip+" route-map BGP-IN in") + strings.Count(config, "neighbor "+ip+" route-map BGP-OUT out")
}

// TestRequirementsDecide checks that MLAG, AAA servers and access-port
// protection follow the requirements and vars, not the vars alone.
func TestRequirementsDecide(t *testing.T) {
	t.Parallel()
	for _, p := range platforms {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			vars := fabricVars()
			delete(vars, "tacacs_servers")
			s := prompt.Spec{Task: prompt.TaskConfig, Platform: p, Role: "leaf", Hostname: "leaf1a", Vars: vars,
				Requirements: "Routed leaf, eBGP to the spines. No MLAG."}
			config := Render(s)
			for _, bad := range []string{"mlag", "vpc", "MLAG", "TACACS", "tacplus"} {
				if strings.Contains(config, bad) {
					t.Errorf("config without MLAG or TACACS servers mentions %q", bad)
				}
			}
			if p != "juniper_junos" && !strings.Contains(config, "aaa authentication login default local") {
				t.Errorf("without servers AAA is not local alone")
			}
			s.Vars = map[string]any{"vlans": []any{10}, "access_ports": "Ethernet1-8"}
			s.Role, s.Requirements = "access", "Access ports with portfast and bpduguard."
			config = Render(s)
			want := map[string]string{"juniper_junos": "bpdu-block-on-edge;", "cisco_nxos": "spanning-tree port type edge", "arista_eos": "spanning-tree portfast"}[p]
			if want == "" {
				want = " spanning-tree portfast"
			}
			if !strings.Contains(config, want) || !strings.Contains(strings.ToLower(config), "bpdu") {
				t.Errorf("access ports asked for portfast and bpduguard lack %q or bpduguard", want)
			}
		})
	}
}

// TestBGPPolicyFollowsRequirements: "a default route only" narrows the
// inbound policy and an advertise constant the outbound one; without them
// both accept everything.
func TestBGPPolicyFollowsRequirements(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"asn": 65010, "uplinks": []any{map[string]any{"port": "Te0/0/0", "ip": "203.0.113.2/30", "peer_ip": "203.0.113.1", "peer_asn": 64500}}}
	for _, p := range []string{"cisco_xe", "arista_eos", "cisco_nxos", "frr"} {
		s := prompt.Spec{Task: prompt.TaskConfig, Platform: p, Role: "wan-edge", Hostname: "wan1", Vars: vars,
			Requirements: "eBGP to the provider: accept a default route only, advertise our prefix.",
			Constants:    map[string]any{"advertise": "192.0.2.0/24"}}
		config := Render(s)
		for _, want := range []string{"ip prefix-list BGP-IN permit 0.0.0.0/0", "ip prefix-list BGP-OUT permit 192.0.2.0/24",
			"match ip address prefix-list BGP-IN", "match ip address prefix-list BGP-OUT"} {
			if !strings.Contains(config, want) {
				t.Errorf("%s: config lacks %q", p, want)
			}
		}
		s.Requirements, s.Constants = "eBGP to the provider.", nil
		if config := Render(s); strings.Contains(config, "prefix-list") || !strings.Contains(config, "route-map BGP-IN permit 10") {
			t.Errorf("%s: without a default-only or advertise the policies should accept everything:\n%s", p, config)
		}
	}
}

// iosOnly are the starts of lines other platforms write that FRR has no
// command for: the host, not FRR, does management, AAA and switching.
var iosOnly = regexp.MustCompile(`^\s*(?:ntp |aaa |snmp-server |username |enable |ip domain|ip name-server|logging |spanning-tree|vlan |tacacs|radius|management |line |ip ssh|service |banner |switchport|channel-group|vrf |mlag|vpc |feature |ip ospf|router ospf|no ip)`)

// frrRejects returns the first line of config FRR has no command for, or "".
func frrRejects(config string) string {
	for l := range strings.Lines(config) {
		if iosOnly.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestFRRConfigsParse runs FRR's own parser over every FRR config sim
// writes in the golden files and in TestNetworkVars' fabric leaf.
func TestFRRConfigsParse(t *testing.T) {
	t.Parallel()
	vtysh := frrtest.Vtysh(t)
	dir := t.TempDir()
	checked := 0
	write := func(name, config string) {
		file := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		frrtest.Check(t, vtysh, file)
		checked++
	}
	for _, in := range intents() {
		if in.platform != "frr" {
			continue
		}
		for _, d := range in.devices {
			write(d.hostname, Render(configSpec(in, d)))
		}
	}
	write("fabric-leaf", Render(prompt.Spec{Task: prompt.TaskConfig, Platform: "frr", Role: "leaf", Requirements: fabricReqs + " BFD.",
		Hostname: "leaf1a", Vars: fabricVars()}))
	if checked < 4 {
		t.Errorf("%d FRR configs checked, want at least 4", checked)
	}
}
