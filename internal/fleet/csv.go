package fleet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"netsmith/internal/netcfg"
	"slices"
	"strconv"
	"strings"
)

// csvFields are the fixed CSV columns; hostname is required.
var csvFields = []string{"hostname", "group", "role", "platform", "os_version", "site", "requirements", "cache_ttl"}

type csvColumn struct {
	header string   // as written
	field  string   // one of csvFields, or "" for a var or const column
	consts bool     // a const.<name> column
	segs   []string // the var or const name split on '.'
}

type csvReader struct {
	c        *collector
	file     string
	cols     []csvColumn
	hostCol  int
	groupCol int
	// lists holds the var/const paths ("uplinks", "const:x") whose
	// elements are numbered columns (uplinks.0.port, uplinks.1.port).
	lists map[string]bool
	// colNames maps a var path ("uplinks.0.port") to its column header.
	colNames map[string]string
	// hinted holds the fields whose name was questioned (a did-you-mean),
	// which is said once for the column, not once per row.
	hinted map[string]bool
}

// streamCSV reads a CSV fleet (see the package documentation for the
// format) in two passes over data: the first reads the defaults and group
// rows, which may come anywhere, and checks every row's shape; devices then
// yields the device rows one at a time, each made into a layer only when
// its turn comes.
func streamCSV(c *collector, file string, data []byte, maxDevices int) (d *doc, devices iter.Seq[*layer]) {
	data = bytes.TrimPrefix(data, utf8BOM)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		c.errorf(pos{file: file}, "", "", "empty file")
		return nil, nil
	}
	if err != nil {
		c.errs = append(c.errs, csvError(file, err))
		return nil, nil
	}
	r := &csvReader{c: c, file: file, hostCol: -1, groupCol: -1, lists: map[string]bool{}, colNames: map[string]string{}}
	if !r.header(slices.Clone(header)) {
		return nil, nil
	}
	d = &doc{file: file}
	var defaultsRow int
	groupRows := map[string]int{}
	hosts := 0
	lastRow := 0 // the last row the second pass reads
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				c.errorf(pos{file: file, line: pe.StartLine, row: row}, "", "", "%d fields, but the header has %d", len(rec), len(r.cols))
				continue
			}
			c.errs = append(c.errs, csvError(file, err))
			break
		}
		lastRow = row
		line, _ := cr.FieldPos(0)
		at := pos{file: file, line: line, row: row}
		if !slices.ContainsFunc(rec, func(s string) bool { return strings.TrimSpace(s) != "" }) {
			continue
		}
		l := &layer{at: at}
		host := strings.TrimSpace(rec[r.hostCol])
		group := ""
		if r.groupCol >= 0 {
			group = strings.TrimSpace(rec[r.groupCol])
		}
		switch {
		case host != "":
			if hosts == maxDevices {
				c.errorf(at, "", "", "more devices than the limit of %d", maxDevices)
				lastRow = row - 1
				return d, r.devices(data, lastRow)
			}
			hosts++
			continue // read in the second pass
		case group != "":
			if first, ok := groupRows[group]; ok {
				c.errorf(at, "", "group", "group %q is already defined (first at row %d)", group, first)
				continue
			}
			groupRows[group] = row
			l.name = group
			l.prefix = "groups." + group + "."
			d.groups = append(d.groups, l)
		default:
			if defaultsRow != 0 {
				c.errorf(at, "", "", "a second defaults row (first at row %d): a row without hostname and group sets the defaults", defaultsRow)
				continue
			}
			defaultsRow = row
			l.prefix = "defaults."
			d.defaults = append(d.defaults, l)
		}
		r.row(l, slices.Clone(rec))
	}
	return d, r.devices(data, lastRow)
}

