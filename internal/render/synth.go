package render

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Synthesize returns a variable set of the same shape as example with a
// different value wherever a different value of the same form exists. It is
// deterministic for a seed; different seeds give different sets.
//
//   - IPv4 addresses move to a documentation or benchmarking block
//     (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, then
//     100.64.0.0/10), one block per original /24, host byte kept, so
//     addresses that shared a subnet still do; IPv6 moves to 2001:db8::/32
//     per original /64, interface ID kept. Prefixes keep their length, and
//     a network (host bits zero) stays a network. Netmasks and wildcard
//     masks (255.255.255.0, 0.0.0.255) are kept. MAC addresses get random
//     locally administered ones in the same notation.
//   - Other strings change word by word: a word with digits gets new digits
//     of the same count (letters kept, so "TenGigabitEthernet1/1/1" stays an
//     interface name and "bld1-acc01" becomes e.g. "bld7-acc42"); a word of
//     letters only gets new letters in the same case pattern.
//   - Integers keep their number of digits and their range: VLAN-sized
//     values (1–4094) stay in 1–4094, private ASNs stay private. Floats
//     keep their number of decimals.
//   - Lists keep their length, maps their keys, types are kept.
//   - Equal values in example map to equal values (so eq between two
//     variables holds in both sets), and a made value never equals any
//     value of example.
//   - Bools, nil and empty strings are kept: a flag has no other value that
//     only changes lines holding a value (it adds or removes whole lines).
//     Strings without letters or digits, structs and other types are kept
//     as well.
func Synthesize(example map[string]any, seed int) map[string]any {
	if example == nil {
		return nil
	}
	s := &synth{
		rng:  rand.New(rand.NewPCG(uint64(seed), 0x6e65_7473_6d69_7468)),
		used: map[string]bool{},
		strs: map[string]string{},
		ints: map[int64]int64{},
		v4:   map[[3]byte][3]byte{},
		v6:   map[[8]byte][8]byte{},
	}
	s.v4start = s.rng.IntN(v4Pool)
	s.v6next = s.rng.Uint32()
	s.collect(reflect.ValueOf(example), 0)
	out, _ := s.value(reflect.ValueOf(example), 0).Interface().(map[string]any)
	return out
}

const (
	v4Pool     = 3 + 512 // TEST-NET-1..3 and 198.18.0.0/15, as /24 blocks
	v4Overflow = 16384   // 100.64.0.0/10 as /24 blocks
	maxNesting = 64
)

type synth struct {
	rng     *rand.Rand
	used    map[string]bool   // every example leaf and every made value, as text
	strs    map[string]string // example string -> made string
	ints    map[int64]int64   // example integer -> made integer
	v4      map[[3]byte][3]byte
	v4start int
	v4n     int
	v6      map[[8]byte][8]byte
	v6next  uint32
}

// collect records example's leaves so no made value equals one of them.
func (s *synth) collect(v reflect.Value, depth int) {
	if !v.IsValid() || depth > maxNesting {
		return
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			s.collect(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			s.collect(v.Index(i), depth+1)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			s.collect(it.Value(), depth+1)
		}
	case reflect.String:
		s.used[v.String()] = true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.used[strconv.FormatInt(v.Int(), 10)] = true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s.used[strconv.FormatUint(v.Uint(), 10)] = true
	case reflect.Float32, reflect.Float64:
		s.used[strconv.FormatFloat(v.Float(), 'f', -1, 64)] = true
	}
}

// value returns a made value of v's type.
func (s *synth) value(v reflect.Value, depth int) reflect.Value {
	if !v.IsValid() || depth > maxNesting {
		return v
	}
	t := v.Type()
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		return s.value(v.Elem(), depth+1)
	case reflect.Map:
		if v.IsNil() || t.Key().Kind() != reflect.String {
			return v
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		out := reflect.MakeMapWithSize(t, len(keys))
		for _, k := range keys {
			out.SetMapIndex(k, s.assignable(s.value(v.MapIndex(k), depth+1), t.Elem()))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(s.assignable(s.value(v.Index(i), depth+1), t.Elem()))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(s.assignable(s.value(v.Index(i), depth+1), t.Elem()))
		}
		return out
	case reflect.String:
		return reflect.ValueOf(s.str(v.String())).Convert(t)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		if bits == 64 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		return reflect.ValueOf(s.integer(v.Int(), lo, hi)).Convert(t)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > math.MaxInt64 {
			return v
		}
		hi := int64(math.MaxInt64)
		if t.Bits() < 64 {
			hi = int64(1)<<t.Bits() - 1
		}
		return reflect.ValueOf(s.integer(int64(v.Uint()), 0, hi)).Convert(t)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return v
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return reflect.ValueOf(float64(s.integer(int64(f), -1<<53, 1<<53))).Convert(t)
		}
		return reflect.ValueOf(s.fraction(f)).Convert(t)
	}
	return v // bools, structs, pointers, …: kept
}

