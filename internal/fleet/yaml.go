package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"netsmith/internal/netcfg"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys of the YAML format.
var (
	topKeys    = []string{"version", "defaults", "groups", "devices"}
	groupKeys  = []string{"role", "platform", "os_version", "requirements", "cache_ttl", "site", "vars", "constants"}
	deviceKeys = []string{"hostname", "group", "role", "platform", "os_version", "requirements", "cache_ttl", "site", "vars", "constants"}
)

// treeReader turns a YAML node tree (from YAML or JSON) into layers.
type treeReader struct {
	c          *collector
	file       string
	maxDevices int
	aliasLeft  int  // alias expansions still allowed
	aliasOver  bool // the alias limit was hit (reported once)

	base  string // field of the value being converted
	stack []any  // path below base

	// counts holds the lengths of the device lists a streamed JSON file
	// left out of the tree (jsonBuilder.each); listKey is then the key of
	// the one that holds the devices ("" the top level), listNetBox
	// whether it is a NetBox list, and listOK whether there is one.
	counts     map[*yaml.Node]int
	listKey    string
	listNetBox bool
	listOK     bool
}

// parseTree parses a YAML file, or a JSON one when isJSON, in the native
// layout or as a NetBox device list.
func parseTree(c *collector, file string, data []byte, isJSON bool, maxDevices int) *doc {
	data = bytes.TrimPrefix(data, utf8BOM)
	var root *yaml.Node
	if isJSON {
		var err *Error
		root, err = jsonNode(data)
		if err != nil {
			err.File = file
			c.errs = append(c.errs, err)
			return nil
		}
	} else {
		var ok bool
		root, ok = decodeYAML(c, file, data)
		if !ok {
			return nil
		}
	}
	r := &treeReader{c: c, file: file, maxDevices: maxDevices, aliasLeft: MaxAliasNodes}
	return r.tree(root)
}

// tree reads a parsed file's root: the native layout or a NetBox list.
func (r *treeReader) tree(root *yaml.Node) *doc {
	c, file := r.c, r.file
	if root == nil {
		c.errorf(pos{file: file}, "", "", "empty file")
		return nil
	}
	top := r.deref(root)
	if top.Kind == yaml.SequenceNode {
		return r.netbox(top, top)
	}
	entries, ok := r.mapping(top, fixed(""), 1, false)
	if !ok {
		return nil
	}
	for _, e := range entries {
		if e.key == "results" && !hasKey(entries, "devices") {
			return r.netbox(r.deref(e.v), e.k)
		}
	}
	d := &doc{file: file}
	for _, e := range entries {
		switch e.key {
		case "version":
			if v := r.deref(e.v); v.Kind != yaml.ScalarNode || v.Value != "1" {
				r.errorf(e.v, "", "version", "unsupported version %s (want 1)", nodeDesc(v))
			}
		case "defaults":
			if l := r.groupLayer(e.v, "defaults.", e.k); l != nil {
				d.defaults = append(d.defaults, l)
			}
		case "groups":
			gs, ok := r.mapping(e.v, fixed("groups"), 2, e.alias)
			if !ok {
				continue
			}
			for _, g := range gs {
				if g.key == "" {
					r.errorf(g.k, "", "groups", "group name is empty")
					continue
				}
				if l := r.groupLayer(g.v, "groups."+g.key+".", g.k); l != nil {
					l.name = g.key
					d.groups = append(d.groups, l)
				}
			}
		case "devices":
			d.devices = r.devices(e.v)
		default:
			r.unknownKey(e, "", topKeys, "")
		}
	}
	return d
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeYAML parses exactly one YAML document; root is nil for an empty one.
func decodeYAML(c *collector, file string, data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		c.errs = append(c.errs, yamlError(file, err))
		return nil, false
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.errs = append(c.errs, yamlError(file, err))
			return nil, false
		}
		if len(next.Content) == 1 && next.Content[0].ShortTag() == "!!null" && next.Content[0].Value == "" {
			continue // an empty document, as after a trailing "---"
		}
		c.errorf(pos{file: file, line: next.Line, col: next.Column}, "", "",
			"a second YAML document: a fleet file holds one")
		return nil, false
	}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		n := root.Content[0]
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			return nil, true
		}
		return n, true
	}
	return nil, true
}

func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (r *treeReader) at(n *yaml.Node) pos {
	return pos{file: r.file, line: n.Line, col: n.Column}
}

