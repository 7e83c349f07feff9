package sim

import "testing"

func TestMentions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		req, word string
		want      bool
	}{
		{"evpn/vxlan l3 leaf, ebgp underlay", "evpn", true},
		{"qfx evpn-vxlan leaf, ospf not used.", "ospf", false},
		{"no ospf; ebgp only", "ospf", false},
		{"without lacp", "lacp", false},
		{"do not use mlag", "mlag", false},
		{"no telnet, lacp trunk uplinks", "lacp", true},
		{"disable telnet and enable ospf", "ospf", true},
		{"billing invoice printers", "voice", false},
		{"access ports with a voice vlan", "voice", true},
		{"ospf is disabled here but ospf area 0 runs there", "ospf", true},
	}
	for _, tt := range tests {
		if got := mentions(tt.req, tt.word); got != tt.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tt.req, tt.word, got, tt.want)
		}
	}
}
