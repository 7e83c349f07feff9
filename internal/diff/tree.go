package diff

import (
	"strings"

	"netsmith/internal/confparse"
)

// node is a config line for comparison: comments, blank lines and block
// terminators dropped, a banner's text kept with it, repeated sections
// merged.
type node struct {
	text     string
	body     []string // raw lines of a delimited block (banner), compared as part of the line
	children []*node
	index    map[string]*node
}

// structural lines close a block; the tree's shape already says where
// blocks end, so they are not configuration to compare.
var structural = map[string]bool{
	"end": true, "exit": true, "exit-address-family": true, "exit-vrf": true,
	"exit-vni": true, "exit-link-params": true, "exit-peer-list": true, "exit-peer-template": true,
}

func (n *node) same(o *node) bool {
	return n.text == o.text && slicesEqual(n.body, o.body)
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// add appends c, or merges it into a sibling with the same text.
func (n *node) add(c *node) *node {
	if n.index == nil {
		n.index = make(map[string]*node)
	}
	if old, ok := n.index[c.text]; ok {
		for _, g := range c.children {
			old.add(g)
		}
		return old
	}
	n.index[c.text] = c
	n.children = append(n.children, c)
	return c
}

func (n *node) child(text string) *node {
	if n.index == nil {
		return nil
	}
	return n.index[text]
}

func (n *node) remove(text string) bool {
	if _, ok := n.index[text]; !ok {
		return false
	}
	delete(n.index, text)
	for i, c := range n.children {
		if c.text == text {
			n.children = append(n.children[:i], n.children[i+1:]...)
			break
		}
	}
	return true
}

// build turns an indented confparse tree into a node tree.
func build(t *confparse.Tree) *node {
	root := &node{}
	var rec func(dst *node, ns []*confparse.Node)
	rec = func(dst *node, ns []*confparse.Node) {
		for _, n := range ns {
			if n.Kind != confparse.KindConfig || structural[n.Text] {
				continue
			}
			c := &node{text: n.Text}
			for _, b := range n.Children {
				if b.Kind == confparse.KindBody {
					c.body = append(c.body, b.Raw)
				}
			}
			c = dst.add(c)
			rec(c, n.Children)
		}
	}
	rec(root, t.Children)
	return root
}

// write appends n's subtree to b, one space of indentation per level.
func write(b *strings.Builder, n *node, depth int) {
	for _, c := range n.children {
		writeLine(b, c, depth)
		write(b, c, depth+1)
	}
}

func writeLine(b *strings.Builder, c *node, depth int) {
	b.WriteString(strings.Repeat(" ", depth))
	b.WriteString(c.text)
	b.WriteByte('\n')
	for _, l := range c.body {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}
