package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"netsmith/internal/corpustest"
	"netsmith/internal/netcfg"
)

// corpusCase is a config copied from the shared corpus and the platform
// its rules are tested under.
type corpusCase struct {
	file     string // under testdata/corpus
	platform netcfg.Platform
}

// corpusCases covers every platform. The corpus holds no NX-OS config, so
// an EOS-syntax fabric config (same indented shape) stands in for it under
// the NX-OS rules.
var corpusCases = []corpusCase{
	{"batfish-pybatfish/ios-example-filters/rtr-with-acl.cfg", netcfg.CiscoIOS},
	{"batfish-pybatfish/ios-failure-analysis/paris.cfg", netcfg.CiscoIOS},
	{"batfish-pybatfish/hybrid-cloud/exitgw.cfg", netcfg.CiscoXE},
	{"batfish-batfish/eos-dc-as-reuse/pod_0_leaf_0.cfg", netcfg.CiscoNXOS},
	{"batfish-pybatfish/hybrid-cloud/Leaf1.cfg", netcfg.AristaEOS},
	{"arista-avd/campus-fabric/intended/configs/LEAF1A.cfg", netcfg.AristaEOS},
	{"batfish-batfish/junos-set-example/as1border1.cfg", netcfg.JuniperJunos},
	{"batfish-batfish/junos-set-example/as1border2.cfg", netcfg.JuniperJunos},
	{"netconfeval/step3/ospf_simple/configs/bb0.conf", netcfg.FRR},
	{"netconfeval/step3/bgp_simple/configs/router1.conf", netcfg.FRR},
	{"netconfeval/step3/ospf_multiarea/configs/bb1.conf", netcfg.FRR},
}

func readCorpus(tb testing.TB, file string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", filepath.FromSlash(file)))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestCorpusCopies holds the copies in testdata to the shared corpus.
func TestCorpusCopies(t *testing.T) {
	root := corpustest.Dir(t)
	for _, c := range corpusCases {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(c.file)))
		if err != nil {
			t.Fatal(err)
		}
		if got := readCorpus(t, c.file); !bytes.Equal([]byte(got), want) {
			t.Errorf("testdata/corpus/%s differs from the shared corpus", c.file)
		}
	}
}
