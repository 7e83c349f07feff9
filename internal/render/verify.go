package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ErrNotVerified is returned (wrapped) by Verify when the template is
// refused; the Report says why.
var ErrNotVerified = errors.New("template not verified")

// Severity grades a finding.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"   // the template is refused
	SeverityWarning Severity = "warning" // reported only
)

// Finding is one problem Verify saw.
type Finding struct {
	Severity Severity
	Render   string // "a" or "b": the render the line is in; "" when none
	Line     int    // 1-based line in that render; 0 when none
	Text     string // the line, cut to 200 bytes
	Var      string // the variable involved, as a path like uplinks[0].peer
	Msg      string
	// Value is the value of Var that a render shows where it should not,
	// when that is the problem.
	Value string
}

// Reason is the finding in a few words, for a person reading why a template
// was refused: `hard-codes "10.0.0.1" (value of uplinks.0.ip)`.
func (f Finding) Reason() string {
	if f.Value != "" && f.Var != "" {
		return fmt.Sprintf("hard-codes %q (value of %s)", f.Value, dottedPath(f.Var))
	}
	if f.Line > 0 {
		return fmt.Sprintf("line %d %q: %s", f.Line, f.Text, f.Msg)
	}
	return f.Msg
}

// dottedPath writes a variable path the way a fleet file's author names
// it: uplinks[0].ip as uplinks.0.ip.
func dottedPath(p string) string {
	return strings.NewReplacer("[", ".", "]", "").Replace(p)
}

func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(string(f.Severity))
	if f.Line > 0 {
		fmt.Fprintf(&b, ": render %s line %d %q", f.Render, f.Line, f.Text)
	}
	b.WriteString(": ")
	b.WriteString(f.Msg)
	return b.String()
}

// Report is what Verify saw.
type Report struct {
	LinesA, LinesB int      // lines in each render
	VariableLines  int      // lines of render a that differ from render b
	ConstantLines  int      // lines of render a that render b has too
	Unused         []string // variables (leaf paths) whose value render b does not show
	Findings       []Finding
	// RenderA is the render with set a, once both sets rendered.
	RenderA string
}

// Errors returns the findings that refuse the template.
func (r *Report) Errors() []Finding {
	var errs []Finding
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			errs = append(errs, f)
		}
	}
	return errs
}

// Reason says in a few words why the template is refused: its first
// error's Reason, and how many more there are; "" when none.
func (r *Report) Reason() string {
	errs := r.Errors()
	switch len(errs) {
	case 0:
		return ""
	case 1:
		return errs[0].Reason()
	}
	return fmt.Sprintf("%s (and %d more)", errs[0].Reason(), len(errs)-1)
}

// Feedback returns one sentence per finding, errors first, at most limit
// of them (all when limit <= 0), to tell the model what to fix.
func (r *Report) Feedback(limit int) []string {
	var out []string
	for _, sev := range []Severity{SeverityError, SeverityWarning} {
		for _, f := range r.Findings {
			if f.Severity == sev && (limit <= 0 || len(out) < limit) {
				out = append(out, f.String())
			}
		}
	}
	return out
}

const maxFindings = 50

func (r *Report) add(f Finding) {
	if len(r.Findings) >= maxFindings {
		return
	}
	if len(f.Text) > 200 {
		f.Text = f.Text[:200]
	}
	for _, g := range r.Findings {
		if g == f {
			return
		}
	}
	r.Findings = append(r.Findings, f)
}

