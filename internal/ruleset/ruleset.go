// Package ruleset is what the rule files (lint rules, remediation rules)
// share: rule ids are unique, and a user's file adds rules, replaces a
// built-in one of the same id, or removes one (disabled: true).
package ruleset

import (
	"fmt"
	"slices"
)

// Enabled returns rules without the disabled ones, or an error naming the
// first id used twice.
func Enabled[R any](rules []R, id func(R) string, disabled func(R) bool) ([]R, error) {
	seen := make(map[string]bool, len(rules))
	out := make([]R, 0, len(rules))
	for _, r := range rules {
		if seen[id(r)] {
			return nil, fmt.Errorf("duplicate rule id %q", id(r))
		}
		seen[id(r)] = true
		if !disabled(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Overlay returns base with extra laid over it: a rule of extra with the
// id of one in base replaces it, or removes it when disabled; any other
// enabled one is added at the end.
func Overlay[R any](base, extra []R, id func(R) string, disabled func(R) bool) []R {
	all := slices.Clone(base)
	for _, r := range extra {
		i := slices.IndexFunc(all, func(x R) bool { return id(x) == id(r) })
		switch {
		case i >= 0 && disabled(r):
			all = slices.Delete(all, i, i+1)
		case i >= 0:
			all[i] = r
		case !disabled(r):
			all = append(all, r)
		}
	}
	return all
}
