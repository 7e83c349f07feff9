package netcfg

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decode reads vars as the API and the worker do: JSON, numbers as float64.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

// TestCheckVarsAccepts: what real inventories hold raises no issue at all.
func TestCheckVarsAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, vars string }{
		{"servers by name", `{"ntp_servers":["time1.example.net","pool.ntp.org.","ntp"],"dns_servers":["ns1.example.net"]}`},
		{"servers by address", `{"name_servers":["10.0.0.53","2001:db8::53"],"logging_hosts":"10.0.0.5"}`},
		{"singular forms", `{"ntp_server":"time.example.net","name_server":"10.0.0.53","syslog_server":"log1","tacacs_server":{"host":"t1","key":"vault:k"},"radius_server":"2001:db8::45"}`},
		{"structured syslog", `{"syslog_servers":[{"address":"log1.example.net","port":514,"vrf":"MGMT"},{"address":"10.0.0.31","port":"6514"}]}`},
		{"tacacs with key refs", `{"tacacs_servers":[{"host":"tacacs1.example.net","key":"vault:dc1/tacacs","vrf":"MGMT"},{"ip":"10.0.0.41","port":49,"key":"env:TACACS"}]}`},
		{"ntp server by name", `{"ntp_servers":[{"name":"0.pool.ntp.org","vrf":"MGMT","preferred":true},{"address":"10.0.0.1","name":"backup clock"}]}`},
		{"servers by name in a map", `{"tacacs_servers":{"primary":{"host":"t1","key":"vault:k"},"backup":"10.0.0.42"},"ntp_servers":{"a":"time.example.net"}}`},
		{"entry keys in capitals", `{"syslog_servers":[{"Address":"log1","Port":514}]}`},
		{"radius entry", `{"radius_servers":[{"address":"2001:db8::45","port":1812,"key":"file:/run/secrets/radius"}]}`},
		{"vlan ids and ranges", `{"vlans":[10,"20",30,"40-50","60,70"]}`},
		{"vlan maps", `{"vlans":[{"id":110,"name":"WEB","vni":10110,"svi_ip":"10.1.10.1/24"},{"vlan_id":111,"name":"APP"}]}`},
		{"vlans by id", `{"vlans":{"10":"DATA","20":{"name":"VOICE"},"TEN":"x"}}`},
		{"vlans by name", `{"vlans":{"DATA":{"id":10},"VOICE":{"id":20,"name":"v"}}}`},
		{"vlan list string", `{"vlans":"10,20,30-40","trunk_vlans":"all","access_vlan":10}`},
		{"ipv6 addresses", `{"mgmt_ip":"2001:db8:0:1::11/64","mgmt_gateway":"2001:db8:0:1::1","loopback0":"2001:db8::1/128","peer_ip":"fe80::1"}`},
		{"ipv6 interface addresses", `{"interfaces":[{"name":"Ethernet1","ipv6_address":"2001:db8:1::1/64","ip_address":"10.1.1.1/31","peer_ipv4_address":"10.1.1.0"}]}`},
		{"json numbers", `{"asn":4200000000,"vlan":10,"native_vlan":1,"peers":[{"remote_as":65001,"peer_ip":"10.0.0.1"}]}`},
		{"asdot", `{"asn":"65000.100","local_as":"1.0","peer_as":"65001"}`},
		{"secret refs", `{"enable_secret":"vault:net/enable","snmp_communities":[{"name":"env:RO","access":"ro"}]}`},
		{"nulls", `{"mgmt_gateway":null,"ntp_servers":null,"asn":null,"tacacs_servers":[{"host":"t","port":null}]}`},
		{"loopbacks by name", `{"loopbacks":{"Loopback10":"10.255.10.1/32","Loopback11":"10.255.11.1/32"}}`},
		{"own names far from known ones", `{"site_info":{"address":"1 Main Street"},"bgp_send_community":"extended","key_id":7,"customer":"acme"}`},
		{"plurals and numbered names", `{"peers":[{"peer_ip":"10.0.0.1"}],"uplink":{"port":"Gi1"},"vlan10":{"ip":"10.0.10.1/24"},"loopback2":"10.255.2.1/32","svi":"x","rd":"1:1"}`},
		{"own names close to known ones", `{"mlag_id":1,"lag_id":10,"site_name":"dc1","vlan_name":"x","node_id":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CheckVars(decode(t, tt.vars)); len(got) != 0 {
				t.Errorf("CheckVars(%s) = %+v, want no issues", tt.vars, got)
			}
		})
	}
}

// TestCheckVarsRejects: each bad value is one issue, at the exact path.
func TestCheckVarsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, vars string
		want       Issue
	}{
		{"port out of range", `{"tacacs_servers":[{"host":"t0"},{"host":"t1","port":70000}]}`,
			Issue{Path: []any{"tacacs_servers", 1, "port"}, Msg: "70000 is not a port (1-65535)"}},
		{"port not a number", `{"syslog_servers":[{"address":"log1","port":"syslog"}]}`,
			Issue{Path: []any{"syslog_servers", 0, "port"}, Msg: `"syslog" is not a port (1-65535)`}},
		{"port zero", `{"radius_server":{"ip":"10.0.0.1","port":0}}`,
			Issue{Path: []any{"radius_server", "port"}, Msg: "0 is not a port (1-65535)"}},
		{"server entry without address", `{"logging_hosts":[{"port":514}]}`,
			Issue{Path: []any{"logging_hosts", 0}, Msg: "a server entry needs an address, host, ip or name"}},
		{"server map by name", `{"tacacs_servers":{"primary":{"host":"t1","port":0}}}`,
			Issue{Path: []any{"tacacs_servers", "primary", "port"}, Msg: "0 is not a port (1-65535)"}},
		{"server map by name, bad address", `{"ntp_servers":{"a":"10.0.0.256"}}`,
			Issue{Path: []any{"ntp_servers", "a"}, Msg: `"10.0.0.256" is not an IP address: IPv4 field has value >255`}},
		{"server by a bad name", `{"ntp_servers":[{"name":"time server"}]}`,
			Issue{Path: []any{"ntp_servers", 0, "name"}, Msg: `"time server" is neither an IP address nor a host name`}},
		{"peer_as", `{"neighbors":[{"peer_as":70000000000}]}`,
			Issue{Path: []any{"neighbors", 0, "peer_as"}, Msg: "AS number 70000000000 is outside 1-4294967295"}},
		{"server not a name", `{"ntp_servers":["10.0.0.1","ntp server"]}`,
			Issue{Path: []any{"ntp_servers", 1}, Msg: `"ntp server" is neither an IP address nor a host name`}},
		{"server bad address", `{"name_servers":["10.0.0.300"]}`,
			Issue{Path: []any{"name_servers", 0}, Msg: `"10.0.0.300" is not an IP address: IPv4 field has value >255`}},
		{"server bad host in entry", `{"tacacs_servers":[{"host":"-bad-"}]}`,
			Issue{Path: []any{"tacacs_servers", 0, "host"}, Msg: `"-bad-" is neither an IP address nor a host name`}},
		{"server prefix", `{"dns_servers":"10.0.0.0/24"}`,
			Issue{Path: []any{"dns_servers"}, Msg: `"10.0.0.0/24" is a prefix: want an address or a host name`}},
		{"literal tacacs key", `{"tacacs_servers":[{"host":"t1","key":"s3cr3t"}]}`,
			Issue{Path: []any{"tacacs_servers", 0, "key"}, Warn: true, Msg: "literal secret; use a reference such as vault:path, env:NAME or file:path so it never leaves this machine"}},
		{"vlan out of range", `{"vlans":[10,4095]}`,
			Issue{Path: []any{"vlans", 1}, Msg: "VLAN id 4095 is outside 1-4094"}},
		{"vlan range reversed", `{"vlans":[10,"50-40"]}`,
			Issue{Path: []any{"vlans", 1}, Msg: `"50-40" is not a VLAN list: range 50-40 is reversed`}},
		{"vlan map id", `{"vlans":[{"id":0,"name":"X"}]}`,
			Issue{Path: []any{"vlans", 0, "id"}, Msg: "VLAN id 0 is outside 1-4094"}},
		{"vlan by name id", `{"vlans":{"DATA":{"id":5000}}}`,
			Issue{Path: []any{"vlans", "DATA", "id"}, Msg: "VLAN id 5000 is outside 1-4094"}},
		{"vlan key", `{"vlans":{"5000":"X"}}`,
			Issue{Path: []any{"vlans", "5000"}, Msg: "VLAN id 5000 is outside 1-4094"}},
		{"vlan fraction", `{"native_vlan":1.5}`,
			Issue{Path: []any{"native_vlan"}, Msg: "want a VLAN id (1-4094), got 1.5"}},
		{"mgmt ip without length", `{"mgmt_ip":"2001:db8::11"}`,
			Issue{Path: []any{"mgmt_ip"}, Msg: `"2001:db8::11" has no prefix length: want address/length such as 2001:db8::11/24`}},
		{"uplink ip", `{"uplinks":[{"port":"Gi1","ip":"x"}]}`,
			Issue{Path: []any{"uplinks", 0, "ip"}, Msg: `"x" is not an IP address: unable to parse IP`}},
		{"ipv6 address", `{"interfaces":[{"name":"Ethernet1","ipv6_address":"2001:db8::g/64"}]}`,
			Issue{Path: []any{"interfaces", 0, "ipv6_address"}, Msg: `"2001:db8::g/64" is not an IP prefix: each colon-separated field must have at least one digit (at "g")`}},
		{"gateway prefix", `{"mgmt_gateway":"10.0.0.1/24"}`,
			Issue{Path: []any{"mgmt_gateway"}, Msg: `"10.0.0.1/24" is a prefix: want an address without /length`}},
		{"asn", `{"peers":[{"remote_as":0}]}`,
			Issue{Path: []any{"peers", 0, "remote_as"}, Msg: "AS number 0 is outside 1-4294967295"}},
		{"misspelled var", `{"mgmt_gatway":"10.0.0.1"}`,
			Issue{Path: []any{"mgmt_gatway"}, Warn: true, Hint: true, Msg: `unknown var "mgmt_gatway" (did you mean "mgmt_gateway"?)`}},
		{"misspelled nested var", `{"uplinks":[{"peer_prot":"Gi1"}]}`,
			Issue{Path: []any{"uplinks", 0, "peer_prot"}, Warn: true, Hint: true, Msg: `unknown var "peer_prot" (did you mean "peer_port"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := CheckVars(decode(t, tt.vars))
			if diff := cmp.Diff([]Issue{tt.want}, got); diff != "" {
				t.Errorf("CheckVars(%s) mismatch (-want +got):\n%s", tt.vars, diff)
			}
		})
	}
}

