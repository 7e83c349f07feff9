// Command gen writes the example fleets in examples/: campus.yaml (a campus of
// four buildings, 284 devices over 10 intents), campus.csv (a smaller CSV
// fleet: one annex building), dc-fabric.yaml (an EVPN/VXLAN leaf-spine
// fabric) and frr-fabric.yaml (an eBGP leaf-spine fabric of FRRouting
// hosts). The output is deterministic, so the files can be regenerated and
// compared; gen_test.go fails when they drift.
//
// Usage, from the repository root:
//
//	go run ./examples/gen -dir examples
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	dir := flag.String("dir", "examples", "directory to write the example fleets to")
	flag.Parse()
	for name, text := range files() {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// files returns every example file by name.
func files() map[string]string {
	return map[string]string{
		"campus.yaml":     campusYAML(),
		"campus.csv":      campusCSV(),
		"dc-fabric.yaml":  fabricYAML(),
		"frr-fabric.yaml": frrFabricYAML(),
	}
}

// kv is an ordered map, written in YAML flow style: {port: Te1/1/1, peer: d1}.
type kv []any

var plain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./()-]*$|^[0-9][0-9./]*/[0-9]+$|^[0-9]+(\.[0-9]+){3}$`)

// scalar writes v as a YAML scalar, quoting strings that need it.
func scalar(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case string:
		switch v {
		case "true", "false", "null", "yes", "no", "on", "off", "":
			return strconv.Quote(v)
		}
		if plain.MatchString(v) {
			return v
		}
		return strconv.Quote(v)
	case kv:
		parts := make([]string, 0, len(v)/2)
		for i := 0; i+1 < len(v); i += 2 {
			parts = append(parts, fmt.Sprintf("%s: %s", v[i], scalar(v[i+1])))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = scalar(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = scalar(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("gen: cannot write %T", v))
}

// writer builds a YAML document line by line.
type writer struct{ strings.Builder }

func (w *writer) line(indent int, format string, args ...any) {
	w.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// field writes "key: value" (or a block list of flow items when value is a
// []kv) at indent.
func (w *writer) field(indent int, key string, value any) {
	if items, ok := value.([]kv); ok {
		w.line(indent, "%s:", key)
		for _, it := range items {
			w.line(indent+1, "- %s", scalar(it))
		}
		return
	}
	w.line(indent, "%s: %s", key, scalar(value))
}

// text writes a block scalar.
func (w *writer) text(indent int, key, s string) {
	w.line(indent, "%s: |", key)
	for l := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		w.line(indent+1, "%s", l)
	}
}

// group is one group of the campus: one intent.
type group struct {
	name, role, platform, osVersion string
	requirements                    string
	cacheTTL                        string // how long the template stays cached; "" for the server's default
	constants                       kv
	vars                            kv
}

func (w *writer) group(g group) {
	w.line(1, "%s:", g.name)
	w.field(2, "role", g.role)
	if g.platform != "" {
		w.field(2, "platform", g.platform)
	}
	if g.osVersion != "" {
		w.line(2, "os_version: %q", g.osVersion)
	}
	w.text(2, "requirements", g.requirements)
	if g.cacheTTL != "" {
		w.line(2, "cache_ttl: %s", g.cacheTTL) // a Go duration is a plain YAML string
	}
	if len(g.constants) > 0 {
		w.line(2, "constants:")
		for i := 0; i+1 < len(g.constants); i += 2 {
			w.field(3, g.constants[i].(string), g.constants[i+1])
		}
	}
	if len(g.vars) > 0 {
		w.line(2, "vars:")
		for i := 0; i+1 < len(g.vars); i += 2 {
			w.field(3, g.vars[i].(string), g.vars[i+1])
		}
	}
}

// device is one entry of devices:.
type device struct {
	hostname, group, site string
	vars                  kv
}

func (w *writer) device(d device) {
	w.line(1, "- hostname: %s", d.hostname)
	w.line(2, "group: %s", d.group)
	if d.site != "" {
		w.line(2, "site: %s", d.site)
	}
	w.line(2, "vars:")
	for i := 0; i+1 < len(d.vars); i += 2 {
		w.field(3, d.vars[i].(string), d.vars[i+1])
	}
}

func vlanList(ids ...any) []any {
	var out []any
	for i := 0; i+1 < len(ids); i += 2 {
		out = append(out, kv{"id", ids[i], "name", ids[i+1]})
	}
	return out
}
