package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
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
	cfg.ReadTimeout, cfg.ReadHeaderTimeout, cfg.IdleTimeout = time.Minute, 10*time.Second, 2*time.Minute
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
	// Once the batch ends, stopping the server cancels the jobs in flight;
	// each would log a warning, and an interrupted batch says all there
	// is to say in one line.
	quiet := new(atomic.Bool)
	logger = slog.New(&quietHandler{Handler: logger.Handler(), quiet: quiet})
	slog.SetDefault(logger)
	cfg.internalKey, _ = httpapi.NewAPIKey()
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	s, err := startServer(srvCtx, cfg, logger)
	if err != nil {
		stopServer()
		return nil, nil, err
	}
	stop := func() {
		quiet.Store(true)
		stopServer()
		<-s.done
	}
	return httpapi.NewClient("http://"+s.addr, nil, cfg.internalKey), stop, nil
}

// quietHandler drops every record once quiet is set.
type quietHandler struct {
	slog.Handler
	quiet *atomic.Bool
}

func (h *quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.quiet.Load() && h.Handler.Enabled(ctx, l)
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithAttrs(attrs), quiet: h.quiet}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithGroup(name), quiet: h.quiet}
}
