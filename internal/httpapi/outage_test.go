package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"netsmith/internal/faulttest"
	"netsmith/internal/httpapi"
)

// outageConfig makes readiness quick to follow in a test.
var outageConfig = httpapi.Config{OutageHold: 300 * time.Millisecond, ReadyCache: time.Millisecond, ReadyTimeout: time.Second}

// submitJob posts one distinct job and returns its status, Retry-After and
// error type.
func submitJob(t *testing.T, srv *httptest.Server, i int) (int, string, string) {
	t.Helper()
	body := fmt.Sprintf(`{"kind":"generate","device":{"hostname":"sw%d","platform":"cisco_xe"},"requirements":"access switch %d"}`, i, i)
	resp, out := post(t, srv.URL+"/v1/jobs", body)
	typ := ""
	if e, ok := out["error"].(map[string]any); ok {
		typ, _ = e["type"].(string)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), typ
}

func readyz(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// expectOutage submits jobs until one is refused and checks that the
// refusal is 503 with Retry-After, never 500, and that /readyz then fails.
func expectOutage(t *testing.T, srv *httptest.Server, from int) int {
	t.Helper()
	for i := from; i < from+500; i++ {
		code, retry, typ := submitJob(t, srv, i)
		if code == http.StatusAccepted {
			continue // room left in SQLite's WAL: this one still fit
		}
		if n, err := strconv.Atoi(retry); code != http.StatusServiceUnavailable || typ != "unavailable_error" || err != nil || n < 1 {
			t.Fatalf("during the outage: %d %s with Retry-After %q; want 503 unavailable_error with Retry-After", code, typ, retry)
		}
		if rc := readyz(t, srv); rc != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d during the outage, want 503", rc)
		}
		return i + 1
	}
	t.Fatal("500 submissions went through: the outage never showed")
	return 0
}

// expectRecovery waits until submissions and /readyz succeed again.
func expectRecovery(t *testing.T, srv *httptest.Server, from int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := from; ; i++ {
		code, _, typ := submitJob(t, srv, i)
		if code == http.StatusAccepted && readyz(t, srv) == http.StatusOK {
			return
		}
		if code != http.StatusAccepted && code != http.StatusServiceUnavailable {
			t.Fatalf("recovering: %d %s, want 202 or 503", code, typ)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within a minute: last submission %d %s", code, typ)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDiskFullIs503: SQLite on a small tmpfs filled to the last byte
// answers 503 with Retry-After (not 500) and fails /readyz; once space is
// freed, it serves again.
func TestDiskFullIs503(t *testing.T) {
	t.Parallel()
	dir := faulttest.Tmpfs(t, "16m")
	srv, _ := newServerOn(t, "sqlite://"+filepath.Join(dir, "netsmith.db"), outageConfig, 0, nil)
	if code, _, _ := submitJob(t, srv, 0); code != http.StatusAccepted || readyz(t, srv) != http.StatusOK {
		t.Fatalf("before the disk filled: submit %d", code)
	}
	free := faulttest.Fill(t, dir)
	next := expectOutage(t, srv, 1)
	free()
	expectRecovery(t, srv, next)
}

// TestPostgresDownIs503: a private PostgreSQL stopped mid-run makes the API
// answer 503 with Retry-After and /readyz fail; started again, the same
// server serves without a restart.
func TestPostgresDownIs503(t *testing.T) {
	t.Parallel()
	pg := faulttest.PrivatePostgres(t)
	srv, _ := newServerOn(t, pg.URL, outageConfig, 0, nil)
	if code, _, _ := submitJob(t, srv, 0); code != http.StatusAccepted || readyz(t, srv) != http.StatusOK {
		t.Fatalf("before the stop: submit %d", code)
	}
	pg.Stop()
	next := expectOutage(t, srv, 1)
	pg.Start()
	expectRecovery(t, srv, next)
}
