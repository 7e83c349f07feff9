package fleet

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// issue is a problem in a value tree, at path (string keys and int indexes)
// relative to the tree's root.
type issue struct {
	path []any
	msg  string
	warn bool
}

// checkValues applies the name-based rules to a vars or constants tree:
//
//   - IP addresses or prefixes: keys "ip", "ip_address", "*_ip", "loopback<N>",
//     the elements of "loopbacks", and "address" in a map that is a list element;
//     "mgmt_ip" must be one prefix (address/length);
//   - addresses only: "gateway", "*_gateway";
//   - network prefixes without host bits: "subnet", "*_subnet";
//   - servers (an address or a DNS name): ntp_servers, name_servers,
//     dns_servers, logging_hosts, syslog_servers;
//   - VLAN ids 1–4094: "vlans" (ints or maps with "id"), "vlan", "vlan_id",
//     "native_vlan", "voice_vlan"; VLAN lists ("10,20,30-40", all, none):
//     "*_vlan", "*_vlans";
//   - AS numbers 1–4294967295 (plain or asdot): "asn", "*_asn", "remote_as", "local_as";
//   - literal secrets (by the rules of RedactSecrets) are warnings.
//
// The package documentation lists the same rules for users. Nulls and secret
// references are never checked as addresses or numbers.
func checkValues(root map[string]any) []issue {
	var k checker
	k.walkMap(nil, root, false)
	return k.issues
}

type checker struct {
	issues []issue
}

func (k *checker) add(path []any, warn bool, format string, args ...any) {
	k.issues = append(k.issues, issue{path: slices.Clone(path), msg: fmt.Sprintf(format, args...), warn: warn})
}

func (k *checker) walk(path []any, v any, inList bool) {
	switch v := v.(type) {
	case map[string]any:
		k.walkMap(path, v, inList)
	case []any:
		for i, e := range v {
			k.walk(append(path, i), e, true)
		}
	}
}

func (k *checker) walkMap(path []any, m map[string]any, inList bool) {
	for _, key := range sortedKeys(m) {
		p := append(path, key)
		v := m[key]
		k.checkKey(p, strings.ToLower(key), v, inList)
		k.walk(p, v, false)
	}
}

var loopbackN = regexp.MustCompile(`^loopback[0-9]+$`)

func (k *checker) checkKey(path []any, key string, v any, inList bool) {
	if v == nil {
		return // a null removes an inherited value: nothing to check
	}
	if IsSecretName(key) {
		if literalSecret(v) {
			k.add(path, true, "literal secret; use a reference such as vault:path, env:NAME or file:path so it never leaves this machine")
		}
		return
	}
	switch {
	case key == "mgmt_ip":
		k.prefix(path, v)
	case key == "ip" || key == "ip_address" || strings.HasSuffix(key, "_ip") ||
		strings.HasSuffix(key, "_ip_address") || loopbackN.MatchString(key) ||
		key == "address" && inList:
		k.each(path, v, false, k.addrOrPrefix)
	case key == "loopbacks":
		k.each(path, v, true, k.addrOrPrefix)
	case key == "gateway" || strings.HasSuffix(key, "_gateway"):
		k.each(path, v, false, k.addr)
	case key == "subnet" || strings.HasSuffix(key, "_subnet"):
		k.each(path, v, false, k.network)
	case key == "ntp_servers" || key == "name_servers" || key == "dns_servers" ||
		key == "logging_hosts" || key == "syslog_servers":
		k.each(path, v, false, k.server)
	case key == "vlans":
		k.vlans(path, v)
	case key == "vlan" || key == "vlan_id" || key == "native_vlan" || key == "voice_vlan":
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["id"]; ok {
				k.vlan(append(path, "id"), id)
			}
			return
		}
		k.vlan(path, v)
	case strings.HasSuffix(key, "_vlan") || strings.HasSuffix(key, "_vlans"):
		k.each(path, v, false, k.vlanSpec)
	case key == "asn" || strings.HasSuffix(key, "_asn") || key == "remote_as" || key == "local_as":
		k.asn(path, v)
	}
}

