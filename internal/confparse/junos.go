package confparse

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"netsmith/internal/netcfg"
)

// isSetVerb reports whether the trimmed line s starts with a Junos command
// that only set-form configs hold.
func isSetVerb(s string) bool {
	verb, _, _ := strings.Cut(s, " ")
	switch verb {
	case "set", "delete", "deactivate", "activate":
		return true
	}
	return false
}

// isSetForm reports whether a Junos config is in set form: more of its
// statements are set commands than brace-form lines.
func isSetForm(lines []rawLine) bool {
	var set, brace int
	for _, l := range lines {
		s := strings.TrimSpace(l.text)
		switch {
		case s == "" || s[0] == '#' || strings.HasPrefix(s, "/*"):
		case isSetVerb(s):
			set++
		case strings.ContainsAny(s, "{};"):
			brace++
		}
	}
	return set > 0 && set >= brace
}

type tokKind uint8

const (
	tokWord  tokKind = iota
	tokOpen          // {
	tokClose         // }
	tokSemi          // ;
)

type token struct {
	kind tokKind
	text string
	line int // index of the line the token starts on
}

// lexed is a Junos config split into tokens.
type lexed struct {
	toks []token
	// owner[i] is the index of the line on which a comment or quoted string
	// that continues onto line i started, or -1.
	owner    []int
	problems []Problem
}

// lexJunos splits Junos text into words, quoted strings (with their quotes),
// braces and semicolons. "#" starts a comment at the start of a token, /* */
// comments and quoted strings may span lines. It runs in linear time.
func lexJunos(lines []rawLine) lexed {
	const (
		normal = iota
		inComment
		inString
	)
	lx := lexed{owner: make([]int, len(lines))}
	mode, start := normal, 0
	var str strings.Builder
	for li, l := range lines {
		lx.owner[li] = -1
		if mode != normal {
			lx.owner[li] = start
		}
		s := l.text
		for i := 0; i < len(s); {
			switch mode {
			case inComment:
				j := strings.Index(s[i:], "*/")
				if j < 0 {
					i = len(s)
					continue
				}
				i += j + 2
				mode = normal
			case inString:
				c := s[i]
				str.WriteByte(c)
				i++
				switch {
				case c == '\\' && i < len(s):
					str.WriteByte(s[i])
					i++
				case c == '"':
					lx.toks = append(lx.toks, token{kind: tokWord, text: str.String(), line: start})
					mode = normal
				}
			default:
				switch c := s[i]; {
				case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
					i++
				case c == '#':
					i = len(s)
				case c == '/' && i+1 < len(s) && s[i+1] == '*':
					mode, start = inComment, li
					i += 2
				case c == '{':
					lx.toks = append(lx.toks, token{kind: tokOpen, text: "{", line: li})
					i++
				case c == '}':
					lx.toks = append(lx.toks, token{kind: tokClose, text: "}", line: li})
					i++
				case c == ';':
					lx.toks = append(lx.toks, token{kind: tokSemi, text: ";", line: li})
					i++
				case c == '"':
					mode, start = inString, li
					str.Reset()
					str.WriteByte(c)
					i++
				default:
					j := i + 1
					for j < len(s) && !strings.ContainsRune(" \t\r\f\v{};", rune(s[j])) {
						j++
					}
					lx.toks = append(lx.toks, token{kind: tokWord, text: s[i:j], line: li})
					i = j
				}
			}
		}
		if mode == inString {
			str.WriteByte('\n')
		}
	}
	switch mode {
	case inString:
		lx.problems = append(lx.problems, Problem{Line: start + 1, Message: "quoted string is not terminated"})
		lx.toks = append(lx.toks, token{kind: tokWord, text: str.String(), line: start})
	case inComment:
		lx.problems = append(lx.problems, Problem{Line: start + 1, Message: "comment is not terminated by \"*/\""})
	}
	return lx
}

