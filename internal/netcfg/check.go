package netcfg

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Issue is one problem in a vars or constants tree.
type Issue struct {
	// Path leads from the tree's root to the value: string keys and int
	// list indexes, as written (keys keep their case).
	Path []any
	Msg  string
	// Warn marks a problem that stops neither a batch nor a job: a literal
	// secret, a var name that looks misspelled.
	Warn bool
	// Hint marks a warning about a name, not its value (a did-you-mean):
	// it is the same for every device that sets the name.
	Hint bool
}

// Field returns the path dotted, list indexes as numbers:
// "tacacs_servers.1.port".
func (is Issue) Field() string {
	var b strings.Builder
	for i, p := range is.Path {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, p)
	}
	return b.String()
}

// CheckVars applies the name-based rules to a device's vars or an intent's
// constants and returns every issue, in path order. It is the one judge of
// values: a fleet file reports these issues with their line and column, and
// a job (ValidateVars) refuses the first error, so whatever a fleet file
// accepts, its jobs accept. A tree beyond MaxTreeDepth, MaxTreeNodes or
// MaxTreeString is one error and nothing else is checked. Keys are matched
// without case, at any depth:
//
//   - IP addresses or prefixes (IPv4 or IPv6): "ip", "*_ip", "ip_address",
//     "ipv4_address", "ipv6_address" (alone or ending a name), "loopback<N>", the values of "loopbacks" (a list, or a
//     map by name), and "address" in a map that is a list element;
//     "mgmt_ip" must be one prefix (address/length);
//   - addresses only: "gateway", "*_gateway";
//   - network prefixes without host bits: "subnet", "*_subnet";
//   - servers: ntp_servers, name_servers, dns_servers, logging_hosts,
//     syslog_servers, tacacs_servers, radius_servers and their singular
//     forms hold an IP address or a DNS name, or entries
//     {address|host|ip, port, vrf, key} whose port is 1-65535 and whose key
//     is a secret (an entry with none of address, host and ip names its
//     server by name, as AVD's NTP servers do); the plural forms may also
//     be maps by name of either;
//   - VLAN ids 1-4094: "vlans" (ids, ranges such as "30-40", {id, name, …}
//     maps, a map by id, or one VLAN list string), "vlan", "vlan_id",
//     "native_vlan", "voice_vlan"; VLAN lists ("10,20,30-40", all, none):
//     "*_vlan", "*_vlans";
//   - AS numbers 1-4294967295 (plain or asdot): "asn", "*_asn", "*_as"
//     (remote_as, local_as, peer_as);
//   - literal secrets under a secret name (IsSecretName; by the rules of
//     RedactSecrets) are warnings;
//   - a name of five letters or more that no rule knows and that is close
//     to one of KnownVars (Nearest) is a warning with a did-you-mean. Taken
//     as meant are plurals of a known name, names whose first letter or
//     digits differ from it (lag_id, vlan10, loopback2) and names that differ
//     in one word that is itself known (mlag_id against mlag_ip).
//
// Nulls and secret references are never checked as addresses or numbers.
// Numbers may come from any decoder: JSON's float64 and json.Number count
// as integers when they have no fraction.
func CheckVars(root map[string]any) []Issue {
	// Bounds first: a tree beyond them is refused before any other rule
	// walks it.
	if is := checkBounds(root); is != nil {
		return []Issue{*is}
	}
	var k checker
	k.walkMap(nil, root, inMap)
	return k.issues
}

// ValidateVars returns the first error CheckVars finds in vars as a
// *FieldError whose Field is the dotted path below vars
// ("tacacs_servers.1.port"), or nil. Warnings do not fail a job.
func ValidateVars(vars map[string]any) error {
	for _, is := range CheckVars(vars) {
		if !is.Warn {
			return &FieldError{Field: is.Field(), Msg: is.Msg}
		}
	}
	return nil
}

// scope is what holds a value, which decides how the keys of a map are read.
type scope int

const (
	inMap       scope = iota // a map's value: its keys are var names
	inList                   // a list element: "address" in its map is an address
	inServers                // a server list or entry: {address|host|ip, port, vrf, key}
	inServerMap              // servers by name: {primary: 10.0.0.1, backup: {host: …}}
	inData                   // a map keyed by data (VLAN ids, loopback names), checked by its owner
)

type checker struct {
	issues []Issue
}

func (k *checker) add(path []any, warn bool, format string, args ...any) {
	k.issues = append(k.issues, Issue{Path: slices.Clone(path), Msg: fmt.Sprintf(format, args...), Warn: warn})
}

func (k *checker) walk(path []any, v any, sc scope) {
	switch v := v.(type) {
	case map[string]any:
		k.walkMap(path, v, sc)
	case []any:
		esc := inList
		if sc == inServers {
			esc = inServers
		}
		for i, e := range v {
			k.walk(append(path, i), e, esc)
		}
	}
}

