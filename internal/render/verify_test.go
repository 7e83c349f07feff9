package render

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"netsmith/internal/corpustest"

	"github.com/google/go-cmp/cmp"
)

func example() map[string]any {
	return map[string]any{
		"hostname":     "bld1-acc01",
		"mgmt_ip":      "10.99.1.11/24",
		"mgmt_gateway": "10.99.1.1",
		"asn":          65001,
		"poe":          true,
		"banner":       "Authorized access only\nViolators will be prosecuted",
		"vlans":        []any{map[string]any{"id": 110, "name": "DATA"}, map[string]any{"id": 10, "name": "VOICE"}},
		"uplinks": []any{
			map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld1-dist01", "peer_port": "Te1/0/11"},
			map[string]any{"port": "TenGigabitEthernet1/1/2", "peer": "bld1-dist02", "peer_port": "Te1/0/11"},
		},
	}
}

const goodTemplate = `hostname {{.hostname}}
!
{{range .vlans}}vlan {{.id}}
 name {{.name}}
!
{{end}}{{range .uplinks}}interface {{.port}}
 description to {{.peer}} {{.peer_port}}
 channel-group 1 mode active
!
{{end}}interface Vlan99
 ip address {{addr .mgmt_ip}} {{netmask .mgmt_ip}}
!
ip default-gateway {{.mgmt_gateway}}
ip access-list standard MGMT
 permit {{addr (network .mgmt_ip)}} {{wildcard .mgmt_ip}}
router bgp {{.asn}}
 bgp router-id {{addr .mgmt_ip}}
{{if .poe}}power inline auto
{{end}}banner motd ^
{{.banner}}
^
end
`

