package confparse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"netsmith/internal/netcfg"
)

// FRR is netcfg.FRR, FRRouting: indented like IOS, but a routing daemon's
// config rather than a whole device's.
const FRR = netcfg.FRR

// ErrBinary is returned by Parse for input that holds NUL bytes: not a
// config.
var ErrBinary = errors.New("input is binary (holds NUL bytes)")

// Parse parses text as a config of platform. Junos (juniper_junos) is parsed
// as brace or set form, whichever the text is; every other known platform
// (FRR included) as an indented config. An empty platform means: Junos when the
// text looks like Junos, indented otherwise.
//
// Parse returns an error only for an unknown platform or binary input;
// malformed configs still give a tree, with Tree.Problems saying where.
func Parse(platform netcfg.Platform, text string) (*Tree, error) {
	if platform != "" && !slices.Contains(netcfg.Platforms, platform) {
		return nil, fmt.Errorf("parse config: unknown platform %q", platform)
	}
	if strings.IndexByte(text, 0) >= 0 {
		return nil, fmt.Errorf("parse config: %w", ErrBinary)
	}
	lines := splitLines(text)
	junos := platform == netcfg.JuniperJunos || platform == "" && LooksJunos(text)
	if !junos {
		return parseIndented(platform, lines), nil
	}
	if isSetForm(lines) {
		return parseJunosSet(platform, lines), nil
	}
	return parseJunosBrace(platform, lines), nil
}

// LooksJunos reports whether text looks like a Junos config in set or brace
// form rather than an indented one: most statements are set commands, or
// blocks open with "{" and most lines are Junos statements or braces.
func LooksJunos(text string) bool {
	var set, open, brace, other int
	for line := range strings.Lines(text) {
		s := strings.TrimSpace(line)
		switch {
		case s == "" || s[0] == '#' || s[0] == '!' || strings.HasPrefix(s, "/*"):
			continue
		case isSetVerb(s) && line[0] != ' ' && line[0] != '\t':
			set++ // indented "set" lines are IOS route-map clauses
		case strings.HasSuffix(s, "{"):
			open++
		case strings.HasSuffix(s, ";") || strings.Contains(s, "; #") || strings.Trim(s, "} ") == "":
			brace++
		default:
			other++
		}
	}
	total := set + open + brace + other
	return total > 0 && (set*2 > total || open > 0 && (open+brace)*2 > total)
}

type rawLine struct {
	text string // without terminator
	eol  string
}

// splitLines splits text on "\n", keeping "\r\n" terminators apart from the
// line. A final line without terminator is kept; the empty string after a
// final newline is not a line.
func splitLines(text string) []rawLine {
	out := make([]rawLine, 0, strings.Count(text, "\n")+1)
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, rawLine{text: text})
			break
		}
		line, eol := text[:i], "\n"
		if strings.HasSuffix(line, "\r") {
			line, eol = line[:len(line)-1], "\r\n"
		}
		out = append(out, rawLine{text: line, eol: eol})
		text = text[i+1:]
	}
	return out
}

// indentWidth is the display width of s's leading white space, with tab
// stops every 8 columns.
func indentWidth(s string) int {
	w := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			w++
		case '\t':
			w += 8 - w%8
		default:
			return w
		}
	}
	return w
}

func newNode(i int, l rawLine) *Node {
	return &Node{
		Line:   i + 1,
		Raw:    l.text,
		Text:   strings.TrimSpace(l.text),
		Indent: indentWidth(l.text),
		eol:    l.eol,
	}
}

// attach appends n to parent's children, or to the tree's top level when
// parent is nil.
func (t *Tree) attach(parent, n *Node) {
	n.Parent = parent
	if parent == nil {
		t.Children = append(t.Children, n)
		return
	}
	parent.Children = append(parent.Children, n)
}

func (t *Tree) problem(line int, format string, args ...any) {
	t.Problems = append(t.Problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}