// each applies check to v when it is a scalar and to the scalar elements of a
// list (and, with inMaps, the scalar values of a map: loopbacks by name).
// Maps inside lists are left to the walk, whose keys say what they hold.
func (k *checker) each(path []any, v any, inMaps bool, check func([]any, any)) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			switch e.(type) {
			case map[string]any, []any:
			default:
				check(append(path, i), e)
			}
		}
	case map[string]any:
		if !inMaps {
			return
		}
		for _, key := range sortedKeys(v) {
			switch e := v[key]; e.(type) {
			case map[string]any, []any:
			default:
				check(append(path, key), e)
			}
		}
	default:
		check(path, v)
	}
}

// str returns v as a string to check, or reports that it is not one. ok is
// false when there is nothing more to check (not a string, or a secret ref).
func (k *checker) str(path []any, v any, want string) (string, bool) {
	s, isStr := v.(string)
	if !isStr {
		k.add(path, false, "want %s, got %s", want, describe(v))
		return "", false
	}
	return s, !IsSecretRef(s)
}

func (k *checker) prefix(path []any, v any) {
	s, ok := k.str(path, v, "an IP prefix (address/length)")
	if !ok {
		return
	}
	if _, err := netip.ParsePrefix(s); err != nil {
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			k.add(path, false, "%q has no prefix length: want address/length such as %s/24", s, s)
			return
		}
		k.add(path, false, "%q is not an IP prefix: %s", s, netipReason(err))
	}
}

func (k *checker) addrOrPrefix(path []any, v any) {
	s, ok := k.str(path, v, "an IP address or prefix")
	if !ok {
		return
	}
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			k.add(path, false, "%q is not an IP prefix: %s", s, netipReason(err))
		}
		return
	}
	if _, err := netip.ParseAddr(s); err != nil {
		k.add(path, false, "%q is not an IP address: %s", s, netipReason(err))
	}
}

func (k *checker) addr(path []any, v any) {
	s, ok := k.str(path, v, "an IP address")
	if !ok {
		return
	}
	if strings.Contains(s, "/") {
		k.add(path, false, "%q is a prefix: want an address without /length", s)
		return
	}
	if _, err := netip.ParseAddr(s); err != nil {
		k.add(path, false, "%q is not an IP address: %s", s, netipReason(err))
	}
}

func (k *checker) network(path []any, v any) {
	s, ok := k.str(path, v, "a network prefix")
	if !ok {
		return
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		k.add(path, false, "%q is not an IP prefix: %s", s, netipReason(err))
		return
	}
	if p.Masked() != p {
		k.add(path, false, "%q has host bits set: did you mean %s?", s, p.Masked())
	}
}

// server accepts an IP address or a DNS name; anything made only of digits
// and dots, or holding a colon, must be an address.
func (k *checker) server(path []any, v any) {
	s, ok := k.str(path, v, "an IP address or host name")
	if !ok {
		return
	}
	if strings.Contains(s, "/") {
		k.add(path, false, "%q is a prefix: want an address or a host name", s)
		return
	}
	if strings.Contains(s, ":") || strings.Trim(s, "0123456789.") == "" {
		if _, err := netip.ParseAddr(s); err != nil {
			k.add(path, false, "%q is not an IP address: %s", s, netipReason(err))
		}
		return
	}
	if !validDNSName(s) {
		k.add(path, false, "%q is neither an IP address nor a host name", s)
	}
}

func validDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// netipReason drops the `ParseAddr("…"): ` prefix of a net/netip error.
func netipReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

