package render

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"netsmith/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func mustParse(t testing.TB, text string) *Template {
	t.Helper()
	tm, err := Parse("t", text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tm
}

func loadVars(t testing.TB, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := json.Unmarshal(raw, &vars); err != nil {
		t.Fatal(err)
	}
	return vars
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		wantLine int
		wantMsg  string
	}{
		{"call", "hostname {{.h}}\n{{call .f}}", 2, `function "call" is not allowed`},
		{"call in pipeline", "a\nb\n{{.f | call}}", 3, `function "call" is not allowed`},
		{"html", "{{html .h}}", 1, `function "html" is not allowed`},
		{"js", "{{js .h}}", 1, `function "js" is not allowed`},
		{"urlquery", "{{urlquery .h}}", 1, `function "urlquery" is not allowed`},
		{"guard by name", "{{range_limit .l}}", 1, `function "range_limit" not defined`},
		{"unknown function", "a\n{{.h | exec}}", 2, `function "exec" not defined`},
		{"template", "x\n{{template \"t\" .}}", 2, "{{template"},
		{"define", "ok\n{{define \"x\"}}y{{end}}", 2, "{{define}} is not allowed"},
		{"define own name", "{{define \"t\"}}{{template \"t\"}}{{end}}", 1, "{{define}} is not allowed"},
		{"define trimmed", "{{- define \"x\"}}y{{end}}", 1, "{{define}} is not allowed"},
		{"block", "a\n\n{{block \"x\" .}}y{{end}}", 3, "{{block}} is not allowed"},
		{"range number", "a\n{{range 1000000000}}x{{end}}", 2, "range over the literal 1000000000"},
		{"range number in parens", "{{range (((5)))}}x{{end}}", 1, "range over the literal 5"},
		{"range with decl over number", "{{range $i := 10}}{{$i}}{{end}}", 1, "range over the literal 10"},
		{"range string", `{{range "abc"}}x{{end}}`, 1, "range over the literal"},
		{"printf width", "{{printf \"%999999999d\" 1}}", 1, "width or precision 999999999"},
		{"printf precision", "x\n{{printf \"%.100000s\" .h}}", 2, "width or precision 100000"},
		{"printf star", "{{printf \"%*d\" 999999999 1}}", 1, "'*'"},
		{"printf in pipeline arg", "{{print (printf \"%-9999s\" .h)}}", 1, "width or precision 9999"},
		{"nested too deep", strings.Repeat("{{if .a}}", 17) + strings.Repeat("{{end}}", 17), 1, "nested more than 16 deep"},
		{"syntax error names line", "a\nb\n{{if .x}}", 3, "unexpected EOF"},
		{"too large", strings.Repeat("x", 256<<10+1), 0, "more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tm, err := Parse("t", tt.text)
			if err == nil {
				// A few of these are only caught when rendering.
				_, err = tm.Render(t.Context(), map[string]any{"h": "x", "a": true, "f": "x", "x": "x", "y": "y", "l": []any{}})
				if err == nil {
					t.Fatalf("Parse and Render accepted %q", tt.text)
				}
				t.Fatalf("Parse accepted %q; Render refused it with %v", tt.text, err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (%v)", pe.Line, tt.wantLine, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	vars := map[string]any{
		"hostname": "sw1", "mgmt_ip": "10.0.0.5/24", "asn": 65001, "vlans": []any{10, 20},
		"uplinks": []any{map[string]any{"port": "Te1/1/1", "peer": "d1"}, map[string]any{"port": "Te1/1/2", "peer": "d2"}},
		"m":       map[string]any{"b": 2, "a": 1}, "empty": []any{},
	}
	tests := []struct {
		text, want string
	}{
		{"hostname {{.hostname}}", "hostname sw1"},
		{"{{range .vlans}}vlan {{.}}\n{{end}}", "vlan 10\nvlan 20\n"},
		{"{{range $i, $u := .uplinks}}{{$i}}:{{$u.port}}>{{$u.peer}} {{end}}", "0:Te1/1/1>d1 1:Te1/1/2>d2 "},
		{"{{range $k, $v := .m}}{{$k}}={{$v}} {{end}}", "a=1 b=2 "},
		{"{{range .empty}}x{{else}}none{{end}}", "none"},
		{"{{range .vlans}}{{if eq . 20}}{{break}}{{end}}{{.}}{{end}}", "10"},
		{"{{range .vlans}}{{if eq . 10}}{{continue}}{{end}}{{.}}{{end}}", "20"},
		{"{{range .uplinks}}{{$.hostname}}-{{.port}} {{end}}", "sw1-Te1/1/1 sw1-Te1/1/2 "},
		{"{{with .uplinks}}{{len .}}{{end}}", "2"},
		{"{{range slice .vlans 1}}{{.}}{{end}}", "20"},
		{"{{range (index .uplinks 0)}}{{.}} {{end}}", "d1 Te1/1/1 "},
		{"{{printf \"%-8s|%05d\" .hostname 42}}", "sw1     |00042"},
		{"{{/* a comment */}}x", "x"},
		{"{{- .hostname -}}  \n", "sw1"},
		{"{{$x := .hostname}}{{$x = upper $x}}{{$x}}", "SW1"},
		{"{{if and .hostname (not .empty)}}y{{end}}", "y"},
		{"{{.hostname | upper | lower}}", "sw1"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, tt.text).Render(t.Context(), vars)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFuncs(t *testing.T) {
	t.Parallel()
	vars := map[string]any{
		"ip": "10.99.1.11/24", "v6": "2001:db8:1::5/64", "host": "10.1.1.1", "list": []any{"a", 1, "c"},
		"strs": []string{"x", "y"}, "n": 41.0, "s": "  Mixed Case  ", "num": json.Number("7"),
	}
	tests := []struct {
		text, want, wantErr string
	}{
		{`{{join .list ","}}`, "a,1,c", ""},
		{`{{join .strs " "}}`, "x y", ""},
		{`{{join .s ","}}`, "", "not a list"},
		{`{{upper .s}}`, "  MIXED CASE  ", ""},
		{`{{lower .s}}`, "  mixed case  ", ""},
		{`{{trim .s}}`, "Mixed Case", ""},
		{`{{replace "Case" "Box" .s}}`, "  Mixed Box  ", ""},
		{`{{.s | replace " " "_"}}`, "__Mixed_Case__", ""},
		{`{{add .n 1}}`, "42", ""},
		{`{{add .num 1}}`, "8", ""},
		{`{{add 1.5 1}}`, "", "not an integer"},
		{`{{add 9223372036854775807 1}}`, "", "overflows"},
		{`{{addr .ip}}`, "10.99.1.11", ""},
		{`{{addr .host}}`, "10.1.1.1", ""},
		{`{{addr .v6}}`, "2001:db8:1::5", ""},
		{`{{prefixlen .ip}}`, "24", ""},
		{`{{netmask .ip}}`, "255.255.255.0", ""},
		{`{{netmask "10.0.0.0/0"}}`, "0.0.0.0", ""},
		{`{{netmask "10.0.0.1/32"}}`, "255.255.255.255", ""},
		{`{{netmask "10.0.0.0/19"}}`, "255.255.224.0", ""},
		{`{{wildcard .ip}}`, "0.0.0.255", ""},
		{`{{network .ip}}`, "10.99.1.0/24", ""},
		{`{{network .v6}}`, "2001:db8:1::/64", ""},
		{`{{addr (network .ip)}}`, "10.99.1.0", ""},
		{`{{netmask .v6}}`, "", "not an IPv4 prefix"},
		{`{{netmask .host}}`, "", "not an address/length"},
		{`{{printf "%d-%s" 1 "x"}}`, "1-x", ""},
		{`{{printf "%[1]d %[1]d" 3}}`, "3 3", ""},
		{`{{printf "%%d"}}`, "%d", ""},
		{`{{println "a"}}`, "a\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, tt.text).Render(t.Context(), vars)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFuncsListed checks that Funcs (what the prompt names) and the
// function map (what runs) agree.
func TestFuncsListed(t *testing.T) {
	t.Parallel()
	builtins := map[string]bool{"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true,
		"le": true, "gt": true, "ge": true, "len": true, "index": true, "slice": true}
	refused := map[string]bool{"call": true, "html": true, "js": true, "urlquery": true}
	fm := funcMap(newState(DefaultLimits()))
	for _, f := range Funcs() {
		if _, ok := fm[f.Name]; !ok && !builtins[f.Name] {
			t.Errorf("Funcs lists %q, which is neither in the function map nor a builtin", f.Name)
		}
		if f.Usage == "" || f.Doc == "" {
			t.Errorf("Funcs entry %q lacks usage or doc", f.Name)
		}
	}
	for name := range fm {
		if !isAllowedFunc(name) && !refused[name] {
			t.Errorf("function map has %q, which Funcs does not list", name)
		}
	}
}

func TestVars(t *testing.T) {
	t.Parallel()
	tm := mustParse(t, `{{.hostname}}{{range .uplinks}}{{.peer}}{{$.domain}}{{end}}{{with .mgmt}}{{.ip}}{{else}}{{.fallback}}{{end}}{{if .flag}}{{.inif}}{{end}}{{(.chain).x}}`)
	want := []string{"chain", "domain", "fallback", "flag", "hostname", "inif", "mgmt", "uplinks"}
	if diff := cmp.Diff(want, tm.Vars()); diff != "" {
		t.Errorf("Vars (-want +got):\n%s", diff)
	}
}

// TestRenderMalicious is a catalogue of templates a hostile or confused
// model might write. Each must stop with an error, and soon.
func TestRenderMalicious(t *testing.T) {
	t.Parallel()
	list := func(n int) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = i
		}
		return l
	}
	vars := map[string]any{
		"l1000":  list(1000),
		"l400":   list(400),
		"l20000": list(20000),
		"s":      strings.Repeat("x", 1000),
		"sep":    strings.Repeat("-", 1000),
		"fmt":    "%999999999d",
		"n":      5,
		"m":      map[string]any{"a": 1},
	}
	tests := []struct {
		name    string
		text    string
		wantIs  error  // errors.Is target, or nil
		wantMsg string // substring, when wantIs is nil
	}{
		{"nested ranges, empty body", "{{range .l1000}}{{range $.l1000}}{{range $.l1000}}{{end}}{{end}}{{end}}", ErrIterationLimit, ""},
		{"nested ranges via variable", "{{$l := .l1000}}{{range $l}}{{range $l}}{{end}}{{end}}", ErrIterationLimit, ""},
		{"range too long", "{{range .l20000}}{{end}}", ErrIterationLimit, ""},
		{"many ranges in sequence", strings.Repeat("{{range .l1000}}{{end}}", 30), ErrIterationLimit, ""},
		{"output bomb", "{{range .l400}}{{range $.l400}}" + strings.Repeat("x", 100) + "{{end}}{{end}}", ErrOutputLimit, ""},
		{"output of a big value", "{{range .l1000}}{{$.s}}{{$.s}}{{end}}", ErrOutputLimit, ""},
		{"doubling through variables", "{{$a := print .s .s}}" + strings.Repeat("{{$a = print $a $a}}", 40) + "{{len $a}}", ErrOutputLimit, ""},
		{"doubling through printf", "{{$a := .s}}" + strings.Repeat(`{{$a = printf "%s%s" $a $a}}`, 40), ErrOutputLimit, ""},
		{"join with a long separator", "{{range .l1000}}{{$x := join $.l1000 $.sep}}{{end}}", ErrOutputLimit, ""},
		{"replace growth", `{{$a := .s}}` + strings.Repeat(`{{$a = replace "x" "xxxxxxxx" $a}}`, 20), ErrOutputLimit, ""},
		{"replace empty old", `{{replace "" $.sep .s}}{{replace "" $.sep .s}}{{replace "" $.sep .s}}{{replace "" $.sep .s}}{{replace "" $.sep .s}}`, ErrOutputLimit, ""},
		{"printf width from a variable", "{{printf .fmt 1}}", nil, "width or precision 999999999"},
		{"range over an int at run time", "{{range len .l1000}}{{end}}", nil, "range over int is not allowed"},
		{"range over a string", "{{range .s}}{{end}}", nil, "range over string is not allowed"},
		{"range over add", "{{range add .n 1}}{{end}}", nil, "range over int64 is not allowed"},
		{"index out of range", "{{index .l1000 5000}}", nil, "out of range"},
		{"slice out of range", "{{slice .l1000 0 5000}}", nil, "out of range"},
		{"missing key", "{{.nope}}", nil, `no entry for key "nope"`},
		{"missing nested key", "{{.m.b}}", nil, `no entry for key "b"`},
		{"compare maps", "{{eq .m .m}}", nil, "non-comparable type"},
		{"len of int", "{{len .n}}", nil, "len of type int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Lower limits than the defaults keep the test cheap; the
			// mechanism is the same.
			tm, err := ParseLimits("t", tt.text, Limits{MaxIterations: 20_000, MaxOutput: 256 << 10, MaxFuncBytes: 512 << 10})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			start := time.Now()
			out, err := tm.Render(t.Context(), vars)
			if err == nil {
				t.Fatalf("Render succeeded with %d bytes, want an error", len(out))
			}
			// On a loaded machine the time limit may stop a render first;
			// that is a correct outcome too.
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) && !errors.Is(err, ErrTimeLimit) {
				t.Errorf("Render error %v, want errors.Is %v", err, tt.wantIs)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Render error %q, want it to contain %q", err, tt.wantMsg)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Render took %v", d)
			}
		})
	}
}

func TestRenderTimeLimit(t *testing.T) {
	t.Parallel()
	tm, err := ParseLimits("t", "{{range .l}}{{.}}{{end}}", Limits{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	l := make([]any, 5000)
	_, err = tm.Render(t.Context(), map[string]any{"l": l})
	if !errors.Is(err, ErrTimeLimit) {
		t.Errorf("Render error %v, want ErrTimeLimit", err)
	}
}

// TestRenderTimeLimitEveryCheck checks that every check sees the deadline:
// a render stops at the first check past it, not some checks later. The
// work between two checks is bounded but can take long on its own (eq on
// two long variables is an unmetered builtin), so a check that looked at
// the clock only every few calls would multiply how far a render can
// overrun Limits.Timeout.
func TestRenderTimeLimitEveryCheck(t *testing.T) {
	t.Parallel()
	// Three checks in all: the guard and one tick per element.
	tm, err := ParseLimits("t", "{{range .l}}{{end}}", Limits{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Render(t.Context(), map[string]any{"l": []any{1, 2}})
	if !errors.Is(err, ErrTimeLimit) || !strings.Contains(err.Error(), "over 1ns") {
		t.Errorf("Render error %v, want ErrTimeLimit naming the 1ns limit", err)
	}
}

// TestRenderTickInRangeBody checks that a range body that neither writes
// nor calls a function still checks the deadline on every iteration.
func TestRenderTickInRangeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("{{$x := eq $.s $.s}}", 50)
	tm, err := ParseLimits("t", "{{range .l}}"+body+"{{end}}", Limits{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Render(t.Context(), map[string]any{"l": make([]any, 1000), "s": "x"})
	if !errors.Is(err, ErrTimeLimit) {
		t.Errorf("Render error %v, want ErrTimeLimit", err)
	}
}

func TestRenderContext(t *testing.T) {
	t.Parallel()
	tm := mustParse(t, "{{.x}}")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := tm.Render(ctx, map[string]any{"x": 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Render with a canceled context: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := tm.Render(ctx, map[string]any{"x": 1}); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeLimit) {
		t.Errorf("Render past the deadline: %v, want context.DeadlineExceeded and ErrTimeLimit", err)
	}
}

func TestRenderOutputLimitExact(t *testing.T) {
	t.Parallel()
	tm, err := ParseLimits("t", "{{.s}}", Limits{MaxOutput: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tm.Render(t.Context(), map[string]any{"s": "0123456789"}); err != nil || got != "0123456789" {
		t.Errorf("Render of exactly the limit = %q, %v", got, err)
	}
	if _, err := tm.Render(t.Context(), map[string]any{"s": "0123456789x"}); !errors.Is(err, ErrOutputLimit) {
		t.Errorf("Render over the limit: %v, want ErrOutputLimit", err)
	}
	// The instance goes back to the pool; the next render starts afresh.
	if got, err := tm.Render(t.Context(), map[string]any{"s": "ok"}); err != nil || got != "ok" {
		t.Errorf("Render after a failed render = %q, %v", got, err)
	}
}

type withMethod string

func (withMethod) Secret() string { return "leaked" }

func TestRenderRefusesVars(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]any
		want string
	}{
		{"func", map[string]any{"f": func() string { return "x" }}, "variable f: type func() string"},
		{"chan", map[string]any{"c": make(chan int)}, "type chan int"},
		{"pointer", map[string]any{"p": new(int)}, "type *int"},
		{"struct", map[string]any{"s": struct{ A int }{1}}, "type struct"},
		{"method", map[string]any{"x": withMethod("a")}, "has methods"},
		{"time", map[string]any{"d": time.Second}, "has methods"},
		{"nested", map[string]any{"l": []any{map[string]any{"f": func() {}}}}, "variable l[0].f"},
		{"int keys", map[string]any{"m": map[int]any{1: "a"}}, "variable m: map keys must be strings"},
		{"deep path", map[string]any{"a": map[string]any{"b": []any{1, []any{make(chan int)}}}}, "variable a.b[1][0]: type chan int"},
		{"too big", map[string]any{"s": strings.Repeat("x", 1<<20)}, "more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mustParse(t, "x").Render(t.Context(), tt.vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	tm := mustParse(t, "{{.h}}{{range .l}} {{.}}{{end}}")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			for i := range 50 {
				h := fmt.Sprintf("sw%d-%d", g, i)
				out, err := tm.Render(t.Context(), map[string]any{"h": h, "l": []any{g, i}})
				if want := fmt.Sprintf("%s %d %d", h, g, i); err != nil || out != want {
					errs[g] = fmt.Errorf("Render = %q, %v; want %q", out, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(filepath.Join("testdata", "access.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Parse("access", string(text))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.Render(t.Context(), loadVars(t, filepath.Join("testdata", "access.json")))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "access.golden"), got, *update)
}

// accessFixture is the access switch template of testdata, parsed, and
// its variables.
func accessFixture(tb testing.TB) (*Template, map[string]any) {
	tb.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "access.tmpl"))
	if err != nil {
		tb.Fatal(err)
	}
	tm, err := Parse("access", string(text))
	if err != nil {
		tb.Fatal(err)
	}
	return tm, loadVars(tb, filepath.Join("testdata", "access.json"))
}

func BenchmarkRender(b *testing.B) {
	tm, vars := accessFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Render(ctx, vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	text, err := os.ReadFile(filepath.Join("testdata", "access.tmpl"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("access", string(text)); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseRender feeds arbitrary text through Parse and Render: nothing may
// panic (Render turns a panic into an error starting "panic:") and every
// render stays within the limits.
func FuzzParseRender(f *testing.F) {
	for _, s := range []string{
		"hostname {{.h}}", "{{range .l}}{{.}}{{end}}", "{{range $i, $e := .m}}{{$i}}{{end}}",
		"{{with .m}}{{.a}}{{else}}x{{end}}", `{{printf "%5d" .n}}`, "{{join .l \",\"}}",
		"{{range .l}}{{range $.l}}{{break}}{{end}}{{continue}}{{end}}", "{{addr .ip}} {{netmask .ip}}",
		"{{if lt .n 3}}a{{else if eq .n 4}}b{{end}}", "{{slice .h 1 2}}{{index .l 0}}{{len .m}}",
	} {
		f.Add(s)
	}
	vars := map[string]any{"h": "sw1", "n": 3, "l": []any{1, "b", 2.5}, "m": map[string]any{"a": 1}, "ip": "10.0.0.1/24"}
	lim := Limits{MaxOutput: 4096, MaxIterations: 1000, MaxFuncBytes: 8192, Timeout: time.Second}
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := ParseLimits("f", text, lim)
		if err != nil {
			return
		}
		out, err := tm.Render(context.Background(), vars)
		if err != nil && strings.Contains(err.Error(), ": panic: ") {
			t.Fatalf("Render panicked: %v", err)
		}
		if len(out) > lim.MaxOutput {
			t.Fatalf("output of %d bytes over the limit", len(out))
		}
	})
}