// devices is the second pass of streamCSV: the device rows up to lastRow,
// as layers, one at a time. Rows the first pass found broken are skipped.
func (r *csvReader) devices(data []byte, lastRow int) iter.Seq[*layer] {
	return func(yield func(*layer) bool) {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		if _, err := cr.Read(); err != nil {
			return
		}
		for row := 2; row <= lastRow; row++ {
			rec, err := cr.Read()
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
					continue
				}
				return
			}
			host := strings.TrimSpace(rec[r.hostCol])
			if host == "" {
				continue
			}
			line, _ := cr.FieldPos(0)
			at := pos{file: r.file, line: line, row: row}
			group := ""
			if r.groupCol >= 0 {
				group = strings.TrimSpace(rec[r.groupCol])
			}
			l := &layer{at: at}
			l.hostname = setting{val: host, set: true, at: at}
			l.group = setting{val: group, set: group != "", at: at}
			l.name = label(host)
			r.row(l, rec)
			if !yield(l) {
				return
			}
		}
	}
}

func csvError(file string, err error) *Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Col: pe.Column, Msg: "invalid CSV: " + pe.Err.Error()}
	}
	return &Error{File: file, Msg: "invalid CSV: " + err.Error()}
}

// header reads the column names; it reports every problem and returns false
// if there was one.
func (r *csvReader) header(header []string) bool {
	at := pos{file: r.file, line: 1, row: 1}
	n := len(r.c.errs)
	seen := map[string]bool{}
	paths := map[string]string{} // var path -> header
	for i, h := range header {
		h = strings.TrimSpace(h)
		col := csvColumn{header: h}
		lower := strings.ToLower(h)
		switch {
		case slices.Contains(csvFields, lower):
			col.field = lower
			switch lower {
			case "hostname":
				r.hostCol = i
			case "group":
				r.groupCol = i
			}
		case strings.HasPrefix(lower, "var.") || strings.HasPrefix(lower, "const."):
			col.consts = strings.HasPrefix(lower, "const.")
			_, name, _ := strings.Cut(h, ".")
			col.segs = strings.Split(name, ".")
			if slices.Contains(col.segs, "") {
				r.c.errorf(at, "", h, "empty name in column")
				break
			}
			key := pathKey(col.consts, col.segs)
			paths[key] = h
			r.colNames[key] = h
		case h == "":
			r.c.errorf(at, "", fmt.Sprintf("column %d", i+1), "empty column name")
		default:
			msg := "unknown column (want " + strings.Join(csvFields, ", ") + ", var.<name> or const.<name>)"
			if near := netcfg.Nearest(lower, csvFields); near != "" {
				msg = fmt.Sprintf("unknown column (did you mean %q?)", near)
			}
			r.c.errorf(at, "", h, "%s", msg)
		}
		key := lower
		if col.segs != nil {
			key = pathKey(col.consts, col.segs)
		}
		if seen[key] && h != "" {
			r.c.errorf(at, "", h, "duplicate column")
		}
		seen[key] = true
		r.cols = append(r.cols, col)
	}
	if r.hostCol < 0 {
		r.c.errorf(at, "", "hostname", "no hostname column (the header must name hostname)")
	}
	// A name cannot be both a value and a map or list (var.a with var.a.b),
	// nor both a list and a map (var.a.0 with var.a.b).
	kinds := map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(paths)) {
		consts, segs := splitPathKey(key)
		for j := 1; j < len(segs); j++ {
			parent := pathKey(consts, segs[:j])
			if h, ok := paths[parent]; ok {
				r.c.errorf(at, "", paths[key], "conflicts with column %s", h)
			}
			kind := "map"
			if isIndex(segs[j]) {
				kind = "list"
				r.lists[parent] = true
			}
			if k, ok := kinds[parent]; ok && k != kind {
				r.c.errorf(at, "", paths[key], "makes %s both a list and a map", strings.Join(segs[:j], "."))
			}
			kinds[parent] = kind
		}
	}
	return len(r.c.errs) == n
}

func pathKey(consts bool, segs []string) string {
	k := strings.Join(segs, ".")
	if consts {
		return "const:" + k
	}
	return k
}

