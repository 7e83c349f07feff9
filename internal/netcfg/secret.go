package netcfg

import (
	"slices"
	"strings"
)

// Redacted stands for a literal secret wherever one must not be shown: in
// prompts, in stored results, in what a check reports.
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
