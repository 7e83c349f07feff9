package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/lint"
)

const (
	// lintHardenedIOS raises nothing.
	lintHardenedIOS = `service timestamps log datetime msec
service password-encryption
hostname r1
aaa new-model
aaa authentication login default local
enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM
ip ssh version 2
logging host 192.0.2.5
ntp server 192.0.2.1
access-list 10 permit 192.0.2.0 0.0.0.255
banner login ^C
Authorised access only
^C
line con 0
 exec-timeout 5 0
line aux 0
 no exec
line vty 0 4
 access-class 10 in
 exec-timeout 10 0
 transport input ssh
`
	// lintTelnetIOS is lintHardenedIOS with telnet allowed again on line 22
	// (the last transport line wins) and an HTTP server on line 23.
	lintTelnetIOS = lintHardenedIOS + " transport input telnet ssh\nip http server\n"
)

func writeLintFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := writeLintFile(t, dir, "clean.cfg", lintHardenedIOS)
	bad := writeLintFile(t, dir, "bad.cfg", lintTelnetIOS)
	junos := writeLintFile(t, dir, "j.set", "set system services telnet\nset system root-authentication encrypted-password \"$6$x\"\n"+
		"set system login message hi\nset system ntp server 192.0.2.1\nset system syslog host 192.0.2.5 any any\n")
	binary := writeLintFile(t, dir, "bin.cfg", "hostname\x00r1\n")
	rules := writeLintFile(t, dir, "rules.yaml", `version: 1
rules:
  - id: ios-http-server
    disabled: true
  - id: local-no-telnet-anywhere
    platforms: [cisco_ios]
    severity: critical
    scope: any
    must_not_match: '^transport input .*telnet'
    message: telnet is forbidden by local policy
`)
	badRules := writeLintFile(t, dir, "bad-rules.yaml", "version: 1\nrules:\n  - id: x\n    severity: high\n    message: m\n    must_match: '('\n")
	readme := writeLintFile(t, dir, "README.md", "# netsmith\n\nnetsmith turns network intent into device configs.\n\n```sh\ngo test ./...\n```\n")
	tree := filepath.Join(dir, "tree")
	writeLintFile(t, tree, "a/r1.cfg", lintTelnetIOS)
	writeLintFile(t, tree, "b/r2.conf", lintHardenedIOS)
	writeLintFile(t, tree, "README.md", "# not a config\nip http server\n")
	writeLintFile(t, tree, ".git/x.cfg", lintTelnetIOS)
	writeLintFile(t, tree, ".hidden.cfg", lintTelnetIOS)
	writeLintFile(t, tree, "c/lab.conf", "r1[0]=\"A\"\nr2[0]=\"A\"\n") // a topology, not a config
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	badOut := bad + ":22 ios-vty-transport-ssh high line vty 0 4: remote access is not limited to SSH (want \"transport input ssh\")\n" +
		bad + ":23 ios-http-server medium the HTTP management server is enabled (cleartext web interface)\n"
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // exact, when not empty
		wantErr    string // substring of stderr
	}{
		{name: "clean file", args: []string{clean}, wantCode: 0, wantErr: "1 files, no findings"},
		{name: "findings at or above high", args: []string{bad}, wantCode: 1, wantStdout: badOut, wantErr: "1 files, 2 findings (high 1, medium 1)"},
		{name: "flags after files", args: []string{bad, "--fail-on", "critical"}, wantCode: 0, wantStdout: badOut},
		{name: "flags between files", args: []string{clean, "--fail-on=medium", bad}, wantCode: 1, wantStdout: badOut},
		{name: "fail-on none", args: []string{"--fail-on", "none", bad}, wantCode: 0},
		{name: "fail-on info on a clean file", args: []string{"--fail-on", "info", clean}, wantCode: 0},
		{name: "double dash ends flags", args: []string{"--", bad}, wantCode: 1, wantStdout: badOut},
		{name: "platform given", args: []string{"--platform", "juniper_junos", junos}, wantCode: 1,
			wantStdout: junos + ":1 junos-telnet high the telnet service is enabled\n"},
		{name: "platform detected", args: []string{junos}, wantCode: 1,
			wantStdout: junos + ":1 junos-telnet high the telnet service is enabled\n"},
		{name: "user rules", args: []string{"--rules", rules, bad}, wantCode: 1,
			wantStdout: bad + ":22 ios-vty-transport-ssh high line vty 0 4: remote access is not limited to SSH (want \"transport input ssh\")\n" +
				bad + ":22 local-no-telnet-anywhere critical telnet is forbidden by local policy\n"},
		{name: "directory walk", args: []string{tree}, wantCode: 1,
			wantStdout: strings.ReplaceAll(badOut, bad, filepath.Join(tree, "a", "r1.cfg")), wantErr: "skipped 1 files that do not look like device configs (" + filepath.Join(tree, "c", "lab.conf") + ")"},
		{name: "directory walk summary", args: []string{tree}, wantCode: 1, wantErr: "2 files, 2 findings"},
		{name: "directory walk with platform lints everything", args: []string{"--platform", "cisco_ios", tree}, wantCode: 1, wantErr: "3 files, 10 findings"},
		{name: "named file that is not a config is skipped", args: []string{filepath.Join(tree, "c", "lab.conf")}, wantCode: 0,
			wantErr: "skipped 1 files that do not look like device configs (" + filepath.Join(tree, "c", "lab.conf") + "); pass --platform"},
		{name: "named README is skipped", args: []string{readme}, wantCode: 0, wantErr: "0 files, no findings"},
		{name: "named README with a platform is linted", args: []string{"--platform", "cisco_ios", readme}, wantCode: 1, wantErr: "1 files, 8 findings"},
		{name: "named non-config next to a config", args: []string{readme, bad}, wantCode: 1, wantStdout: badOut, wantErr: "skipped 1 files"},
		{name: "directory without configs", args: []string{empty}, wantCode: 2, wantErr: "no config files found"},
		{name: "missing file", args: []string{clean, filepath.Join(dir, "nope.cfg")}, wantCode: 2, wantErr: "nope.cfg: "},
		{name: "missing file wins over findings", args: []string{bad, filepath.Join(dir, "nope.cfg")}, wantCode: 2, wantStdout: badOut},
		{name: "binary file", args: []string{binary}, wantCode: 2, wantErr: "binary"},
		{name: "no files", args: nil, wantCode: 2, wantErr: "no FILE or DIR"},
		{name: "unknown flag", args: []string{"--bogus", clean}, wantCode: 2, wantErr: "flag provided but not defined"},
		{name: "bad platform", args: []string{"--platform", "cisco_asa", clean}, wantCode: 2, wantErr: "--platform"},
		{name: "bad fail-on", args: []string{"--fail-on", "severe", clean}, wantCode: 2, wantErr: "--fail-on"},
		{name: "bad rules file", args: []string{"--rules", badRules, clean}, wantCode: 2, wantErr: "--rules"},
		{name: "missing rules file", args: []string{"--rules", filepath.Join(dir, "none.yaml"), clean}, wantCode: 2, wantErr: "--rules"},
		{name: "help", args: []string{"-h"}, wantCode: 0}, // its text: TestHelpEverywhere
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runLint(t.Context(), tt.args, noEnv, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.wantStdout != "" {
				if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

func TestRunLintJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := writeLintFile(t, dir, "clean.cfg", lintHardenedIOS)
	bad := writeLintFile(t, dir, "bad.cfg", lintTelnetIOS)
	var stdout, stderr bytes.Buffer
	code := runLint(t.Context(), []string{clean, bad, "--json"}, noEnv, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr: %s", code, stderr.String())
	}
	var got lintReport
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout.String())
	}
	want := lintReport{
		Files: []lintFileResult{
			{File: clean, Platform: "cisco_ios", Findings: []lint.Finding{}},
			{File: bad, Platform: "cisco_ios", Findings: []lint.Finding{
				{Rule: "ios-vty-transport-ssh", Severity: "high", Message: `line vty 0 4: remote access is not limited to SSH (want "transport input ssh")`, Line: 22},
				{Rule: "ios-http-server", Severity: "medium", Message: "the HTTP management server is enabled (cleartext web interface)", Line: 23},
			}},
		},
		Summary: lintSummary{
			Files: 2, Findings: 2, FailOn: "high", Failed: true,
			BySeverity: map[string]int{"info": 0, "low": 0, "medium": 1, "high": 1, "critical": 0},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// The JSON field names are the contract.
	for _, key := range []string{`"files"`, `"file"`, `"platform"`, `"findings"`, `"rule"`, `"severity"`, `"message"`, `"line"`, `"summary"`, `"by_severity"`} {
		if !strings.Contains(stdout.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestRunLintListRules(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runLint(t.Context(), []string{"--list-rules"}, noEnv, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ios-aaa-new-model\thigh\tcisco_ios,cisco_xe\t") {
		t.Errorf("rule list lacks ios-aaa-new-model:\n%s", stdout.String())
	}
}
