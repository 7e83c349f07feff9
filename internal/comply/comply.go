// Package comply holds device configs to a policy: per role, lines that must
// be present, lines that must not, and golden configs whose every line a
// device must hold. A policy is YAML:
//
//	version: 1
//	roles:
//	  - name: access
//	    hosts: '-acc\d+$'           # RE2 over the hostname; empty: every device
//	    golden: golden/access.cfg   # optional; relative to the policy file
//	    rules:
//	      - id: vty-ssh-only
//	        parent: '^line vty '    # optional: the rule holds under every such section
//	        required: '^transport input ssh$'
//	      - id: no-http-server
//	        forbidden: '^ip http server$'
//
// Patterns match a line without its indentation; for Junos, set-style
// statements ("set system services ssh") in either form, as lint rules do.
// A golden config is compared with internal/diff: the lines the remediation
// from the device to the golden config would add or change are the ones
// the device lacks; lines the device has beyond the golden config pass.
package comply

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"netsmith/internal/confparse"
	"netsmith/internal/diff"
)

// Policy is a parsed policy file.
type Policy struct {
	Version int    `yaml:"version"`
	Roles   []Role `yaml:"roles"`
}

// Role is the rules for the devices whose hostname matches Hosts.
type Role struct {
	Name   string `yaml:"name"`
	Hosts  string `yaml:"hosts"`
	Golden string `yaml:"golden"`
	Rules  []Rule `yaml:"rules"`

	hosts  *regexp.Regexp
	golden *confparse.Tree
}

// Rule is one required or forbidden pattern.
type Rule struct {
	ID        string `yaml:"id"`
	Parent    string `yaml:"parent"`
	Required  string `yaml:"required"`
	Forbidden string `yaml:"forbidden"`

	parent, re *regexp.Regexp
}

// Load reads a policy; golden paths are read relative to dir. Errors name
// the role and rule.
func Load(r io.Reader, dir string) (*Policy, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var p Policy
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("policy is empty")
		}
		return nil, err
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("version: %d is not supported (want 1)", p.Version)
	}
	if len(p.Roles) == 0 {
		return nil, errors.New("roles: none given")
	}
	for i := range p.Roles {
		if err := p.Roles[i].compile(dir); err != nil {
			return nil, fmt.Errorf("roles[%d] (%s): %w", i, p.Roles[i].Name, err)
		}
	}
	return &p, nil
}

// LoadFile reads the policy at path.
func LoadFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, filepath.Dir(path))
}

func (r *Role) compile(dir string) error {
	if r.Name == "" {
		return errors.New("name is empty")
	}
	var err error
	if r.hosts, err = regexp.Compile(r.Hosts); err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	if r.Golden == "" && len(r.Rules) == 0 {
		return errors.New("neither golden nor rules given")
	}
	if r.Golden != "" {
		p := r.Golden
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("golden: %w", err)
		}
		if r.golden, err = confparse.Parse("", string(b)); err != nil {
			return fmt.Errorf("golden %s: %w", p, err)
		}
	}
	seen := map[string]bool{}
	for i := range r.Rules {
		ru := &r.Rules[i]
		if ru.ID == "" {
			return fmt.Errorf("rules[%d]: id is empty", i)
		}
		if seen[ru.ID] {
			return fmt.Errorf("rules[%d]: duplicate id %q", i, ru.ID)
		}
		seen[ru.ID] = true
		if (ru.Required == "") == (ru.Forbidden == "") {
			return fmt.Errorf("rule %s: give one of required and forbidden", ru.ID)
		}
		pat := ru.Required + ru.Forbidden
		if ru.re, err = regexp.Compile(pat); err != nil {
			return fmt.Errorf("rule %s: %w", ru.ID, err)
		}
		if ru.Parent != "" {
			if ru.parent, err = regexp.Compile(ru.Parent); err != nil {
				return fmt.Errorf("rule %s: parent: %w", ru.ID, err)
			}
		}
	}
	return nil
}

