package netcfg

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
)

// DeriveVars returns a copy of vars ready to render a template with, the
// same copy the sim provider writes its configs from. vars itself is not changed.
//
// Values are normalised so that a template prints them the same whichever
// decoder produced them: integers of any type, and floats (JSON numbers)
// without a fraction, become int64 (a 32-bit ASN prints as 4200000000, not
// 4.2e+09); lists of any element type become []any; maps with string keys
// become map[string]any.
//
// Every string in CIDR form ("10.99.1.11/24", "2001:db8::1/64"), at any
// depth of maps and lists, gains three sibling keys, because IOS needs an
// address and a netmask where a template cannot compute them:
//
//	<key>_address   "10.99.1.11"
//	<key>_prefixlen 24 (int64)
//	<key>_netmask   "255.255.255.0" (IPv4 only)
//
// A key that is already present is never overwritten.
func DeriveVars(vars map[string]any) map[string]any {
	out, _ := normalize(vars).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func normalize(x any) any {
	switch x := x.(type) {
	case nil:
		return nil
	case string, bool, int64:
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return normalize(f)
		}
		return x.String()
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x)
		}
		return x
	case float32:
		return normalize(float64(x))
	case map[string]any:
		return deriveMap(x)
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return x
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = normalize(v.Index(i).Interface())
		}
		return out
	case reflect.Map:
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
		}
		return deriveMap(m)
	}
	return x
}

func deriveMap(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, x := range in {
		out[k] = normalize(x)
	}
	for k, x := range in {
		s, ok := x.(string)
		if !ok || !strings.Contains(s, "/") {
			continue
		}
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		add := func(name string, v any) {
			if _, taken := in[name]; !taken {
				out[name] = v
			}
		}
		add(k+"_address", p.Addr().String())
		add(k+"_prefixlen", int64(p.Bits()))
		if p.Addr().Is4() {
			add(k+"_netmask", netmask4(p.Bits()))
		}
	}
	return out
}

func netmask4(bits int) string {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}
