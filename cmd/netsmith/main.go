// Command netsmith turns network intent into device configs at fleet scale:
// an HTTP API and worker pool over a durable queue (serve), fleet batches,
// client commands, a config linter and a fake Anthropic server for tests.
// Run "netsmith help" for the subcommands.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
