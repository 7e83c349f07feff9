package diff

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/confparse"
	"netsmith/internal/corpustest"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

func defaultDiffer(tb testing.TB) *Differ {
	tb.Helper()
	d, err := Default()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mustParse(tb testing.TB, p netcfg.Platform, text string) *confparse.Tree {
	tb.Helper()
	t, err := confparse.Parse(p, text)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// checkRoundTrip holds the property: the remediation applied to running
// gives intended, and intended against itself needs nothing.
func checkRoundTrip(tb testing.TB, d *Differ, p netcfg.Platform, running, intended string) *Result {
	tb.Helper()
	rt, it := mustParse(tb, p, running), mustParse(tb, p, intended)
	res, err := d.Diff(rt, it)
	if err != nil {
		tb.Fatal(err)
	}
	again, err := d.Diff(rt, it)
	if err != nil {
		tb.Fatal(err)
	}
	if again.Text() != res.Text() {
		tb.Fatalf("a second Diff of the same pair differs:\n%s\nthen:\n%s", res.Text(), again.Text())
	}
	merged, err := d.Merge(rt, res.Text())
	if err != nil {
		tb.Fatal(err)
	}
	if got, want := d.Normalize(mustParse(tb, p, merged)), d.Normalize(it); got != want {
		tb.Fatalf("running + remediation != intended\nremediation:\n%s\n%s", res.Text(), lineDiff(got, want))
	}
	after, err := d.Diff(mustParse(tb, p, merged), it)
	if err != nil {
		tb.Fatal(err)
	}
	if !after.Empty() {
		tb.Fatalf("after the remediation, a second diff still has:\n%s", after.Text())
	}
	return res
}

// lineDiff names the lines only one of two texts has.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)\ngot:\n" + got + "\nwant:\n" + want
	}
	return b.String()
}

// TestPropertyRandomEdits edits every corpus config at random (deleting,
// changing, adding lines and sections, reordering ordered lists) and holds
// Merge(running, Diff(running, edited)) equal to edited.
func TestPropertyRandomEdits(t *testing.T) {
	d := defaultDiffer(t)
	rounds := 60
	if raceDetector {
		rounds = 20
	}
	for _, c := range corpusCases {
		t.Run(c.file+"/"+string(c.platform), func(t *testing.T) {
			running := readCorpus(t, c.file)
			rng := rand.New(rand.NewPCG(1, uint64(len(c.file))))
			nonEmpty := 0
			for i := range rounds {
				edits := 1 + rng.IntN(6)
				intended := randomEdit(t, d, c.platform, running, rng, edits)
				res := checkRoundTrip(t, d, c.platform, running, intended)
				if !res.Empty() {
					nonEmpty++
				}
				_ = i
			}
			if nonEmpty < rounds/2 {
				t.Fatalf("only %d of %d random edits changed the config: the generator is not editing", nonEmpty, rounds)
			}
		})
	}
}

// randomEdit returns text with n random edits applied.
func randomEdit(tb testing.TB, d *Differ, p netcfg.Platform, text string, rng *rand.Rand, n int) string {
	tb.Helper()
	t := mustParse(tb, p, text)
	if t.Format != confparse.FormatIndented {
		root := buildJunos(t)
		for range n {
			editJunos(d.plat[p], root, rng)
		}
		var out []string
		for _, c := range root.children {
			out = leaves(c, c.word, out)
		}
		return strings.Join(out, "\n") + "\n"
	}
	root := build(t)
	for range n {
		editIndented(d.plat[p], p, root, rng)
	}
	var b strings.Builder
	write(&b, root, 0)
	return b.String()
}

// allNodes lists every node with its parent, top-level lines having the
// root as parent.
func allNodes(root *node) (ns, parents []*node) {
	var rec func(n *node)
	rec = func(n *node) {
		for _, c := range n.children {
			ns, parents = append(ns, c), append(parents, n)
			rec(c)
		}
	}
	rec(root)
	return
}

// keyFree reports whether text may join parent's children: no sibling of
// the same overwrite key (a device keeps one of them).
func keyFree(pr *platformRules, root, parent *node, text string) bool {
	top := parent == root
	k := pr.overwriteKey(parent.text, top, text)
	for _, s := range parent.children {
		if s.text == text {
			return false
		}
		if k != "" && pr.overwriteKey(parent.text, top, s.text) == k {
			return false
		}
		if s.text == "no "+text || text == "no "+s.text {
			return false
		}
	}
	return true
}

