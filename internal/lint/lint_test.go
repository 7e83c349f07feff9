package lint

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/netcfg"
)

func TestSeverity(t *testing.T) {
	t.Parallel()
	for _, s := range Severities {
		got, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if !(SeverityInfo < SeverityLow && SeverityLow < SeverityMedium && SeverityMedium < SeverityHigh && SeverityHigh < SeverityCritical) {
		t.Error("severities are not ordered")
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe) = nil error")
	}
	b, err := json.Marshal(struct{ S Severity }{SeverityHigh})
	if err != nil || string(b) != `{"S":"high"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	fs := []Finding{{Severity: "high"}, {Severity: "low"}, {Severity: "high"}}
	want := map[string]int{"info": 0, "low": 1, "medium": 0, "high": 2, "critical": 0}
	if diff := cmp.Diff(want, CountBySeverity(fs)); diff != "" {
		t.Errorf("CountBySeverity (-want +got):\n%s", diff)
	}
	if got := Max(fs); got != SeverityHigh {
		t.Errorf("Max = %v, want high", got)
	}
	if !fs[0].AtLeast(SeverityHigh) || fs[1].AtLeast(SeverityMedium) {
		t.Error("AtLeast is wrong")
	}
	if got := (Finding{Rule: "r", Severity: "low", Message: "m", Line: 3}).String(); got != "3 r low m" {
		t.Errorf("String = %q", got)
	}
	b, err = json.Marshal(Finding{Rule: "r", Severity: "low", Message: "m", Line: 3})
	if err != nil || string(b) != `{"rule":"r","severity":"low","message":"m","line":3}` {
		t.Errorf("Finding JSON = %s, %v", b, err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const ok = "  - id: r1\n    severity: high\n    message: m\n    must_match: '^x'\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty"},
		{"version", "version: 2\nrules: []\n", "version 2"},
		{"unknown field", "version: 1\nrules:\n  - id: r1\n    severty: high\n", "severty"},
		{"bad severity", "version: 1\nrules:\n  - id: r1\n    severity: severe\n    message: m\n    must_match: x\n", "severe"},
		{"no severity", "version: 1\nrules:\n  - id: r1\n    message: m\n    must_match: x\n", "severity"},
		{"no message", "version: 1\nrules:\n  - id: r1\n    severity: low\n    must_match: x\n", "message"},
		{"bad id", "version: 1\nrules:\n  - id: R 1\n    severity: low\n    message: m\n    must_match: x\n", "rule id"},
		{"duplicate id", "version: 1\nrules:\n" + ok + ok, "duplicate"},
		{"bad regexp", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: '('\n", "must_match"},
		{"two kinds", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    must_not_match: y\n", "exactly one"},
		{"no kind", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n", "exactly one"},
		{"unknown check", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    check: magic\n", "unknown check"},
		{"reference check without patterns", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    check: undefined-reference\n", "defines and uses"},
		{"uses without name group", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    check: undefined-reference\n    defines: ['^a (?P<name>x)']\n    uses: ['^b']\n", "names"},
		{"unknown platform", "version: 1\nrules:\n  - id: r1\n    platforms: [cisco_asa]\n    severity: low\n    message: m\n    must_match: x\n", "cisco_asa"},
		{"bad scope", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    scope: children\n", "scope"},
		{"under outside exempt", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    check: undefined-reference\n    defines: ['^a (?P<name>x)']\n    uses: [{match: '^b (?P<name>x)', under: '^c'}]\n", "under applies"},
		{"exempt without match", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    exempt: [{under: '^c'}]\n", "exempt pattern needs match"},
		{"parent_has without parent", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    parent_has: y\n", "parent_has needs parent"},
		{"empty when_vars", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    when_vars: ['']\n", "when_vars"},
		{"bad when_requirements", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    when_requirements: '('\n", "when_requirements"},
		{"require_parent alone", "version: 1\nrules:\n  - id: r1\n    severity: low\n    message: m\n    must_match: x\n    require_parent: true\n", "require_parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestWith(t *testing.T) {
	t.Parallel()
	l := defaultLinter(t)
	user, err := Load(strings.NewReader(`version: 1
rules:
  - id: ios-http-server          # override: raise the severity
    platforms: [cisco_ios]
    severity: critical
    last: '^(?:no )?ip http server$'
    must_not_match: '^ip http server$'
    message: HTTP server on
  - id: ios-login-banner         # switch off
    disabled: true
  - id: site-domain-name         # add
    platforms: [cisco_ios]
    severity: info
    must_match: '^ip domain[ -]name '
    message: no domain name
  - id: site-no-dhcp-on-vlan
    platforms: [cisco_ios]
    severity: low
    parent: '^interface Vlan'
    scope: subtree
    must_not_match: '^ip helper-address (?P<name>\S+)'
    message: '{parent}: relays DHCP to {name}'
`))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := l.With(user...)
	if err != nil {
		t.Fatal(err)
	}
	const cfg = "ip http server\ninterface Vlan10\n ip helper-address 192.0.2.7\n"
	only := func(fs []Finding, ids ...string) []Finding {
		var out []Finding
		for _, f := range fs {
			for _, id := range ids {
				if f.Rule == id {
					out = append(out, f)
				}
			}
		}
		return out
	}
	ids := []string{"ios-http-server", "ios-login-banner", "site-domain-name", "site-no-dhcp-on-vlan"}
	want := []Finding{
		{Rule: "ios-http-server", Severity: "critical", Message: "HTTP server on", Line: 1},
		{Rule: "site-domain-name", Severity: "info", Message: "no domain name", Line: 0},
		{Rule: "site-no-dhcp-on-vlan", Severity: "low", Message: "interface Vlan10: relays DHCP to 192.0.2.7", Line: 3},
	}
	got := only(l2.Lint(netcfg.CiscoIOS, cfg), ids...)
	want[0], want[1] = want[1], want[0] // line 0 first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings with user rules (-want +got):\n%s", diff)
	}
	// The original linter is unchanged.
	if got := only(l.Lint(netcfg.CiscoIOS, cfg), "ios-login-banner"); len(got) != 1 {
		t.Errorf("default linter lost ios-login-banner: %v", got)
	}
	if _, err := l.With(Rule{ID: "x", Severity: SeverityLow, Message: "m", MustMatch: "("}); err == nil {
		t.Error("With(bad rule) = nil error")
	}
}

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	rules := defaultLinter(t).Rules()
	if len(rules) < 60 {
		t.Errorf("%d built-in rules, want at least 60", len(rules))
	}
	for _, r := range rules {
		if r.Rationale == "" || r.Reference == "" {
			t.Errorf("rule %s lacks a rationale or reference", r.ID)
		}
	}
}

func TestLintBinaryAndAutoPlatform(t *testing.T) {
	t.Parallel()
	l := defaultLinter(t)
	fs := l.Lint(netcfg.CiscoIOS, "hostname\x00x\n")
	if len(fs) != 1 || fs[0].Rule != "unparsable" {
		t.Errorf("Lint(binary) = %v, want one unparsable finding", fs)
	}
	fs = l.Lint("", "set system services telnet\n")
	if got := findingLines(fs, "junos-telnet"); !cmp.Equal(got, []int{1}) {
		t.Errorf("Lint(\"\", junos) junos-telnet at %v, want [1]", got)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want netcfg.Platform
	}{
		{"hostname r1\ninterface GigabitEthernet0/0\n ip address 10.0.0.1 255.255.255.0\nline vty 0 4\n", netcfg.CiscoIOS},
		{"version 17.9\nhostname r1\nip cef\n", netcfg.CiscoXE},
		{"version 9.3(8) Bios:version\nfeature bgp\ninterface mgmt0\n", netcfg.CiscoNXOS},
		{"!Command: show running-config\nhostname n1\n", netcfg.CiscoNXOS},
		{"! device: s1 (DCS-7280, EOS-4.30.1F)\nhostname s1\n", netcfg.AristaEOS},
		{"hostname s1\nmanagement api http-commands\n   no shutdown\n", netcfg.AristaEOS},
		{"frr version 8.4\nfrr defaults traditional\nhostname r1\n", FRR},
		{"router ospf\n network 10.0.0.0/16 area 0\n", FRR},
		{"interface eth0\n ip ospf cost 10\nrouter ospf\n", FRR},
		{"router ospf 1\n network 10.0.0.0 0.0.255.255 area 0\n", netcfg.CiscoIOS},
		{"set system host-name j1\n", netcfg.JuniperJunos},
		{"system {\n    host-name j1;\n}\n", netcfg.JuniperJunos},
		{"", netcfg.CiscoIOS},
	}
	for _, tt := range tests {
		if got := Detect(tt.text); got != tt.want {
			t.Errorf("Detect(%q) = %s, want %s", tt.text, got, tt.want)
		}
	}
	if p, ok := Identify("r1[0]=\"A\"\nr2[0]=\"B\"\n"); ok || p != netcfg.CiscoIOS {
		t.Errorf("Identify(topology file) = %s, %v; want cisco_ios, false", p, ok)
	}
	if _, ok := Identify(tests[0].text); !ok {
		t.Errorf("Identify(IOS config) = false")
	}
}

func TestLiteralPrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`^aaa new-model$`, []string{"aaa new-model"}},
		{`^(?:ip|ipv6) access-group (?P<name>\S+)`, []string{"ip access-group ", "ipv6 access-group "}},
		{`^(?:ip )?ospf x`, []string{"ip ospf x", "ospf x"}},
		{`^a|^b`, []string{"a", "b"}},
		{`^(?:\S+ )?x`, nil},
		{`(?i)^aaa`, nil},
		{`aaa`, nil},
		{`^a|b`, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, literalPrefixes(tt.expr)); diff != "" {
			t.Errorf("literalPrefixes(%q) (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	if p, err := ParsePlatform("FRR"); err != nil || p != FRR {
		t.Errorf("ParsePlatform(FRR) = %q, %v", p, err)
	}
	if p, err := ParsePlatform("arista_eos"); err != nil || p != netcfg.AristaEOS {
		t.Errorf("ParsePlatform(arista_eos) = %q, %v", p, err)
	}
	if _, err := ParsePlatform("vyos"); err == nil {
		t.Error("ParsePlatform(vyos) = nil error")
	}
}

func TestRuleLookup(t *testing.T) {
	t.Parallel()
	l := defaultLinter(t)
	r, ok := l.Rule("ios-aaa-new-model")
	if !ok || r.Severity != SeverityHigh || !strings.Contains(r.Reference, "1.1.1") {
		t.Errorf("Rule(ios-aaa-new-model) = %+v, %v", r, ok)
	}
	if _, ok := l.Rule("nope"); ok {
		t.Error("Rule(nope) found")
	}
}

// TestConcurrentLint: one Linter serves many goroutines (run with -race).
func TestConcurrentLint(t *testing.T) {
	t.Parallel()
	l := defaultLinter(t)
	configs := []string{syntheticIOS(300), "set system services telnet\n", "management api http-commands\n   protocol http\n"}
	want := make([][]Finding, len(configs))
	for i, c := range configs {
		want[i] = l.Lint("", c)
	}
	var wg sync.WaitGroup
	got := make([][]Finding, 4*len(configs))
	for i := range got {
		wg.Go(func() { got[i] = l.Lint("", configs[i%len(configs)]) })
	}
	wg.Wait()
	for i := range got {
		if diff := cmp.Diff(want[i%len(configs)], got[i]); diff != "" {
			t.Errorf("goroutine %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestContextRules: a user's rule file can name vars as one name or a
// list; ContextKey changes exactly when a contextual rule's outcome does.
func TestContextRules(t *testing.T) {
	t.Parallel()
	rules, err := Load(strings.NewReader(`version: 1
rules:
  - id: snmp-location
    severity: low
    message: no snmp location
    when_vars: snmp_location
    must_match: '^snmp-server location '
  - id: dns
    severity: low
    message: no name server
    when_vars: [dns_servers, domain_name]
    when_requirements: '(?i)\bdns\b'
    must_match: '^ip name-server '
`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Context
		want []string // rules with a finding on an empty config
		key  string
	}{
		{"none", Context{}, nil, "00"},
		{"location", Context{Vars: map[string]any{"snmp_location": "rack 4"}}, []string{"snmp-location"}, "10"},
		{"blank location", Context{Vars: map[string]any{"snmp_location": " "}}, nil, "00"},
		{"dns without requirement", Context{Vars: map[string]any{"domain_name": "example.net"}}, nil, "00"},
		{"dns", Context{Vars: map[string]any{"dns_servers": []string{"192.0.2.53"}}, Requirements: "use DNS"}, []string{"dns"}, "01"},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range l.LintContext(netcfg.CiscoIOS, "hostname r1\n", tt.c) {
			got = append(got, f.Rule)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: rules (-want +got):\n%s", tt.name, diff)
		}
		if k := l.ContextKey(tt.c); k != tt.key {
			t.Errorf("%s: ContextKey = %q, want %q", tt.name, k, tt.key)
		}
	}
}
