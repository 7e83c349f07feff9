// Package lint is netsmith's static security analysis of device configs: a
// rule engine in the shape audit tools use, run on the trees of
// internal/confparse.
//
// Rules are data. The built-in set is rules.yaml, embedded in the binary;
// a user's file in the same format (Load) adds rules, replaces built-in ones
// with the same id or disables them (Linter.With). A rule has an id, the
// platforms it applies to, a severity, a message, a short rationale and a
// reference (benchmark section numbers and control ids, never their text),
// and is one of:
//
//   - must_match: a finding when no line in scope matches (line 0: something
//     is missing from the config);
//   - must_not_match: a finding for every line in scope that matches;
//   - check: a built-in check for what a single pattern cannot express:
//     cleartext-secret and reversible-secret (passwords and keys, by the
//     statement that holds them and their encryption type),
//     undefined-reference and unused-definition (ACLs, route-maps,
//     prefix-lists and Junos policies, with the defining and using patterns
//     given in the rule), unreferenced (the same, where only the using
//     patterns count: Junos access ports without an edge statement),
//     ebgp-policy (eBGP neighbors, by remote-as against the local AS,
//     without an inbound and an outbound policy of their own or of their
//     peer group or template) and parse-problem (input the parser could
//     not read cleanly).
//
// Some rules depend on what the config is for, not only on its text: with
// when_vars a rule runs only when the device's vars set one of the names
// ("tacacs_servers": then the config must define a TACACS+ server), with
// when_requirements only when the intent's requirements match ("portfast":
// then access ports must be edge ports). LintContext passes that Context;
// Lint runs none of those rules.
//
// The scope of a pattern is the top-level lines, every line, or the children
// (or whole subtree) of every line matching a parent pattern, so "transport
// input ssh under each line vty" is one rule. Junos rules match set-style
// statements, whichever form the config was written in.
//
// FRR (netcfg.FRR, FRRouting) gets only the checks that make sense for a
// routing daemon (references, secrets and eBGP policy).
// Detect guesses the platform from the text when none is given.
//
// Findings never quote a secret: secret checks name the statement that holds
// it, not its value.
package lint
