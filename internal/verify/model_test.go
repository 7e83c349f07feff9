package verify

import (
	"testing"
)

func TestCanonIf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Gi0/1", "gigabitethernet0/1"},
		{"GigabitEthernet0/1", "gigabitethernet0/1"},
		{"Ethernet49/1", "ethernet49/1"},
		{"Et49/1", "ethernet49/1"},
		{"e1/1", "ethernet1/1"},
		{"Po10", "port-channel10"},
		{"Port-Channel10", "port-channel10"},
		{"Loopback0", "loopback0"},
		{"lo0", "loopback0"},
		{"xe-0/0/0", "xe-0/0/0"},
		{"ae0", "ae0"},
	} {
		if got := canonIf(tc.in); got != tc.want {
			t.Errorf("canonIf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []string
		want string // "" for no prefix
	}{
		{[]string{"10.0.0.1/31"}, "10.0.0.1/31"},
		{[]string{"10.0.0.1", "255.255.255.252"}, "10.0.0.1/30"},
		{[]string{"10.0.0.1", "255.255.255.0", "secondary"}, "10.0.0.1/24"},
		{[]string{"10.0.0.1", "255.0.255.0"}, ""},
		{[]string{"dhcp"}, ""},
		{[]string{"2001:db8::1/127"}, "2001:db8::1/127"},
	} {
		p, ok := parsePrefix(tc.in)
		got := ""
		if ok {
			got = p.String()
		}
		if got != tc.want {
			t.Errorf("parsePrefix(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEditVLANs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cur  string
		args []string
		want string
	}{
		{"", []string{"10,20-22"}, "10,20-22"},
		{"10,20", []string{"add", "30"}, "10,20,30"},
		{"10-20", []string{"remove", "15"}, "10-14,16-20"},
		{"", []string{"all"}, "1-4094"},
		{"", []string{"none"}, "none"},
		{"", []string{"except", "1-4093"}, "4094"},
	} {
		if got := editVLANs(tc.cur, tc.args); got != tc.want {
			t.Errorf("editVLANs(%q, %q) = %q, want %q", tc.cur, tc.args, got, tc.want)
		}
	}
}
