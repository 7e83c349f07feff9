package coverage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/netcfg"
)

// Snippets below are cut from public configs (the AVD campus fabric's
// LEAF1A, Batfish's IOS failure-analysis and Junos examples) and trimmed.

const eosLeaf = `hostname LEAF1A
ip name-server vrf MGMT 10.0.0.21
ntp server vrf MGMT 10.0.0.11 iburst
vlan 10
   name IDF1-Data
vlan 110
vlan 4094
   trunk group MLAG
interface Port-Channel51
   description L2_SPINES_Port-Channel1
   switchport trunk allowed vlan 10,110,120-130
   mlag 51
interface Ethernet1-46,48
   description IDF1 Standard Port
   switchport access vlan 110
interface Ethernet49/1
   description P2P_LINK_TO_DC1-SPINE1_Ethernet1
   mtu 9214
   no switchport
   ip address 10.255.255.1/31
interface Management0
   vrf MGMT
   ip address 172.16.100.103/24
interface Vlan4094
   ip address 192.168.0.4/31
ip virtual-router mac-address 00:1c:73:00:00:99
mlag configuration
   domain-id IDF1
   local-interface Vlan4094
   peer-address 192.168.0.5
   peer-link Port-Channel53
router bgp 4200000001
   router-id 10.255.0.3
   neighbor 10.255.255.0 remote-as 65100
   neighbor 10.255.255.0 description DC1-SPINE1_Ethernet1
ip route vrf MGMT 0.0.0.0/0 172.16.100.1
`

const iosRouter = `hostname paris
logging host 1.1.1.1
ip domain name lab.local
username admin privilege 15 secret 9 <vault:campus/admin>
enable secret 9 <redacted>
interface Loopback0
 ip address 1.10.1.1 255.255.255.255
interface GigabitEthernet0/0
 description to milan Gi0/1
 ip address 10.12.11.1 255.255.255.0
interface range GigabitEthernet1/0/1 - 24 , GigabitEthernet1/0/26
 switchport access vlan 10
 switchport voice vlan 20
router ospf 1
 network 10.12.0.0 0.0.255.255 area 0
router bgp 1.10
 neighbor 10.12.11.2 remote-as 65012
snmp-server location Building A, floor 2
snmp-server community <vault:campus/snmp-ro> RO
`

