// Package coverage checks that a rendered config uses its device's intent:
// every leaf value of the device's vars (addresses, prefixes, interface
// names, VLAN ids, ASNs, peer names, free text) must appear in the config in
// some form the platform writes. A value that does not was dropped by the
// template or the model, and the config is incomplete however clean it lints.
package coverage

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/netcfg"
)

// Metadata are the top-level variable names that describe a device for
// people and inventories, not for its config: they are never checked.
// snmp_location, snmp_contact and descriptions are not metadata: a config
// carries them.
var Metadata = []string{"site", "notes", "comment", "comments", "tags", "rack", "serial", "serial_number", "asset_tag"}

// Missing is a variable whose value the config does not contain.
type Missing struct {
	// Path is the dotted path below vars ("downlinks.3.ip"); Name is its
	// last key, or the list's name for a list of values ("ntp_servers").
	Path string `json:"path"`
	Name string `json:"name"`
	// Value is the value looked for; a literal secret is shown as
	// netcfg.Redacted.
	Value string `json:"value"`
	// Suggest is the known variable name that Name is most likely a
	// misspelling of ("mgmt_gateway" for "mgmt_gatway"), or "".
	Suggest string `json:"suggest,omitempty"`
}

// String says what is missing, as feedback to a model or a person reads it.
func (m Missing) String() string {
	s := fmt.Sprintf("%s (%s) is not in the config", m.Path, m.Value)
	if m.Suggest != "" {
		s += "; did you mean " + m.Suggest + "?"
	}
	return s
}

// Report is what Check found.
type Report struct {
	// Checked is how many values were looked for.
	Checked int `json:"checked"`
	// Missing are those not found, in path order.
	Missing []Missing `json:"missing,omitempty"`
}

// Names returns the distinct names of the missing variables, in order.
func (r Report) Names() []string {
	var out []string
	for _, m := range r.Missing {
		if !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

// Suggest fills the Suggest of every missing variable whose name is not in
// known but close to a name that is (netcfg.Nearest): the names a template
// references, for instance. Check has already looked in netcfg.KnownVars.
func (r *Report) Suggest(known []string) {
	for i := range r.Missing {
		m := &r.Missing[i]
		if m.Suggest != "" {
			continue
		}
		if n := netcfg.Nearest(m.Name, known); n != "" && !strings.EqualFold(n, m.Name) {
			m.Suggest = n
		}
	}
}

// maxValue bounds the value text a Missing carries.
const maxValue = 80

// Check looks for every leaf value of vars in config, which was written for
// platform p. vars are a device's variables as a template sees them
// (hostname included); the keys netcfg.DeriveVars adds are skipped, as are
// Metadata at the top level, booleans and nulls.
//
// A value matches in the forms configs write it, as whole tokens (10.1.1.1
// never matches inside 10.1.1.10, VLAN 10 never inside 110 or 10.1.10.1):
//
//   - a prefix 10.1.1.1/24 as 10.1.1.1/24, "10.1.1.1 255.255.255.0" (or
//     with "mask", or the wildcard 0.0.0.255), or the address with another
//     prefix length; a name holding a peer's address (peer_ip as a prefix)
//     also matches the bare address;
//   - an address as itself; a MAC address in colon, dash, dotted (Cisco) or
//     bare notation;
//   - an interface name in full or abbreviated (GigabitEthernet1/0/1 and
//     Gi1/0/1, Ethernet49/1 and Et49/1), also inside a range
//     (Gi1/0/1 - 46, Ethernet1-46,48, Junos ge-0/0/[0-46] and
//     "ge-0/0/0 to ge-0/0/46"); a range value needs every member;
//   - a number as a whole number token (Vlan10 and vlan 10 match 10; a
//     VLAN id also inside a "vlan … 10-20" range; an ASN above 65535 also
//     in asdot);
//   - a secret (netcfg.IsSecretName) as itself: a reference such as
//     vault:net/enable (often written <vault:net/enable>), or a literal
//     hash, which may also be the netcfg.Redacted placeholder;
//   - any other text as itself, ignoring case, not inside a longer word
//     (dashes and underscores do not make words: DC1-SPINE1 matches in
//     TO_DC1-SPINE1_Ethernet1), each line of a multi-line value on its
//     own; on Junos irb.110 also as "irb unit 110".
func Check(p netcfg.Platform, vars map[string]any, config string) Report {
	c := &checker{p: p, idx: index(config)}
	c.walkMap("", vars, false, true)
	for i := range c.rep.Missing {
		m := &c.rep.Missing[i]
		if n := netcfg.Nearest(m.Name, netcfg.KnownVars); n != "" && !strings.EqualFold(n, m.Name) {
			m.Suggest = n
		}
	}
	return c.rep
}

type checker struct {
	p   netcfg.Platform
	idx *configIndex
	rep Report
}

func (c *checker) walkMap(path string, m map[string]any, secret, top bool) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if top && slices.Contains(Metadata, strings.ToLower(k)) || derived(m, k) {
			continue
		}
		p := k
		if path != "" {
			p = path + "." + k
		}
		c.walk(p, k, m[k], netcfg.IsSecretEntry(secret, k))
	}
}

