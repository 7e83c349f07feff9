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
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.header != "" {
				req.Header.Set("Idempotency-Key", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s %q: %d %s, want %d", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.want)
				continue
			}
			var out struct{ Error struct{ Message string } }
			if err := json.Unmarshal(b, &out); err != nil || !strings.HasPrefix(out.Error.Message, tc.field+":") {
				t.Errorf("%s %s %q: message %q, want it to name %s", tc.method, tc.path, tc.body, out.Error.Message, tc.field)
			}
		}
	})
}
