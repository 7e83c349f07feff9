package confparse

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netsmith/internal/corpustest"
	"netsmith/internal/netcfg"
)

// corpusFiles returns every regular file under the corpus, relative paths.
func corpusFiles(tb testing.TB, root string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		files = append(files, rel)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no files under %s", root)
	}
	return files
}

// isConfigFile reports whether a corpus file is a device config: *.cfg, or
// *.conf inside a configs/ folder (netconfeval's lab.conf is a topology).
func isConfigFile(rel string) bool {
	rel = filepath.ToSlash(rel)
	return strings.HasSuffix(rel, ".cfg") ||
		strings.HasSuffix(rel, ".conf") && strings.Contains(rel, "/configs/")
}

// checkTree verifies the invariants every parsed tree must hold: it
// re-serialises to its input both in line order and depth-first, it has one
// node per line with the right number, and parent links agree with
// children.
func checkTree(tb testing.TB, text string, tr *Tree) {
	tb.Helper()
	if got := tr.String(); got != text {
		tb.Fatalf("String() differs from the input:\n got %q\nwant %q", got, text)
	}
	if got := tr.Serialize(); got != text {
		tb.Fatalf("Serialize() (depth-first) differs from the input:\n got %q\nwant %q", got, text)
	}
	if got, want := len(tr.Nodes()), len(splitLines(text)); got != want {
		tb.Fatalf("%d nodes, want one per line (%d)", got, want)
	}
	for i, n := range tr.Nodes() {
		if n.Line != i+1 {
			tb.Fatalf("node %d has Line %d", i, n.Line)
		}
	}
	var check func(parent *Node, ns []*Node)
	check = func(parent *Node, ns []*Node) {
		for _, n := range ns {
			if n.Parent != parent {
				tb.Fatalf("line %d: Parent is not the node that holds it", n.Line)
			}
			check(n, n.Children)
		}
	}
	check(nil, tr.Children)
	for i := 1; i < len(tr.Problems); i++ {
		if tr.Problems[i].Line < tr.Problems[i-1].Line {
			tb.Fatalf("problems not in line order: %+v", tr.Problems)
		}
	}
}

func TestCorpusRoundTrip(t *testing.T) {
	t.Parallel()
	root := corpustest.Dir(t)
	configs := 0
	for _, rel := range corpusFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		platforms := []netcfg.Platform{"", netcfg.CiscoIOS, netcfg.JuniperJunos}
		for _, p := range platforms {
			tr, err := Parse(p, text)
			if err != nil {
				t.Fatalf("%s: Parse(%q): %v", rel, p, err)
			}
			checkTree(t, text, tr)
		}
		if isConfigFile(rel) {
			configs++
		}
	}
	if configs < 50 {
		t.Errorf("found %d config files in the corpus, want at least 50", configs)
	}
}

// TestCorpusShapes checks, on real configs, the structure the linter relies
// on.
func TestCorpusShapes(t *testing.T) {
	t.Parallel()
	root := corpustest.Dir(t)
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("ios orphan lines after a comment stay in their block", func(t *testing.T) {
		t.Parallel()
		tr, err := Parse(netcfg.CiscoIOS, read("batfish-pybatfish/ios-failure-analysis/london.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		acl := tr.Find("ip access-list extended ddos")
		if len(acl) != 1 {
			t.Fatalf("found %d ddos ACLs, want 1", len(acl))
		}
		if got := len(acl[0].ChildrenWithPrefix("deny")); got != 2 {
			t.Errorf("ddos ACL has %d deny lines, want 2", got)
		}
		vty := tr.Find("line vty 0 4")
		if len(vty) != 1 || vty[0].Child("login") == nil {
			t.Errorf("line vty 0 4 with login not found: %v", vty)
		}
		bgp := tr.Find("router bgp 1")
		if len(bgp) != 1 {
			t.Fatal("router bgp 1 not found")
		}
		af := bgp[0].Child("address-family ipv4")
		if af == nil || af.Child("neighbor as2 route-map as2_to_as1 in") == nil {
			t.Errorf("address-family under router bgp not parsed as nested block")
		}
	})
	t.Run("banner body is not config", func(t *testing.T) {
		t.Parallel()
		tr, err := Parse(netcfg.CiscoIOS, read("batfish-pybatfish/ios-example-filters/firewall.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		b := tr.Find("banner motd")
		if len(b) != 1 {
			t.Fatalf("found %d banners", len(b))
		}
		if got := len(b[0].Children); got != 4 {
			t.Errorf("banner has %d body lines, want 4", got)
		}
		for _, c := range b[0].Children {
			if c.Kind != KindBody {
				t.Errorf("banner line %d has kind %v, want body", c.Line, c.Kind)
			}
		}
		if len(tr.Find("zone security zone-admin")) != 1 {
			t.Error("config after the banner is not top-level")
		}
		if len(tr.Problems) != 0 {
			t.Errorf("problems: %v", tr.Problems)
		}
	})
	t.Run("eos three-space indentation and end", func(t *testing.T) {
		t.Parallel()
		tr, err := Parse(netcfg.AristaEOS, read("arista-avd/campus-fabric/intended/configs/SPINE1.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		api := tr.Find("management api http-commands")
		if len(api) != 1 || api[0].Child("vrf MGMT") == nil || api[0].Child("vrf MGMT").Child("no shutdown") == nil {
			t.Error("management api http-commands > vrf MGMT > no shutdown not found")
		}
		last := tr.Children[len(tr.Children)-1]
		if last.Text != "end" || last.Kind != KindConfig {
			t.Errorf("last top-level node = %q (%v), want end", last.Text, last.Kind)
		}
	})
	t.Run("junos set form statements", func(t *testing.T) {
		t.Parallel()
		tr, err := Parse(netcfg.JuniperJunos, read("batfish-batfish/junos-set-example/as1border1.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		if tr.Format != FormatJunosSet {
			t.Fatalf("format %v, want junos-set", tr.Format)
		}
		st := tr.Statements()
		if len(st) != 52 {
			t.Errorf("%d statements, want 52", len(st))
		}
		want := Statement{Line: 4, Text: "set interfaces fe-0/0/0 unit 0 family inet address 1.0.1.1/24"}
		if st[2] != want {
			t.Errorf("statement 3 = %+v, want %+v", st[2], want)
		}
	})
}
