package sim

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/fleet"
	"netsmith/internal/prompt"
)

// missingValues returns the scalar leaf values of vars that do not appear
// in config, as "path=value": strings verbatim, numbers as whole words, and
// a CIDR value either verbatim or as its address with its netmask or /len.
// It stands in for package coverage until that lands.
func missingValues(vars map[string]any, config string) []string {
	var out []string
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch x := x.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(path+"."+k, x[k])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case nil, bool:
		default:
			if !appears(fmt.Sprint(x), config) {
				out = append(out, fmt.Sprintf("%s=%v", strings.TrimPrefix(path, "."), x))
			}
		}
	}
	walk("", vars)
	return out
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// appears reports whether the value s is written in config.
func appears(s, config string) bool {
	if digits.MatchString(s) {
		return regexp.MustCompile(`(^|[^0-9.])` + s + `($|[^0-9.])`).MatchString(config)
	}
	if strings.Contains(config, s) {
		return true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !strings.Contains(config, p.Addr().String()) {
		return false
	}
	if strings.Contains(config, fmt.Sprintf("/%d", p.Bits())) {
		return true
	}
	mask := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	_ = mask
	if p.Addr().Is4() {
		m := ^uint32(0) << (32 - p.Bits())
		return strings.Contains(config, fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&255, m>>8&255, m&255))
	}
	return false
}

func TestMissingValues(t *testing.T) {
	t.Parallel()
	config := "hostname sw1\n ip address 10.0.0.2 255.255.255.0\nvlan 10\nsnmp-server location Building 1, floor 2\n"
	vars := map[string]any{
		"mgmt_ip":       "10.0.0.2/24",
		"vlans":         []any{map[string]any{"id": 10}, map[string]any{"id": 7}},
		"snmp_location": "Building 1, floor 2",
		"loopback0":     "10.9.9.9/32",
		"tacacs":        []any{"10.0.0.41"},
	}
	want := []string{"loopback0=10.9.9.9/32", "tacacs[0]=10.0.0.41", "vlans[1].id=7"}
	if diff := cmp.Diff(want, missingValues(vars, config)); diff != "" {
		t.Errorf("missingValues (-want +got):\n%s", diff)
	}
}

// exampleFleet reads and parses the example fleet file name.
func exampleFleet(t *testing.T, name string) *fleet.Fleet {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.Parse(name, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fl
}

// TestExampleFleets renders every example fleet as a batch does, one
// template per intent rendered per device, and checks that each rendered
// config equals the one sim writes for the device alone and holds every
// value of the device's vars.
func TestExampleFleets(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"campus.yaml", "campus.csv", "dc-fabric.yaml", "frr-fabric.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fl := exampleFleet(t, name)
			values, devices := 0, 0
			for _, in := range fl.Intents {
				first := fl.Devices[in.Devices[0]].Device
				spec := func(task prompt.Task, hostname string, vars map[string]any) prompt.Spec {
					return prompt.Spec{Task: task, Platform: string(in.Platform), Role: in.Role, OSVersion: in.OSVersion,
						Requirements: in.Requirements, Constants: fleet.RedactSecrets(in.Constants),
						Hostname: hostname, Vars: fleet.RedactSecrets(vars)}
				}
				tmpl := answer(t, spec(prompt.TaskTemplate, "", first.Vars))
				for _, i := range in.Devices {
					d := fl.Devices[i].Device
					config := answer(t, spec(prompt.TaskConfig, d.Hostname, d.Vars))
					got := render(t, tmpl, with(fleet.RedactSecrets(d.Vars), map[string]any{"hostname": d.Hostname}))
					if diff := cmp.Diff(config, got); diff != "" {
						t.Errorf("%s: the intent's template rendered differs from the device's config (-config +rendered):\n%s", d.Hostname, diff)
					}
					if miss := missingValues(fleet.RedactSecrets(d.Vars), config); len(miss) > 0 {
						t.Errorf("%s (%s): %d var values missing from the config: %s", d.Hostname, d.Platform, len(miss), strings.Join(miss, ", "))
					}
					values += len(missingValues(d.Vars, ""))
					devices++
				}
			}
			t.Logf("%s: %d devices, %d var values checked", name, devices, values)
		})
	}
}
