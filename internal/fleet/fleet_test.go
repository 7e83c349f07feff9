package fleet

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/netcfg"
)

func mustParse(t testing.TB, p Parser, name, data string) *Fleet {
	t.Helper()
	fl, err := p.Parse(name, []byte(data))
	if err != nil {
		t.Fatalf("Parse(%s):\n%v", name, err)
	}
	return fl
}

// hostnames lists the fleet's devices by intent index, for compact checks.
func byIntent(fl *Fleet) [][]string {
	out := make([][]string, len(fl.Intents))
	for i, in := range fl.Intents {
		for _, d := range in.Devices {
			out[i] = append(out[i], fl.Devices[d].Device.Hostname)
		}
	}
	return out
}

// TestDesignExample parses the example of docs/design.md §6a.
func TestDesignExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fl, err := Parse("design.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	access := netcfg.Intent{
		Role:      "access",
		Platform:  netcfg.CiscoXE,
		OSVersion: "17.9",
		Requirements: "Layer-2 access switch. Dual uplinks as an LACP trunk to the distribution pair.\n" +
			"Access ports in the data VLAN with a voice VLAN, portfast and bpduguard. SSH v2 only.",
	}
	leaf := netcfg.Intent{
		Role:         "leaf",
		Platform:     netcfg.AristaEOS,
		Requirements: "EVPN/VXLAN L3 leaf, eBGP underlay to 2 spines, MLAG with dc1-leaf1b",
	}
	want := &Fleet{
		Devices: []Resolved{
			{
				Device: netcfg.Device{
					Hostname: "bld1-fl1-acc01", Role: "access", Platform: netcfg.CiscoXE, OSVersion: "17.9", Site: "bld1",
					Vars: map[string]any{
						"domain_name":   "example.net",
						"ntp_servers":   []any{"10.0.0.1", "10.0.0.2"},
						"enable_secret": "vault:net/enable",
						"vlans": []any{
							map[string]any{"id": 10, "name": "DATA"},
							map[string]any{"id": 20, "name": "VOICE"},
							map[string]any{"id": 99, "name": "MGMT"},
						},
						"mgmt_ip":      "10.99.1.11/24",
						"mgmt_gateway": "10.99.1.1",
						"uplinks": []any{
							map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld1-dist01", "peer_port": "Te1/0/11"},
							map[string]any{"port": "TenGigabitEthernet1/1/2", "peer": "bld1-dist02", "peer_port": "Te1/0/11"},
						},
					},
				},
				Intent: access, IntentIndex: 0, Group: "campus-access", File: "design.yaml", Line: 15,
			},
			{
				Device: netcfg.Device{
					Hostname: "dc1-leaf1a", Role: "leaf", Platform: netcfg.AristaEOS,
					Vars: map[string]any{
						"domain_name":   "example.net",
						"ntp_servers":   []any{"10.0.0.1", "10.0.0.2"},
						"enable_secret": "vault:net/enable",
						"mgmt_ip":       "172.16.1.101/24",
						"asn":           65101,
						"loopback0":     "10.255.0.3/32",
					},
				},
				Intent: leaf, IntentIndex: 1, File: "design.yaml", Line: 24,
			},
		},
		Intents: []Intent{{Intent: access, Devices: []int{0}}, {Intent: leaf, Devices: []int{1}}},
	}
	if diff := cmp.Diff(want, fl); diff != "" {
		t.Errorf("Parse(design.yaml) mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeOrder(t *testing.T) {
	t.Parallel()
	const data = `
version: 1
defaults:
  role: access
  platform: cisco_ios
  os_version: "15.2"
  requirements: default text
  site: hq
  stp_mode: mst
  constants: {aaa: local}
  vars:
    domain_name: example.net
    ntp_servers: [10.0.0.1, 10.0.0.2]
    snmp: {location: hq, contact: noc}
    banner: hello
groups:
  g:
    platform: cisco_xe
    os_version: 17.9
    requirements: group text
    constants: {aaa: tacacs}
    vars:
      ntp_servers: [10.1.0.1]
      snmp: {location: bld1}
devices:
  - hostname: inherit
    group: g
  - hostname: override
    group: g
    os_version: "17.12"
    site: bld9
    vars:
      snmp: {contact: desk}
      banner: null
  - hostname: plain
`
	fl := mustParse(t, Parser{}, "merge.yaml", data)
	type view struct {
		Platform, OS, Site, Req string
		Consts, Vars            map[string]any
	}
	var got []view
	for _, d := range fl.Devices {
		got = append(got, view{string(d.Device.Platform), d.Device.OSVersion, d.Device.Site, d.Intent.Requirements, d.Intent.Constants, d.Device.Vars})
	}
	want := []view{
		{"cisco_xe", "17.9", "hq", "group text", map[string]any{"aaa": "tacacs", "stp_mode": "mst"}, map[string]any{
			"domain_name": "example.net", "ntp_servers": []any{"10.1.0.1"}, "snmp": map[string]any{"location": "bld1", "contact": "noc"}, "banner": "hello",
		}},
		{"cisco_xe", "17.12", "bld9", "group text", map[string]any{"aaa": "tacacs", "stp_mode": "mst"}, map[string]any{
			"domain_name": "example.net", "ntp_servers": []any{"10.1.0.1"}, "snmp": map[string]any{"location": "bld1", "contact": "desk"},
		}},
		{"cisco_ios", "15.2", "hq", "default text", map[string]any{"aaa": "local", "stp_mode": "mst"}, map[string]any{
			"domain_name": "example.net", "ntp_servers": []any{"10.0.0.1", "10.0.0.2"}, "snmp": map[string]any{"location": "hq", "contact": "noc"}, "banner": "hello",
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged devices mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"inherit"}, {"override"}, {"plain"}}, byIntent(fl)); diff != "" {
		t.Errorf("intents mismatch (-want +got):\n%s", diff)
	}
}

func TestDevicesOwnTheirVars(t *testing.T) {
	t.Parallel()
	const data = `
defaults: {role: access, platform: cisco_xe, requirements: r, vars: {vlans: [{id: 10}], snmp: {location: hq}}}
devices:
  - hostname: a
  - hostname: b
    vars: {x: 1}
  - hostname: c
`
	fl := mustParse(t, Parser{}, "own.yaml", data)
	fl.Devices[0].Device.Vars["snmp"].(map[string]any)["location"] = "changed"
	fl.Devices[0].Device.Vars["vlans"].([]any)[0].(map[string]any)["id"] = 20
	for _, d := range fl.Devices[1:] {
		if got := d.Device.Vars["snmp"].(map[string]any)["location"]; got != "hq" {
			t.Errorf("%s: snmp.location = %v after changing device a, want hq", d.Device.Hostname, got)
		}
		if got := d.Device.Vars["vlans"].([]any)[0].(map[string]any)["id"]; got != 10 {
			t.Errorf("%s: vlans[0].id = %v after changing device a, want 10", d.Device.Hostname, got)
		}
	}
}

func TestIntentDedup(t *testing.T) {
	t.Parallel()
	const data = `
version: 1
groups:
  a1: {role: access, platform: cisco_xe, os_version: "17.9", requirements: "Access switch.\n"}
  a2: {role: access, platform: CISCO_XE, os_version: "17.9", requirements: "  Access switch."}
  a3: {role: access, platform: cisco_xe, os_version: "17.9", requirements: Access switch., constants: {stp: mst}}
  a4: {role: access, platform: cisco_xe, os_version: "17.12", requirements: Access switch.}
devices:
  - {hostname: s1, group: a1, vars: {mgmt_ip: 10.0.0.1/24}}
  - {hostname: s2, group: a2, vars: {mgmt_ip: 10.0.0.2/24}}
  - {hostname: s3, group: a3}
  - {hostname: s4, group: a4}
  - {hostname: s5, group: a1, constants: {stp: mst}}
  - {hostname: s6, group: a4, os_version: "17.9"}
`
	fl := mustParse(t, Parser{}, "dedup.yaml", data)
	want := [][]string{{"s1", "s2", "s6"}, {"s3", "s5"}, {"s4"}}
	if diff := cmp.Diff(want, byIntent(fl)); diff != "" {
		t.Errorf("devices by intent mismatch (-want +got):\n%s", diff)
	}
	for i, d := range fl.Devices {
		if got := fl.Intents[d.IntentIndex].Intent; !cmp.Equal(got, d.Intent) {
			t.Errorf("device %d: Intent %+v differs from Intents[%d] %+v", i, d.Intent, d.IntentIndex, got)
		}
	}
}

func TestYAMLAnchorsAndMergeKeys(t *testing.T) {
	t.Parallel()
	const data = `
version: 1
defaults: {role: access, platform: cisco_xe, requirements: r}
devices:
  - hostname: a
    vars: &common
      uplinks: &up [{port: Te1/1/1, peer: d1}]
      snmp: {location: hq}
  - hostname: b
    vars:
      <<: *common
      snmp: {location: lab}
  - hostname: c
    vars: {uplinks: *up}
`
	fl := mustParse(t, Parser{}, "anchors.yaml", data)
	up := []any{map[string]any{"port": "Te1/1/1", "peer": "d1"}}
	want := []map[string]any{
		{"uplinks": up, "snmp": map[string]any{"location": "hq"}},
		{"uplinks": up, "snmp": map[string]any{"location": "lab"}},
		{"uplinks": up},
	}
	var got []map[string]any
	for _, d := range fl.Devices {
		got = append(got, d.Device.Vars)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vars mismatch (-want +got):\n%s", diff)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	const data = "\ufeff" + `hostname,group,role,platform,os_version,site,requirements,var.mgmt_ip,var.ntp_servers,var.vlans,var.asn,var.lldp,var.uplinks.0.port,var.uplinks.0.peer,var.uplinks.1.port,var.uplinks.1.peer,const.stp_mode
,,,,,hq,,,10.0.0.1;10.0.0.2,,,true,,,,,
,access,access,cisco_xe,17.9,,"Access switch,
two lines.",,,10;20;99,,,Te1/1/1,dist1,Te1/1/2,dist2,rapid-pvst
sw1,access,,,,bld1,,10.1.0.11/24,,,,,,,,,
sw2,access,,,17.12,,,10.1.0.12/24,10.9.9.9;,30,65001,false,Gi1/0/49,dist3,,,
,,,,,,,,,,,,,,,,
sw3,,core,cisco_nxos,,,Core switch.,10.1.0.13/24,,,007,,,,,,
`
	fl := mustParse(t, Parser{}, "fleet.csv", data)
	up := []any{
		map[string]any{"port": "Te1/1/1", "peer": "dist1"},
		map[string]any{"port": "Te1/1/2", "peer": "dist2"},
	}
	want := []netcfg.Device{
		{Hostname: "sw1", Role: "access", Platform: netcfg.CiscoXE, OSVersion: "17.9", Site: "bld1", Vars: map[string]any{
			"mgmt_ip": "10.1.0.11/24", "ntp_servers": []any{"10.0.0.1", "10.0.0.2"}, "vlans": []any{10, 20, 99}, "lldp": true, "uplinks": up,
		}},
		{Hostname: "sw2", Role: "access", Platform: netcfg.CiscoXE, OSVersion: "17.12", Site: "hq", Vars: map[string]any{
			"mgmt_ip": "10.1.0.12/24", "ntp_servers": []any{"10.9.9.9"}, "vlans": 30, "asn": 65001, "lldp": false,
			"uplinks": []any{map[string]any{"port": "Gi1/0/49", "peer": "dist3"}},
		}},
		{Hostname: "sw3", Role: "core", Platform: netcfg.CiscoNXOS, Site: "hq", Vars: map[string]any{
			"mgmt_ip": "10.1.0.13/24", "ntp_servers": []any{"10.0.0.1", "10.0.0.2"}, "asn": "007", "lldp": true,
		}},
	}
	var got []netcfg.Device
	for _, d := range fl.Devices {
		got = append(got, d.Device)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices mismatch (-want +got):\n%s", diff)
	}
	if got, want := fl.Devices[0].Intent.Requirements, "Access switch,\ntwo lines."; got != want {
		t.Errorf("requirements = %q, want %q", got, want)
	}
	if got := fl.Devices[0].Intent.Constants; !cmp.Equal(got, map[string]any{"stp_mode": "rapid-pvst"}) {
		t.Errorf("constants = %v, want stp_mode: rapid-pvst", got)
	}
	var rows []int
	for _, d := range fl.Devices {
		rows = append(rows, d.Row)
	}
	if diff := cmp.Diff([]int{4, 5, 7}, rows); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
}

func TestCSVWithBase(t *testing.T) {
	t.Parallel()
	base := `
version: 1
defaults: {vars: {domain_name: example.net}}
groups:
  access: {role: access, platform: cisco_xe, os_version: "17.9", requirements: Access switch., vars: {vlans: [10, 20]}}
`
	csv := "hostname,group,var.mgmt_ip\nsw1,access,10.0.0.1/24\nsw2,access,10.0.0.2/24\n"
	fl := mustParse(t, Parser{Base: []byte(base), BaseName: "groups.yaml"}, "devices.csv", csv)
	if diff := cmp.Diff([][]string{{"sw1", "sw2"}}, byIntent(fl)); diff != "" {
		t.Errorf("intents mismatch (-want +got):\n%s", diff)
	}
	want := map[string]any{"domain_name": "example.net", "vlans": []any{10, 20}, "mgmt_ip": "10.0.0.2/24"}
	if diff := cmp.Diff(want, fl.Devices[1].Device.Vars); diff != "" {
		t.Errorf("sw2 vars mismatch (-want +got):\n%s", diff)
	}

	// Errors name the file they are in; a base holds no devices.
	_, err := Parser{Base: []byte(base + "devices: [{hostname: x}]\n  bad: [\n"), BaseName: "groups.yaml"}.Parse("devices.csv", []byte("hostname,group\nsw1,nope\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "groups.yaml:") {
		t.Errorf("Parse with a broken base = %v, want an error in groups.yaml", err)
	}
	_, err = Parser{Base: []byte(base + "devices: [{hostname: x}]\n"), BaseName: "groups.yaml"}.Parse("devices.csv", []byte("hostname,group\nsw1,nope\n"))
	wantErr := "groups.yaml:6:11: devices: a base file holds only version, defaults and groups\n" +
		`devices.csv: row 2: sw1: group: unknown group "nope" (known: access)`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Parse with devices in the base = %v, want\n%s", err, wantErr)
	}
}

func TestNetBoxJSON(t *testing.T) {
	t.Parallel()
	base := `
groups:
  campus: {constants: {stp_mode: mst}}
`
	const data = `{"count": 2, "next": null, "results": [
	{"id": 1, "name": "bld1-acc01", "role": {"id": 3, "slug": "access"}, "platform": {"slug": "cisco-ios-xe"},
	 "site": {"slug": "bld1"}, "primary_ip4": {"address": "10.0.0.11/24"}, "status": {"value": "active"},
	 "config_context": {"requirements": "Access switch.", "group": "campus", "vlans": [10, 20], "asn": 65001},
	 "custom_fields": {"os_version": "17.9", "asn": 65000, "rack_unit": null}},
	{"id": 2, "name": "bld1-acc02", "device_role": {"slug": "access"}, "platform": {"slug": "ios-xe"},
	 "site": {"slug": "bld1"}, "primary_ip4": {"address": "10.0.0.12/24"},
	 "config_context": {"requirements": "Access switch.", "group": "campus", "mgmt_ip": "10.9.0.12/24", "vlans": [10, 20]},
	 "custom_fields": {"os_version": "17.9"}}
]}`
	fl := mustParse(t, Parser{Base: []byte(base)}, "netbox.json", data)
	want := []netcfg.Device{
		{Hostname: "bld1-acc01", Role: "access", Platform: netcfg.CiscoXE, OSVersion: "17.9", Site: "bld1", Vars: map[string]any{
			"mgmt_ip": "10.0.0.11/24", "vlans": []any{10, 20}, "asn": 65001,
		}},
		{Hostname: "bld1-acc02", Role: "access", Platform: netcfg.CiscoXE, OSVersion: "17.9", Site: "bld1", Vars: map[string]any{
			"mgmt_ip": "10.9.0.12/24", "vlans": []any{10, 20},
		}},
	}
	var got []netcfg.Device
	for _, d := range fl.Devices {
		got = append(got, d.Device)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices mismatch (-want +got):\n%s", diff)
	}
	if len(fl.Intents) != 1 || !cmp.Equal(fl.Intents[0].Constants, map[string]any{"stp_mode": "mst"}) {
		t.Errorf("intents = %+v, want one with the campus group's constants", fl.Intents)
	}
}

// TestFormatsAgree parses one fleet written as YAML, JSON and CSV.
func TestFormatsAgree(t *testing.T) {
	t.Parallel()
	yml := `
version: 1
groups:
  access: {role: access, platform: arista_eos, requirements: Access switch., vars: {vlans: [10, 20]}}
devices:
  - {hostname: sw1, group: access, vars: {mgmt_ip: 10.0.0.1/24, asn: 65001}}
  - {hostname: sw2, group: access, site: lab, vars: {mgmt_ip: 10.0.0.2/24, ntp_servers: [10.0.0.5]}}
`
	js := `{"version": 1,
	"groups": {"access": {"role": "access", "platform": "arista_eos", "requirements": "Access switch.", "vars": {"vlans": [10, 20]}}},
	"devices": [
		{"hostname": "sw1", "group": "access", "vars": {"mgmt_ip": "10.0.0.1\/24", "asn": 65001}},
		{"hostname": "sw2", "group": "access", "site": "lab", "vars": {"mgmt_ip": "10.0.0.2/24", "ntp_servers": ["10.0.0.5"]}}
	]}`
	csv := "hostname,group,role,platform,site,requirements,var.mgmt_ip,var.asn,var.vlans,var.ntp_servers\n" +
		",access,access,arista_eos,,Access switch.,,,10;20,\n" +
		"sw1,access,,,,,10.0.0.1/24,65001,,\n" +
		"sw2,access,,,lab,,10.0.0.2/24,,,10.0.0.5;\n"
	devices := func(fl *Fleet) []netcfg.Device {
		var out []netcfg.Device
		for _, d := range fl.Devices {
			out = append(out, d.Device)
		}
		return out
	}
	want := devices(mustParse(t, Parser{}, "f.yaml", yml))
	for _, tt := range []struct{ name, data string }{{"f.json", js}, {"f.csv", csv}, {"", js}, {"", csv}} {
		if diff := cmp.Diff(want, devices(mustParse(t, Parser{}, tt.name, tt.data))); diff != "" {
			t.Errorf("%q: devices differ from YAML (-yaml +got):\n%s", tt.name, diff)
		}
	}
}

func TestMaxDevices(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, data, want string }{
		{"f.yaml", "defaults: {role: a, platform: cisco_xe, requirements: r}\ndevices: [{hostname: a}, {hostname: b}, {hostname: c}]\n",
			"f.yaml:2:10: devices: 3 devices is more than the limit of 2"},
		{"f.csv", "hostname,role,platform,requirements\na,x,cisco_xe,r\nb,x,cisco_xe,r\nc,x,cisco_xe,r\n",
			"f.csv: row 4: more devices than the limit of 2"},
		{"f.json", `[{"name": "a"}, {"name": "b"}, {"name": "c"}]`,
			"f.json:1:1: 3 devices is more than the limit of 2"},
	}
	for _, tt := range tests {
		_, err := Parser{MaxDevices: 2}.Parse(tt.name, []byte(tt.data))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s) with MaxDevices 2 = %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestErrorsCapped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("defaults: {role: a, platform: cisco_xe, requirements: r}\ndevices:\n")
	for i := range MaxErrors + 5 {
		fmt.Fprintf(&b, "  - {hostname: sw%d, vars: {mgmt_ip: bad}}\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	if len(es) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(es), MaxErrors+1)
	}
	if got, want := es[len(es)-1].Error(), "many.yaml: 5 more errors not shown"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
	if es[0].Line != 3 || es[MaxErrors-1].Line != MaxErrors+2 {
		t.Errorf("errors not in line order: first line %d, last line %d", es[0].Line, es[MaxErrors-1].Line)
	}
}

func TestDetectFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       Format
	}{
		{"a.yaml", "", FormatYAML},
		{"a.YML", "", FormatYAML},
		{"a.csv", "", FormatCSV},
		{"a.json", "", FormatJSON},
		{"", "version: 1\n", FormatYAML},
		{"", "# hostname, role, platform\nversion: 1\n", FormatYAML},
		{"", "\ufeffhostname,group,var.mgmt_ip\n", FormatCSV},
		{"upload", " \n[{\"name\": \"x\"}]", FormatJSON},
		{"", "{\"devices\": []}", FormatJSON},
	}
	for _, tt := range tests {
		if got := DetectFormat(tt.name, []byte(tt.data)); got != tt.want {
			t.Errorf("DetectFormat(%q, %q) = %q, want %q", tt.name, tt.data, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Line: 3, Col: 7, Device: "sw1", Field: "vars.mgmt_ip", Msg: "bad"}, "f.yaml:3:7: sw1: vars.mgmt_ip: bad"},
		{Error{File: "f.yaml", Line: 3, Msg: "bad"}, "f.yaml:3: bad"},
		{Error{File: "f.csv", Line: 4, Row: 3, Field: "var.asn", Msg: "bad"}, "f.csv: row 3: var.asn: bad"},
		{Error{File: "f.csv", Msg: "empty file"}, "f.csv: empty file"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestGoodValues parses values every check must accept.
func TestGoodValues(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/good-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fl, err := Parse("good-values.yaml", data)
	if err != nil {
		t.Fatalf("Parse(good-values.yaml):\n%v", err)
	}
	if len(fl.Warnings) > 0 {
		t.Errorf("Parse(good-values.yaml) warnings:\n%v", fl.Warnings)
	}
}

func TestYAMLDocumentMarkers(t *testing.T) {
	t.Parallel()
	const body = "defaults: {role: a, platform: cisco_xe, requirements: r}\ndevices: [{hostname: a}]\n"
	for _, data := range []string{"---\n" + body, body + "...\n", body + "---\n", "\ufeff" + body} {
		if _, err := Parse("f.yaml", []byte(data)); err != nil {
			t.Errorf("Parse(%q) = %v, want no error", data, err)
		}
	}
}

// ttlsOf lists each device's intent cache TTL by hostname, checking that it
// is its Fleet.Intents entry's.
func ttlsOf(t *testing.T, fl *Fleet) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, d := range fl.Devices {
		if in := fl.Intents[d.IntentIndex]; in.CacheTTL != d.Intent.CacheTTL {
			t.Errorf("%s: Intent.CacheTTL %s, but Intents[%d] has %s", d.Device.Hostname, d.Intent.CacheTTL, d.IntentIndex, in.CacheTTL)
		}
		out[d.Device.Hostname] = time.Duration(d.Intent.CacheTTL)
	}
	return out
}

// TestCacheTTL: cache_ttl merges like the other intent settings (defaults,
// then group, then device; a null clears it), in YAML, CSV and NetBox JSON.
func TestCacheTTL(t *testing.T) {
	t.Parallel()
	const yml = `
version: 1
defaults:
  role: access
  platform: cisco_xe
  cache_ttl: 168h
groups:
  stable: {requirements: Stable access.}
  active: {requirements: Access under change., cache_ttl: 24h}
  unset: {requirements: Other access., cache_ttl: null}
devices:
  - {hostname: s1, group: stable}
  - {hostname: a1, group: active}
  - {hostname: a2, group: active, cache_ttl: 24h}
  - {hostname: own, requirements: Own access., cache_ttl: 90m}
  - {hostname: u1, group: unset}
`
	fl := mustParse(t, Parser{}, "ttl.yaml", yml)
	want := map[string]time.Duration{"s1": 168 * time.Hour, "a1": 24 * time.Hour, "a2": 24 * time.Hour, "own": 90 * time.Minute, "u1": 0}
	if diff := cmp.Diff(want, ttlsOf(t, fl)); diff != "" {
		t.Errorf("YAML cache TTLs mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"s1"}, {"a1", "a2"}, {"own"}, {"u1"}}, byIntent(fl)); diff != "" {
		t.Errorf("YAML intents mismatch (-want +got):\n%s", diff)
	}
	if len(fl.Warnings) > 0 {
		t.Errorf("YAML warnings: %v", fl.Warnings)
	}

	// An empty cell inherits.
	const csv = "hostname,group,role,platform,requirements,cache_ttl\n" +
		",,access,cisco_xe,,168h\n" +
		",stable,,,Stable access.,\n" +
		",active,,,Access under change.,24h\n" +
		"s1,stable,,,,\n" +
		"a1,active,,,,\n" +
		"own,,,,Own access.,90m\n"
	fl = mustParse(t, Parser{}, "ttl.csv", csv)
	want = map[string]time.Duration{"s1": 168 * time.Hour, "a1": 24 * time.Hour, "own": 90 * time.Minute}
	if diff := cmp.Diff(want, ttlsOf(t, fl)); diff != "" {
		t.Errorf("CSV cache TTLs mismatch (-want +got):\n%s", diff)
	}

	const netbox = `[
	{"name": "nb1", "role": "access", "platform": "ios", "config_context": {"requirements": "Access.", "cache_ttl": "12h", "vlans": [10]}},
	{"name": "nb2", "role": "access", "platform": "ios", "config_context": {"requirements": "Access."}}
]`
	fl = mustParse(t, Parser{Base: []byte("defaults: {cache_ttl: 48h}\n")}, "nb.json", netbox)
	want = map[string]time.Duration{"nb1": 12 * time.Hour, "nb2": 12 * time.Hour}
	if diff := cmp.Diff(want, ttlsOf(t, fl)); diff != "" {
		t.Errorf("NetBox cache TTLs mismatch (-want +got):\n%s", diff)
	}
	if _, ok := fl.Devices[0].Device.Vars["cache_ttl"]; ok {
		t.Errorf("nb1 vars %v hold cache_ttl, want it taken out", fl.Devices[0].Device.Vars)
	}
	if len(fl.Warnings) != 1 || fl.Warnings[0].Device != "nb2" || fl.Warnings[0].Field != "cache_ttl" {
		t.Errorf("NetBox warnings = %v, want one on nb2's cache_ttl (48h against nb1's 12h)", fl.Warnings)
	}
}

// TestCacheTTLConflict: devices that differ only in cache_ttl share one
// intent, cached for the shortest TTL given, with one warning per intent.
func TestCacheTTLConflict(t *testing.T) {
	t.Parallel()
	const yml = `
version: 1
groups:
  access: {role: access, platform: cisco_xe, requirements: Access switch., cache_ttl: 24h}
devices:
  - {hostname: sw1, group: access}
  - {hostname: sw2, group: access, cache_ttl: 2h}
  - {hostname: sw3, group: access, cache_ttl: 30m}
  - {hostname: sw4, group: access, cache_ttl: null}
`
	fl := mustParse(t, Parser{}, "conflict.yaml", yml)
	if diff := cmp.Diff([][]string{{"sw1", "sw2", "sw3", "sw4"}}, byIntent(fl)); diff != "" {
		t.Errorf("intents mismatch (-want +got):\n%s", diff)
	}
	want := map[string]time.Duration{"sw1": 30 * time.Minute, "sw2": 30 * time.Minute, "sw3": 30 * time.Minute, "sw4": 30 * time.Minute}
	if diff := cmp.Diff(want, ttlsOf(t, fl)); diff != "" {
		t.Errorf("cache TTLs mismatch (-want +got):\n%s", diff)
	}
	wantWarn := "conflict.yaml:7:5: sw2: cache_ttl: 2h, but sw1 of the same intent has 24h: they share one template, cached for the shortest (30m)"
	if got := fl.Warnings.Error(); got != wantWarn {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, wantWarn)
	}
}