// Verify renders t with a and with b, two variable sets of the same shape
// that differ in every value, and proves that the template writes
// per-device values only through variables:
//
//   - both renders succeed and are not empty, and they differ somewhere;
//   - every line that differs between the renders shows a value of its
//     own variable set (otherwise the difference comes from nowhere);
//   - no value of a shows in the render of b: that would be a per-device
//     value written into the template. Distinctive values (addresses,
//     names with digits, numbers from 100) are errors; short ones ("10",
//     "DATA") only warnings, since they are often constants by
//     coincidence. So is a distinctive value on unchanged lines that show
//     most other values of its form (the value with other digits), of a
//     variable the template writes on a line that changes: a leaf's uplink
//     peer port Ethernet1 among the leaf's own ports Ethernet1 to
//     Ethernet48. Values of b are not looked for in the render of a: b is
//     made up after the template was written, so none of its values can
//     have been written into it;
//   - an address on an unchanged line that lies in the subnet of an
//     address variable is a warning (a gateway, say, that may belong in a
//     variable).
//
// A value of a counts as showing in render b only as a whole token: not
// as part of a longer name, range or sub-interface (Ethernet1 in
// Ethernet1-46, Ethernet1/1 or Ethernet1.100). Only values with a digit,
// and addresses, are distinctive: a value of letters alone (network-admin,
// point-to-point) is as likely a keyword of the platform, so its showing is
// a warning.
//
// Pass as a the example values the model was shown (those are what a model
// copies into a template) and as b made-up values, Synthesize(a, seed).
// Variables that are equal in a and b (bools, empty strings) are not
// checked. Verify returns the report and, when the template is refused, an
// error wrapping ErrNotVerified.
func Verify(ctx context.Context, t *Template, a, b map[string]any) (*Report, error) {
	return VerifyConfig{}.Verify(ctx, t, a, b)
}

// VerifyConfig is what Verify may know besides the template and the two
// variable sets.
type VerifyConfig struct {
	// Known are texts of the intent itself, its requirements say; a value
	// of set a that shows in one of them as a whole token is constant by
	// the intent's own words ("role network-admin" asked for in the
	// requirements), so its showing in render b proves nothing.
	Known []string
	// KnownValues are values of the intent itself (its constants), used
	// as Known.
	KnownValues map[string]any
}

