package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// openMigrated opens and migrates the database for commands that work on it
// directly (keys, cost --db).
func openMigrated(ctx context.Context, url string) (*store.DB, error) {
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

const keysUsage = `usage:
  netsmith keys create --name NAME --department DEPT [--role user|admin] [--rpm N] [--max-active N]
  netsmith keys list
  netsmith keys revoke ID|NAME
(all take --db URL, default sqlite://netsmith.db or NETSMITH_DB)`

// runKeys manages API keys on the database directly: whoever can reach the
// database is already trusted with everything in it.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", keysUsage)
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, keysUsage+"\nRun `netsmith keys SUBCOMMAND -h` for its flags.\n")
		return nil
	}
	sub := args[0]
	var (
		db, name, dept, role string
		rpm, maxActive       int64
		asJSON               bool
	)
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.StringVar(&db, "db", "sqlite://netsmith.db", "database `URL`")
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "key name (who or what uses it)")
		fs.StringVar(&dept, "department", "", "department the key spends for")
		fs.StringVar(&role, "role", netcfg.RoleUser, "user (own department only) or admin (all, budgets, cache)")
		fs.Int64Var(&rpm, "rpm", 0, "submissions per minute, across all replicas (0: no limit)")
		fs.Int64Var(&maxActive, "max-active", 0, "unfinished jobs at once (0: no limit)")
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "revoke":
	default:
		return usagef("unknown keys command %q\n%s", sub, keysUsage)
	}
	pos, err := parseFlags(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	deptErr := netcfg.ValidateDepartment(dept)
	switch {
	case sub == "revoke" && len(pos) != 1:
		return usagef("keys revoke takes one key id or name")
	case sub != "revoke" && len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case sub == "create" && strings.TrimSpace(name) == "":
		return usagef("keys create: --name is required")
	case sub == "create" && strings.TrimSpace(dept) == "":
		return usagef("keys create: --department is required")
	case sub == "create" && deptErr != nil:
		return usagef("keys create: --department %v", deptErr)
	case sub == "create" && role != netcfg.RoleUser && role != netcfg.RoleAdmin:
		return usagef("keys create: --role %q: must be user or admin", role)
	case rpm < 0 || maxActive < 0:
		return usagef("keys create: --rpm and --max-active must be ≥ 0")
	}
	d, err := openMigrated(ctx, db)
	if err != nil {
		return err
	}
	defer d.Close()
	now := time.Now()
	switch sub {
	case "create":
		secret, hash := httpapi.NewAPIKey()
		k := &netcfg.Key{ID: httpapi.NewKeyID(), Name: name, Department: dept, Role: role, RPM: rpm,
			MaxActive: maxActive, CreatedAt: now}
		if err := store.InsertKey(ctx, d.Conn(), k, hash); err != nil {
			if errors.Is(err, netcfg.ErrKeyName) {
				return usagef("keys create: --name %q: %v", name, err)
			}
			return err
		}
		fmt.Fprintf(stderr, "created key %s (%s, department %s, role %s); it is shown once, store it now:\n", k.ID, name, dept, role)
		fmt.Fprintln(stdout, secret)
	case "list":
		keys, err := store.ListKeys(ctx, d.ReadConn())
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(stdout).Encode(keys)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tDEPARTMENT\tROLE\tRPM\tMAX ACTIVE\tACTIVE\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.Revoked() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", k.ID, k.Name, k.Department, k.Role, k.RPM,
				k.MaxActive, k.Active, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		ok, err := store.RevokeKey(ctx, d.Conn(), pos[0], now)
		if err != nil {
			return err
		}
		if !ok {
			return usagef("keys revoke: no live key with id or name %q", pos[0])
		}
		fmt.Fprintf(stdout, "revoked %s\n", pos[0])
	}
	return nil
}

