package sim

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// gen writes one answer: a finished config (template == false) or a Go
// text/template (template == true). The platform writers are written once
// against gen and never know which of the two they produce: a value that is
// known now (a device's own var in config mode, a group constant in either
// mode) is written as text, a value that is only known when a device is
// rendered (a declared var in template mode) is written as a template action.
// Rendering the template with a device's vars therefore walks exactly the
// same branches as writing that device's config directly, which is what
// TestTemplateMatchesConfig checks.
//
// Templates use built-in actions only (range, if, else, index, eq, and,
// printf), so any renderer with any allow-listed func map can run them with
// missingkey=error. Every line-level action is written on a line of its own
// as {{- action}}: the leading trim eats the newline before it, so the
// action's line vanishes from the output and the text reads like the config.
type gen struct {
	template bool
	b        strings.Builder
	depth    int            // how many ranges the writer is inside
	vars     map[string]any // DeriveVars of the spec's vars: values, or examples in template mode
	consts   map[string]any // DeriveVars of the spec's constants
}

// val is a value the writer can print, test or range over.
type val struct {
	// expr is a template pipeline that yields the value at render time; ""
	// when the value is known now.
	expr string
	// x is the value when known now, or else the example value, which
	// decides the shape of what is written (list or scalar, map elements).
	x any
}

// dynamic reports whether v is only known at render time.
func (v val) dynamic() bool { return v.expr != "" }

// present reports whether v is given at all (for a dynamic value: whether the
// example is).
func (v val) present() bool { return v.x != nil }

// or returns v when it is given, else the value x.
func (v val) or(x any) val {
	if v.present() {
		return v
	}
	return val{x: x}
}

// get returns the first of names found in the vars, then in the constants.
// A var is dynamic in template mode.
func (g *gen) get(names ...string) val {
	for _, n := range names {
		if x, ok := g.vars[n]; ok && x != nil {
			if g.template {
				return val{expr: "$." + n, x: x}
			}
			return val{x: x}
		}
	}
	for _, n := range names {
		if x, ok := g.consts[n]; ok && x != nil {
			return val{x: x}
		}
	}
	return val{}
}

// lit returns literal text for s, quoted as a template string when it could
// be read as an action or lose trailing space to a trim marker.
func (g *gen) lit(s string) string {
	if !g.template {
		return s
	}
	if strings.Contains(s, "{{") || strings.TrimRight(s, " \t\r\n") != s {
		return "{{" + strconv.Quote(s) + "}}"
	}
	return s
}

// pipe returns v's pipeline as written at the current depth: outside any
// range, "$.name" reads better as ".name".
func (g *gen) pipe(v val) string {
	if g.depth == 0 {
		return strings.ReplaceAll(v.expr, "$.", ".")
	}
	return v.expr
}

// arg returns v's pipeline as an argument to a function.
func (g *gen) arg(v val) string {
	p := g.pipe(v)
	if strings.ContainsAny(p, " (") {
		return "(" + p + ")"
	}
	return p
}

// s returns the text that prints v. A missing value prints as text/template
// prints it, "<no value>"; writers guard the lines where that can happen.
func (g *gen) s(v val) string {
	if v.dynamic() {
		return "{{" + g.pipe(v) + "}}"
	}
	if v.x == nil {
		return g.lit("<no value>")
	}
	return g.lit(fmt.Sprint(v.x))
}

// printf returns the text that prints v through format, as the template
// builtin printf would.
func (g *gen) printf(format string, v val) string {
	if v.dynamic() {
		return "{{printf " + strconv.Quote(format) + " " + g.arg(v) + "}}"
	}
	return g.lit(fmt.Sprintf(format, v.x))
}

// quote returns the text that prints v as a Go-quoted string, as Junos
// writes free text.
func (g *gen) quote(v val) string { return g.printf("%q", v) }

// line writes one line of output.
func (g *gen) line(parts ...string) {
	for _, p := range parts {
		g.b.WriteString(p)
	}
	g.b.WriteByte('\n')
}

// block writes a stanza: head, then each line of body one indent (in)
// deeper, then "!".
func (g *gen) block(head, in string, body ...string) {
	g.line(head)
	for _, l := range body {
		g.line(in, l)
	}
	g.line("!")
}

// lineIf writes the line when cond holds: a choice sim makes, not the
// template (see when).
func (g *gen) lineIf(cond bool, parts ...string) {
	if cond {
		g.line(parts...)
	}
}

// action writes a line-level template action.
func (g *gen) action(a string) { g.b.WriteString("{{- " + a + "}}\n") }

// field returns item[key]: for a dynamic item, `index item "key"`, which is
// nil rather than an error when the key is missing.
func (g *gen) field(item val, key string) val {
	var x any
	if m, ok := item.x.(map[string]any); ok {
		x = m[key]
	}
	if item.dynamic() {
		return val{expr: "index " + g.arg(item) + " " + strconv.Quote(key), x: x}
	}
	return val{x: x}
}