// Verify is the package's Verify with what c knows.
func (c VerifyConfig) Verify(ctx context.Context, t *Template, a, b map[string]any) (*Report, error) {
	known := slices.Clone(c.Known)
	for _, l := range leaves(c.KnownValues) {
		known = append(known, l.text)
	}
	r := &Report{}
	outA, err := t.Render(ctx, a)
	if err != nil {
		r.add(Finding{Severity: SeverityError, Msg: "render with set a: " + err.Error()})
		return r, fmt.Errorf("%w: render with set a: %w", ErrNotVerified, err)
	}
	outB, err := t.Render(ctx, b)
	if err != nil {
		r.add(Finding{Severity: SeverityError, Msg: "render with set b: " + err.Error()})
		return r, fmt.Errorf("%w: render with set b: %w", ErrNotVerified, err)
	}
	r.RenderA = outA

	la, lb := leaves(a), leaves(b)
	same := map[string]bool{}
	for p, x := range la {
		if y, ok := lb[p]; ok && x.text == y.text {
			same[p] = true
		}
	}
	ra := newRendered("a", outA, la, same)
	rb := newRendered("b", outB, lb, same)
	r.LinesA, r.LinesB = len(ra.lines), len(rb.lines)

	for _, x := range []*rendered{ra, rb} {
		if strings.TrimSpace(x.out) == "" {
			r.add(Finding{Severity: SeverityError, Render: x.name, Msg: "the render with set " + x.name + " is empty"})
		}
	}

	matchA, matchB, ok := align(ra.lines, rb.lines)
	if !ok {
		r.add(Finding{Severity: SeverityError, Msg: fmt.Sprintf(
			"the renders differ in length (%d and %d lines) too much to compare; lists and maps have the same length in both sets, so only a value can change the line count",
			len(ra.lines), len(rb.lines))})
		return r, notVerified(r)
	}
	for _, j := range matchA {
		if j >= 0 {
			r.ConstantLines++
		} else {
			r.VariableLines++
		}
	}
	rb.setUnchanged(matchB)
	if outA == outB {
		r.add(Finding{Severity: SeverityError, Msg: "the renders with both variable sets are identical: the template shows none of the variables"})
	}

	// Lines that differ must show a value of their own set.
	for _, side := range []struct {
		x     *rendered
		match []int
	}{{ra, matchA}, {rb, matchB}} {
		for i, j := range side.match {
			if j >= 0 || side.x.lineHasOwn(i) || strings.TrimSpace(side.x.lines[i].text) == "" {
				continue
			}
			if side.x.lineComputes(i) {
				// A value computed from a variable: a VNI of 10000 + the
				// VLAN id, written with printf "1%04d", shows the VLAN's
				// digits inside a longer number.
				r.add(Finding{Severity: SeverityWarning, Render: side.x.name, Line: i + 1, Text: side.x.lines[i].text,
					Msg: "this line changes through a value computed from a variable"})
				continue
			}
			r.add(Finding{Severity: SeverityError, Render: side.x.name, Line: i + 1, Text: side.x.lines[i].text,
				Msg: "this line differs between the renders but shows no variable value; a line may only change through a variable"})
		}
	}

	// No value of a may show in the render of b. Values of b are not
	// looked for in render a: b is made up after the template was
	// written, so one of them showing in render a is a coincidence.
	values := map[string]bool{} // every text of a value of either set
	for _, ls := range []map[string]leaf{la, lb} {
		for _, l := range ls {
			values[l.text] = true
			for _, n := range l.needles {
				values[n.text] = true
			}
		}
	}
	type group struct {
		first    occurrence
		chance   bool
		lines    int
		lastLine int
	}
	var order []string
	groups := map[string]*group{}
	common := map[string]bool{} // needle text -> rb.common(text, values)
	for _, o := range outermost(rb.find(ra.needles)) {
		if rb.explained(o.start, o.end) || o.n.variant || !wholeToken(rb.out, o.start, o.end) || isKnown(o.n.text, known) {
			continue
		}
		// A distinctive value on unchanged lines that show most values
		// of its form, of a variable the template writes on a line that
		// changes: a value of that form made up at random would more
		// likely than not show there too, so this one proves nothing.
		chance := false
		if o.n.strong && !rb.changes(o.start, o.end) && rb.writes[o.n.path] {
			c, ok := common[o.n.text]
			if !ok {
				c = rb.common(o.n.text, values)
				common[o.n.text] = c
			}
			chance = c
		}
		k := fmt.Sprintf("%s\x00%s\x00%t", o.n.path, o.n.text, chance)
		if g, ok := groups[k]; ok {
			if l := rb.lineOf(o.start); l != g.lastLine {
				g.lines++
				g.lastLine = l
			}
			continue
		}
		groups[k] = &group{first: o, chance: chance, lines: 1, lastLine: rb.lineOf(o.start)}
		order = append(order, k)
	}
	for _, k := range order {
		g := groups[k]
		o := g.first
		sev := SeverityWarning
		msg := fmt.Sprintf("shows %q, the value of variable %s in the other variable set; if it is a per-device value, use the variable", o.n.text, o.n.path)
		switch {
		case g.chance:
			msg = fmt.Sprintf("shows %q, the value of variable %s in the other variable set, on unchanged lines that show most values of its form; the template writes the variable where it changes, so this is taken for constant text", o.n.text, o.n.path)
		case o.n.strong:
			sev = SeverityError
			msg = fmt.Sprintf("shows %q, the value of variable %s in the other variable set: a per-device value is written into the template; use the variable instead", o.n.text, o.n.path)
		}
		if g.lines > 1 {
			msg += fmt.Sprintf(" (on %d lines)", g.lines)
		}
		line := rb.lineOf(o.start)
		f := Finding{Severity: sev, Render: rb.name, Line: line + 1, Text: rb.lines[line].text, Var: o.n.path, Msg: msg}
		if sev == SeverityError {
			f.Value = o.n.text
		}
		r.add(f)
	}

	// Addresses on unchanged lines inside a variable's subnet.
	for i, j := range matchA {
		if j < 0 || len(ra.subnets)+len(rb.subnets) == 0 || !strings.ContainsAny(ra.lines[i].text, ".:") {
			continue
		}
		for _, addr := range addresses(ra.lines[i].text) {
			for _, x := range []*rendered{ra, rb} {
				for _, v := range x.subnets {
					if v.prefix.Contains(addr) && addr != v.prefix.Addr() {
						r.add(Finding{Severity: SeverityWarning, Render: "a", Line: i + 1, Text: ra.lines[i].text, Var: v.path,
							Msg: fmt.Sprintf("the unchanged address %s lies in the subnet of variable %s (%s); if it depends on the device, it must come from a variable", addr, v.path, v.prefix)})
					}
				}
			}
		}
	}

	// Variables shown in neither render.
	for _, p := range slices.Sorted(maps.Keys(lb)) {
		if same[p] || len(lb[p].needles) == 0 {
			continue
		}
		// b is made up, so its values cannot show by coincidence as
		// part of another value the way a's can ("bld1" in "bld1-acc01").
		if !rb.shown[p] {
			r.Unused = append(r.Unused, p)
		}
	}
	if len(r.Unused) > 0 {
		r.add(Finding{Severity: SeverityWarning, Msg: "variables the template does not show: " + strings.Join(r.Unused, ", ")})
	}
	return r, notVerified(r)
}

