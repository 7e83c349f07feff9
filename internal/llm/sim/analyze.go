package sim

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// finding is one line of an analysis.
type finding struct {
	severity string
	text     string
}

var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}

var (
	telnetVTY     = regexp.MustCompile(`(?m)^\s*transport input\b.*\b(telnet|all)\b`)
	snmpPublic    = regexp.MustCompile(`(?mi)^\s*snmp-server community (public|private)\b|^\s*community "?(public|private)"? \{`)
	enablePass    = regexp.MustCompile(`(?m)^enable password (\S+)`)
	userPass      = regexp.MustCompile(`(?m)^username \S+ .*\bpassword (0 |7 )?\S+`)
	httpServer    = regexp.MustCompile(`(?m)^ip http server\s*$`)
	execTimeout0  = regexp.MustCompile(`(?m)^\s*exec-timeout 0( 0)?\s*$`)
	junosTelnet   = regexp.MustCompile(`(?m)^\s*telnet;`)
	eosTelnet     = regexp.MustCompile(`(?m)^management telnet\n(?:\s+.*\n)*?\s+no shutdown`)
	nxosTelnet    = regexp.MustCompile(`(?m)^feature telnet\s*$`)
	aaaLine       = regexp.MustCompile(`(?m)^aaa `)
	aaaNewModel   = regexp.MustCompile(`(?m)^aaa new-model\s*$`)
	ntpLine       = regexp.MustCompile(`(?m)^\s*ntp server |^\s*ntp \{`)
	logHostLine   = regexp.MustCompile(`(?m)^\s*logging (host|server|vrf \S+ host) |^\s*host \S+ \{`)
	bannerLine    = regexp.MustCompile(`(?m)^banner |^\s*message "`)
	cleartextSNMP = regexp.MustCompile(`(?m)^snmp-server community \S+`)
)

// analyze returns findings for spec.Config from simple heuristics, most
// severe first, or "none".
func analyze(platform, config string) string {
	if strings.TrimSpace(config) == "" {
		return "none\n"
	}
	junos := platform == "juniper_junos" || (platform == "" && strings.Contains(config, "system {"))
	// FRR is a routing daemon: AAA, NTP, syslog and banners are the host's.
	frr := platform == "frr" || (platform == "" && strings.Contains(config, "\nfrr defaults "))
	ios := platform == "cisco_ios" || platform == "cisco_xe" || (platform == "" && !junos && !frr)
	var fs []finding
	add := func(sev, text string) { fs = append(fs, finding{sev, text}) }

	if snmpPublic.MatchString(config) {
		add("critical", "SNMP community is a well-known default (public/private); use SNMPv3 or a secret community with an ACL")
	} else if cleartextSNMP.MatchString(config) && !strings.Contains(config, "snmp-server community <") {
		add("medium", "SNMPv2c community configured; prefer SNMPv3 with authPriv")
	}
	switch {
	case telnetVTY.MatchString(config):
		add("high", "telnet is allowed on VTY lines; use transport input ssh")
	case junos && junosTelnet.MatchString(config):
		add("high", "telnet service is enabled; remove system services telnet")
	case eosTelnet.MatchString(config):
		add("high", "management telnet is enabled; shut it down and use SSH")
	case nxosTelnet.MatchString(config):
		add("high", "feature telnet is enabled; use SSH only")
	}
	if m := enablePass.FindStringSubmatch(config); m != nil && !(platform == "arista_eos" && (m[1] == "sha512" || m[1] == "5")) {
		add("high", "enable password is stored with weak or no encryption; use enable secret (type 8 or 9)")
	}
	if userPass.MatchString(config) && platform != "cisco_nxos" {
		add("high", "local user password is stored in clear text or type 7; use username … secret")
	}
	if ios && !junos && !aaaNewModel.MatchString(config) {
		add("medium", "AAA is not enabled (no aaa new-model)")
	} else if !ios && !junos && !frr && !aaaLine.MatchString(config) {
		add("medium", "no AAA configuration")
	}
	if httpServer.MatchString(config) {
		add("medium", "HTTP server is enabled; disable it with no ip http server")
	}
	if execTimeout0.MatchString(config) {
		add("medium", "exec-timeout 0 disables idle session timeout")
	}
	if ios && !junos && !strings.Contains(config, "service password-encryption") {
		add("low", "service password-encryption is not enabled")
	}
	if !frr {
		if !ntpLine.MatchString(config) {
			add("low", "no NTP server configured")
		}
		if !logHostLine.MatchString(config) {
			add("low", "no remote logging host configured")
		}
		if !bannerLine.MatchString(config) {
			add("low", "no login banner")
		}
	}
	if len(fs) == 0 {
		return "none\n"
	}
	slices.SortStableFunc(fs, func(a, b finding) int { return cmp.Compare(severityRank[a.severity], severityRank[b.severity]) })
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.severity + ": " + f.text + "\n")
	}
	return b.String()
}