func (k *checker) walkMap(path []any, m map[string]any, sc scope) {
	if sc == inServerMap {
		for _, key := range slices.Sorted(maps.Keys(m)) {
			switch v := m[key]; v.(type) {
			case map[string]any, []any:
				k.walk(append(path, key), v, inServers)
			case nil:
			default:
				k.server(append(path, key), v)
			}
		}
		return
	}
	// A server entry says where the server is by address, host or ip; some
	// inventories (AVD's ntp servers) use name, which then counts as one.
	byName := sc == inServers && !hasKey(m, "address", "host", "ip")
	if byName && !hasKey(m, "name") {
		k.add(path, false, "a server entry needs an address, host, ip or name")
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		p := append(path, key)
		v := m[key]
		lk := strings.ToLower(key)
		if sc == inData {
			k.walk(p, v, inMap)
			continue
		}
		if sc == inServers && k.serverField(p, lk, v, byName) {
			continue
		}
		child, known := k.checkKey(p, lk, v, sc == inList)
		if !known {
			k.hint(p, key)
		}
		k.walk(p, v, child)
	}
}

// serverField checks the fields of a server entry that say where the server
// is (name too when byName); it reports false for the others, which the
// ordinary rules check.
func (k *checker) serverField(path []any, key string, v any, byName bool) bool {
	switch {
	case key == "address" || key == "host" || key == "ip" || key == "name" && byName:
		if v != nil {
			k.server(path, v)
		}
	case key == "port":
		if v != nil {
			k.port(path, v)
		}
	default:
		return false
	}
	return true
}

// hasKey reports whether m has a non-null value under one of names (in
// lower case), whatever the case of its key.
func hasKey(m map[string]any, names ...string) bool {
	for key, v := range m {
		if v != nil && slices.Contains(names, strings.ToLower(key)) {
			return true
		}
	}
	return false
}

// serverKeys hold servers by address or DNS name.
var serverKeys = map[string]bool{
	"ntp_server": true, "ntp_servers": true, "name_server": true, "name_servers": true,
	"dns_server": true, "dns_servers": true, "logging_host": true, "logging_hosts": true,
	"syslog_server": true, "syslog_servers": true, "tacacs_server": true, "tacacs_servers": true,
	"radius_server": true, "radius_servers": true,
}

var loopbackN = regexp.MustCompile(`^loopback[0-9]+$`)

// checkKey applies the rule the name key gives (lower case) to v. It returns
// the scope v's own keys or elements are read in, and whether a rule knew
// the name.
func (k *checker) checkKey(path []any, key string, v any, inList bool) (scope, bool) {
	if IsSecretName(key) {
		if v != nil && literalSecret(v) {
			k.add(path, true, "literal secret; use a reference such as vault:path, env:NAME or file:path so it never leaves this machine")
		}
		return inMap, true
	}
	child, known := inMap, true
	if serverKeys[key] {
		child = inServers
		if m, ok := v.(map[string]any); ok && strings.HasSuffix(key, "s") && !hasKey(m, "address", "host", "ip", "name") {
			child = inServerMap
		}
	}
	if v == nil {
		return child, known // a null removes an inherited value: nothing to check
	}
	switch {
	case serverKeys[key]:
		k.each(path, v, false, k.server)
	case key == "mgmt_ip":
		k.prefix(path, v)
	case key == "ip" || strings.HasSuffix(key, "_ip") || loopbackN.MatchString(key) ||
		ipAddressKey(key) || key == "address" && inList:
		k.each(path, v, false, k.addrOrPrefix)
	case key == "loopbacks":
		k.each(path, v, true, k.addrOrPrefix)
		child = inData
	case key == "gateway" || strings.HasSuffix(key, "_gateway"):
		k.each(path, v, false, k.addr)
	case key == "subnet" || strings.HasSuffix(key, "_subnet"):
		k.each(path, v, false, k.network)
	case key == "vlans":
		if k.vlans(path, v) {
			child = inData
		}
	case key == "vlan" || key == "vlan_id" || key == "native_vlan" || key == "voice_vlan":
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["id"]; ok {
				k.vlan(append(path, "id"), id)
			}
		} else {
			k.vlan(path, v)
		}
	case strings.HasSuffix(key, "_vlan") || strings.HasSuffix(key, "_vlans"):
		k.each(path, v, false, k.vlanSpec)
	case key == "asn" || strings.HasSuffix(key, "_asn") || strings.HasSuffix(key, "_as"):
		k.asn(path, v)
	default:
		known = false
	}
	return child, known
}

// ipAddressKey reports whether key is ip_address, ipv4_address or
// ipv6_address, alone or as the end of a longer name (peer_ipv6_address).
func ipAddressKey(key string) bool {
	for _, s := range []string{"ip_address", "ipv4_address", "ipv6_address"} {
		if key == s || strings.HasSuffix(key, "_"+s) {
			return true
		}
	}
	return false
}

// hint warns about a name that no rule knows when it is close to a known one.
func (k *checker) hint(path []any, key string) {
	name := strings.ToLower(key)
	if len(name) < 5 {
		return // short names (rd, svi, as) are too often someone's own
	}
	near := nearestVar(name)
	if near == "" || near == name || near[0] != name[0] || near+"s" == name || name+"s" == near ||
		digits(near) != digits(name) || ownWord(name, near) {
		return
	}
	k.add(path, true, "unknown var %q (did you mean %q?)", key, near)
	k.issues[len(k.issues)-1].Hint = true
}

