package sim

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/corpustest"
	"netsmith/internal/prompt"
)

func TestAnalyze(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		platform string
		config   string
		want     string
	}{
		{"empty", "cisco_ios", "", "none\n"},
		{
			"insecure ios", "cisco_ios",
			"hostname r1\nenable password cisco\nsnmp-server community public RO\nip http server\n" +
				"line vty 0 4\n exec-timeout 0 0\n transport input telnet ssh\n",
			"critical: SNMP community is a well-known default (public/private); use SNMPv3 or a secret community with an ACL\n" +
				"high: telnet is allowed on VTY lines; use transport input ssh\n" +
				"high: enable password is stored with weak or no encryption; use enable secret (type 8 or 9)\n" +
				"medium: AAA is not enabled (no aaa new-model)\n" +
				"medium: HTTP server is enabled; disable it with no ip http server\n" +
				"medium: exec-timeout 0 disables idle session timeout\n" +
				"low: service password-encryption is not enabled\n" +
				"low: no NTP server configured\n" +
				"low: no remote logging host configured\n" +
				"low: no login banner\n",
		},
		{
			"hardened ios", "cisco_xe",
			"service password-encryption\nhostname r1\nenable secret 9 <vault:x>\naaa new-model\nno ip http server\n" +
				"banner login ^C\nhi\n^C\nline vty 0 4\n exec-timeout 10 0\n transport input ssh\nntp server 10.0.0.1\nlogging host 10.0.0.5\n",
			"none\n",
		},
		{
			"eos telnet and hashed enable", "arista_eos",
			"enable password sha512 $6$abc\nmanagement telnet\n   idle-timeout 5\n   no shutdown\n!\nntp server 1.1.1.1\nlogging host 1.1.1.2\nbanner login\nx\nEOF\n",
			"high: management telnet is enabled; shut it down and use SSH\nmedium: no AAA configuration\n",
		},
		{
			"junos telnet and public community", "juniper_junos",
			"system {\n    services {\n        telnet;\n    }\n    login {\n        message \"x\";\n    }\n    syslog {\n        host 10.0.0.5 {\n            any notice;\n        }\n    }\n    ntp {\n        server 10.0.0.1;\n    }\n}\nsnmp {\n    community public {\n        authorization read-only;\n    }\n}\n",
			"critical: SNMP community is a well-known default (public/private); use SNMPv3 or a secret community with an ACL\n" +
				"high: telnet service is enabled; remove system services telnet\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := answer(t, prompt.Spec{Task: prompt.TaskAnalyze, Platform: tt.platform, Config: tt.config})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnalyzeOwnConfigs checks that sim's configs are the hardened baseline
// it means them to be: its own analysis finds nothing above low.
func TestAnalyzeOwnConfigs(t *testing.T) {
	t.Parallel()
	for _, in := range intents() {
		for _, d := range in.devices {
			cfg := Render(configSpec(in, d))
			for _, f := range strings.Split(analyze(in.platform, cfg), "\n") {
				if f != "" && f != "none" && !strings.HasPrefix(f, "low: ") {
					t.Errorf("%s (%s): %s", d.hostname, in.platform, f)
				}
			}
		}
	}
}

// TestAnalyzeCorpus runs the analysis over the lab configs of the shared
// corpus, which are deliberately not hardened: each must draw a finding above
// low.
func TestAnalyzeCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(corpustest.Dir(t), "batfish-pybatfish")
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "file" || !strings.HasSuffix(cols[0], ".cfg") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, cols[0]))
		if err != nil {
			t.Fatal(err)
		}
		n++
		got := analyze(cols[1], string(b))
		if got == "none\n" || strings.HasPrefix(got, "low: ") {
			t.Errorf("%s (%s): no finding above low:\n%s", cols[0], cols[1], got)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no configs listed in %s/MANIFEST.tsv", dir)
	}
}