// TestValidateVars: a job fails on the first error, as a *FieldError with a
// dotted path, and never on a warning.
func TestValidateVars(t *testing.T) {
	t.Parallel()
	err := ValidateVars(decode(t, `{"enable_secret":"plain","mgmt_gatway":"x","tacacs_servers":[{"host":"a"},{"host":"b","port":70000}],"vlans":[5000]}`))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("ValidateVars = %v, want a *FieldError", err)
	}
	if got, want := fe.Error(), "tacacs_servers.1.port: 70000 is not a port (1-65535)"; got != want {
		t.Errorf("ValidateVars = %q, want %q", got, want)
	}
	if err := ValidateVars(decode(t, `{"enable_secret":"plain","mgmt_gatway":"x"}`)); err != nil {
		t.Errorf("ValidateVars with warnings only = %v, want nil", err)
	}
}

// BenchmarkCheckVars checks one leaf's vars as a job does, decoded from JSON.
func BenchmarkCheckVars(b *testing.B) {
	var vars map[string]any
	if err := json.Unmarshal([]byte(`{"mgmt_ip":"172.16.1.11/24","mgmt_gateway":"172.16.1.1","loopback0":"10.255.0.11/32","asn":65101,
		"ntp_servers":["time1.example.net","2001:db8::123"],"name_servers":["10.0.0.53"],
		"syslog_servers":[{"address":"log1.example.net","port":514,"vrf":"MGMT"}],
		"tacacs_servers":[{"host":"tacacs1.example.net","key":"vault:dc1/tacacs","vrf":"MGMT"}],
		"vlans":[{"id":110,"name":"WEB"},{"id":111,"name":"APP"}],"trunk_vlans":"110-111",
		"uplinks":[{"port":"Ethernet49/1","peer":"spine1","peer_port":"Ethernet1/1","ip":"10.254.0.1/31","peer_ip":"10.254.0.0"}],
		"customer_tag":"acme","enable_secret":"vault:dc1/enable"}`), &vars); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if issues := CheckVars(vars); len(issues) != 0 {
			b.Fatal(issues)
		}
	}
}