const junosBorder = `set system host-name as1border1
set system ntp server 10.0.0.11
set interfaces ge-0/0/0 unit 0 family inet address 1.0.1.1/24
set interfaces ge-0/0/1 unit 0 family inet address 10.12.11.1/24
set interfaces interface-range ACCESS member-range ge-0/0/2 to ge-0/0/46
set interfaces interface-range UPLINK member ge-1/0/[0-3]
set interfaces ae0 aggregated-ether-options lacp active
set interfaces irb unit 110 family inet address 10.1.10.1/24
set vlans DATA vlan-id 110
set routing-options autonomous-system 1
set protocols bgp group ebgp neighbor 10.12.11.2 peer-as 2
`

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name     string
		p        netcfg.Platform
		config   string
		vars     string // JSON
		missing  []string
		checked  int
		suggests map[string]string
	}{
		{
			name: "eos all found", p: netcfg.AristaEOS, config: eosLeaf,
			vars: `{"hostname":"LEAF1A","asn":4200000001,"loopback0":"10.255.0.3/32","mgmt_ip":"172.16.100.103/24",
				"mlag_ip":"192.168.0.4/31","mlag_peer_ip":"192.168.0.5","mlag_domain":"IDF1","mlag_peer_link":"Po53",
				"mtu":9214,"virtual_router_mac":"001c.7300.0099","ntp_servers":["10.0.0.11"],"name_servers":["10.0.0.21"],
				"access_ports":"Et1-46","spare":"Ethernet48",
				"uplinks":[{"port":"Et49/1","ip":"10.255.255.1/31","peer_ip":"10.255.255.0","peer_asn":65100,"peer":"DC1-SPINE1"}],
				"vlans":[{"id":10,"name":"IDF1-Data"},{"id":125},{"id":4094}],"mgmt_gateway":"172.16.100.1",
				"site":"not in the config","loopback0_address":"never looked for","enabled":true,"note":null}`,
			// loopback0 10.255.0.3/32 is only a router-id: a prefix needs its length.
			missing: []string{"loopback0"},
			checked: 24,
		},
		{
			name: "eos numbers and addresses only whole", p: netcfg.AristaEOS, config: eosLeaf,
			vars: `{"hostname":"LEAF1","asn":4200000,"vlan":11,"mgmt_ip":"172.16.100.10/24","peer":"10.255.255.10",
				"uplink":"Ethernet49","port":"Ethernet47","mac":"00:1c:73:00:00:09","domain":"IDF"}`,
			missing:  []string{"asn", "domain", "hostname", "mgmt_ip", "peer", "port", "uplink", "vlan", "mac"},
			checked:  9,
			suggests: map[string]string{"uplink": "uplinks"},
		},
		{
			name: "ios masks, ranges, asdot, secrets", p: netcfg.CiscoIOS, config: iosRouter,
			vars: `{"hostname":"paris","loopback0":"1.10.1.1/32","uplink":{"port":"GigabitEthernet0/0","ip":"10.12.11.1/24",
				"peer":"milan","peer_port":"GigabitEthernet0/1","peer_ip":"10.12.11.2/24","peer_asn":65012},
				"asn":65546,"ospf_area_prefix":"10.12.0.0/16","access_ports":"Gi1/0/1-24","spare_port":"Gi1/0/26",
				"data_vlan":10,"voice_vlan":20,"logging_hosts":["1.1.1.1"],"domain_name":"lab.local",
				"snmp_location":"Building A, floor 2","admin_secret":"vault:campus/admin","enable_secret":"$9$abc",
				"snmp_community":"vault:campus/snmp-ro","tacacs_servers":[{"address":"10.0.0.41","key":"vault:campus/tacacs"}]}`,
			// A reference must appear; a literal secret may be the placeholder.
			missing: []string{"tacacs_servers.0.address", "tacacs_servers.0.key"},
			checked: 22,
		},
		{
			name: "ios gaps", p: netcfg.CiscoIOS, config: iosRouter,
			vars: `{"hostname":"paris","access_ports":"GigabitEthernet1/0/1-26","loopback0":"1.10.1.1/24",
				"mgmt_gatway":"10.12.11.254","snmp_location":"Building B"}`,
			missing:  []string{"access_ports", "loopback0", "mgmt_gatway", "snmp_location"},
			checked:  5,
			suggests: map[string]string{"mgmt_gatway": "mgmt_gateway"},
		},
		{
			name: "junos ranges and units", p: netcfg.JuniperJunos, config: junosBorder,
			vars: `{"hostname":"as1border1","asn":1,"ntp_servers":["10.0.0.11"],
				"links":[{"port":"ge-0/0/0","ip":"1.0.1.1/24"},{"port":"ge-0/0/1.0","ip":"10.12.11.1/24","peer_ip":"10.12.11.2","peer_asn":2}],
				"access_ports":"ge-0/0/[2-46]","uplinks":["ge-1/0/3"],"lag":"ae0",
				"vlans":[{"id":110,"name":"DATA","svi_ip":"10.1.10.1/24"}],"svi":"irb.110"}`,
			checked: 16,
		},
		{
			name: "junos gaps", p: netcfg.JuniperJunos, config: junosBorder,
			vars:    `{"hostname":"as1border2","access_ports":"ge-0/0/[2-47]","uplinks":["ge-1/0/4","xe-0/0/0"],"vlan":1100}`,
			missing: []string{"access_ports", "hostname", "uplinks.0", "uplinks.1", "vlan"},
			checked: 5,
		},
		{
			name: "numbers never inside numbers", p: netcfg.CiscoNXOS,
			config:  "interface Ethernet1/10\n  ip address 10.1.1.10/24\n  ip address 10.1.10.1 255.255.255.0\nvlan 110\nrouter bgp 650010\n",
			vars:    `{"ip":"10.1.1.1/24","addr":"10.1.1.1","vlan":10,"asn":65001,"lo":"10.1.10.1/32","port":"Eth1/1","mtu":1}`,
			missing: []string{"addr", "asn", "ip", "lo", "mtu", "port", "vlan"},
			checked: 7,
		},
		{
			name: "nxos abbreviations", p: netcfg.CiscoNXOS,
			config:  "hostname n1\ninterface Eth1/1-4\ninterface port-channel10\n  vpc peer-link\ninterface Vlan10\n",
			vars:    `{"hostname":"n1","ports":["Ethernet1/2","Ethernet1/4"],"peer_link":"Port-Channel10","svi":"Vlan10","vlan":10}`,
			checked: 6,
		},
		{
			name: "ipv6, banner lines, route targets", p: netcfg.AristaEOS,
			config: "interface Loopback0\n   ipv6 address 2001:db8::1/128\nbanner motd\nAuthorized access only.\nDisconnect now.\nEOF\n" +
				"router bgp 65001\n   neighbor 2001:db8:ff::2 remote-as 65002\n   vrf A\n      route-target import evpn 65001:10110\n",
			vars: `{"loopback0_v6":"2001:DB8::1/128","peer":"2001:db8:ff::2","gone":"2001:db8:ff::20","rt":"65001:10110",
				"banner":"Authorized access only.\nDisconnect now.","motd":"Authorized access only.\nGo away."}`,
			missing: []string{"gone", "motd"},
			checked: 6,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var vars map[string]any
			dec := json.NewDecoder(strings.NewReader(tt.vars))
			dec.UseNumber()
			if err := dec.Decode(&vars); err != nil {
				t.Fatal(err)
			}
			rep := Check(tt.p, vars, tt.config)
			var got []string
			for _, m := range rep.Missing {
				got = append(got, m.Path)
				if want := tt.suggests[m.Name]; m.Suggest != want {
					t.Errorf("%s: Suggest = %q, want %q", m.Path, m.Suggest, want)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.missing))
			if !slices.Equal(got, want) {
				t.Errorf("missing = %q, want %q", got, want)
			}
			if rep.Checked != tt.checked {
				t.Errorf("checked = %d, want %d", rep.Checked, tt.checked)
			}
		})
	}
}

