package lint

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// Rule is one check. Most rules are a pattern: either MustMatch (a finding
// when no line matches) or MustNotMatch (a finding for every line that
// matches), over the top-level lines (Scope "top", the default), every line
// ("any"), or, with Parent, the children of every line matching Parent
// ("children", the default) or all its descendants ("subtree"). Checks that
// a single pattern cannot express name a built-in Check instead.
//
// Patterns are Go regular expressions (RE2 syntax) matched against a line's
// text without its indentation; for Junos against set-style statements
// ("set system services telnet") whichever form the config is in.
type Rule struct {
	ID        string            `yaml:"id" json:"id"`
	Platforms []netcfg.Platform `yaml:"platforms" json:"platforms,omitempty"` // empty: every platform
	Severity  Severity          `yaml:"severity" json:"severity"`
	// Message is the finding's text. "{parent}" is replaced by the parent
	// line, "{name}" by the pattern's "name" group (or the object name in
	// reference checks).
	Message   string `yaml:"message" json:"message"`
	Rationale string `yaml:"rationale" json:"rationale,omitempty"`
	Reference string `yaml:"reference" json:"reference,omitempty"`

	Parent        string `yaml:"parent" json:"parent,omitempty"`
	Scope         string `yaml:"scope" json:"scope,omitempty"`
	MustMatch     string `yaml:"must_match" json:"must_match,omitempty"`
	MustNotMatch  string `yaml:"must_not_match" json:"must_not_match,omitempty"`
	RequireParent bool   `yaml:"require_parent" json:"require_parent,omitempty"` // with Parent and MustMatch: a finding when no line matches Parent
	// Last makes the rule look only at the last line in scope that matches
	// it: the setting in effect when a command is repeated ("no aaa
	// new-model" … "aaa new-model"). Without such a line, must_match fails
	// and must_not_match passes.
	Last   string `yaml:"last" json:"last,omitempty"`
	When   string `yaml:"when" json:"when,omitempty"`     // the rule applies only if some line matches
	Unless string `yaml:"unless" json:"unless,omitempty"` // the rule does not apply if some line matches
	// ParentHas, with Parent, keeps only the parents with a child matching
	// it: "interfaces with switchport mode access".
	ParentHas string `yaml:"parent_has" json:"parent_has,omitempty"`

	// WhenVars: the rule applies only if the Context's vars set one of these
	// names (a value that is not empty). WhenRequirements: only if the
	// Context's requirements match this expression. Without a Context such
	// rules do not run.
	WhenVars         Names  `yaml:"when_vars" json:"when_vars,omitempty"`
	WhenRequirements string `yaml:"when_requirements" json:"when_requirements,omitempty"`

	// Check names a built-in check: cleartext-secret, reversible-secret,
	// undefined-reference, unused-definition, unreferenced, ebgp-policy or
	// parse-problem.
	Check   string    `yaml:"check" json:"check,omitempty"`
	Defines []Pattern `yaml:"defines" json:"defines,omitempty"` // reference checks: lines that define an object; group "name"
	Uses    []Pattern `yaml:"uses" json:"uses,omitempty"`       // reference checks: lines that use objects; group "name" or "names" (space-separated)
	// Exempt lists lines that never give a finding of this rule, with
	// Under for the lines below a matching one only: EOS stores BGP
	// neighbor keys in type 7 and has no other form, so a type-7 check
	// exempts "neighbor … password 7" under "router bgp".
	Exempt []Pattern `yaml:"exempt" json:"exempt,omitempty"`

	// Disabled removes a rule of the same ID when passed to Linter.With.
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`

	c *compiled
}

// Pattern is a regular expression with an optional exclusion: a line
// matches when it matches Match and does not match Unless. In YAML it is
// either a string (Match) or a mapping {match, unless}.
type Pattern struct {
	Match  string `yaml:"match" json:"match"`
	Unless string `yaml:"unless" json:"unless,omitempty"`
	// Under (exempt patterns only) limits the pattern to lines with an
	// ancestor matching it.
	Under string `yaml:"under" json:"under,omitempty"`
}

// UnmarshalYAML accepts a plain string as well as a mapping.
func (p *Pattern) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&p.Match)
	}
	type plain Pattern
	return n.Decode((*plain)(p))
}

// The built-in checks.
const (
	CheckCleartextSecret    = "cleartext-secret"
	CheckReversibleSecret   = "reversible-secret"
	CheckUndefinedReference = "undefined-reference"
	CheckUnusedDefinition   = "unused-definition"
	CheckParseProblem       = "parse-problem"
	// CheckUnreferenced is unused-definition where only the uses patterns
	// count: "every access port is named by an edge statement".
	CheckUnreferenced = "unreferenced"
	// CheckEBGPPolicy reports eBGP neighbors without an inbound and an
	// outbound policy.
	CheckEBGPPolicy = "ebgp-policy"
)

var checks = []string{CheckCleartextSecret, CheckReversibleSecret, CheckUndefinedReference, CheckUnusedDefinition, CheckParseProblem, CheckUnreferenced, CheckEBGPPolicy}

// The scopes.
const (
	ScopeTop      = "top"
	ScopeAny      = "any"
	ScopeChildren = "children"
	ScopeSubtree  = "subtree"
)

type compiled struct {
	parent, mustMatch, mustNotMatch, last, when, unless *matcher
	parentHas, whenRequirements                         *matcher
	scope                                               string
	defines, uses, exempt                               []patternMatcher
}

type patternMatcher struct{ match, unless, under *matcher }

// exempts reports whether n is one of the rule's exempt lines.
func (r *Rule) exempts(n *confparse.Node) bool {
	for _, p := range r.c.exempt {
		if p.find(n.Text) == nil {
			continue
		}
		if p.under == nil {
			return true
		}
		for a := n.Parent; a != nil; a = a.Parent {
			if p.under.matches(a.Text) {
				return true
			}
		}
	}
	return false
}

func (p patternMatcher) find(s string) []string {
	if p.unless.matches(s) {
		return nil
	}
	return p.match.submatch(s)
}

// matcher is a compiled regular expression with the literal texts one of
// which every match must start with, checked first: most rules are anchored
// at a keyword, and a few prefix tests are far cheaper than running the
// expression on every line.
type matcher struct {
	re       *regexp.Regexp
	prefixes []string // nil: no literal start is known
}

func newMatcher(expr string) (*matcher, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &matcher{re: re, prefixes: literalPrefixes(expr)}, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	if prefixes == nil {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func (m *matcher) matches(s string) bool {
	return m != nil && hasAnyPrefix(s, m.prefixes) && m.re.MatchString(s)
}

func (m *matcher) submatch(s string) []string {
	if m == nil || !hasAnyPrefix(s, m.prefixes) {
		return nil
	}
	return m.re.FindStringSubmatch(s)
}

// group returns the named group of a submatch, or "".
func (m *matcher) group(sub []string, name string) string {
	if i := m.re.SubexpIndex(name); i > 0 && i < len(sub) {
		return sub[i]
	}
	return ""
}

// maxPrefixes bounds the literal starts kept for one expression.
const maxPrefixes = 32

// literalPrefixes returns literal strings such that every match of expr
// starts with one of them, or nil when expr is not anchored with "^" or
// some match can start with anything. "^(?:ip|ipv6) access-group" gives
// "ip access-group" and "ipv6 access-group".
func literalPrefixes(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var anchored func(re *syntax.Regexp) []string
	anchored = func(re *syntax.Regexp) []string {
		switch {
		case re.Op == syntax.OpConcat && len(re.Sub) > 0 && re.Sub[0].Op == syntax.OpBeginText:
			return seqPrefixes(re.Sub[1:])
		case re.Op == syntax.OpCapture:
			return anchored(re.Sub[0])
		case re.Op == syntax.OpAlternate:
			var out []string
			for _, alt := range re.Sub {
				p := anchored(alt)
				if p == nil {
					return nil
				}
				out = append(out, p...)
			}
			return out
		}
		return nil
	}
	out := anchored(re.Simplify())
	if len(out) == 0 || len(out) > maxPrefixes || slices.Contains(out, "") {
		return nil
	}
	return out
}

// seqPrefixes returns the literal starts of the concatenation of nodes;
// [""] when nothing is known.
func seqPrefixes(nodes []*syntax.Regexp) []string {
	if len(nodes) == 0 {
		return []string{""}
	}
	n, rest := nodes[0], nodes[1:]
	join := func(head ...*syntax.Regexp) []*syntax.Regexp {
		return append(append([]*syntax.Regexp{}, head...), rest...)
	}
	switch n.Op {
	case syntax.OpLiteral:
		if n.Flags&syntax.FoldCase != 0 {
			return []string{""}
		}
		lit := string(n.Rune)
		tails := seqPrefixes(rest)
		if len(tails) > maxPrefixes {
			return []string{lit}
		}
		out := make([]string, len(tails))
		for i, t := range tails {
			out[i] = lit + t
		}
		return out
	case syntax.OpCapture:
		return seqPrefixes(join(n.Sub...))
	case syntax.OpConcat:
		return seqPrefixes(join(n.Sub...))
	case syntax.OpEmptyMatch:
		return seqPrefixes(rest)
	case syntax.OpAlternate:
		var out []string
		for _, alt := range n.Sub {
			out = append(out, seqPrefixes(join(alt))...)
			if len(out) > maxPrefixes {
				return []string{""}
			}
		}
		return out
	case syntax.OpQuest:
		out := append(seqPrefixes(join(n.Sub...)), seqPrefixes(rest)...)
		if len(out) > maxPrefixes {
			return []string{""}
		}
		return out
	}
	return []string{""}
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// compile validates the rule and prepares its expressions.
func (r *Rule) compile() error {
	if !idRE.MatchString(r.ID) {
		return fmt.Errorf("rule id %q: want lowercase letters, digits and '-'", r.ID)
	}
	if r.Disabled {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("rule %s: %s", r.ID, fmt.Sprintf(format, args...))
	}
	if r.Severity < SeverityInfo || r.Severity > SeverityCritical {
		return fail("severity is missing or invalid")
	}
	if strings.TrimSpace(r.Message) == "" {
		return fail("message is empty")
	}
	for _, p := range r.Platforms {
		if !slices.Contains(netcfg.Platforms, p) {
			return fail("unknown platform %q", p)
		}
	}
	kinds := 0
	for _, s := range []string{r.MustMatch, r.MustNotMatch, r.Check} {
		if s != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return fail("want exactly one of must_match, must_not_match and check")
	}
	c := &compiled{scope: r.Scope}
	var err error
	compile := func(field, expr string) *matcher {
		m, e := newMatcher(expr)
		if e != nil && err == nil {
			err = fail("%s: %v", field, e)
		}
		return m
	}
	c.parent = compile("parent", r.Parent)
	c.mustMatch = compile("must_match", r.MustMatch)
	c.mustNotMatch = compile("must_not_match", r.MustNotMatch)
	c.last = compile("last", r.Last)
	c.when = compile("when", r.When)
	c.unless = compile("unless", r.Unless)
	c.parentHas = compile("parent_has", r.ParentHas)
	c.whenRequirements = compile("when_requirements", r.WhenRequirements)
	for _, p := range r.Defines {
		c.defines = append(c.defines, patternMatcher{match: compile("defines", p.Match), unless: compile("defines", p.Unless)})
	}
	for _, p := range r.Uses {
		c.uses = append(c.uses, patternMatcher{match: compile("uses", p.Match), unless: compile("uses", p.Unless)})
	}
	for _, p := range r.Exempt {
		c.exempt = append(c.exempt, patternMatcher{compile("exempt", p.Match), compile("exempt", p.Unless), compile("exempt", p.Under)})
	}
	if err != nil {
		return err
	}
	if r.ParentHas != "" && r.Parent == "" {
		return fail("parent_has needs parent")
	}
	for _, v := range r.WhenVars {
		if strings.TrimSpace(v) == "" {
			return fail("when_vars has an empty name")
		}
	}
	for _, p := range append(slices.Clone(r.Defines), r.Uses...) {
		if p.Under != "" {
			return fail("under applies to exempt patterns only")
		}
	}
	for _, p := range c.exempt {
		if p.match == nil {
			return fail("every exempt pattern needs match")
		}
	}
	switch {
	case r.Check != "":
		if !slices.Contains(checks, r.Check) {
			return fail("unknown check %q (known: %s)", r.Check, strings.Join(checks, ", "))
		}
		if r.Parent != "" || r.Scope != "" || r.RequireParent || r.Last != "" {
			return fail("parent, scope, require_parent and last do not apply to check %s", r.Check)
		}
		if r.Check == CheckUndefinedReference || r.Check == CheckUnusedDefinition || r.Check == CheckUnreferenced {
			if len(c.defines) == 0 || len(c.uses) == 0 {
				return fail("check %s needs defines and uses", r.Check)
			}
			for _, p := range c.defines {
				if p.match == nil || p.match.re.SubexpIndex("name") < 0 {
					return fail("every defines pattern needs a (?P<name>…) group")
				}
			}
			for _, p := range c.uses {
				if p.match == nil || p.match.re.SubexpIndex("name") < 0 && p.match.re.SubexpIndex("names") < 0 {
					return fail("every uses pattern needs a (?P<name>…) or (?P<names>…) group")
				}
			}
		}
	case r.Parent != "":
		switch c.scope {
		case "":
			c.scope = ScopeChildren
		case ScopeChildren, ScopeSubtree:
		default:
			return fail("scope %q: with parent, want children or subtree", r.Scope)
		}
		if r.RequireParent && r.MustMatch == "" {
			return fail("require_parent needs must_match")
		}
	default:
		switch c.scope {
		case "":
			c.scope = ScopeTop
		case ScopeTop, ScopeAny:
		default:
			return fail("scope %q: without parent, want top or any", r.Scope)
		}
		if r.RequireParent {
			return fail("require_parent needs parent")
		}
	}
	r.c = c
	return nil
}

// appliesTo reports whether the rule runs on platform.
func (r *Rule) appliesTo(p netcfg.Platform) bool {
	return len(r.Platforms) == 0 || slices.Contains(r.Platforms, p)
}

type ruleFile struct {
	Version int    `yaml:"version"`
	Rules   []Rule `yaml:"rules"`
}

// Load reads a rule file: YAML with "version: 1" and a list "rules". Unknown
// fields, invalid expressions and duplicate ids are errors.
func Load(r io.Reader) ([]Rule, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f ruleFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("load rules: file is empty")
		}
		return nil, fmt.Errorf("load rules: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("load rules: version %d, want 1", f.Version)
	}
	seen := make(map[string]bool, len(f.Rules))
	for i := range f.Rules {
		r := &f.Rules[i]
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("load rules: %w", err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("load rules: duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
	}
	return f.Rules, nil
}