// runCost prints spend from the ledger: from a server (--server, the
// default) or straight from a database (--db, e.g. after embedded batches).
func runCost(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		server, apiKey, db, groupBy, since, until, dept string
		asCSV, asJSON                                   bool
	)
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.StringVar(&db, "db", "", "read this database `URL` directly instead of asking --server")
	fs.StringVar(&groupBy, "group-by", "department", "department, user, key, model or day")
	fs.StringVar(&since, "since", "", "from this date (2026-11-01) or RFC 3339 time")
	fs.StringVar(&until, "until", "", "before this date or time")
	fs.StringVar(&dept, "department", "", "one department only")
	fs.BoolVar(&asCSV, "csv", false, "print CSV")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var rep *httpapi.CostReport
	if db != "" {
		if rep, err = costFromDB(ctx, db, groupBy, since, until, dept); err != nil {
			return err
		}
	} else {
		c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
		q := url.Values{"group_by": {groupBy}}
		for k, v := range map[string]string{"since": since, "until": until, "department": dept} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if rep, err = c.Costs(ctx, q); err != nil {
			return badRequestAsUsage(err)
		}
	}
	switch {
	case asCSV:
		return httpapi.WriteCostCSV(stdout, rep)
	case asJSON:
		return printJSON(stdout, rep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tspend USD\trequests\tcalls\tcache hits\thit rate\tsaved USD\ttokens in\ttokens out\t\n", strings.ToUpper(rep.GroupBy))
	for _, r := range append(rep.Rows, rep.Total) {
		fmt.Fprintf(tw, "%s\t%.4f\t%d\t%d\t%d\t%.1f%%\t%.4f\t%d\t%d\t\n", cmp.Or(r.Group, "(none)"), r.CostUSD,
			r.Requests, r.Calls, r.CacheHits, r.CacheHitRate*100, r.SavedUSD, r.InputTokens, r.OutputTokens)
	}
	return tw.Flush()
}

func costFromDB(ctx context.Context, db, groupBy, since, until, dept string) (*httpapi.CostReport, error) {
	if !slices.Contains(store.CostGroupNames(), groupBy) {
		return nil, usagef("--group-by %q: must be department, user, key, model or day", groupBy)
	}
	s, err := parseTimeFlag("since", since)
	if err != nil {
		return nil, err
	}
	u, err := parseTimeFlag("until", until)
	if err != nil {
		return nil, err
	}
	d, err := openMigrated(ctx, db)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rows, err := store.CostReport(ctx, d.ReadConn(), groupBy, s, u, dept, dept == "")
	if err != nil {
		return nil, err
	}
	return httpapi.NewCostReport(groupBy, dept, s, u, rows), nil
}

func parseTimeFlag(name, v string) (time.Time, error) {
	t, err := httpapi.ParseTime(v)
	if err != nil {
		return time.Time{}, usagef("--%s %v", name, err)
	}
	return t, nil
}

// runBudget shows or sets a department's budget through a server.
func runBudget(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		server, apiKey string
		daily, monthly float64
		warnPct        int64
		webhook        string
		set            bool
	)
	fs := flag.NewFlagSet("budget", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.BoolVar(&set, "set", false, "set the budget (admin key) instead of showing it")
	fs.Float64Var(&daily, "daily", 0, "daily limit in USD (0: none)")
	fs.Float64Var(&monthly, "monthly", 0, "monthly limit in USD (0: none)")
	fs.Int64Var(&warnPct, "warn-pct", 80, "warn once a period when this share of a limit is used (0: never)")
	fs.StringVar(&webhook, "webhook", "", "URL that gets a JSON POST when the warning fires")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: netsmith budget DEPARTMENT [--set --daily USD --monthly USD --warn-pct N --webhook URL]")
	}
	c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	var v *httpapi.BudgetView
	if set {
		v, err = c.SetBudget(ctx, pos[0], &httpapi.BudgetRequest{DailyUSD: daily, MonthlyUSD: monthly, WarnPct: &warnPct, WebhookURL: webhook})
	} else {
		v, err = c.Budget(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, budgetLine(v))
	for _, u := range v.Usage {
		rem := "no limit"
		if u.RemainingUSD != nil {
			rem = fmt.Sprintf("$%.4f remaining", *u.RemainingUSD)
		}
		fmt.Fprintf(stdout, "  %-5s %s: spent $%.4f, reserved $%.4f, %s\n", u.Period, u.Name, u.SpentUSD, u.ReservedUSD, rem)
	}
	return nil
}

// budgetLine is a department's budget in a sentence; without limits
// it says so and how to set one, rather than "daily $none, warn at 0%".
func budgetLine(v *httpapi.BudgetView) string {
	if v.DailyUSD == 0 && v.MonthlyUSD == 0 {
		return fmt.Sprintf("department %s: no budget (set one with `netsmith budget %s --set --daily USD`)", v.Department, v.Department)
	}
	line := fmt.Sprintf("department %s: daily %s, monthly %s", v.Department, limitText(v.DailyUSD), limitText(v.MonthlyUSD))
	if v.WarnPct > 0 {
		line += fmt.Sprintf(", warn at %d%%", v.WarnPct)
	}
	return line
}

func limitText(v float64) string {
	if v == 0 {
		return "no limit"
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}