func notVerified(r *Report) error {
	errs := r.Errors()
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s (and %d more)", ErrNotVerified, errs[0], len(errs)-1)
}

// leaf is one scalar variable value.
type leaf struct {
	text    string // its value as text, to tell whether a and b differ
	needles []needle
	prefix  netip.Prefix // when the value is an address with a subnet
}

// needle is a text that shows a variable's value in a render.
type needle struct {
	text   string
	path   string
	strong bool // distinctive: finding it in the wrong render is an error
	// variant marks a weak value in another case: it explains a line of
	// its own render but is not looked for in the other.
	variant bool
}

func leaves(vars map[string]any) map[string]leaf {
	out := map[string]leaf{}
	var walk func(v reflect.Value, path string, depth int)
	walk = func(v reflect.Value, path string, depth int) {
		if !v.IsValid() || depth > maxNesting {
			return
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path, depth+1)
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
			}
		case reflect.Map:
			// Each key's text once (fmt.Sprint in the sort's comparisons
			// was a tenth of a proof's time).
			type key struct {
				text string
				v    reflect.Value
			}
			keys := make([]key, 0, v.Len())
			for it := v.MapRange(); it.Next(); {
				k := it.Key()
				text := ""
				if k.Kind() == reflect.String {
					text = k.String()
				} else {
					text = fmt.Sprint(k)
				}
				keys = append(keys, key{text, k})
			}
			slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.text, b.text) })
			for _, k := range keys {
				p := k.text
				if path != "" {
					p = path + "." + p
				}
				walk(v.MapIndex(k.v), p, depth+1)
			}
		case reflect.String:
			out[path] = stringLeaf(path, v.String())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			out[path] = numberLeaf(path, strconv.FormatInt(v.Int(), 10), math.Abs(float64(v.Int())))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			out[path] = numberLeaf(path, strconv.FormatUint(v.Uint(), 10), float64(v.Uint()))
		case reflect.Float32, reflect.Float64:
			out[path] = numberLeaf(path, strconv.FormatFloat(v.Float(), 'f', -1, 64), math.Abs(v.Float()))
		case reflect.Bool:
			out[path] = leaf{text: strconv.FormatBool(v.Bool())}
		}
	}
	walk(reflect.ValueOf(vars), "", 0)
	return out
}

func numberLeaf(path, text string, abs float64) leaf {
	return leaf{text: text, needles: []needle{{text: text, path: path, strong: abs >= 100}}}
}

