package intentkey

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeRequirements returns the canonical form of a requirements text,
// so that texts that mean the same get the same cache key. The rules, in
// order, chosen so that a merge is only made when it is certainly safe:
//
//  1. Quoted literals ("…", `…` or “…”, closed on the same line) are kept
//     byte for byte, because banners, descriptions and SNMP communities are
//     case-sensitive. Everything else is case-folded.
//  2. Whitespace of any kind collapses to one space; the text becomes one
//     line. Typographic dashes become '-'.
//  3. Punctuation that only structures prose is dropped: commas, semicolons,
//     quote marks and apostrophes; '.', '!', '?' and a single ':' at the end
//     of a word (sentence ends; "2001:db8::" keeps its "::"); unmatched
//     brackets at a word's edges; bullet marks ("-", "*", "•") before the
//     first word of a line. Punctuation inside a word is kept, so addresses,
//     prefixes, interface names, versions, ranges ("10-20") and operators
//     (">=") are untouched. A dropped character always becomes a word break,
//     so two digit runs are never joined: "1,000" becomes "1 000", never
//     "1000". No digit is ever dropped or changed.
//  4. Lists whose order carries no meaning are sorted. A list is a run of at
//     least two values (words holding a digit) separated by commas and/or
//     "and", directly after one of the plural nouns vlans, ids, ports,
//     interfaces, uplinks, downlinks, peers, neighbors, neighbours, members,
//     spines, leaves, leafs, vrfs, vnis, asns. It is written "vlans
//     10,20,30", in natural order, duplicates kept. Nothing else is ever
//     reordered: not sentences, not words, not lists after other nouns.
//     "servers" is deliberately absent (DNS, AAA and syslog server order is
//     failover order), as are prefixes, networks and subnets (first-match
//     lists). No list in the text is sorted when
//     - the text has a word that makes order meaningful anywhere in it
//     (respectively, order, primary, first, then, priority, prefer, backup,
//     pair, map, … see isOrderWord), or
//     - another run of values in the text has the same length, since
//     "uplinks Te1/1/1, Te1/1/2 to dist01, dist02" pairs its lists by
//     position; only the list of that length is left as written.
//
// The result is idempotent and holds the same multiset of digit runs as the
// input (both are fuzz-tested).
func NormalizeRequirements(s string) string {
	toks := scan(s)
	seqs := findSequences(toks)
	return render(toks, seqs)
}

// isListNoun reports whether w is a plural noun after which a list of
// values is a set.
func isListNoun(w string) bool {
	switch w {
	case "vlans", "ids", "ports", "interfaces", "uplinks", "downlinks", "peers",
		"neighbors", "neighbours", "members", "spines", "leaves", "leafs",
		"vrfs", "vnis", "asns":
		return true
	}
	return false
}

// isOrderWord reports whether w makes order meaningful somewhere in the
// text; when any such word appears, no list is sorted.
func isOrderWord(w string) bool {
	switch w {
	case "respectively", "respective", "order", "ordered", "ordering",
		"sequence", "sequential", "sequentially", "priority", "priorities",
		"prioritized", "primary", "secondary", "tertiary", "prefer",
		"preferred", "preference", "first", "second", "third", "last", "then",
		"followed", "fallback", "backup", "failover", "before", "after",
		"precedence", "ranked", "ascending", "descending", "pair", "pairs",
		"paired", "pairwise", "corresponding", "correspond",
		"correspondingly", "map", "maps", "mapped", "mapping":
		return true
	}
	return false
}

type tokKind uint8

const (
	tokWord     tokKind = iota // a cleaned, case-folded word
	tokLiteral                 // a quoted literal, verbatim
	tokComma                   // ','
	tokBoundary                // sentence end, ';', bullet, blank line
)

type token struct {
	kind tokKind
	text string
	// stop is set on a word that ended a sentence or a clause ('.', '!',
	// '?', ':' stripped from its end): no list continues past it.
	stop bool
}

func (t token) isItem() bool {
	return t.kind == tokWord && hasDigit(t.text)
}