func (r *treeReader) errorf(n *yaml.Node, device, field, format string, args ...any) {
	r.c.errorf(r.at(n), device, field, format, args...)
}

// deref follows an alias; expansions count against the alias budget in value.
func (r *treeReader) deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

type entry struct {
	key  string
	k, v *yaml.Node
	// alias is set when the entry was reached through an alias or a merge
	// key: converting its value then spends the alias budget.
	alias bool
}

func hasKey(es []entry, key string) bool {
	for _, e := range es {
		if e.key == key {
			return true
		}
	}
	return false
}

// mapping returns the entries of a map node, with YAML merge keys ("<<")
// expanded below the explicit keys. A null is an empty map. Duplicate keys
// are errors. alias says n was itself reached through an alias.
func (r *treeReader) mapping(n *yaml.Node, field func() string, depth int, alias bool) ([]entry, bool) {
	if depth > MaxDepth {
		r.errorf(n, "", shortField(field()), "nested deeper than %d levels", MaxDepth)
		return nil, false
	}
	if n.Kind == yaml.AliasNode {
		alias = true
		n = r.deref(n)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "", field(), "want a map, got %s", nodeDesc(n))
		return nil, false
	}
	if alias && !r.spend(n, len(n.Content)/2) {
		return nil, false
	}
	var (
		out    []entry
		merges []*yaml.Node
		index  = map[string]*yaml.Node{}
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := r.deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, "", field(), "map keys must be strings, got %s", nodeDesc(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, ok := index[k.Value]; ok {
			r.errorf(k, "", joinField(field(), k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		index[k.Value] = k
		out = append(out, entry{key: k.Value, k: k, v: v, alias: alias})
	}
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if d := r.deref(m); d.Kind == yaml.SequenceNode {
			srcs = d.Content
		}
		for _, src := range srcs {
			es, ok := r.mapping(src, field, depth+1, true)
			if !ok {
				return nil, false
			}
			for _, e := range es {
				if _, ok := index[e.key]; !ok {
					index[e.key] = e.k
					out = append(out, e)
				}
			}
		}
	}
	return out, true
}

// spend takes n values from the alias budget.
func (r *treeReader) spend(at *yaml.Node, n int) bool {
	r.aliasLeft -= n
	if r.aliasLeft >= 0 {
		return true
	}
	if !r.aliasOver {
		r.aliasOver = true
		r.errorf(at, "", "", "YAML aliases expand to more than %d values", MaxAliasNodes)
	}
	return false
}

// shortField keeps the start of a very long field path.
func shortField(f string) string {
	if len(f) > 60 {
		return f[:60] + "…"
	}
	return f
}

func fixed(s string) func() string { return func() string { return s } }

func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// value converts a node into a plain Go value: string, int, uint64 (beyond
// int64), float64, bool, nil, []any or map[string]any. field names it in
// errors. Every value made under an alias spends the alias budget, so
// expansion work is bounded.
func (r *treeReader) value(n *yaml.Node, field string, depth int, alias bool) (any, bool) {
	r.base, r.stack = field, r.stack[:0]
	return r.conv(n, depth, alias)
}

// field names the value being converted: the base and the path below it,
// formatted only when an error needs it.
func (r *treeReader) field() string { return formatPath(r.base, r.stack) }

func (r *treeReader) conv(n *yaml.Node, depth int, alias bool) (any, bool) {
	if depth > MaxDepth {
		r.errorf(n, "", shortField(r.field()), "nested deeper than %d levels", MaxDepth)
		return nil, false
	}
	if n.Kind == yaml.AliasNode {
		alias = true
		n = r.deref(n)
	}
	if alias && !r.spend(n, 1) {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return r.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, e := range n.Content {
			r.stack = append(r.stack, i)
			v, eok := r.conv(e, depth+1, alias)
			r.stack = r.stack[:len(r.stack)-1]
			ok = ok && eok
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		es, ok := r.mapping(n, r.field, depth, alias)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(es))
		for _, e := range es {
			r.stack = append(r.stack, e.key)
			v, eok := r.conv(e.v, depth+1, e.alias)
			r.stack = r.stack[:len(r.stack)-1]
			ok = ok && eok
			out[e.key] = v
		}
		return out, ok
	}
	r.errorf(n, "", r.field(), "unsupported YAML node")
	return nil, false
}

func (r *treeReader) scalar(n *yaml.Node) (any, bool) {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil, true
	case "!!str", "!!timestamp":
		return n.Value, true
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), true
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return int(i), true
		}
		if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 0, 64); err == nil {
			return u, true
		}
		r.errorf(n, "", r.field(), "integer %s is out of range", n.Value)
		return nil, false
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			r.errorf(n, "", r.field(), "%s is not a finite number", n.Value)
			return nil, false
		}
		return f, true
	default:
		r.errorf(n, "", r.field(), "unsupported YAML tag %s (write secrets as references such as vault:path)", tag)
		return nil, false
	}
}

