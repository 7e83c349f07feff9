package netcfg

import "testing"

func TestIsSecretEntry(t *testing.T) {
	for _, tt := range []struct {
		secret bool
		key    string
		want   bool
	}{
		{false, "tacacs_key", true},
		{false, "name", false},
		{true, "name", true},
		{true, "Value", true},
		{true, "access", false},
		{false, "key_id", false},
		{false, "bgp_community", false},
	} {
		if got := IsSecretEntry(tt.secret, tt.key); got != tt.want {
			t.Errorf("IsSecretEntry(%v, %q) = %v, want %v", tt.secret, tt.key, got, tt.want)
		}
	}
}
