// Package confparse parses network device configurations into trees of
// lines, for static analysis (internal/lint) and for tools that need to ask
// "which interfaces lack X" without regular expressions over the whole file.
//
// Two syntaxes are understood:
//
//   - Indentation-based configs: Cisco IOS, IOS-XE and NX-OS, Arista EOS and
//     FRRouting. A line is the child of the nearest preceding line with less
//     indentation (any indentation width works: IOS uses one space, NX-OS
//     two, EOS three). "!" lines and blank lines are comments: they are kept
//     in the tree but never become parents, and they do not close a block, so
//     a block that continues after a "!" stays one block, as it does on the
//     device. Delimited blocks, whose body is free text rather than config,
//     are parsed as one node with body children: "banner <type> <delim> …
//     <delim>" (the delimiter is "^C" or the first character, as IOS shows
//     it), EOS "banner login"/"comment" blocks ended by "EOF", and IOS
//     "macro name" blocks ended by "@". A top-level "end" ends the config:
//     lines after it are kept as KindTrailer nodes.
//
//   - Junos, in brace form ("system { services { ssh; } }") and in set form
//     ("set system services ssh"). Brace form becomes the same tree shape as
//     the indented syntaxes: a line that opens a block is the parent of the
//     lines inside it, and the closing "}" line is the block's last child
//     (KindClose). Set form is kept flat: every command is a top-level node,
//     because its hierarchy lives in the words, not in the layout. Both forms
//     are also available as set-style statements (Tree.Statements), which is
//     what rules over Junos match against: "set system services telnet" is
//     the same statement whichever form it came from. In set form, edit/top/
//     up/exit, delete, deactivate and activate are applied; in brace form
//     "inactive:" subtrees are left out.
//
// Every Tree re-serialises to exactly its input (String), CRLF line endings
// and a missing final newline included, so it can be used to edit configs
// without disturbing the lines it does not touch. Nothing in a tree is
// trimmed away: Raw holds each line as written, Text the same line without
// surrounding white space.
//
// Input that does not parse cleanly (an unterminated banner, unbalanced
// braces) still yields a tree; the problems are listed in Tree.Problems.
package confparse
