package lint

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Context is what lint knows about a config beyond its text: the device's
// variables and the requirements of its intent. Rules with when_vars or
// when_requirements apply only when the context satisfies them, so that
// "the vars list TACACS+ servers but the config has none" is a finding
// only where the device was meant to have them. Lint without a context
// runs none of those rules.
type Context struct {
	Vars         map[string]any
	Requirements string
}

// Names is a list of names; in YAML a single name or a list.
type Names []string

// UnmarshalYAML accepts a plain string as well as a list.
func (n *Names) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode {
		var s string
		if err := v.Decode(&s); err != nil {
			return err
		}
		*n = Names{s}
		return nil
	}
	return v.Decode((*[]string)(n))
}

// inContext reports whether the rule's context conditions hold in c.
func (r *Rule) inContext(c Context) bool {
	if len(r.WhenVars) > 0 {
		found := false
		for _, name := range r.WhenVars {
			if set(c.Vars[name]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return r.c.whenRequirements == nil || r.c.whenRequirements.re.MatchString(c.Requirements)
}

// contextual reports whether the rule depends on a Context.
func (r *Rule) contextual() bool { return len(r.WhenVars) > 0 || r.WhenRequirements != "" }

// set reports whether a variable has a value: not missing, empty, false or
// an empty list or map.
func set(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(x) != ""
	case bool:
		return x
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// ContextKey returns the facts of c the linter's rules depend on, as a
// short string: two contexts with the same key give the same findings for
// the same config, so a caller can memoize findings by platform, text and
// key instead of by the whole context.
func (l *Linter) ContextKey(c Context) string {
	var b strings.Builder
	for i := range l.rules {
		r := &l.rules[i]
		if !r.contextual() {
			continue
		}
		if r.inContext(c) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}
