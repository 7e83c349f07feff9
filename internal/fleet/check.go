package fleet

import (
	"fmt"
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
