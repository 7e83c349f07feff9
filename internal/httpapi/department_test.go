package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// TestDepartmentBounded: wherever a client names a department that will be
// stored (a job, a batch, a budget), it must be a short identifier.
func TestDepartmentBounded(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	job := func(dept string) string {
		b, _ := json.Marshal(dept)
		return `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_ios"},"requirements":"x","department":` + string(b) + `}`
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
		field              string
	}{
		{"POST", "/v1/jobs", job(`=HYPERLINK("http://x","y")`), 400, "department"},
		{"POST", "/v1/jobs", job(strings.Repeat("d", 500<<10)), 400, "department"},
		{"POST", "/v1/jobs", job("a b"), 400, "department"},
		{"POST", "/v1/jobs", job("net-ops.eu_1"), 202, ""},
		{"POST", "/v1/batches?department=-x", "devices: []", 400, "department"},
		{"PUT", "/v1/budgets/a%20b", `{"daily_usd":1}`, 400, "department"},
		{"PUT", "/v1/budgets/" + strings.Repeat("d", 65), `{"daily_usd":1}`, 400, "department"},
		{"PUT", "/v1/budgets/net-ops.eu_1", `{"daily_usd":1}`, 200, ""},
	} {
		expect(t, srv.URL, tc.method, tc.path, tc.body, tc.want, tc.field)
	}
	d, err := q.Depth(t.Context())
	if err != nil || d[netcfg.StateQueued] != 1 {
		t.Errorf("queue depth = %v (%v), want the one valid submission queued", d, err)
	}
}

// TestCostCSVEscapesFormulas: a cell a spreadsheet would run as a formula
// gets a leading apostrophe; numbers and plain names are untouched.
func TestCostCSVEscapesFormulas(t *testing.T) {
	groups := []string{`=HYPERLINK("http://x","y")`, "+1", "-2", "@SUM(A1)", "\tx", "eng", "claude-sonnet"}
	var rows []netcfg.CostRow
	for _, g := range groups {
		rows = append(rows, netcfg.CostRow{Group: g, Requests: 1, CostNUSD: 1e9})
	}
	var buf bytes.Buffer
	if err := httpapi.WriteCostCSV(&buf, httpapi.NewCostReport("department", "", time.Time{}, time.Time{}, rows)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`'=HYPERLINK("http://x","y")`, "'+1", "'-2", "'@SUM(A1)", "'\tx", "eng", "claude-sonnet", "total"}
	if len(recs) != len(want)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(want)+1)
	}
	for i, w := range want {
		if recs[i+1][0] != w || recs[i+1][1] != "1" && w != "total" {
			t.Errorf("row %d = %q, want group %q", i, recs[i+1], w)
		}
	}
}
