package lint

import (
	"regexp"
	"strings"

	"netsmith/internal/confparse"
)

func (r *Rule) evalCheck(d *doc, out []Finding) []Finding {
	switch r.Check {
	case CheckCleartextSecret:
		return r.evalSecrets(d, out, secretCleartext)
	case CheckReversibleSecret:
		return r.evalSecrets(d, out, secretReversible)
	case CheckUndefinedReference:
		return r.evalUndefined(d, out)
	case CheckUnusedDefinition:
		return r.evalUnused(d, out, true)
	case CheckUnreferenced:
		return r.evalUnused(d, out, false)
	case CheckEBGPPolicy:
		return r.evalEBGPPolicy(d, out)
	case CheckParseProblem:
		for _, p := range d.tree.Problems {
			out = append(out, r.finding(p.Line, r.expand("", p.Message)))
		}
	}
	return out
}

// secretClass says how a secret is stored in a config.
type secretClass uint8

const (
	secretNone       secretClass = iota // hashed, strongly encrypted, or a placeholder
	secretCleartext                     // readable as is
	secretReversible                    // Cisco type 7, Junos $9$: an encoding anyone can undo
)

// secretSite is a statement that holds a secret: the expression's group
// "rest" starts at the secret (or at its encryption type).
type secretSite struct {
	re       *regexp.Regexp
	prefixes []string
	parent   *regexp.Regexp // the statement counts only under a matching parent line
	unless   *regexp.Regexp
	// typeAfter: the encryption type follows the secret (IOS "ntp
	// authentication-key 1 md5 SECRET 7") rather than preceding it.
	typeAfter bool
}

func site(expr string) secretSite {
	return secretSite{re: regexp.MustCompile(expr), prefixes: literalPrefixes(expr)}
}

// siteUnless is site with an exclusion.
func siteUnless(expr, unless string) secretSite {
	s := site(expr)
	s.unless = regexp.MustCompile(unless)
	return s
}

// iosSecretSites are the statements of IOS, IOS-XE, NX-OS, EOS and FRR that
// carry a password or key. SNMP communities are not here: they are checked
// by their own rules.
var iosSecretSites = func() []secretSite {
	aaaKey := site(`^key (?P<rest>.+)$`) // under "tacacs server X" / "radius server X"
	aaaKey.parent = regexp.MustCompile(`^(?:tacacs|radius) server `)
	ntp := site(`^ntp authentication-key \d+ (?:md5|sha1|sha256|cmac-aes-128) (?P<rest>.+)$`)
	ntp.typeAfter = true
	return []secretSite{
		site(`^(?:enable (?:password|secret)(?: level \d+)?|aaa root secret) (?P<rest>.+)$`),
		site(`^username \S+ (?:.*? )?(?:password|secret) (?P<rest>.+)$`),
		site(`^key-string (?P<rest>.+)$`),
		site(`^(?:tacacs-server|radius-server) (?:host \S+ (?:.*? )?)?key (?P<rest>.+)$`),
		site(`^pre-shared-key (?:address \S+(?: \S+)? key |hostname \S+ key |local |remote )?(?P<rest>.+)$`),
		site(`^crypto isakmp key (?P<rest>.+?) (?:address|hostname) `),
		site(`^(?:ip )?ospf (?:authentication-key|message-digest-key \d+ md5) (?P<rest>.+)$`),
		site(`^(?:isis password|area-password|domain-password) (?P<rest>.+)$`),
		site(`^(?:mpls ldp )?neighbor \S+ password (?P<rest>.+)$`),
		// SNMPv3 localized keys are hashes.
		siteUnless(`^snmp-server user .*? auth (?:md5|sha\S*) (?P<rest>.+)$`, `\blocalized`),
		site(`^ppp (?:chap|pap) (?:password|sent-username \S+ password) (?P<rest>.+)$`),
		site(`^key config-key password-encrypt (?P<rest>.+)$`),
		siteUnless(`^(?:standby|vrrp|glbp) (?:\d+ )?authentication (?:md5 key-string |text )?(?P<rest>.+)$`, `authentication md5 key-chain `),
		// A line password (line vty, FRR), not the global commands about
		// password policy and encryption.
		siteUnless(`^password (?P<rest>.+)$`, `^password (?:strength-check|secure-mode|policy|encryption|prompt|logging|complexity|expiry|history|minimum-length)\b`),
		aaaKey,
		ntp,
	}
}()

// junosSecretSites match set-style statements; the secret is the last word.
var junosSecretSites = []secretSite{
	site(`^set (?:.* )?(?:authentication-key|secret|ascii-text|hexadecimal|encrypted-password|simple-password|plain-text-password-value|authentication-password|privacy-password|md5 \d+ key) (?P<rest>"[^"]*"|\S+)$`),
}

func (r *Rule) evalSecrets(d *doc, out []Finding, want secretClass) []Finding {
	junos := d.tree.Format != confparse.FormatIndented
	sites := iosSecretSites
	if junos {
		sites = junosSecretSites
	}
	for _, s := range sites {
		for _, n := range d.candidates(s.prefixes, false) {
			if !hasAnyPrefix(n.Text, s.prefixes) {
				continue
			}
			if s.parent != nil && (n.Parent == nil || !s.parent.MatchString(n.Parent.Text)) {
				continue
			}
			if s.unless != nil && s.unless.MatchString(n.Text) || r.exempts(n) {
				continue
			}
			loc := s.re.FindStringSubmatchIndex(n.Text)
			if loc == nil {
				continue
			}
			i := s.re.SubexpIndex("rest")
			rest := n.Text[loc[2*i]:loc[2*i+1]]
			var class secretClass
			if junos {
				class = classifyJunos(rest)
			} else {
				class = classifyIOS(rest, s.typeAfter)
			}
			if class == want {
				label := strings.TrimSpace(n.Text[:loc[2*i]])
				out = append(out, r.finding(n.Line, r.expand("", label)))
			}
		}
	}
	return out
}