// str reads a string setting; a null clears it.
func (r *treeReader) str(n *yaml.Node, device, name string) (setting, bool) {
	v := r.deref(n)
	if v.Kind != yaml.ScalarNode {
		r.errorf(v, device, name, "want a string, got %s", nodeDesc(v))
		return setting{}, false
	}
	switch v.ShortTag() {
	case "!!null":
		return setting{set: true, at: r.at(n)}, true
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return setting{val: strings.TrimSpace(v.Value), set: true, at: r.at(n)}, true
	}
	r.errorf(v, device, name, "unsupported YAML tag %s", v.ShortTag())
	return setting{}, false
}

// varsMap converts a vars or constants map and applies the value checks.
func (r *treeReader) varsMap(e entry, device, prefix, name string, depth int) map[string]any {
	n := e.v
	v, ok := r.value(n, prefix+name, depth, e.alias)
	if !ok || v == nil {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		r.errorf(r.deref(n), device, prefix+name, "want a map, got %s", nodeDesc(r.deref(n)))
		return nil
	}
	r.check(n, m, device, prefix+name)
	return m
}

// check runs checkValues on m, converted from node n, and reports each issue
// at the node it concerns.
func (r *treeReader) check(n *yaml.Node, m map[string]any, device, field string) {
	for _, is := range netcfg.CheckVars(m) {
		at := r.at(locate(n, is.Path))
		if is.Hint { // about the name: point at the key
			at = r.at(locateKey(n, is.Path))
		}
		f := formatPath(field, is.Path)
		if is.Warn {
			r.c.warnf(at, device, f, "%s", is.Msg)
		} else {
			r.c.errorf(at, device, f, "%s", is.Msg)
		}
	}
}

// locate follows path (keys and indexes) from n as far as it goes.
func locate(n *yaml.Node, path []any) *yaml.Node {
	for depth, p := range path {
		if depth > MaxDepth {
			return n
		}
		d := n
		for d.Kind == yaml.AliasNode && d.Alias != nil {
			d = d.Alias
		}
		next := childNode(d, p, 0)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// locateKey returns the key node that path's last element names, or what
// locate finds when that key is not written in the map itself (a merge key).
func locateKey(n *yaml.Node, path []any) *yaml.Node {
	name, ok := path[len(path)-1].(string)
	parent := locate(n, path[:len(path)-1])
	for parent.Kind == yaml.AliasNode && parent.Alias != nil {
		parent = parent.Alias
	}
	if ok && parent.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if parent.Content[i].Value == name {
				return parent.Content[i]
			}
		}
	}
	return locate(n, path)
}

func childNode(n *yaml.Node, p any, depth int) *yaml.Node {
	if depth > MaxDepth {
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch p := p.(type) {
	case int:
		if n.Kind == yaml.SequenceNode && p < len(n.Content) {
			return n.Content[p]
		}
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.ShortTag() == "!!merge" {
				merges = append(merges, n.Content[i+1])
			} else if k.Value == p {
				return n.Content[i+1]
			}
		}
		for _, m := range merges {
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, s := range srcs {
				if c := childNode(s, p, depth+1); c != nil {
					return c
				}
			}
		}
	}
	return nil
}

