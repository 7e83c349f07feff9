package netcfg

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecretRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"vault:net/enable", true},
		{"env:SNMP_RO", true},
		{"file:/run/secrets/tacacs", true},
		{"vault:", false},
		{"vault:a b", false},
		{"Vault:net/enable", false},
		{"cisco123", false},
		{"https://vault.example.net", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSecretRef(tt.in); got != tt.want {
			t.Errorf("IsSecretRef(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"enable_secret", true},
		{"sha512_password", true},
		{"Password", true},
		{"tacacs_key", true},
		{"radius-key", true},
		{"key", true},
		{"key_string", true},
		{"ipsec_psk", true},
		{"api_token", true},
		{"snmp_community", true},
		{"snmp_communities", true},
		{"community", true},
		{"key_id", false},
		{"keychain", false},
		{"bgp_community", false},
		{"send_community", false},
		{"community_list", false},
		{"snmp_community_list", true},
		{"hostname", false},
		{"monkey", false},
		{"mgmt_ip", false},
	}
	for _, tt := range tests {
		if got := IsSecretName(tt.in); got != tt.want {
			t.Errorf("IsSecretName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	t.Parallel()
	input := func() map[string]any {
		return map[string]any{
			"enable_secret":  "vault:net/enable",
			"snmp_community": "public",
			"tacacs_key":     12345,
			"mgmt_ip":        "10.0.0.1/24",
			"users": []any{
				map[string]any{"name": "admin", "password": "hunter2", "privilege": 15},
				map[string]any{"name": "ops", "password": "env:OPS"},
			},
			"snmp_communities":    []any{map[string]any{"name": "public", "access": "ro", "enabled": true}},
			"key_id":              1,
			"ntp":                 map[string]any{"auth_key": "s3cret", "server": "10.0.0.5", "key_id": 7},
			"enable_password":     map[string]any{"type": 9, "value": "$9$abc"},
			"snmp_community_list": []any{"public", "env:SNMP_RW"},
		}
	}
	in := input()
	want := map[string]any{
		"enable_secret":  "vault:net/enable",
		"snmp_community": Redacted,
		"tacacs_key":     Redacted,
		"mgmt_ip":        "10.0.0.1/24",
		"users": []any{
			map[string]any{"name": "admin", "password": Redacted, "privilege": 15},
			map[string]any{"name": "ops", "password": "env:OPS"},
		},
		"snmp_communities":    []any{map[string]any{"name": Redacted, "access": "ro", "enabled": true}},
		"key_id":              1,
		"ntp":                 map[string]any{"auth_key": Redacted, "server": "10.0.0.5", "key_id": 7},
		"enable_password":     map[string]any{"type": 9, "value": Redacted},
		"snmp_community_list": []any{Redacted, "env:SNMP_RW"},
	}
	got := RedactSecrets(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RedactSecrets mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(input(), in); diff != "" {
		t.Errorf("RedactSecrets changed its input (-before +after):\n%s", diff)
	}
	if RedactSecrets(nil) != nil {
		t.Error("RedactSecrets(nil) != nil")
	}
}

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
