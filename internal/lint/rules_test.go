package lint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/netcfg"
)

const (
	ios   = netcfg.CiscoIOS
	xe    = netcfg.CiscoXE
	nxos  = netcfg.CiscoNXOS
	eos   = netcfg.AristaEOS
	junos = netcfg.JuniperJunos
	frr   = FRR
)

// ruleCase is one snippet and the lines on which rule must fire (nil: it
// must not fire). Line 0 means "the config as a whole".
type ruleCase struct {
	rule     string
	platform netcfg.Platform
	config   string
	want     []int
	secret   string // must not appear in any message
	// vars and req are the lint Context; rules with when_vars or
	// when_requirements run only with one.
	vars map[string]any
	req  string
}

// Contexts of the device-context rules' cases.
var (
	tacacs = map[string]any{"tacacs_servers": []any{"192.0.2.10", map[string]any{"address": "tac2.example.net", "vrf": "MGMT"}}}
	radius = map[string]any{"radius_servers": []any{"192.0.2.20"}}
)

const edgeReq = "Access ports are edge ports (portfast), BPDU guard on."

// ruleCases has, for every built-in rule, at least one snippet that raises
// it and one that does not (TestRulesCovered enforces this).
var ruleCases = []ruleCase{
	// Secrets left as placeholders.
	{rule: "unresolved-secret", platform: eos, config: "username a secret sha512 <vault:net/admin>\nsnmp-server community <env:SNMP_RO> ro\n", want: []int{1, 2}},
	{rule: "unresolved-secret", platform: junos, config: "system {\n  root-authentication {\n    encrypted-password \"<secret:enable_secret>\";\n  }\n}\n", want: []int{3}},
	{rule: "unresolved-secret", platform: eos, config: "username a secret sha512 $6$salt$hash\nbanner motd\nuse <your-name> to log in\nEOF\n"},
	// AAA.
	{rule: "ios-aaa-new-model", platform: ios, config: "hostname r1\n", want: []int{0}},
	{rule: "ios-aaa-new-model", platform: ios, config: "no aaa new-model\n", want: []int{1}},
	{rule: "ios-aaa-new-model", platform: ios, config: "aaa new-model\nno aaa new-model\n", want: []int{2}},
	{rule: "ios-aaa-new-model", platform: ios, config: "no aaa new-model\nhostname r1\naaa new-model\n"},
	{rule: "ios-aaa-new-model", platform: ios, config: "banner motd ^C\naaa new-model\n^C\n", want: []int{0}},
	{rule: "ios-aaa-new-model", platform: xe, config: "aaa new-model\n"},
	{rule: "ios-aaa-authentication-login", platform: ios, config: "aaa new-model\n", want: []int{0}},
	{rule: "ios-aaa-authentication-login", platform: ios, config: "aaa new-model\naaa authentication login default group tacacs+ local\n"},
	{rule: "ios-aaa-authentication-login", platform: ios, config: "hostname r1\n"},

	// SSH version 2.
	{rule: "ios-ssh-version-2", platform: ios, config: "ip ssh version 1\n", want: []int{1}},
	{rule: "ios-ssh-version-2", platform: ios, config: "hostname r1\n", want: []int{0}},
	{rule: "ios-ssh-version-2", platform: xe, config: "ip ssh version 2\n"},
	{rule: "junos-ssh-v1", platform: junos, config: "set system services ssh protocol-version [ v1 v2 ]\n", want: []int{1}},
	{rule: "junos-ssh-v1", platform: junos, config: "set system services ssh protocol-version v2\n"},
	{rule: "junos-ssh-v2", platform: junos, config: "set system services ssh root-login deny\n", want: []int{0}},
	{rule: "junos-ssh-v2", platform: junos, config: "set system services ssh protocol-version v2\n"},
	{rule: "junos-ssh-v2", platform: junos, config: "set system host-name r1\n"},
	{rule: "junos-ssh-v2", platform: junos, config: "system {\n    services {\n        ssh {\n            protocol-version v2;\n        }\n    }\n}\n"},

	// VTY lines SSH only, no telnet.
	{rule: "ios-vty-transport-ssh", platform: ios, config: "line vty 0 4\n transport input telnet ssh\nline vty 5 15\n transport input ssh\n", want: []int{2}},
	{rule: "ios-vty-transport-ssh", platform: ios, config: "line vty 0 4\n transport input ssh\n transport input telnet\n", want: []int{3}},
	{rule: "ios-vty-transport-ssh", platform: ios, config: "line vty 0 4\n login local\n", want: []int{1}},
	{rule: "ios-vty-transport-ssh", platform: ios, config: "line vty 0 4\n transport input all\n", want: []int{2}},
	{rule: "ios-vty-transport-ssh", platform: ios, config: "line vty 0 4\n login local\n transport input ssh\n!\nline vty 5 15\n transport input none\n"},
	{rule: "ios-vty-transport-ssh", platform: xe, config: "hostname r1\n"},
	{rule: "ios-vty-access-class", platform: ios, config: "line vty 0 4\n transport input ssh\n", want: []int{1}},
	{rule: "ios-vty-access-class", platform: ios, config: "line vty 0 4\n access-class MGMT in vrf-also\n"},
	{rule: "ios-line-no-login", platform: ios, config: "line vty 0 4\n no login\n", want: []int{2}},
	{rule: "ios-line-no-login", platform: ios, config: "line vty 0 4\n login local\n"},
	{rule: "nxos-feature-telnet", platform: nxos, config: "feature telnet\n", want: []int{1}},
	{rule: "nxos-feature-telnet", platform: nxos, config: "no feature telnet\nfeature ssh\n"},
	{rule: "nxos-ssh-disabled", platform: nxos, config: "no feature ssh\n", want: []int{1}},
	{rule: "nxos-ssh-disabled", platform: nxos, config: "feature ssh\n"},
	{rule: "nxos-vty-access-class", platform: nxos, config: "line vty\n  exec-timeout 10\n", want: []int{1}},
	{rule: "nxos-vty-access-class", platform: nxos, config: "line vty\n  access-class MGMT in\n"},
	{rule: "eos-telnet", platform: eos, config: "management telnet\n   no shutdown\n", want: []int{2}},
	{rule: "eos-telnet", platform: eos, config: "management telnet\n   shutdown\n!\nmanagement ssh\n   no shutdown\n"},
	{rule: "junos-telnet", platform: junos, config: "set system services telnet\n", want: []int{1}},
	{rule: "junos-telnet", platform: junos, config: "system {\n    services {\n        telnet;\n    }\n}\n", want: []int{3}},
	{rule: "junos-telnet", platform: junos, config: "system {\n    services {\n        inactive: telnet;\n        ssh;\n    }\n}\n"},
	{rule: "junos-telnet", platform: junos, config: "set system services telnet\ndelete system services telnet\n"},

	// AUX closed.
	{rule: "ios-aux-closed", platform: ios, config: "line aux 0\n exec-timeout 5 0\n", want: []int{1}},
	{rule: "ios-aux-closed", platform: ios, config: "line aux 0\n no exec\n"},
	{rule: "ios-aux-closed", platform: xe, config: "line aux 0\n transport input none\n"},

	// exec-timeout set and not 0 0.
	{rule: "ios-exec-timeout-disabled", platform: ios, config: "line con 0\n exec-timeout 0 0\nline vty 0 4\n exec-timeout 0\n", want: []int{2, 4}},
	{rule: "ios-exec-timeout-disabled", platform: ios, config: "line vty 0 4\n no exec-timeout\n", want: []int{2}},
	{rule: "ios-exec-timeout-disabled", platform: ios, config: "line con 0\n exec-timeout 5 0\nline vty 0 4\n exec-timeout 0 30\n"},
	{rule: "ios-exec-timeout-disabled", platform: ios, config: "interface X\n exec-timeout 0 0\n"},
	{rule: "ios-exec-timeout-disabled", platform: ios, config: "line con 0\n exec-timeout 0 0\n exec-timeout 5 0\n"},
	{rule: "ios-exec-timeout-default", platform: ios, config: "line con 0\n login\n", want: []int{1}},
	{rule: "ios-exec-timeout-default", platform: ios, config: "line con 0\n exec-timeout 10 0\n"},
	{rule: "nxos-vty-exec-timeout", platform: nxos, config: "line vty\n  session-limit 5\n", want: []int{1}},
	{rule: "nxos-vty-exec-timeout", platform: nxos, config: "hostname n1\n", want: []int{0}},
	{rule: "nxos-vty-exec-timeout", platform: nxos, config: "line vty\n  exec-timeout 10\n"},
	{rule: "nxos-console-exec-timeout", platform: nxos, config: "line console\n  exec-timeout 0\n", want: []int{2}},
	{rule: "nxos-console-exec-timeout", platform: nxos, config: "line console\n  exec-timeout 5\n"},
	{rule: "eos-ssh-idle-timeout", platform: eos, config: "management ssh\n   idle-timeout 0\n", want: []int{2}},
	{rule: "eos-ssh-idle-timeout", platform: eos, config: "management ssh\n   no shutdown\n", want: []int{1}},
	{rule: "eos-ssh-idle-timeout", platform: eos, config: "hostname e1\n", want: []int{0}},
	{rule: "eos-ssh-idle-timeout", platform: eos, config: "management ssh\n   idle-timeout 15\n"},
	{rule: "eos-console-idle-timeout", platform: eos, config: "hostname e1\n", want: []int{0}},
	{rule: "eos-console-idle-timeout", platform: eos, config: "management console\n   idle-timeout 10\n"},

	// Console authentication.
	{rule: "ios-console-login", platform: ios, config: "line con 0\n exec-timeout 5 0\n", want: []int{1}},
	{rule: "ios-console-login", platform: ios, config: "line con 0\n login local\n"},
	{rule: "ios-console-login", platform: ios, config: "aaa new-model\naaa authentication login default group tacacs+ local\nline con 0\n exec-timeout 5 0\n"},

	// enable secret, not enable password.
	{rule: "ios-enable-secret", platform: ios, config: "enable password 7 0822455D0A16\n", want: []int{0}},
	{rule: "ios-enable-secret", platform: ios, config: "enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\n"},
	{rule: "ios-enable-password", platform: ios, config: "enable password cisco\n", want: []int{1}},
	{rule: "ios-enable-password", platform: ios, config: "enable secret 9 $9$abc\nno enable password\n"},

	// Password encryption; no type 0 / type 7 secrets; cleartext secrets.
	{rule: "ios-service-password-encryption", platform: ios, config: "hostname r1\n", want: []int{0}},
	{rule: "ios-service-password-encryption", platform: ios, config: "service password-encryption\n"},
	{rule: "cleartext-secret", platform: ios, config: "username admin privilege 15 password 0 Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "enable secret Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "crypto isakmp key Sup3rS3cret address 192.0.2.1\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "line vty 0 4\n password Sup3rS3cret\n", want: []int{2}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "tacacs server T1\n address ipv4 192.0.2.9\n key Sup3rS3cret\n", want: []int{3}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "ntp authentication-key 1 md5 Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "router bgp 65000\n neighbor 192.0.2.1 password Sup3rS3cret\n", want: []int{2}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: xe, config: "crypto keyring K\n  pre-shared-key address 192.0.2.1 key Sup3rS3cret\n", want: []int{2}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "interface G1\n standby 1 authentication md5 key-string Sup3rS3cret\n ip ospf message-digest-key 1 md5 Sup3rS3cret\n", want: []int{2, 3}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "snmp-server user u1 G1 v3 auth sha Sup3rS3cret priv aes 128 Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: ios, config: "username admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.Hs\n" +
		"enable secret 8 $8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs\n" +
		"ntp authentication-key 1 md5 0822455D0A16 7\n" +
		"key chain K\n key 1\n  key-string 7 0822455D0A16\n" +
		"password encryption aes\n" +
		"tacacs server T1\n key 6 AbCdEf\n" +
		"interface G1\n standby 1 authentication md5 key-chain K\n" +
		"username ops secret {{.ops_secret}}\n" +
		"snmp-server community Sup3rS3cret RO 10\n"},
	{rule: "cleartext-secret", platform: eos, config: "username admin secret 0 Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: eos, config: "username admin privilege 15 role network-admin secret sha512 $6$eucN5ngreuExDgwS$xnD7T8jO\nno enable password\nno aaa root\n"},
	{rule: "cleartext-secret", platform: nxos, config: "username admin password Sup3rS3cret role network-admin\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: nxos, config: "username admin password 5 $5$KLHMBE$Oa2 role network-admin\npassword strength-check\n" +
		"snmp-server user admin network-admin auth md5 0x1234 priv 0x5678 localizedkey\n"},
	{rule: "cleartext-secret", platform: frr, config: "router bgp 1\n neighbor 192.0.2.1 password Sup3rS3cret\n", want: []int{2}, secret: "Sup3rS3cret"},
	{rule: "cleartext-secret", platform: frr, config: "router bgp 1\n neighbor 192.0.2.1 remote-as 2\n"},
	{rule: "reversible-secret", platform: ios, config: "username a password 7 0822455D0A16\n", want: []int{1}, secret: "0822455D0A16"},
	{rule: "reversible-secret", platform: nxos, config: "tacacs-server key 7 \"fewhg123\"\n", want: []int{1}, secret: "fewhg123"},
	{rule: "reversible-secret", platform: ios, config: "username a secret 9 $9$abc\nusername b password 0 x\n"},
	// EOS has no other form for BGP neighbor keys: type 7 there is no
	// finding, in the default VRF or another one; elsewhere it is.
	{rule: "eos-reversible-secret", platform: eos, config: "router bgp 1\n   neighbor 192.0.2.1 password 7 AbCdEf==\n   neighbor PG password 7 AbCdEf==\n"},
	{rule: "eos-reversible-secret", platform: eos, config: "router bgp 1\n   vrf RED\n      neighbor 192.0.2.1 password 7 AbCdEf==\n"},
	{rule: "eos-reversible-secret", platform: eos, config: "router bgp 1\n   neighbor 192.0.2.1 password 7 AbCdEf==\n" +
		"interface Ethernet1\n   ip ospf authentication-key 7 AbCdEf==\ntacacs-server host 192.0.2.9 key 7 0822455D0A16\n", want: []int{4, 5}, secret: "AbCdEf=="},
	{rule: "eos-reversible-secret", platform: eos, config: "router ospf 1\n   neighbor 192.0.2.1 password 7 AbCdEf==\n", want: []int{2}},
	{rule: "reversible-secret", platform: ios, config: "router bgp 1\n neighbor 192.0.2.1 password 7 0822455D0A16\n", want: []int{2}},
	{rule: "eos-reversible-secret", platform: eos, config: "router bgp 1\n   neighbor 192.0.2.1 password 8a AbCdEf==\n"},
	{rule: "junos-cleartext-secret", platform: junos, config: "set protocols bgp group G authentication-key Sup3rS3cret\n", want: []int{1}, secret: "Sup3rS3cret"},
	{rule: "junos-cleartext-secret", platform: junos, config: "set protocols bgp group G authentication-key \"$9$abcdef\"\nset system root-authentication encrypted-password \"$6$xyz\"\n"},
	{rule: "junos-reversible-secret", platform: junos, config: "protocols {\n    bgp {\n        group G {\n            authentication-key \"$9$abcdef\"; ## SECRET-DATA\n        }\n    }\n}\n", want: []int{4}, secret: "abcdef"},
	{rule: "junos-reversible-secret", platform: junos, config: "set system root-authentication encrypted-password \"$6$xyz\"\n"},

	// SNMP.
	{rule: "snmp-default-community", platform: ios, config: "snmp-server community public RO\n", want: []int{1}},
	{rule: "snmp-default-community", platform: ios, config: "snmp-server community Private RW 10\n", want: []int{1}},
	{rule: "snmp-default-community", platform: nxos, config: "snmp-server community public group network-operator\n", want: []int{1}},
	{rule: "snmp-default-community", platform: eos, config: "snmp-server community private ro\n", want: []int{1}},
	{rule: "snmp-default-community", platform: ios, config: "snmp-server community publicity RO 10\nsnmp-server location public lobby\n"},
	{rule: "snmp-rw-community", platform: ios, config: "snmp-server community c0mm RW 10\n", want: []int{1}},
	{rule: "snmp-rw-community", platform: nxos, config: "snmp-server community c0mm group network-admin\n", want: []int{1}},
	{rule: "snmp-rw-community", platform: eos, config: "snmp-server community c0mm view all rw\n", want: []int{1}},
	{rule: "snmp-rw-community", platform: ios, config: "snmp-server community c0mm RO 10\n"},
	{rule: "snmp-community-acl", platform: ios, config: "snmp-server community c0mm RO\n", want: []int{1}},
	{rule: "snmp-community-acl", platform: ios, config: "snmp-server community c0mm RO 10\n"},
	{rule: "junos-snmp-default-community", platform: junos, config: "set snmp community public authorization read-only\n", want: []int{1}},
	{rule: "junos-snmp-default-community", platform: junos, config: "set snmp community Xy7 authorization read-only\n"},
	{rule: "junos-snmp-rw-community", platform: junos, config: "set snmp community Xy7 authorization read-write\n", want: []int{1}},
	{rule: "junos-snmp-rw-community", platform: junos, config: "set snmp community Xy7 authorization read-only\n"},

	// HTTP server off.
	{rule: "ios-http-server", platform: ios, config: "ip http server\n", want: []int{1}},
	{rule: "ios-http-server", platform: ios, config: "no ip http server\nip http secure-server\n"},
	{rule: "ios-http-server", platform: ios, config: "ip http server\nno ip http server\n"},
	{rule: "ios-https-server-unrestricted", platform: ios, config: "ip http secure-server\n", want: []int{1}},
	{rule: "ios-https-server-unrestricted", platform: ios, config: "ip http secure-server\nip http access-class ipv4 MGMT\n"},
	{rule: "nxos-nxapi-http", platform: nxos, config: "feature nxapi\nnxapi http port 80\n", want: []int{2}},
	{rule: "nxos-nxapi-http", platform: nxos, config: "feature nxapi\nnxapi https port 443\n"},
	{rule: "eos-eapi-http", platform: eos, config: "management api http-commands\n   protocol http\n   no shutdown\n", want: []int{2}},
	{rule: "eos-eapi-http", platform: eos, config: "management api http-commands\n   protocol https\n   protocol http localhost\n   no shutdown\n"},
	{rule: "junos-web-http", platform: junos, config: "set system services web-management http interface fxp0.0\n", want: []int{1}},
	{rule: "junos-web-http", platform: junos, config: "set system services web-management https system-generated-certificate\n"},

	// Login banner.
	{rule: "ios-login-banner", platform: ios, config: "hostname r1\n", want: []int{0}},
	{rule: "ios-login-banner", platform: ios, config: "banner login ^C\nAuthorised access only\n^C\n"},
	{rule: "ios-login-banner", platform: xe, config: "banner motd #Keep out#\n"},
	{rule: "nxos-login-banner", platform: nxos, config: "hostname n1\n", want: []int{0}},
	{rule: "nxos-login-banner", platform: nxos, config: "banner motd #Authorised only#\n"},
	{rule: "eos-login-banner", platform: eos, config: "hostname e1\n", want: []int{0}},
	{rule: "eos-login-banner", platform: eos, config: "banner login\nAuthorised only\nEOF\n"},
	{rule: "junos-login-banner", platform: junos, config: "set system host-name j1\n", want: []int{0}},
	{rule: "junos-login-banner", platform: junos, config: "set system login message \"Authorised only\"\n"},

	// NTP.
	{rule: "ios-ntp", platform: ios, config: "ntp source Loopback0\n", want: []int{0}},
	{rule: "ios-ntp", platform: ios, config: "ntp server 192.0.2.1 prefer\n"},
	{rule: "nxos-ntp", platform: nxos, config: "hostname n1\n", want: []int{0}},
	{rule: "nxos-ntp", platform: nxos, config: "ntp server 192.0.2.1 use-vrf management\n"},
	{rule: "eos-ntp", platform: eos, config: "hostname e1\n", want: []int{0}},
	{rule: "eos-ntp", platform: eos, config: "ntp server vrf MGMT 192.0.2.1\n"},
	{rule: "junos-ntp", platform: junos, config: "set system host-name j1\n", want: []int{0}},
	{rule: "junos-ntp", platform: junos, config: "set system ntp server 192.0.2.1\n"},

	// Remote logging and timestamps.
	{rule: "ios-logging-host", platform: ios, config: "logging buffered 64000\n", want: []int{0}},
	{rule: "ios-logging-host", platform: ios, config: "logging host 192.0.2.5\n"},
	{rule: "ios-logging-host", platform: ios, config: "logging 192.0.2.5\n"},
	{rule: "ios-log-timestamps", platform: ios, config: "service timestamps debug datetime msec\n", want: []int{0}},
	{rule: "ios-log-timestamps", platform: ios, config: "service timestamps log datetime msec localtime\n"},
	{rule: "nxos-logging-server", platform: nxos, config: "logging logfile messages 6\n", want: []int{0}},
	{rule: "nxos-logging-server", platform: nxos, config: "logging server 192.0.2.5 6 use-vrf management\n"},
	{rule: "eos-logging-host", platform: eos, config: "logging buffered 1000\n", want: []int{0}},
	{rule: "eos-logging-host", platform: eos, config: "logging vrf MGMT host 192.0.2.9\n"},
	{rule: "eos-logging-host", platform: eos, config: "logging host 192.0.2.9\n"},
	{rule: "junos-syslog-host", platform: junos, config: "set system syslog file messages any notice\n", want: []int{0}},
	{rule: "junos-syslog-host", platform: junos, config: "set system syslog host 192.0.2.9 any notice\n"},

	// Unused services.
	{rule: "ios-unused-service", platform: ios, config: "service tcp-small-servers\nip finger\nip bootp server\n", want: []int{1, 2, 3}},
	{rule: "ios-unused-service", platform: ios, config: "no service pad\nno ip bootp server\nno ip finger\nservice password-encryption\n"},
	{rule: "junos-unused-service", platform: junos, config: "set system services ftp\nset system services finger\n", want: []int{1, 2}},
	{rule: "junos-unused-service", platform: junos, config: "set system services netconf ssh\nset system services ssh\n"},
	{rule: "junos-ssh-root-login", platform: junos, config: "set system services ssh root-login allow\n", want: []int{1}},
	{rule: "junos-ssh-root-login", platform: junos, config: "set system services ssh root-login deny\n"},
	{rule: "nxos-password-strength", platform: nxos, config: "no password strength-check\n", want: []int{1}},
	{rule: "nxos-password-strength", platform: nxos, config: "password strength-check\n"},

	// EOS accounts.
	{rule: "eos-nopassword", platform: eos, config: "username admin privilege 15 role network-admin nopassword\n", want: []int{1}},
	{rule: "eos-nopassword", platform: eos, config: "aaa root nopassword\n", want: []int{1}},
	{rule: "eos-nopassword", platform: eos, config: "username admin privilege 15 role network-admin secret sha512 $6$x\nno aaa root\n"},
	{rule: "eos-aaa-root", platform: eos, config: "aaa root secret sha512 $6$x\n", want: []int{1}},
	{rule: "eos-aaa-root", platform: eos, config: "no aaa root\n"},
	{rule: "junos-root-authentication", platform: junos, config: "set system host-name j1\n", want: []int{0}},
	{rule: "junos-root-authentication", platform: junos, config: "system {\n    root-authentication {\n        encrypted-password \"$6$x\";\n    }\n}\n"},

	// References.
	{rule: "undefined-acl", platform: ios, config: "interface G1\n ip access-group IN in\nline vty 0 4\n access-class 10 in\n", want: []int{2, 4}},
	{rule: "undefined-acl", platform: ios, config: "ip access-list extended IN\n permit ip any any\naccess-list 10 permit 10.0.0.0 0.0.0.255\n" +
		"interface G1\n ip access-group IN in\nline vty 0 4\n access-class 10 in\n"},
	{rule: "undefined-acl", platform: ios, config: "ip prefix-list P seq 5 permit 0.0.0.0/0\nroute-map R permit 10\n match ip address prefix-list P\n"},
	{rule: "undefined-acl", platform: ios, config: "route-map R permit 10\n match ip address 101 102\naccess-list 101 permit ip any any\n", want: []int{2}},
	{rule: "undefined-acl", platform: eos, config: "interface Ethernet1\n   ip access-group X in\n", want: []int{2}},
	{rule: "undefined-acl", platform: nxos, config: "ip access-list X\n  10 permit ip any any\ninterface Ethernet1/1\n  ip access-group X in\n"},
	{rule: "undefined-acl", platform: ios, config: "class-map type inspect match-all C\n match access-group name MISSING\n", want: []int{2}},
	{rule: "unused-acl", platform: ios, config: "ip access-list extended X\n permit ip any any\n", want: []int{1}},
	{rule: "unused-acl", platform: ios, config: "ip access-list standard X\n permit any\nsnmp-server community c0mm RO X\n"},
	{rule: "unused-acl", platform: ios, config: "ip access-list standard X\n permit any\nip ssh source-acl X\n"}, // a use no pattern knows
	{rule: "unused-acl", platform: xe, config: "ip access-list extended meraki-fqdn-dns\nip access-list extended IP-Adm-V4-Int-ACL-global\n permit tcp any any eq www\n"},
	{rule: "undefined-route-map", platform: ios, config: "router bgp 1\n neighbor 192.0.2.1 route-map RM in\n", want: []int{2}},
	{rule: "undefined-route-map", platform: ios, config: "route-map RM permit 10\nrouter bgp 1\n neighbor 192.0.2.1 route-map RM in\n"},
	{rule: "undefined-route-map", platform: nxos, config: "router bgp 1\n  neighbor 192.0.2.1\n    address-family ipv4 unicast\n      route-map RM in\n", want: []int{4}},
	{rule: "undefined-route-map", platform: frr, config: "router ospf\n redistribute connected route-map RM\n", want: []int{2}},
	{rule: "undefined-route-map", platform: frr, config: "route-map RM permit 10\nrouter ospf\n redistribute connected route-map RM\n"},
	{rule: "unused-route-map", platform: ios, config: "route-map RM permit 10\n set metric 5\n", want: []int{1}},
	{rule: "unused-route-map", platform: eos, config: "route-map RM permit 10\nrouter bgp 1\n   neighbor 192.0.2.1 route-map RM out\n"},
	{rule: "undefined-prefix-list", platform: ios, config: "route-map R permit 10\n match ip address prefix-list P1 P2\nip prefix-list P1 seq 5 permit 0.0.0.0/0\n", want: []int{2}},
	{rule: "undefined-prefix-list", platform: eos, config: "ip prefix-list P1\n   seq 10 permit 10.0.0.0/8\nrouter bgp 1\n   neighbor 192.0.2.1 prefix-list P1 in\n"},
	{rule: "unused-prefix-list", platform: ios, config: "ip prefix-list P seq 5 permit 0.0.0.0/0\n", want: []int{1}},
	{rule: "unused-prefix-list", platform: ios, config: "ip prefix-list P seq 5 permit 0.0.0.0/0\nrouter bgp 1\n neighbor 192.0.2.1 prefix-list P in\n"},
	{rule: "junos-undefined-policy", platform: junos, config: "set protocols bgp group G export [ P1 P2 ]\nset policy-options policy-statement P1 then accept\n", want: []int{1}},
	{rule: "junos-undefined-policy", platform: junos, config: "set protocols bgp group G import P1\nset policy-options policy-statement P1 then accept\n"},
	{rule: "junos-unused-policy", platform: junos, config: "set policy-options policy-statement P1 then accept\n", want: []int{1}},
	{rule: "junos-unused-policy", platform: junos, config: "set routing-options forwarding-table export P1\nset policy-options policy-statement P1 then accept\n"},
	{rule: "junos-undefined-prefix-list", platform: junos, config: "set policy-options policy-statement P term t from prefix-list PL\n", want: []int{1}},
	{rule: "junos-undefined-prefix-list", platform: junos, config: "set policy-options prefix-list PL 10.0.0.0/8\nset firewall family inet filter F term t from source-prefix-list PL\n"},
	{rule: "junos-unused-prefix-list", platform: junos, config: "set policy-options prefix-list PL 10.0.0.0/8\n", want: []int{1}},
	{rule: "junos-unused-prefix-list", platform: junos, config: "set policy-options prefix-list PL 10.0.0.0/8\nset policy-options policy-statement P term t from prefix-list PL\n"},

	// eBGP sessions need an inbound and an outbound policy.
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor 192.0.2.2 remote-as 65001\n neighbor 192.0.2.6 remote-as 65000\n", want: []int{2}},
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor 192.0.2.2 remote-as 65001\n neighbor 192.0.2.2 route-map IN in\n", want: []int{2}},
	{rule: "bgp-ebgp-policy", platform: xe, config: "router bgp 65000\n neighbor 192.0.2.2 remote-as 65001\n address-family ipv4\n  neighbor 192.0.2.2 prefix-list IN in\n  neighbor 192.0.2.2 filter-list 1 out\n"},
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor 192.0.2.2 remote-as 65001\n neighbor 192.0.2.2 local-as 65001\n neighbor 192.0.2.6 remote-as 65002\n neighbor 192.0.2.6 shutdown\n"},
	// Policies and remote-as from a peer group, in any address family.
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor PG peer-group\n neighbor PG remote-as 65001\n neighbor 192.0.2.2 peer-group PG\n" +
		" address-family ipv4\n  neighbor PG route-map IN in\n  neighbor PG route-map OUT out\n"},
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor PG peer-group\n neighbor PG remote-as 65001\n neighbor 192.0.2.2 peer-group PG\n neighbor PG route-map IN in\n", want: []int{4}},
	// A VRF's neighbor is not the default VRF's neighbor with the same address.
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n neighbor 192.0.2.2 remote-as 65001\n address-family ipv4 vrf RED\n" +
		"  neighbor 192.0.2.2 remote-as 65001\n  neighbor 192.0.2.2 route-map IN in\n  neighbor 192.0.2.2 route-map OUT out\n", want: []int{2}},
	{rule: "bgp-ebgp-policy", platform: ios, config: "router bgp 65000\n template peer-session S\n  remote-as 65001\n template peer-policy P\n  route-map IN in\n  route-map OUT out\n" +
		" neighbor 192.0.2.2 inherit peer-session S\n address-family ipv4\n  neighbor 192.0.2.2 inherit peer-policy P 10\n"},
	{rule: "bgp-ebgp-policy", platform: eos, config: "router bgp 65101\n   neighbor SPINES peer group\n   neighbor SPINES remote-as 65000\n   neighbor 10.0.0.0 peer group SPINES\n" +
		"   neighbor 10.0.0.2 peer group SPINES\n   neighbor 10.0.0.2 route-map IN in\n   neighbor 10.0.0.2 route-map OUT out\n   vrf RED\n      neighbor 10.1.1.1 remote-as 65200\n", want: []int{4, 9}},
	{rule: "bgp-ebgp-policy", platform: eos, config: "router bgp 1.10\n   neighbor 10.0.0.0 remote-as 65546\n   neighbor interface Ethernet1 peer-group P remote-as 65001\n   neighbor P peer group\n   neighbor P route-map IN in\n   neighbor P route-map OUT out\n"},
	{rule: "bgp-ebgp-policy", platform: nxos, config: "router bgp 65000\n  neighbor 192.0.2.2\n    remote-as 65001\n    address-family ipv4 unicast\n      route-map IN in\n" +
		"  neighbor 192.0.2.6 remote-as 65002\n", want: []int{3, 6}},
	{rule: "bgp-ebgp-policy", platform: nxos, config: "router bgp 65000\n  template peer SPINE\n    remote-as 65001\n    address-family ipv4 unicast\n      route-map IN in\n      route-map OUT out\n" +
		"  neighbor 192.0.2.2\n    inherit peer SPINE\n  vrf RED\n    neighbor 192.0.2.6\n      inherit peer SPINE\n"},
	{rule: "bgp-ebgp-policy", platform: frr, config: "router bgp 65000\n neighbor fabric peer-group\n neighbor fabric remote-as external\n neighbor swp1 interface peer-group fabric\n", want: []int{4}},
	{rule: "bgp-ebgp-policy", platform: frr, config: "router bgp 65000\n neighbor fabric peer-group\n neighbor fabric remote-as internal\n neighbor swp1 interface peer-group fabric\n"},
	{rule: "junos-ebgp-policy", platform: junos, config: "set routing-options autonomous-system 65000\nset protocols bgp group T type external\nset protocols bgp group T peer-as 65001\n" +
		"set protocols bgp group T neighbor 192.0.2.2\nset protocols bgp group T neighbor 192.0.2.6 import IN\nset protocols bgp group U peer-as 65002\nset protocols bgp group U neighbor 192.0.2.10\n", want: []int{4, 5, 7}},
	{rule: "junos-ebgp-policy", platform: junos, config: "set routing-options autonomous-system 65000\nset protocols bgp export OUT\nset protocols bgp group T type external\n" +
		"set protocols bgp group T peer-as 65001\nset protocols bgp group T import IN\nset protocols bgp group T neighbor 192.0.2.2\nset protocols bgp group I type internal\nset protocols bgp group I neighbor 10.0.0.1\n" +
		"set routing-instances R routing-options autonomous-system 65010\nset routing-instances R protocols bgp group G peer-as 65010\nset routing-instances R protocols bgp group G neighbor 10.0.0.2\n"},
	{rule: "junos-ebgp-policy", platform: junos, config: "routing-options {\n    autonomous-system 65000;\n}\nprotocols {\n    bgp {\n        group T {\n            type external;\n" +
		"            neighbor 192.0.2.2 {\n                peer-as 65001;\n                import IN;\n            }\n        }\n    }\n}\n", want: []int{9}}, // the neighbor's first statement

	// Device context: AAA servers where the vars list them.
	{rule: "aaa-tacacs-server", platform: ios, config: "aaa new-model\naaa authentication login default group tacacs+ local\n", vars: tacacs, want: []int{0}},
	{rule: "aaa-tacacs-server", platform: ios, config: "aaa new-model\n"}, // no context: the rule does not run
	{rule: "aaa-tacacs-server", platform: ios, config: "aaa new-model\n", vars: radius},
	{rule: "aaa-tacacs-server", platform: xe, config: "tacacs server T1\n address ipv4 192.0.2.10\n", vars: tacacs},
	{rule: "aaa-tacacs-server", platform: eos, config: "tacacs-server host 192.0.2.10 vrf MGMT key 7 070C285F4D06\n", vars: tacacs},
	{rule: "aaa-tacacs-server", platform: nxos, config: "feature tacacs+\n", vars: tacacs, want: []int{0}},
	{rule: "aaa-tacacs-server", platform: nxos, config: "feature tacacs+\n", vars: map[string]any{"tacacs_servers": []any{}}},
	{rule: "aaa-radius-server", platform: ios, config: "hostname r1\n", vars: radius, want: []int{0}},
	{rule: "aaa-radius-server", platform: nxos, config: "radius-server host 192.0.2.20 key 7 \"x\"\n", vars: radius},
	{rule: "junos-aaa-tacacs-server", platform: junos, config: "set system host-name j1\n", vars: tacacs, want: []int{0}},
	{rule: "junos-aaa-tacacs-server", platform: junos, config: "set system tacplus-server 192.0.2.10 secret \"$9$abc\"\n", vars: tacacs},
	{rule: "junos-aaa-radius-server", platform: junos, config: "set system host-name j1\n", vars: radius, want: []int{0}},
	{rule: "junos-aaa-radius-server", platform: junos, config: "set system radius-server 192.0.2.20 secret \"$9$abc\"\n", vars: radius},

	// Device context: access ports are edge ports where the requirements say so.
	{rule: "ios-access-port-portfast", platform: ios, config: "interface Gi1/0/1\n switchport mode access\n switchport access vlan 10\ninterface Gi1/0/2\n switchport mode access\n spanning-tree portfast\n" +
		"interface Gi1/0/48\n switchport mode trunk\n", req: edgeReq, want: []int{1}},
	{rule: "ios-access-port-portfast", platform: ios, config: "interface Gi1/0/1\n switchport mode access\n", req: "VLANs 10 and 20, SSH only"},
	{rule: "ios-access-port-portfast", platform: xe, config: "spanning-tree portfast default\ninterface Gi1/0/1\n switchport mode access\n", req: edgeReq},
	{rule: "eos-access-port-portfast", platform: eos, config: "interface Ethernet1\n   switchport mode access\ninterface Ethernet2\n   switchport mode access\n   spanning-tree portfast\n", req: edgeReq, want: []int{1}},
	{rule: "eos-access-port-portfast", platform: eos, config: "interface Ethernet1\n   switchport mode access\n   spanning-tree portfast\n", req: edgeReq},
	{rule: "nxos-access-port-edge", platform: nxos, config: "interface Ethernet1/1\n  switchport mode access\n  spanning-tree port type edge\ninterface Ethernet1/2\n  switchport mode access\n", req: "edge ports on every access port", want: []int{4}},
	{rule: "nxos-access-port-edge", platform: nxos, config: "spanning-tree port type edge default\ninterface Ethernet1/2\n  switchport mode access\n", req: edgeReq},
	{rule: "junos-access-port-edge", platform: junos, config: "set interfaces ge-0/0/1 unit 0 family ethernet-switching interface-mode access\n" +
		"set interfaces ge-0/0/2 unit 0 family ethernet-switching interface-mode access\nset interfaces ge-0/0/2 description host\nset protocols rstp interface ge-0/0/1 edge\n", req: edgeReq, want: []int{2}},
	{rule: "junos-access-port-edge", platform: junos, config: "set interfaces ge-0/0/1 unit 0 family ethernet-switching interface-mode access\nset protocols rstp interface all edge\n", req: edgeReq},
	{rule: "junos-access-port-edge", platform: junos, config: "set interfaces ge-0/0/1 unit 0 family ethernet-switching interface-mode access\n"},

	// Parse problems.
	{rule: "config-parse", platform: ios, config: "banner motd ^C\nhello\n", want: []int{1}},
	{rule: "config-parse", platform: ios, config: "banner motd ^C\nhello\n^C\n"},
	{rule: "config-parse", platform: junos, config: "system {\n    host-name j1;\n", want: []int{1}},
	{rule: "config-parse", platform: junos, config: "system {\n    host-name j1;\n}\n"},
}

