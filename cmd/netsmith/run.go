package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

const usage = `netsmith turns network intent into device configs at fleet scale.

Usage: netsmith <command> [flags]

Commands:
  batch FLEET     generate one config per device of a fleet file (--out DIR)
  serve           run the HTTP API and/or workers (--role all|api|worker)
  submit          submit one job to a server (--wait prints the config)
  status ID       show a job
  jobs            list jobs, newest first (--state, --batch, --all)
  cache           template cache: stats, or invalidate by key, device, role, platform or all
  migrate         create or update the database schema
  keys            API keys: create (printed once), list, revoke
  cost            spend from the ledger by department, user, key, model or day
  budget DEPT     show a department's daily and monthly budget, or --set it
  lint FILE|DIR   check device configs for security and consistency problems
  diff RUN INT    the commands that turn a running config into the intended one (--dir for folders)
  comply POLICY DIR  hold configs to a policy of required and forbidden lines or golden configs
  verify DIR      check a directory of configs as one network (links, BGP, duplicate IPs, MLAG)
  emulate DIR     boot a directory of FRR configs in network namespaces and check it converges (root)
  fake-anthropic  run a wire-compatible fake of the Anthropic Messages API
  loadtest        submit N jobs to a server and measure throughput and latency
  version         print the module version and the VCS revision it was built from
  completion      print a bash or zsh completion script (completion bash|zsh)
  help [CMD]      show this text, or CMD's flags (same as CMD -h)

Every flag also reads NETSMITH_<FLAG> (e.g. NETSMITH_DB for --db); a flag given
on the command line wins. Run "netsmith <command> -h" for its flags.
`

// exitUsage is the exit code for bad flags or input.
const exitUsage = 2

// run is main without the process: it takes its arguments, environment and
// streams, so tests can run the whole program in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" {
		var ok bool
		if args, ok = runHelp(rest, stdout); !ok {
			return 0
		}
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		tuneGC(getenv)
		err = runServe(ctx, rest, getenv, stderr)
	case "batch":
		tuneGC(getenv)
		err = runBatch(ctx, rest, getenv, stdout, stderr)
	case "submit":
		err = runSubmit(ctx, rest, getenv, stdin, stdout)
	case "cache":
		err = runCache(ctx, rest, getenv, stdout)
	case "status":
		err = runStatus(ctx, rest, getenv, stdout)
	case "jobs":
		err = runJobs(ctx, rest, getenv, stdout)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		err = runKeys(ctx, rest, getenv, stdout, stderr)
	case "cost":
		err = runCost(ctx, rest, getenv, stdout)
	case "budget":
		err = runBudget(ctx, rest, getenv, stdout)
	case "lint":
		return runLint(ctx, rest, getenv, stdout, stderr)
	case "diff":
		return runDiff(ctx, rest, getenv, stdin, stdout, stderr)
	case "comply":
		return runComply(ctx, rest, getenv, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, getenv, stdout, stderr)
	case "emulate":
		return runEmulate(ctx, rest, getenv, stdout, stderr)
	case "loadtest":
		err = runLoadtest(ctx, rest, getenv, stdout)
	case "fake-anthropic":
		err = runFakeAnthropic(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprint(stdout, versionText())
		return 0
	case "completion":
		err = runCompletion(rest, stdout)
	case "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "netsmith: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	var (
		ue *usageError
		he *helpError
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &he):
		printHelp(stdout, he.fs)
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "netsmith %s: %v\n", cmd, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "netsmith %s: %v\n", cmd, refusedHint(err))
		return 1
	}
}

// usageError is bad flags or input: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// parseFlags fills fs from NETSMITH_<FLAG> variables, then from args, which
// win; every command parses its flags here. Positional arguments may come
// before, between or after flags; everything after "--" is positional. -h
// is a *helpError and a bad flag one line (see flagError): the flag package
// prints nothing itself.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "NETSMITH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usagef("%s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	var positional []string
	for {
		before := len(args)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpError{fs}
			}
			return nil, flagError(fs, err)
		}
		rest := fs.Args()
		if used := before - len(rest); used > 0 && args[used-1] == "--" && !isFlagValue(fs, args[:used-1]) {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// isFlagValue reports whether the token after args is the value of a flag
// given as the last element of args ("--rules --").
func isFlagValue(fs *flag.FlagSet, args []string) bool {
	if len(args) == 0 {
		return false
	}
	name := strings.TrimLeft(args[len(args)-1], "-")
	if !strings.HasPrefix(args[len(args)-1], "-") || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return false
	}
	return true
}

// gcPercent and memoryLimit tune the garbage collector for the commands
// that run jobs, unless GOGC or GOMEMLIMIT is set. A job allocates much and
// briefly (request and result JSON, the template's proof, render and lint),
// so at Go's default GOGC the collector takes a large share of serve's CPU;
// a higher GOGC trades resident memory for throughput (bench
// s1-machinery.sh measures both). The soft limit keeps a process holding
// many event streams (bench s6-submit.sh) from growing its heap to a
// multiple of what it holds: past the limit the collector runs as often as
// it must, as at a lower GOGC.
const (
	gcPercent   = 200
	memoryLimit = 1 << 30
)

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
