package netcfg

import (
	"fmt"
	"slices"
)

// Bounds on a vars or constants tree, the same for a job submitted to the
// API and for a fleet file, so that a small request cannot make a huge
// prompt (a prompt grows with depth times size, and is built more than once
// per job).
const (
	// MaxTreeDepth bounds the nesting of maps and lists below the tree's
	// root map: a value inside 64 maps or lists is the deepest allowed.
	MaxTreeDepth = 64
	// MaxTreeNodes bounds the values in one tree below its root map, maps
	// and lists counted.
	MaxTreeNodes = 10_000
	// MaxTreeString bounds one string in a tree, key or value, in bytes.
	MaxTreeString = 64 << 10
)

// checkBounds returns the first value of root beyond the tree bounds, or
// nil. Keys are visited in order, so the value named is the same on every
// run; a map too large for what is left of the node budget is named itself
// before its keys are sorted, so the work stays bounded too.
func checkBounds(root map[string]any) *Issue {
	b := boundsWalker{left: MaxTreeNodes + 1} // the root is not counted
	return b.walk(nil, root, 0)
}

type boundsWalker struct {
	left int // nodes still allowed
}

func (b *boundsWalker) walk(path []any, v any, depth int) *Issue {
	over := func(format string, args ...any) *Issue {
		return &Issue{Path: slices.Clone(path), Msg: fmt.Sprintf(format, args...)}
	}
	if depth > MaxTreeDepth {
		return over("is nested deeper than %d levels", MaxTreeDepth)
	}
	if b.left--; b.left < 0 {
		return over("holds more than %d values in all", MaxTreeNodes)
	}
	switch v := v.(type) {
	case string:
		if len(v) > MaxTreeString {
			return over("is a string longer than %d bytes", MaxTreeString)
		}
	case []any:
		if len(v) > b.left {
			return over("holds more than %d values in all", MaxTreeNodes)
		}
		for i, e := range v {
			if is := b.walk(append(path, i), e, depth+1); is != nil {
				return is
			}
		}
	case map[string]any:
		if len(v) > b.left {
			return over("holds more than %d values in all", MaxTreeNodes)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if len(k) > MaxTreeString {
				return over("has a key longer than %d bytes", MaxTreeString)
			}
			if is := b.walk(append(path, k), v[k], depth+1); is != nil {
				return is
			}
		}
	}
	return nil
}
