package main

import (
	"bytes"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"netsmith/internal/httpapi"
)

// TestHelpEverywhere: -h and --help work on every command and
// sub-command, exit 0, print to stdout, and `netsmith help CMD` is CMD -h.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	for _, cmd := range helpCommands(t) {
		name := strings.Join(cmd, " ")
		code, out, errOut := cli(append(cmd, "-h")...)
		if code != 0 || out == "" || errOut != "" {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q; want 0 and help on stdout", name, code, out, errOut)
			continue
		}
		if code2, out2, _ := cli(append(cmd, "--help")...); code2 != 0 || out2 != out {
			t.Errorf("%s --help differs from -h (exit %d):\n%s", name, code2, out2)
		}
		if code3, out3, _ := cli(append([]string{"help"}, cmd...)...); code3 != 0 || out3 != out {
			t.Errorf("help %s differs from %s -h (exit %d):\n%s", name, name, code3, out3)
		}
	}
	// Each sub-command lists its own flags only.
	_, stats, _ := cli("cache", "stats", "--help")
	_, inval, _ := cli("cache", "invalidate", "--help")
	if strings.Contains(stats, "-device") || !strings.Contains(stats, "-db") || !strings.Contains(inval, "-device") {
		t.Errorf("cache stats --help:\n%s\ncache invalidate --help:\n%s", stats, inval)
	}
	if _, out, _ := cli("keys", "--help"); !strings.Contains(out, "keys create") || strings.Contains(out, "unknown") {
		t.Errorf("keys --help:\n%s", out)
	}
	if _, out, _ := cli("batch", "-h"); !strings.Contains(out, "-out") || !strings.Contains(out, "-department") {
		t.Errorf("batch -h lacks its flags:\n%s", out)
	}
}

// helpCommands are every command and sub-command of the general usage that
// takes -h.
func helpCommands(t *testing.T) [][]string {
	t.Helper()
	var cmds [][]string
	for _, name := range commandNames() {
		if name == "help" || name == "version" {
			continue
		}
		cmds = append(cmds, []string{name})
		for _, sub := range strings.Fields(subcommands[name]) {
			if name != "completion" {
				cmds = append(cmds, []string{name, sub})
			}
		}
	}
	if len(cmds) < 18 {
		t.Fatalf("only %d commands found in the usage: %v", len(cmds), cmds)
	}
	return cmds
}

