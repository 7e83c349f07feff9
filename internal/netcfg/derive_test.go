package netcfg

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeriveVars(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"nil", nil, map[string]any{}},
		{
			"ipv4 cidr at the top",
			map[string]any{"mgmt_ip": "10.99.1.11/24", "mgmt_gateway": "10.99.1.1"},
			map[string]any{
				"mgmt_ip": "10.99.1.11/24", "mgmt_gateway": "10.99.1.1",
				"mgmt_ip_address": "10.99.1.11", "mgmt_ip_netmask": "255.255.255.0", "mgmt_ip_prefixlen": int64(24),
			},
		},
		{
			"host and zero prefixes",
			map[string]any{"loopback0": "10.255.0.3/32", "default": "0.0.0.0/0"},
			map[string]any{
				"loopback0": "10.255.0.3/32", "loopback0_address": "10.255.0.3", "loopback0_netmask": "255.255.255.255", "loopback0_prefixlen": int64(32),
				"default": "0.0.0.0/0", "default_address": "0.0.0.0", "default_netmask": "0.0.0.0", "default_prefixlen": int64(0),
			},
		},
		{
			"ipv6 has no netmask",
			map[string]any{"lo": "2001:db8::1/128"},
			map[string]any{"lo": "2001:db8::1/128", "lo_address": "2001:db8::1", "lo_prefixlen": int64(128)},
		},
		{
			"nested in lists of maps",
			map[string]any{"uplinks": []map[string]string{{"port": "Ethernet1", "ip": "10.0.0.1/31"}}},
			map[string]any{"uplinks": []any{map[string]any{
				"port": "Ethernet1", "ip": "10.0.0.1/31", "ip_address": "10.0.0.1", "ip_netmask": "255.255.255.254", "ip_prefixlen": int64(31),
			}}},
		},
		{
			"given keys are kept",
			map[string]any{"mgmt_ip": "10.0.0.5/24", "mgmt_ip_address": "keep"},
			map[string]any{"mgmt_ip": "10.0.0.5/24", "mgmt_ip_address": "keep", "mgmt_ip_netmask": "255.255.255.0", "mgmt_ip_prefixlen": int64(24)},
		},
		{
			"not addresses",
			map[string]any{"a": "10.0.0.1", "b": "Gi1/0/1", "c": "10.0.0.1/33", "d": "x/24"},
			map[string]any{"a": "10.0.0.1", "b": "Gi1/0/1", "c": "10.0.0.1/33", "d": "x/24"},
		},
		{
			"numbers",
			map[string]any{
				"json_asn": float64(4200000000), "yaml_vlan": 10, "u": uint16(7), "ratio": 0.5,
				"num": json.Number("65001"), "ids": []int{10, 20}, "keys": map[any]any{1: "x"},
			},
			map[string]any{
				"json_asn": int64(4200000000), "yaml_vlan": int64(10), "u": int64(7), "ratio": 0.5,
				"num": int64(65001), "ids": []any{int64(10), int64(20)}, "keys": map[string]any{"1": "x"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, DeriveVars(tt.in)); diff != "" {
				t.Errorf("DeriveVars(%v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDeriveVarsLeavesInputAlone(t *testing.T) {
	t.Parallel()
	in := map[string]any{"uplinks": []any{map[string]any{"ip": "10.0.0.1/31"}}, "asn": 65001.0}
	DeriveVars(in)
	want := map[string]any{"uplinks": []any{map[string]any{"ip": "10.0.0.1/31"}}, "asn": 65001.0}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("DeriveVars changed its input (-want +got):\n%s", diff)
	}
}