func TestRules(t *testing.T) {
	t.Parallel()
	l := defaultLinter(t)
	for _, tc := range ruleCases {
		t.Run(tc.rule+"/"+string(tc.platform), func(t *testing.T) {
			t.Parallel()
			fs := l.LintContext(tc.platform, tc.config, Context{Vars: tc.vars, Requirements: tc.req})
			if diff := cmp.Diff(tc.want, findingLines(fs, tc.rule)); diff != "" {
				t.Errorf("lines of %s findings (-want +got):\n%s\nconfig:\n%s\nfindings:\n%s", tc.rule, diff, tc.config, formatFindings(fs))
			}
			for _, f := range fs {
				if tc.secret != "" && strings.Contains(f.Message, tc.secret) {
					t.Errorf("finding %q quotes the secret", f)
				}
			}
		})
	}
}

// TestRulesCovered makes sure every built-in rule has a positive and a
// negative case in ruleCases.
func TestRulesCovered(t *testing.T) {
	t.Parallel()
	pos, neg := map[string]bool{}, map[string]bool{}
	for _, tc := range ruleCases {
		if len(tc.want) > 0 {
			pos[tc.rule] = true
		} else {
			neg[tc.rule] = true
		}
	}
	for _, r := range defaultLinter(t).Rules() {
		if !pos[r.ID] || !neg[r.ID] {
			t.Errorf("rule %s: positive case %v, negative case %v; want both", r.ID, pos[r.ID], neg[r.ID])
		}
		delete(pos, r.ID)
		delete(neg, r.ID)
	}
	for id := range pos {
		t.Errorf("test case for unknown rule %s", id)
	}
}

