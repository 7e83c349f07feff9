package fleet

import "netsmith/internal/netcfg"

// The secret rules live in netcfg, with the value checks that use them, so
// that a fleet file and a job judge a value alike. These names keep the
// package's API for its callers.

// Redacted replaces a literal secret in the copy RedactSecrets returns.
const Redacted = netcfg.Redacted

// IsSecretRef is netcfg.IsSecretRef.
func IsSecretRef(v string) bool { return netcfg.IsSecretRef(v) }

// IsSecretName is netcfg.IsSecretName.
func IsSecretName(name string) bool { return netcfg.IsSecretName(name) }

// RedactSecrets is netcfg.RedactSecrets.
func RedactSecrets(vars map[string]any) map[string]any { return netcfg.RedactSecrets(vars) }