// groupLayer reads defaults or one group. Keys other than the known ones are
// intent constants, like the entries of "constants".
func (r *treeReader) groupLayer(n *yaml.Node, prefix string, at *yaml.Node) *layer {
	es, ok := r.mapping(n, fixed(strings.TrimSuffix(prefix, ".")), 2, false)
	if !ok {
		return nil
	}
	l := &layer{at: r.at(at), prefix: prefix}
	var extra map[string]any
	for _, e := range es {
		f := prefix + e.key
		switch e.key {
		case "role", "platform", "os_version", "requirements", "cache_ttl", "site":
			r.setField(l, e, "", f)
		case "vars":
			l.vars = r.varsMap(e, "", prefix, "vars", 3)
		case "constants":
			l.consts = r.varsMap(e, "", prefix, "constants", 3)
		case "hostname", "group", "groups", "devices", "defaults", "version":
			r.errorf(e.k, "", f, "not allowed in %s", strings.TrimSuffix(prefix, "."))
		default:
			if near := netcfg.Nearest(e.key, groupKeys); near != "" {
				r.errorf(e.k, "", f, "unknown field (did you mean %q?)", near)
				continue
			}
			v, ok := r.value(e.v, f, 3, e.alias)
			if !ok {
				continue
			}
			if extra == nil {
				extra = map[string]any{}
			}
			extra[e.key] = v
		}
	}
	if extra != nil {
		r.check(n, extra, "", strings.TrimSuffix(prefix, "."))
		for _, k := range slices.Sorted(maps.Keys(extra)) {
			if _, dup := l.consts[k]; dup {
				r.errorf(locate(n, []any{k}), "", prefix+k, "constant is also set under %sconstants", prefix)
				continue
			}
			if l.consts == nil {
				l.consts = map[string]any{}
			}
			l.consts[k] = extra[k]
		}
	}
	return l
}

func (r *treeReader) setField(l *layer, e entry, device, f string) {
	v, ok := r.str(e.v, device, f)
	if !ok {
		// Reported; keep the device from also being reported as missing it.
		v = setting{set: true, bad: true, at: r.at(e.v)}
	}
	switch e.key {
	case "role":
		l.role = v
	case "platform":
		l.platform = v
	case "os_version":
		l.osVersion = v
	case "requirements":
		l.requirements = v
	case "cache_ttl":
		l.cacheTTL = v
	case "site":
		l.site = v
	case "hostname":
		l.hostname = v
	case "group":
		l.group = v
	}
}

// devices reads the device list.
func (r *treeReader) devices(n *yaml.Node) []*layer {
	seq := r.deref(n)
	if seq.Kind == yaml.ScalarNode && seq.ShortTag() == "!!null" {
		return nil
	}
	if seq.Kind != yaml.SequenceNode {
		r.errorf(seq, "", "devices", "want a list of devices, got %s", nodeDesc(seq))
		return nil
	}
	if n, ok := r.counts[seq]; ok {
		if n > r.maxDevices {
			r.errorf(seq, "", "devices", "%d devices is more than the limit of %d", n, r.maxDevices)
			return nil
		}
		r.listKey, r.listNetBox, r.listOK = "devices", false, n > 0
		return nil
	}
	if len(seq.Content) > r.maxDevices {
		r.errorf(seq, "", "devices", "%d devices is more than the limit of %d", len(seq.Content), r.maxDevices)
		return nil
	}
	out := make([]*layer, 0, len(seq.Content))
	for i, item := range seq.Content {
		if l := r.device(item, i); l != nil {
			out = append(out, l)
		}
	}
	return out
}

func (r *treeReader) device(n *yaml.Node, i int) *layer {
	item := fmt.Sprintf("devices[%d]", i)
	es, ok := r.mapping(n, fixed(item), 3, false)
	if !ok {
		return nil
	}
	l := &layer{at: r.at(r.deref(n))}
	// The hostname labels every other error, so read it first.
	for _, e := range es {
		if e.key == "hostname" {
			r.setField(l, e, "", item+".hostname")
		}
	}
	l.name = label(l.hostname.val)
	if l.name == "" {
		l.prefix = item + "."
	}
	for _, e := range es {
		f := l.prefix + e.key
		switch e.key {
		case "hostname":
		case "group", "role", "platform", "os_version", "requirements", "cache_ttl", "site":
			r.setField(l, e, l.name, f)
		case "vars":
			l.vars = r.varsMap(e, l.name, l.prefix, "vars", 4)
		case "constants":
			l.consts = r.varsMap(e, l.name, l.prefix, "constants", 4)
		default:
			r.unknownKey(e, l.name, deviceKeys, l.prefix)
		}
	}
	return l
}

func (r *treeReader) unknownKey(e entry, device string, known []string, prefix string) {
	f := prefix + e.key
	if near := netcfg.Nearest(e.key, known); near != "" {
		r.errorf(e.k, device, f, "unknown field (did you mean %q?)", near)
		return
	}
	if prefix != "" || device != "" {
		r.errorf(e.k, device, f, "unknown field (per-device values go under vars)")
		return
	}
	r.errorf(e.k, device, f, "unknown field (known: %s)", strings.Join(known, ", "))
}

// nodeDesc names a node's kind or value for a message.
func nodeDesc(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "an alias"
}