// derived reports whether m[k] is one of the keys netcfg.DeriveVars adds
// beside a prefix.
func derived(m map[string]any, k string) bool {
	for _, suf := range []string{"_address", "_prefixlen", "_netmask"} {
		base, ok := strings.CutSuffix(k, suf)
		if !ok {
			continue
		}
		if s, ok := m[base].(string); ok {
			if _, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
				return true
			}
		}
	}
	return false
}

func (c *checker) walk(path, name string, v any, secret bool) {
	switch x := v.(type) {
	case nil, bool:
		return
	case map[string]any:
		c.walkMap(path, x, secret, false)
		return
	case []any:
		for i, e := range x {
			c.walk(path+"."+strconv.Itoa(i), name, e, secret)
		}
		return
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			c.walk(path+"."+strconv.Itoa(i), name, rv.Index(i).Interface(), secret)
		}
		return
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
		}
		c.walkMap(path, m, secret, false)
		return
	}
	s, ok := scalar(v)
	if !ok || s == "" {
		return
	}
	c.rep.Checked++
	var found bool
	if secret {
		ref := netcfg.IsSecretRef(s)
		found = c.idx.hasText(s) || !ref && strings.Contains(c.idx.text, netcfg.Redacted)
		if !ref {
			s = netcfg.Redacted
		}
	} else {
		found = c.found(name, s)
	}
	if !found {
		if len(s) > maxValue {
			s = s[:maxValue] + "…"
		}
		c.rep.Missing = append(c.rep.Missing, Missing{Path: path, Name: name, Value: s})
	}
}

// scalar returns a leaf value as text: numbers in decimal (a whole float as
// an integer), strings trimmed.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case fmt.Stringer: // json.Number
		return x.String(), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), true
	case reflect.String:
		return strings.TrimSpace(rv.String()), true
	}
	return "", false
}

// junosUnit is a Junos logical interface without a number of its own.
var junosUnit = regexp.MustCompile(`^([a-z]+)\.(\d+)$`)

// found reports whether the value s of the variable name is in the config.
func (c *checker) found(name, s string) bool {
	idx := c.idx
	if pfx, err := netip.ParsePrefix(s); err == nil {
		return idx.hasPrefix(pfx, strings.Contains(strings.ToLower(name), "peer"))
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return idx.hasAddr(a)
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return idx.hasNumber(n)
	}
	if hw, err := net.ParseMAC(s); err == nil && len(hw) == 6 {
		return idx.hasMAC(hw)
	}
	if r, ok := parseIface(s); ok {
		return idx.hasIface(r, c.p)
	}
	if m := junosUnit.FindStringSubmatch(s); m != nil && c.p == netcfg.JuniperJunos &&
		idx.hasText(m[1]+" unit "+m[2]) {
		return true // irb.110 as "irb unit 110"
	}
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && !idx.hasText(line) {
			return false
		}
	}
	return true
}
