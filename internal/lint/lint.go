package lint

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
	"netsmith/internal/ruleset"
)

// FRR is netcfg.FRR, FRRouting configs.
const FRR = netcfg.FRR

// ParsePlatform returns the platform named s, one of netcfg's (FRR
// included).
func ParsePlatform(s string) (netcfg.Platform, error) {
	return netcfg.ParsePlatform(s)
}

//go:embed rules.yaml
var defaultRules []byte

// Linter runs a set of rules. It is immutable and safe for concurrent use.
type Linter struct {
	rules      []Rule
	byPlatform map[netcfg.Platform][]*Rule
}

// Default returns a linter with the built-in rules (rules.yaml).
func Default() (*Linter, error) {
	rules, err := Load(bytes.NewReader(defaultRules))
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	return New(rules)
}

// New returns a linter running rules. Rule ids must be unique; disabled
// rules are left out.
func New(rules []Rule) (*Linter, error) {
	l := &Linter{byPlatform: make(map[netcfg.Platform][]*Rule)}
	for i := range rules {
		if err := rules[i].compile(); err != nil {
			return nil, err
		}
	}
	var err error
	if l.rules, err = ruleset.Enabled(rules, ruleID, ruleDisabled); err != nil {
		return nil, err
	}
	for i := range l.rules {
		r := &l.rules[i]
		for _, p := range netcfg.Platforms {
			if r.appliesTo(p) {
				l.byPlatform[p] = append(l.byPlatform[p], r)
			}
		}
	}
	return l, nil
}

// With returns a new linter with rules added. A rule with the ID of an
// existing one replaces it (to change its severity or pattern); a rule
// with Disabled set removes it.
func (l *Linter) With(rules ...Rule) (*Linter, error) {
	return New(ruleset.Overlay(l.rules, rules, ruleID, ruleDisabled))
}

func ruleID(r Rule) string     { return r.ID }
func ruleDisabled(r Rule) bool { return r.Disabled }

// Rules returns the linter's rules in order.
func (l *Linter) Rules() []Rule { return slices.Clone(l.rules) }

