package netcfg

import (
	"slices"
	"strconv"
	"strings"
)

// Redacted replaces a literal secret in the copy RedactSecrets returns.
const Redacted = "<redacted>"

// secretSchemes are the prefixes of a secret reference: the value names where
// the secret lives (resolved when a config is rendered), never the secret.
var secretSchemes = []string{"vault:", "env:", "file:"}

// IsSecretRef reports whether v is a secret reference such as
// "vault:net/enable", "env:SNMP_RO" or "file:/run/secrets/tacacs": a known
// scheme followed by a non-empty path without white space.
func IsSecretRef(v string) bool {
	for _, s := range secretSchemes {
		rest, ok := strings.CutPrefix(v, s)
		if ok {
			return rest != "" && !strings.ContainsAny(rest, " \t\r\n")
		}
	}
	return false
}

// IsSecretName reports whether a variable named name holds a secret:
// passwords, secrets, pre-shared keys, tokens and SNMP communities
// (enable_secret, tacacs_key, sha512_password, snmp_community, api_token, …),
// but not key_id, keychain, bgp_community, send_community or community_list.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "passwd", "secret", "passphrase", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	tokens := strings.FieldsFunc(n, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	if len(tokens) == 0 {
		return false
	}
	switch tokens[len(tokens)-1] {
	case "key", "psk", "token", "pwd", "pass":
		return true
	}
	has := func(t string) bool { return slices.Contains(tokens, t) }
	if has("community") || has("communities") {
		// SNMP communities are secrets; BGP communities and community lists are not.
		return has("snmp") || !has("bgp") && !has("send") && !has("list") && !has("lists")
	}
	return n == "key_string"
}

// RedactSecrets returns a deep copy of vars in which every literal secret is
// replaced by Redacted: the value of a secret-named key (IsSecretName) at any
// depth, the elements of a list it holds, and in a map it holds the entries
// that carry the secret (secret-named keys, or name, value and string, as in
// snmp_communities: [{name: public, access: ro}]). Secret references
// (IsSecretRef), booleans and nulls are kept, and so is the shape of lists
// and maps, so the copy still shows what a template will get. Use it for
// anything that leaves the process and is not a prompt (prompts get
// SecretPlaceholders).
func RedactSecrets(vars map[string]any) map[string]any {
	if vars == nil {
		return nil
	}
	return MapSecrets(vars, false, "", func(_ string, v any) any {
		if s, ok := v.(string); ok && IsSecretRef(s) {
			return v
		}
		return Redacted
	}).(map[string]any)
}

// MapSecrets returns a deep copy of v in which every secret leaf (by the
// rules of RedactSecrets; secret says whether v is held under a secret
// name) is leaf(path, value), path naming it like "snmp_communities.0.name".
// Booleans and nulls are never secrets.
func MapSecrets(v any, secret bool, path string, leaf func(path string, v any) any) any {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = MapSecrets(e, IsSecretEntry(secret, k), join(k), leaf)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = MapSecrets(e, secret, join(strconv.Itoa(i)), leaf)
		}
		return out
	case nil, bool:
		return v
	}
	if secret {
		return leaf(path, v)
	}
	return v
}

// IsSecretEntry reports whether the entry k of a map holds a secret, given
// whether the map itself is held under a secret name (secret): a
// secret-named key anywhere, and in a secret's map also name, value and
// string, as in snmp_communities: [{name: public, access: ro}].
func IsSecretEntry(secret bool, k string) bool {
	if IsSecretName(k) {
		return true
	}
	if !secret {
		return false
	}
	switch strings.ToLower(k) {
	case "name", "value", "string":
		return true
	}
	return false
}

// literalSecret reports whether v, held under a secret-named key, contains a
// secret that is not a reference (by the rules of RedactSecrets).
func literalSecret(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if IsSecretEntry(true, k) && literalSecret(e) {
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
