package diff

import (
	"slices"
	"strings"
	"testing"

	"netsmith/internal/netcfg"
)

// TestRemediationShape checks each promise of the remediation on small
// configs, and that every one round-trips through Merge.
func TestRemediationShape(t *testing.T) {
	d := defaultDiffer(t)
	cases := []struct {
		name              string
		platform          netcfg.Platform
		running, intended string
		want              string
	}{
		{"unchanged lines never appear", netcfg.CiscoIOS,
			"hostname a\ninterface Gi1\n description x\n",
			"hostname a\ninterface Gi1\n description x\n", ""},
		{"a removed section is negated once", netcfg.CiscoIOS,
			"interface Gi1\n description x\n ip address 10.0.0.1 255.255.255.0\ninterface Gi2\n",
			"interface Gi2\n", "no interface Gi1\n"},
		{"a physical interface is defaulted, not deleted", netcfg.CiscoXE,
			"interface GigabitEthernet1/0/1\n description x\ninterface Vlan10\n ip address 10.0.0.1 255.255.255.0\n",
			"hostname a\n", "default interface GigabitEthernet1/0/1\nno interface Vlan10\nhostname a\n"},
		{"overwriting commands are not negated first", netcfg.CiscoXE,
			"hostname a\ninterface Gi1\n ip address 10.0.0.1 255.255.255.0\nline vty 0 4\n exec-timeout 5 0\n",
			"hostname b\ninterface Gi1\n ip address 10.0.0.2 255.255.255.0\nline vty 0 4\n exec-timeout 10 0\n",
			"hostname b\ninterface Gi1\n ip address 10.0.0.2 255.255.255.0\nline vty 0 4\n exec-timeout 10 0\n"},
		{"a secondary address is not the primary", netcfg.AristaEOS,
			"interface Ethernet1\n   ip address 10.0.0.1/24\n   ip address 10.1.0.1/24 secondary\n",
			"interface Ethernet1\n   ip address 10.0.0.1/24\n   ip address 10.2.0.1/24 secondary\n",
			"interface Ethernet1\n no ip address 10.1.0.1/24 secondary\n ip address 10.2.0.1/24 secondary\n"},
		{"nested address families", netcfg.CiscoIOS,
			"router bgp 1\n neighbor 1.1.1.1 remote-as 2\n address-family ipv4\n  neighbor 1.1.1.1 activate\n",
			"router bgp 1\n neighbor 1.1.1.1 remote-as 3\n address-family ipv4\n  neighbor 1.1.1.1 activate\n  neighbor 1.1.1.1 route-map IN in\n",
			"router bgp 1\n neighbor 1.1.1.1 remote-as 3\n address-family ipv4\n  neighbor 1.1.1.1 route-map IN in\n"},
		{"a BGP neighbor that goes is negated once, after its address families", netcfg.AristaEOS,
			"router bgp 1\n   neighbor 10.0.0.1 remote-as 2\n   neighbor 10.0.0.1 send-community\n   neighbor 10.0.0.2 remote-as 3\n   address-family ipv4\n      neighbor 10.0.0.1 activate\n",
			"router bgp 1\n   neighbor 10.0.0.2 remote-as 3\n   address-family ipv4\n",
			"router bgp 1\n address-family ipv4\n  no neighbor 10.0.0.1 activate\n no neighbor 10.0.0.1\n"},
		{"an unnumbered ACL is replaced as a block", netcfg.CiscoIOS,
			"ip access-list extended A\n permit ip any host 1.1.1.1\n deny ip any any\n",
			"ip access-list extended A\n deny ip any host 2.2.2.2\n permit ip any host 1.1.1.1\n deny ip any any\n",
			"no ip access-list extended A\nip access-list extended A\n deny ip any host 2.2.2.2\n permit ip any host 1.1.1.1\n deny ip any any\n"},
		{"a numbered ACL is edited by sequence", netcfg.AristaEOS,
			"ip access-list A\n   10 permit ip any host 1.1.1.1\n   20 deny ip any any\n",
			"ip access-list A\n   10 permit ip any host 1.1.1.1\n   15 deny ip any host 2.2.2.2\n   20 deny ip any any log\n",
			"ip access-list A\n no 20\n 15 deny ip any host 2.2.2.2\n 20 deny ip any any log\n"},
		{"reordered prefix list is replaced", netcfg.CiscoNXOS,
			"ip prefix-list P seq 5 permit 10.0.0.0/8\nip prefix-list P seq 10 deny 0.0.0.0/0 le 32\n",
			"ip prefix-list P seq 10 deny 0.0.0.0/0 le 32\nip prefix-list P seq 5 permit 10.0.0.0/8\n",
			"no ip prefix-list P\nip prefix-list P seq 10 deny 0.0.0.0/0 le 32\nip prefix-list P seq 5 permit 10.0.0.0/8\n"},
		{"a removed 'no' line is restored", netcfg.CiscoIOS,
			"no ip domain lookup\nno ip http server\n", "ip http server\n",
			"default ip domain lookup\nip http server\n"},
		{"FRR restores with the command", netcfg.FRR,
			"no ipv6 forwarding\nrouter ospf\n ospf router-id 1.1.1.1\n", "router ospf\n ospf router-id 2.2.2.2\n",
			"ipv6 forwarding\nrouter ospf\n ospf router-id 2.2.2.2\n"},
		{"Junos: set over a value, delete a hierarchy once", netcfg.JuniperJunos,
			"set system host-name a\nset interfaces ge-0/0/1 unit 0 family inet address 10.0.0.1/24\nset interfaces ge-0/0/1 description x\nset interfaces lo0 unit 0\n",
			"set system host-name b\nset interfaces lo0 unit 0\n",
			"set system host-name b\ndelete interfaces ge-0/0/1\n"},
		{"Junos brace against set form", netcfg.JuniperJunos,
			"set system host-name a\nset system services ssh\nset system services telnet\n",
			"system {\n    host-name a;\n    services {\n        ssh;\n        netconf {\n            ssh;\n        }\n    }\n}\n",
			"delete system services telnet\nset system services netconf ssh\n"},
	}
	// oneWay cases cannot round-trip: FRR shows "X" once a removed "no X"
	// is restored, and Merge keeps it.
	oneWay := map[string]bool{"FRR restores with the command": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var res *Result
			if oneWay[c.name] {
				var err error
				if res, err = d.DiffText(c.platform, c.running, c.intended); err != nil {
					t.Fatal(err)
				}
			} else {
				res = checkRoundTrip(t, d, c.platform, c.running, c.intended)
			}
			if got := res.Text(); got != c.want {
				t.Errorf("remediation:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestRules checks that a user rule file adds, replaces and removes rules
// and that bad rules are errors naming the rule.
func TestRules(t *testing.T) {
	d := defaultDiffer(t)
	run, want := "router bgp 1\n timers bgp 3 9\n", "router bgp 1\n timers bgp 10 30\n"
	res, err := d.DiffText(netcfg.CiscoIOS, run, want)
	if err != nil || res.Text() != "router bgp 1\n timers bgp 10 30\n" {
		t.Fatalf("built-in: %q %v", res.Text(), err)
	}
	f, err := Load(strings.NewReader("version: 1\nrules:\n  - id: bgp-values\n    disabled: true\n  - id: mine\n    kind: overwrite\n    parent: '^interface '\n    match: '^ip ospf hello-interval '\n"))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := d.With(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err = d2.DiffText(netcfg.CiscoIOS, run, want)
	if err != nil || res.Text() != "router bgp 1\n no timers bgp 3 9\n timers bgp 10 30\n" {
		t.Errorf("with bgp-values disabled: %q %v", res.Text(), err)
	}
	ids := func(d *Differ) (out []string) {
		for _, r := range d.Rules() {
			out = append(out, r.ID)
		}
		return
	}
	if slices.Contains(ids(d2), "bgp-values") || !slices.Contains(ids(d2), "mine") || !slices.Contains(ids(d), "bgp-values") {
		t.Errorf("rules after With: %v (the original keeps its own)", ids(d2))
	}
	for _, bad := range []struct{ yaml, inMsg string }{
		{"version: 2\nrules: []\n", "version"},
		{"version: 1\nrules:\n  - id: x\n    kind: overwrite\n    match: '('\n", "rule x: match"},
		{"version: 1\nrules:\n  - id: x\n    kind: sideways\n    match: a\n", `rule x: kind`},
		{"version: 1\nrules:\n  - id: x\n    kind: ordered\n    match: a\n    negate: 'no {key}'\n", "rule x: negate"},
		{"version: 1\nrules:\n  - id: x\n    platforms: [cisco_asa]\n    kind: ordered\n    match: a\n", "cisco_asa"},
		{"version: 1\nrules:\n  - id: x\n    kind: ordered\n    mach: a\n", "mach"},
		{"", "empty"},
	} {
		if _, err := Load(strings.NewReader(bad.yaml)); err == nil || !strings.Contains(err.Error(), bad.inMsg) {
			t.Errorf("Load(%q) = %v, want an error with %q", bad.yaml, err, bad.inMsg)
		}
	}
}

// TestDiffErrors: configs of two syntaxes, or of the wrong platform, are
// errors, not remediation.
func TestDiffErrors(t *testing.T) {
	d := defaultDiffer(t)
	for _, c := range []struct {
		p                 netcfg.Platform
		running, intended string
	}{
		{netcfg.CiscoIOS, "set system host-name a\nset system services ssh\n", "hostname a\n"},
		{netcfg.JuniperJunos, "hostname a\ninterface Gi1\n", "set system host-name a\n"},
		{"", "set system host-name a\nset system services ssh\n", "hostname a\n"},
	} {
		if _, err := d.DiffText(c.p, c.running, c.intended); err == nil {
			t.Errorf("%s %q against %q: no error", c.p, c.running, c.intended)
		}
	}
}