// classifyIOS says how the secret in rest (starting at the optional
// encryption type) is stored.
func classifyIOS(rest string, typeAfter bool) secretClass {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return secretNone
	}
	typ, secret := "", f[0]
	switch {
	case typeAfter:
		if len(f) > 1 {
			typ = f[1]
		}
	case len(f) > 1 && isTypeWord(f[0]):
		typ, secret = f[0], f[1]
	}
	secret = strings.Trim(secret, `"`)
	if secret == "" || placeholder(secret) {
		return secretNone
	}
	switch typ {
	case "":
		if hashed(secret) {
			return secretNone
		}
		return secretCleartext
	case "0":
		return secretCleartext
	case "7":
		return secretReversible
	}
	return secretNone // 3 (NX-OS 3DES), 4, 5, 6 (AES), 8, 9, 8a, sha512, …
}

func isTypeWord(s string) bool {
	switch s {
	case "0", "3", "4", "5", "6", "7", "8", "9", "8a", "sha512", "sha256":
		return true
	}
	return false
}

// classifyJunos says how a Junos secret (a possibly quoted word) is stored.
func classifyJunos(rest string) secretClass {
	s := strings.Trim(rest, `"`)
	switch {
	case s == "" || placeholder(s):
		return secretNone
	case strings.HasPrefix(s, "$9$"):
		return secretReversible
	case hashed(s):
		return secretNone
	}
	return secretCleartext
}

// hashed reports whether s looks like a crypt(3) hash.
func hashed(s string) bool {
	for _, p := range []string{"$1$", "$5$", "$6$", "$8$", "$9$", "$y$", "$2a$", "$2b$", "$sha1$", "$14$"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// placeholder reports whether s stands for a secret rather than being one:
// a template variable, a vault reference or a masked value.
func placeholder(s string) bool {
	switch {
	case strings.HasPrefix(s, "{{"), strings.HasPrefix(s, "${"), strings.HasPrefix(s, "<"),
		strings.HasPrefix(s, "["), strings.HasPrefix(s, "vault:"):
		return true
	case strings.Trim(s, "*xX") == "" && len(s) >= 3:
		return true
	}
	return false
}

// names returns the object names a uses or defines pattern captured.
func names(m *matcher, sub []string) []string {
	if n := m.group(sub, "name"); n != "" {
		return []string{strings.Trim(n, `"`)}
	}
	var out []string
	for _, w := range strings.Fields(m.group(sub, "names")) {
		w = strings.Trim(w, `"[]`)
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// definitions returns the lines of each defined object (its first one) and
// how many statements define it.
func (r *Rule) definitions(d *doc) (first map[string]int, count map[string]int) {
	first, count = make(map[string]int), make(map[string]int)
	seen := make(map[*confparse.Node]bool) // a statement defines once, whatever patterns match it
	for _, p := range r.c.defines {
		for _, n := range d.scope(p.match, false) {
			sub := p.find(n.Text)
			if sub == nil || seen[n] {
				continue
			}
			seen[n] = true
			for _, name := range names(p.match, sub) {
				if l, ok := first[name]; !ok || n.Line < l {
					first[name] = n.Line
				}
				count[name]++
			}
		}
	}
	return first, count
}

func (r *Rule) evalUndefined(d *doc, out []Finding) []Finding {
	defined, _ := r.definitions(d)
	for _, p := range r.c.uses {
		for _, n := range d.scope(p.match, false) {
			sub := p.find(n.Text)
			if sub == nil {
				continue
			}
			for _, name := range names(p.match, sub) {
				if _, ok := defined[name]; !ok && !placeholder(name) {
					out = append(out, r.finding(n.Line, r.expand("", name)))
				}
			}
		}
	}
	return out
}

// evalUnused reports objects no statement refers to. A name counts as used
// when a uses pattern names it, or, with anyWord, when it appears as a word
// in any statement other than its definitions: the uses patterns cannot
// know every command that refers to an ACL or a route-map, and a missed
// reference must not become a false finding. Without anyWord only the uses
// patterns count (an interface name is in many statements that do not make
// it an edge port).
func (r *Rule) evalUnused(d *doc, out []Finding, anyWord bool) []Finding {
	first, count := r.definitions(d)
	if len(first) == 0 {
		return out
	}
	used := make(map[string]bool)
	for _, p := range r.c.uses {
		for _, n := range d.scope(p.match, false) {
			if sub := p.find(n.Text); sub != nil {
				for _, name := range names(p.match, sub) {
					used[name] = true
				}
			}
		}
	}
	var tokens map[string]int
	if anyWord {
		tokens = d.tokenCounts()
	}
	for name, line := range first {
		if used[name] || anyWord && tokens[name] > count[name] {
			continue
		}
		out = append(out, r.finding(line, r.expand("", name)))
	}
	return out
}
