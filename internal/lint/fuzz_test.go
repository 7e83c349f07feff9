package lint

import (
	"testing"

	"netsmith/internal/netcfg"
)

// FuzzLint: no config makes a rule or check panic, and findings stay in
// line order within the config.
func FuzzLint(f *testing.F) {
	f.Add(string(netcfg.CiscoIOS), syntheticIOS(60))
	f.Add("", "set system services telnet\nset protocols bgp group G export [ P1 ]\n")
	f.Add(string(netcfg.AristaEOS), "username admin nopassword\nmanagement ssh\n   idle-timeout 0\n")
	f.Add(string(FRR), "router bgp 1\n neighbor 1.1.1.1 password x\n neighbor 1.1.1.1 route-map RM in\n")
	f.Add(string(netcfg.CiscoNXOS), "line vty\n  exec-timeout 0\nsnmp-server community public group network-admin\n")
	l, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, platform, text string) {
		p, err := ParsePlatform(platform)
		if err != nil {
			p = ""
		}
		fs := l.Lint(p, text)
		for i := 1; i < len(fs); i++ {
			if fs[i].Line < fs[i-1].Line {
				t.Fatalf("findings out of order: %v", fs)
			}
		}
	})
}
