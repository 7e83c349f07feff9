package lint

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"netsmith/internal/netcfg"
)

// BenchmarkLintCorpus detects the platform of, parses and lints every corpus
// config; one op is the whole corpus.
func BenchmarkLintCorpus(b *testing.B) {
	configs := corpusConfigs(b)
	l := defaultLinter(b)
	size := 0
	for _, c := range configs {
		size += len(c.text)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for _, c := range configs {
			l.Lint(Detect(c.text), c.text)
		}
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(len(configs)*b.N)/sec, "configs/s")
	b.ReportMetric(float64(size*b.N)/sec/1e6, "MB/s")
	b.ReportMetric(float64(len(configs)), "configs/op")
}

// BenchmarkLint2000Lines lints a synthetic 2,000-line IOS config.
func BenchmarkLint2000Lines(b *testing.B) {
	text := syntheticIOS(2000)
	l := defaultLinter(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		l.Lint(netcfg.CiscoIOS, text)
	}
}

// syntheticIOS returns an IOS config of about n lines: a management section,
// then interfaces with ACLs, ACL definitions, route-maps and prefix-lists.
func syntheticIOS(n int) string {
	var b strings.Builder
	b.WriteString("version 15.2\nservice timestamps log datetime msec\nhostname synth\n!\naaa new-model\n" +
		"enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\nip ssh version 2\n!\n")
	lines := 8
	for i := 0; lines < n-40; i++ {
		fmt.Fprintf(&b, "interface GigabitEthernet1/0/%d\n description access port %d\n switchport mode access\n switchport access vlan %d\n ip access-group ACL-%d in\n spanning-tree portfast\n!\n", i, i, 10+i%50, i%20)
		lines += 7
		if i%10 == 0 {
			fmt.Fprintf(&b, "ip access-list extended ACL-%d\n permit tcp any any eq 22\n deny ip any any log\n!\nroute-map RM-%d permit 10\n match ip address prefix-list PL-%d\n!\nip prefix-list PL-%d seq 5 permit 10.%d.0.0/16\n", i%20, i, i, i, i%256)
			lines += 8
		}
	}
	b.WriteString("snmp-server community Xq7 RO 10\naccess-list 10 permit 10.0.0.0 0.255.255.255\nlogging host 10.0.0.5\nntp server 10.0.0.1\n" +
		"banner motd ^C\nAuthorised only\n^C\nline con 0\n exec-timeout 5 0\n login\nline vty 0 4\n access-class 10 in\n transport input ssh\nend\n")
	return b.String()
}
