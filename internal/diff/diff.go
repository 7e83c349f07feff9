package diff

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// Result is the remediation from a running config to an intended one.
type Result struct {
	Platform netcfg.Platform `json:"platform"`
	// Remediation is the commands in order, one a line; indentation (one
	// space a level) puts a command under the section line above it. For
	// Junos every line is a top-level set or delete command.
	Remediation []string `json:"remediation"`
	// Sections is the structured diff: by section, the lines added,
	// removed and changed (an overwriting line that replaced another).
	Sections []Section `json:"sections"`
}

// Section is what changed directly under one section.
type Section struct {
	Path    []string `json:"path"` // the section lines, outermost first; empty for the top level
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []Change `json:"changed,omitempty"`
	// Replaced: the section is an ordered list and is negated and written
	// again as a whole (Added and Removed name the lines that differ).
	Replaced bool `json:"replaced,omitempty"`
}

// Change is a line replaced by another of the same setting.
type Change struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Empty reports whether there is nothing to do: the configs are in sync.
func (r *Result) Empty() bool { return len(r.Remediation) == 0 }

// Text returns the remediation as text, one command a line.
func (r *Result) Text() string {
	if len(r.Remediation) == 0 {
		return ""
	}
	return strings.Join(r.Remediation, "\n") + "\n"
}

// Counts returns the number of lines added, removed and changed.
func (r *Result) Counts() (added, removed, changed int) {
	for _, s := range r.Sections {
		added += len(s.Added)
		removed += len(s.Removed)
		changed += len(s.Changed)
	}
	return
}

// ErrPlatform is returned when two configs of different platforms are
// compared.
var ErrPlatform = errors.New("running and intended configs are of different platforms")

// Diff returns the remediation from running to intended. Both trees must be
// of one platform; a tree without one takes the other's.
func (d *Differ) Diff(running, intended *confparse.Tree) (*Result, error) {
	p := intended.Platform
	if p == "" {
		p = running.Platform
	}
	if running.Platform != "" && running.Platform != p {
		return nil, fmt.Errorf("%w: %s and %s", ErrPlatform, running.Platform, p)
	}
	junosR := running.Format != confparse.FormatIndented
	junosI := intended.Format != confparse.FormatIndented
	if junosR != junosI {
		return nil, fmt.Errorf("%w: one is Junos, the other is not", ErrPlatform)
	}
	if p == "" {
		p = netcfg.CiscoIOS
		if junosI {
			p = netcfg.JuniperJunos
		}
	}
	pr := d.plat[p]
	res := &Result{Platform: p, Remediation: []string{}, Sections: []Section{}}
	if junosI {
		diffJunos(pr, buildJunos(running), buildJunos(intended), nil, res)
		return res, nil
	}
	out := &node{}
	diffIndented(pr, build(running), build(intended), "", true, out, nil, res)
	var b strings.Builder
	write(&b, out, 0)
	res.Remediation = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if b.Len() == 0 {
		res.Remediation = []string{}
	}
	return res, nil
}

// DiffText parses both configs as platform (empty: detected, Junos or
// indented) and returns the remediation.
func (d *Differ) DiffText(platform netcfg.Platform, running, intended string) (*Result, error) {
	if platform != "" {
		for _, c := range []struct{ name, text string }{{"running", running}, {"intended", intended}} {
			if j := confparse.LooksJunos(c.text); j != (platform == netcfg.JuniperJunos) && strings.TrimSpace(c.text) != "" {
				what := "does not look like Junos"
				if j {
					what = "looks like Junos"
				}
				return nil, fmt.Errorf("%w: the %s config %s, the platform is %s", ErrPlatform, c.name, what, platform)
			}
		}
	}
	rt, err := confparse.Parse(platform, running)
	if err != nil {
		return nil, fmt.Errorf("running config: %w", err)
	}
	it, err := confparse.Parse(platform, intended)
	if err != nil {
		return nil, fmt.Errorf("intended config: %w", err)
	}
	return d.Diff(rt, it)
}

