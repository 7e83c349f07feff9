package confparse

import (
	"strings"
	"testing"

	"netsmith/internal/netcfg"
)

// The fuzz targets check that no input panics or hangs the parsers, and that
// every tree keeps the round-trip and structure invariants (checkTree).
// Seeds are added here and in testdata/fuzz/<target>/.

func FuzzParseIndented(f *testing.F) {
	for _, s := range []string{
		"",
		"hostname r1\n!\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n!\nend\n",
		"banner motd ^C\nhello\n^C\nline vty 0 4\n transport input ssh\n",
		"banner login #x#\nbanner exec %\n%\nbanner motd ^C\nunterminated\n",
		"banner login\ntext\nEOF\ninterface Ethernet1\n   comment\n   c\n   EOF\n",
		"macro name m\n x\n@\nmacro name n\n",
		"a\r\n b\r\n\r\n  c\n\t d\n e",
		"router bgp 1\n address-family ipv4\n  neighbor x activate\n exit-address-family\n!\n deny ip any any\nend\ntrailer\n",
		"banner \n banner x\nbanner motd \xff\xfe\n\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tr, err := Parse(netcfg.CiscoIOS, text)
		if err != nil {
			if strings.IndexByte(text, 0) < 0 {
				t.Fatalf("Parse: %v", err)
			}
			return
		}
		if tr.Format != FormatIndented {
			t.Fatalf("format %v", tr.Format)
		}
		checkTree(t, text, tr)
		for _, n := range tr.Nodes() {
			// A statement's children are indented deeper, except the
			// free-text body of a banner, comments and blank lines.
			for _, c := range n.Children {
				if c.Kind == KindConfig && n.Kind == KindConfig && c.Indent <= n.Indent {
					t.Fatalf("line %d (indent %d) is a child of line %d (indent %d)", c.Line, c.Indent, n.Line, n.Indent)
				}
			}
		}
	})
}

func FuzzParseJunos(f *testing.F) {
	for _, s := range []string{
		"",
		"system {\n    host-name r1;\n    services { ssh { protocol-version v2; } }\n}\n",
		"inactive: snmp { community public; }\npolicy-options { community c members [ 1:2 ]; }\n",
		"/* a\n b */ system { login { message \"x\ny\"; } }\n}}\n{\n",
		"set system host-name a\nset system services telnet\ndelete system services\nedit protocols\nset bgp group x\nup 3\ntop set y\ndeactivate y\n",
		"set a \"unterminated\nset b\n# c\n",
		"x { y \\\"; } \" ; # } \n /* */ } ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tr, err := Parse(netcfg.JuniperJunos, text)
		if err != nil {
			if strings.IndexByte(text, 0) < 0 {
				t.Fatalf("Parse: %v", err)
			}
			return
		}
		if tr.Format == FormatIndented {
			t.Fatalf("format %v", tr.Format)
		}
		checkTree(t, text, tr)
		last := 0
		for _, st := range tr.Statements() {
			if !strings.HasPrefix(st.Text, "set ") || st.Line < 1 || st.Line > len(tr.Nodes()) {
				t.Fatalf("bad statement %+v", st)
			}
			if tr.Format == FormatJunosBrace && st.Line < last {
				t.Fatalf("statement %+v out of order", st)
			}
			last = st.Line
		}
	})
}
