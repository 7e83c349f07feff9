package diff

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/golden"
	"netsmith/internal/netcfg"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/remediation.golden and sections.golden.json")

// goldenRunning names, per golden case, the corpus config it edits: the
// case's intended.cfg is that config edited by hand.
var goldenRunning = map[string]string{
	"cisco_ios-paris":          "batfish-pybatfish/ios-failure-analysis/paris.cfg",
	"cisco_ios-acl":            "batfish-pybatfish/ios-example-filters/rtr-with-acl.cfg",
	"cisco_xe-exitgw":          "batfish-pybatfish/hybrid-cloud/exitgw.cfg",
	"cisco_nxos-pod_0_leaf_0":  "batfish-batfish/eos-dc-as-reuse/pod_0_leaf_0.cfg",
	"arista_eos-LEAF1A":        "arista-avd/campus-fabric/intended/configs/LEAF1A.cfg",
	"juniper_junos-as1border1": "batfish-batfish/junos-set-example/as1border1.cfg",
	"frr-bb0":                  "netconfeval/step3/ospf_simple/configs/bb0.conf",
}

// TestGolden diffs each corpus config against its hand-edited copy and
// compares the remediation and the structured diff with the golden files;
// every platform has a case.
func TestGolden(t *testing.T) {
	d := defaultDiffer(t)
	covered := make(map[netcfg.Platform]bool)
	for name, src := range goldenRunning {
		t.Run(name, func(t *testing.T) {
			plat, _, _ := strings.Cut(name, "-")
			p, err := netcfg.ParsePlatform(plat)
			if err != nil {
				t.Fatal(err)
			}
			covered[p] = true
			dir := filepath.Join("testdata", "golden", name)
			intended, err := os.ReadFile(filepath.Join(dir, "intended.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			res := checkRoundTrip(t, d, p, readCorpus(t, src), string(intended))
			if res.Empty() {
				t.Fatal("no remediation for an edited config")
			}
			sections, err := json.MarshalIndent(res.Sections, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "remediation.golden"), res.Text(), *update)
			golden.Check(t, filepath.Join(dir, "sections.golden.json"), string(sections)+"\n", *update)
		})
	}
	for _, p := range netcfg.Platforms {
		if !covered[p] {
			t.Errorf("no golden case for %s", p)
		}
	}
}
