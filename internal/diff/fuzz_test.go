package diff

import (
	"testing"

	"netsmith/internal/netcfg"
)

// FuzzDiff feeds arbitrary pairs of configs to DiffText and Merge: no
// panic, a config against itself needs nothing, and the remediation
// applies without error.
func FuzzDiff(f *testing.F) {
	f.Add(uint8(0), "hostname a\ninterface Gi1\n ip address 10.0.0.1 255.255.255.0\n", "hostname b\ninterface Gi1\n shutdown\n")
	f.Add(uint8(4), "set system host-name a\n", "system { host-name b; }\n")
	f.Add(uint8(3), "ip access-list A\n   10 permit ip any any\n", "ip access-list A\n   20 deny ip any any\n")
	f.Add(uint8(1), "banner motd ^C\nhi\n^C\nno ip http server\n", "banner motd ^C\nbye\n^C\n")
	d, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pi uint8, running, intended string) {
		p := netcfg.Platforms[int(pi)%len(netcfg.Platforms)]
		res, err := d.DiffText(p, running, intended)
		if err != nil {
			return
		}
		same, err := d.DiffText(p, intended, intended)
		if err != nil || !same.Empty() {
			t.Fatalf("intended against itself: %v %q", err, same.Text())
		}
		rt := mustParse(t, p, running)
		if _, err := d.Merge(rt, res.Text()); err != nil {
			t.Fatalf("merge: %v\n%s", err, res.Text())
		}
	})
}
