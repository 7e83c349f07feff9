package confparse

import (
	"strings"
	"unicode/utf8"

	"netsmith/internal/netcfg"
)

func parseIndented(platform netcfg.Platform, lines []rawLine) *Tree {
	t := &Tree{Platform: platform, Format: FormatIndented, nodes: make([]*Node, 0, len(lines))}
	var (
		next    = nextIndex{lines: lines}
		stack   []*Node // open blocks, innermost last
		pending []*Node // comments and blank lines waiting for the next statement
		ended   bool    // a top-level "end" was seen
	)
	for i := 0; i < len(lines); i++ {
		n := newNode(i, lines[i])
		t.nodes = append(t.nodes, n)
		switch {
		case ended:
			n.Kind = KindTrailer
			t.attach(nil, n)
			continue
		case n.Text == "":
			n.Kind = KindBlank
			pending = append(pending, n)
			continue
		case n.Text[0] == '!':
			n.Kind = KindComment
			pending = append(pending, n)
			continue
		}
		// Comments do not end a block: they go where the next statement
		// goes, which keeps document order and IOS semantics (a block
		// continues after "!").
		for len(stack) > 0 && stack[len(stack)-1].Indent >= n.Indent {
			stack = stack[:len(stack)-1]
		}
		var parent *Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		for _, c := range pending {
			t.attach(parent, c)
		}
		pending = pending[:0]
		t.attach(parent, n)

		if parent == nil && n.Text == "end" {
			ended = true
			continue
		}
		if end, ok := delimitedEnd(t, &next, i, n); ok {
			for j := i + 1; j <= end; j++ {
				b := newNode(j, lines[j])
				b.Kind = KindBody
				t.nodes = append(t.nodes, b)
				t.attach(n, b)
			}
			i = end
			continue // a delimited block holds no statements
		}
		stack = append(stack, n)
	}
	for _, c := range pending {
		t.attach(nil, c)
	}
	return t
}

// delimitedEnd reports whether n (line i) opens a block of free text, and
// the index of the block's last line. A block closed on its own line is not
// a block. An unterminated banner or macro runs to the end of the input, as
// it would on the device, and is reported as a problem.
func delimitedEnd(t *Tree, next *nextIndex, i int, n *Node) (int, bool) {
	lines, text := next.lines, n.Text
	switch {
	case strings.HasPrefix(text, "banner "):
		typ, rest, _ := strings.Cut(strings.TrimSpace(text[len("banner "):]), " ")
		rest = strings.TrimSpace(rest)
		if typ == "" {
			return 0, false
		}
		if rest == "" {
			// EOS: "banner login" followed by the text and a line "EOF".
			return next.find(i+1, "EOF")
		}
		delim := "^C"
		if !strings.HasPrefix(rest, delim) {
			_, size := utf8.DecodeRuneInString(rest)
			delim = rest[:size]
		}
		if strings.Contains(rest[len(delim):], delim) {
			return 0, false // "banner motd ^Chello^C"
		}
		for j := i + 1; j < len(lines); j++ {
			if strings.Contains(lines[j].text, delim) {
				return j, true
			}
		}
		t.problem(n.Line, "banner is not terminated by %q: the rest of the config is banner text", delim)
		return len(lines) - 1, len(lines)-1 > i
	case text == "comment":
		// EOS: "comment" followed by free text and a line "EOF".
		return next.find(i+1, "EOF")
	case strings.HasPrefix(text, "macro name "):
		if end, ok := next.find(i+1, "@"); ok {
			return end, true
		}
		t.problem(n.Line, "macro is not terminated by \"@\": the rest of the config is macro text")
		return len(lines) - 1, len(lines)-1 > i
	}
	return 0, false
}

// nextIndex finds the next line whose trimmed text is a given terminator.
// The answers for each terminator are computed once, in one backward pass,
// so that many unterminated blocks cost linear, not quadratic, time.
type nextIndex struct {
	lines []rawLine
	next  map[string][]int
}

// find returns the index of the first line at or after start whose trimmed
// text is want.
func (x *nextIndex) find(start int, want string) (int, bool) {
	if start >= len(x.lines) {
		return 0, false
	}
	idx, ok := x.next[want]
	if !ok {
		idx = make([]int, len(x.lines)+1)
		idx[len(x.lines)] = -1
		for j := len(x.lines) - 1; j >= 0; j-- {
			idx[j] = idx[j+1]
			if strings.TrimSpace(x.lines[j].text) == want {
				idx[j] = j
			}
		}
		if x.next == nil {
			x.next = make(map[string][]int)
		}
		x.next[want] = idx
	}
	return idx[start], idx[start] >= 0
}
