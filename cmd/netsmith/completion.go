package main

import (
	"fmt"
	"io"
	"strings"
)

// subcommands are the second words of the commands that have them.
var subcommands = map[string]string{
	"keys":       "create list revoke",
	"cache":      "stats invalidate",
	"completion": "bash zsh",
}

// commandNames are the commands of the general usage, in its order.
func commandNames() []string {
	var names []string
	for l := range strings.Lines(usage) {
		if f := strings.Fields(l); strings.HasPrefix(l, "  ") && len(f) > 1 {
			names = append(names, f[0])
		}
	}
	return names
}

// The scripts complete command and subcommand names from the lists above
// and flags by asking the installed binary for `CMD -h`, so they never
// fall behind a new flag.
const bashCompletion = `# bash completion for netsmith: source <(netsmith completion bash)
_netsmith() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "%[1]s" -- "$cur"))
		return
	fi
	local subs=""
	case $cmd in
%[2]s	esac
	if [[ $COMP_CWORD -eq 2 && -n $subs ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		local words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
		[[ -z $subs ]] && words=("$cmd")
		COMPREPLY=($(compgen -W "$(netsmith "${words[@]:0:2}" -h 2>/dev/null | awk '$1 ~ /^-/ {print "-" $1}')" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _netsmith netsmith
`

const zshCompletion = `#compdef netsmith
# zsh completion for netsmith: source <(netsmith completion zsh)
_netsmith() {
	local -a subs
	if (( CURRENT == 2 )); then
		compadd -- %[1]s
		return
	fi
	case $words[2] in
%[2]s	esac
	if (( CURRENT == 3 )) && (( ${#subs} )); then
		compadd -- $subs
		return
	fi
	if [[ $PREFIX == -* ]]; then
		local -a cmd=($words[2])
		(( ${#subs} )) && cmd+=($words[3])
		compadd -- ${(f)"$(netsmith $cmd -h 2>/dev/null | awk '$1 ~ /^-/ {print "-" $1}')"}
		return
	fi
	_files
}
compdef _netsmith netsmith
`

// runCompletion prints the completion script for a shell.
func runCompletion(args []string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, "Usage: netsmith completion bash|zsh\n\n  bash: source <(netsmith completion bash)\n  zsh:  source <(netsmith completion zsh)\n")
		return nil
	}
	if len(args) != 1 {
		return usagef("usage: netsmith completion bash|zsh")
	}
	var cases strings.Builder
	for _, cmd := range []string{"cache", "completion", "keys"} {
		switch args[0] {
		case "bash":
			fmt.Fprintf(&cases, "\t%s) subs=%q ;;\n", cmd, subcommands[cmd])
		case "zsh":
			fmt.Fprintf(&cases, "\t%s) subs=(%s) ;;\n", cmd, subcommands[cmd])
		}
	}
	names := strings.Join(commandNames(), " ")
	switch args[0] {
	case "bash":
		fmt.Fprintf(stdout, bashCompletion, names, cases.String())
	case "zsh":
		fmt.Fprintf(stdout, zshCompletion, names, cases.String())
	default:
		return usagef("completion: unknown shell %q; want bash or zsh", args[0])
	}
	return nil
}
