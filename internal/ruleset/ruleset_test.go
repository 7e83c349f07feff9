package ruleset

import (
	"slices"
	"testing"
)

type rule struct {
	id  string
	off bool
	v   int
}

func id(r rule) string { return r.id }
func off(r rule) bool  { return r.off }

// ids returns the rules' values, which say which rule stands where.
func ids(rs []rule) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.v
	}
	return out
}

func TestEnabled(t *testing.T) {
	got, err := Enabled([]rule{{"a", false, 1}, {"b", true, 2}, {"c", false, 3}}, id, off)
	if err != nil || !slices.Equal(ids(got), []int{1, 3}) {
		t.Errorf("Enabled = %v, %v; want rules 1 and 3", got, err)
	}
	if _, err := Enabled([]rule{{"a", false, 1}, {"a", true, 2}}, id, off); err == nil {
		t.Error("a duplicate id is not an error")
	}
}

func TestOverlay(t *testing.T) {
	base := []rule{{"a", false, 1}, {"b", false, 2}, {"c", false, 3}}
	got := Overlay(base, []rule{{"b", false, 20}, {"c", true, 0}, {"d", false, 4}, {"e", true, 5}}, id, off)
	if !slices.Equal(ids(got), []int{1, 20, 4}) {
		t.Errorf("Overlay = %v; want a, b replaced, c removed, d added, e left out", got)
	}
	if !slices.Equal(ids(base), []int{1, 2, 3}) {
		t.Errorf("Overlay changed its base: %v", base)
	}
}
