package verify

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/confparse"
	"netsmith/internal/golden"
	"netsmith/internal/netcfg"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readDir parses dir/*.cfg (platform detected from a first-line comment
// "! platform P" or "# platform P") and dir/fleet.json when there is one.
func readDir(t *testing.T, dir string) ([]Config, []netcfg.Device) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.cfg"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no configs in %s: %v", dir, err)
	}
	var cfgs []Config
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		_, plat, ok := strings.Cut(first, "platform ")
		if !ok {
			t.Fatalf("%s: first line must name the platform", p)
		}
		tree, err := confparse.Parse(netcfg.Platform(strings.TrimSpace(plat)), string(b))
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, Config{Hostname: strings.TrimSuffix(filepath.Base(p), ".cfg"), Tree: tree})
	}
	var fleet []netcfg.Device
	if b, err := os.ReadFile(filepath.Join(dir, "fleet.json")); err == nil {
		if err := json.Unmarshal(b, &fleet); err != nil {
			t.Fatalf("fleet.json: %v", err)
		}
	}
	return cfgs, fleet
}

// render writes a report one finding per line, for golden files.
func render(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "errors %d, warnings %d\n", r.Errors, r.Warnings)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s:%d %s %s", f.Device, f.Line, f.Severity, f.Check)
		if f.Peer != "" {
			fmt.Fprintf(&b, " peer %s:%d", f.Peer, f.PeerLine)
		}
		fmt.Fprintf(&b, ": %s\n", f.Message)
	}
	return b.String()
}

func TestVerifyGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			cfgs, fleet := readDir(t, dir)
			got := render(Verify(cfgs, fleet))
			golden.Check(t, filepath.Join(dir, "want.golden"), got, *update)
		})
	}
}

func TestVLANDiff(t *testing.T) {
	for _, c := range []struct {
		a, b, onlyA, onlyB string
		ok                 bool
	}{
		{"10,20,30", "10-30", "none", "11-19,21-29", true},
		{"10,20", "10,30", "20", "30", true},
		{"1-4094", "1-4094", "none", "none", true},
		{"DATA,VOICE", "10", "", "", false},
	} {
		a, b, ok := vlanDiff(c.a, c.b)
		if a != c.onlyA || b != c.onlyB || ok != c.ok {
			t.Errorf("vlanDiff(%q, %q) = %q, %q, %v; want %q, %q, %v", c.a, c.b, a, b, ok, c.onlyA, c.onlyB, c.ok)
		}
	}
}
