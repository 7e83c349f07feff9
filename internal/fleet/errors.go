package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// MaxErrors bounds how many errors Parse reports; the rest are summarised in
// one final entry so that a broken 200,000-row file gives a readable answer.
const MaxErrors = 1000

// Error is one problem in a fleet file, located by file and by line and
// column (YAML, JSON) or row (CSV, where row 1 is the header).
type Error struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`   // 1-based line; for CSV the line where the record starts
	Col    int    `json:"col,omitempty"`    // 1-based column, 0 when unknown
	Row    int    `json:"row,omitempty"`    // 1-based CSV record number (the header is row 1), 0 for YAML/JSON
	Device string `json:"device,omitempty"` // hostname of the device concerned, when it is a valid one
	Field  string `json:"field,omitempty"`  // e.g. "vars.uplinks[0].peer_ip", "groups.campus-access.platform", "var.mgmt_ip"
	Msg    string `json:"message"`
}

// Error formats e as "file:line:col: device: field: msg" (YAML, JSON) or
// "file: row N: device: field: msg" (CSV), leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Row > 0:
		fmt.Fprintf(&b, ": row %d", e.Row)
	case e.Line > 0 && e.Col > 0:
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Device != "" {
		b.WriteString(": ")
		b.WriteString(e.Device)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a fleet file, sorted by file and position.
// Parse returns it as its error; use errors.As to get at the entries.
type Errors []*Error

// Error lists the errors one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// compareError orders errors by file (in the order files were read),
// position, device, field and message.
func compareError(files []string, a, b *Error) int {
	return cmp.Or(
		cmp.Compare(fileRank(files, a.File), fileRank(files, b.File)),
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Row, b.Row),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Col, b.Col),
		cmp.Compare(a.Device, b.Device),
		cmp.Compare(a.Field, b.Field),
		cmp.Compare(a.Msg, b.Msg),
	)
}

func fileRank(files []string, f string) int {
	if i := slices.Index(files, f); i >= 0 {
		return i
	}
	return len(files)
}

// sorted returns es sorted, without exact duplicates (a bad value reached
// through several YAML aliases is reported once) and capped at max entries.
func (es Errors) sorted(files []string, max int) Errors {
	if len(es) == 0 {
		return nil
	}
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b *Error) int { return compareError(files, a, b) })
	out = slices.CompactFunc(out, func(a, b *Error) bool { return *a == *b })
	if max > 0 && len(out) > max {
		rest := len(out) - max
		out = append(out[:max:max], &Error{File: out[max].File, Msg: fmt.Sprintf("%d more errors not shown", rest)})
	}
	return out
}

// pos is where something was written: a YAML/JSON line and column or a CSV row.
type pos struct {
	file      string
	line, col int
	row       int
}

// collector gathers errors and warnings while a fleet is parsed.
type collector struct {
	files       []string // in the order they were read
	errs, warns Errors
}

func (c *collector) errorf(p pos, device, field, format string, args ...any) {
	c.errs = append(c.errs, newError(p, device, field, fmt.Sprintf(format, args...)))
}

func (c *collector) warnf(p pos, device, field, format string, args ...any) {
	c.warns = append(c.warns, newError(p, device, field, fmt.Sprintf(format, args...)))
}

func newError(p pos, device, field, msg string) *Error {
	return &Error{File: p.file, Line: p.line, Col: p.col, Row: p.row, Device: device, Field: field, Msg: msg}
}
