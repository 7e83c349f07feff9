package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

func clientFlags(fs *flag.FlagSet, server, apiKey *string) {
	fs.StringVar(server, "server", "http://127.0.0.1:8080", "netsmith server `URL`")
	fs.StringVar(apiKey, "api-key", "", "API key (or NETSMITH_API_KEY)")
}

func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	var (
		server, apiKey, reqFile                   string
		hostname, platform, role, osVersion, site string
		requirements, varsJSON, kind, configFile  string
		idemKey                                   string
		expiresIn                                 time.Duration
		wait, asJSON                              bool
	)
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.StringVar(&reqFile, "f", "", "read the whole job request (JSON, as POST /v1/jobs takes it) from `FILE` (- for stdin)")
	fs.StringVar(&kind, "kind", "generate", "job kind: generate or analyze")
	fs.StringVar(&hostname, "hostname", "", "device hostname")
	fs.StringVar(&platform, "platform", "", "device platform (cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos, frr)")
	fs.StringVar(&role, "role", "", "device role")
	fs.StringVar(&osVersion, "os-version", "", "OS version")
	fs.StringVar(&site, "site", "", "site")
	fs.StringVar(&requirements, "requirements", "", "requirements text")
	fs.StringVar(&varsJSON, "vars", "", "device vars as a JSON object")
	fs.StringVar(&configFile, "config-file", "", "config to analyze (kind analyze)")
	fs.StringVar(&idemKey, "idempotency-key", "", "idempotency key")
	fs.DurationVar(&expiresIn, "expires-in", 0, "expire the job if not started within this time")
	fs.BoolVar(&wait, "wait", false, "wait for the job and print its config")
	fs.BoolVar(&asJSON, "json", false, "print the job as JSON")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var req httpapi.SubmitRequest
	if reqFile != "" {
		b, err := readInput(reqFile, stdin)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &req); err != nil {
			return usagef("%s: %v", reqFile, err)
		}
	} else {
		req.Kind = netcfg.JobKind(kind)
		switch req.Kind {
		case netcfg.KindAnalyze:
			if configFile == "" {
				return usagef("kind analyze needs --config-file")
			}
			b, err := readInput(configFile, stdin)
			if err != nil {
				return err
			}
			req.Platform, req.Config = netcfg.Platform(platform), string(b)
		default:
			d := &netcfg.Device{Hostname: hostname, Platform: netcfg.Platform(platform), Role: role, OSVersion: osVersion, Site: site}
			if varsJSON != "" {
				if err := json.Unmarshal([]byte(varsJSON), &d.Vars); err != nil {
					return usagef("--vars: %v", err)
				}
			}
			req.Device, req.Requirements = d, requirements
		}
	}
	if idemKey != "" {
		req.IdempotencyKey = idemKey
	}
	if expiresIn > 0 {
		req.ExpiresIn = httpapi.Duration(expiresIn)
	}
	if err := req.Validate(); err != nil {
		return &usageError{err}
	}
	c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	sub, err := c.Submit(ctx, &req)
	if err != nil {
		return err
	}
	if !wait {
		if asJSON {
			return json.NewEncoder(stdout).Encode(sub)
		}
		fmt.Fprintln(stdout, sub.ID)
		return nil
	}
	j, err := c.Wait(ctx, sub.ID, nil)
	if err != nil {
		return err
	}
	return printJob(stdout, j, asJSON, true)
}

func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var server, apiKey string
	var asJSON bool
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	clientFlags(fs, &server, &apiKey)
	fs.BoolVar(&asJSON, "json", false, "print the job as JSON")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: netsmith status [--server URL] JOB_ID")
	}
	c := httpapi.NewClient(server, nil, cmp.Or(apiKey, getenv("NETSMITH_API_KEY")))
	j, err := c.Job(ctx, pos[0])
	if err != nil {
		return err
	}
	return printJob(stdout, j, asJSON, false)
}

// printJob prints a job: as JSON, or as a short summary (and with
// configOnly a succeeded generate job prints just its config).
func printJob(w io.Writer, j *httpapi.JobView, asJSON, configOnly bool) error {
	if asJSON {
		return printJSON(w, j)
	}
	var res generate.Result
	if j.Result != nil {
		if err := json.Unmarshal(j.Result, &res); err != nil {
			return err
		}
	}
	if configOnly && j.Status == netcfg.StateSucceeded && res.Config != "" {
		_, err := io.WriteString(w, res.Config)
		return err
	}
	fmt.Fprintf(w, "job       %s\nkind      %s\nstatus    %s\nattempts  %d/%d\ncreated   %s\n",
		j.ID, j.Kind, j.Status, j.Attempts, j.MaxAttempts, j.CreatedAt.Format(time.RFC3339))
	if j.FinishedAt != nil {
		fmt.Fprintf(w, "finished  %s\n", j.FinishedAt.Format(time.RFC3339))
	}
	if j.Error != "" {
		fmt.Fprintf(w, "error     %s\n", j.Error)
	}
	if j.Result != nil {
		fmt.Fprintf(w, "provider  %s (%s)\ntokens    %d in, %d out\n", res.Provider, res.Model, res.Tokens.Input, res.Tokens.Output)
		if res.Config != "" {
			fmt.Fprintf(w, "\n%s", res.Config)
		}
		if res.SecondOpinion != "" {
			fmt.Fprintf(w, "\nmodel's findings:\n%s", res.SecondOpinion)
		}
	}
	if !j.Status.Final() || j.Status == netcfg.StateSucceeded {
		return nil
	}
	return fmt.Errorf("job %s %s", j.ID, j.Status)
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var db string
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&db, "db", "sqlite://netsmith.db", "database `URL`")
	if _, err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	d, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := d.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, a := range applied {
		fmt.Fprintln(stdout, "applied", a)
	}
	return nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &usageError{err}
	}
	return b, nil
}
