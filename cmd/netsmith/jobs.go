package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"netsmith/internal/httpapi"
)

// runJobs lists jobs through a server (GET /v1/jobs), newest first: one
// page, or every page with --all.
func runJobs(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var (
		server, apiKey, state, batch, dept, cursor string
		limit                                      int
		all, asJSON                                bool
	)
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.StringVar(&state, "state", "", "only jobs in this state: queued, running, retrying, succeeded, failed, canceled, expired")
	fs.StringVar(&batch, "batch", "", "only the jobs of this batch `ID`")
	fs.StringVar(&dept, "department", "", "only this department's jobs (admin keys; a user key sees its own)")
	fs.IntVar(&limit, "limit", 50, "jobs per page (1 to 1000)")
	fs.StringVar(&cursor, "cursor", "", "start at this page (a next_cursor)")
	fs.BoolVar(&all, "all", false, "follow the pages to the last job")
	fs.BoolVar(&asJSON, "json", false, "print each page as JSON")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for k, v := range map[string]string{"state": state, "batch": batch, "department": dept} {
		if v != "" {
			q.Set(k, v)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "ID\tSTATUS\tKIND\tBATCH\tCREATED\tERROR")
	}
	for {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := c.Jobs(ctx, q)
		if err != nil {
			return badRequestAsUsage(err)
		}
		if asJSON {
			if err := json.NewEncoder(stdout).Encode(page); err != nil {
				return err
			}
		}
		for _, j := range page.Jobs {
			if !asJSON {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, j.Kind, cmp.Or(j.BatchID, "-"),
					j.CreatedAt.Format(time.RFC3339), j.Error)
			}
		}
		cursor = page.NextCursor
		if !all || cursor == "" {
			break
		}
	}
	if !asJSON {
		if err := tw.Flush(); err != nil {
			return err
		}
		if cursor != "" {
			fmt.Fprintf(stdout, "more: --cursor %s (or --all)\n", cursor)
		}
	}
	return nil
}
