package fleet

import (
	"fmt"
	"slices"
	"strings"
)

// formatPath renders a value path as in "vars.uplinks[0].peer_ip".
func formatPath(prefix string, path []any) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