// knownVars is KnownVars as a set, and nearVars remembers Nearest's answer
// for names that are not known: a fleet repeats the same few names on every
// device, and Nearest against every known name would dominate its check.
// nearVars stops growing at maxNearVars names so that a file of made-up
// names cannot grow it without bound.
var (
	knownVars = sync.OnceValue(func() map[string]bool {
		set := make(map[string]bool, len(KnownVars))
		for _, n := range KnownVars {
			set[n] = true
		}
		return set
	})
	nearVars    sync.Map // name -> Nearest(name, KnownVars)
	nearVarsLen atomic.Int64
)

const maxNearVars = 4096

// nearestVar is Nearest(name, KnownVars) for a lower-case name.
func nearestVar(name string) string {
	if knownVars()[name] {
		return name
	}
	if near, ok := nearVars.Load(name); ok {
		return near.(string)
	}
	near := Nearest(name, KnownVars)
	if nearVarsLen.Load() < maxNearVars {
		if _, loaded := nearVars.LoadOrStore(name, near); !loaded {
			nearVarsLen.Add(1)
		}
	}
	return near
}

// ownWord reports whether name differs from near in one word (between
// underscores) that is itself a known name: mlag_id is not a misspelled
// mlag_ip.
func ownWord(name, near string) bool {
	a, b := strings.Split(name, "_"), strings.Split(near, "_")
	if len(a) != len(b) {
		return false
	}
	diff := -1
	for i := range a {
		if a[i] != b[i] {
			if diff >= 0 {
				return false
			}
			diff = i
		}
	}
	return diff >= 0 && slices.Contains(KnownVars, a[diff])
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
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
		for _, key := range slices.Sorted(maps.Keys(v)) {
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
		k.add(path, false, "want %s, got %s", want, Describe(v))
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

func (k *checker) port(path []any, v any) {
	if s, ok := v.(string); ok && IsSecretRef(s) {
		return
	}
	if n, ok := integer(v); !ok || n < 1 || n > 65535 {
		k.add(path, false, "%s is not a port (1-65535)", Describe(v))
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

// vlans checks a "vlans" value and reports whether it is a map keyed by
// VLAN (whose keys are data, not names).
func (k *checker) vlans(path []any, v any) bool {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			p := append(path, i)
			if m, ok := e.(map[string]any); ok {
				k.vlanEntry(p, m)
				continue
			}
			if s, ok := e.(string); ok && strings.ContainsAny(s, "-,") {
				k.vlanSpec(p, e) // a range such as "30-40"
				continue
			}
			k.vlan(p, e)
		}
	case map[string]any:
		// VLANs by id ("10: DATA") or by name ("DATA: {id: 10}").
		for _, key := range slices.Sorted(maps.Keys(v)) {
			p := append(path, key)
			if strings.Trim(key, "0123456789") == "" {
				k.vlan(p, key)
			}
			if m, ok := v[key].(map[string]any); ok && m["id"] != nil {
				k.vlan(append(p, "id"), m["id"])
			}
		}
		return true
	default:
		if _, ok := integer(v); ok || isString(v) {
			k.vlanSpec(path, v) // one VLAN (a CSV cell without ';') or "10,20,30-40"
			return false
		}
		k.add(path, false, "want a list of VLAN ids or of {id, name}, got %s", Describe(v))
	}
	return false
}

// vlanEntry checks a {id, name, …} VLAN; an entry with vlan_id instead is
// checked by the walk, which knows that key.
func (k *checker) vlanEntry(path []any, m map[string]any) {
	if id, ok := m["id"]; ok {
		k.vlan(append(path, "id"), id)
		return
	}
	if _, ok := m["vlan_id"]; !ok {
		k.add(path, false, "VLAN has no id")
	}
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

func (k *checker) vlan(path []any, v any) {
	if s, ok := v.(string); ok && IsSecretRef(s) {
		return
	}
	n, ok := integer(v)
	if !ok {
		k.add(path, false, "want a VLAN id (1-4094), got %s", Describe(v))
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
		k.add(path, false, "want an AS number (1-4294967295), got %s", Describe(v))
		return
	}
	if n < 1 || n > math.MaxUint32 {
		k.add(path, false, "AS number %d is outside 1-4294967295", n)
	}
}

// integer returns v as an int64 when it is an integer of any decoder's type
// (YAML's int and uint64, JSON's float64 or json.Number without a fraction)
// or a string of digits (a quoted "10" in YAML, a CSV cell). Integers too
// large for int64 are reported as MaxInt64 so range checks fail.
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
	case float64:
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return 0, false
		}
		if v >= math.MaxInt64 || v <= math.MinInt64 {
			return math.MaxInt64, true
		}
		return int64(v), true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return integer(f)
		}
		return 0, false
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

// Describe names v's value (10, "abc") or its kind (a map, a list, null)
// for a message about it.
func Describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool, int, int64, uint64, json.Number:
		return fmt.Sprint(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%T", v)
}