func (t token) isAnd() bool { return t.kind == tokWord && t.text == "and" }

func (t token) isSep() bool { return t.kind == tokComma || (t.isAnd() && !t.stop) }

// dropped reports whether the token is not rendered at all.
func (t token) dropped() bool { return t.kind == tokComma || t.kind == tokBoundary }

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// mapRune folds typographic variants and marks invisible separators.
func mapRune(r rune) rune {
	switch r {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return '-'
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return ' '
	}
	return r
}

func closer(r rune) rune {
	switch r {
	case '"':
		return '"'
	case '`':
		return '`'
	case '\u201c':
		return '\u201d'
	}
	return 0
}

// scan splits s into tokens, line by line.
func scan(s string) []token {
	var toks []token
	for line := range strings.SplitSeq(s, "\n") {
		var word strings.Builder
		seenContent := false
		blank := true
		flush := func() {
			if word.Len() == 0 {
				return
			}
			w, stop := clean(word.String())
			word.Reset()
			switch {
			case w == "":
			case !seenContent && isPunctOnly(w):
				// A bullet mark: it starts an item, like a sentence.
				stop = true
			default:
				seenContent = true
				blank = false
				toks = append(toks, token{kind: tokWord, text: w, stop: stop})
				return
			}
			if stop {
				toks = append(toks, token{kind: tokBoundary})
			}
		}
		for i := 0; i < len(line); {
			r, size := utf8.DecodeRuneInString(line[i:])
			if c := closer(r); c != 0 {
				if j := strings.IndexRune(line[i+size:], c); j >= 0 {
					flush()
					toks = append(toks, token{kind: tokLiteral, text: line[i+size : i+size+j]})
					seenContent = true
					blank = false
					i += size + j + utf8.RuneLen(c)
					continue
				}
				flush() // an unmatched quote is a word break
				i += size
				continue
			}
			r = mapRune(r)
			switch {
			case unicode.IsSpace(r), r == '\'', r == '\u2018', r == '\u2019', r == '\u201d':
				flush()
			case r == ',':
				flush()
				toks = append(toks, token{kind: tokComma})
			case r == ';':
				flush()
				toks = append(toks, token{kind: tokBoundary})
			default:
				word.WriteRune(r)
			}
			i += size
		}
		flush()
		if blank {
			toks = append(toks, token{kind: tokBoundary})
		}
	}
	return toks
}

func isPunctOnly(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return false
		}
	}
	return true
}

// clean case-folds w and strips meaningless punctuation from its edges. stop
// reports whether a sentence or clause end was stripped.
func clean(w string) (string, bool) {
	w = strings.ToLower(w)
	stop := false
	for {
		n := len(w)
		if n == 0 {
			return w, stop
		}
		switch last := w[n-1]; {
		case last == '.' || last == '!' || last == '?':
			w, stop = w[:n-1], true
			continue
		case last == ':' && (n < 2 || w[n-2] != ':'):
			w, stop = w[:n-1], true
			continue
		case last == ')' && strings.Count(w, ")") > strings.Count(w, "("),
			last == ']' && strings.Count(w, "]") > strings.Count(w, "["),
			last == '}' && strings.Count(w, "}") > strings.Count(w, "{"):
			w = w[:n-1]
			continue
		}
		if n >= 2 && wraps(w) {
			w = w[1 : n-1]
			continue
		}
		switch first := w[0]; {
		case first == '(' && strings.Count(w, "(") > strings.Count(w, ")"),
			first == '[' && strings.Count(w, "[") > strings.Count(w, "]"),
			first == '{' && strings.Count(w, "{") > strings.Count(w, "}"):
			w = w[1:]
			continue
		}
		return w, stop
	}
}

// wraps reports whether w is one bracketed group, like "(loopback)", and
// not "f(x)" or "(a)(b)".
func wraps(w string) bool {
	var op, cl byte
	switch w[0] {
	case '(':
		op, cl = '(', ')'
	case '[':
		op, cl = '[', ']'
	case '{':
		op, cl = '{', '}'
	default:
		return false
	}
	if w[len(w)-1] != cl {
		return false
	}
	depth := 0
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case op:
			depth++
		case cl:
			depth--
			if depth == 0 && i != len(w)-1 {
				return false
			}
		}
	}
	return depth == 0
}

