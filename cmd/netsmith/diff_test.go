package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/diff"
)

// runningFrom makes a folder of "running" configs from a batch's output:
// every tenth device has none, the next three of every ten are edited (the
// hostname changed; an NTP server gone; an extra line, or for Junos the
// NTP server gone), the rest are copies. It returns the hostnames expected
// missing and drifted.
func runningFrom(t *testing.T, out, runDir string, hosts []string) (missing, drifted []string) {
	t.Helper()
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	hostRE := regexp.MustCompile(`(?m)^(\s*host-?name )(\S+?)(;?)$`)
	ntpRE := regexp.MustCompile(`(?m)^.*\b10\.0\.0\.12\b.*\n`)
	for i, h := range hosts {
		b, err := os.ReadFile(filepath.Join(out, h+".cfg"))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		junos := strings.Contains(text, "host-name ")
		edited := text
		switch i % 10 {
		case 0:
			missing = append(missing, h)
			continue
		case 1:
			edited = hostRE.ReplaceAllString(text, "${1}${2}-old${3}")
		case 2:
			edited = ntpRE.ReplaceAllString(text, "")
		case 3:
			if junos {
				edited = ntpRE.ReplaceAllString(text, "")
			} else {
				edited = "ip host drift-test 192.0.2.1\n" + text
			}
		}
		if i%10 <= 3 {
			if edited == text {
				t.Fatalf("%s: the edit for case %d found nothing to change", h, i%10)
			}
			drifted = append(drifted, h)
		}
		if err := os.WriteFile(filepath.Join(runDir, h+".cfg"), []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return missing, drifted
}

// TestBatchCampusDrift batches the campus example, edits its output into a
// folder of running configs, and checks drift both ways: netsmith diff
// --dir and a second batch with --running give the expected counts, write
// HOSTNAME.diff for exactly the drifted devices, and each written
// remediation holds the edit it undoes.
func TestBatchCampusDrift(t *testing.T) {
	t.Parallel()
	out, f, _, _ := batchExample(t, "campus.yaml")
	var hosts []string
	for _, r := range f.Devices {
		hosts = append(hosts, r.Device.Hostname)
	}
	runDir := filepath.Join(t.TempDir(), "running")
	missing, drifted := runningFrom(t, out, runDir, hosts)
	inSync := len(hosts) - len(missing) - len(drifted)

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"diff", "--dir", runDir, "--intended", out, "--json", "--write"}, noEnv, strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("diff --dir exited %d, want 1 (drift found)\n%s", code, stderr.String())
	}
	var dr diff.Drift
	if err := json.Unmarshal(stdout.Bytes(), &dr); err != nil {
		t.Fatal(err)
	}
	if dr.InSync != inSync || dr.Drifted != len(drifted) || dr.Missing != len(missing) || dr.Errors != 0 {
		t.Fatalf("diff --dir: %d in sync, %d drifted, %d missing, %d errors; want %d, %d, %d, 0",
			dr.InSync, dr.Drifted, dr.Missing, dr.Errors, inSync, len(drifted), len(missing))
	}
	t.Logf("campus drift: %d devices, %d in sync, %d drifted, %d missing", len(hosts), dr.InSync, dr.Drifted, dr.Missing)
	for _, dd := range dr.Devices {
		_, err := os.Stat(filepath.Join(out, dd.Hostname+".diff"))
		if (dd.Status == diff.Drifted) != (err == nil) {
			t.Fatalf("diff --write: %s is %s, its .diff: %v", dd.Hostname, dd.Status, err)
		}
	}

	checkCampusPolicy(t, out, hosts)

	out2, _, sum, stdout2 := batchExample(t, "campus.yaml", "--running", runDir)
	if sum.Drift == nil {
		t.Fatal("summary.json has no drift section")
	}
	if got := sum.Drift; got.InSync != inSync || got.Drifted != len(drifted) || got.Missing != len(missing) ||
		!slices.Equal(got.Absent, sorted(missing)) || !slices.Equal(got.Devices, sorted(drifted)) {
		t.Fatalf("summary drift = %+v; want %d in sync, drifted %v, missing %v", got, inSync, drifted, missing)
	}
	if !strings.Contains(stdout2, "drift against "+runDir+": ") {
		t.Errorf("batch output lacks the drift line:\n%s", stdout2)
	}
	for i, h := range hosts {
		b, err := os.ReadFile(filepath.Join(out2, h+".diff"))
		isDrifted := slices.Contains(drifted, h)
		if isDrifted != (err == nil) {
			t.Fatalf("%s: .diff written = %v, drifted = %v", h, err == nil, isDrifted)
		}
		if !isDrifted {
			continue
		}
		rem := string(b)
		var want string
		switch i % 10 {
		case 1:
			want = h // the hostname comes back
		case 2:
			want = "10.0.0.12"
		case 3:
			want = "10.0.0.12"
			if !strings.Contains(rem, "set ") {
				want = "no ip host drift-test 192.0.2.1"
			}
		}
		if !strings.Contains(rem, want) {
			t.Errorf("%s.diff lacks %q:\n%s", h, want, rem)
		}
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestDiffCommand checks netsmith diff's exit codes and outputs on a pair
// of files, and netsmith comply's on a policy.
func TestDiffCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	running := write("run.cfg", "hostname a\ninterface Gi1\n ip address 10.0.0.1 255.255.255.0\n shutdown\nip http server\nline vty 0 4\n exec-timeout 5 0\n")
	intended := write("int.cfg", "hostname b\ninterface Gi1\n ip address 10.0.0.2 255.255.255.0\nline vty 0 4\n exec-timeout 5 0\n")
	bad := write("bin.cfg", "hostname \x00\n")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diff", running, intended}, 1, "no ip http server\nhostname b\ninterface Gi1\n no shutdown\n ip address 10.0.0.2 255.255.255.0\n"},
		{[]string{"diff", intended, intended}, 0, ""},
		{[]string{"diff", running, bad}, exitUsage, ""},
		{[]string{"diff", running}, exitUsage, ""},
		{[]string{"diff", running, intended, "--platform", "nope"}, exitUsage, ""},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, noEnv, strings.NewReader(""), &stdout, &stderr)
		if code != c.code || stdout.String() != c.want {
			t.Errorf("%v: exit %d, output %q (stderr %q); want %d, %q", c.args[1:], code, stdout.String(), stderr.String(), c.code, c.want)
		}
	}

	runText, _ := os.ReadFile(running)
	var in, so, se bytes.Buffer
	in.Write(runText)
	if code := run(context.Background(), []string{"diff", "-", intended}, noEnv, &in, &so, &se); code != 1 || so.String() != cases[0].want {
		t.Errorf("RUNNING from standard input: exit %d, %q (%s)", code, so.String(), se.String())
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"diff", running, intended, "--json"}, noEnv, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("--json: exit %d: %s", code, stderr.String())
	}
	var res diff.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sections) != 2 || res.Sections[0].Changed[0] != (diff.Change{From: "hostname a", To: "hostname b"}) ||
		!slices.Equal(res.Sections[1].Removed, []string{"shutdown"}) {
		t.Errorf("--json sections = %+v", res.Sections)
	}

	cfgs := filepath.Join(dir, "cfgs")
	if err := os.Mkdir(cfgs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{running, intended} {
		b, _ := os.ReadFile(p)
		if err := os.WriteFile(filepath.Join(cfgs, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("golden.cfg", "line vty 0 4\n exec-timeout 5 0\n transport input ssh\n")
	policy := write("policy.yaml", `version: 1
roles:
  - name: all
    golden: golden.cfg
    rules:
      - id: no-http
        forbidden: '^ip http server$'
      - id: vty-timeout
        parent: '^line vty '
        required: '^exec-timeout '
`)
	stdout.Reset()
	code := run(context.Background(), []string{"comply", policy, cfgs, "--json"}, noEnv, strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("comply exited %d: %s", code, stderr.String())
	}
	var rep complyReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range rep.Devices {
		for _, c := range d.Checks {
			got[d.Hostname+"/"+c.Rule] = c.Pass
		}
	}
	want := map[string]bool{"run/golden": false, "run/no-http": false, "run/vty-timeout": true,
		"int/golden": false, "int/no-http": true, "int/vty-timeout": true}
	if !maps.Equal(got, want) || rep.Failed != 2 {
		t.Errorf("comply: %v (failed %d), want %v (failed 2)", got, rep.Failed, want)
	}
	if len(rep.Rules) != 3 || rep.Rules[1].Rule != "no-http" || rep.Rules[1].Checked != 2 || !slices.Equal(rep.Rules[1].Failing, []string{"run"}) {
		t.Errorf("comply rules = %+v; want no-http failing on run of 2", rep.Rules)
	}
	if code := run(context.Background(), []string{"comply", write("bad.yaml", "version: 1\nroles: [{name: x}]\n"), cfgs}, noEnv, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
		t.Errorf("comply with a role without rules exited %d, want 2", code)
	}
}

// TestDiffJob: netsmith diff --job compares a running config with a job's
// config on a real server: the config itself is in sync, an edited one
// gets the remediation, and an unknown job is an error.
func TestDiffJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startInProcess(t, "--db", "sqlite://"+filepath.Join(dir, "s.db"), "--sim-latency", "10ms", "--poll-interval", "100ms")
	server := c.BaseURL()
	code, cfg, errOut := cli("submit", "--server", server, "--hostname", "edge1", "--platform", "cisco_ios",
		"--requirements", "edge router", "--wait")
	if code != 0 || !strings.Contains(cfg, "hostname edge1") {
		t.Fatalf("submit --wait: exit %d\n%s\n%s", code, cfg, errOut)
	}
	code, out, _ := cli("jobs", "--server", server, "--json")
	var list struct {
		Jobs []struct {
			ID string `json:"id"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 || len(list.Jobs) != 1 {
		t.Fatalf("jobs --json: exit %d, %v\n%s", code, err, out)
	}
	id := list.Jobs[0].ID
	same := filepath.Join(dir, "same.cfg")
	edited := filepath.Join(dir, "edited.cfg")
	if err := os.WriteFile(same, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edited, []byte(strings.Replace(cfg, "hostname edge1", "hostname edge1-old", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli("diff", "--job", id, same, "--server", server); code != 0 || out != "" {
		t.Errorf("the job's own config: exit %d, %q %q; want 0 and nothing", code, out, errOut)
	}
	if code, out, errOut := cli("diff", "--job", id, edited, "--server", server); code != 1 || out != "hostname edge1\n" {
		t.Errorf("edited hostname: exit %d, %q %q; want 1 and the hostname back", code, out, errOut)
	}
	if code, _, errOut := cli("diff", "--job", "no-such-job", same, "--server", server); code != exitUsage || !strings.Contains(errOut, "no such job") {
		t.Errorf("unknown job: exit %d, %q", code, errOut)
	}
}

// checkCampusPolicy holds the campus configs to examples/policies/campus.yaml:
// all comply; with an HTTP server enabled on an IOS access switch and
// telnet on a Junos one, exactly those two fail, on those rules.
func checkCampusPolicy(t *testing.T, out string, hosts []string) {
	t.Helper()
	policy := filepath.Join("..", "..", "examples", "policies", "campus.yaml")
	code, stdout, stderr := cli("comply", policy, out)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d devices: %d comply, 0 do not", len(hosts), len(hosts))) {
		t.Fatalf("comply on the campus: exit %d\n%s\n%s", code, tail(stdout, 20), stderr)
	}
	bad := t.TempDir()
	edits := map[string][2]string{
		"bld1-fl1-acc01": {"hostname bld1-fl1-acc01\n", "hostname bld1-fl1-acc01\nip http server\n"},
		"bld4-fl1-acc01": {"        ssh {\n", "        telnet;\n        ssh {\n"},
	}
	for _, h := range []string{"bld1-fl1-acc01", "bld4-fl1-acc01", "campus-core01"} {
		b, err := os.ReadFile(filepath.Join(out, h+".cfg"))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if e, ok := edits[h]; ok {
			if !strings.Contains(text, e[0]) {
				t.Fatalf("%s lacks %q", h, e[0])
			}
			text = strings.Replace(text, e[0], e[1], 1)
		}
		if err := os.WriteFile(filepath.Join(bad, h+".cfg"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = cli("comply", policy, bad, "--json")
	var rep complyReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 {
		t.Fatalf("comply on the edited copies: exit %d, %v\n%s", code, err, stderr)
	}
	failing := map[string][]string{}
	for _, r := range rep.Rules {
		if len(r.Failing) > 0 {
			failing[r.Role+"/"+r.Rule] = r.Failing
		}
	}
	want := map[string][]string{"ios-access/no-http-server": {"bld1-fl1-acc01"}, "junos-access/no-telnet": {"bld4-fl1-acc01"}}
	if !maps.EqualFunc(failing, want, slices.Equal) || rep.Failed != 2 || rep.Passed != 1 {
		t.Errorf("failing rules %v (%d fail, %d pass); want %v, 2 fail, 1 pass", failing, rep.Failed, rep.Passed, want)
	}
}
