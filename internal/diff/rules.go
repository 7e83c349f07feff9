package diff

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"netsmith/internal/netcfg"
	"netsmith/internal/ruleset"
)

// Rule kinds.
const (
	// KindOverwrite: a line matching the rule replaces a sibling with the
	// same key; the old line is not negated first.
	KindOverwrite = "overwrite"
	// KindOrdered: the children of a matching section (or, with Negate,
	// the top-level lines sharing a key) are an ordered list, replaced as
	// a block when anything in it changes.
	KindOrdered = "ordered"
	// KindGroup: the lines under one parent that share a key (a BGP
	// neighbor's) are one object: when none of them is left, Negate
	// removes it at once instead of negating each line.
	KindGroup = "group"
	// KindNegate: a line matching the rule is removed by Negate ("{line}"
	// replaced by the line) rather than by "no …": a physical interface
	// cannot be deleted, only returned to its defaults.
	KindNegate = "negate"
)

// Rule is one remediation rule. Patterns are RE2 expressions over a line
// without its indentation; for Junos over a statement path without "set".
type Rule struct {
	ID        string            `yaml:"id" json:"id"`
	Platforms []netcfg.Platform `yaml:"platforms" json:"platforms,omitempty"` // empty: every indented platform
	Kind      string            `yaml:"kind" json:"kind"`
	// Parent (indented platforms): the rule applies to lines whose parent
	// matches it; empty: to top-level lines only.
	Parent string `yaml:"parent" json:"parent,omitempty"`
	// Match selects the lines; its group "key" (when present) says which
	// lines are the same setting or the same list.
	Match string `yaml:"match" json:"match"`
	// Negate (ordered, top-level lists): the command that removes a whole
	// list, "{key}" replaced by the key.
	Negate   string `yaml:"negate" json:"negate,omitempty"`
	Disabled bool   `yaml:"disabled" json:"disabled,omitempty"` // removes a rule of the same id (Differ.With)

	parent, match *regexp.Regexp
	key           int // index of the "key" group, or -1
}

// Settings are per-platform facts that are not rules.
type Settings struct {
	// Restore is the prefix that returns a "no X" line to its default
	// ("default "); empty means the command itself.
	Restore string `yaml:"restore" json:"restore"`
}

// File is the YAML form of a rule file.
type File struct {
	Version  int                          `yaml:"version"`
	Settings map[netcfg.Platform]Settings `yaml:"platform_settings"`
	Rules    []Rule                       `yaml:"rules"`
}

//go:embed rules.yaml
var defaultRules []byte

// Load reads a rule file. Unknown fields, kinds and platforms, and patterns
// that do not compile, are errors naming the rule.
func Load(r io.Reader) (*File, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("rule file is empty")
		}
		return nil, err
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("version: %d is not supported (want 1)", f.Version)
	}
	for p := range f.Settings {
		if !slices.Contains(netcfg.Platforms, p) {
			return nil, fmt.Errorf("platform_settings: unknown platform %q", p)
		}
	}
	for i := range f.Rules {
		if err := f.Rules[i].compile(); err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	return &f, nil
}

func (r *Rule) compile() error {
	if r.ID == "" {
		return errors.New("id is empty")
	}
	for _, p := range r.Platforms {
		if !slices.Contains(netcfg.Platforms, p) {
			return fmt.Errorf("rule %s: platforms: unknown platform %q", r.ID, p)
		}
	}
	if r.Disabled {
		return nil
	}
	switch r.Kind {
	case KindOverwrite, KindOrdered, KindGroup, KindNegate:
	default:
		return fmt.Errorf("rule %s: kind: %q is not overwrite, ordered, group or negate", r.ID, r.Kind)
	}
	if r.Match == "" {
		return fmt.Errorf("rule %s: match is empty", r.ID)
	}
	var err error
	if r.match, err = regexp.Compile(r.Match); err != nil {
		return fmt.Errorf("rule %s: match: %w", r.ID, err)
	}
	if r.Parent != "" {
		if r.parent, err = regexp.Compile(r.Parent); err != nil {
			return fmt.Errorf("rule %s: parent: %w", r.ID, err)
		}
	}
	r.key = r.match.SubexpIndex("key")
	if r.Kind == KindNegate {
		if !strings.Contains(r.Negate, "{line}") {
			return fmt.Errorf("rule %s: kind negate needs {line} in negate", r.ID)
		}
		return nil
	}
	if r.Negate != "" || r.Kind == KindGroup {
		if r.Kind == KindOverwrite || r.key < 0 || !strings.Contains(r.Negate, "{key}") {
			return fmt.Errorf("rule %s: negate needs kind ordered or group, a (?P<key>…) group in match and {key} in negate", r.ID)
		}
	}
	return nil
}

func (r *Rule) appliesTo(p netcfg.Platform) bool {
	if len(r.Platforms) == 0 {
		return p != netcfg.JuniperJunos
	}
	return slices.Contains(r.Platforms, p)
}