// lineNode makes the node for line li and decides its kind from its
// tokens; continuation lines of a multi-line comment or string become body
// lines of the line they started on.
func (t *Tree) lineNode(lines []rawLine, lx *lexed, li int, toks []token) (n, owner *Node) {
	n = newNode(li, lines[li])
	t.nodes = append(t.nodes, n)
	switch {
	case lx.owner[li] >= 0:
		n.Kind = KindBody
		return n, t.nodes[lx.owner[li]]
	case n.Text == "":
		n.Kind = KindBlank
	case len(toks) == 0:
		n.Kind = KindComment
	}
	return n, nil
}

func parseJunosBrace(platform netcfg.Platform, lines []rawLine) *Tree {
	t := &Tree{Platform: platform, Format: FormatJunosBrace, nodes: make([]*Node, 0, len(lines))}
	lx := lexJunos(lines)
	var stack []*Node
	ti := 0
	for li := range lines {
		from := ti
		for ti < len(lx.toks) && lx.toks[ti].line == li {
			ti++
		}
		toks := lx.toks[from:ti]
		n, owner := t.lineNode(lines, &lx, li, toks)
		switch {
		case owner != nil:
			t.attach(owner, n)
		default:
			var parent *Node
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			if n.Kind == KindConfig && onlyCloses(toks) {
				n.Kind = KindClose
			}
			t.attach(parent, n)
		}
		for _, tk := range toks {
			switch tk.kind {
			case tokOpen:
				stack = append(stack, n)
			case tokClose:
				if len(stack) == 0 {
					t.problem(n.Line, "unbalanced \"}\"")
					continue
				}
				stack = stack[:len(stack)-1]
			}
		}
	}
	t.statements = flattenBrace(t, lx.toks)
	t.sortProblems(lx.problems)
	return t
}

func onlyCloses(toks []token) bool {
	for _, tk := range toks {
		if tk.kind != tokClose && tk.kind != tokSemi {
			return false
		}
	}
	return len(toks) > 0
}