// Check is one rule's outcome on one device.
type Check struct {
	Role  string   `json:"role"`
	Rule  string   `json:"rule"` // "golden" for a golden config
	Pass  bool     `json:"pass"`
	Lines []string `json:"lines,omitempty"` // forbidden lines found, or required lines missing ("parent > line")
}

// Device is one device's checks.
type Device struct {
	Hostname string  `json:"hostname"`
	Pass     bool    `json:"pass"`
	Checks   []Check `json:"checks"`
}

// Check holds one device's config to every role whose hosts match it. A
// device no role matches passes with no checks.
func (p *Policy) Check(d *diff.Differ, hostname string, cfg *confparse.Tree) (Device, error) {
	dev := Device{Hostname: hostname, Pass: true, Checks: []Check{}}
	junos := cfg.Format != confparse.FormatIndented
	for i := range p.Roles {
		role := &p.Roles[i]
		if !role.hosts.MatchString(hostname) {
			continue
		}
		if role.golden != nil {
			c := Check{Role: role.Name, Rule: "golden"}
			if (role.golden.Format != confparse.FormatIndented) != junos {
				return dev, fmt.Errorf("role %s: the golden config and %s are not of one syntax (Junos and indented)", role.Name, hostname)
			}
			g := *role.golden
			g.Platform = cfg.Platform
			res, err := d.Diff(cfg, &g)
			if err != nil {
				return dev, fmt.Errorf("role %s: %w", role.Name, err)
			}
			for _, s := range res.Sections {
				for _, l := range s.Added {
					c.Lines = append(c.Lines, joinPath(s.Path, l))
				}
				for _, ch := range s.Changed {
					c.Lines = append(c.Lines, joinPath(s.Path, ch.To))
				}
			}
			c.Pass = len(c.Lines) == 0
			dev.add(c)
		}
		for j := range role.Rules {
			dev.add(role.Rules[j].check(role.Name, cfg, junos))
		}
	}
	return dev, nil
}

func (d *Device) add(c Check) {
	d.Checks = append(d.Checks, c)
	d.Pass = d.Pass && c.Pass
}

func joinPath(path []string, line string) string {
	if len(path) == 0 {
		return line
	}
	return strings.Join(path, " > ") + " > " + line
}

func (r *Rule) check(role string, cfg *confparse.Tree, junos bool) Check {
	c := Check{Role: role, Rule: r.ID}
	if junos {
		found := false
		for _, st := range cfg.Statements() {
			if r.re.MatchString(st.Text) {
				found = true
				if r.Forbidden != "" {
					c.Lines = append(c.Lines, st.Text)
				}
			}
		}
		if r.Required != "" && !found {
			c.Lines = append(c.Lines, r.Required)
		}
		c.Pass = len(c.Lines) == 0
		return c
	}
	// scopes are the sets of lines the rule holds over: the top level, or
	// the children of each matching parent.
	type scope struct {
		name  string
		nodes []*confparse.Node
	}
	var scopes []scope
	if r.parent == nil {
		scopes = []scope{{nodes: cfg.Children}}
	} else {
		cfg.Walk(func(n *confparse.Node) bool {
			if n.IsConfig() && r.parent.MatchString(n.Text) {
				scopes = append(scopes, scope{name: n.Text, nodes: n.Children})
			}
			return true
		})
	}
	for _, s := range scopes {
		found := false
		for _, n := range s.nodes {
			if !n.IsConfig() || !r.re.MatchString(n.Text) {
				continue
			}
			found = true
			if r.Forbidden != "" {
				c.Lines = append(c.Lines, joinPath(nonEmpty(s.name), n.Text))
			}
		}
		if r.Required != "" && !found {
			c.Lines = append(c.Lines, joinPath(nonEmpty(s.name), "missing "+r.Required))
		}
	}
	c.Pass = len(c.Lines) == 0
	return c
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
