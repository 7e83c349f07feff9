package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/ledger"
	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/submit"
)

// newMoneyServer is newServer with Deps.Estimate set, so submissions reserve
// est's answer against their department's budget.
func newMoneyServer(t *testing.T, cfg httpapi.Config, workers int, est func(*netcfg.JobRequest) int64) (*httptest.Server, *rig) {
	t.Helper()
	var estimate func(*netcfg.JobRequest) (int64, error)
	if est != nil {
		estimate = func(r *netcfg.JobRequest) (int64, error) { return est(r), nil }
	}
	return newServerOn(t, dbtest.SQLite(t), cfg, workers, estimate)
}

// newServerOn is newMoneyServer on the database at url.
func newServerOn(t *testing.T, url string, cfg httpapi.Config, workers int, est func(*netcfg.JobRequest) (int64, error)) (*httptest.Server, *rig) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	db := dbtest.Open(t, url)
	q, err := queue.New(db, queue.Config{
		Workers: workers, DepthTTL: time.Nanosecond, PollInterval: 50 * time.Millisecond, Metrics: m,
		Work: func(ctx context.Context, j *netcfg.Job) (*netcfg.Result, error) {
			return &netcfg.Result{Body: []byte(`{"kind":"generate","config":"hostname x\n","provider":"test","model":"m","tokens":{"input":1,"output":2,"total":3}}`)}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(cfg, httpapi.Deps{DB: db, Queue: q, Metrics: m, Registry: reg,
		Logger: slog.New(slog.DiscardHandler), Money: ledger.New(db, nil),
		Submit: submit.New(submit.Config{MaxQueue: cfg.MaxQueue}, submit.Deps{Queue: q, Estimate: est})}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
		q.Close()
	})
	return srv, &rig{Queue: q, DB: db}
}

// rig is a test server's queue and database.
type rig struct {
	*queue.Queue
	DB *store.DB
}

// addKey stores k (its ID and CreatedAt filled in) and returns its secret.
// Create keys before the server's first request: until then the server may
// remember for a second that there are none.
func addKey(t testing.TB, q *rig, k netcfg.Key) string {
	t.Helper()
	secret, hash := httpapi.NewAPIKey()
	k.ID, k.CreatedAt = httpapi.NewKeyID(), time.Now()
	if err := store.InsertKey(t.Context(), q.DB.Conn(), &k, hash); err != nil {
		t.Fatal(err)
	}
	return secret
}

// call sends a request with key as bearer token (none when "") and returns
// the response, its body already read.
func call(t testing.TB, method, url, key, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// callJSON is call for JSON answers.
func callJSON(t testing.TB, method, url, key, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := call(t, method, url, key, body, header...)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer %d is not a JSON object: %q", method, url, resp.StatusCode, b)
	}
	return resp, out
}

// errorOf returns the error object of an error answer (nil if none).
func errorOf(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	return e
}

// wantError fails unless the answer has status code and an error of type
// typ whose message contains inMsg.
func wantError(t testing.TB, what string, resp *http.Response, body map[string]any, code int, typ, inMsg string) {
	t.Helper()
	e := errorOf(body)
	msg, _ := e["message"].(string)
	if resp.StatusCode != code || e["type"] != typ || !strings.Contains(msg, inMsg) {
		t.Errorf("%s = %d %v; want %d with type %q and a message containing %q", what, resp.StatusCode, body, code, typ, inMsg)
	}
}

// submitAs posts a job to /v1/jobs with key and returns its id (fatal
// unless 202).
func submitAs(t testing.TB, url, key, body string) string {
	t.Helper()
	resp, out := callJSON(t, http.MethodPost, url+"/v1/jobs", key, body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v, want 202", resp.StatusCode, out)
	}
	id, _ := out["id"].(string)
	if id == "" {
		t.Fatalf("submit: no id in %v", out)
	}
	return id
}

// queued returns how many jobs wait in the queue.
func queued(t testing.TB, q *rig) int64 {
	t.Helper()
	d, err := q.Depth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return d[netcfg.StateQueued]
}

func withDepartment(dept string) string {
	return strings.Replace(validJob, `{"kind"`, `{"department":"`+dept+`","kind"`, 1)
}

func TestOpenMode(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 0)
	id := submitAs(t, srv.URL, "", validJob)
	if resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/jobs/"+id, "", ""); resp.StatusCode != 200 || body["id"] != id {
		t.Errorf("GET job without a key in open mode = %d %v, want 200", resp.StatusCode, body)
	}
	resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/whoami", "", "")
	if resp.StatusCode != 200 || body["open"] != true || body["role"] != netcfg.RoleAdmin || body["key_id"] != "" {
		t.Errorf("whoami in open mode = %d %v, want 200 open admin without key id", resp.StatusCode, body)
	}
	// Open mode is an admin: it may set budgets.
	if resp, body := callJSON(t, http.MethodPut, srv.URL+"/v1/budgets/a", "", `{"daily_usd":1}`); resp.StatusCode != 200 {
		t.Errorf("PUT budget in open mode = %d %v, want 200", resp.StatusCode, body)
	}
	// A department named in open mode is who pays.
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", "", withDepartment("neteng"))
	if resp.StatusCode != 202 {
		t.Fatalf("submit for neteng in open mode = %d %v", resp.StatusCode, body)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	user := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	revoked := addKey(t, q, netcfg.Key{Name: "mallory", Department: "a", Role: netcfg.RoleUser})
	if ok, err := store.RevokeKey(t.Context(), q.DB.Conn(), "mallory", time.Now()); !ok || err != nil {
		t.Fatalf("revoke = %v, %v", ok, err)
	}

	authTests := []struct {
		name, header, wantInMsg string
	}{
		{"no header", "", "Bearer"},
		{"wrong key", "Bearer nsk_wrong", "invalid API key"},
		{"revoked key", "Bearer " + revoked, "revoked"},
		{"basic auth", "Basic xyz", "Bearer"},
		{"empty bearer", "Bearer  ", "Bearer"},
	}
	for _, tt := range authTests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.header != "" {
				h = []string{"Authorization", tt.header}
			}
			resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/whoami", "", "", h...)
			wantError(t, "GET /v1/whoami", resp, body, http.StatusUnauthorized, "authentication_error", tt.wantInMsg)
		})
	}

	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/v1/jobs", validJob},
		{http.MethodGet, "/v1/jobs", ""},
		{http.MethodGet, "/v1/jobs/x", ""},
		{http.MethodDelete, "/v1/jobs/x", ""},
		{http.MethodGet, "/v1/jobs/x/events", ""},
		{http.MethodGet, "/v1/queue", ""},
		{http.MethodGet, "/v1/batches/x", ""},
		{http.MethodGet, "/v1/cache/stats", ""},
		{http.MethodGet, "/v1/costs", ""},
		{http.MethodGet, "/v1/budgets/a", ""},
		{http.MethodGet, "/v1/whoami", ""},
		{http.MethodPost, "/api/generate-config", `{"device_name":"sw1","requirements":"x"}`},
		{http.MethodGet, "/api/job-status/x", ""},
	}
	for _, rt := range routes {
		resp, body := callJSON(t, rt.method, srv.URL+rt.path, "", rt.body)
		wantError(t, rt.method+" "+rt.path+" without a key", resp, body, http.StatusUnauthorized, "authentication_error", "Bearer")
	}
	if n := queued(t, q); n != 0 {
		t.Errorf("after submissions without a key, %d jobs queued, want 0", n)
	}

	// Health checks reveal nothing and their callers have no key.
	for _, path := range []string{"/healthz", "/readyz", "/api/health", "/metrics", "/"} {
		resp, _ := call(t, http.MethodGet, srv.URL+path, "", "")
		if resp.StatusCode != 200 {
			t.Errorf("GET %s without a key = %d, want 200", path, resp.StatusCode)
		}
	}

	// The same routes work with the key.
	id := submitAs(t, srv.URL, user, validJob)
	for _, path := range []string{"/v1/jobs/" + id, "/api/job-status/" + id, "/api/health"} {
		if resp, body := callJSON(t, http.MethodGet, srv.URL+path, user, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s with a key = %d %v, want 200", path, resp.StatusCode, body)
		}
	}
	resp, body := callJSON(t, http.MethodPost, srv.URL+"/api/generate-config", user, `{"device_name":"sw1","requirements":"x"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("legacy submit with a key = %d %v, want 202", resp.StatusCode, body)
	}
	resp, body = callJSON(t, http.MethodGet, srv.URL+"/v1/whoami", user, "")
	if resp.StatusCode != 200 || body["open"] != false || body["name"] != "alice" || body["department"] != "a" ||
		body["role"] != netcfg.RoleUser || !strings.HasPrefix(body["key_id"].(string), "key_") {
		t.Errorf("whoami with alice's key = %d %v", resp.StatusCode, body)
	}
}

// TestInternalKey: the server's internal key is an admin whatever keys
// exist, and only that secret is.
func TestInternalKey(t *testing.T) {
	t.Parallel()
	const internal = "nsk_internal-secret"
	srv, q := newServer(t, httpapi.Config{InternalKey: internal}, 0)
	addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/whoami", internal, "")
	if resp.StatusCode != 200 || body["role"] != netcfg.RoleAdmin || body["name"] != httpapi.InternalName || body["open"] != false {
		t.Errorf("whoami with the internal key = %d %v, want the internal admin", resp.StatusCode, body)
	}
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", internal, withDepartment("neteng"))
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("submit for neteng with the internal key = %d %v, want 202", resp.StatusCode, body)
	}
	resp, body = callJSON(t, http.MethodGet, srv.URL+"/v1/whoami", internal+"x", "")
	wantError(t, "whoami with a near miss of the internal key", resp, body, http.StatusUnauthorized, "authentication_error", "invalid API key")
}

func TestDepartmentScoping(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	userA := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	userB := addKey(t, q, netcfg.Key{Name: "bob", Department: "b", Role: netcfg.RoleUser})
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})

	id := submitAs(t, srv.URL, userA, validJob)
	_, missing := call(t, http.MethodGet, srv.URL+"/v1/jobs/no-such-job", userB, "")
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/v1/jobs/"},
		{http.MethodDelete, "/v1/jobs/"},
		{http.MethodGet, "/v1/jobs/{id}/events"},
		{http.MethodGet, "/api/job-status/"},
	} {
		path := rt.path + id
		missingPath := rt.path + "no-such-job"
		if strings.Contains(rt.path, "{id}") {
			path = strings.Replace(rt.path, "{id}", id, 1)
			missingPath = strings.Replace(rt.path, "{id}", "no-such-job", 1)
		}
		resp, got := call(t, rt.method, srv.URL+path, userB, "")
		_, want := call(t, rt.method, srv.URL+missingPath, userB, "")
		if resp.StatusCode != http.StatusNotFound || string(got) != string(want) {
			t.Errorf("%s %s as department b = %d %s; want 404 %s, as for a missing job", rt.method, path, resp.StatusCode, got, want)
		}
		if string(got) != string(missing) {
			t.Errorf("%s %s as department b = %s, want the GET of a missing job's body %s", rt.method, path, got, missing)
		}
	}
	// Bob's DELETE did not cancel it; alice and the admin see it.
	for name, key := range map[string]string{"alice": userA, "admin": admin} {
		resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/jobs/"+id, key, "")
		if resp.StatusCode != 200 || body["status"] != string(netcfg.StateQueued) {
			t.Errorf("GET job as %s = %d %v, want 200 queued", name, resp.StatusCode, body)
		}
	}

	// Batches are scoped the same way.
	resp, b := call(t, http.MethodPost, srv.URL+"/v1/batches?name=f", userA,
		"hostname,role,platform,requirements\nsw1,access,cisco_xe,Access switch.\n", "Content-Type", "text/csv")
	var batch httpapi.BatchView
	if err := json.Unmarshal(b, &batch); err != nil || resp.StatusCode != http.StatusAccepted || batch.ID == "" {
		t.Fatalf("POST /v1/batches as alice = %d %s (%v)", resp.StatusCode, b, err)
	}
	_, missingBatch := call(t, http.MethodGet, srv.URL+"/v1/batches/no-such-batch", userB, "")
	for _, path := range []string{"/v1/batches/" + batch.ID, "/v1/batches/" + batch.ID + "/results"} {
		resp, got := call(t, http.MethodGet, srv.URL+path, userB, "")
		if resp.StatusCode != http.StatusNotFound || string(got) != string(missingBatch) {
			t.Errorf("GET %s as department b = %d %s; want 404 %s", path, resp.StatusCode, got, missingBatch)
		}
		for name, key := range map[string]string{"alice": userA, "admin": admin} {
			if resp, got := call(t, http.MethodGet, srv.URL+path, key, ""); resp.StatusCode != 200 {
				t.Errorf("GET %s as %s = %d %s, want 200", path, name, resp.StatusCode, got)
			}
		}
	}

	// Alice may cancel her own job.
	resp, body := callJSON(t, http.MethodDelete, srv.URL+"/v1/jobs/"+id, userA, "")
	if resp.StatusCode != 200 || body["status"] != string(netcfg.StateCanceled) {
		t.Errorf("DELETE as alice = %d %v, want 200 canceled", resp.StatusCode, body)
	}
}

func TestSubmitDepartment(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	userA := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})

	resp, body := callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", userA, withDepartment("b"))
	wantError(t, "user of a submitting for b", resp, body, http.StatusForbidden, "permission_error", "cannot submit for b")
	resp, b := call(t, http.MethodPost, srv.URL+"/v1/batches", userA,
		"hostname,role,platform,requirements\nsw1,access,cisco_xe,Access switch.\n", "Content-Type", "text/csv")
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("batch as alice = %d %s, want 202", resp.StatusCode, b)
	}
	resp, b = call(t, http.MethodPost, srv.URL+"/v1/batches?department=b", userA,
		"hostname,role,platform,requirements\nsw2,access,cisco_xe,Access switch.\n", "Content-Type", "text/csv")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("batch as alice for department b = %d %s, want 403", resp.StatusCode, b)
	}
	if n := queued(t, q); n != 1 {
		t.Errorf("after refused submissions %d jobs queued, want the batch's 1", n)
	}

	tests := []struct {
		name, key, body, wantDept, wantOwner string
	}{
		{"user, own department named", userA, withDepartment("a"), "a", "alice"},
		{"user, none named", userA, validJob, "a", "alice"},
		{"admin for b", admin, withDepartment("b"), "b", "root"},
		{"admin, none named", admin, validJob, "ops", "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := submitAs(t, srv.URL, tt.key, tt.body)
			j, err := q.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Department != tt.wantDept || j.Owner != tt.wantOwner || !strings.HasPrefix(j.KeyID, "key_") {
				t.Errorf("job attributed to department %q owner %q key %q; want %q, %q and a key id",
					j.Department, j.Owner, j.KeyID, tt.wantDept, tt.wantOwner)
			}
		})
	}
}

func TestAdminOnly(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	userA := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})

	resp, body := callJSON(t, http.MethodPut, srv.URL+"/v1/budgets/a", userA, `{"daily_usd":100}`)
	wantError(t, "PUT budget as a user", resp, body, http.StatusForbidden, "permission_error", "admin")
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/cache/invalidate", userA, `{"all":true}`)
	wantError(t, "invalidate cache as a user", resp, body, http.StatusForbidden, "permission_error", "admin")
	if resp, body := callJSON(t, http.MethodPost, srv.URL+"/v1/cache/invalidate", admin, `{"all":true}`); resp.StatusCode != 200 || body["invalidated"] != 0.0 {
		t.Errorf("invalidate cache as admin = %d %v, want 200 invalidated 0", resp.StatusCode, body)
	}

	resp, body = callJSON(t, http.MethodPut, srv.URL+"/v1/budgets/a", admin,
		`{"daily_usd":1.5,"monthly_usd":20,"warn_pct":50,"webhook_url":"https://hooks.example/x"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT budget as admin = %d %v", resp.StatusCode, body)
	}
	want := httpapi.BudgetView{Department: "a", DailyUSD: 1.5, MonthlyUSD: 20, WarnPct: 50, WebhookURL: "https://hooks.example/x"}
	checkBudget := func(what string, v httpapi.BudgetView) {
		t.Helper()
		if v.Department != want.Department || v.DailyUSD != want.DailyUSD || v.MonthlyUSD != want.MonthlyUSD ||
			v.WarnPct != want.WarnPct || v.WebhookURL != want.WebhookURL || len(v.Usage) != 2 {
			t.Fatalf("%s = %+v, want %+v with day and month usage", what, v, want)
		}
		for i, u := range []struct {
			period string
			limit  float64
		}{{"day", 1.5}, {"month", 20}} {
			got := v.Usage[i]
			if got.Period != u.period || got.LimitUSD != u.limit || got.SpentUSD != 0 || got.ReservedUSD != 0 ||
				got.RemainingUSD == nil || *got.RemainingUSD != u.limit || got.Name == "" {
				t.Errorf("%s usage[%d] = %+v, want period %s with limit and remaining %v", what, i, got, u.period, u.limit)
			}
		}
	}
	var put httpapi.BudgetView
	remarshal(t, body, &put)
	checkBudget("PUT answer", put)
	for name, key := range map[string]string{"admin": admin, "own user": userA} {
		resp, b := call(t, http.MethodGet, srv.URL+"/v1/budgets/a", key, "")
		var got httpapi.BudgetView
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET budget as %s = %d %s (%v)", name, resp.StatusCode, b, err)
		}
		checkBudget("GET as "+name, got)
	}

	resp, body = callJSON(t, http.MethodGet, srv.URL+"/v1/budgets/b", userA, "")
	wantError(t, "GET another department's budget as a user", resp, body, http.StatusForbidden, "permission_error", "department a")

	// A department without a budget has no limits: null remaining.
	resp, b := call(t, http.MethodGet, srv.URL+"/v1/budgets/none", admin, "")
	var none httpapi.BudgetView
	if err := json.Unmarshal(b, &none); err != nil || resp.StatusCode != 200 || len(none.Usage) != 2 ||
		none.Usage[0].RemainingUSD != nil || none.DailyUSD != 0 {
		t.Errorf("GET budget without one = %d %s, want 200, no limits, null remaining", resp.StatusCode, b)
	}
}

