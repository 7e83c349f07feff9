package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/ledger"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/submit"
)

// TestDashboardScopeAndRetry: GET /v1/dashboard counts the whole cluster
// for an admin and only its department for a user; a failed job is
// retried as a new job of the same department, and a job that is not
// failed, or another department's, cannot be.
func TestDashboardScopeAndRetry(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})
	alice := addKey(t, q, netcfg.Key{Name: "alice", Department: "neteng", Role: netcfg.RoleUser})
	bob := addKey(t, q, netcfg.Key{Name: "bob", Department: "sec", Role: netcfg.RoleUser})
	a1 := submitAs(t, srv.URL, alice, validJob)
	a2 := submitAs(t, srv.URL, alice, validJob)
	submitAs(t, srv.URL, bob, validJob)
	now := time.Now()
	if ok, err := store.MarkState(t.Context(), q.DB.Conn(), a1, netcfg.StateFailed, "anthropic 400 invalid_request_error: too long", 1, now, now); !ok || err != nil {
		t.Fatalf("MarkState = %v, %v", ok, err)
	}

	dash := func(key string) httpapi.Dashboard {
		t.Helper()
		resp, b := call(t, http.MethodGet, srv.URL+"/v1/dashboard", key, "")
		var d httpapi.Dashboard
		if err := json.Unmarshal(b, &d); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("dashboard: %d %v %s", resp.StatusCode, err, b)
		}
		return d
	}
	d := dash(admin)
	if d.Department != "" || d.Jobs.States["queued"] != 2 || d.Jobs.States["failed"] != 1 || d.Jobs.OldestQueuedSeconds == nil {
		t.Errorf("admin dashboard jobs %+v (department %q)", d.Jobs, d.Department)
	}
	if d.Failures.ByReason["upstream_4xx"] != 1 || len(d.Failures.Latest) != 1 || d.Failures.Latest[0].JobID != a1 {
		t.Errorf("admin failures %+v", d.Failures)
	}
	if len(d.Throughput.Buckets) != 10 || d.Throughput.Buckets[9].Failed != 1 {
		t.Errorf("throughput %+v, want the failure in the last minute", d.Throughput)
	}
	if d.RiverUI != "" {
		t.Errorf("river_ui %q without River UI mounted", d.RiverUI)
	}
	if d = dash(bob); d.Department != "sec" || d.Jobs.States["queued"] != 1 || d.Jobs.States["failed"] != 0 || len(d.Failures.Latest) != 0 {
		t.Errorf("bob sees %+v %+v", d.Jobs, d.Failures)
	}
	if resp, _ := call(t, http.MethodGet, srv.URL+"/v1/dashboard", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dashboard without a key: %d, want 401", resp.StatusCode)
	}

	resp, out := callJSON(t, http.MethodPost, srv.URL+"/v1/jobs/"+a1+"/retry", bob, "")
	wantError(t, "bob retries alice's job", resp, out, http.StatusNotFound, "not_found_error", "")
	resp, out = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs/"+a2+"/retry", alice, "")
	wantError(t, "retry a queued job", resp, out, http.StatusConflict, "conflict_error", "only a failed, canceled or expired job")
	resp, out = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs/"+a1+"/retry", alice, "")
	id, _ := out["id"].(string)
	if resp.StatusCode != http.StatusAccepted || out["retry_of"] != a1 || id == "" || id == a1 {
		t.Fatalf("retry: %d %v", resp.StatusCode, out)
	}
	old, err := q.Get(t.Context(), a1)
	if err != nil {
		t.Fatal(err)
	}
	nj, err := q.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if nj.State != netcfg.StateQueued || nj.Department != "neteng" || string(nj.Request) != string(old.Request) || old.State != netcfg.StateFailed {
		t.Errorf("retried job %s %s %s (request equal: %v); old one %s", nj.ID, nj.State, nj.Department, string(nj.Request) == string(old.Request), old.State)
	}
}

// TestRiverUIBothDatabases mounts River UI (queue.RiverUI) on SQLite and
// PostgreSQL: an admin key gets River's rows, a user key 403, and writes
// 405 whoever asks.
func TestRiverUIBothDatabases(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		qq, err := queue.New(db, queue.Config{})
		if err != nil {
			t.Fatal(err)
		}
		q := &rig{Queue: qq, DB: db}
		ui, err := q.RiverUI(httpapi.RiverUIPrefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{}, httpapi.Deps{DB: db, Queue: qq, Logger: slog.New(slog.DiscardHandler), RiverUI: ui,
			Money: ledger.New(db, nil), Submit: submit.New(submit.Config{}, submit.Deps{Queue: qq})}))
		t.Cleanup(func() {
			srv.Close()
			q.Close()
		})
		admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})
		user := addKey(t, q, netcfg.Key{Name: "u", Department: "neteng", Role: netcfg.RoleUser})
		submitAs(t, srv.URL, user, validJob)

		resp, b := call(t, http.MethodGet, srv.URL+"/riverui/api/jobs?state=available&limit=10", admin, "")
		var list struct {
			Data []struct {
				Kind string `json:"kind"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &list); resp.StatusCode != http.StatusOK || err != nil || len(list.Data) != 1 || list.Data[0].Kind != "netsmith_job" {
			t.Errorf("River UI jobs: %d %v %.300s", resp.StatusCode, err, b)
		}
		if resp, _ := call(t, http.MethodGet, srv.URL+"/riverui/api/jobs?state=available", user, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("River UI for a user key: %d, want 403", resp.StatusCode)
		}
		resp, b = call(t, http.MethodPost, srv.URL+"/riverui/api/jobs/retry", admin, `{"ids":["1"]}`)
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), "read-only") {
			t.Errorf("River UI retry: %d %s, want 405", resp.StatusCode, b)
		}
		var d httpapi.Dashboard
		if resp, b := call(t, http.MethodGet, srv.URL+"/v1/dashboard", admin, ""); json.Unmarshal(b, &d) != nil || resp.StatusCode != 200 || d.RiverUI != "/riverui/" {
			t.Errorf("dashboard river_ui %q (%d)", d.RiverUI, resp.StatusCode)
		}
	})
}
