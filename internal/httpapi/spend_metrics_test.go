package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
)

// TestMetricsSpendNeedsKey: once keys exist, /metrics serves department
// spend only to a key that may see it (admin all, a user its own), none
// without a key, and refuses a wrong key; the rest of /metrics stays open.
// Without keys (open mode) everything is served.
func TestMetricsSpendNeedsKey(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	db := dbtest.Open(t, dbtest.SQLite(t))
	q, err := queue.New(db, queue.Config{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
		q.Close()
	})
	m.CostUSD.WithLabelValues("neteng").Add(1.5)
	m.CostUSD.WithLabelValues("secops").Add(2.5)
	m.BudgetAlerts.WithLabelValues("secops", "day").Inc()
	m.JobsTotal.WithLabelValues("generate", "succeeded", "none").Inc()
	newServer := func() http.Handler {
		return httpapi.NewServer(httpapi.Config{}, httpapi.Deps{DB: db, Queue: q, Metrics: m, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	}
	h := newServer()
	get := func(key string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	neteng := `netsmith_cost_usd_total{department="neteng"} 1.5`
	secops := `netsmith_cost_usd_total{department="secops"} 2.5`
	alert := `netsmith_budget_alerts_total{department="secops",period="day"} 1`
	jobs := `netsmith_jobs_total{kind="generate",reason="none",status="succeeded"} 1`

	if code, body := get(""); code != 200 || !strings.Contains(body, neteng) || !strings.Contains(body, secops) {
		t.Fatalf("open mode: %d, want every department's spend:\n%s", code, grep(body, "department"))
	}
	r := &rig{Queue: q, DB: db}
	admin := addKey(t, r, netcfg.Key{Name: "ops", Department: "platform", Role: netcfg.RoleAdmin})
	user := addKey(t, r, netcfg.Key{Name: "alice", Department: "neteng", Role: netcfg.RoleUser})
	// A server remembers "no keys" for a second; a new one looks at once.
	h = newServer()
	for _, tc := range []struct {
		name, key  string
		want, not  []string
		wantStatus int
	}{
		{"no key", "", []string{jobs}, []string{neteng, secops, alert}, 200},
		{"admin", admin, []string{neteng, secops, alert, jobs}, nil, 200},
		{"user", user, []string{neteng, jobs}, []string{secops, alert}, 200},
		{"wrong key", "nsk_wrong", nil, []string{neteng, secops}, 401},
	} {
		code, body := get(tc.key)
		if code != tc.wantStatus {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.wantStatus)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %s", tc.name, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: shows %s", tc.name, n)
			}
		}
	}
}

// grep returns the lines of s holding sub.
func grep(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
