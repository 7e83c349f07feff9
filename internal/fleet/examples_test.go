package fleet

import (
	"os"
	"path/filepath"
	"testing"

	"netsmith/internal/netcfg"
)

// repoRoot walks up from the package directory to the one holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

// TestExamples parses the example fleets the README uses: each must parse
// without errors or warnings, with the device and intent counts the docs give.
func TestExamples(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		file             string
		devices, intents int
	}{
		{"campus.yaml", 284, 10},
		{"campus.csv", 22, 3},
		{"dc-fabric.yaml", 10, 4},
		{"frr-fabric.yaml", 6, 2},
		{"netbox-branch.json", 4, 2}, // a NetBox /api/dcim/devices/ answer
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(root, "examples", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			fl, err := Parse(tt.file, data)
			if err != nil {
				t.Fatalf("Parse(examples/%s):\n%v", tt.file, err)
			}
			if len(fl.Warnings) > 0 {
				t.Errorf("Parse(examples/%s) warnings:\n%v", tt.file, fl.Warnings)
			}
			t.Logf("examples/%s: %d devices, %d intents", tt.file, len(fl.Devices), len(fl.Intents))
			if len(fl.Devices) != tt.devices || len(fl.Intents) != tt.intents {
				t.Errorf("examples/%s: %d devices over %d intents, want %d over %d",
					tt.file, len(fl.Devices), len(fl.Intents), tt.devices, tt.intents)
			}
			for _, d := range fl.Devices {
				// An FRR device's management address is its Linux host's,
				// not something FRR configures.
				if d.Device.Vars["mgmt_ip"] == nil && d.Device.Platform != netcfg.FRR {
					t.Errorf("examples/%s: %s has no mgmt_ip", tt.file, d.Device.Hostname)
				}
			}
		})
	}
}

// TestEveryExample parses every examples/*.yaml and *.csv, listed above or
// not (new examples are covered by the glob): no errors, no warnings.
func TestEveryExample(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	n := parseEach(t, []string{filepath.Join(root, "examples", "*.yaml"), filepath.Join(root, "examples", "*.csv")},
		func(path string, fl *Fleet) {
			if len(fl.Warnings) > 0 {
				t.Errorf("Parse(%s) warnings:\n%v", path, fl.Warnings)
			}
		})
	if n == 0 {
		t.Fatal("no examples found")
	}
}

// parseEach parses every file the glob patterns match, reports those that
// do not parse, hands each fleet to f and returns how many files it read.
func parseEach(t *testing.T, patterns []string, f func(path string, fl *Fleet)) int {
	t.Helper()
	n := 0
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			n++
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fl, err := Parse(filepath.Base(path), data)
			if err != nil {
				t.Errorf("Parse(%s):\n%v", path, err)
				continue
			}
			f(path, fl)
		}
	}
	return n
}

func BenchmarkParseCampus(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(repoRoot(b), "examples", "campus.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("campus.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNetBoxExample: the NetBox example's references and addresses become
// the device's platform, role, site and mgmt_ip, and its config context
// the intent and vars.
func TestNetBoxExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "netbox-branch.json"))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := Parse("netbox-branch.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range fl.Devices {
		if d.Device.Hostname != "lyon-rtr01" {
			continue
		}
		dev := d.Device
		if dev.Platform != "cisco_xe" || dev.Role != "branch-router" || dev.Site != "lyon-branch" ||
			dev.OSVersion != "17.12.4" || dev.Vars["mgmt_ip"] != "10.7.99.1/24" || dev.Vars["requirements"] != nil ||
			dev.Vars["snmp_contact"] != "noc@example.net" {
			t.Errorf("lyon-rtr01 = %+v", dev)
		}
		return
	}
	t.Error("no lyon-rtr01 in the NetBox example")
}