// TestHardenedConfigsAreClean: configs that follow the rules raise nothing.
func TestHardenedConfigsAreClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform netcfg.Platform
		config   string
	}{
		{ios, `version 15.2
service timestamps debug datetime msec
service timestamps log datetime msec
service password-encryption
!
hostname edge1
!
aaa new-model
aaa authentication login default group tacacs+ local
aaa authorization exec default group tacacs+ local
enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM
username ops privilege 15 secret 9 $9$2MJBozw/9R3UsU$T/VXPuGRBPs4ALJTcqO5KRJl1x1bmhU4/gMQO6WD7Js
!
ip ssh version 2
no ip http server
no ip http secure-server
no service pad
!
interface GigabitEthernet0/0
 description uplink
 ip address 192.0.2.1 255.255.255.252
 ip access-group EDGE-IN in
!
ip access-list extended EDGE-IN
 permit tcp any any established
 deny   ip any any log
ip access-list standard MGMT
 permit 198.51.100.0 0.0.0.255
!
router bgp 65000
 neighbor 192.0.2.2 remote-as 65001
 neighbor 192.0.2.2 route-map TRANSIT-IN in
 neighbor 192.0.2.2 prefix-list OWN out
!
ip prefix-list OWN seq 5 permit 203.0.113.0/24
ip prefix-list BOGONS seq 5 deny 10.0.0.0/8 le 32
ip prefix-list BOGONS seq 10 permit 0.0.0.0/0 le 24
route-map TRANSIT-IN permit 10
 match ip address prefix-list BOGONS
!
snmp-server community Xq7-mon RO MGMT
logging host 198.51.100.10
ntp server 198.51.100.1
!
banner login ^C
Authorised access only. Activity is logged.
^C
!
line con 0
 exec-timeout 5 0
 login authentication default
line aux 0
 no exec
 transport input none
line vty 0 4
 access-class MGMT in
 exec-timeout 10 0
 transport input ssh
line vty 5 15
 access-class MGMT in
 exec-timeout 10 0
 transport input ssh
!
end
`},
		{nxos, `!Command: show running-config
version 9.3(8) Bios:version 05.45
hostname leaf1
feature ssh
no feature telnet
feature bgp
username admin password 5 $5$KLHMBE$Oa2ZsfHHMUi.HcAOC9T4/ role network-admin
banner motd #Authorised access only#
ip access-list MGMT
  10 permit ip 198.51.100.0/24 any
ntp server 198.51.100.1 use-vrf management
logging server 198.51.100.10 5 use-vrf management
interface mgmt0
  vrf member management
line console
  exec-timeout 5
line vty
  exec-timeout 10
  access-class MGMT in
`},
		{eos, `! device: leaf1 (DCS-7050, EOS-4.30.1F)
hostname leaf1
no aaa root
username admin privilege 15 role network-admin secret sha512 $6$eucN5ngreuExDgwS$xnD7T8jO
banner login
Authorised access only.
EOF
management console
   idle-timeout 10
management ssh
   idle-timeout 15
   no shutdown
management api http-commands
   protocol https
   no shutdown
ntp server vrf MGMT 198.51.100.1
logging vrf MGMT host 198.51.100.10
end
`},
		{junos, `system {
    host-name j1;
    root-authentication {
        encrypted-password "$6$KfC5gDRc$3a2VzkO1"; ## SECRET-DATA
    }
    login {
        message "Authorised access only";
    }
    services {
        ssh {
            root-login deny;
            protocol-version v2;
        }
        netconf {
            ssh;
        }
    }
    syslog {
        host 198.51.100.10 {
            any notice;
        }
    }
    ntp {
        server 198.51.100.1;
    }
}
policy-options {
    prefix-list MGMT {
        198.51.100.0/24;
    }
    policy-statement EXPORT {
        term t {
            from prefix-list MGMT;
            then accept;
        }
    }
}
protocols {
    bgp {
        group G {
            export EXPORT;
        }
    }
}
`},
	}
	l := defaultLinter(t)
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			t.Parallel()
			if got := Detect(tt.config); got != tt.platform {
				t.Errorf("Detect = %s, want %s", got, tt.platform)
			}
			if fs := l.Lint(tt.platform, tt.config); len(fs) > 0 {
				t.Errorf("hardened %s config has findings:\n%s", tt.platform, formatFindings(fs))
			}
		})
	}
}
