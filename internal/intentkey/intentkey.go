// Package intentkey computes the template-cache key of an intent (docs/design.md
// §3): the hex SHA-256 of a canonical JSON document holding what makes two
// devices share one template, and nothing that is per device.
//
// The key covers the job kind, role, platform, OS version, the requirements
// text after NormalizeRequirements, the group constants (keys sorted, numbers
// in one canonical form), the names of the declared variables (never their
// values), the model and the prompt version. KeyInput has no field for a
// hostname, an address or any other per-device value, so none can enter the
// key by mistake.
//
// Normalization is deliberately conservative. Two texts get the same key only
// when they differ in case, whitespace, punctuation that carries no meaning,
// or the order of an unordered list of values (see NormalizeRequirements).
// Numbers, addresses and interface names are never dropped or fuzzed: a
// false hit would hand a device a wrong config, a false miss only costs one
// model call.
package intentkey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Version identifies the key scheme (the canonical document and the
// normalization rules). It is hashed into every key, so changing either rule
// must bump it; old cache entries then miss by themselves.
const Version = "ik1"

// maxDepth bounds the nesting of constants that Key walks. Deeper values (or
// cycles) are hashed by identity, which can only cause a miss, never a hit.
const maxDepth = 64

// KeyInput is everything a template depends on.
type KeyInput struct {
	Kind          string // job kind, e.g. "generate"
	Role          string // case-folded and trimmed
	Platform      string // case-folded and trimmed
	OSVersion     string // trimmed, otherwise exact
	Requirements  string // raw text; Key normalizes it
	Constants     map[string]any
	VarNames      []string // names of the declared per-device variables (never values); sorted, deduplicated
	Model         string   // exact
	PromptVersion string   // exact
}

// Key returns the hex SHA-256 of the canonical JSON form of in.
func Key(in KeyInput) string {
	sum := sha256.Sum256(Canonical(in))
	return hex.EncodeToString(sum[:])
}

// Canonical returns the canonical JSON document that Key hashes. It is
// exported for debugging and tests: two inputs have the same key exactly when
// their canonical documents are equal.
func Canonical(in KeyInput) []byte {
	names := slices.Clone(in.VarNames)
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	slices.Sort(names)
	names = slices.Compact(names)
	vars := make([]any, len(names))
	for i, n := range names {
		vars[i] = n
	}
	doc := map[string]any{
		"key_version":    Version,
		"kind":           strings.ToLower(strings.TrimSpace(in.Kind)),
		"role":           strings.ToLower(strings.TrimSpace(in.Role)),
		"platform":       strings.ToLower(strings.TrimSpace(in.Platform)),
		"os_version":     strings.TrimSpace(in.OSVersion),
		"requirements":   NormalizeRequirements(in.Requirements),
		"constants":      map[string]any(nil),
		"var_names":      vars,
		"model":          in.Model,
		"prompt_version": in.PromptVersion,
	}
	if len(in.Constants) > 0 {
		doc["constants"] = in.Constants
	}
	var b strings.Builder
	writeCanonical(&b, reflect.ValueOf(doc), 0)
	return []byte(b.String())
}

// writeCanonical writes v as JSON with object keys sorted and numbers in one
// form: integers (of any Go type, or floats with an integral value) in
// decimal, other floats in the shortest form that round-trips.
func writeCanonical(b *strings.Builder, v reflect.Value, depth int) {
	if !v.IsValid() {
		b.WriteString("null")
		return
	}
	if depth > maxDepth {
		writeIdentity(b, v)
		return
	}
	if v.Type() == reflect.TypeFor[json.Number]() {
		writeNumber(b, v.String())
		return
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		writeCanonical(b, v.Elem(), depth+1)
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.String:
		writeString(b, v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		writeFloat(b, v.Float())
	case reflect.Complex64, reflect.Complex128:
		writeString(b, strconv.FormatComplex(v.Complex(), 'g', -1, 128))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("null")
			return
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, v.Index(i), depth+1)
		}
		b.WriteByte(']')
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		type entry struct {
			key string
			typ string
			val reflect.Value
		}
		entries := make([]entry, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			for k.Kind() == reflect.Interface && !k.IsNil() {
				k = k.Elem()
			}
			e := entry{val: it.Value()}
			if k.Kind() == reflect.String {
				e.key = k.String()
			} else {
				// Non-string keys (YAML allows them): keep their type in
				// the order so that 1 and "1" stay distinct entries.
				e.key = fmt.Sprint(k.Interface())
				e.typ = k.Type().String()
			}
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(x, y entry) int {
			if c := strings.Compare(x.key, y.key); c != 0 {
				return c
			}
			return strings.Compare(x.typ, y.typ)
		})
		b.WriteByte('{')
		for i, e := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			key := e.key
			if e.typ != "" {
				key = e.typ + ":" + e.key
			}
			writeString(b, key)
			b.WriteByte(':')
			writeCanonical(b, e.val, depth+1)
		}
		b.WriteByte('}')
	case reflect.Struct:
		// Structs go through their JSON form, then canonicalized.
		raw, err := json.Marshal(v.Interface())
		if err != nil {
			writeIdentity(b, v)
			return
		}
		var x any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&x); err != nil {
			writeIdentity(b, v)
			return
		}
		writeCanonical(b, reflect.ValueOf(x), depth+1)
	default:
		// Functions and channels: nothing sensible belongs in group
		// constants. Hash by identity so they can only miss.
		writeIdentity(b, v)
	}
}

// writeIdentity writes a value unique to v's identity (its address) or, when
// v has none, unique to this call: such keys never hit, which is the safe
// failure for inputs that have no canonical form.
func writeIdentity(b *strings.Builder, v reflect.Value) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	s := v.Type().String() + "@"
	switch v.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		s += fmt.Sprintf("%#x", v.Pointer())
	default:
		s += rand.Text()
	}
	b.WriteString(`{"$unhashable":`)
	writeString(b, s)
	b.WriteByte('}')
}

// writeString writes s as a JSON string, as encoding/json would without
// HTML escaping.
func writeString(b *strings.Builder, s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\ufffd")
	}
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

func writeFloat(b *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		// Not representable in JSON; keep it distinct from any string.
		b.WriteString(`{"$float":`)
		writeString(b, strconv.FormatFloat(f, 'g', -1, 64))
		b.WriteByte('}')
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		b.WriteString(strconv.FormatInt(int64(f), 10))
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// writeNumber writes a json.Number exactly: integers of any size in decimal,
// decimals as the float they denote when that float is exact, otherwise as
// an exact fraction.
func writeNumber(b *strings.Builder, s string) {
	s = strings.TrimSpace(s)
	if i, ok := new(big.Int).SetString(s, 10); ok {
		b.WriteString(i.String())
		return
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		writeString(b, s)
		return
	}
	if r.IsInt() {
		b.WriteString(r.Num().String())
		return
	}
	if f, exact := r.Float64(); exact {
		writeFloat(b, f)
		return
	}
	b.WriteString(`{"$rat":`)
	writeString(b, r.RatString())
	b.WriteByte('}')
}
