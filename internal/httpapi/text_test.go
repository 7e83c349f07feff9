package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
)

// TestBadBytes sends a NUL or bytes that are not UTF-8 wherever a job id,
// department, idempotency key or budget path reaches a query: each is 400
// or 404, never 500 (PostgreSQL refuses them with SQLSTATE 22021).
func TestBadBytes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		srv, _ := newServerOn(t, url, httpapi.Config{}, 0, nil)
		job := func(extra string) string {
			return `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_ios"},"requirements":"x"` + extra + `}`
		}
		for _, tc := range []struct {
			method, path, body string
			header             string // Idempotency-Key
			want               int
			field              string
		}{
			{"GET", "/v1/jobs/a%00b", "", "", 400, "id"},
			{"GET", "/v1/jobs/a%FFb", "", "", 400, "id"},
			{"GET", "/v1/jobs/a%00b/events", "", "", 400, "id"},
			{"DELETE", "/v1/jobs/a%C3%28", "", "", 400, "id"},
			{"GET", "/api/job-status/a%00b", "", "", 400, "job_id"},
			{"GET", "/v1/batches/a%00b", "", "", 400, "id"},
			{"GET", "/v1/batches/a%FFb/results", "", "", 400, "id"},
			{"GET", "/v1/budgets/a%00b", "", "", 400, "department"},
			{"PUT", "/v1/budgets/a%FFb", `{"daily_usd":1}`, "", 400, "department"},
			{"GET", "/v1/jobs?department=a%00b", "", "", 400, "department"},
			{"GET", "/v1/costs?department=a%FFb", "", "", 400, "department"},
			{"POST", "/v1/batches?department=a%00b", "devices: []", "", 400, "department"},
			{"POST", "/v1/jobs", job(`,"department":"a\u0000b"`), "", 400, "department"},
			{"POST", "/v1/jobs", job(`,"idempotency_key":"a\u0000b"`), "", 400, "idempotency_key"},
			{"POST", "/v1/jobs", job(""), "a\xffb", 400, "Idempotency-Key"},
			{"POST", "/api/generate-config", `{"device_name":"sw1","requirements":"x"}`, "a\xffb", 400, "Idempotency-Key"},
		} {
			var header []string
			if tc.header != "" {
				header = []string{"Idempotency-Key", tc.header}
			}
			expect(t, srv.URL, tc.method, tc.path, tc.body, tc.want, tc.field, header...)
		}
	})
}

// expect sends a JSON request and checks its status and, when field is not
// empty, that the error message starts by naming field.
func expect(t *testing.T, base, method, path, body string, want int, field string, header ...string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("%s %.60s %.80q: %d %.200s, want %d", method, path, body, resp.StatusCode, b, want)
		return
	}
	if len(b) > 1000 {
		t.Errorf("%s %.60s: a %d-byte answer echoes the input", method, path, len(b))
	}
	if field == "" {
		return
	}
	var out struct{ Error struct{ Message string } }
	if err := json.Unmarshal(b, &out); err != nil || !strings.HasPrefix(out.Error.Message, field+":") {
		t.Errorf("%s %.60s %.80q: message %q, want it to name %s", method, path, body, out.Error.Message, field)
	}
}