func TestVerifyPasses(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(filepath.Join("testdata", "access.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
		vars map[string]any
	}{
		{"small", goodTemplate, example()},
		{"case changes", "hostname {{upper .hostname}}\n{{range $i, $v := .vlans}}vlan {{.id}}\n name {{lower .name}}\n seq {{add $i 1}}\n{{end}}",
			map[string]any{"hostname": "bld1-acc01", "vlans": example()["vlans"]}},
		{"access switch", string(text), loadVars(t, filepath.Join("testdata", "access.json"))},
	}
	for _, tt := range tests {
		for seed := range 4 {
			tm := mustParse(t, tt.text)
			r, err := Verify(t.Context(), tm, tt.vars, Synthesize(tt.vars, seed))
			if err != nil {
				t.Errorf("%s, seed %d: Verify: %v\n%s", tt.name, seed, err, strings.Join(r.Feedback(0), "\n"))
				continue
			}
			if r.VariableLines == 0 || r.ConstantLines == 0 || r.LinesA != r.LinesB {
				t.Errorf("%s, seed %d: report %+v", tt.name, seed, r)
			}
			if len(r.Unused) > 0 {
				t.Errorf("%s, seed %d: Unused = %v, want none", tt.name, seed, r.Unused)
			}
			if want, err := tm.Render(t.Context(), tt.vars); err != nil || r.RenderA != want {
				t.Errorf("%s, seed %d: RenderA is not the render with set a (%v)", tt.name, seed, err)
			}
		}
	}
}

func TestVerifyCatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		wantVar string // Var of an error finding, when the finding is about one
		wantMsg string // substring of that finding
	}{
		{"hard-coded hostname", strings.Replace(goodTemplate, "hostname {{.hostname}}", "hostname bld1-acc01", 1), "hostname", "per-device value is written into the template"},
		{"hard-coded hostname in upper case", goodTemplate + "snmp-server location BLD1-ACC01\n", "hostname", "per-device value"},
		{"hard-coded address", strings.Replace(goodTemplate, "ip address {{addr .mgmt_ip}}", "ip address 10.99.1.11", 1), "mgmt_ip", "per-device value"},
		{"hard-coded prefix", goodTemplate + "ip route 10.99.1.11/24 Null0\n", "mgmt_ip", "per-device value"},
		{"hard-coded gateway", strings.Replace(goodTemplate, "{{.mgmt_gateway}}", "10.99.1.1", 1), "mgmt_gateway", "per-device value"},
		{"hard-coded peer in a loop", strings.Replace(goodTemplate, "to {{.peer}}", "to bld1-dist01", 1), "uplinks[0].peer", "per-device value"},
		{"hard-coded vlan that looks like a constant", strings.Replace(goodTemplate, "{{range .vlans}}vlan {{.id}}", "vlan 110\n{{range .vlans}}vlan {{.id}}", 1), "vlans[0].id", "per-device value"},
		{"hard-coded asn", goodTemplate + "ip bgp-community new-format\nip community-list 1 permit 65001:100\n", "asn", "per-device value"},
		{"derived value", goodTemplate + "router ospf {{add .asn 1}}\n", "", "shows no variable value"},
		{"no variable", "hostname static\nend\n", "", "identical"},
		{"empty", "{{if false}}{{.hostname}}{{end}}", "", "empty"},
		{"missing variable", goodTemplate + "{{.loopback0}}\n", "", `no entry for key "loopback0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := example()
			r, err := Verify(t.Context(), mustParse(t, tt.text), ex, Synthesize(ex, 7))
			if !errors.Is(err, ErrNotVerified) {
				t.Fatalf("Verify error %v, want ErrNotVerified\n%s", err, strings.Join(r.Feedback(0), "\n"))
			}
			for _, f := range r.Errors() {
				if f.Var == tt.wantVar && strings.Contains(f.String(), tt.wantMsg) {
					return
				}
			}
			t.Errorf("no error finding with Var %q and %q; findings:\n%s", tt.wantVar, tt.wantMsg, strings.Join(r.Feedback(0), "\n"))
		})
	}
}

// TestVerifyValueAlsoConstant: a value that is also constant text of the
// template, like an uplink's peer port (Ethernet1 on the spine) among the
// leaf's own ports (Ethernet1 to Ethernet24), passes with a warning when
// the template writes the variable on a line that changes and the constant
// lines show most values of its form. The same value written where the
// variable belongs, or written again next to the variable with no such
// constants around, is refused.
func TestVerifyValueAlsoConstant(t *testing.T) {
	t.Parallel()
	ports := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "interface Ethernet%d\n description access\n switchport access vlan 10\n!\n", i)
		}
		return b.String()
	}
	const uplink = "interface {{.uplink.interface}}\n description to {{.uplink.peer}} {{.uplink.peer_interface}}\n!\n"
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"variable written, value among the constant ports", "hostname {{.hostname}}\n" + ports(24) + uplink, true},
		{"value written where the variable belongs", "hostname {{.hostname}}\n" + ports(24) +
			strings.Replace(uplink, "{{.uplink.peer_interface}}", "Ethernet1", 1), false},
		{"value written again, no constants of its form", "hostname {{.hostname}}\n" + uplink +
			"monitor session 1 destination Ethernet1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed := range 8 {
				ex := map[string]any{"hostname": "LEAF1A",
					"uplink": map[string]any{"interface": "Ethernet49", "peer": "SPINE1", "peer_interface": "Ethernet1"}}
				r, err := Verify(t.Context(), mustParse(t, tt.text), ex, Synthesize(ex, seed))
				var found *Finding
				for _, f := range r.Findings {
					if f.Var == "uplink.peer_interface" && strings.Contains(f.Msg, `shows "Ethernet1"`) {
						found = &f
						break
					}
				}
				switch {
				case tt.ok && err != nil:
					t.Errorf("seed %d: Verify: %v\n%s", seed, err, strings.Join(r.Feedback(0), "\n"))
				case tt.ok && (found == nil || found.Severity != SeverityWarning):
					t.Errorf("seed %d: finding about Ethernet1 %+v, want a warning", seed, found)
				case !tt.ok && !errors.Is(err, ErrNotVerified):
					t.Errorf("seed %d: Verify error %v, want ErrNotVerified\n%s", seed, err, strings.Join(r.Feedback(0), "\n"))
				case !tt.ok && (found == nil || found.Severity != SeverityError):
					t.Errorf("seed %d: finding about Ethernet1 %+v, want an error; findings:\n%s", seed, found, strings.Join(r.Feedback(0), "\n"))
				}
			}
		})
	}
}

func TestVerifyWarnsOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    func(map[string]any)
		text    string
		wantMsg string
	}{
		{"constant in a variable's subnet", func(v map[string]any) { delete(v, "mgmt_gateway") },
			strings.Replace(goodTemplate, "ip default-gateway {{.mgmt_gateway}}", "ip default-gateway 10.99.1.1", 1),
			"lies in the subnet of variable mgmt_ip"},
		{"short value that is also a constant", nil, goodTemplate + "switchport access vlan 10\n",
			`shows "10", the value of variable vlans[1].id`},
		{"unused variable", func(v map[string]any) { v["site"] = "bld1" }, goodTemplate, "does not show: site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := example()
			if tt.vars != nil {
				tt.vars(ex)
			}
			r, err := Verify(t.Context(), mustParse(t, tt.text), ex, Synthesize(ex, 3))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			for _, f := range r.Findings {
				if f.Severity == SeverityWarning && strings.Contains(f.String(), tt.wantMsg) {
					return
				}
			}
			t.Errorf("no warning with %q; findings:\n%s", tt.wantMsg, strings.Join(r.Feedback(0), "\n"))
		})
	}
}

func TestVerifyLineCountDiffers(t *testing.T) {
	t.Parallel()
	// b has a different shape from a: the lines still align, and the
	// extra lines show values of b.
	a := map[string]any{"h": "sw01", "l": []any{"Gi1/0/1"}}
	b := map[string]any{"h": "sw77", "l": []any{"Gi7/0/7", "Gi7/0/8"}}
	tm := mustParse(t, "hostname {{.h}}\n!\n{{range .l}}interface {{.}}\n shutdown\n{{end}}end\n")
	r, err := Verify(t.Context(), tm, a, b)
	if err == nil {
		t.Fatalf("Verify passed; the added \" shutdown\" line of b shows no value, want it refused")
	}
	want := Finding{Severity: SeverityError, Render: "b", Line: 4, Text: " shutdown",
		Msg: "this line differs between the renders but shows no variable value; a line may only change through a variable"}
	if diff := cmp.Diff([]Finding{want}, r.Errors()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestFeedback(t *testing.T) {
	t.Parallel()
	r := &Report{Findings: []Finding{
		{Severity: SeverityWarning, Msg: "w1"},
		{Severity: SeverityError, Render: "b", Line: 3, Text: "hostname x", Msg: "e1"},
		{Severity: SeverityError, Msg: "e2"},
	}}
	want := []string{`error: render b line 3 "hostname x": e1`, "error: e2"}
	if diff := cmp.Diff(want, r.Feedback(2)); diff != "" {
		t.Errorf("Feedback (-want +got):\n%s", diff)
	}
}

func TestSynthesizeDeterministic(t *testing.T) {
	t.Parallel()
	a1, a2 := Synthesize(example(), 1), Synthesize(example(), 1)
	if diff := cmp.Diff(a1, a2); diff != "" {
		t.Errorf("same seed, different sets (-first +second):\n%s", diff)
	}
	if cmp.Equal(a1, Synthesize(example(), 2)) {
		t.Errorf("seeds 1 and 2 give the same set")
	}
	if Synthesize(nil, 1) != nil {
		t.Errorf("Synthesize(nil) is not nil")
	}
}

// leafValues flattens v into path -> leaf, and records each path's type.
func leafValues(v reflect.Value, path string, out map[string]any, types map[string]reflect.Type) {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	types[path] = v.Type()
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		types[path+"#len"] = reflect.TypeOf(v.Len())
		out[path+"#len"] = v.Len()
		for i := range v.Len() {
			leafValues(v.Index(i), path+"["+string(rune('0'+i))+"]", out, types)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			leafValues(v.MapIndex(k), path+"."+k.String(), out, types)
		}
	default:
		out[path] = v.Interface()
	}
}

func TestSynthesizeShape(t *testing.T) {
	t.Parallel()
	ex := map[string]any{
		"hostname": "bld1-acc01", "desc": "Uplink to CORE", "empty": "", "flag": false, "nothing": nil,
		"int": 42, "int64": int64(1234), "float": 10.0, "frac": 2.5, "vlan_max": 4094, "vlan_min": 1,
		"asn": 65001, "asn32": int64(4200000001), "neg": -7,
		"strs":   []string{"a1", "b2"},
		"smap":   map[string]string{"x": "Gi1/0/1"},
		"nested": []any{map[string]any{"ip": "10.0.0.1", "vid": 10}, map[string]any{"ip": "10.0.0.2", "vid": 20}},
		"same1":  "Te1/0/11", "same2": "Te1/0/11",
	}
	for seed := range 50 {
		got := Synthesize(ex, seed)
		exLeaves, exTypes := map[string]any{}, map[string]reflect.Type{}
		gotLeaves, gotTypes := map[string]any{}, map[string]reflect.Type{}
		leafValues(reflect.ValueOf(ex), "", exLeaves, exTypes)
		leafValues(reflect.ValueOf(got), "", gotLeaves, gotTypes)
		if diff := cmp.Diff(exTypes, gotTypes, cmp.Comparer(func(a, b reflect.Type) bool { return a == b })); diff != "" {
			t.Fatalf("seed %d: shape differs (-example +made):\n%s", seed, diff)
		}
		exValues := map[any]bool{}
		for p, v := range exLeaves {
			if !strings.HasSuffix(p, "#len") {
				exValues[v] = true
			}
		}
		for p, v := range exLeaves {
			g := gotLeaves[p]
			switch {
			case strings.HasSuffix(p, "#len"), v == nil, v == "", v == false:
				if g != v {
					t.Errorf("seed %d: %s = %v, want it kept as %v", seed, p, g, v)
				}
			case g == v:
				t.Errorf("seed %d: %s unchanged: %v", seed, p, v)
			case exValues[g]:
				t.Errorf("seed %d: %s = %v, a value of the example", seed, p, g)
			}
		}
		if got["same1"] != got["same2"] {
			t.Errorf("seed %d: equal values made different: %v, %v", seed, got["same1"], got["same2"])
		}
		for _, p := range []string{"vlan_max", "vlan_min"} {
			if v := got[p].(int); v < 1 || v > 4094 {
				t.Errorf("seed %d: %s = %d, want 1..4094", seed, p, v)
			}
		}
		if v := got["asn"].(int); v < 64512 || v > 65534 {
			t.Errorf("seed %d: asn = %d, want a private 16-bit ASN", seed, v)
		}
		if v := got["asn32"].(int64); v < 4200000000 || v > 4294967294 {
			t.Errorf("seed %d: asn32 = %d, want a private 32-bit ASN", seed, v)
		}
		if v := got["neg"].(int); v >= 0 {
			t.Errorf("seed %d: neg = %d, want negative", seed, v)
		}
		if v := got["int"].(int); v < 10 || v > 99 {
			t.Errorf("seed %d: int = %d, want two digits", seed, v)
		}
		if !regexp.MustCompile(`^bld[0-9]-acc0[0-9]$`).MatchString(got["hostname"].(string)) {
			t.Errorf("seed %d: hostname = %q, want the form bldN-accNN", seed, got["hostname"])
		}
		if !regexp.MustCompile(`^[A-Z][a-z]{5} [a-z]{2} [A-Z]{4}$`).MatchString(got["desc"].(string)) {
			t.Errorf("seed %d: desc = %q, want the case pattern of \"Uplink to CORE\"", seed, got["desc"])
		}
		if f := got["frac"].(float64); f == float64(int(f)) {
			t.Errorf("seed %d: frac = %v, want a fraction", seed, f)
		}
	}
}

func TestSynthesizeAddresses(t *testing.T) {
	t.Parallel()
	ex := map[string]any{
		"mgmt_ip": "10.99.1.11/24", "gateway": "10.99.1.1", "other": "10.98.0.5/30",
		"network": "10.1.0.0/16", "loopback": "10.255.0.3/32", "mask": "255.255.255.0", "wildcard": "0.0.0.255",
		"v6": "2001:db8:1:2::5/64", "v6peer": "2001:db8:1:2::6", "ll": "fe80::1",
		"mac_colon": "00:1a:2b:3c:4d:5e", "mac_dot": "001A.2B3C.4D5E", "pair": "10.99.1.11 255.255.255.0",
	}
	docs := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	}
	inDocs := func(a netip.Addr) bool {
		for _, p := range docs {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	for seed := range 50 {
		got := Synthesize(ex, seed)
		mgmt := netip.MustParsePrefix(got["mgmt_ip"].(string))
		gw := netip.MustParseAddr(got["gateway"].(string))
		if mgmt.Bits() != 24 || mgmt.Addr().As4()[3] != 11 || !inDocs(mgmt.Addr()) {
			t.Errorf("seed %d: mgmt_ip = %v, want a /24 host .11 in a documentation block", seed, mgmt)
		}
		if !mgmt.Masked().Contains(gw) || gw.As4()[3] != 1 {
			t.Errorf("seed %d: gateway %v not .1 in mgmt subnet %v", seed, gw, mgmt)
		}
		if o := netip.MustParsePrefix(got["other"].(string)); o.Bits() != 30 || mgmt.Masked().Contains(o.Addr()) {
			t.Errorf("seed %d: other = %v, want a /30 outside %v", seed, o, mgmt)
		}
		if n := netip.MustParsePrefix(got["network"].(string)); n.Bits() != 16 || n != n.Masked() {
			t.Errorf("seed %d: network = %v, want a /16 network", seed, n)
		}
		if l := netip.MustParsePrefix(got["loopback"].(string)); l.Bits() != 32 || !inDocs(l.Addr()) {
			t.Errorf("seed %d: loopback = %v", seed, l)
		}
		if got["mask"] != "255.255.255.0" || got["wildcard"] != "0.0.0.255" {
			t.Errorf("seed %d: masks changed: %v %v", seed, got["mask"], got["wildcard"])
		}
		v6 := netip.MustParsePrefix(got["v6"].(string))
		peer := netip.MustParseAddr(got["v6peer"].(string))
		if v6.Bits() != 64 || !netip.MustParsePrefix("2001:db8::/32").Contains(v6.Addr()) || !v6.Masked().Contains(peer) ||
			v6.Addr().As16()[15] != 5 || v6 == netip.MustParsePrefix(ex["v6"].(string)) {
			t.Errorf("seed %d: v6 = %v, v6peer = %v", seed, v6, peer)
		}
		if ll := netip.MustParseAddr(got["ll"].(string)); !ll.IsLinkLocalUnicast() || ll.String() == "fe80::1" {
			t.Errorf("seed %d: ll = %v, want another link-local address", seed, ll)
		}
		if !regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`).MatchString(got["mac_colon"].(string)) {
			t.Errorf("seed %d: mac_colon = %q", seed, got["mac_colon"])
		}
		if !regexp.MustCompile(`^[0-9A-F]{4}\.[0-9A-F]{4}\.[0-9A-F]{4}$`).MatchString(got["mac_dot"].(string)) {
			t.Errorf("seed %d: mac_dot = %q", seed, got["mac_dot"])
		}
		if want := mgmt.Addr().String() + " 255.255.255.0"; got["pair"] != want {
			t.Errorf("seed %d: pair = %q, want %q (same mapping, mask kept)", seed, got["pair"], want)
		}
	}
}

