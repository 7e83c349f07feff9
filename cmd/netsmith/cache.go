package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

const cacheUsage = `usage:
  netsmith cache stats [--server URL | --db URL]
  netsmith cache invalidate (--key K | --device HOST | --role R | --platform P | --all) [--server URL | --db URL]
`

// runCache reads the template cache's counters or invalidates entries,
// through a server (--server, the default) or straight on a database
// (--db, like cost and keys: after embedded batches no server runs).
func runCache(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", cacheUsage)
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, cacheUsage+"\nRun `netsmith cache SUBCOMMAND -h` for its flags.\n")
		return nil
	}
	sub := args[0]
	var (
		server, apiKey, db string
		req                httpapi.InvalidateRequest
	)
	fs := flag.NewFlagSet("cache "+sub, flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	switch sub {
	case "stats":
		fs.StringVar(&db, "db", "", "read this database `URL` directly instead of asking --server")
	case "invalidate":
		fs.StringVar(&db, "db", "", "invalidate in this database `URL` directly instead of through --server (running servers' in-memory copies stay until they expire)")
		fs.StringVar(&req.Key, "key", "", "an intent key")
		fs.StringVar(&req.Device, "device", "", "a device's per-device fallback entries")
		fs.StringVar(&req.Role, "role", "", "every entry of a role")
		fs.StringVar(&req.Platform, "platform", "", "every entry of a platform")
		fs.BoolVar(&req.All, "all", false, "every entry")
	default:
		return usagef("unknown cache command %q\n%s", sub, cacheUsage)
	}
	pos, err := parseFlags(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if sub == "invalidate" && req == (httpapi.InvalidateRequest{}) {
		return usagef("cache invalidate: name --key, --device, --role or --platform, or --all")
	}
	if db != "" {
		return cacheOnDB(ctx, db, sub, &req, stdout)
	}
	c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	if sub == "stats" {
		st, err := c.CacheStats(ctx)
		if err != nil {
			return err
		}
		return printCacheStats(stdout, st)
	}
	n, err := c.InvalidateCache(ctx, &req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invalidated %d entries\n", n)
	return nil
}

// cacheOnDB is runCache with --db.
func cacheOnDB(ctx context.Context, db, sub string, req *httpapi.InvalidateRequest, stdout io.Writer) error {
	d, err := openMigrated(ctx, db)
	if err != nil {
		return err
	}
	defer d.Close()
	if sub == "stats" {
		st, err := store.GetCacheStats(ctx, d.ReadConn(), "")
		if err != nil {
			return err
		}
		// A database does not record whether its servers run the cache;
		// it is on unless serve says --cache=false.
		v := httpapi.NewCacheStats(st, true)
		return printCacheStats(stdout, &v)
	}
	n, err := store.InvalidateTemplates(ctx, d.Conn(), netcfg.TemplateFilter{Key: req.Key, Hostname: req.Device,
		Role: req.Role, Platform: req.Platform, All: req.All})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invalidated %d entries\n", n)
	return nil
}

func printCacheStats(w io.Writer, st *httpapi.CacheStats) error {
	return printJSON(w, st)
}

// isHelp reports whether a command's first argument asks for its help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "help" }