func splitPathKey(key string) (bool, []string) {
	k, consts := strings.CutPrefix(key, "const:")
	return consts, strings.Split(k, ".")
}

func isIndex(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && strconv.Itoa(n) == s
}

// row fills layer l from one record.
func (r *csvReader) row(l *layer, rec []string) {
	for i, col := range r.cols {
		cell := strings.TrimSpace(rec[i])
		if cell == "" {
			continue
		}
		s := setting{val: cell, set: true, at: l.at}
		switch col.field {
		case "", "hostname", "group":
		case "role":
			l.role = s
		case "platform":
			l.platform = s
		case "os_version":
			l.osVersion = s
		case "requirements":
			l.requirements = s
		case "cache_ttl":
			l.cacheTTL = s
		case "site":
			l.site = s
		}
		if col.segs == nil {
			continue
		}
		root := &l.vars
		if col.consts {
			root = &l.consts
		}
		if *root == nil {
			*root = map[string]any{}
		}
		setPath(*root, col.segs, cellValue(cell))
	}
	l.vars = r.lists2(l, l.vars, false)
	l.consts = r.lists2(l, l.consts, true)
	for _, part := range []struct {
		m      map[string]any
		consts bool
	}{{l.vars, false}, {l.consts, true}} {
		for _, is := range netcfg.CheckVars(part.m) {
			f := l.prefix + r.columnPath(part.consts, is.Path)
			if is.Hint {
				if r.hinted[f] {
					continue
				}
				if r.hinted == nil {
					r.hinted = map[string]bool{}
				}
				r.hinted[f] = true
			}
			if is.Warn {
				r.c.warnf(l.at, l.name, f, "%s", is.Msg)
			} else {
				r.c.errorf(l.at, l.name, f, "%s", is.Msg)
			}
		}
	}
}

func setPath(m map[string]any, segs []string, v any) {
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[s] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}

// lists2 turns the maps built from numbered columns into lists.
func (r *csvReader) lists2(l *layer, m map[string]any, consts bool) map[string]any {
	if m == nil {
		return nil
	}
	var conv func(path []string, v any) any
	conv = func(path []string, v any) any {
		vm, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, e := range vm {
			vm[k] = conv(append(path, k), e)
		}
		if !r.lists[pathKey(consts, path)] {
			return vm
		}
		list := make([]any, len(vm))
		for i := range list {
			e, ok := vm[strconv.Itoa(i)]
			if !ok {
				r.c.errorf(l.at, l.name, l.prefix+r.columnName(consts, path),
					"element %d is empty but a later one is set (list elements must be consecutive from 0)", i)
				return nil
			}
			list[i] = e
		}
		return list
	}
	out := map[string]any{}
	for k, v := range m {
		if c := conv([]string{k}, v); c != nil {
			out[k] = c
		}
	}
	return out
}

func (r *csvReader) columnName(consts bool, path []string) string {
	prefix := "var."
	if consts {
		prefix = "const."
	}
	return prefix + strings.Join(path, ".")
}

// columnPath names a checked value by its column, with indexes into a
// ';'-separated cell in brackets: var.uplinks.0.peer_ip, var.ntp_servers[1].
func (r *csvReader) columnPath(consts bool, path []any) string {
	segs := make([]string, len(path))
	for i, p := range path {
		segs[i] = fmt.Sprint(p)
	}
	for n := len(segs); n > 0; n-- {
		if h, ok := r.colNames[pathKey(consts, segs[:n])]; ok {
			return formatPath(h, path[n:])
		}
	}
	if consts {
		return formatPath("const", path)
	}
	return formatPath("var", path)
}

// cellValue reads a var or const cell: ';' separates list elements.
func cellValue(s string) any {
	if !strings.Contains(s, ";") {
		return cellScalar(s)
	}
	var out []any
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, cellScalar(part))
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

func cellScalar(s string) any {
	if n, err := strconv.Atoi(s); err == nil && strconv.Itoa(n) == s {
		return n
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	return s
}