// TestVerifyCorpusAVD takes one access leaf of the Arista AVD campus fabric,
// turns it into a template by replacing its per-device values, and checks
// that another leaf renders byte for byte from it, and that Verify passes it
// (with warnings for the constant gateways, which sit in variable subnets).
func TestVerifyCorpusAVD(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(corpustest.Dir(t), "arista-avd", "campus-fabric", "intended", "configs")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	d, e := read("LEAF3D.cfg"), read("LEAF3E.cfg")
	text := d
	for _, r := range [][2]string{
		{"hostname LEAF3D\n", "hostname {{.hostname}}\n"},
		{"L2_IDF3_AGG_Port-Channel974\n", "L2_IDF3_AGG_Port-Channel{{.agg_po}}\n"},
		{"L2_LEAF3A_Ethernet97/4\n", "L2_LEAF3A_{{.peer_port}}\n"},
		{"L2_LEAF3B_Ethernet97/4\n", "L2_LEAF3B_{{.peer_port}}\n"},
		{"ip address 172.16.100.109/24\n", "ip address {{.mgmt_ip}}\n"},
		{"ip address 10.10.10.12/24\n", "ip address {{.inband_ip}}\n"},
	} {
		if strings.Count(text, r[0]) != 1 {
			t.Fatalf("LEAF3D.cfg holds %q %d times, want once", r[0], strings.Count(text, r[0]))
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	tm, err := Parse("LEAF3D", text)
	if err != nil {
		t.Fatal(err)
	}
	leaf3d := map[string]any{"hostname": "LEAF3D", "agg_po": 974, "peer_port": "Ethernet97/4", "mgmt_ip": "172.16.100.109/24", "inband_ip": "10.10.10.12/24"}
	leaf3e := map[string]any{"hostname": "LEAF3E", "agg_po": 981, "peer_port": "Ethernet98/1", "mgmt_ip": "172.16.100.110/24", "inband_ip": "10.10.10.13/24"}
	got, err := tm.Render(t.Context(), leaf3e)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("LEAF3E from the LEAF3D template (-want +got):\n%s", diff)
	}
	r, err := Verify(t.Context(), tm, leaf3d, Synthesize(leaf3d, 1))
	if err != nil {
		t.Fatalf("Verify: %v\n%s", err, strings.Join(r.Feedback(0), "\n"))
	}
	var gateways []string
	for _, f := range r.Findings {
		if strings.Contains(f.Msg, "lies in the subnet") {
			gateways = append(gateways, f.Text)
		}
	}
	want := []string{"ip route 0.0.0.0/0 10.10.10.1", "ip route vrf MGMT 0.0.0.0/0 172.16.100.1"}
	if diff := cmp.Diff(want, gateways); diff != "" {
		t.Errorf("subnet warnings (-want +got):\n%s", diff)
	}
}

// TestVerifyComputedValues: a line that changes through a number computed
// from a variable (a VNI from a VLAN id) passes with a warning; a line that
// changes through nothing of the variables is still refused.
func TestVerifyComputedValues(t *testing.T) {
	t.Parallel()
	a := map[string]any{"hostname": "leaf1a", "vlans": []any{map[string]any{"id": 232}}}
	b := Synthesize(a, 1)
	ok, err := Parse("vni", "hostname {{.hostname}}\n{{range .vlans}}vlan {{.id}}\n vni {{printf \"1%04d\" .id}}\n{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(t.Context(), ok, a, b)
	if err != nil {
		t.Fatalf("computed VNI refused: %v\n%v", err, rep.Feedback(5))
	}
	bad, err := Parse("bad", "hostname {{.hostname}}\nserial {{len .hostname}}{{len .hostname}}{{len .hostname}}\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(t.Context(), bad, a, map[string]any{"hostname": "zz9-syn", "vlans": b["vlans"]}); err == nil {
		t.Error("a line changing through no variable value passed")
	}
}

// BenchmarkVerify is the proof every new template gets before it is
// cached: two renders, their comparison, and the values' search.
func BenchmarkVerify(b *testing.B) {
	tm, a := accessFixture(b)
	other := Synthesize(a, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(b.Context(), tm, a, other); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyCollisions: a value that equals constant text of the template
// by coincidence does not refuse it, and a per-device value written into
// the template still does.
func TestVerifyCollisions(t *testing.T) {
	t.Parallel()
	vars := func() map[string]any {
		return map[string]any{"hostname": "leaf1a", "role": "network-admin", "tenant": "ACME7",
			"uplinks": []any{map[string]any{"port": "Ethernet1", "ip": "10.0.0.1/31", "peer": "spine1"}}}
	}
	const base = "hostname {{.hostname}}\n{{range .uplinks}}interface {{.port}}\n ip address {{.ip}}\n description to {{.peer}}\n{{end}}"
	tests := []struct {
		name    string
		text    string
		cfg     VerifyConfig
		ok      bool
		wantVar string // of the error, when !ok
	}{
		{"role that is also a keyword", base + "username admin role network-admin secret x\n", VerifyConfig{}, true, ""},
		{"value inside a range", base + "interface Ethernet1-46\n switchport access vlan 10\n", VerifyConfig{}, true, ""},
		{"value inside a sub-interface", base + "interface Ethernet1.100\n", VerifyConfig{}, true, ""},
		{"value the requirements ask for", base + "vrf instance ACME7\n",
			VerifyConfig{Known: []string{"One VRF, ACME7, for every tenant port."}}, true, ""},
		{"value the constants hold", base + "vrf instance ACME7\n",
			VerifyConfig{KnownValues: map[string]any{"vrfs": []any{"ACME7"}}}, true, ""},
		{"value not in the requirements", base + "vrf instance ACME7\n",
			VerifyConfig{Known: []string{"One VRF, ACME71, for every tenant port."}}, false, "tenant"},
		{"hard-coded address", base + "ip route 0.0.0.0/0 10.0.0.1\n", VerifyConfig{}, false, "uplinks[0].ip"},
		{"hard-coded port", base + "interface Ethernet1\n shutdown\n", VerifyConfig{}, false, "uplinks[0].port"},
		{"hard-coded asn in a community", base + "ip community-list 1 permit ACME7:100\n", VerifyConfig{}, false, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed := range 4 {
				ex := vars()
				r, err := tt.cfg.Verify(t.Context(), mustParse(t, tt.text), ex, Synthesize(ex, seed))
				if tt.ok {
					if err != nil {
						t.Errorf("seed %d: Verify: %v\n%s", seed, err, strings.Join(r.Feedback(0), "\n"))
					}
					continue
				}
				if !errors.Is(err, ErrNotVerified) {
					t.Fatalf("seed %d: Verify error %v, want ErrNotVerified", seed, err)
				}
				if errs := r.Errors(); errs[0].Var != tt.wantVar || !strings.HasPrefix(r.Reason(), "hard-codes ") {
					t.Errorf("seed %d: first error %+v, reason %q; want one about %s", seed, errs[0], r.Reason(), tt.wantVar)
				}
			}
		})
	}
}

func TestFindingReason(t *testing.T) {
	t.Parallel()
	ex := map[string]any{"hostname": "leaf1a", "uplinks": []any{map[string]any{"ip": "10.0.0.1/31"}}}
	text := "hostname {{.hostname}}\n{{range .uplinks}}ip address {{.ip}}\n{{end}}ip route 0.0.0.0/0 10.0.0.1\n"
	r, err := Verify(t.Context(), mustParse(t, text), ex, Synthesize(ex, 1))
	if !errors.Is(err, ErrNotVerified) {
		t.Fatalf("Verify error %v, want ErrNotVerified", err)
	}
	if got, want := r.Reason(), `hard-codes "10.0.0.1" (value of uplinks.0.ip)`; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
}
