package fleet

import (
	"slices"

	"netsmith/internal/netcfg"
)

// Redacted replaces a literal secret in the copy RedactSecrets returns.
const Redacted = netcfg.Redacted

// IsSecretRef reports whether v is a secret reference such as
// "vault:net/enable" (netcfg.IsSecretRef).
func IsSecretRef(v string) bool { return netcfg.IsSecretRef(v) }

// IsSecretName reports whether a variable named name holds a secret
// (netcfg.IsSecretName).
func IsSecretName(name string) bool { return netcfg.IsSecretName(name) }

// RedactSecrets returns a deep copy of vars in which every literal secret is
// replaced by Redacted: the value of a secret-named key (IsSecretName) at any
// depth, the elements of a list it holds, and in a map it holds the entries
// that carry the secret (secret-named keys, or name, value and string, as in
// snmp_communities: [{name: public, access: ro}]). Secret references
// (IsSecretRef), booleans and nulls are kept, and so is the shape of lists
// and maps, so the copy still shows what a template will get. Use it for
// anything that leaves the process, above all LLM prompts.
func RedactSecrets(vars map[string]any) map[string]any {
	if vars == nil {
		return nil
	}
	return redact(vars, false).(map[string]any)
}

func redact(v any, secret bool) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = redact(e, secretChild(secret, k))
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redact(e, secret)
		}
		return out
	case string:
		if secret && !IsSecretRef(v) {
			return Redacted
		}
		return v
	case nil, bool:
		return v
	default: // numbers
		if secret {
			return Redacted
		}
		return v
	}
}

// secretChild reports whether the entry k of a map holds a secret, given
// whether the map itself is held under a secret name.
func secretChild(secret bool, k string) bool { return netcfg.IsSecretEntry(secret, k) }

// literalSecret reports whether v, held under a secret-named key, contains a
// secret that is not a reference (by the rules of RedactSecrets).
func literalSecret(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if secretChild(true, k) && literalSecret(e) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, literalSecret)
	case string:
		return !IsSecretRef(v)
	case nil, bool:
	default:
		return true
	}
	return false
}
