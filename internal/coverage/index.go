package coverage

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/netcfg"
)

// configIndex is what Check looks values up in: the config's text, and the
// numbers, IPv4 addresses and interface names in it, found in one pass each
// so that a device's many values cost a map lookup apiece.
type configIndex struct {
	text  string
	lower string // text with ASCII letters lowered, byte for byte
	nums  map[uint64]bool
	// dotted holds the dotted number tokens that are not addresses
	// (asdot 1.10).
	dotted map[string]bool
	// vlanRanges are the a-b number ranges on lines about VLANs.
	vlanRanges [][2]uint64
	ipv4       map[netip.Addr]*ipUse
	// ifaces maps an interface's numbers ("1/0/1", "0/0/3.0") to the
	// lowered type names written with them ("gigabitethernet", "gi").
	ifaces map[string][]string
}

// ipUse is how an IPv4 address is written in a config.
type ipUse struct {
	withLen bool         // followed by /len
	follow  []netip.Addr // followed by an address (a mask or wildcard)
}

func index(config string) *configIndex {
	x := &configIndex{text: config, lower: lowerASCII(config), nums: map[uint64]bool{}, dotted: map[string]bool{},
		ipv4: map[netip.Addr]*ipUse{}, ifaces: map[string][]string{}}
	x.scanNumbers()
	x.scanIfaces()
	return x
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// digitsAt returns the end of the run of digits at t[i:].
func digitsAt(t string, i int) int {
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	return i
}

// scanNumbers indexes every maximal run of digits and dots: plain numbers
// (not parts of an interface path like 1/10), IPv4 addresses with what
// follows them, other dotted tokens, and VLAN ranges.
func (x *configIndex) scanNumbers() {
	t := x.lower
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		j := i
		for j < len(t) && (isDigit(t[j]) || t[j] == '.') {
			j++
		}
		end := j
		for end > i && t[end-1] == '.' {
			end--
		}
		run := t[i:end]
		var prev byte
		if i > 0 {
			prev = t[i-1]
		}
		switch {
		case !strings.Contains(run, "."):
			slashNext := end+1 < len(t) && t[end] == '/' && isDigit(t[end+1])
			if n, err := strconv.ParseUint(run, 10, 64); err == nil && prev != '/' && !slashNext {
				x.nums[n] = true
				x.vlanRange(n, end)
			}
		default:
			a, err := netip.ParseAddr(run)
			if err != nil || !a.Is4() {
				x.dotted[run] = true
				break
			}
			x.addIPv4(a, end)
		}
		i = j
	}
}

// vlanRange records n-m when the number n ending at end starts a range on
// a line about VLANs ("switchport trunk allowed vlan 10-20", Junos
// "members 100-200").
func (x *configIndex) vlanRange(n uint64, end int) {
	t := x.lower
	k := end
	for k < len(t) && t[k] == ' ' {
		k++
	}
	if k >= len(t) || t[k] != '-' {
		return
	}
	k++
	for k < len(t) && t[k] == ' ' {
		k++
	}
	e := digitsAt(t, k)
	if e == k || e < len(t) && (t[e] == '/' || t[e] == '.') {
		return
	}
	m, err := strconv.ParseUint(t[k:e], 10, 64)
	if err != nil || m <= n || m > 4094 {
		return
	}
	start := strings.LastIndexByte(t[:end], '\n') + 1
	stop := strings.IndexByte(t[end:], '\n')
	if stop < 0 {
		stop = len(t) - end
	}
	line := t[start : end+stop]
	if strings.Contains(line, "vlan") || strings.Contains(line, "members") {
		x.vlanRanges = append(x.vlanRanges, [2]uint64{n, m})
	}
}