// helpFlag is a flag as `CMD -h` lists it: "  -name type".
var helpFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)(?: (\S+))?$`)

// TestEveryFlagReadsEnv: every flag of every command takes its default
// from NETSMITH_<FLAG>. Each command's -h is run with an environment that
// records what is looked up, and every flag it lists must have been; then
// each flag that rejects a bad value (a bool, number or duration) gets one
// from its variable alone, which must fail the command naming the variable.
func TestEveryFlagReadsEnv(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, cmd := range helpCommands(t) {
		name := strings.Join(cmd, " ")
		var mu sync.Mutex
		looked := map[string]bool{}
		getenv := func(k string) string {
			mu.Lock()
			defer mu.Unlock()
			looked[k] = true
			return ""
		}
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), append(cmd, "-h"), getenv, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("%s -h: exit %d: %s", name, code, stderr.String())
			continue
		}
		for _, m := range helpFlag.FindAllStringSubmatch(stdout.String(), -1) {
			env := "NETSMITH_" + strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))
			if !looked[env] {
				t.Errorf("%s: --%s does not read %s", name, m[1], env)
				continue
			}
			checked++
			switch m[2] {
			case "", "int", "int64", "uint", "uint64", "float", "duration":
			default:
				continue // a string takes any value
			}
			bad := func(k string) string {
				if k == env {
					return "not-a-value"
				}
				return ""
			}
			var out, errOut bytes.Buffer
			code := run(t.Context(), append(cmd, "-h"), bad, strings.NewReader(""), &out, &errOut)
			if code != exitUsage || !strings.Contains(errOut.String(), env+`="not-a-value"`) {
				t.Errorf("%s with %s=not-a-value: exit %d, stderr %q; want %d naming the variable", name, env, code, errOut.String(), exitUsage)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d flags checked; the help parsing found too few", checked)
	}
}

// TestBadFlagIsOneLine: an unknown flag names itself and points at -h
// instead of printing every flag.
func TestBadFlagIsOneLine(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{{"batch"}, {"serve"}, {"lint"}, {"keys", "create"}, {"cache", "stats"}, {"cost"}} {
		name := strings.Join(cmd, " ")
		code, out, errOut := cli(append(cmd, "--bogus")...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "-bogus") || !strings.Contains(errOut, "netsmith "+name+" -h") {
			t.Errorf("%s --bogus: exit %d, stdout %q, stderr %q; want exit 2 and one line naming -bogus and -h", name, code, out, errOut)
		}
	}
}

// TestRefusedConnection: a client command against no server asks whether
// serve runs there.
func TestRefusedConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	for _, cmd := range [][]string{{"status", "job-x"}, {"cache", "stats"}, {"cost"}} {
		code, _, errOut := cli(append(cmd, "--server", url)...)
		if want := "is `netsmith serve` running at " + url + "?"; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", strings.Join(cmd, " "), code, errOut, want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := cli("version")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 3 || !strings.HasPrefix(lines[0], "netsmith ") ||
		!strings.HasPrefix(lines[1], "revision ") || !strings.HasPrefix(lines[len(lines)-1], "go go1.") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh"} {
		code, out, errOut := cli("completion", shell)
		if code != 0 || !strings.Contains(out, "netsmith") || errOut != "" {
			t.Errorf("completion %s: exit %d, stderr %q", shell, code, errOut)
		}
		for _, cmd := range []string{"batch", "keys", "lint", "version", "completion"} {
			if !strings.Contains(out, cmd) {
				t.Errorf("completion %s does not offer %s", shell, cmd)
			}
		}
		if !strings.Contains(out, "invalidate") {
			t.Errorf("completion %s does not offer cache's sub-commands", shell)
		}
	}
	if code, _, _ := cli("completion", "fish"); code != exitUsage {
		t.Errorf("completion fish: exit %d, want %d", code, exitUsage)
	}
}

// TestCacheOnDB: cache stats and invalidate work on a database, like cost
// and keys.
func TestCacheOnDB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "c.db")
	fleetPath := filepath.Join("..", "..", "examples", "dc-fabric.yaml")
	if code, out, errOut := cli("batch", fleetPath, "--out", filepath.Join(dir, "out"), "--db", db, "--sim-latency", "1ms"); code != 0 {
		t.Fatalf("batch: %d %s %s", code, out, errOut)
	}
	// One template per intent of the fabric.
	code, out, errOut := cli("cache", "stats", "--db", db)
	if code != 0 || !strings.Contains(out, `"entries": 4`) || !strings.Contains(out, `"misses": 4`) {
		t.Errorf("cache stats --db: %d %s %s; want 4 entries from 4 misses", code, out, errOut)
	}
	code, out, errOut = cli("cache", "invalidate", "--db", db, "--all")
	if code != 0 || out != "invalidated 4 entries\n" {
		t.Errorf("cache invalidate --db --all: %d %q %q", code, out, errOut)
	}
}

func TestBudgetLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    httpapi.BudgetView
		want string
	}{
		{httpapi.BudgetView{Department: "lab"}, "department lab: no budget (set one with `netsmith budget lab --set --daily USD`)"},
		{httpapi.BudgetView{Department: "lab", DailyUSD: 50, WarnPct: 80}, "department lab: daily $50.00, monthly no limit, warn at 80%"},
		{httpapi.BudgetView{Department: "lab", MonthlyUSD: 900}, "department lab: daily no limit, monthly $900.00"},
	} {
		if got := budgetLine(&tt.v); got != tt.want {
			t.Errorf("budgetLine(%+v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