// Rule returns the rule with id, for its rationale and reference (to explain
// a finding, or to feed it back to a model).
func (l *Linter) Rule(id string) (Rule, bool) {
	i := slices.IndexFunc(l.rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return l.rules[i], true
}

// Lint parses text as a config of platform and returns its findings, sorted
// by line, then rule. An empty platform is detected from the text (Detect).
// Text that cannot be parsed at all (binary input) gives one finding of
// rule "unparsable".
// Rules that need a Context (when_vars, when_requirements) do not run.
func (l *Linter) Lint(platform netcfg.Platform, text string) []Finding {
	return l.LintContext(platform, text, Context{})
}

// LintContext is Lint with what is known about the device: its vars and
// its intent's requirements, for the rules that depend on them.
func (l *Linter) LintContext(platform netcfg.Platform, text string, c Context) []Finding {
	if platform == "" {
		platform = Detect(text)
	}
	tree, err := confparse.Parse(platform, text)
	if err != nil {
		return []Finding{{Rule: "unparsable", Severity: SeverityHigh.String(), Message: err.Error()}}
	}
	return l.LintTreeContext(tree, c)
}

// LintTree returns the findings for a parsed config, sorted by line, then
// rule. A tree parsed without a platform is linted as Detect(tree.String()).
func (l *Linter) LintTree(tree *confparse.Tree) []Finding {
	return l.LintTreeContext(tree, Context{})
}

// LintTreeContext is LintTree with a Context (see LintContext).
func (l *Linter) LintTreeContext(tree *confparse.Tree, c Context) []Finding {
	platform := tree.Platform
	if platform == "" {
		platform = Detect(tree.String())
	}
	d := newDoc(tree)
	d.ctx = c
	var out []Finding
	for _, r := range l.byPlatform[platform] {
		out = r.eval(d, out)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(out)
}

// doc is the view of a config the rules run on: its statements, top-level
// and all, without comments, banner text or trailers. For Junos every
// statement is a top-level set-style line.
type doc struct {
	tree *confparse.Tree
	ctx  Context
	top  []*confparse.Node
	all  []*confparse.Node

	tokens   map[string]int               // occurrences of each word in statements, built on first use
	allIndex map[string][]*confparse.Node // all by first word, built on first use
	topIndex map[string][]*confparse.Node // top by first word, built on first use
}

// candidates returns the statements of all (or top) that may start with
// one of prefixes: those whose first word is the first word of a prefix.
// With no prefixes, or a prefix without a complete first word, it returns
// every statement. The result is in document order only for one first word.
func (d *doc) candidates(prefixes []string, top bool) []*confparse.Node {
	scope, idx := d.all, &d.allIndex
	if top {
		scope, idx = d.top, &d.topIndex
	}
	if len(prefixes) == 0 {
		return scope
	}
	var keys []string
	for _, p := range prefixes {
		w, _, ok := strings.Cut(p, " ")
		if !ok {
			return scope
		}
		if !slices.Contains(keys, w) {
			keys = append(keys, w)
		}
	}
	if *idx == nil {
		m := make(map[string][]*confparse.Node)
		for _, n := range scope {
			w, _, _ := strings.Cut(n.Text, " ")
			m[w] = append(m[w], n)
		}
		*idx = m
	}
	if len(keys) == 1 {
		return (*idx)[keys[0]]
	}
	var out []*confparse.Node
	for _, k := range keys {
		out = append(out, (*idx)[k]...)
	}
	return out
}

// scope returns the candidates for a matcher.
func (d *doc) scope(m *matcher, top bool) []*confparse.Node {
	if m == nil {
		return nil
	}
	return d.candidates(m.prefixes, top)
}

func newDoc(t *confparse.Tree) *doc {
	d := &doc{tree: t}
	if t.Format != confparse.FormatIndented {
		st := t.Statements()
		nodes := make([]confparse.Node, len(st))
		d.top = make([]*confparse.Node, len(st))
		for i, s := range st {
			nodes[i] = confparse.Node{Line: s.Line, Text: s.Text, Raw: s.Text, Kind: confparse.KindConfig}
			d.top[i] = &nodes[i]
		}
		d.all = d.top
		return d
	}
	for _, n := range t.Children {
		if n.IsConfig() {
			d.top = append(d.top, n)
		}
	}
	d.all = make([]*confparse.Node, 0, len(t.Nodes()))
	for _, n := range t.Nodes() {
		if n.IsConfig() {
			d.all = append(d.all, n)
		}
	}
	return d
}

func (d *doc) any(m *matcher) bool {
	for _, n := range d.scope(m, false) {
		if m.matches(n.Text) {
			return true
		}
	}
	return false
}

// tokenCounts counts the words of every statement.
func (d *doc) tokenCounts() map[string]int {
	if d.tokens == nil {
		d.tokens = make(map[string]int, len(d.all))
		for _, n := range d.all {
			for _, w := range strings.Fields(n.Text) {
				d.tokens[strings.Trim(w, `"`)]++
			}
		}
	}
	return d.tokens
}

func (r *Rule) finding(line int, msg string) Finding {
	return Finding{Rule: r.ID, Severity: r.Severity.String(), Message: msg, Line: line}
}

// expand fills in the message's {parent} and {name}.
func (r *Rule) expand(parent, name string) string {
	msg := r.Message
	if parent != "" {
		msg = strings.ReplaceAll(msg, "{parent}", parent)
	}
	if name != "" {
		msg = strings.ReplaceAll(msg, "{name}", name)
	}
	return msg
}

func (r *Rule) eval(d *doc, out []Finding) []Finding {
	c := r.c
	if r.contextual() && !r.inContext(d.ctx) {
		return out
	}
	if c.when != nil && !d.any(c.when) || c.unless != nil && d.any(c.unless) {
		return out
	}
	switch {
	case r.Check != "":
		return r.evalCheck(d, out)
	case c.parent != nil:
		return r.evalParent(d, out)
	}
	top := c.scope != ScopeAny
	m := c.mustMatch
	switch {
	case c.last != nil:
		m = c.last
	case m == nil:
		m = c.mustNotMatch
	}
	return r.evalScope(d.scope(m, top), 0, "", out)
}

// evalScope applies must_match or must_not_match to the lines of one scope.
// A missing line is reported at line at. With last, only the last line
// matching it counts: the setting in effect when a command is repeated.
func (r *Rule) evalScope(scope []*confparse.Node, at int, parent string, out []Finding) []Finding {
	c := r.c
	if c.last != nil {
		var last *confparse.Node
		for _, n := range scope {
			if c.last.matches(n.Text) && (last == nil || n.Line > last.Line) {
				last = n
			}
		}
		if last == nil {
			if c.mustMatch != nil {
				out = append(out, r.finding(at, r.expand(parent, "")))
			}
			return out
		}
		scope, at = []*confparse.Node{last}, last.Line
	}
	if c.mustMatch != nil {
		for _, n := range scope {
			if c.mustMatch.matches(n.Text) {
				return out
			}
		}
		return append(out, r.finding(at, r.expand(parent, "")))
	}
	for _, n := range scope {
		if sub := c.mustNotMatch.submatch(n.Text); sub != nil && !r.exempts(n) {
			out = append(out, r.finding(n.Line, r.expand(parent, c.mustNotMatch.group(sub, "name"))))
		}
	}
	return out
}

func (r *Rule) evalParent(d *doc, out []Finding) []Finding {
	c := r.c
	parents := 0
	for _, p := range d.scope(c.parent, false) {
		if !c.parent.matches(p.Text) || c.parentHas != nil && !hasChild(p, c.parentHas) {
			continue
		}
		parents++
		var scope []*confparse.Node
		if c.scope == ScopeSubtree {
			for _, ch := range p.Children {
				ch.Walk(func(n *confparse.Node) bool {
					if n.IsConfig() {
						scope = append(scope, n)
					}
					return true
				})
			}
		} else {
			for _, ch := range p.Children {
				if ch.IsConfig() {
					scope = append(scope, ch)
				}
			}
		}
		out = r.evalScope(scope, p.Line, p.Text, out)
	}
	if parents == 0 && r.RequireParent {
		out = append(out, r.finding(0, r.expand("(missing)", "")))
	}
	return out
}

// hasChild reports whether a configuration child of n matches m.
func hasChild(n *confparse.Node, m *matcher) bool {
	for _, ch := range n.Children {
		if ch.IsConfig() && m.matches(ch.Text) {
			return true
		}
	}
	return false
}
