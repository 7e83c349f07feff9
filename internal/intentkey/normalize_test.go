package intentkey

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeRequirementsEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
	}{
		{"brief vlans", "VLANs 10, 20, 30", "vlans 30,20,10"},
		{"brief sentences", "SSH v2 only. Dual uplinks", "ssh v2 only dual uplinks"},
		{"case", "SSH V2 ONLY", "ssh v2 only"},
		{"whitespace", "  ssh\tv2 \n\n only  ", "ssh v2 only"},
		{"crlf", "ssh v2 only.\r\nportfast", "ssh v2 only portfast"},
		{"nbsp", "ssh\u00a0v2", "ssh v2"},
		{"vlans with and", "VLANs 10, 20 and 30", "vlans 30, 10, 20"},
		{"oxford comma", "vlans 10, 20, and 30", "vlans 10,20,30"},
		{"list written compactly", "vlans 10 and 20", "vlans 20,10"},
		{"list noun with colon", "VLANs: 30, 10", "vlans 10, 30"},
		{"ports natural order", "ports Gi1/0/10, Gi1/0/2", "ports gi1/0/2,gi1/0/10"},
		{"peers", "BGP peers 10.0.0.2, 10.0.0.1", "bgp peers 10.0.0.1 and 10.0.0.2"},
		{"list in a sentence", "Trunk VLANs 30, 20, 10 on both uplinks.", "trunk vlans 10,20,30 on both uplinks"},
		{"two lists of different length", "VLANs 30, 20, 10. Spines 2, 1.", "vlans 10,20,30 spines 1,2"},
		{"trailing punctuation", "Portfast and BPDU guard!", "portfast and bpdu guard"},
		{"question mark", "jumbo frames?", "jumbo frames"},
		{"trailing colon", "Requirements: SSH", "requirements ssh"},
		{"commas in prose", "Portfast, bpduguard, storm control", "portfast bpduguard storm control"},
		{"semicolons", "portfast; bpduguard", "portfast bpduguard"},
		{"apostrophe", "the switch's uplinks", "the switch s uplinks"},
		{"typographic apostrophe", "the switch\u2019s uplinks", "the switch's uplinks"},
		{"wrapping parens", "(dual uplinks)", "dual uplinks"},
		{"wrapping parens with period", "SSH only (v2).", "ssh only v2"},
		{"bullets dash", "- SSH v2\n- portfast", "ssh v2 portfast"},
		{"bullets star", "* SSH v2\n* portfast", "ssh v2 portfast"},
		{"bullets dot", "\u2022 SSH v2\n\u2022 portfast", "ssh v2 portfast"},
		{"numbered list", "1. SSH v2\n2) portfast", "1 ssh v2 2 portfast"},
		{"en dash range", "VLANs 10\u201320", "vlans 10-20"},
		{"em dash", "uplinks \u2014 LACP", "uplinks - lacp"},
		{"zero width space", "ssh\u200bv2", "ssh v2"},
		{"unmatched quote", `ssh "v2`, "ssh v2"},
		{"literal delimiters", "banner `Authorized Only`", `banner "Authorized Only"`},
		{"curly literal", "banner \u201cAuthorized Only\u201d", `banner "Authorized Only"`},
		{"literal whitespace around", `banner   "Authorized Only"  .`, `BANNER "Authorized Only"`},
		{"ipv6 keeps double colon", "loopback 2001:db8::.", "loopback 2001:db8::"},
		{"thousands separator stays split", "max 1,000 routes", "max 1,000 routes"},
		{"empty", "", "  \n\t "},
		{"sorted lists of the same noun", "VLANs 20, 10 on trunks; VLAN 99 native", "vlans 10,20 on trunks vlan 99 native"},
		{"list after sentence with stray comma", "VLANs, 20, 10", "vlans 10,20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			na, nb := NormalizeRequirements(tt.a), NormalizeRequirements(tt.b)
			if na != nb {
				t.Errorf("NormalizeRequirements(%q) = %q\nNormalizeRequirements(%q) = %q\nwant equal", tt.a, na, tt.b, nb)
			}
		})
	}
}

func TestNormalizeRequirementsNotEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
	}{
		{"vlan id", "VLAN 10", "VLAN 11"},
		{"ip last octet", "gateway 10.0.0.1", "gateway 10.0.0.10"},
		{"interface", "uplink Gi1/0/1", "uplink Gi1/0/10"},
		{"prefix length", "mgmt subnet /24", "mgmt subnet /25"},
		{"mtu", "mtu 9000", "mtu 9216"},
		{"leading zero", "VLAN 010", "VLAN 10"},
		{"cidr", "10.0.0.0/8", "10.0.0.0/16"},
		{"ipv6", "2001:db8::1", "2001:db8::10"},
		{"ipv6 double colon", "2001:db8::", "2001:db8:"},
		{"range vs list", "vlans 10-20", "vlans 10,20"},
		{"range vs pair", "vlans 10 - 20", "vlans 10 20"},
		{"operator", "mtu > 9000", "mtu < 9000"},
		{"operator dropped", "mtu >= 9000", "mtu 9000"},
		{"version", "IOS-XE 17.9", "IOS-XE 17.10"},
		{"version parens", "15.2(7)E", "15.2(7)E2"},
		{"asn", "AS 65001", "AS 65010"},
		{"route target", "rt 65000:100", "rt 65000:1000"},
		{"sentence order", "SSH v2 only. Dual uplinks", "Dual uplinks. SSH v2 only"},
		{"word order", "deny then permit", "permit then deny"},
		{"and vs or", "vlans 10 and 20", "vlans 10 or 20"},
		{"servers keep order", "DNS servers 10.0.0.1, 10.0.0.2", "DNS servers 10.0.0.2, 10.0.0.1"},
		{"tacacs servers keep order", "TACACS servers 10.1.1.1 and 10.1.1.2", "TACACS servers 10.1.1.2 and 10.1.1.1"},
		{"prefixes keep order", "prefixes 10.0.0.0/8, 10.1.0.0/16", "prefixes 10.1.0.0/16, 10.0.0.0/8"},
		{"list without noun", "trunk 10, 20", "trunk 20, 10"},
		{"singular noun", "allowed vlan 10,20", "allowed vlan 20,10"},
		{"respectively", "uplinks Te1/1/1, Te1/1/2 to dist01 and dist02 respectively", "uplinks Te1/1/2, Te1/1/1 to dist01 and dist02 respectively"},
		{"respectively in another sentence", "Uplinks Te1/1/1, Te1/1/2. They go to dist01 and dist02 respectively.", "Uplinks Te1/1/2, Te1/1/1. They go to dist01 and dist02 respectively."},
		{"implicit pairing", "uplinks Te1/1/1, Te1/1/2 to dist01, dist02", "uplinks Te1/1/2, Te1/1/1 to dist01, dist02"},
		{"implicit pairing with map", "VLANs 10, 20 map to VNIs 10010, 10020", "VLANs 20, 10 map to VNIs 10010, 10020"},
		{"primary", "peers 10.0.0.1, 10.0.0.2, the first is primary", "peers 10.0.0.2, 10.0.0.1, the first is primary"},
		{"priority word", "VLANs 20, 10 with priority", "VLANs 10, 20 with priority"},
		{"list broken by sentence end", "vlans 10. 20 ports", "vlans 20. 10 ports"},
		{"list broken by semicolon", "vlans 10; 20 ports", "vlans 20; 10 ports"},
		{"duplicates kept", "vlans 10, 10, 20", "vlans 10, 20"},
		{"literal case", `banner "Authorized Only"`, `banner "authorized only"`},
		{"literal punctuation", `banner "Authorized Only!"`, `banner "Authorized Only"`},
		{"literal vs words", `community "public"`, "community public"},
		{"literal spacing", `banner "a  b"`, `banner "a b"`},
		{"negative number", "offset -5", "offset 5"},
		{"leading dot host", "gateway .1", "gateway 1"},
		{"digits never join", "1,000", "1000"},
		{"digits split by apostrophe", "10'20", "1020"},
		{"asn list with priority", "asns 65001, 65002 prefer", "asns 65002, 65001 prefer"},
		{"and between values across sentence", "vlans 10. and 20", "vlans 10 and 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			na, nb := NormalizeRequirements(tt.a), NormalizeRequirements(tt.b)
			if na == nb {
				t.Errorf("NormalizeRequirements(%q) = NormalizeRequirements(%q) = %q, want different", tt.a, tt.b, na)
			}
		})
	}
}

func TestNormalizeRequirementsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"VLANs 10, 20, 30", "vlans 10,20,30"},
		{"SSH v2 only. Dual uplinks.", "ssh v2 only dual uplinks"},
		{"ports Gi1/0/10, Gi1/0/9 and Gi1/0/1", "ports gi1/0/1,gi1/0/9,gi1/0/10"},
		{"Banner \"Authorized Only!\". SNMP", `banner "Authorized Only!" snmp`},
		{"vlans 10. and 20", "vlans 10 and. 20"},
		{"max 1,000 routes", "max 1,000 routes"},
		{"EVPN/VXLAN L3 leaf, eBGP underlay to 2 spines, MLAG with dc1-leaf1b",
			"evpn/vxlan l3 leaf ebgp underlay to 2 spines mlag with dc1-leaf1b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := NormalizeRequirements(tt.in); got != tt.want {
				t.Errorf("NormalizeRequirements(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// digitRuns returns the sorted maximal runs of ASCII digits in s.
func digitRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			runs = append(runs, s[start:i])
			start = -1
		}
	}
	slices.Sort(runs)
	return runs
}

func FuzzNormalizeRequirements(f *testing.F) {
	for _, s := range []string{
		"VLANs 10, 20, 30", "SSH v2 only. Dual uplinks", "vlans 5 and 1,000", "10. and 20",
		"- VLANs 10 and 20\n- banner \"Authorized Only!\"", "uplinks Te1/1/1, Te1/1/2 to dist01, dist02",
		"2001:db8:: (loopback).", "`a\"b` \u201cx`\"\u201d", "((10)), [20]; {30}", "1\u200b2\u20133",
		"vlans 10 and. and 20", "peers 1, 2 and 3. ports 4 and 5, 6", "\xff\xfe VLAN 10",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeRequirements(s)
		if nn := NormalizeRequirements(n); nn != n {
			t.Fatalf("not idempotent:\nin   %q\nonce %q\ntwice %q", s, n, nn)
		}
		if got, want := digitRuns(n), digitRuns(s); !slices.Equal(got, want) {
			t.Fatalf("digit runs changed:\nin  %q %v\nout %q %v", s, want, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("valid UTF-8 in, invalid out: %q", n)
		}
		if strings.Contains(n, "\n") {
			t.Fatalf("output holds a newline: %q", n)
		}
	})
}

// TestNormalizeRequirementsProperties checks the fuzz properties on texts
// built from the words and marks that drive the rules, which byte-level
// fuzzing rarely assembles.
func TestNormalizeRequirementsProperties(t *testing.T) {
	t.Parallel()
	vocab := []string{
		"vlans", "VLANs", "ports", "peers", "servers", "and", "And", "or", "first", "10", "20", "1,000",
		"010", "Gi1/0/1", "te1/1/10", "10.0.0.1", "2001:db8::", "::", "-", "*", "\u2022", "(", ")", "(x)",
		",", ", ", ";", ".", ". ", ":", "!", "?", "\"", "`", "\u201c", "\u201d", "'", "\u2019", "\n", "\n- ",
		"\n\n", " ", " ", " ", "\t", "\u200b", "\u2013", "a", "B", "ssh", "1.", "2)", "and.", "10.",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			if rng.IntN(3) > 0 {
				b.WriteByte(' ')
			}
		}
		s := b.String()
		n := NormalizeRequirements(s)
		if nn := NormalizeRequirements(n); nn != n {
			t.Fatalf("not idempotent:\nin   %q\nonce %q\ntwice %q", s, n, nn)
		}
		if got, want := digitRuns(n), digitRuns(s); !slices.Equal(got, want) {
			t.Fatalf("digit runs changed:\nin  %q %v\nout %q %v", s, want, n, got)
		}
	}
}
