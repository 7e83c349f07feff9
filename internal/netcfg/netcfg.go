// Package netcfg is netsmith's domain: devices, intents, platforms, job kinds
// and states, and the records the core passes around: jobs and their
// results, batches, budgets and charges, API keys, template-cache entries
// and the dashboard's rows. Package store reads and writes them; this
// package does no I/O and imports no other netsmith package.
package netcfg

import (
	"fmt"
	"slices"
	"strings"
)

// Platform is a device operating-system family.
type Platform string

// The platforms netsmith generates configs for.
const (
	CiscoIOS     Platform = "cisco_ios"
	CiscoXE      Platform = "cisco_xe"
	CiscoNXOS    Platform = "cisco_nxos"
	AristaEOS    Platform = "arista_eos"
	JuniperJunos Platform = "juniper_junos"
	// FRR is FRRouting on Linux: the integrated frr.conf that vtysh -b
	// loads into zebra, bgpd, staticd and bfdd, with Linux interface names.
	// It holds routing only: the host, not FRR, runs NTP, AAA, SSH and
	// syslog.
	FRR Platform = "frr"
)

// Platforms lists every known platform in a stable order.
var Platforms = []Platform{CiscoIOS, CiscoXE, CiscoNXOS, AristaEOS, JuniperJunos, FRR}

// ParsePlatform returns the platform named s (case-insensitive) or an error
// that lists the known ones.
func ParsePlatform(s string) (Platform, error) {
	p := Platform(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Platforms, p) {
		return p, nil
	}
	names := make([]string, len(Platforms))
	for i, p := range Platforms {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown platform %q (known: %s)", s, strings.Join(names, ", "))
}

// Device is one network device with its per-device facts.
type Device struct {
	Hostname  string         `json:"hostname"`
	Role      string         `json:"role,omitempty"`
	Platform  Platform       `json:"platform"`
	OSVersion string         `json:"os_version,omitempty"`
	Site      string         `json:"site,omitempty"`
	Vars      map[string]any `json:"vars,omitempty"`
}

// Intent is what many devices share: the role, platform and version they run,
// the requirements text and group constants. It never holds per-device values.
type Intent struct {
	Role         string         `json:"role"`
	Platform     Platform       `json:"platform"`
	OSVersion    string         `json:"os_version,omitempty"`
	Requirements string         `json:"requirements"`
	Constants    map[string]any `json:"constants,omitempty"`
	// CacheTTL is how long the intent's template stays cached; 0 means the
	// cache's default. It is a setting, not part of what the intent is:
	// intents that differ only in it are the same intent.
	CacheTTL Duration `json:"cache_ttl,omitempty"`
}

// JobKind names what a job does.
type JobKind string

// The job kinds.
const (
	KindGenerate JobKind = "generate" // intent + device -> config
	KindAnalyze  JobKind = "analyze"  // config -> findings
)

// ParseJobKind returns the kind named s or an error.
func ParseJobKind(s string) (JobKind, error) {
	switch k := JobKind(s); k {
	case KindGenerate, KindAnalyze:
		return k, nil
	}
	return "", fmt.Errorf("unknown kind %q (known: generate, analyze)", s)
}

// JobState is where a job is in its life.
type JobState string

// The job states of docs/design.md §2.
const (
	StateQueued    JobState = "queued"
	StateRunning   JobState = "running"
	StateRetrying  JobState = "retrying"
	StateSucceeded JobState = "succeeded"
	StateFailed    JobState = "failed"
	StateCanceled  JobState = "canceled"
	StateExpired   JobState = "expired"
)

// Final reports whether no further transition can happen from s.
func (s JobState) Final() bool {
	switch s {
	case StateSucceeded, StateFailed, StateCanceled, StateExpired:
		return true
	}
	return false
}

// FinalStates lists the states a job ends in.
var FinalStates = []JobState{StateSucceeded, StateFailed, StateCanceled, StateExpired}

// MaxHostnameLen is the longest hostname ValidateHostname accepts: a file
// name is at most 255 bytes on every file system we write to, and a device's
// config is written as HOSTNAME.cfg, so the name leaves room for ".cfg".
const MaxHostnameLen = 255 - len(".cfg")

// ValidateHostname checks that s can be a host name and a file name: letters,
// digits, '-', '.', '_'; at most MaxHostnameLen characters (so HOSTNAME.cfg
// fits a file name); no leading dot or "..".
func ValidateHostname(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("hostname is empty")
	case len(s) > MaxHostnameLen:
		return fmt.Errorf("hostname %.20q… is %d characters, longer than %d (HOSTNAME.cfg must fit a 255-byte file name)", s, len(s), MaxHostnameLen)
	case s[0] == '.' || s[0] == '-':
		return fmt.Errorf("hostname %q must not start with %q", s, s[0])
	case strings.Contains(s, ".."):
		return fmt.Errorf("hostname %q must not contain \"..\"", s)
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '.' || r == '_'
		if !ok {
			return fmt.Errorf("hostname %q has invalid character %q (allowed: letters, digits, '-', '.', '_')", s, r)
		}
	}
	return nil
}