// addIPv4 records an address ending at end and what follows it: a prefix
// length, or a mask or wildcard ("255.255.255.0", "mask 255.255.0.0").
func (x *configIndex) addIPv4(a netip.Addr, end int) {
	t := x.lower
	u := x.ipv4[a]
	if u == nil {
		u = &ipUse{}
		x.ipv4[a] = u
	}
	if end+1 < len(t) && t[end] == '/' && isDigit(t[end+1]) {
		u.withLen = true
		return
	}
	k := end
	for k < len(t) && (t[k] == ' ' || t[k] == '\t') {
		k++
	}
	if rest, ok := strings.CutPrefix(t[k:], "mask "); ok {
		k = len(t) - len(strings.TrimLeft(rest, " "))
	}
	e := k
	for e < len(t) && (isDigit(t[e]) || t[e] == '.') {
		e++
	}
	if m, err := netip.ParseAddr(t[k:e]); err == nil && m.Is4() {
		u.follow = append(u.follow, m)
	}
}

// ifaceTypes are interface type names as configs spell them, lowered; a
// name's letters must be one of these or abbreviate one (two letters at
// least) to be taken for an interface.
var ifaceTypes = []string{
	"ethernet", "fastethernet", "gigabitethernet", "twogigabitethernet", "fivegigabitethernet",
	"tengigabitethernet", "twentyfivegige", "fortygigabitethernet", "hundredgige", "hundredgigabitethernet",
	"port-channel", "portchannel", "loopback", "vlan", "management", "mgmt", "tunnel", "vxlan", "nve",
	"bundle-ether", "serial", "ge", "xe", "et", "ae", "lo", "irb", "em", "fxp", "me", "vme", "reth", "mge",
}

func isIfaceType(letters string) bool {
	if len(letters) < 2 {
		return false
	}
	for _, t := range ifaceTypes {
		if strings.HasPrefix(t, letters) {
			return true
		}
	}
	return false
}

