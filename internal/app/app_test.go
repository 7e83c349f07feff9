package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"netsmith/internal/app"
	"netsmith/internal/dbtest"
	"netsmith/internal/llm/sim"
	"netsmith/internal/netcfg"
	"netsmith/internal/pricing"
	"netsmith/internal/queue/queuetest"
	"netsmith/internal/submit"
)

// TestMain fails the package's tests when a goroutine Open started is
// still running after the last test: Close ends all of them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type who struct{}

func (who) Attribute(j *netcfg.Job, _ string) error {
	j.Department, j.Owner = "a", "tester"
	return nil
}
func (who) Admit(context.Context) error { return nil }

// TestOpenRunClose builds the graph on each database, runs one job
// through it and closes it. Provider "anthropic" (answered by the sim
// client) adds the upstream limiter, whose state on SQLite is a database
// of its own that Close must close too.
func TestOpenRunClose(t *testing.T) {
	for _, provider := range []string{"sim", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, url string) {
				ctx := t.Context()
				a, err := app.Open(ctx, app.Config{DB: url, Calls: 2, Role: "all", Provider: provider, Model: "sim-1",
					MaxTokens: 8192, MaxAttempts: 3, JobTimeout: 30 * time.Second, RescueAfter: time.Minute,
					Cache: true, CacheTTL: time.Hour}, sim.New(sim.Config{}), "sim-1", pricing.Default(), slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				if err := a.Queue.Start(ctx); err != nil {
					t.Fatal(err)
				}
				req := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "An access switch.",
					Device: &netcfg.Device{Hostname: "sw1", Platform: "cisco_xe"}}
				j, _, err := a.Submit.Job(ctx, who{}, submit.Job{Request: req})
				if err != nil {
					t.Fatal(err)
				}
				if j = queuetest.WaitState(t, a.Queue, j.ID, time.Minute); j.State != netcfg.StateSucceeded || j.Result == nil || len(j.Result.Body) == 0 {
					t.Fatalf("job ended %s (error %q), want succeeded with a result", j.State, j.Error)
				}
				stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := a.Queue.Stop(stop); err != nil {
					t.Fatal(err)
				}
				a.Close()
				a.Close() // a second Close does nothing
			})
		})
	}
}

// TestOpenFails: a database Open cannot use is an error, and what Open
// started before it is closed (TestMain checks that nothing keeps running).
func TestOpenFails(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"mysql://localhost/netsmith",
		"sqlite://" + filepath.Join(t.TempDir(), "missing", "netsmith.db"),
	} {
		a, err := app.Open(t.Context(), app.Config{DB: url, Provider: "sim", Model: "sim-1"},
			sim.New(sim.Config{}), "sim-1", pricing.Default(), slog.New(slog.DiscardHandler))
		if err == nil {
			a.Close()
			t.Errorf("Open(%s) succeeded, want an error", url)
		}
		if err != nil && !strings.Contains(err.Error(), url) {
			t.Errorf("Open(%s) = %v, want an error naming the database", url, err)
		}
	}
}
