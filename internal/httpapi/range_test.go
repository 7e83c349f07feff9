package httpapi_test

import (
	"encoding/json"
	"net/http"
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
			expect(t, srv.URL, tc.method, tc.path, tc.body, tc.want, tc.field)
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