func remarshal(t testing.TB, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

func TestBadBudget(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})
	tests := []struct {
		name, body, wantInMsg string
	}{
		{"negative daily", `{"daily_usd":-1}`, "daily_usd"},
		{"negative monthly", `{"monthly_usd":-0.5}`, "monthly_usd"},
		{"warn over 100", `{"daily_usd":1,"warn_pct":150}`, "warn_pct"},
		{"negative warn", `{"daily_usd":1,"warn_pct":-1}`, "warn_pct"},
		{"ftp webhook", `{"daily_usd":1,"webhook_url":"ftp://x"}`, "webhook_url"},
		{"unknown field", `{"daly_usd":1}`, `"daly_usd"`},
		{"wrong type", `{"daily_usd":"ten"}`, "daily_usd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := callJSON(t, http.MethodPut, srv.URL+"/v1/budgets/a", admin, tt.body)
			wantError(t, "PUT "+tt.body, resp, body, http.StatusBadRequest, "invalid_request_error", tt.wantInMsg)
		})
	}
	t.Cleanup(func() {
		if _, err := store.GetBudget(context.Background(), q.DB.Conn(), "a"); err == nil {
			t.Errorf("a refused PUT stored a budget")
		}
	})
}

func TestBudgetExceeded(t *testing.T) {
	t.Parallel()
	const estimate = 1_000_000 // nano-USD: $0.001
	srv, q := newMoneyServer(t, httpapi.Config{}, 0, func(*netcfg.JobRequest) int64 { return estimate })
	userA := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	userB := addKey(t, q, netcfg.Key{Name: "bob", Department: "b", Role: netcfg.RoleUser})
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})

	if resp, body := callJSON(t, http.MethodPut, srv.URL+"/v1/budgets/a", admin, `{"daily_usd":0.0025}`); resp.StatusCode != 200 {
		t.Fatalf("PUT budget = %d %v", resp.StatusCode, body)
	}
	first := submitAs(t, srv.URL, userA, validJob)
	submitAs(t, srv.URL, userA, validJob)
	before := queued(t, q)

	resp, body := callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", userA, validJob)
	wantError(t, "3rd submission over the daily budget", resp, body, http.StatusPaymentRequired, "budget_exceeded", `"a"`)
	e := errorOf(body)
	near := func(v any, want float64) bool {
		f, ok := v.(float64)
		return ok && math.Abs(f-want) < 1e-12
	}
	if !near(e["remaining_usd"], 0.0005) || !near(e["estimate_usd"], 0.001) || !near(e["limit_usd"], 0.0025) ||
		!near(e["reserved_usd"], 0.002) || !near(e["spent_usd"], 0) || e["period"] != "day" || e["department"] != "a" {
		t.Errorf("402 error object = %v; want remaining 0.0005, estimate 0.001, limit 0.0025, reserved 0.002, spent 0, period day, department a", e)
	}
	if after := queued(t, q); after != before || after != 2 {
		t.Errorf("queued after the 402 = %d, before %d; want 2, unchanged", after, before)
	}
	// The budget is the department's, whoever submits; a legacy submission
	// for it is refused too.
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", admin, withDepartment("a"))
	wantError(t, "admin submitting for a", resp, body, http.StatusPaymentRequired, "budget_exceeded", "day")
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/api/generate-config", userA, `{"device_name":"sw1","requirements":"x"}`)
	wantError(t, "legacy submission over budget", resp, body, http.StatusPaymentRequired, "budget_exceeded", "day")

	// Department b has no budget.
	submitAs(t, srv.URL, userB, validJob)

	resp, b := call(t, http.MethodGet, srv.URL+"/v1/budgets/a", userA, "")
	var v httpapi.BudgetView
	if err := json.Unmarshal(b, &v); err != nil || resp.StatusCode != 200 || len(v.Usage) != 2 ||
		math.Abs(v.Usage[0].ReservedUSD-0.002) > 1e-12 || v.Usage[0].RemainingUSD == nil ||
		math.Abs(*v.Usage[0].RemainingUSD-0.0005) > 1e-12 {
		t.Errorf("budget of a = %d %s; want day reserved 0.002, remaining 0.0005", resp.StatusCode, b)
	}

	// Canceling a job gives its reservation back.
	if resp, body := callJSON(t, http.MethodDelete, srv.URL+"/v1/jobs/"+first, userA, ""); resp.StatusCode != 200 {
		t.Fatalf("cancel = %d %v", resp.StatusCode, body)
	}
	submitAs(t, srv.URL, userA, validJob)
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", userA, validJob)
	wantError(t, "submission after the freed one was taken", resp, body, http.StatusPaymentRequired, "budget_exceeded", "day")
}

