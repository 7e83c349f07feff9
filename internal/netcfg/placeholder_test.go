package netcfg_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/netcfg"
)

func TestSecretPlaceholders(t *testing.T) {
	t.Parallel()
	vars := map[string]any{
		"hostname":         "sw1",
		"enable_secret":    "$6$salt$hash",
		"admin_secret":     "vault:net/admin",
		"snmp_communities": []any{map[string]any{"name": "s3cret", "access": "ro"}},
		"bgp_community":    "65001:100",
		"tacacs_key":       1234,
		"ntp_auth":         true,
	}
	got := netcfg.SecretPlaceholders(vars)
	want := map[string]any{
		"hostname":         "sw1",
		"enable_secret":    "<secret:enable_secret>",
		"admin_secret":     "<secret:admin_secret>",
		"snmp_communities": []any{map[string]any{"name": "<secret:snmp_communities.0.name>", "access": "ro"}},
		"bgp_community":    "65001:100",
		"tacacs_key":       "<secret:tacacs_key>",
		"ntp_auth":         true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SecretPlaceholders (-want +got):\n%s", diff)
	}
	if vars["enable_secret"] != "$6$salt$hash" {
		t.Errorf("SecretPlaceholders changed its input")
	}
}

func TestFillSecrets(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"enable_secret": "$6$salt$hash", "admin_secret": "vault:net/admin",
		"snmp_communities": []any{map[string]any{"name": "s3cret"}}, "tacacs_key": 1234}
	consts := map[string]any{"radius_key": "env:RADIUS", "enable_secret": "$6$other"}
	tests := []struct{ in, want string }{
		{"enable secret sha512 <secret:enable_secret>\n", "enable secret sha512 $6$salt$hash\n"},
		{"enable secret sha512 <<secret:enable_secret>>\n", "enable secret sha512 $6$salt$hash\n"},
		{"username a secret <secret:admin_secret>\n", "username a secret <vault:net/admin>\n"},
		{"username a secret <<secret:admin_secret>>\n", "username a secret <vault:net/admin>\n"},
		{"snmp-server community <secret:snmp_communities.0.name> ro\n", "snmp-server community s3cret ro\n"},
		{"tacacs-server key <secret:tacacs_key>\nradius-server key <secret:radius_key>\n", "tacacs-server key 1234\nradius-server key <env:RADIUS>\n"},
		{"key <secret:nope> and <<secret:enable_secret>\n", "key <secret:nope> and <$6$salt$hash\n"},
		{"no secrets here\n", "no secrets here\n"},
	}
	for _, tt := range tests {
		if got := netcfg.FillSecrets(tt.in, vars, consts); got != tt.want {
			t.Errorf("FillSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolveSecretRefs(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SNMP_RO": "c0mmunity", "EMPTY": ""}
	resolve := func(scheme, name string) (string, bool, error) {
		switch scheme {
		case "env":
			v, ok := env[name]
			if !ok {
				return "", true, errors.New("not set")
			}
			return v, true, nil
		}
		return "", false, nil
	}
	got, left, err := netcfg.ResolveSecretRefs("snmp-server community <env:SNMP_RO> ro\nenable secret 9 <vault:net/enable>\n", resolve)
	if err != nil || left != 1 || got != "snmp-server community c0mmunity ro\nenable secret 9 <vault:net/enable>\n" {
		t.Errorf("ResolveSecretRefs = %q, %d, %v", got, left, err)
	}
	for _, in := range []string{"key <env:UNSET>\n", "key <env:EMPTY>\n"} {
		if _, _, err := netcfg.ResolveSecretRefs(in, resolve); err == nil {
			t.Errorf("ResolveSecretRefs(%q): no error", in)
		}
	}
}