// sameType reports whether two lowered type names name the same interface
// type: equal, or one abbreviates the other (gi, gigabitethernet).
func sameType(a, b string) bool {
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// ifaceRef is an interface name or range: Letters, then Parent ("1/0/"),
// then First..Last, then an optional .Unit.
type ifaceRef struct {
	letters, parent, unit string
	first, last           int
}

// maxRange bounds the members a range is expanded to.
const maxRange = 4096

var (
	ifaceValue = regexp.MustCompile(`^([A-Za-z][A-Za-z-]*?)-?((?:\d+/)*)(\d+)(?:\.(\d+))?(?:\s*-\s*(\d+))?$`)
	junosRange = regexp.MustCompile(`^([A-Za-z]+)-((?:\d+/)*)\[(\d+)-(\d+)\]$`)
	rangeDash  = regexp.MustCompile(`^\s*-\s*(\d+)\b`)
	rangeComma = regexp.MustCompile(`^\s*,\s*(\d+)(?:\s*-\s*(\d+))?\b`)
	rangeJunos = regexp.MustCompile(`^/\[(\d+)-(\d+)\]`)
	rangeTo    = regexp.MustCompile(`^\s+to\s+`)
)

// parseIface parses an interface name or range value.
func parseIface(s string) (ifaceRef, bool) {
	if m := junosRange.FindStringSubmatch(s); m != nil {
		r := ifaceRef{letters: strings.ToLower(m[1]), parent: m[2], first: atoi(m[3]), last: atoi(m[4])}
		return r, isIfaceType(r.letters) && r.last >= r.first
	}
	m := ifaceValue.FindStringSubmatch(s)
	if m == nil {
		return ifaceRef{}, false
	}
	r := ifaceRef{letters: strings.ToLower(m[1]), parent: m[2], first: atoi(m[3]), unit: m[4]}
	r.last = r.first
	if m[5] != "" {
		r.last = atoi(m[5])
	}
	return r, isIfaceType(r.letters) && r.last >= r.first
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// ifaceAt reads an interface-like name at t[i:] (t lowered): letters and
// dashes, then numbers joined by slashes, then an optional .unit. ok is
// false when no number follows the letters; end is where reading stopped.
func ifaceAt(t string, i int) (r ifaceRef, end int, ok bool) {
	j := i
	for j < len(t) && ('a' <= t[j] && t[j] <= 'z' || t[j] == '-') {
		j++
	}
	if j == i || j == len(t) || !isDigit(t[j]) {
		return r, j, false
	}
	r.letters = strings.TrimRight(t[i:j], "-")
	k, last := j, j
	for {
		last, k = k, digitsAt(t, k)
		if k+1 < len(t) && t[k] == '/' && isDigit(t[k+1]) {
			k++
			continue
		}
		break
	}
	r.parent, r.first = t[j:last], atoi(t[last:k])
	r.last = r.first
	if k+1 < len(t) && t[k] == '.' && isDigit(t[k+1]) {
		e := digitsAt(t, k+1)
		r.unit, k = t[k+1:e], e
	}
	return r, k, true
}

// scanIfaces indexes every interface name in the config, with the members
// of the ranges written after one (Gi1/0/1 - 24, Ethernet1-46,48,
// ge-0/0/[0-46], ge-0/0/0 to ge-0/0/46). A name starts after anything but
// a letter or digit: an underscore may come before one
// (L2_SPINES_Port-Channel1).
func (x *configIndex) scanIfaces() {
	t := x.lower
	for i := 0; i < len(t); {
		if c := t[i]; c < 'a' || c > 'z' || i > 0 && isAlnum(t[i-1]) {
			i++
			continue
		}
		r, end, ok := ifaceAt(t, i)
		i = end
		if !ok || !isIfaceType(r.letters) {
			continue
		}
		x.addIface(r.letters, r.parent, r.first, r.first, r.unit)
		if r.unit != "" {
			continue
		}
		rest := t[end:]
		if m := rangeJunos.FindStringSubmatch(rest); m != nil {
			x.addIface(r.letters, r.parent+strconv.Itoa(r.first)+"/", atoi(m[1]), atoi(m[2]), "")
			continue
		}
		if m := rangeDash.FindStringSubmatchIndex(rest); m != nil {
			x.addIface(r.letters, r.parent, r.first, atoi(rest[m[2]:m[3]]), "")
			rest = rest[m[1]:]
		} else if m := rangeTo.FindStringIndex(rest); m != nil {
			if to, _, ok := ifaceAt(rest, m[1]); ok && sameType(r.letters, to.letters) && to.parent == r.parent {
				x.addIface(r.letters, r.parent, r.first, to.first, "")
			}
		}
		for {
			m := rangeComma.FindStringSubmatchIndex(rest)
			if m == nil || m[1] < len(rest) && (rest[m[1]] == '/' || rest[m[1]] == '.') {
				break
			}
			a, b := atoi(rest[m[2]:m[3]]), -1
			if m[4] >= 0 {
				b = atoi(rest[m[4]:m[5]])
			}
			x.addIface(r.letters, r.parent, a, max(a, b), "")
			rest = rest[m[1]:]
		}
	}
}

func (x *configIndex) addIface(letters, parent string, first, last int, unit string) {
	if first < 0 || last < first || last-first > maxRange {
		last = first
	}
	for n := first; n <= last; n++ {
		k := ifaceKey(parent, n, unit)
		if !slices.Contains(x.ifaces[k], letters) {
			x.ifaces[k] = append(x.ifaces[k], letters)
		}
	}
}

func ifaceKey(parent string, n int, unit string) string {
	k := parent + strconv.Itoa(n)
	if unit != "" {
		k += "." + unit
	}
	return k
}

// hasIface reports whether every member of r is in the config. On Junos a
// unit (ge-0/0/1.0) may also be written inside its interface.
func (x *configIndex) hasIface(r ifaceRef, p netcfg.Platform) bool {
	if r.last-r.first > maxRange {
		r.last = r.first
	}
	for n := r.first; n <= r.last; n++ {
		if !x.hasIfaceKey(ifaceKey(r.parent, n, r.unit), r.letters) &&
			!(p == netcfg.JuniperJunos && r.unit != "" && x.hasIfaceKey(ifaceKey(r.parent, n, ""), r.letters)) {
			return false
		}
	}
	return true
}

func (x *configIndex) hasIfaceKey(k, letters string) bool {
	for _, l := range x.ifaces[k] {
		if sameType(l, letters) {
			return true
		}
	}
	return false
}

// hasPrefix reports whether a prefix value is in the config with its
// length or mask (bare, when peer: a neighbour's address).
func (x *configIndex) hasPrefix(p netip.Prefix, peer bool) bool {
	a := p.Addr()
	if !a.Is4() {
		return x.hasToken(a.String()+"/", isV6Char) || peer && x.hasAddr(a)
	}
	u := x.ipv4[a]
	if u == nil {
		return false
	}
	if peer || u.withLen {
		return true
	}
	mask := netip.MustParseAddr(netmask4(p.Bits(), false))
	wild := netip.MustParseAddr(netmask4(p.Bits(), true))
	return slices.Contains(u.follow, mask) || slices.Contains(u.follow, wild)
}

func netmask4(bits int, wildcard bool) string {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	if wildcard {
		m = ^m
	}
	return fmt.Sprintf("%d.%d.%d.%d", byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
}

func (x *configIndex) hasAddr(a netip.Addr) bool {
	if a.Is4() {
		return x.ipv4[a] != nil
	}
	return x.hasToken(a.String(), isV6Char)
}

func isV6Char(c byte) bool { return isAlnum(c) || c == ':' || c == '.' }

// hasNumber reports whether n is a whole number token, a member of a VLAN
// range (n a VLAN id), or n in asdot (n a 4-byte ASN).
func (x *configIndex) hasNumber(n uint64) bool {
	if x.nums[n] {
		return true
	}
	if n >= 1 && n <= 4094 {
		for _, r := range x.vlanRanges {
			if r[0] <= n && n <= r[1] {
				return true
			}
		}
	}
	return n > 65535 && n <= 1<<32-1 && x.dotted[fmt.Sprintf("%d.%d", n>>16, n&0xffff)]
}

// hasMAC reports whether hw is in the config in any common notation.
func (x *configIndex) hasMAC(hw net.HardwareAddr) bool {
	h := fmt.Sprintf("%x", []byte(hw))
	forms := []string{
		hw.String(),
		strings.ReplaceAll(hw.String(), ":", "-"),
		h[0:4] + "." + h[4:8] + "." + h[8:12],
		h,
	}
	return slices.ContainsFunc(forms, func(f string) bool {
		return x.hasToken(f, func(c byte) bool { return isAlnum(c) || c == ':' })
	})
}

// isWordChar is what may not touch a free-text value that begins or ends
// with a letter or digit: dc1-leaf1 does not match in dc1-leaf1b. Dashes
// and underscores may: configs join names with them
// (P2P_LINK_TO_DC1-SPINE1_Ethernet1).
func isWordChar(c byte) bool { return isAlnum(c) }

// hasText reports whether s is in the config, ignoring ASCII case, not
// inside a longer word.
func (x *configIndex) hasText(s string) bool { return x.hasToken(lowerASCII(s), isWordChar) }

// hasToken reports whether the lowered s occurs in the lowered config with
// no word character (by word) touching an end of s that is itself one.
func (x *configIndex) hasToken(s string, word func(byte) bool) bool {
	if s == "" {
		return false
	}
	t := x.lower
	checkL, checkR := word(s[0]), word(s[len(s)-1])
	for off := 0; ; {
		i := strings.Index(t[off:], s)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(s)
		if (!checkL || i == 0 || !word(t[i-1])) && (!checkR || j == len(t) || !word(t[j])) {
			return true
		}
		off = i + 1
	}
}
