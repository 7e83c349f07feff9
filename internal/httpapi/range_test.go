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

// TestRanges holds the bounds of every number a client sends: budgets and
// expires_in, refused with the field named, and accepted at the bound.
func TestRanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		srv, _ := newServerOn(t, url, httpapi.Config{}, 0, nil)
		job := func(expires string) string {
			return `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_ios"},"requirements":"x","expires_in":` + expires + `}`
		}
		for _, tc := range []struct {
			method, path, body string
			want               int
			field              string // of the 400
		}{
			{"PUT", "/v1/budgets/eng", `{"daily_usd":1e10}`, 400, "daily_usd"},
			{"PUT", "/v1/budgets/eng", `{"daily_usd":1e308}`, 400, "daily_usd"},
			{"PUT", "/v1/budgets/eng", `{"monthly_usd":-0.01}`, 400, "monthly_usd"},
			{"PUT", "/v1/budgets/eng", `{"monthly_usd":1000000.01}`, 400, "monthly_usd"},
			{"PUT", "/v1/budgets/eng", `{"daily_usd":1000000,"monthly_usd":1000000,"warn_pct":100}`, 200, ""},
			{"POST", "/v1/jobs", job(`1e308`), 400, "expires_in"},
			{"POST", "/v1/jobs", job(`2592001`), 400, "expires_in"},
			{"POST", "/v1/jobs", job(`"720h1s"`), 400, "expires_in"},
			{"POST", "/v1/jobs", job(`"-1s"`), 400, "expires_in"},
			{"POST", "/v1/jobs", job(`2592000`), 202, ""},
			{"POST", "/v1/jobs", job(`"720h"`), 202, ""},
		} {
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.want)
				continue
			}
			if tc.field != "" {
				var out struct{ Error struct{ Message string } }
				if err := json.Unmarshal(b, &out); err != nil || !strings.Contains(out.Error.Message, tc.field+":") {
					t.Errorf("%s %s: message %q, want it to name %s", tc.path, tc.body, out.Error.Message, tc.field)
				}
			}
		}
		// The largest budget is stored as given, never as a negative
		// (no) limit.
		resp, err := http.Get(srv.URL + "/v1/budgets/eng")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v httpapi.BudgetView
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		if v.DailyUSD != httpapi.MaxBudgetUSD || v.MonthlyUSD != httpapi.MaxBudgetUSD {
			t.Errorf("budget = %+v, want daily and monthly %d", v, httpapi.MaxBudgetUSD)
		}
	})
}