func (k *checker) vlans(path []any, v any) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			p := append(path, i)
			if m, ok := e.(map[string]any); ok {
				id, ok := m["id"]
				if !ok {
					id, ok = m["vlan_id"]
					if ok {
						continue // checked as a vlan_id key by the walk
					}
				}
				if !ok {
					k.add(p, false, "VLAN has no id")
					continue
				}
				k.vlan(append(p, "id"), id)
				continue
			}
			k.vlan(p, e)
		}
	case string, int, int64, uint64:
		k.vlanSpec(path, v) // one VLAN (a CSV cell without ';') or "10,20,30-40"
	case map[string]any:
		// VLANs by id ("10: DATA"): check the keys that are numbers.
		for _, key := range sortedKeys(v) {
			if strings.Trim(key, "0123456789") == "" {
				k.vlan(append(path, key), key)
			}
		}
	default:
		k.add(path, false, "want a list of VLAN ids or of {id, name}, got %s", describe(v))
	}
}

func (k *checker) vlan(path []any, v any) {
	if s, ok := v.(string); ok && IsSecretRef(s) {
		return
	}
	n, ok := integer(v)
	if !ok {
		k.add(path, false, "want a VLAN id (1-4094), got %s", describe(v))
		return
	}
	if n < 1 || n > 4094 {
		k.add(path, false, "VLAN id %d is outside 1-4094", n)
	}
}

// vlanSpec accepts a VLAN id or a VLAN list such as "10,20,30-40" (as in
// "switchport trunk allowed vlan"), or the words all and none.
func (k *checker) vlanSpec(path []any, v any) {
	s, ok := v.(string)
	if !ok || strings.Trim(s, "0123456789") == "" {
		k.vlan(path, v)
		return
	}
	if IsSecretRef(s) || strings.EqualFold(s, "all") || strings.EqualFold(s, "none") {
		return
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, aok := integer(strings.TrimSpace(lo))
		b, bok := a, aok
		if isRange {
			b, bok = integer(strings.TrimSpace(hi))
		}
		switch {
		case !aok || !bok:
			k.add(path, false, "%q is not a VLAN list (want ids and ranges such as 10,20,30-40)", s)
			return
		case a < 1 || a > 4094:
			k.add(path, false, "%q is not a VLAN list: VLAN id %d is outside 1-4094", s, a)
			return
		case b < 1 || b > 4094:
			k.add(path, false, "%q is not a VLAN list: VLAN id %d is outside 1-4094", s, b)
			return
		case a > b:
			k.add(path, false, "%q is not a VLAN list: range %d-%d is reversed", s, a, b)
			return
		}
	}
}

func (k *checker) asn(path []any, v any) {
	if s, ok := v.(string); ok {
		if IsSecretRef(s) {
			return
		}
		if hi, lo, ok := strings.Cut(s, "."); ok { // asdot
			h, herr := strconv.ParseUint(hi, 10, 16)
			l, lerr := strconv.ParseUint(lo, 10, 16)
			if herr != nil || lerr != nil || h == 0 && l == 0 {
				k.add(path, false, "%q is not an AS number (1-4294967295, or asdot 0.1-65535.65535)", s)
			}
			return
		}
	}
	n, ok := integer(v)
	if !ok {
		k.add(path, false, "want an AS number (1-4294967295), got %s", describe(v))
		return
	}
	if n < 1 || n > math.MaxUint32 {
		k.add(path, false, "AS number %d is outside 1-4294967295", n)
	}
}

// integer returns v as an int64 when it is an integer or a string of digits
// (a quoted "10" in YAML). Integers too large for int64 are reported as
// MaxInt64 so range checks fail.
func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		if v > math.MaxInt64 {
			return math.MaxInt64, true
		}
		return int64(v), true
	case string:
		if v == "" || strings.Trim(v, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return math.MaxInt64, true
		}
		return n, true
	}
	return 0, false
}

// describe names v's value or kind for a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool, int, int64, uint64:
		return fmt.Sprint(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%T", v)
}

// formatPath renders a value path as in "vars.uplinks[0].peer_ip".
func formatPath(prefix string, path []any) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
