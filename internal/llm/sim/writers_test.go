package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/fleet"
	"netsmith/internal/golden"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

var dump = flag.String("dump", "", "also write every answer TestWritersGolden checks under this folder, to diff two trees")

// writerPlatforms are every platform sim writes, and one it does not know
// (IOS syntax).
var writerPlatforms = []netcfg.Platform{
	netcfg.CiscoIOS, netcfg.CiscoXE, netcfg.CiscoNXOS, netcfg.AristaEOS, netcfg.JuniperJunos, netcfg.FRR, "other",
}

// TestWritersGolden pins every platform writer byte for byte: each example
// fleet's devices and the test intents, written for every platform (a
// device's config, and each intent's template), against the first 64 bits of the SHA-256 of each
// answer in testdata/writers.sha256. A change of output fails here; run with
// -dump DIR before and after a change and diff the trees to see what moved,
// and with -update when the change is meant.
func TestWritersGolden(t *testing.T) {
	t.Parallel()
	var lines []string
	add := func(group, name string, p netcfg.Platform, s prompt.Spec) {
		s.Platform = string(p)
		out := answer(t, s)
		sum := sha256.Sum256([]byte(out))
		key := fmt.Sprintf("%s/%s/%s/%s", group, p, s.Task, name)
		lines = append(lines, key+" "+hex.EncodeToString(sum[:8]))
		if *dump != "" {
			path := filepath.Join(*dump, key)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"campus.yaml", "campus.csv", "dc-fabric.yaml", "frr-fabric.yaml", "netbox-branch.json"} {
		fl := exampleFleet(t, name)
		for _, in := range fl.Intents {
			spec := func(task prompt.Task, hostname string, vars map[string]any) prompt.Spec {
				return prompt.Spec{Task: task, Role: in.Role, OSVersion: in.OSVersion,
					Requirements: in.Requirements, Constants: fleet.RedactSecrets(in.Constants),
					Hostname: hostname, Vars: fleet.RedactSecrets(vars)}
			}
			first := fl.Devices[in.Devices[0]].Device
			for _, p := range writerPlatforms {
				add(name, "intent-of-"+first.Hostname, p, spec(prompt.TaskTemplate, "", with(first.Vars, map[string]any{"hostname": first.Hostname})))
				for _, i := range in.Devices {
					d := fl.Devices[i].Device
					add(name, d.Hostname, p, spec(prompt.TaskConfig, d.Hostname, d.Vars))
				}
			}
		}
	}
	for _, in := range intents() {
		for _, p := range writerPlatforms {
			add("intents", in.name, p, templateSpec(in))
			for _, d := range in.devices {
				add("intents", d.hostname, p, configSpec(in, d))
			}
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	golden.Check(t, filepath.Join("testdata", "writers.sha256"), got, *update)
	t.Logf("%d answers checked", len(lines))
}
