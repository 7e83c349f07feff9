package ledger_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"netsmith/internal/ledger"
	"netsmith/internal/store"
)

// TestAlertsPostAndClose: an alert with a webhook is posted with its
// department and period; Close waits for a post in flight until its
// context ends, then cancels it.
func TestAlertsPostAndClose(t *testing.T) {
	got := make(chan map[string]any, 4)
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		got <- body
		if body["department"] == "slow" {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(hold)
	a := ledger.NewAlerts(slog.New(slog.DiscardHandler), nil)
	alert := func(dept string) store.BudgetAlert {
		return store.BudgetAlert{Department: dept, WarnPct: 80, WebhookURL: srv.URL,
			Usage: store.BudgetUsage{Period: "daily", Name: "2026-12-07", LimitNUSD: 10e9, SpentNUSD: 9e9}}
	}
	a.Alert(alert("net"))
	select {
	case b := <-got:
		if b["event"] != "budget_threshold" || b["department"] != "net" || b["period"] != "daily" {
			t.Errorf("webhook body %v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook post")
	}
	a.Alert(alert("slow"))
	<-got // the slow post is in flight
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { a.Close(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not cancel the post in flight once its context ended")
	}
	if ctx.Err() == nil {
		t.Error("Close returned before its context ended, with a post still held")
	}
}