// assignable converts a made value for storing in a slot of type t.
func (s *synth) assignable(v reflect.Value, t reflect.Type) reflect.Value {
	if !v.IsValid() {
		return reflect.Zero(t)
	}
	if v.Type().AssignableTo(t) {
		return v
	}
	return v.Convert(t)
}

func (s *synth) str(in string) string {
	if out, ok := s.strs[in]; ok {
		return out
	}
	out := in
	for range 32 {
		out = s.words(in)
		if out == in || !s.used[out] {
			break
		}
	}
	s.strs[in] = out
	s.used[out] = true
	return out
}

// words makes each white-space separated word of in anew.
func (s *synth) words(in string) string {
	var b strings.Builder
	start := -1
	for i := 0; i <= len(in); i++ {
		space := i == len(in) || in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r'
		if !space {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			b.WriteString(s.word(in[start:i]))
			start = -1
		}
		if i < len(in) {
			b.WriteByte(in[i])
		}
	}
	return b.String()
}

func (s *synth) word(w string) string {
	if p, err := netip.ParsePrefix(w); err == nil {
		a := s.addr(p.Addr())
		np := netip.PrefixFrom(a, p.Bits())
		if p.Masked() == p && p.Bits() < p.Addr().BitLen() {
			np = np.Masked()
		}
		return np.String()
	}
	if a, err := netip.ParseAddr(w); err == nil {
		if a.Is4() && isMask4(a) {
			return w
		}
		return s.addr(a).String()
	}
	if strings.ContainsAny(w, ":-.") {
		if mac, err := net.ParseMAC(w); err == nil && len(mac) == 6 {
			return s.mac(w)
		}
	}
	for range 32 {
		out := s.chars(w)
		if out != w {
			return out
		}
	}
	return w
}

// chars replaces digits (or, in a word without digits, ASCII letters) with
// random ones of the same kind.
func (s *synth) chars(w string) string {
	digits := strings.ContainsAny(w, "0123456789")
	b := []byte(w)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case digits && c >= '0' && c <= '9':
			j := i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			for k := i; k < j; k++ {
				switch {
				case k == i && j-i > 1 && c == '0':
					// keep zero padding
				case k == i && j-i > 1:
					b[k] = byte('1' + s.rng.IntN(9))
				default:
					b[k] = byte('0' + s.rng.IntN(10))
				}
			}
			i = j - 1
		case !digits && c >= 'a' && c <= 'z':
			b[i] = byte('a' + s.rng.IntN(26))
		case !digits && c >= 'A' && c <= 'Z':
			b[i] = byte('A' + s.rng.IntN(26))
		}
	}
	return string(b)
}

func isMask4(a netip.Addr) bool {
	b := a.As4()
	u := binary.BigEndian.Uint32(b[:])
	inv := ^u
	return inv&(inv+1) == 0 || u&(u+1) == 0
}

func (s *synth) addr(a netip.Addr) netip.Addr {
	if a.Is4() || a.Is4In6() {
		b := a.As4()
		key := [3]byte{b[0], b[1], b[2]}
		blk, ok := s.v4[key]
		for !ok {
			blk = v4Block(s.v4start, s.v4n)
			s.v4n++
			ok = blk != key
		}
		s.v4[key] = blk
		out := netip.AddrFrom4([4]byte{blk[0], blk[1], blk[2], b[3]})
		if a.Is4In6() {
			return netip.AddrFrom16(out.As16())
		}
		return out
	}
	b := a.As16()
	if a.IsLinkLocalUnicast() {
		// Keep fe80::/64, make a new interface ID.
		binary.BigEndian.PutUint64(b[8:], s.rng.Uint64())
		return netip.AddrFrom16(b).WithZone(a.Zone())
	}
	var key [8]byte
	copy(key[:], b[:8])
	blk, ok := s.v6[key]
	for !ok {
		blk = [8]byte{0x20, 0x01, 0x0d, 0xb8}
		binary.BigEndian.PutUint32(blk[4:], s.v6next)
		s.v6next++
		ok = blk != key
	}
	s.v6[key] = blk
	copy(b[:8], blk[:])
	return netip.AddrFrom16(b).WithZone(a.Zone())
}