// keyOf returns the key of text under the rule: the "key" group, or the
// rule id when the pattern has none.
func (r *Rule) keyOf(text string) (string, bool) {
	m := r.match.FindStringSubmatchIndex(text)
	if m == nil {
		return "", false
	}
	if r.key < 0 || m[2*r.key] < 0 {
		return r.ID, true
	}
	return r.ID + "\x00" + text[m[2*r.key]:m[2*r.key+1]], true
}

// Differ computes remediation with a set of rules. It is immutable and
// safe for concurrent use.
type Differ struct {
	rules    []Rule
	settings map[netcfg.Platform]Settings
	plat     map[netcfg.Platform]*platformRules
}

type platformRules struct {
	settings  Settings
	overwrite []*Rule
	ordered   []*Rule // sections
	lists     []*Rule // top-level lists with Negate
	groups    []*Rule
	negates   []*Rule
}

// Default returns a Differ with the built-in rules (rules.yaml).
func Default() (*Differ, error) {
	f, err := Load(strings.NewReader(string(defaultRules)))
	if err != nil {
		return nil, fmt.Errorf("built-in diff rules: %w", err)
	}
	return New(f.Rules, f.Settings)
}

// New returns a Differ with rules and platform settings. Rule ids must be
// unique; disabled rules are left out.
func New(rules []Rule, settings map[netcfg.Platform]Settings) (*Differ, error) {
	d := &Differ{settings: settings, plat: make(map[netcfg.Platform]*platformRules)}
	for i := range rules {
		if err := rules[i].compile(); err != nil {
			return nil, err
		}
	}
	var err error
	if d.rules, err = ruleset.Enabled(rules, ruleID, ruleDisabled); err != nil {
		return nil, err
	}
	for _, p := range netcfg.Platforms {
		pr := &platformRules{settings: settings[p]}
		for i := range d.rules {
			r := &d.rules[i]
			if !r.appliesTo(p) {
				continue
			}
			switch {
			case r.Kind == KindOverwrite:
				pr.overwrite = append(pr.overwrite, r)
			case r.Kind == KindGroup:
				pr.groups = append(pr.groups, r)
			case r.Kind == KindNegate:
				pr.negates = append(pr.negates, r)
			case r.Negate != "":
				pr.lists = append(pr.lists, r)
			default:
				pr.ordered = append(pr.ordered, r)
			}
		}
		d.plat[p] = pr
	}
	return d, nil
}

// With returns a Differ with f's rules added: a rule with the id of an
// existing one replaces it, a disabled one removes it. f's platform
// settings replace the built-in ones per platform.
func (d *Differ) With(f *File) (*Differ, error) {
	all := ruleset.Overlay(d.rules, f.Rules, ruleID, ruleDisabled)
	settings := make(map[netcfg.Platform]Settings, len(d.settings))
	for p, s := range d.settings {
		settings[p] = s
	}
	for p, s := range f.Settings {
		settings[p] = s
	}
	return New(all, settings)
}

func ruleID(r Rule) string     { return r.ID }
func ruleDisabled(r Rule) bool { return r.Disabled }

// Rules returns the rules in effect.
func (d *Differ) Rules() []Rule { return slices.Clone(d.rules) }

// parentText is the text a rule's Parent is matched against.
func ruleApplies(r *Rule, parent string, top bool) bool {
	if r.parent == nil {
		return top
	}
	return !top && r.parent.MatchString(parent)
}

// overwriteKey returns the overwrite key of a line under parent, or "".
func (pr *platformRules) overwriteKey(parent string, top bool, text string) string {
	for _, r := range pr.overwrite {
		if !ruleApplies(r, parent, top) {
			continue
		}
		if k, ok := r.keyOf(text); ok {
			return k
		}
	}
	return ""
}

// orderedSection reports whether a section line's children are an ordered
// list.
func (pr *platformRules) orderedSection(parent string, top bool, text string) bool {
	for _, r := range pr.ordered {
		if ruleApplies(r, parent, top) && r.match.MatchString(text) {
			return true
		}
	}
	return false
}

// listOf returns the list rule and key of a top-level line that belongs to
// an ordered list, or nil.
func (pr *platformRules) listOf(text string) (*Rule, string) {
	for _, r := range pr.lists {
		if m := r.match.FindStringSubmatch(text); m != nil && m[r.key] != "" {
			return r, m[r.key]
		}
	}
	return nil, ""
}

// groupOf returns the negation that removes the group a line under parent
// belongs to ("no neighbor 10.0.0.1"), or "".
func (pr *platformRules) groupOf(parent string, top bool, text string) string {
	for _, r := range pr.groups {
		if !ruleApplies(r, parent, top) {
			continue
		}
		if m := r.match.FindStringSubmatch(text); m != nil && m[r.key] != "" {
			return strings.ReplaceAll(r.Negate, "{key}", m[r.key])
		}
	}
	return ""
}

// negation returns the command that removes a line under parent.
func (pr *platformRules) negation(parent string, top bool, text string) string {
	for _, r := range pr.negates {
		if ruleApplies(r, parent, top) && r.match.MatchString(text) {
			return strings.ReplaceAll(r.Negate, "{line}", text)
		}
	}
	return "no " + text
}