// each writes fn once per element of list, with item bound to the element.
// A scalar list value is treated as a one-element list. name is the template
// variable that holds the element ("$u").
func (g *gen) each(list val, name string, fn func(item val)) {
	if !list.dynamic() {
		for _, x := range elems(list.x) {
			fn(val{x: x})
		}
		return
	}
	xs, isList := list.x.([]any)
	if !isList {
		fn(list)
		return
	}
	g.action("range " + name + " := " + g.pipe(list))
	g.depth++
	fn(val{expr: name, x: first(xs)})
	g.depth--
	g.action("end")
}

// when writes fn's lines when cond holds. It takes several conditions, all
// of which must hold; static ones are decided now.
func (g *gen) when(fn func(), conds ...val) { g.whenElse(fn, nil, conds...) }

// whenElse writes then's lines when every cond holds, otherwise els's.
func (g *gen) whenElse(then, els func(), conds ...val) {
	var dyn []val
	for _, c := range conds {
		if c.dynamic() {
			dyn = append(dyn, c)
			continue
		}
		if !truth(c.x) {
			if els != nil {
				els()
			}
			return
		}
	}
	if len(dyn) == 0 {
		then()
		return
	}
	cond := g.pipe(dyn[0])
	if len(dyn) > 1 {
		args := make([]string, len(dyn))
		for i, c := range dyn {
			args[i] = g.arg(c)
		}
		cond = "and " + strings.Join(args, " ")
	}
	g.action("if " + cond)
	then()
	if els != nil {
		g.action("else")
		els()
	}
	g.action("end")
}

// ifText returns text when cond holds, inline.
func (g *gen) ifText(cond val, text string) string {
	if !cond.dynamic() {
		if truth(cond.x) {
			return text
		}
		return ""
	}
	return "{{if " + g.pipe(cond) + "}}" + text + "{{end}}"
}

// ifElseText returns then when cond holds, otherwise els, inline.
func (g *gen) ifElseText(cond val, then, els string) string {
	if !cond.dynamic() {
		if truth(cond.x) {
			return then
		}
		return els
	}
	return "{{if " + g.pipe(cond) + "}}" + then + "{{else}}" + els + "{{end}}"
}

// join returns fn's text for every element of list, separated by sep,
// inline. A scalar list value is treated as a one-element list.
func (g *gen) join(list val, sep, name string, fn func(item val) string) string {
	if !list.dynamic() {
		var parts []string
		for _, x := range elems(list.x) {
			parts = append(parts, fn(val{x: x}))
		}
		return strings.Join(parts, sep)
	}
	xs, isList := list.x.([]any)
	if !isList {
		return fn(list)
	}
	// sep is followed by {{end}}, never by a trim marker: only "{{" needs
	// quoting.
	if strings.Contains(sep, "{{") {
		sep = "{{" + strconv.Quote(sep) + "}}"
	}
	head := "{{range $i, " + name + " := " + g.pipe(list) + "}}{{if $i}}" + sep + "{{end}}"
	g.depth++
	body := fn(val{expr: name, x: first(xs)})
	g.depth--
	return head + body + "{{end}}"
}

// not returns a condition that holds when v does not.
func (g *gen) not(v val) val {
	if !v.dynamic() {
		return val{x: !truth(v.x)}
	}
	return val{expr: "not " + g.arg(v), x: true}
}

// eq returns a condition that holds when a and b print the same.
func (g *gen) eq(a, b val) val {
	if !a.dynamic() && !b.dynamic() {
		return val{x: fmt.Sprint(a.x) == fmt.Sprint(b.x)}
	}
	return val{expr: `eq (printf "%v" ` + g.arg(a) + `) (printf "%v" ` + g.arg(b) + ")", x: true}
}

// nameIs returns a condition that holds when v, printed, is one of names.
func (g *gen) nameIs(v val, names ...string) val {
	if !v.dynamic() {
		s := fmt.Sprintf("%v", v.x)
		for _, n := range names {
			if s == n {
				return val{x: true}
			}
		}
		return val{x: false}
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return val{expr: `eq (printf "%v" ` + g.arg(v) + ") " + strings.Join(q, " "), x: true}
}

// elems returns x as a list: its elements, or x alone, or nothing for nil.
func elems(x any) []any {
	switch x := x.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{x}
}

func first(xs []any) any {
	if len(xs) == 0 {
		return nil
	}
	return xs[0]
}

// truth is text/template's notion of a true value, so that decisions taken
// now and at render time agree.
func truth(x any) bool {
	if x == nil {
		return false
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0
	case reflect.Bool:
		return v.Bool()
	case reflect.Complex64, reflect.Complex128:
		return v.Complex() != 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	}
	return true
}