// diffIndented adds to out the commands that turn run's children into
// want's, and to res the structured diff. parent is the section line (""
// at the top level).
func diffIndented(pr *platformRules, run, want *node, parent string, top bool, out *node, path []string, res *Result) {
	sec := Section{Path: path}
	at := len(res.Sections) // this level's entry goes before those of its subsections
	res.Sections = append(res.Sections, sec)
	// The overwrite keys the intended children set, so that an old value
	// is left for the new line to replace rather than negated. Only a line
	// the running config lacks can replace another, so only those are
	// matched against the rules.
	wantKeys := make(map[string]*node)
	for _, w := range want.children {
		if r := run.child(w.text); r != nil && r.same(w) {
			continue
		}
		if k := pr.overwriteKey(parent, top, w.text); k != "" {
			wantKeys[k] = w
		}
	}
	changedFrom := make(map[string]string) // intended text → the running line it replaces
	var lists map[string]*listDiff
	var listOrder []string
	if top {
		lists, listOrder = diffLists(pr, run, want)
	}
	// Groups (a BGP neighbor's lines) the intended config keeps; one it
	// drops is negated once, after the subsections, so that their own
	// lines for it go first.
	var kept map[string]bool
	var dropped []string
	if len(pr.groups) > 0 {
		kept = make(map[string]bool)
		for _, w := range want.children {
			if g := pr.groupOf(parent, top, w.text); g != "" {
				kept[g] = true
			}
		}
	}

	for _, r := range run.children {
		if w := want.child(r.text); w != nil {
			if !r.same(w) { // a banner whose text changed: the new one overwrites it
				changedFrom[w.text] = r.text
			}
			continue
		}
		if top {
			if rule, _ := pr.listOf(r.text); rule != nil {
				sec.Removed = append(sec.Removed, r.text)
				continue // the whole list is replaced below
			}
		}
		if k := pr.overwriteKey(parent, top, r.text); k != "" && wantKeys[k] != nil {
			changedFrom[wantKeys[k].text] = r.text
			continue
		}
		if x, ok := strings.CutPrefix(r.text, "no "); ok {
			if want.child(x) != nil {
				changedFrom[x] = r.text // "X" replaces "no X"
				continue
			}
			out.add(&node{text: pr.settings.Restore + x})
			sec.Removed = append(sec.Removed, r.text)
			continue
		}
		if want.child("no "+r.text) != nil {
			changedFrom["no "+r.text] = r.text
			continue
		}
		if g := pr.groupOf(parent, top, r.text); g != "" && !kept[g] {
			if !slices.Contains(dropped, g) {
				dropped = append(dropped, g)
			}
			sec.Removed = append(sec.Removed, r.text)
			continue
		}
		out.add(&node{text: pr.negation(parent, top, r.text)})
		sec.Removed = append(sec.Removed, r.text)
	}
	for _, id := range listOrder {
		if l := lists[id]; l.changed && l.inRunning {
			out.add(&node{text: l.negate})
		}
	}

	for _, w := range want.children {
		if top {
			if rule, key := pr.listOf(w.text); rule != nil {
				l := lists[rule.ID+"\x00"+key]
				if l.changed {
					out.add(clone(w))
					if run.child(w.text) == nil {
						sec.Added = append(sec.Added, w.text)
					}
				}
				continue
			}
		}
		r := run.child(w.text)
		if r == nil || !r.same(w) {
			out.add(clone(w))
			if from, ok := changedFrom[w.text]; ok {
				sec.Changed = append(sec.Changed, Change{From: from, To: w.text})
			} else {
				sec.Added = append(sec.Added, w.text)
			}
			continue
		}
		if len(w.children) == 0 && len(r.children) == 0 {
			continue
		}
		if pr.orderedSection(parent, top, w.text) {
			if sameOrdered(r, w) {
				continue
			}
			sub := append(path[:len(path):len(path)], w.text)
			if numbered(r) && numbered(w) {
				out.add(resequence(r, w))
				s := replaced(sub, r, w)
				s.Replaced = false
				res.Sections = append(res.Sections, s)
				continue
			}
			out.add(&node{text: "no " + w.text})
			out.add(clone(w))
			res.Sections = append(res.Sections, replaced(sub, r, w))
			continue
		}
		sub := &node{text: w.text}
		diffIndented(pr, r, w, w.text, false, sub, append(path[:len(path):len(path)], w.text), res)
		if len(sub.children) > 0 {
			out.add(sub)
		}
	}
	for _, g := range dropped {
		out.add(&node{text: g})
	}
	if sec.Path == nil {
		sec.Path = []string{}
	}
	res.Sections[at] = sec
	if len(sec.Added)+len(sec.Removed)+len(sec.Changed) == 0 {
		res.Sections = append(res.Sections[:at], res.Sections[at+1:]...)
	}
}