func TestCheckNeverShowsLiteralSecrets(t *testing.T) {
	rep := Check(netcfg.CiscoIOS, map[string]any{"hostname": "r1", "enable_secret": "hunter2", "tacacs_key": "vault:k"}, "hostname r1\n")
	if len(rep.Missing) != 2 {
		t.Fatalf("missing = %v, want both secrets", rep.Missing)
	}
	for _, m := range rep.Missing {
		if strings.Contains(m.String(), "hunter2") {
			t.Errorf("%s shows the secret", m)
		}
	}
	if rep.Missing[1].Value != "vault:k" {
		t.Errorf("a reference is not a secret: got %q", rep.Missing[1].Value)
	}
}

func TestReportSuggest(t *testing.T) {
	rep := Check(netcfg.AristaEOS, map[string]any{"hostname": "x", "border_lnks": []any{"Ethernet9"}}, "hostname x\n")
	if len(rep.Missing) != 1 || rep.Missing[0].Suggest != "" {
		t.Fatalf("got %v, want one missing with no suggestion", rep.Missing)
	}
	rep.Suggest([]string{"hostname", "border_links"})
	if got := rep.Missing[0]; got.Suggest != "border_links" || !strings.Contains(got.String(), "did you mean border_links?") {
		t.Errorf("got %v, want a suggestion of border_links", got)
	}
	if got := rep.Names(); !slices.Equal(got, []string{"border_lnks"}) {
		t.Errorf("Names() = %q", got)
	}
}

// accessSwitch is render's golden access switch: its vars and the config
// its template renders from them, which uses every one.
func accessSwitch(t testing.TB) (map[string]any, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "render", "testdata", "access.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := json.Unmarshal(b, &vars); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join("..", "render", "testdata", "access.golden"))
	if err != nil {
		t.Fatal(err)
	}
	return vars, string(cfg)
}

func TestCheckAccessSwitchGolden(t *testing.T) {
	vars, cfg := accessSwitch(t)
	rep := Check(netcfg.CiscoIOS, vars, cfg)
	if rep.Checked < 20 || len(rep.Missing) != 0 {
		t.Errorf("checked %d, missing %v; want every value found", rep.Checked, rep.Missing)
	}
	// Each line the template wrote for a value, taken out, is missed.
	for _, drop := range []struct{ line, path string }{
		{"ip default-gateway 10.99.1.1", "mgmt_gateway"},
		{"ntp server 10.0.0.2", "ntp_servers.1"},
	} {
		if !strings.Contains(cfg, drop.line+"\n") {
			t.Fatalf("golden config lacks %q", drop.line)
		}
		rep := Check(netcfg.CiscoIOS, vars, strings.Replace(cfg, drop.line+"\n", "", 1))
		if len(rep.Missing) != 1 || rep.Missing[0].Path != drop.path {
			t.Errorf("without %q: missing %v, want %s", drop.line, rep.Missing, drop.path)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	vars, cfg := accessSwitch(b)
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		Check(netcfg.CiscoIOS, vars, cfg)
	}
}
