package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// jsonNode parses JSON into the node tree the YAML reader walks, with line
// and column on every node. (YAML parsers accept most JSON but not all of
// it: tab indentation and the "\/" escape, for instance.)
func jsonNode(data []byte) (*yaml.Node, *Error) {
	return jsonStream(data, nil, nil)
}

// jsonStream is jsonNode with device lists handed to each (see
// jsonBuilder.each) and their lengths put in counts.
func jsonStream(data []byte, each func(key string, n *yaml.Node, i int), counts map[*yaml.Node]int) (*yaml.Node, *Error) {
	b := &jsonBuilder{data: data, dec: json.NewDecoder(bytes.NewReader(data)), each: each, counts: counts}
	b.dec.UseNumber()
	for i, c := range data {
		if c == '\n' {
			b.lines = append(b.lines, i+1)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	n, err := b.node(1)
	if err == nil {
		if _, terr := b.dec.Token(); !errors.Is(terr, io.EOF) {
			off := b.skip(b.dec.InputOffset())
			line, col := b.pos(off)
			return nil, &Error{Line: line, Col: col, Msg: "invalid JSON: data after the top-level value"}
		}
		return n, nil
	}
	var e *Error
	if errors.As(err, &e) {
		return nil, e
	}
	off := int64(len(data))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	line, col := b.pos(off)
	msg := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "unexpected end of input"
	}
	return nil, &Error{Line: line, Col: col, Msg: "invalid JSON: " + msg}
}

type jsonBuilder struct {
	data  []byte
	dec   *json.Decoder
	lines []int // offsets where lines 2, 3, … start

	// each, when set, keeps device lists out of the tree: every element of
	// the top-level array, or of the array under a top-level key, is built,
	// handed to each with that key ("" for the top level) and its index,
	// and dropped; counts keeps how many such a list had.
	each   func(key string, n *yaml.Node, i int)
	counts map[*yaml.Node]int
	key    string // the top-level key whose value is being built
}

// skip moves past white space and separators to the start of the next token.
func (b *jsonBuilder) skip(off int64) int64 {
	for off < int64(len(b.data)) && strings.IndexByte(" \t\r\n,:", b.data[off]) >= 0 {
		off++
	}
	return off
}

// pos turns a byte offset into a 1-based line and column.
func (b *jsonBuilder) pos(off int64) (int, int) {
	i := sort.SearchInts(b.lines, int(off)+1)
	start := 0
	if i > 0 {
		start = b.lines[i-1]
	}
	return i + 1, int(off) - start + 1
}

func (b *jsonBuilder) node(depth int) (*yaml.Node, error) {
	start := b.skip(b.dec.InputOffset())
	line, col := b.pos(start)
	if depth > MaxDepth+1 {
		return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
	}
	tok, err := b.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &yaml.Node{Line: line, Column: col}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for b.dec.More() {
				kstart := b.skip(b.dec.InputOffset())
				ktok, err := b.dec.Token()
				if err != nil {
					return nil, err
				}
				kl, kc := b.pos(kstart)
				key, _ := ktok.(string)
				if depth == 1 {
					b.key = key
				}
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Style: yaml.DoubleQuotedStyle, Line: kl, Column: kc}
				v, err := b.node(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k, v)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			if b.each != nil && (depth == 1 || depth == 2 && (b.key == "devices" || b.key == "results")) {
				key := b.key
				if depth == 1 {
					key = ""
				}
				i := 0
				for ; b.dec.More(); i++ {
					v, err := b.node(depth + 1)
					if err != nil {
						return nil, err
					}
					b.each(key, v, i)
				}
				b.counts[n] = i
				break
			}
			for b.dec.More() {
				v, err := b.node(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
		}
		if _, err := b.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", t, yaml.DoubleQuotedStyle
	case json.Number:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", t.String()
		if strings.ContainsAny(n.Value, ".eE") {
			n.Tag = "!!float"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", fmt.Sprint(t)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}