func TestKeyRateLimit(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	slow := addKey(t, q, netcfg.Key{Name: "slow", Department: "a", Role: netcfg.RoleUser, RPM: 10})
	other := addKey(t, q, netcfg.Key{Name: "other", Department: "a", Role: netcfg.RoleUser})

	submitAs(t, srv.URL, slow, validJob)
	resp, body := callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", slow, validJob)
	wantError(t, "immediate second submission at 10 rpm", resp, body, http.StatusTooManyRequests, "rate_limit_error", "slow")
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 6 {
		t.Errorf("Retry-After = %q, want 1 to 6 seconds", resp.Header.Get("Retry-After"))
	}
	if n := queued(t, q); n != 1 {
		t.Errorf("queued = %d, want 1", n)
	}
	// The limit is the key's, not its department's.
	submitAs(t, srv.URL, other, validJob)
}

func TestKeyMaxActive(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	capped := addKey(t, q, netcfg.Key{Name: "capped", Department: "a", Role: netcfg.RoleUser, MaxActive: 2})

	first := submitAs(t, srv.URL, capped, validJob)
	submitAs(t, srv.URL, capped, validJob)
	resp, body := callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", capped, validJob)
	wantError(t, "3rd unfinished job", resp, body, http.StatusTooManyRequests, "rate_limit_error", "2 unfinished jobs")
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want at least 1 second", resp.Header.Get("Retry-After"))
	}
	if e := errorOf(body); e["max_active"] != 2.0 || e["active"] != 2.0 {
		t.Errorf("429 error object = %v, want max_active 2 and active 2", e)
	}
	if n := queued(t, q); n != 2 {
		t.Errorf("queued = %d, want 2", n)
	}
	if resp, body := callJSON(t, http.MethodDelete, srv.URL+"/v1/jobs/"+first, capped, ""); resp.StatusCode != 200 {
		t.Fatalf("cancel = %d %v", resp.StatusCode, body)
	}
	submitAs(t, srv.URL, capped, validJob)
	resp, body = callJSON(t, http.MethodPost, srv.URL+"/v1/jobs", capped, validJob)
	wantError(t, "submission after the freed slot was taken", resp, body, http.StatusTooManyRequests, "rate_limit_error", "2 unfinished jobs")
}

