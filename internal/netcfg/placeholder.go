package netcfg

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A secret never reaches a model. Every path to a config handles it the
// same way, so a device's config is the same whether its intent's template
// rendered it or a model call of its own wrote it:
//
//  1. What a model is shown, and what a template is rendered with, holds
//     SecretPlaceholders: each secret leaf of the vars and constants,
//     literal or reference, is "<secret:PATH>" (PATH as in
//     "snmp_communities.0.name"), the same text for every device.
//  2. FillSecrets then puts each device's own secret in place of its
//     placeholder: a literal value (a hash) verbatim, a reference as
//     "<vault:net/enable>", the one form an unresolved secret has in a
//     config (lint's unresolved-secret rule flags it).
//  3. ResolveSecretRefs, run only where the operator asks for it (netsmith
//     batch --resolve-secrets, on the operator's machine), replaces
//     "<env:NAME>" and "<file:PATH>" by the variable's or the file's
//     content. A server never reads files a request names.

// SecretPlaceholders returns a deep copy of vars in which every secret (by
// the rules of RedactSecrets, references included) is its placeholder,
// "<secret:PATH>".
func SecretPlaceholders(vars map[string]any) map[string]any {
	if vars == nil {
		return nil
	}
	return MapSecrets(vars, false, "", func(path string, _ any) any {
		return "<secret:" + path + ">"
	}).(map[string]any)
}

// placeholderRE finds a placeholder, and the one extra pair of angle
// brackets a writer that wraps every secret in them adds.
var placeholderRE = regexp.MustCompile(`(<?)<secret:([^<>\s]+)>(>?)`)

// FillSecrets replaces each placeholder in text by the secret at its path in
// the first of sources that has one (a device's vars, then its intent's
// constants): a literal verbatim, a reference (IsSecretRef) as "<ref>". A
// placeholder naming no secret is left as it is.
func FillSecrets(text string, sources ...map[string]any) string {
	if !strings.Contains(text, "<secret:") {
		return text
	}
	return replaceAllSubmatch(placeholderRE, text, func(m []string) string {
		v, ok := "", false
		for _, src := range sources {
			if v, ok = secretAt(src, m[2]); ok {
				break
			}
		}
		if !ok {
			return m[0]
		}
		if IsSecretRef(v) {
			v = "<" + v + ">"
		}
		if m[1] == "" || m[3] == "" {
			// Only a matched pair of extra brackets is the writer's.
			v = m[1] + v + m[3]
		}
		return v
	})
}

// secretAt returns the secret leaf at path ("a.0.b") in vars as text.
func secretAt(vars map[string]any, path string) (string, bool) {
	var cur any = vars
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[k]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return "", false
			}
			cur = c[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case map[string]any, []any, nil, bool:
		return "", false
	default:
		return fmt.Sprint(v), true
	}
}

// refRE finds a reference left in a config by FillSecrets.
var refRE = regexp.MustCompile(`<(vault|env|file):([^<>\s]+)>`)

// SecretResolveFunc returns the secret a reference names ("env", "SNMP_RO"),
// ok false when it does not resolve references of that scheme, or an error
// when it does but cannot (a variable not set, a file not readable).
type SecretResolveFunc func(scheme, name string) (secret string, ok bool, err error)

// ResolveSecretRefs replaces each reference FillSecrets left in text
// ("<env:SNMP_RO>") by the secret resolve returns for it, and returns how
// many references remain. A secret that would break the line it is written
// on (empty, or with a line break) is an error naming the reference.
func ResolveSecretRefs(text string, resolve SecretResolveFunc) (string, int, error) {
	var (
		firstErr error
		left     int
	)
	out := replaceAllSubmatch(refRE, text, func(m []string) string {
		secret, ok, err := resolve(m[1], m[2])
		switch {
		case err != nil:
			err = fmt.Errorf("secret %s:%s: %w", m[1], m[2], err)
		case ok && (secret == "" || strings.ContainsAny(secret, "\r\n")):
			err = fmt.Errorf("secret %s:%s: empty or more than one line", m[1], m[2])
		case ok:
			return secret
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		left++
		return m[0]
	})
	if firstErr != nil {
		return text, 0, firstErr
	}
	return out, left, nil
}

// replaceAllSubmatch is ReplaceAllStringFunc with the submatches.
func replaceAllSubmatch(re *regexp.Regexp, s string, fn func(m []string) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		m := make([]string, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(fn(m))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
