package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"netsmith/internal/httpapi"
)

// defaultDepartment pays for an embedded batch that names none.
const defaultDepartment = "default"

// startEmbedded runs a server for one batch on a loopback port and returns
// a client of it and the function that stops it. The client holds a secret
// made for this run only (never stored), which the server takes as an admin:
// the batch runs in this process on the operator's own database, so API
// keys created with `netsmith keys create` do not lock it out.
func startEmbedded(ctx context.Context, cfg *Config, getenv func(string) string, stderr io.Writer) (*httpapi.Client, func(), error) {
	if err := cfg.secrets(getenv); err != nil {
		return nil, nil, err
	}
	cfg.Listen, cfg.Role, cfg.MaxQueue, cfg.MaxBody, cfg.ShutdownTimeout = "127.0.0.1:0", "all", 0, 1<<20, 10*time.Second
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn" // keep the terminal for progress
	}
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	logger, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, nil, err
	}
	slog.SetDefault(logger)
	cfg.internalKey, _ = httpapi.NewAPIKey()
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	s, err := startServer(srvCtx, cfg, logger)
	if err != nil {
		stopServer()
		return nil, nil, err
	}
	stop := func() {
		stopServer()
		<-s.done
	}
	return httpapi.NewClient("http://"+s.addr, nil, cfg.internalKey), stop, nil
}
