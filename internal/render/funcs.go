package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"text/template"
)

// FuncDoc describes a function a template may call.
type FuncDoc struct {
	Name  string // as written in a template
	Usage string // call shape, e.g. "join LIST SEP"
	Doc   string // one line
}

// maxWidth bounds printf widths and precisions.
const maxWidth = 256

// Funcs returns every function a template may call, text/template builtins
// included, in a stable order, so that a prompt can name them. Anything else
// (call, html, js, urlquery, template, define, block) is refused by Parse.
func Funcs() []FuncDoc {
	return []FuncDoc{
		{"and", "and X Y…", "first empty argument, or the last (builtin)"},
		{"or", "or X Y…", "first non-empty argument, or the last (builtin)"},
		{"not", "not X", "boolean negation (builtin)"},
		{"eq", "eq X Y…", "X equals any of Y… (builtin)"},
		{"ne", "ne X Y", "X differs from Y (builtin)"},
		{"lt", "lt X Y", "X < Y (builtin)"},
		{"le", "le X Y", "X <= Y (builtin)"},
		{"gt", "gt X Y", "X > Y (builtin)"},
		{"ge", "ge X Y", "X >= Y (builtin)"},
		{"len", "len X", "length of a list, map or string (builtin)"},
		{"index", "index X KEY…", "element of a list or map (builtin)"},
		{"slice", "slice X I J", "sub-list or substring X[I:J] (builtin)"},
		{"print", "print X…", "fmt.Sprint"},
		{"println", "println X…", "fmt.Sprintln"},
		{"printf", "printf FORMAT X…", fmt.Sprintf("fmt.Sprintf; widths and precisions at most %d, no '*'", maxWidth)},
		{"join", "join LIST SEP", "list elements joined with SEP"},
		{"upper", "upper S", "upper case"},
		{"lower", "lower S", "lower case"},
		{"trim", "trim S", "leading and trailing white space removed"},
		{"replace", "replace OLD NEW S", "every OLD in S replaced by NEW"},
		{"add", "add X Y", "integer sum, e.g. to number entries of a list; a line whose only per-device part is computed from a variable fails Verify"},
		{"addr", "addr CIDR", `address of "10.1.1.5/24" is "10.1.1.5" (an address is returned as is)`},
		{"prefixlen", "prefixlen CIDR", `prefix length of "10.1.1.5/24" is 24`},
		{"netmask", "netmask CIDR", `IPv4 mask of "10.1.1.5/24" is "255.255.255.0"`},
		{"wildcard", "wildcard CIDR", `IPv4 wildcard of "10.1.1.5/24" is "0.0.0.255"`},
		{"network", "network CIDR", `network of "10.1.1.5/24" is "10.1.1.0/24"`},
	}
}

// isAllowedFunc reports whether a template may name fn.
func isAllowedFunc(fn string) bool {
	for _, f := range Funcs() {
		if f.Name == fn {
			return true
		}
	}
	return false
}

