package frrtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDryrun proves the check can fail: FRR refuses an IOS line and names
// it, and accepts a config of its own.
func TestDryrun(t *testing.T) {
	t.Parallel()
	vtysh := Vtysh(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name, config, reject string
	}{
		{"good", "hostname r1\ninterface lo\n ip address 10.0.0.1/32\nexit\nrouter bgp 65001\n neighbor 10.1.0.0 remote-as 65000\nexit\n", ""},
		{"ios", "hostname r1\nntp server 10.0.0.11\n", "ntp server 10.0.0.11"},
		{"typo", "router bgp 65001\n neighbor 10.1.0.0 remote-ass 65000\n", "remote-ass"},
	} {
		file := filepath.Join(dir, c.name+".conf")
		if err := os.WriteFile(file, []byte(c.config), 0o644); err != nil {
			t.Fatal(err)
		}
		msg, err := Dryrun(vtysh, file)
		switch {
		case c.reject == "" && err != nil:
			t.Errorf("%s: FRR rejects a valid config (%v): %s", c.name, err, msg)
		case c.reject != "" && (err == nil || !strings.Contains(msg, c.reject)):
			t.Errorf("%s: dryrun = %v, %q; want an error naming %q", c.name, err, msg, c.reject)
		}
	}
}
