package fleet

// mergeInto deep-merges src into dst and returns dst (allocated when nil):
// maps merge key by key recursively, anything else (scalars and lists)
// replaces what dst held, and a null in src deletes the key. Values taken
// from src are copied, so dst never shares storage with src.
func mergeInto(dst, src map[string]any) map[string]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]any, len(src))
	}
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeInto(dm, sm)
				continue
			}
			dst[k] = mergeInto(nil, sm)
			continue
		}
		dst[k] = deepCopy(sv)
	}
	return dst
}

// deepCopy copies maps and lists; scalars are values already.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
