package netcfg

import "testing"

func TestNearest(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"mgmt_gatway", "mgmt_gateway"},
		{"MGMT_GATWAY", "mgmt_gateway"},
		{"mgmt_gateway", "mgmt_gateway"},
		{"tacacs_server", "tacacs_servers"},
		{"asm", "asn"},
		{"completely_different", ""},
	} {
		if got := Nearest(c.name, KnownVars); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
