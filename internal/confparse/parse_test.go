package confparse

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/netcfg"
)

// outline renders a tree as one line per node: two spaces per depth, the
// line number, the kind and the text.
func outline(tr *Tree) string {
	var b strings.Builder
	var rec func(ns []*Node, depth int)
	rec = func(ns []*Node, depth int) {
		for _, n := range ns {
			fmt.Fprintf(&b, "%s%d %s %s\n", strings.Repeat("  ", depth), n.Line, n.Kind, n.Text)
			rec(n.Children, depth+1)
		}
	}
	rec(tr.Children, 0)
	return b.String()
}

func TestParseIndented(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform netcfg.Platform
		in       string
		want     string // outline
		problems []Problem
	}{
		{
			name:     "ios blocks comments and nesting",
			platform: netcfg.CiscoIOS,
			in: "hostname r1\n!\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n no shutdown\n!\n" +
				"router bgp 1\n neighbor 1.1.1.1 remote-as 2\n !\n address-family ipv4\n  neighbor 1.1.1.1 activate\n exit-address-family\n!\n" +
				"line vty 0 4\n transport input ssh\nend\n",
			want: `1 config hostname r1
2 comment !
3 config interface Gi0/0
  4 config ip address 10.0.0.1 255.255.255.0
  5 config no shutdown
6 comment !
7 config router bgp 1
  8 config neighbor 1.1.1.1 remote-as 2
  9 comment !
  10 config address-family ipv4
    11 config neighbor 1.1.1.1 activate
  12 config exit-address-family
13 comment !
14 config line vty 0 4
  15 config transport input ssh
16 config end
`,
		},
		{
			name:     "a block continues after a comment",
			platform: netcfg.CiscoIOS,
			in:       "ip access-list extended A\n permit ip any any\n!\n deny ip any any\ninterface X\n",
			want: `1 config ip access-list extended A
  2 config permit ip any any
  3 comment !
  4 config deny ip any any
5 config interface X
`,
		},
		{
			name:     "crlf and no final newline",
			platform: netcfg.CiscoXE,
			in:       "interface X\r\n description a b\r\n\r\nhostname y",
			want: `1 config interface X
  2 config description a b
3 blank 
4 config hostname y
`,
		},
		{
			name:     "banner with caret-C delimiter",
			platform: netcfg.CiscoIOS,
			in:       "banner motd ^C\nAuthorised use only\n!\ninterface Fake\n^C\nhostname r1\n",
			want: `1 config banner motd ^C
  2 body Authorised use only
  3 body !
  4 body interface Fake
  5 body ^C
6 config hostname r1
`,
		},
		{
			name:     "banner on one line and custom delimiter",
			platform: netcfg.CiscoIOS,
			in:       "banner login #Keep out#\nbanner exec %\n hi\n  %\nline con 0\n login\n",
			want: `1 config banner login #Keep out#
2 config banner exec %
  3 body hi
  4 body %
5 config line con 0
  6 config login
`,
		},
		{
			name:     "banner closed on a text line",
			platform: netcfg.CiscoIOS,
			in:       "banner motd ^CWelcome\nbye^C\nhostname h\n",
			want: `1 config banner motd ^CWelcome
  2 body bye^C
3 config hostname h
`,
		},
		{
			name:     "unterminated banner swallows the rest",
			platform: netcfg.CiscoIOS,
			in:       "banner motd ^C\nhello\naaa new-model\n",
			want: `1 config banner motd ^C
  2 body hello
  3 body aaa new-model
`,
			problems: []Problem{{Line: 1, Message: `banner is not terminated by "^C": the rest of the config is banner text`}},
		},
		{
			name:     "eos banner and comment blocks end at EOF",
			platform: netcfg.AristaEOS,
			in:       "banner login\nAuthorised only\n   indented text\nEOF\n!\ninterface Ethernet1\n   comment\n   uplink to spine\n   EOF\n   no switchport\n",
			want: `1 config banner login
  2 body Authorised only
  3 body indented text
  4 body EOF
5 comment !
6 config interface Ethernet1
  7 config comment
    8 body uplink to spine
    9 body EOF
  10 config no switchport
`,
		},
		{
			name:     "banner without delimiter or EOF is one line",
			platform: netcfg.CiscoIOS,
			in:       "banner motd\nhostname a\n",
			want:     "1 config banner motd\n2 config hostname a\n",
		},
		{
			name:     "macro ends at @",
			platform: netcfg.CiscoIOS,
			in:       "macro name access\n switchport mode access\n@\nhostname a\n",
			want: `1 config macro name access
  2 body switchport mode access
  3 body @
4 config hostname a
`,
		},
		{
			name:     "lines after end are trailer",
			platform: netcfg.CiscoIOS,
			in:       "hostname a\nend\n\nrouter#show clock\n banner motd ^C\n",
			want: `1 config hostname a
2 config end
3 trailer 
4 trailer router#show clock
5 trailer banner motd ^C
`,
		},
		{
			name:     "nxos two-space and a shallower sibling",
			platform: netcfg.CiscoNXOS,
			in:       "feature bgp\ninterface Ethernet1/1\n  description x\n no shutdown\n    deep\nrouter bgp 1\n  vrf A\n    address-family ipv4 unicast\n",
			want: `1 config feature bgp
2 config interface Ethernet1/1
  3 config description x
  4 config no shutdown
    5 config deep
6 config router bgp 1
  7 config vrf A
    8 config address-family ipv4 unicast
`,
		},
		{
			name:     "frr with exit lines",
			platform: FRR,
			in:       "frr version 8.4\nrouter ospf\n ospf router-id 1.1.1.1\nexit\n!\nline vty\n",
			want: `1 config frr version 8.4
2 config router ospf
  3 config ospf router-id 1.1.1.1
4 config exit
5 comment !
6 config line vty
`,
		},
		{
			name:     "tabs indent like eight spaces",
			platform: netcfg.CiscoIOS,
			in:       "a\n\tb\n        c\n  \td\n",
			want: `1 config a
  2 config b
  3 config c
  4 config d
`,
		},
		{
			name:     "comments before a child attach inside the block",
			platform: netcfg.AristaEOS,
			in:       "management api http-commands\n   protocol https\n   !\n   vrf MGMT\n      no shutdown\n!\n",
			want: `1 config management api http-commands
  2 config protocol https
  3 comment !
  4 config vrf MGMT
    5 config no shutdown
6 comment !
`,
		},
		{
			name:     "empty input",
			platform: netcfg.CiscoIOS,
			in:       "",
			want:     "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := Parse(tt.platform, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, tt.in, tr)
			if tr.Format != FormatIndented {
				t.Errorf("format %v, want indented", tr.Format)
			}
			if diff := cmp.Diff(tt.want, outline(tr)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.problems, tr.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJunos(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		format     Format
		want       string // outline
		statements []Statement
		problems   []Problem
	}{
		{
			name: "brace form",
			in: `## Last commit: 2024-01-01
system {
    host-name r1; # trailing comment
    services {
        ssh {
            protocol-version v2;
        }
        inactive: telnet;
        web-management { http; }
    }
    /* banner
       spans lines */
    login {
        message "Authorised {only}; go away";
    }
}
inactive: snmp {
    community public;
}
policy-options {
    community c1 members [ 1:2 1:3 ];
}
`,
			format: FormatJunosBrace,
			want: `1 comment ## Last commit: 2024-01-01
2 config system {
  3 config host-name r1; # trailing comment
  4 config services {
    5 config ssh {
      6 config protocol-version v2;
      7 close }
    8 config inactive: telnet;
    9 config web-management { http; }
    10 close }
  11 comment /* banner
    12 body spans lines */
  13 config login {
    14 config message "Authorised {only}; go away";
    15 close }
  16 close }
17 config inactive: snmp {
  18 config community public;
  19 close }
20 config policy-options {
  21 config community c1 members [ 1:2 1:3 ];
  22 close }
`,
			statements: []Statement{
				{Line: 3, Text: "set system host-name r1"},
				{Line: 6, Text: "set system services ssh protocol-version v2"},
				{Line: 9, Text: "set system services web-management http"},
				{Line: 14, Text: `set system login message "Authorised {only}; go away"`},
				{Line: 21, Text: "set policy-options community c1 members [ 1:2 1:3 ]"},
			},
		},
		{
			name:   "multi-line string and unbalanced braces",
			in:     "system {\n  login {\n    message \"line one\nline two\";\n  }\n}\n}\ninterfaces {\n  lo0 {\n    unit 0\n",
			format: FormatJunosBrace,
			want: `1 config system {
  2 config login {
    3 config message "line one
      4 body line two";
    5 close }
  6 close }
7 close }
8 config interfaces {
  9 config lo0 {
    10 config unit 0
`,
			statements: []Statement{
				{Line: 3, Text: `set system login message "line one\nline two"`},
				{Line: 10, Text: "set interfaces lo0 unit 0"},
			},
			problems: []Problem{
				{Line: 7, Message: `unbalanced "}"`},
				{Line: 8, Message: `block is not closed by "}"`},
				{Line: 9, Message: `block is not closed by "}"`},
				{Line: 10, Message: `statement is not terminated by ";"`},
			},
		},
		{
			name: "set form with edit delete and deactivate",
			in: `# generated
set system host-name r1
set system services telnet
set system  services ssh root-login deny
delete system services telnet
edit protocols bgp
set group ext peer-as 2
set group ext neighbor 10.0.0.1
up
set ospf area 0 interface lo0.0
top
set snmp community public authorization read-only
deactivate snmp
show configuration

bogus line
`,
			format: FormatJunosSet,
			want: `1 comment # generated
2 config set system host-name r1
3 config set system services telnet
4 config set system  services ssh root-login deny
5 config delete system services telnet
6 config edit protocols bgp
7 config set group ext peer-as 2
8 config set group ext neighbor 10.0.0.1
9 config up
10 config set ospf area 0 interface lo0.0
11 config top
12 config set snmp community public authorization read-only
13 config deactivate snmp
14 config show configuration
15 blank 
16 config bogus line
`,
			statements: []Statement{
				{Line: 2, Text: "set system host-name r1"},
				{Line: 4, Text: "set system services ssh root-login deny"},
				{Line: 7, Text: "set protocols bgp group ext peer-as 2"},
				{Line: 8, Text: "set protocols bgp group ext neighbor 10.0.0.1"},
				{Line: 10, Text: "set protocols ospf area 0 interface lo0.0"},
			},
			problems: []Problem{{Line: 16, Message: `"bogus" is not a set-form command`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := Parse(netcfg.JuniperJunos, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, tt.in, tr)
			if tr.Format != tt.format {
				t.Errorf("format %v, want %v", tr.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, outline(tr)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.statements, tr.Statements()); diff != "" {
				t.Errorf("statements (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.problems, tr.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			// Auto-detection picks Junos for both forms.
			auto, err := Parse("", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if auto.Format != tt.format {
				t.Errorf("Parse(\"\") format %v, want %v", auto.Format, tt.format)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	if _, err := Parse("cisco_asa", "hostname a\n"); err == nil {
		t.Error("Parse(cisco_asa) = nil error, want unknown platform")
	}
	if _, err := Parse(netcfg.CiscoIOS, "hostname\x00a\n"); !errors.Is(err, ErrBinary) {
		t.Errorf("Parse(binary) = %v, want ErrBinary", err)
	}
	for _, p := range append([]netcfg.Platform{"", FRR}, netcfg.Platforms...) {
		if _, err := Parse(p, "hostname a\n"); err != nil {
			t.Errorf("Parse(%q) = %v, want nil", p, err)
		}
	}
}

func TestLooksJunos(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"set system host-name a\nset interfaces lo0 unit 0\n", true},
		{"# c\nsystem {\n  host-name a;\n}\n", true},
		{"hostname a\ninterface X\n ip address 1.1.1.1/32\n", false},
		{"router ospf\n network 10.0.0.0/8 area 0\n", false},
		{"", false},
		{"!\n!\n", false},
		{"route-map A permit 10\n set metric 5\n set community 1:1\n set local-preference 9\n", false},
	}
	for _, tt := range tests {
		if got := LooksJunos(tt.in); got != tt.want {
			t.Errorf("LooksJunos(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	tr, err := Parse(netcfg.CiscoIOS, "interface A\n description up\n shutdown\ninterface B\n ip address 1.1.1.1 255.255.255.255\n!\nline vty 0 4\n transport input ssh\n")
	if err != nil {
		t.Fatal(err)
	}
	ifs := tr.FindMatching(regexp.MustCompile(`^interface `))
	if len(ifs) != 2 {
		t.Fatalf("FindMatching(interface) = %d nodes, want 2", len(ifs))
	}
	if got := ifs[0].ChildrenMatching(regexp.MustCompile(`^(shutdown|description)`)); len(got) != 2 {
		t.Errorf("ChildrenMatching = %d nodes, want 2", len(got))
	}
	if got := ifs[1].ChildrenWithPrefix("ip address"); len(got) != 1 {
		t.Errorf("ChildrenWithPrefix = %d nodes, want 1", len(got))
	}
	if ifs[1].Child("shutdown") != nil {
		t.Error("Child(shutdown) of interface B is not nil")
	}
	all := tr.FindAll(regexp.MustCompile(`ssh|shutdown`))
	if len(all) != 2 || all[0].Line != 3 || all[1].Line != 8 {
		t.Errorf("FindAll = %v, want lines 3 and 8", all)
	}
	if diff := cmp.Diff([]string{"line vty 0 4", "transport input ssh"}, all[1].Path()); diff != "" {
		t.Errorf("Path (-want +got):\n%s", diff)
	}
	var seen []int
	tr.Walk(func(n *Node) bool {
		seen = append(seen, n.Line)
		return n.Text != "interface A" // skip A's children
	})
	if diff := cmp.Diff([]int{1, 4, 5, 6, 7, 8}, seen); diff != "" {
		t.Errorf("Walk order (-want +got):\n%s", diff)
	}
	var buf strings.Builder
	if _, err := tr.WriteTo(&buf); err != nil || buf.String() != tr.String() {
		t.Errorf("WriteTo = %q, %v", buf.String(), err)
	}
}
