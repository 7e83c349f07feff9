package diff

import (
	"strings"

	"netsmith/internal/confparse"
)

// jnode is one word of a Junos statement path; a statement is a path from
// the root to a node without children.
type jnode struct {
	word     string
	children []*jnode
	index    map[string]*jnode
}

func (n *jnode) child(w string) *jnode { return n.index[w] }

func (n *jnode) ensure(w string) *jnode {
	if c := n.index[w]; c != nil {
		return c
	}
	if n.index == nil {
		n.index = make(map[string]*jnode)
	}
	c := &jnode{word: w}
	n.index[w] = c
	n.children = append(n.children, c)
	return c
}

func (n *jnode) remove(w string) bool {
	if n.index[w] == nil {
		return false
	}
	delete(n.index, w)
	for i, c := range n.children {
		if c.word == w {
			n.children = append(n.children[:i], n.children[i+1:]...)
			break
		}
	}
	return true
}

// buildJunos turns a Junos tree of either form into a word trie of its
// set-style statements.
func buildJunos(t *confparse.Tree) *jnode {
	root := &jnode{}
	for _, st := range t.Statements() {
		n := root
		for _, w := range words(strings.TrimPrefix(st.Text, "set ")) {
			n = n.ensure(w)
		}
	}
	return root
}

// words splits a statement on spaces outside double quotes.
func words(s string) []string {
	var out []string
	start, quoted := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
			if start < 0 {
				start = i
			}
		case c == ' ' && !quoted:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func joinWords(path []string, w string) string {
	if len(path) == 0 {
		return w
	}
	return strings.Join(path, " ") + " " + w
}

// leaves appends "set <path>" for every statement under n.
func leaves(n *jnode, path string, out []string) []string {
	if len(n.children) == 0 {
		return append(out, "set "+path)
	}
	for _, c := range n.children {
		out = leaves(c, path+" "+c.word, out)
	}
	return out
}

// junosOverwrites reports whether the statement path p (without its value)
// holds a single value.
func (pr *platformRules) junosOverwrites(p string) bool {
	for _, r := range pr.overwrite {
		if r.match.MatchString(p) {
			return true
		}
	}
	return false
}

func (pr *platformRules) junosOrdered(p string) bool {
	for _, r := range pr.ordered {
		if r.match.MatchString(p) {
			return true
		}
	}
	return false
}

// diffJunos compares the children of run and want at path.
func diffJunos(pr *platformRules, run, want *jnode, path []string, res *Result) {
	p := strings.Join(path, " ")
	sec := Section{Path: []string{p}}
	if len(path) == 0 {
		sec.Path = []string{}
	}
	if len(path) > 0 && pr.junosOrdered(p) && !sameJunos(run, want) {
		res.Remediation = append(res.Remediation, "delete "+p)
		res.Remediation = leaves(want, p, res.Remediation)
		sec.Replaced = true
		sec.Removed = leaves(run, p, nil)
		sec.Added = leaves(want, p, nil)
		res.Sections = append(res.Sections, sec)
		return
	}
	at := len(res.Sections)
	res.Sections = append(res.Sections, sec)
	single := len(path) > 0 && pr.junosOverwrites(p)
	for _, r := range run.children {
		if want.child(r.word) != nil {
			continue
		}
		if single && len(want.children) > 0 {
			sec.Changed = append(sec.Changed, Change{From: joinWords(path, r.word), To: joinWords(path, want.children[0].word)})
			continue
		}
		res.Remediation = append(res.Remediation, "delete "+joinWords(path, r.word))
		sec.Removed = append(sec.Removed, joinWords(path, r.word))
	}
	for _, w := range want.children {
		r := run.child(w.word)
		if r == nil {
			res.Remediation = leaves(w, joinWords(path, w.word), res.Remediation)
			if !single || len(run.children) == 0 {
				sec.Added = append(sec.Added, joinWords(path, w.word))
			}
			continue
		}
		diffJunos(pr, r, w, append(path[:len(path):len(path)], w.word), res)
	}
	res.Sections[at] = sec
	if len(sec.Added)+len(sec.Removed)+len(sec.Changed) == 0 {
		res.Sections = append(res.Sections[:at], res.Sections[at+1:]...)
	}
}

func sameJunos(a, b *jnode) bool {
	if len(a.children) != len(b.children) {
		return false
	}
	for i := range a.children {
		if a.children[i].word != b.children[i].word || !sameJunos(a.children[i], b.children[i]) {
			return false
		}
	}
	return true
}