func TestCosts(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 1)
	userA := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})

	badTests := []struct {
		name, query, wantInMsg string
	}{
		{"bad group_by", "group_by=color", "group_by"},
		{"bad since", "since=yesterday", "since"},
		{"bad until", "until=2026-13-45", "until"},
	}
	for _, tt := range badTests {
		resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/costs?"+tt.query, admin, "")
		wantError(t, tt.name, resp, body, http.StatusBadRequest, "invalid_request_error", tt.wantInMsg)
	}

	id := submitAs(t, srv.URL, userA, validJob)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	final, err := httpapi.NewClient(srv.URL, srv.Client(), userA).Wait(ctx, id, nil)
	if err != nil || final.Status != netcfg.StateSucceeded {
		t.Fatalf("job = %+v, %v; want succeeded", final, err)
	}

	for name, key := range map[string]string{"admin": admin, "user": userA} {
		resp, b := call(t, http.MethodGet, srv.URL+"/v1/costs?since=2020-01-01&until=2100-01-01T00:00:00Z", key, "")
		var rep httpapi.CostReport
		if err := json.Unmarshal(b, &rep); err != nil || resp.StatusCode != 200 {
			t.Fatalf("costs as %s = %d %s (%v)", name, resp.StatusCode, b, err)
		}
		if !strings.Contains(string(b), `"rows":[]`) || rep.GroupBy != "department" || rep.Total.Group != "total" ||
			rep.Total.Requests != 0 || rep.Total.CostUSD != 0 || rep.Since == nil || rep.Until == nil {
			t.Errorf("costs as %s = %s; want department groups, rows [] and a zero total", name, b)
		}
		if name == "user" && rep.Department != "a" {
			t.Errorf("costs as a user of a: department %q, want a", rep.Department)
		}
	}

	for _, tt := range []struct{ query, accept, wantHeader string }{
		{"format=csv", "", "department,requests,"},
		{"group_by=user&format=csv", "", "user,requests,"},
		{"group_by=day", "text/csv", "day,requests,"},
	} {
		resp, b := call(t, http.MethodGet, srv.URL+"/v1/costs?"+tt.query, admin, "", "Accept", tt.accept)
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Scan()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(sc.Text(), tt.wantHeader) || !strings.Contains(string(b), "\ntotal,0,0,0,") {
			t.Errorf("costs ?%s Accept %q = %d %q %q; want text/csv starting %q with a zero total",
				tt.query, tt.accept, resp.StatusCode, resp.Header.Get("Content-Type"), b, tt.wantHeader)
		}
	}

	resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/costs?department=other", userA, "")
	wantError(t, "costs of another department as a user", resp, body, http.StatusForbidden, "permission_error", "department a")
	if resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/costs?department=other", admin, ""); resp.StatusCode != 200 || body["department"] != "other" {
		t.Errorf("costs of another department as admin = %d %v, want 200", resp.StatusCode, body)
	}
}
