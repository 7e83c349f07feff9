package netcfg

import (
	"fmt"
	"strings"
	"testing"
)

// nest wraps leaf in depth maps under key "a".
func nest(depth int, leaf any) map[string]any {
	v := leaf
	for range depth - 1 {
		v = map[string]any{"a": v}
	}
	return map[string]any{"a": v}
}

func TestTreeBounds(t *testing.T) {
	wide := map[string]any{}
	for i := range MaxTreeNodes + 1 {
		wide[fmt.Sprint("k", i)] = 1
	}
	list := make([]any, MaxTreeNodes)
	long := strings.Repeat("x", MaxTreeString+1)
	for _, tc := range []struct {
		name  string
		tree  map[string]any
		field string // "" : within bounds
		msg   string
	}{
		{"depth at the bound", nest(MaxTreeDepth, "x"), "", ""},
		{"depth beyond", nest(MaxTreeDepth+1, "x"), strings.TrimSuffix(strings.Repeat("a.", MaxTreeDepth+1), "."), "nested deeper than 64"},
		{"list beyond depth", nest(MaxTreeDepth, []any{1}), strings.Repeat("a.", MaxTreeDepth) + "0", "nested deeper than 64"},
		{"nodes at the bound", map[string]any{"l": list[:MaxTreeNodes-1]}, "", ""},
		{"nodes beyond in a list", map[string]any{"l": list}, "l", "more than 10000 values"},
		{"nodes beyond in a map", wide, "", "more than 10000 values"},
		{"string at the bound", map[string]any{"s": long[1:]}, "", ""},
		{"string beyond", map[string]any{"x": []any{"ok", long}}, "x.1", "string longer than 65536"},
		{"key beyond", map[string]any{"x": map[string]any{long: 1}}, "x", "key longer than 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateVars(tc.tree)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fe, ok := err.(*FieldError)
			if !ok {
				t.Fatalf("error %v (%T), want a *FieldError", err, err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("got %q: %q, want %q: …%s…", fe.Field, fe.Msg, tc.field, tc.msg)
			}
		})
	}
}

// TestJobRequestTreeBounds: a request names the tree at fault, vars or
// constants.
func TestJobRequestTreeBounds(t *testing.T) {
	for _, tc := range []struct {
		req   JobRequest
		field string
	}{
		{JobRequest{Kind: KindGenerate, Device: &Device{Hostname: "a", Platform: CiscoIOS, Vars: nest(100, 1)}, Requirements: "x"}, "device.vars.a"},
		{JobRequest{Kind: KindGenerate, Device: &Device{Hostname: "a", Platform: CiscoIOS}, Constants: nest(100, 1), Requirements: "x"}, "constants.a"},
	} {
		err := tc.req.Validate()
		fe, ok := err.(*FieldError)
		if !ok || !strings.HasPrefix(fe.Field, tc.field) || !strings.Contains(fe.Msg, "nested deeper") {
			t.Errorf("Validate = %v, want a field under %s nested too deep", err, tc.field)
		}
	}
}