// listDiff is one top-level ordered list (a prefix list, a numbered ACL).
type listDiff struct {
	negate    string
	inRunning bool
	changed   bool
}

// diffLists finds the top-level ordered lists and whether each differs:
// any added, removed or reordered line replaces the whole list. It also
// returns their ids in the order they first appear.
func diffLists(pr *platformRules, run, want *node) (map[string]*listDiff, []string) {
	if len(pr.lists) == 0 {
		return nil, nil
	}
	seqs := func(n *node) map[string][]string {
		m := make(map[string][]string)
		for _, c := range n.children {
			if rule, key := pr.listOf(c.text); rule != nil {
				id := rule.ID + "\x00" + key
				m[id] = append(m[id], c.text)
			}
		}
		return m
	}
	rs, ws := seqs(run), seqs(want)
	out := make(map[string]*listDiff)
	var order []string
	for _, n := range []*node{run, want} {
		for _, c := range n.children {
			rule, key := pr.listOf(c.text)
			if rule == nil {
				continue
			}
			id := rule.ID + "\x00" + key
			if _, ok := out[id]; ok {
				continue
			}
			order = append(order, id)
			out[id] = &listDiff{
				negate:    strings.ReplaceAll(rule.Negate, "{key}", key),
				inRunning: len(rs[id]) > 0,
				changed:   !slicesEqual(rs[id], ws[id]),
			}
		}
	}
	return out, order
}

// sameOrdered reports whether two sections hold the same lines in the same
// order, at every depth.
func sameOrdered(a, b *node) bool {
	if !a.same(b) || len(a.children) != len(b.children) {
		return false
	}
	for i := range a.children {
		if !sameOrdered(a.children[i], b.children[i]) {
			return false
		}
	}
	return true
}

func clone(n *node) *node {
	c := &node{text: n.text, body: n.body}
	for _, g := range n.children {
		c.add(clone(g))
	}
	return c
}

// replaced describes an ordered section written again as a block.
func replaced(path []string, r, w *node) Section {
	s := Section{Path: path, Replaced: true}
	for _, c := range w.children {
		if o := r.child(c.text); o == nil || !sameOrdered(o, c) {
			s.Added = append(s.Added, c.text)
		}
	}
	for _, c := range r.children {
		if o := w.child(c.text); o == nil || !sameOrdered(o, c) {
			s.Removed = append(s.Removed, c.text)
		}
	}
	return s
}

// seq returns the sequence number a list entry starts with ("30 deny …").
func seq(text string) (int, bool) {
	f, _, _ := strings.Cut(text, " ")
	n, err := strconv.Atoi(f)
	return n, err == nil && n >= 0
}

// numbered reports whether every entry of an ordered section starts with
// a sequence number, in increasing order: such a list is edited entry by
// entry, the numbers keeping the order.
func numbered(n *node) bool {
	last := -1
	for _, c := range n.children {
		s, ok := seq(c.text)
		if !ok || s <= last {
			return false
		}
		last = s
	}
	return len(n.children) > 0
}

// resequence edits a numbered list entry by entry: "no <seq>" for an entry
// that goes or changes, the entry itself for one that comes or changes.
func resequence(r, w *node) *node {
	bySeq := func(n *node) map[int]*node {
		m := make(map[int]*node, len(n.children))
		for _, c := range n.children {
			s, _ := seq(c.text)
			m[s] = c
		}
		return m
	}
	rs, ws := bySeq(r), bySeq(w)
	out := &node{text: w.text}
	for _, c := range r.children {
		s, _ := seq(c.text)
		if o := ws[s]; o == nil || !sameOrdered(o, c) {
			out.add(&node{text: "no " + strconv.Itoa(s)})
		}
	}
	for _, c := range w.children {
		s, _ := seq(c.text)
		if o := rs[s]; o == nil || !sameOrdered(o, c) {
			out.add(clone(c))
		}
	}
	return out
}
