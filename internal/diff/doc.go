// Package diff computes remediation: the commands that take a device from
// its running config to its intended one, as the device would take them.
//
// Both configs are parsed by internal/confparse. For the indented platforms
// (IOS, IOS-XE, NX-OS, EOS, FRR) the trees are compared section by
// section: a new or changed line is given under its parent section, a
// removed line is negated ("no …"), a removed section is negated once, a
// removed "no X" line is restored ("default X", or "X" where the platform
// has no default command). For Junos the set-style statements are compared
// and the remediation is in set form ("set …", "delete …"), a removed
// hierarchy deleted once. Unchanged lines never appear.
//
// Which commands overwrite their old value (and so are not negated first),
// which blocks are ordered lists (replaced as a block when anything in them
// changes, or edited entry by entry when every entry is numbered), which
// lines are one object (a BGP neighbor's, negated once) and which are
// defaulted rather than deleted (a physical interface) are data:
// rules.yaml, embedded, extendable by a user file in the same format
// (Load, Differ.With), as lint rules are.
//
// Merge applies a remediation to a running config the way this package's
// model of a device does; the property tests hold Merge(running,
// Diff(running, intended)) equal to intended.
package diff
