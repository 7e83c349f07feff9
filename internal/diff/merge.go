package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
)

// Merge applies remediation commands to a running config the way this
// package models a device, and returns the config that results: indented
// one space a level, or Junos set form. The model, per section:
//
//   - "no X" removes the line X (with its section); with no line X, the
//     lines that start with "X " (a whole prefix list); with neither, it
//     is a line of its own ("no ip domain lookup").
//   - the restore prefix ("default X") removes X and "no X".
//   - any other line replaces the lines of the same overwrite key and "no
//     X", then is added, or merged into the section of the same text.
//   - Junos "set" adds a statement (replacing the value of a single-value
//     statement), "delete" removes a hierarchy.
func (d *Differ) Merge(running *confparse.Tree, remediation string) (string, error) {
	p := running.Platform
	if p == "" {
		p = netcfg.CiscoIOS
		if running.Format != confparse.FormatIndented {
			p = netcfg.JuniperJunos
		}
	}
	pr := d.plat[p]
	if running.Format != confparse.FormatIndented {
		root := buildJunos(running)
		for i, line := range strings.Split(remediation, "\n") {
			ws := words(strings.TrimRight(line, "\r")) // words splits on ASCII spaces only, as the statement was written
			if len(ws) == 0 {
				continue
			}
			if err := mergeJunos(pr, root, ws); err != nil {
				return "", fmt.Errorf("remediation line %d: %w", i+1, err)
			}
		}
		var out []string
		for _, c := range root.children {
			out = leaves(c, c.word, out)
		}
		return strings.Join(out, "\n") + "\n", nil
	}
	rem, err := confparse.Parse(p, remediation)
	if err != nil {
		return "", fmt.Errorf("remediation: %w", err)
	}
	root := build(running)
	mergeIndented(pr, root, build(rem), "", true)
	var b strings.Builder
	write(&b, root, 0)
	return b.String(), nil
}

func mergeIndented(pr *platformRules, dst, cmds *node, parent string, top bool) {
	for _, c := range cmds.children {
		if pr.settings.Restore != "" {
			if x, ok := strings.CutPrefix(c.text, pr.settings.Restore); ok {
				dst.remove(x)
				dst.remove("no " + x)
				continue
			}
		}
		if x, ok := strings.CutPrefix(c.text, "no "); ok {
			if dst.remove(x) {
				continue
			}
			removed := false
			for _, s := range slices.Clone(dst.children) {
				if strings.HasPrefix(s.text, x+" ") {
					removed = dst.remove(s.text) || removed
				}
			}
			if removed {
				continue
			}
		}
		if k := pr.overwriteKey(parent, top, c.text); k != "" {
			for _, s := range slices.Clone(dst.children) {
				if s.text != c.text && pr.overwriteKey(parent, top, s.text) == k {
					dst.remove(s.text)
				}
			}
		}
		dst.remove("no " + c.text)
		if old := dst.child(c.text); old != nil {
			if !old.same(c) {
				old.body = c.body
			}
			mergeIndented(pr, old, c, c.text, false)
			if pr.orderedSection(parent, top, old.text) {
				sortBySeq(old)
			}
			continue
		}
		dst.add(clone(c))
	}
}

func mergeJunos(pr *platformRules, root *jnode, ws []string) error {
	verb, path := ws[0], ws[1:]
	if len(path) == 0 {
		return fmt.Errorf("%q without a statement", verb)
	}
	switch verb {
	case "set":
		n := root
		for i, w := range path {
			if i == len(path)-1 && i > 0 && pr.junosOverwrites(strings.Join(path[:i], " ")) {
				for _, s := range slices.Clone(n.children) {
					if s.word != w {
						n.remove(s.word)
					}
				}
			}
			n = n.ensure(w)
		}
	case "delete":
		n := root
		for _, w := range path[:len(path)-1] {
			if n = n.child(w); n == nil {
				return nil // nothing to delete, as on the device
			}
		}
		n.remove(path[len(path)-1])
	default:
		return fmt.Errorf("%q is not set or delete", verb)
	}
	return nil
}

// Normalize returns a canonical text of a config for comparison: comments
// and block terminators dropped, sections merged, lines sorted within each
// section except where order matters (ordered sections and lists keep
// theirs). Two configs with the same Normalize need no remediation.
func (d *Differ) Normalize(t *confparse.Tree) string {
	p := t.Platform
	var b strings.Builder
	if t.Format != confparse.FormatIndented {
		pr := d.plat[netcfg.JuniperJunos]
		var rec func(n *jnode, path string)
		rec = func(n *jnode, path string) {
			if len(n.children) == 0 {
				b.WriteString("set " + path + "\n")
				return
			}
			cs := n.children
			if !pr.junosOrdered(path) {
				cs = slices.SortedFunc(slices.Values(cs), func(a, b *jnode) int { return cmp.Compare(a.word, b.word) })
			}
			for _, c := range cs {
				rec(c, strings.TrimPrefix(path+" "+c.word, " "))
			}
		}
		rec(buildJunos(t), "")
		return b.String()
	}
	if p == "" {
		p = netcfg.CiscoIOS
	}
	pr := d.plat[p]
	var rec func(n *node, depth int, parent string, top, ordered bool)
	rec = func(n *node, depth int, parent string, top, ordered bool) {
		cs := n.children
		if !ordered {
			group := func(c *node) string {
				if top {
					if rule, key := pr.listOf(c.text); rule != nil {
						return "\x00" + rule.ID + "\x00" + key
					}
				}
				return c.text
			}
			cs = slices.Clone(cs)
			slices.SortStableFunc(cs, func(a, b *node) int { return cmp.Compare(group(a), group(b)) })
		}
		for _, c := range cs {
			writeLine(&b, c, depth)
			rec(c, depth+1, c.text, false, ordered || pr.orderedSection(parent, top, c.text))
		}
	}
	rec(build(t), 0, "", true, false)
	return b.String()
}

// sortBySeq puts the entries of a numbered list in sequence order, as the
// device keeps them; a list that is not numbered keeps its order.
func sortBySeq(n *node) {
	for _, c := range n.children {
		if _, ok := seq(c.text); !ok {
			return
		}
	}
	slices.SortStableFunc(n.children, func(a, b *node) int {
		x, _ := seq(a.text)
		y, _ := seq(b.text)
		return cmp.Compare(x, y)
	})
}