// flattenBrace turns brace-form tokens into set-form statements.
func flattenBrace(t *Tree, toks []token) []Statement {
	type frame struct {
		path     string
		inactive bool
		line     int
	}
	var (
		out   []Statement
		stack []frame
		words []string
		wline int
	)
	top := func() frame {
		if len(stack) == 0 {
			return frame{}
		}
		return stack[len(stack)-1]
	}
	// take consumes the pending words, strips a leading marker and says
	// whether it disables the statement.
	take := func() (string, bool) {
		ws := words
		words = words[:0]
		inactive := false
		if len(ws) > 0 {
			switch ws[0] {
			case "inactive:", "delete:":
				inactive, ws = true, ws[1:]
			case "protect:", "replace:", "active:":
				ws = ws[1:]
			}
		}
		return joinPath(top().path, ws), inactive
	}
	emit := func() {
		path, inactive := take()
		if !inactive && !top().inactive && path != "" {
			out = append(out, Statement{Line: wline + 1, Text: "set " + path})
		}
	}
	for _, tk := range toks {
		switch tk.kind {
		case tokWord:
			if len(words) == 0 {
				wline = tk.line
			}
			words = append(words, strings.ReplaceAll(tk.text, "\n", `\n`))
		case tokSemi:
			if len(words) > 0 {
				emit()
			}
		case tokOpen:
			line := tk.line
			if len(words) > 0 {
				line = wline
			}
			inherited := top().inactive
			path, inactive := take()
			stack = append(stack, frame{path: path, inactive: inactive || inherited, line: line})
		case tokClose:
			if len(words) > 0 {
				t.problem(wline+1, "statement is not terminated by \";\"")
				emit()
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(words) > 0 {
		t.problem(wline+1, "statement is not terminated by \";\"")
		emit()
	}
	for i := len(stack) - 1; i >= 0; i-- {
		t.problem(stack[i].line+1, "block is not closed by \"}\"")
	}
	return out
}

func joinPath(prefix string, words []string) string {
	w := strings.Join(words, " ")
	switch {
	case prefix == "":
		return w
	case w == "":
		return prefix
	}
	return prefix + " " + w
}

func parseJunosSet(platform netcfg.Platform, lines []rawLine) *Tree {
	t := &Tree{Platform: platform, Format: FormatJunosSet, nodes: make([]*Node, 0, len(lines))}
	lx := lexJunos(lines)
	st := setState{}
	ti := 0
	for li := range lines {
		from := ti
		for ti < len(lx.toks) && lx.toks[ti].line == li {
			ti++
		}
		toks := lx.toks[from:ti]
		n, owner := t.lineNode(lines, &lx, li, toks)
		if owner != nil {
			t.attach(owner, n)
			continue
		}
		t.attach(nil, n)
		if n.Kind != KindConfig {
			continue
		}
		words := make([]string, len(toks))
		for i, tk := range toks {
			words[i] = strings.ReplaceAll(tk.text, "\n", `\n`)
		}
		if !st.apply(n.Line, words) {
			t.problem(n.Line, "%q is not a set-form command", words[0])
		}
	}
	t.statements = st.result()
	t.sortProblems(lx.problems)
	return t
}

// setState applies set-form commands in order.
type setState struct {
	ctx      []string // words of the current edit level
	out      []Statement
	inactive []string // deactivated paths
}

// apply runs one command; it returns false for a command it does not know.
func (s *setState) apply(line int, words []string) bool {
	if len(words) == 0 {
		return true
	}
	verb, rest := words[0], words[1:]
	path := joinPath(strings.Join(s.ctx, " "), rest)
	switch verb {
	case "set":
		if len(rest) > 0 {
			s.out = append(s.out, Statement{Line: line, Text: "set " + path})
		}
	case "delete":
		if len(rest) == 0 {
			path = strings.Join(s.ctx, " ")
		}
		kept := s.out[:0]
		for _, st := range s.out {
			if !under(st.Text[len("set "):], path) {
				kept = append(kept, st)
			}
		}
		s.out = kept
	case "deactivate":
		s.inactive = append(s.inactive, path)
	case "activate":
		for i, p := range s.inactive {
			if p == path {
				s.inactive = append(s.inactive[:i], s.inactive[i+1:]...)
				break
			}
		}
	case "edit":
		s.ctx = append(s.ctx, rest...)
	case "top":
		s.ctx = nil
		if len(rest) > 0 {
			return s.apply(line, rest)
		}
	case "up":
		n := 1
		if len(rest) > 0 {
			if v, err := strconv.Atoi(rest[0]); err == nil && v > 0 {
				n = v
			}
		}
		s.ctx = s.ctx[:max(0, len(s.ctx)-n)]
	case "exit", "quit":
		s.ctx = s.ctx[:max(0, len(s.ctx)-1)]
	case "insert", "rename", "copy", "annotate", "protect", "unprotect", "commit", "load", "run", "show", "status", "wildcard", "replace":
		// Operational or ordering commands: no statement.
	default:
		return false
	}
	return true
}

func (s *setState) result() []Statement {
	if len(s.inactive) == 0 {
		return s.out
	}
	kept := s.out[:0]
	for _, st := range s.out {
		active := true
		for _, p := range s.inactive {
			if under(st.Text[len("set "):], p) {
				active = false
				break
			}
		}
		if active {
			kept = append(kept, st)
		}
	}
	return kept
}

// under reports whether path equals prefix or lies below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix) && len(path) > len(prefix) && path[len(prefix)] == ' ' || prefix == ""
}

// sortProblems adds extra to the tree's problems and puts them in line
// order.
func (t *Tree) sortProblems(extra []Problem) {
	t.Problems = append(t.Problems, extra...)
	slices.SortStableFunc(t.Problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
}