func stringLeaf(path, s string) leaf {
	l := leaf{text: s}
	if strings.TrimSpace(s) == "" {
		return l
	}
	add := func(text string, strong bool) {
		for _, n := range l.needles {
			if n.text == text {
				return
			}
		}
		l.needles = append(l.needles, needle{text: text, path: path, strong: strong})
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		add(s, true)
		add(p.Addr().String(), true)
		if p.Bits() < p.Addr().BitLen() {
			m := p.Masked()
			add(m.Addr().String(), false)
			add(m.String(), false)
			if p.Bits() > 0 {
				l.prefix = m
			}
		}
		return l
	}
	if a, err := netip.ParseAddr(s); err == nil {
		add(s, true)
		add(a.String(), true)
		return l
	}
	// Per-device names carry numbers (bld1-acc01, Ethernet49, VRF
	// TENANT_A1); words of letters alone also name keywords and roles.
	strong := len(s) >= 3 && strings.ContainsAny(s, "0123456789")
	add(s, strong)
	// A template may change the case of a value ({{upper .hostname}}).
	// For a short word the other case is too common in configs ("voice"
	// for "VOICE") to count as a leak, so it only explains its own line.
	for _, v := range []string{strings.ToLower(s), strings.ToUpper(s)} {
		if v != s {
			add(v, strong)
			l.needles[len(l.needles)-1].variant = !strong
		}
	}
	return l
}

// rendered is one render with what is known about it.
type rendered struct {
	name    string
	out     string
	lines   []line
	needles []needle
	own     []occurrence // occurrences of its own set's values, by start
	maxEnd  []int        // maxEnd[i] = max end of own[:i+1]
	shown   map[string]bool
	subnets []subnet
	// Set by setUnchanged once the renders are aligned, for render b,
	// where values of a are looked for.
	unchanged []bool          // unchanged[i]: the other render has line i too
	writes    map[string]bool // variables whose value shows on a changed line
}

type line struct {
	start int
	text  string
}

type subnet struct {
	path   string
	prefix netip.Prefix
}

type occurrence struct {
	start, end int
	n          needle
}

func newRendered(name, out string, ls map[string]leaf, same map[string]bool) *rendered {
	x := &rendered{name: name, out: out, shown: map[string]bool{}}
	start := 0
	for start < len(out) {
		end := strings.IndexByte(out[start:], '\n')
		if end < 0 {
			end = len(out) - start
		}
		x.lines = append(x.lines, line{start: start, text: strings.TrimSuffix(out[start:start+end], "\r")})
		start += end + 1
	}
	for _, p := range slices.Sorted(maps.Keys(ls)) {
		if same[p] {
			continue
		}
		x.needles = append(x.needles, ls[p].needles...)
		if ls[p].prefix.IsValid() {
			x.subnets = append(x.subnets, subnet{path: p, prefix: ls[p].prefix})
		}
	}
	x.own = x.find(x.needles)
	slices.SortFunc(x.own, func(a, b occurrence) int { return a.start - b.start })
	x.maxEnd = make([]int, len(x.own))
	for i, o := range x.own {
		x.maxEnd[i] = o.end
		if i > 0 {
			x.maxEnd[i] = max(x.maxEnd[i], x.maxEnd[i-1])
		}
		x.shown[o.n.path] = true
	}
	return x
}

// find returns every occurrence of the needles in the render, each standing
// on its own: not part of a longer run of digits or of letters.
func (x *rendered) find(ns []needle) []occurrence {
	var occ []occurrence
	// Several variables often share a value (a VLAN's id in two places,
	// a name in two cases): the render is searched once per distinct text.
	at := make(map[string][]int, len(ns))
	for _, n := range ns {
		if n.text == "" {
			continue
		}
		starts, ok := at[n.text]
		if !ok {
			for off := 0; ; {
				i := strings.Index(x.out[off:], n.text)
				if i < 0 {
					break
				}
				i += off
				if standsAlone(x.out, i, i+len(n.text)) {
					starts = append(starts, i)
				}
				off = i + 1
			}
			at[n.text] = starts
		}
		for _, i := range starts {
			occ = append(occ, occurrence{start: i, end: i + len(n.text), n: n})
		}
	}
	return occ
}

