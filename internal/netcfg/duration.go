package netcfg

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("72h",
// "30m") in JSON and other text forms.
type Duration time.Duration

// String formats d as time.Duration does, without the zero minutes and
// seconds that follow whole hours or minutes: "72h", "1h30m", "30m".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string. It accepts any duration, a
// negative one included; range checks belong to the field's validation.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 72h or 30m", b)
	}
	*d = Duration(v)
	return nil
}

// The bounds of a template-cache lifetime (JobRequest.CacheTTL,
// Intent.CacheTTL).
const (
	MinCacheTTL = time.Minute
	MaxCacheTTL = 365 * 24 * time.Hour
)

// ValidateCacheTTL checks a template-cache lifetime: 0 (unset, the cache's
// default) or between MinCacheTTL and MaxCacheTTL.
func ValidateCacheTTL(d time.Duration) error {
	switch {
	case d == 0:
		return nil
	case d < 0:
		return fmt.Errorf("%s is negative", Duration(d))
	case d < MinCacheTTL || d > MaxCacheTTL:
		return fmt.Errorf("%s is outside %s to %s (365 days)", Duration(d), Duration(MinCacheTTL), Duration(MaxCacheTTL))
	}
	return nil
}
