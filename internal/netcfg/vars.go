package netcfg

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ValidateVars checks the per-device facts whose meaning the name gives away:
// addresses (names ending in _ip, _gateway, or loopback0, ntp_servers,
// name_servers, logging_hosts, and ip/address keys in lists), VLAN ids
// (vlans, vlan, vlan_id, native_vlan, voice_vlan: 1–4094) and AS numbers
// (asn, peer_asn, remote_as: 1–4294967295). It returns a *FieldError whose
// Field is the dotted path below vars.
func ValidateVars(vars map[string]any) error {
	return walkVars("", vars)
}

func walkVars(path string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := checkVar(join(path, k), k, x[k]); err != nil {
				return err
			}
			if err := walkVars(join(path, k), x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := walkVars(path+"."+strconv.Itoa(i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func checkVar(path, key string, v any) error {
	switch {
	case key == "vlans":
		return forEach(path, v, func(p string, e any) error {
			if m, ok := e.(map[string]any); ok {
				id, ok := m["id"]
				if !ok {
					return &FieldError{p, "a VLAN needs an id"}
				}
				return checkVLAN(p+".id", id)
			}
			return checkVLAN(p, e)
		})
	case key == "vlan" || key == "vlan_id" || key == "native_vlan" || key == "voice_vlan":
		return checkVLAN(path, v)
	case key == "asn" || key == "peer_asn" || key == "remote_as":
		n, ok := asInt(v)
		if !ok || n < 1 || n > 4294967295 {
			return &FieldError{path, fmt.Sprintf("AS number %v is not in 1–4294967295", v)}
		}
	case key == "mgmt_ip" || key == "loopback0":
		s, _ := v.(string)
		if _, err := netip.ParsePrefix(s); err != nil {
			return &FieldError{path, fmt.Sprintf("%v is not an address with a prefix length (like 10.0.0.1/24)", v)}
		}
	case strings.HasSuffix(key, "_ip") || strings.HasSuffix(key, "_gateway") || key == "ip" || key == "address" ||
		key == "ntp_servers" || key == "name_servers" || key == "logging_hosts":
		return forEach(path, v, checkAddr)
	}
	return nil
}

func forEach(path string, v any, f func(string, any) error) error {
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if err := f(path+"."+strconv.Itoa(i), e); err != nil {
				return err
			}
		}
		return nil
	}
	return f(path, v)
}

func checkAddr(path string, v any) error {
	s, ok := v.(string)
	if ok {
		if _, err := netip.ParseAddr(s); err == nil {
			return nil
		}
		if _, err := netip.ParsePrefix(s); err == nil {
			return nil
		}
	}
	return &FieldError{path, fmt.Sprintf("%v is not an IP address or prefix", v)}
}

func checkVLAN(path string, v any) error {
	n, ok := asInt(v)
	if !ok || n < 1 || n > 4094 {
		return &FieldError{path, fmt.Sprintf("VLAN %v is not in 1–4094", v)}
	}
	return nil
}

// asInt accepts the number shapes JSON, YAML and CSV decoders produce.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= 1<<62
	case float64:
		return int64(x), x == float64(int64(x))
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}