func allowedFuncNames() string {
	fs := Funcs()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// funcMap binds the non-builtin functions to a render's state. The refused
// builtins are overridden too, in case a check is ever missed.
func funcMap(s *state) template.FuncMap {
	refused := func(name string) func(...any) (string, error) {
		return func(...any) (string, error) { return "", fmt.Errorf("function %q is not allowed", name) }
	}
	return template.FuncMap{
		"call":     refused("call"),
		"html":     refused("html"),
		"js":       refused("js"),
		"urlquery": refused("urlquery"),
		"print": func(args ...any) (string, error) {
			return s.built(fmt.Sprint(args...), len(args))
		},
		"println": func(args ...any) (string, error) {
			return s.built(fmt.Sprintln(args...), len(args))
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := checkFormat(format); err != nil {
				return "", err
			}
			return s.built(fmt.Sprintf(format, args...), len(args))
		},
		"join": s.join,
		"upper": func(v any) (string, error) {
			return s.built(strings.ToUpper(toString(v)), 1)
		},
		"lower": func(v any) (string, error) {
			return s.built(strings.ToLower(toString(v)), 1)
		},
		"trim": func(v any) (string, error) {
			return s.built(strings.TrimSpace(toString(v)), 1)
		},
		"replace": s.replace,
		"add": func(x, y any) (int64, error) {
			if err := s.tick(); err != nil {
				return 0, err
			}
			a, err := toInt(x)
			if err != nil {
				return 0, err
			}
			b, err := toInt(y)
			if err != nil {
				return 0, err
			}
			sum := a + b
			if (b > 0 && sum < a) || (b < 0 && sum > a) {
				return 0, fmt.Errorf("add %d %d overflows", a, b)
			}
			return sum, nil
		},
		"addr": func(v any) (string, error) {
			if a, err := netip.ParseAddr(toString(v)); err == nil {
				return a.String(), nil
			}
			p, err := parsePrefix(v)
			if err != nil {
				return "", err
			}
			return p.Addr().String(), nil
		},
		"prefixlen": func(v any) (int, error) {
			p, err := parsePrefix(v)
			if err != nil {
				return 0, err
			}
			return p.Bits(), nil
		},
		"netmask": func(v any) (string, error) {
			p, err := parsePrefix4(v)
			if err != nil {
				return "", err
			}
			return mask4(p.Bits(), false), nil
		},
		"wildcard": func(v any) (string, error) {
			p, err := parsePrefix4(v)
			if err != nil {
				return "", err
			}
			return mask4(p.Bits(), true), nil
		},
		"network": func(v any) (string, error) {
			p, err := parsePrefix(v)
			if err != nil {
				return "", err
			}
			return p.Masked().String(), nil
		},
	}
}

// built charges a function's result (and the n inputs it went through) to
// the render's budget.
func (s *state) built(out string, n int) (string, error) {
	if err := s.charge(len(out) + n); err != nil {
		return "", err
	}
	return out, nil
}

func (s *state) join(list any, sep string) (string, error) {
	if err := s.tick(); err != nil {
		return "", err
	}
	if list == nil {
		return "", nil
	}
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	n := v.Len()
	if n == 0 {
		return "", nil
	}
	// Charge the separators before building anything: a long separator
	// times a long list is the one way join could blow up.
	if err := s.charge(n + (n-1)*len(sep)); err != nil {
		return "", err
	}
	parts := make([]string, n)
	size := 0
	for i := range n {
		parts[i] = toString(v.Index(i).Interface())
		size += len(parts[i])
	}
	if err := s.charge(size); err != nil {
		return "", err
	}
	return strings.Join(parts, sep), nil
}

func (s *state) replace(old, repl string, v any) (string, error) {
	if err := s.tick(); err != nil {
		return "", err
	}
	str := toString(v)
	count := strings.Count(str, old)
	if grow := len(repl) - len(old); grow > 0 && count > 0 {
		if count > (s.lim.MaxFuncBytes-s.funcBytes)/grow {
			return "", s.fail(fmt.Errorf("%w: functions built more than %d bytes", ErrOutputLimit, s.lim.MaxFuncBytes))
		}
	}
	return s.built(strings.ReplaceAll(str, old, repl), 1)
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func toInt(v any) (int64, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rv.Uint() > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", rv.Uint())
		}
		return int64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", f)
		}
		return int64(f), nil
	case reflect.String:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
		return strconv.ParseInt(strings.TrimSpace(rv.String()), 10, 64)
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

func parsePrefix(v any) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(toString(v)))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address/length: %w", toString(v), err)
	}
	return p, nil
}

func parsePrefix4(v any) (netip.Prefix, error) {
	p, err := parsePrefix(v)
	if err != nil {
		return p, err
	}
	if !p.Addr().Is4() {
		return p, fmt.Errorf("%q is not an IPv4 prefix", toString(v))
	}
	return p, nil
}

// mask4 returns the dotted IPv4 mask of a prefix length, or its inverse.
func mask4(bits int, inverse bool) string {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	if inverse {
		m = ^m
	}
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// checkFormat refuses printf formats whose width or precision could build a
// huge string: any '*' and any number above maxWidth.
func checkFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
	spec:
		for i++; i < len(f); i++ {
			c := f[i]
			switch {
			case c == '[':
				// An argument index: skip it, its size is harmless.
				j := strings.IndexByte(f[i:], ']')
				if j < 0 {
					return nil // fmt reports the bad format itself
				}
				i += j
				continue
			case c == '*':
				return errors.New("printf: '*' width or precision is not allowed")
			case c >= '0' && c <= '9':
				j := i
				for j < len(f) && f[j] >= '0' && f[j] <= '9' {
					j++
				}
				if n, err := strconv.Atoi(f[i:j]); err != nil || n > maxWidth {
					return fmt.Errorf("printf: width or precision %s is more than %d", f[i:j], maxWidth)
				}
				i = j - 1
				continue
			case strings.IndexByte("+-# .", c) >= 0:
				continue
			}
			break spec // the verb
		}
	}
	return nil
}