func editIndented(pr *platformRules, p netcfg.Platform, root *node, rng *rand.Rand) {
	ns, parents := allNodes(root)
	if len(ns) == 0 {
		return
	}
	i := rng.IntN(len(ns))
	n, parent := ns[i], parents[i]
	// FRR has no "default" command: a removed "no X" comes back as "X",
	// which the device does not show; such edits are left out.
	if p == netcfg.FRR && strings.HasPrefix(n.text, "no ") {
		return
	}
	if len(n.body) > 0 {
		return // banners are kept whole
	}
	switch rng.IntN(5) {
	case 0: // delete the line and its section
		parent.remove(n.text)
	case 1: // change the last word
		fs := strings.Fields(n.text)
		if len(fs) < 2 {
			return
		}
		fs[len(fs)-1] += fmt.Sprint(rng.IntN(10))
		text := strings.Join(fs, " ")
		others := &node{text: parent.text}
		for _, s := range parent.children {
			if s != n {
				others.add(s)
			}
		}
		if !keyFree(pr, root, others, text) && parent != root || parent == root && !keyFreeTop(pr, root, n, text) {
			return
		}
		idx := slices.Index(parent.children, n)
		delete(parent.index, n.text)
		n.text = text
		parent.index[text] = n
		parent.children[idx] = n
	case 2: // add a line under the same parent
		text := fmt.Sprintf("description netsmith-%d", rng.IntN(1000))
		if parent == root {
			text = fmt.Sprintf("ip host netsmith-%d 192.0.2.%d", rng.IntN(1000), rng.IntN(250))
		}
		if !keyFree(pr, root, parent, text) {
			return
		}
		parent.add(&node{text: text})
	case 3: // add a section at the top level
		text := fmt.Sprintf("interface Loopback%d", 100+rng.IntN(900))
		if root.child(text) != nil {
			return
		}
		s := &node{text: text}
		s.add(&node{text: fmt.Sprintf("ip address 198.51.100.%d 255.255.255.255", rng.IntN(250))})
		s.add(&node{text: "description added"})
		root.add(s)
	case 4: // swap two entries of a list
		if len(parent.children) < 2 {
			return
		}
		a, b := rng.IntN(len(parent.children)), rng.IntN(len(parent.children))
		parent.children[a], parent.children[b] = parent.children[b], parent.children[a]
	}
}

// keyFreeTop is keyFree for a changed top-level line: the line it
// replaces does not count.
func keyFreeTop(pr *platformRules, root, n *node, text string) bool {
	others := &node{}
	for _, s := range root.children {
		if s != n {
			others.add(s)
		}
	}
	return keyFree(pr, others, others, text)
}

func editJunos(pr *platformRules, root *jnode, rng *rand.Rand) {
	var ns, parents []*jnode
	var paths []string
	var rec func(n *jnode, path string)
	rec = func(n *jnode, path string) {
		for _, c := range n.children {
			p := strings.TrimPrefix(path+" "+c.word, " ")
			ns, parents, paths = append(ns, c), append(parents, n), append(paths, path)
			rec(c, p)
		}
	}
	rec(root, "")
	if len(ns) == 0 {
		return
	}
	i := rng.IntN(len(ns))
	n, parent, ppath := ns[i], parents[i], paths[i]
	single := ppath != "" && pr.junosOverwrites(ppath)
	switch rng.IntN(4) {
	case 0:
		parent.remove(n.word)
	case 1: // change a value
		if len(n.children) > 0 {
			return
		}
		w := n.word + fmt.Sprint(rng.IntN(10))
		if parent.child(w) != nil {
			return
		}
		parent.remove(n.word)
		parent.ensure(w)
	case 2: // add a statement
		if single {
			return
		}
		c := parent.ensure(fmt.Sprintf("netsmith-%d", rng.IntN(1000)))
		if len(c.children) == 0 && rng.IntN(2) == 0 {
			c.ensure("description")
		}
	case 3: // reorder siblings
		if len(parent.children) < 2 {
			return
		}
		a, b := rng.IntN(len(parent.children)), rng.IntN(len(parent.children))
		parent.children[a], parent.children[b] = parent.children[b], parent.children[a]
	}
}

// TestPropertyWholeCorpus runs the random-edit property over every config
// of the shared corpus (the testdata copies are a few of them), each under
// the platform lint detects for it.
func TestPropertyWholeCorpus(t *testing.T) {
	d := defaultDiffer(t)
	root := corpustest.Dir(t)
	rounds := 20
	if raceDetector {
		rounds = 6
	}
	n := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root))
		if !strings.HasSuffix(rel, ".cfg") && !(strings.HasSuffix(rel, ".conf") && strings.Contains(rel, "/configs/")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		running := string(b)
		p := lint.Detect(running)
		t.Run(rel, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, uint64(len(running))))
			for range rounds {
				checkRoundTrip(t, d, p, running, randomEdit(t, d, p, running, rng, 1+rng.IntN(6)))
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("%d configs in the corpus, want at least 50", n)
	}
}