// outermost drops occurrences that lie inside a longer one ("10" inside
// "10.99.1.1"), which would only repeat a finding.
func outermost(occ []occurrence) []occurrence {
	slices.SortFunc(occ, func(a, b occurrence) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	var out []occurrence
	end := -1
	for _, o := range occ {
		if o.end <= end {
			continue
		}
		out = append(out, o)
		end = max(end, o.end)
	}
	return out
}

// standsAlone reports whether s[i:j] is not part of a longer run of digits
// or of letters.
func standsAlone(s string, i, j int) bool {
	return (i == 0 || !sameClass(s[i-1], s[i])) && (j == len(s) || !sameClass(s[j], s[j-1]))
}

// wholeToken reports whether s[i:j] stands alone and is not joined to a
// longer token: by -, _ or / to a letter or digit, or by . to a digit
// (Ethernet1 in Ethernet1-46, Ethernet1/1, Ethernet1.100 or
// port_Ethernet1). A colon does not join: 65001 in 65001:100 is the ASN
// written into a community.
func wholeToken(s string, i, j int) bool {
	if !standsAlone(s, i, j) {
		return false
	}
	joins := func(sep, beyond byte) bool {
		switch sep {
		case '-', '_', '/':
			return isAlnum(beyond)
		case '.':
			return beyond >= '0' && beyond <= '9'
		}
		return false
	}
	if i >= 2 && joins(s[i-1], s[i-2]) {
		return false
	}
	return j+1 >= len(s) || !joins(s[j], s[j+1])
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isKnown reports whether v shows as a whole token in one of the known
// texts.
func isKnown(v string, known []string) bool {
	for _, k := range known {
		for off := 0; ; {
			i := strings.Index(k[off:], v)
			if i < 0 {
				break
			}
			i += off
			if wholeToken(k, i, i+len(v)) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

func sameClass(a, b byte) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	return digit(a) && digit(b) || letter(a) && letter(b)
}

// explained reports whether [start, end) lies inside an occurrence of the
// render's own values (an address of set b may contain "100" of set a).
func (x *rendered) explained(start, end int) bool {
	k := sort.Search(len(x.own), func(i int) bool { return x.own[i].start > start })
	return k > 0 && x.maxEnd[k-1] >= end
}

func (x *rendered) lineOf(off int) int {
	return sort.Search(len(x.lines), func(i int) bool { return x.lines[i].start > off }) - 1
}

// lineHasOwn reports whether line i overlaps an occurrence of the render's
// own values (a value may span lines).
func (x *rendered) lineHasOwn(i int) bool {
	start := x.lines[i].start
	end := start + len(x.lines[i].text)
	k := sort.Search(len(x.own), func(j int) bool { return x.own[j].start >= end })
	return k > 0 && x.maxEnd[k-1] > start
}

// lineComputes reports whether line i holds one of the render's own
// numeric values of at least two digits inside a longer run of digits: a
// value the template computed from a variable rather than one it made up.
func (x *rendered) lineComputes(i int) bool {
	text := x.lines[i].text
	for _, n := range x.needles {
		if len(n.text) < 2 || strings.Trim(n.text, "0123456789") != "" {
			continue
		}
		if k := strings.Index(text, n.text); k >= 0 {
			return true
		}
	}
	return false
}

// setUnchanged records, from the alignment (match[i] is the line of the
// other render paired with line i, or -1), which lines of x the other
// render has too, and which variables x writes: those with a value of
// their own, not part of a longer one, on a line that changed.
func (x *rendered) setUnchanged(match []int) {
	x.unchanged = make([]bool, len(x.lines))
	for i, j := range match {
		x.unchanged[i] = j >= 0
	}
	x.writes = map[string]bool{}
	// x.own is sorted by start; among equal starts the longest counts.
	end := -1 // the furthest end of the occurrences starting earlier
	for i := 0; i < len(x.own); {
		k, longest := i, x.own[i].end
		for ; k < len(x.own) && x.own[k].start == x.own[i].start; k++ {
			longest = max(longest, x.own[k].end)
		}
		for _, o := range x.own[i:k] {
			if o.end == longest && o.end > end && x.changes(o.start, o.end) {
				x.writes[o.n.path] = true
			}
		}
		end = max(end, longest)
		i = k
	}
}

// changes reports whether [start, end) touches a line the other render
// does not have.
func (x *rendered) changes(start, end int) bool {
	for l := x.lineOf(start); l < len(x.lines) && x.lines[l].start < end; l++ {
		if !x.unchanged[l] {
			return true
		}
	}
	return false
}

// common reports whether the unchanged lines of x show at least half of
// the other values of text's form, text with other digits in place of its
// own ("Ethernet2" to "Ethernet9" for "Ethernet1"), not counting values of
// variables (those listed in values). A value of that form made up at
// random, as Synthesize makes the values of a variable set, would then more
// likely than not show on those lines too.
func (x *rendered) common(text string, values map[string]bool) bool {
	form := 1 // how many values the form has, text included
	for i := range len(text) {
		if text[i] < '0' || text[i] > '9' {
			continue
		}
		form *= 10
		if form > 2*len(x.out)+1 {
			return false // more than the render could show half of
		}
	}
	others := form - 1
	if others == 0 {
		return false
	}
	digit := strings.NewReplacer("0", "[0-9]", "1", "[0-9]", "2", "[0-9]", "3", "[0-9]", "4", "[0-9]",
		"5", "[0-9]", "6", "[0-9]", "7", "[0-9]", "8", "[0-9]", "9", "[0-9]")
	re, err := regexp.Compile(digit.Replace(regexp.QuoteMeta(text)))
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for i, l := range x.lines {
		if !x.unchanged[i] {
			continue
		}
		for off := 0; off < len(l.text); {
			loc := re.FindStringIndex(l.text[off:])
			if loc == nil {
				break
			}
			s, e := off+loc[0], off+loc[1]
			if v := l.text[s:e]; v != text && !values[v] && standsAlone(l.text, s, e) {
				seen[v] = true
			}
			off = s + 1
		}
	}
	return 2*len(seen) >= others
}

// addresses returns the IP addresses written in s.
func addresses(s string) []netip.Addr {
	var out []netip.Addr
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '.' || r == ':')
	}) {
		// Words of hex letters and digits alone ("face", "100") are not
		// addresses: only a field with a dot or a colon is parsed.
		if !strings.ContainsAny(f, ".:") {
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(f, ".:")); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// maxAlignCells bounds the table align fills when the renders differ in
// line count.
const maxAlignCells = 4 << 20

// align pairs equal lines of a and b. matchA[i] is the line of b paired with
// line i of a, or -1; matchB likewise. With equal line counts lines pair by
// position (both sets have the same shape, so only values change a line);
// otherwise by longest common subsequence. ok is false when that is too big
// to compute.
func align(a, b []line) (matchA, matchB []int, ok bool) {
	matchA, matchB = make([]int, len(a)), make([]int, len(b))
	for i := range matchA {
		matchA[i] = -1
	}
	for j := range matchB {
		matchB[j] = -1
	}
	if len(a) == len(b) {
		for i := range a {
			if a[i].text == b[i].text {
				matchA[i], matchB[i] = i, i
			}
		}
		return matchA, matchB, true
	}
	lo := 0
	for lo < len(a) && lo < len(b) && a[lo].text == b[lo].text {
		matchA[lo], matchB[lo] = lo, lo
		lo++
	}
	ha, hb := len(a), len(b)
	for ha > lo && hb > lo && a[ha-1].text == b[hb-1].text {
		ha--
		hb--
		matchA[ha], matchB[hb] = hb, ha
	}
	n, m := ha-lo, hb-lo
	if n == 0 || m == 0 {
		return matchA, matchB, true
	}
	if (n+1)*(m+1) > maxAlignCells {
		return nil, nil, false
	}
	// lcs[i][j] = LCS length of a[lo+i:ha] and b[lo+j:hb].
	w := m + 1
	lcs := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[lo+i].text == b[lo+j].text {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[lo+i].text == b[lo+j].text:
			matchA[lo+i], matchB[lo+j] = lo+j, lo+i
			i++
			j++
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return matchA, matchB, true
}
