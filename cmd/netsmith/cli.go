package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"syscall"

	"netsmith/internal/httpapi"
)

// helpError is -h or --help on a command (or `netsmith help CMD`): run
// prints the command's flags to stdout and exits 0.
type helpError struct{ fs *flag.FlagSet }

func (e *helpError) Error() string { return flag.ErrHelp.Error() }
func (e *helpError) Unwrap() error { return flag.ErrHelp }

// printHelp prints what `netsmith NAME -h` shows: the command's line from
// the general usage, when it has one, and its flags.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	if line := commandLine(fs.Name()); line != "" {
		fmt.Fprintf(w, "netsmith %s\n\n", line)
	}
	fmt.Fprintf(w, "Usage: netsmith %s [flags]\n", fs.Name())
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// commandLine is name's line in the general usage ("batch FLEET —
// generate …"), or "" for a command not listed there.
func commandLine(name string) string {
	for l := range strings.Lines(usage) {
		f := strings.Fields(l)
		if strings.HasPrefix(l, "  ") && len(f) > 1 && f[0] == name {
			synopsis, what, _ := strings.Cut(strings.TrimSpace(l), "  ")
			return synopsis + " — " + strings.TrimSpace(what)
		}
	}
	return ""
}

// flagError is a bad flag, kept to one line: the flag package's own message
// (which names the flag) and where to read the rest. The full list is
// what -h is for.
func flagError(fs *flag.FlagSet, err error) error {
	return usagef("%v (see `netsmith %s -h`)", err, fs.Name())
}

// badRequestAsUsage turns a server's 400 (a bad query parameter) into a
// usage error, exit 2, with the server's message.
func badRequestAsUsage(err error) error {
	var ae *httpapi.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return usagef("%s", ae.Message)
	}
	return err
}

// refusedHint turns a refused connection to a netsmith server into the
// question a user needs answered.
func refusedHint(err error) error {
	var ue *url.Error
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ue) {
		return err
	}
	base := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		base = u.Scheme + "://" + u.Host
	}
	return fmt.Errorf("%w; is `netsmith serve` running at %s?", err, base)
}

// runHelp is `netsmith help [CMD [SUB]]`: the general usage, or CMD -h.
func runHelp(args []string, stdout io.Writer) ([]string, bool) {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil, false
	}
	return append(append([]string{}, args...), "-h"), true
}

// versionText is `netsmith version`: the module's version and the VCS
// revision the binary was built from, as the Go toolchain recorded them.
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "netsmith (no build information)\n"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	rev := settings["vcs.revision"]
	switch {
	case rev == "":
		rev = "unknown revision (built without VCS information)"
	case settings["vcs.modified"] == "true":
		rev += " (modified)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "netsmith %s\nrevision %s\n", version, rev)
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "committed %s\n", t)
	}
	fmt.Fprintf(&b, "go %s\n", bi.GoVersion)
	return b.String()
}

// printJSON writes v to w as indented JSON, as every --json flag prints.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
