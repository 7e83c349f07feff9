package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"netsmith/internal/llm/fakeanthropic"
)

// runFakeAnthropic serves the fake Anthropic API (package fakeanthropic)
// until ctx is cancelled, then shuts down gracefully. It prints the base URL
// it listens on (http://host:port) as the only line on stdout, so scripts and
// tests can start it with --listen 127.0.0.1:0; logs go to stderr.
func runFakeAnthropic(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg                        fakeanthropic.Config
		listen, models             string
		logLevel, logFormat        string
		shutdownTimeout, readLimit time.Duration
	)
	fs := flag.NewFlagSet("fake-anthropic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&listen, "listen", "127.0.0.1:8089", "address to listen on (port 0 picks one)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "mean time to answer a message")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "spread of the latency (half-width for uniform, standard deviation for normal)")
	fs.StringVar(&cfg.Distribution, "distribution", "", "latency distribution: fixed, uniform or normal (uniform when --jitter is set)")
	fs.DurationVar(&cfg.PerOutputToken, "per-output-token", 0, "latency added per output token")
	fs.Int64Var(&cfg.RequestsPerMinute, "rpm", 0, "requests per minute (0: unlimited)")
	fs.Int64Var(&cfg.InputTokensPerMinute, "itpm", 0, "input tokens per minute (0: unlimited)")
	fs.Int64Var(&cfg.OutputTokensPerMinute, "otpm", 0, "output tokens per minute (0: unlimited)")
	fs.DurationVar(&cfg.Burst, "burst", time.Minute, "how much of a minute's allowance may be spent at once")
	fs.Float64Var(&cfg.Error500Rate, "error-500", 0, "fraction of admitted messages answered 500 api_error")
	fs.Float64Var(&cfg.Error529Rate, "error-529", 0, "fraction of admitted messages answered 529 overloaded_error")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed for injected errors, latency and ids")
	fs.StringVar(&cfg.InvalidMarker, "invalid-marker", fakeanthropic.DefaultInvalidMarker, "prompts containing this get 400 invalid_request_error")
	fs.StringVar(&cfg.APIKey, "api-key", "", "the only x-api-key accepted (default: any non-empty key)")
	fs.BoolVar(&cfg.NoAuth, "no-auth", false, "accept requests without x-api-key")
	fs.StringVar(&models, "models", "", "comma-separated models to serve; others get 404 (default: any)")
	fs.DurationVar(&cfg.BatchTime, "batch-time", 10*time.Second, "how long a Message Batch takes to end")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for requests in flight on shutdown")
	fs.DurationVar(&readLimit, "read-header-timeout", 10*time.Second, "how long a client may take to send request headers")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	pos, err := parseFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if models != "" {
		for m := range strings.SplitSeq(models, ",") {
			if m = strings.TrimSpace(m); m != "" {
				cfg.Models = append(cfg.Models, m)
			}
		}
	}
	if err := validateFake(cfg); err != nil {
		return err
	}
	logger, err := newLogger(stderr, logLevel, logFormat)
	if err != nil {
		return err
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fake := fakeanthropic.New(cfg, logger)
	srv := &http.Server{
		Handler:           fake,
		ReadHeaderTimeout: readLimit,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	logger.InfoContext(ctx, "fake-anthropic listening", "addr", ln.Addr().String(),
		"latency", cfg.Latency.String(), "jitter", cfg.Jitter.String(),
		"rpm", cfg.RequestsPerMinute, "itpm", cfg.InputTokensPerMinute, "otpm", cfg.OutputTokensPerMinute,
		"error_500", cfg.Error500Rate, "error_529", cfg.Error529Rate, "seed", cfg.Seed)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if shutdownErr != nil {
		shutdownErr = errors.Join(fmt.Errorf("shut down: %w", shutdownErr), srv.Close())
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(fmt.Errorf("serve: %w", err), shutdownErr)
	}
	st := fake.Stats()
	logger.InfoContext(sctx, "fake-anthropic stopped", "requests", st.Requests, "succeeded", st.Succeeded,
		"rate_limited", st.RateLimited, "overloaded", st.Overloaded, "server_errors", st.ServerErrors,
		"input_tokens", st.InputTokens, "output_tokens", st.OutputTokens)
	return shutdownErr
}

// validateFake checks the fake's flags before anything listens.
func validateFake(cfg fakeanthropic.Config) error {
	switch {
	case cfg.Latency < 0 || cfg.Jitter < 0 || cfg.PerOutputToken < 0 || cfg.BatchTime < 0:
		return usagef("--latency, --jitter, --per-output-token and --batch-time must not be negative")
	case cfg.RequestsPerMinute < 0 || cfg.InputTokensPerMinute < 0 || cfg.OutputTokensPerMinute < 0:
		return usagef("--rpm, --itpm and --otpm must not be negative")
	case cfg.Burst <= 0:
		return usagef("--burst must be positive")
	case cfg.Error500Rate < 0 || cfg.Error500Rate > 1 || cfg.Error529Rate < 0 || cfg.Error529Rate > 1 ||
		cfg.Error500Rate+cfg.Error529Rate > 1:
		return usagef("--error-500 %g and --error-529 %g must be fractions between 0 and 1 with a sum of at most 1",
			cfg.Error500Rate, cfg.Error529Rate)
	}
	switch cfg.Distribution {
	case "", fakeanthropic.Fixed, fakeanthropic.Uniform, fakeanthropic.Normal:
	default:
		return usagef("--distribution %q: must be fixed, uniform or normal", cfg.Distribution)
	}
	return nil
}
