package lint

import (
	"fmt"
	"strings"
)

// Severity ranks findings. The zero value is not a valid severity.
type Severity int

// The severities, in increasing order.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"", "info", "low", "medium", "high", "critical"}

// Severities lists every severity in increasing order.
var Severities = []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ParseSeverity returns the severity named s (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for i, n := range severityNames {
		if i > 0 && n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (known: info, low, medium, high, critical)", s)
}

// String returns the severity's name.
func (s Severity) String() string {
	if s < SeverityInfo || s > SeverityCritical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) {
	if s < SeverityInfo || s > SeverityCritical {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one problem in a config. Line is 1-based; 0 means the config
// as a whole (something is missing).
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Line     int    `json:"line"`
}

// String formats the finding as "line rule severity message".
func (f Finding) String() string {
	return fmt.Sprintf("%d %s %s %s", f.Line, f.Rule, f.Severity, f.Message)
}

// AtLeast reports whether the finding's severity is s or higher. A finding
// with an unknown severity counts as critical, so that it is never ignored.
func (f Finding) AtLeast(s Severity) bool {
	v, err := ParseSeverity(f.Severity)
	return err != nil || v >= s
}

// CountBySeverity counts findings per severity name. Every severity is
// present in the map, with 0 when there is none.
func CountBySeverity(findings []Finding) map[string]int {
	m := make(map[string]int, len(Severities))
	for _, s := range Severities {
		m[s.String()] = 0
	}
	for _, f := range findings {
		m[f.Severity]++
	}
	return m
}

// Max returns the highest severity among findings, or 0 when there are
// none.
func Max(findings []Finding) Severity {
	var m Severity
	for _, f := range findings {
		v, err := ParseSeverity(f.Severity)
		if err != nil {
			v = SeverityCritical
		}
		m = max(m, v)
	}
	return m
}