// sequence is a maximal run item (sep+ item)+ in toks.
type sequence struct {
	start, end int   // toks[start:end] holds it
	items      []int // indexes of its items
	sorted     bool  // whether render writes it in natural order
}

func findSequences(toks []token) []sequence {
	var seqs []sequence
	for i := 0; i < len(toks); {
		if !toks[i].isItem() {
			i++
			continue
		}
		items := []int{i}
		j := i
		for !toks[j].stop {
			k := j + 1
			for k < len(toks) && toks[k].isSep() {
				k++
			}
			if k == j+1 || k == len(toks) || !toks[k].isItem() {
				break
			}
			items = append(items, k)
			j = k
		}
		if len(items) >= 2 {
			seqs = append(seqs, sequence{start: i, end: j + 1, items: items})
		}
		i = j + 1
	}

	for _, t := range toks {
		if t.kind == tokWord && isOrderWord(t.text) {
			return seqs
		}
	}
	lengths := make(map[int]int)
	for _, s := range seqs {
		lengths[len(s.items)]++
	}
	for n := range seqs {
		s := &seqs[n]
		if lengths[len(s.items)] > 1 {
			continue
		}
		// The noun is the previous rendered token.
		p := s.start - 1
		for p >= 0 && toks[p].dropped() {
			p--
		}
		s.sorted = p >= 0 && toks[p].kind == tokWord && isListNoun(toks[p].text)
	}
	return seqs
}

// elem is one rendered element: a token or a whole sequence.
type elem struct {
	tok  int // index into toks, or -1
	seq  int // index into seqs, or -1
	text string
}

func render(toks []token, seqs []sequence) string {
	var elems []elem
	si := 0
	for i := 0; i < len(toks); {
		if si < len(seqs) && seqs[si].start == i {
			s := seqs[si]
			items := make([]string, len(s.items))
			for k, ti := range s.items {
				items[k] = toks[ti].text
			}
			if s.sorted {
				slices.SortFunc(items, natCompare)
			}
			elems = append(elems, elem{tok: -1, seq: si, text: strings.Join(items, ",")})
			i = s.end
			si++
			continue
		}
		t := toks[i]
		switch t.kind {
		case tokWord:
			elems = append(elems, elem{tok: i, seq: -1, text: t.text})
		case tokLiteral:
			elems = append(elems, elem{tok: i, seq: -1, text: quote(t.text)})
		}
		i++
	}

	itemish := func(e elem) bool { return e.seq >= 0 || (e.tok >= 0 && toks[e.tok].isItem()) }
	var b strings.Builder
	for n, e := range elems {
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.text)
		if e.tok < 0 || !toks[e.tok].isAnd() {
			continue
		}
		// An "and" between two values that did not form a list (a
		// sentence ended between them) is written "and." so that it
		// still does not form one when normalized again.
		next := n + 1
		for next < len(elems) && elems[next].tok >= 0 && toks[elems[next].tok].isAnd() {
			next++
		}
		prev := n - 1
		for prev >= 0 && elems[prev].tok >= 0 && toks[elems[prev].tok].isAnd() {
			prev--
		}
		if prev >= 0 && next < len(elems) && itemish(elems[prev]) && itemish(elems[next]) {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// quote writes a literal with delimiters that do not occur in it.
func quote(s string) string {
	switch {
	case !strings.Contains(s, `"`):
		return `"` + s + `"`
	case !strings.Contains(s, "`"):
		return "`" + s + "`"
	default:
		return "\u201c" + s + "\u201d"
	}
}

// natCompare orders strings with digit runs compared as numbers ("te1/1/2"
// before "te1/1/10"); ties are broken bytewise, so it is a total order.
func natCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			return int(ca) - int(cb)
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
