package comply

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/confparse"
	"netsmith/internal/diff"
	"netsmith/internal/netcfg"
)

const policy = `version: 1
roles:
  - name: access
    hosts: '-acc\d+$'
    golden: golden.cfg
    rules:
      - id: vty-ssh
        parent: '^line vty '
        required: '^transport input ssh$'
      - id: no-telnet
        forbidden: 'telnet'
  - name: edge
    hosts: '^edge'
    rules:
      - id: no-telnet
        forbidden: '^set system services telnet$'
`

func load(t *testing.T) *Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "golden.cfg"), []byte("service password-encryption\nline vty 0 4\n exec-timeout 5 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(strings.NewReader(policy), dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func check(t *testing.T, p *Policy, host string, platform netcfg.Platform, text string) map[string][]string {
	t.Helper()
	d, err := diff.Default()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := confparse.Parse(platform, text)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := p.Check(d, host, tree)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	pass := true
	for _, c := range dev.Checks {
		out[c.Role+"/"+c.Rule] = c.Lines
		pass = pass && c.Pass
	}
	if pass != dev.Pass {
		t.Errorf("%s: Pass = %v, but the checks say %v", host, dev.Pass, pass)
	}
	return out
}

func TestCheck(t *testing.T) {
	p := load(t)
	got := check(t, p, "bld1-acc01", netcfg.CiscoIOS,
		"service password-encryption\nline vty 0 4\n exec-timeout 10 0\n transport input ssh\nline vty 5 15\n transport input telnet\n")
	want := map[string][]string{
		"access/golden":    {"line vty 0 4 > exec-timeout 5 0"},
		"access/vty-ssh":   {"line vty 5 15 > missing ^transport input ssh$"},
		"access/no-telnet": nil, // top-level lines only: the telnet line is under a vty
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("checks %v, want only the access role's", got)
	}
	got = check(t, p, "edge1", netcfg.JuniperJunos, "system { services { telnet; ssh; } }\n")
	if !slices.Equal(got["edge/no-telnet"], []string{"set system services telnet"}) || len(got) != 1 {
		t.Errorf("edge1 = %v, want the telnet statement found", got)
	}
	if got := check(t, p, "core1", netcfg.CiscoIOS, "hostname core1\n"); len(got) != 0 {
		t.Errorf("a device no role matches has checks: %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ yaml, inMsg string }{
		{"version: 1\nroles: []\n", "roles"},
		{"version: 1\nroles: [{name: a, rules: [{id: x, required: a, forbidden: b}]}]\n", "rule x: give one of"},
		{"version: 1\nroles: [{name: a, rules: [{id: x, required: '('}]}]\n", "rule x"},
		{"version: 1\nroles: [{name: a, golden: nope.cfg}]\n", "golden"},
		{"version: 1\nroles: [{name: a, hosts: '[', rules: [{id: x, required: a}]}]\n", "hosts"},
		{"version: 1\nroles: [{name: a, rules: [{id: x, required: a}, {id: x, forbidden: b}]}]\n", "duplicate id"},
		{"version: 1\nroles: [{nam: a}]\n", "nam"},
	} {
		if _, err := Load(strings.NewReader(c.yaml), t.TempDir()); err == nil || !strings.Contains(err.Error(), c.inMsg) {
			t.Errorf("Load(%q) = %v, want an error with %q", c.yaml, err, c.inMsg)
		}
	}
}
