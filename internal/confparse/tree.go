package confparse

import (
	"io"
	"regexp"
	"strings"

	"netsmith/internal/netcfg"
)

// Format is the syntax a Tree was parsed from.
type Format uint8

// The formats.
const (
	FormatIndented   Format = iota // IOS, IOS-XE, NX-OS, EOS, FRR
	FormatJunosBrace               // Junos "system { … }"
	FormatJunosSet                 // Junos "set system …"
)

func (f Format) String() string {
	switch f {
	case FormatIndented:
		return "indented"
	case FormatJunosBrace:
		return "junos-brace"
	case FormatJunosSet:
		return "junos-set"
	}
	return "unknown"
}

// Kind says what a line is.
type Kind uint8

// The kinds of line.
const (
	KindConfig  Kind = iota // a configuration statement
	KindComment             // "!" (or "#", "/* */" in Junos) comment
	KindBlank               // empty or white space only
	KindBody                // free text inside a delimited block (banner, comment, macro) or a multi-line Junos string, delimiter line included
	KindClose               // a Junos line holding only closing braces
	KindTrailer             // after a top-level "end": not configuration
)

func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindComment:
		return "comment"
	case KindBlank:
		return "blank"
	case KindBody:
		return "body"
	case KindClose:
		return "close"
	case KindTrailer:
		return "trailer"
	}
	return "unknown"
}

// Node is one line of a config.
type Node struct {
	Line     int     // 1-based line number
	Text     string  // the line without leading and trailing white space
	Raw      string  // the line as written, without its line terminator
	Indent   int     // width of the leading white space (a tab advances to the next multiple of 8)
	Kind     Kind    // what the line is
	Children []*Node // lines nested under this one, in order
	Parent   *Node   // nil for top-level lines

	eol string // "\n", "\r\n" or "" (last line without newline)
}

// IsConfig reports whether n is a configuration statement (not a comment,
// blank line, banner body, closing brace or trailer).
func (n *Node) IsConfig() bool { return n.Kind == KindConfig }

// ChildrenWithPrefix returns the configuration children of n whose Text
// starts with prefix.
func (n *Node) ChildrenWithPrefix(prefix string) []*Node { return withPrefix(n.Children, prefix) }

// ChildrenMatching returns the configuration children of n whose Text
// matches re.
func (n *Node) ChildrenMatching(re *regexp.Regexp) []*Node { return matching(n.Children, re) }

// Child returns the first configuration child of n whose Text starts with
// prefix, or nil.
func (n *Node) Child(prefix string) *Node { return first(n.Children, prefix) }

// Walk calls fn for n and then for its descendants in document order. When
// fn returns false the descendants of that node are skipped.
func (n *Node) Walk(fn func(*Node) bool) {
	if fn(n) {
		walk(n.Children, fn)
	}
}

// Path returns the Text of n's ancestors, outermost first, followed by n's.
func (n *Node) Path() []string {
	var p []string
	for a := n; a != nil; a = a.Parent {
		p = append(p, a.Text)
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Problem is something in the input that did not parse cleanly. The tree is
// still built; Problem says where it may not mean what the author intended.
type Problem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Statement is one Junos configuration statement in set form, as "show
// configuration | display set" would print it, with the line it came from.
type Statement struct {
	Line int
	Text string // "set system services ssh"
}

// Tree is a parsed config. It is not modified after Parse returns and may be
// read from many goroutines.
type Tree struct {
	Platform netcfg.Platform
	Format   Format
	Children []*Node   // top-level lines
	Problems []Problem // in line order

	nodes      []*Node // every line, in document order
	statements []Statement
}

// Nodes returns every line of the tree in document order (the order of the
// input). The slice is shared: do not modify it.
func (t *Tree) Nodes() []*Node { return t.nodes }

// Find returns the top-level configuration lines whose Text starts with
// prefix.
func (t *Tree) Find(prefix string) []*Node { return withPrefix(t.Children, prefix) }

// FindMatching returns the top-level configuration lines whose Text matches
// re.
func (t *Tree) FindMatching(re *regexp.Regexp) []*Node { return matching(t.Children, re) }

// FindAll returns the configuration lines at any depth whose Text matches
// re, in document order.
func (t *Tree) FindAll(re *regexp.Regexp) []*Node { return matching(t.nodes, re) }

// Walk calls fn for every top-level line and its descendants in document
// order; when fn returns false the descendants of that node are skipped.
func (t *Tree) Walk(fn func(*Node) bool) { walk(t.Children, fn) }

// Statements returns the configuration as Junos set-style statements in
// document order: for a Junos tree of either form, every leaf statement
// with its full path ("set system services ssh"); for other formats, nil.
// The slice is shared: do not modify it.
func (t *Tree) Statements() []Statement { return t.statements }

// String returns the config as text; it equals the parsed input.
func (t *Tree) String() string {
	var b strings.Builder
	n := 0
	for _, nd := range t.nodes {
		n += len(nd.Raw) + len(nd.eol)
	}
	b.Grow(n)
	for _, nd := range t.nodes {
		b.WriteString(nd.Raw)
		b.WriteString(nd.eol)
	}
	return b.String()
}

// Serialize writes the tree by walking it depth-first, which is how an
// editor of the tree would write it back; for a parsed tree it equals
// String.
func (t *Tree) Serialize() string {
	var b strings.Builder
	var rec func([]*Node)
	rec = func(ns []*Node) {
		for _, n := range ns {
			b.WriteString(n.Raw)
			b.WriteString(n.eol)
			rec(n.Children)
		}
	}
	rec(t.Children)
	return b.String()
}

// WriteTo writes the config as text to w.
func (t *Tree) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, t.String())
	return int64(n), err
}

func withPrefix(ns []*Node, prefix string) []*Node {
	var out []*Node
	for _, n := range ns {
		if n.Kind == KindConfig && strings.HasPrefix(n.Text, prefix) {
			out = append(out, n)
		}
	}
	return out
}

func matching(ns []*Node, re *regexp.Regexp) []*Node {
	var out []*Node
	for _, n := range ns {
		if n.Kind == KindConfig && re.MatchString(n.Text) {
			out = append(out, n)
		}
	}
	return out
}

func first(ns []*Node, prefix string) *Node {
	for _, n := range ns {
		if n.Kind == KindConfig && strings.HasPrefix(n.Text, prefix) {
			return n
		}
	}
	return nil
}

func walk(ns []*Node, fn func(*Node) bool) {
	for _, n := range ns {
		if fn(n) {
			walk(n.Children, fn)
		}
	}
}