// v4Block returns the n-th /24 block handed out, starting at start.
func v4Block(start, n int) [3]byte {
	i := (start + n) % v4Pool
	if n >= v4Pool {
		i = v4Pool + (n-v4Pool)%v4Overflow
	}
	switch {
	case i == 0:
		return [3]byte{192, 0, 2}
	case i == 1:
		return [3]byte{198, 51, 100}
	case i == 2:
		return [3]byte{203, 0, 113}
	case i < v4Pool:
		j := i - 3
		return [3]byte{198, byte(18 + j/256), byte(j % 256)}
	}
	j := i - v4Pool
	return [3]byte{100, byte(64 + j/256), byte(j % 256)}
}

// mac returns a random locally administered unicast MAC written like w.
func (s *synth) mac(w string) string {
	var m [6]byte
	r := s.rng.Uint64()
	for i := range m {
		m[i] = byte(r >> (8 * i))
	}
	m[0] = m[0]&0xfe | 0x02
	hex := fmt.Sprintf("%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	if strings.ContainsAny(w, "ABCDEF") {
		hex = strings.ToUpper(hex)
	}
	switch {
	case strings.Contains(w, "."):
		return hex[0:4] + "." + hex[4:8] + "." + hex[8:12]
	case strings.Contains(w, "-"):
		return strings.Join([]string{hex[0:2], hex[2:4], hex[4:6], hex[6:8], hex[8:10], hex[10:12]}, "-")
	}
	return strings.Join([]string{hex[0:2], hex[2:4], hex[4:6], hex[6:8], hex[8:10], hex[10:12]}, ":")
}

// integer returns a made integer for v within [lo, hi].
func (s *synth) integer(v, lo, hi int64) int64 {
	if out, ok := s.ints[v]; ok {
		return out
	}
	if v == math.MinInt64 {
		return v + 1
	}
	neg := v < 0
	abs := v
	if neg {
		abs = -v
	}
	digits := len(strconv.FormatInt(abs, 10))
	rlo, rhi := int64(1), int64(9)
	if digits > 1 && digits < 19 {
		rlo = int64(math.Pow10(digits - 1))
		rhi = rlo*10 - 1
	} else if digits >= 19 {
		rlo, rhi = int64(math.Pow10(18)), math.MaxInt64
	}
	switch {
	case abs >= 1 && abs <= 4094:
		rhi = min(rhi, 4094)
	case abs >= 64512 && abs <= 65534:
		rlo, rhi = 64512, 65534
	case abs >= 4200000000 && abs <= 4294967294:
		rlo, rhi = 4200000000, 4294967294
	}
	if neg {
		rlo, rhi = -rhi, -rlo
	}
	rlo, rhi = max(rlo, lo), min(rhi, hi)
	out := v
	if rlo <= rhi {
		for range 64 {
			n := rlo + s.rng.Int64N(rhi-rlo+1)
			if n != v && !s.used[strconv.FormatInt(n, 10)] {
				out = n
				break
			}
		}
	}
	if out == v {
		switch {
		case v < hi:
			out = v + 1
		case v > lo:
			out = v - 1
		}
	}
	s.ints[v] = out
	s.used[strconv.FormatInt(out, 10)] = true
	return out
}

// fraction returns a made float with the same number of decimals as f.
func (s *synth) fraction(f float64) float64 {
	text := strconv.FormatFloat(f, 'f', -1, 64)
	_, dec, _ := strings.Cut(text, ".")
	whole := int64(math.Trunc(f))
	nw := whole
	if math.Abs(f) < 1<<53 {
		nw = s.integer(whole, -1<<53, 1<<53)
		if whole == 0 {
			nw = 0
		}
	}
	d := []byte(dec)
	for i := range d {
		d[i] = byte('0' + s.rng.IntN(10))
	}
	if len(d) > 0 {
		d[len(d)-1] = byte('1' + s.rng.IntN(9))
	}
	sign := ""
	if f < 0 && nw == 0 {
		sign = "-"
	}
	out, err := strconv.ParseFloat(fmt.Sprintf("%s%d.%s", sign, nw, d), 64)
	if err != nil || out == f {
		return f + 1
	}
	return out
}
