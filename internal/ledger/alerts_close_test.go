package ledger

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
)

// TestAlertsCloseEndsPost: Close ends a webhook post that is still in flight
// once its context has ended, and returns only after the post has; an alert
// after Close posts nothing.
func TestAlertsCloseEndsPost(t *testing.T) {
	t.Parallel()
	arrived, ended := make(chan struct{}, 1), make(chan struct{}, 1)
	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client go
		arrived <- struct{}{}
		<-r.Context().Done() // a receiver that never answers
		ended <- struct{}{}
	}))
	t.Cleanup(hook.Close)
	b := NewAlerts(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New(prometheus.NewRegistry()))
	b.client.Timeout = time.Hour // only Close may end the post
	alert := netcfg.BudgetAlert{Department: "ops", WarnPct: 80, WebhookURL: hook.URL,
		Usage: netcfg.BudgetUsage{Period: "day", Name: "d2026-12-07"}}
	b.Alert(alert)
	select {
	case <-arrived:
	case <-time.After(30 * time.Second): // a guard only
		t.Fatal("the webhook post never arrived")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan struct{})
	go func() { b.Close(ctx); close(closed) }() // must cancel the post and wait for it
	for _, ch := range []chan struct{}{closed, ended} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second): // a guard only
			t.Fatal("Close did not end the post in flight")
		}
	}
	b.Alert(alert)
	b.Close(context.Background())
	if n := posts.Load(); n != 1 {
		t.Errorf("%d webhook posts, want 1: an alert after Close must not post", n)
	}
}
