package main

import (
	"errors"
	"os"
	"strings"

	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

// localSecrets resolves env: references from the environment and file:
// references from files on this machine (the content without its final
// line break). It is batch --resolve-secrets: the operator's own machine
// reads them as the configs are written; a server never does.
func localSecrets(getenv func(string) string) netcfg.SecretResolveFunc {
	return func(scheme, name string) (string, bool, error) {
		switch scheme {
		case "env":
			v := getenv(name)
			if v == "" {
				return "", true, errors.New("environment variable not set")
			}
			return v, true, nil
		case "file":
			b, err := os.ReadFile(name)
			if err != nil {
				return "", true, err
			}
			return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), true, nil
		}
		return "", false, nil
	}
}

// unresolvedSecretRule is the lint rule that flags a secret left as a
// placeholder.
const unresolvedSecretRule = "unresolved-secret"

// resolvedFindings drops the unresolved-secret findings on lines of config
// whose secrets were resolved since it was linted.
func resolvedFindings(config string, fs []lint.Finding) []lint.Finding {
	lines := strings.Split(config, "\n")
	out := fs[:0:0]
	for _, f := range fs {
		if f.Rule == unresolvedSecretRule && f.Line > 0 && f.Line <= len(lines) && !hasPlaceholder(lines[f.Line-1]) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func hasPlaceholder(line string) bool {
	for _, p := range []string{"<secret:", "<vault:", "<env:", "<file:"} {
		if strings.Contains(line, p) {
			return true
		}
	}
	return false
}
