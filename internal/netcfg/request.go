package netcfg

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// JobRequest is what a client asks one job to do. A generate job carries a
// device and requirements; an analyze job carries a config and its platform.
type JobRequest struct {
	Kind         JobKind        `json:"kind"`
	Device       *Device        `json:"device,omitempty"`
	Requirements string         `json:"requirements,omitempty"`
	Constants    map[string]any `json:"constants,omitempty"`
	Platform     Platform       `json:"platform,omitempty"`
	Config       string         `json:"config,omitempty"`
	// CacheTTL is how long what a generate job caches for its intent (the
	// template, or the device's own config when no template works) stays
	// cached; 0 means the cache's default. It is not part of the intent:
	// requests that differ only in it share one template, whose lifetime
	// the request that makes it sets.
	CacheTTL Duration `json:"cache_ttl,omitempty"`
}

// FieldError is invalid input, naming the field (as a JSON path) at fault.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// MaxRequirements bounds the requirements text, MaxConfig an analyzed config.
const (
	MaxRequirements = 64 << 10
	MaxConfig       = 2 << 20
)

// Validate checks r and normalizes its platform names. It returns a
// *FieldError for the first problem found.
func (r *JobRequest) Validate() error {
	switch r.Kind {
	case KindGenerate:
		return r.validateGenerate()
	case KindAnalyze:
		return r.validateAnalyze()
	case "":
		return &FieldError{"kind", "is required (generate or analyze)"}
	default:
		return &FieldError{"kind", fmt.Sprintf("unknown kind %q (known: generate, analyze)", r.Kind)}
	}
}

func (r *JobRequest) validateGenerate() error {
	d := r.Device
	if d == nil {
		return &FieldError{"device", "is required for kind generate"}
	}
	if err := ValidateHostname(d.Hostname); err != nil {
		return &FieldError{"device.hostname", err.Error()}
	}
	if d.Platform == "" {
		return &FieldError{"device.platform", "is required"}
	}
	p, err := ParsePlatform(string(d.Platform))
	if err != nil {
		return &FieldError{"device.platform", err.Error()}
	}
	d.Platform = p
	if strings.TrimSpace(r.Requirements) == "" {
		return &FieldError{"requirements", "is required for kind generate"}
	}
	if len(r.Requirements) > MaxRequirements {
		return &FieldError{"requirements", fmt.Sprintf("is longer than %d bytes", MaxRequirements)}
	}
	if err := validateTree("device.vars", d.Vars); err != nil {
		return err
	}
	if err := validateTree("constants", r.Constants); err != nil {
		return err
	}
	if err := ValidateCacheTTL(time.Duration(r.CacheTTL)); err != nil {
		return &FieldError{"cache_ttl", err.Error()}
	}
	return nil
}

// validateTree is ValidateVars with the field named below name.
func validateTree(name string, tree map[string]any) error {
	err := ValidateVars(tree)
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.Field = strings.TrimSuffix(name+"."+fe.Field, ".")
	}
	return err
}

func (r *JobRequest) validateAnalyze() error {
	if r.Platform == "" {
		return &FieldError{"platform", "is required for kind analyze"}
	}
	p, err := ParsePlatform(string(r.Platform))
	if err != nil {
		return &FieldError{"platform", err.Error()}
	}
	r.Platform = p
	if strings.TrimSpace(r.Config) == "" {
		return &FieldError{"config", "is required for kind analyze"}
	}
	if len(r.Config) > MaxConfig {
		return &FieldError{"config", fmt.Sprintf("is longer than %d bytes", MaxConfig)}
	}
	return nil
}
