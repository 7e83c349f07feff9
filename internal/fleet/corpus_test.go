package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"netsmith/internal/corpustest"
	"netsmith/internal/netcfg"
)

// TestCorpusInventories runs the value checks on the group_vars of public
// AVD fabrics, which are what real inventories hold (NTP servers by name,
// SVIs with {id, name} and address lists, local users): nothing is an
// error and no name draws a did-you-mean; the literal password hashes are
// the only warnings.
func TestCorpusInventories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(corpustest.Dir(t), "arista-avd", "*", "group_vars", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no AVD group_vars in the corpus")
	}
	var got []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vars map[string]any
		if err := yaml.Unmarshal(data, &vars); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, is := range netcfg.CheckVars(vars) {
			got = append(got, fmt.Sprintf("%s: %s: warn=%v: %s", filepath.Base(f), is.Field(), is.Warn, is.Msg))
		}
	}
	const literal = "literal secret; use a reference such as vault:path, env:NAME or file:path so it never leaves this machine"
	want := []string{
		"DC1.yml: local_users.0.sha512_password: warn=true: " + literal,
		"DC1_FABRIC.yml: ansible_password: warn=true: " + literal,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issues in the AVD inventories (-want +got):\n%s", diff)
	}
}
