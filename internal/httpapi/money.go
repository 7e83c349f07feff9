package httpapi

import (
	"encoding/csv"
	"errors"
	"fmt"
	"slices"

	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/netcfg"
)

// CostRow is one group of GET /v1/costs.
type CostRow struct {
	netcfg.CostRow
	CacheHitRate float64 `json:"cache_hit_rate"`
	CostUSD      float64 `json:"cost_usd"`
	SavedUSD     float64 `json:"saved_usd"`
}

// CostReport is the body of GET /v1/costs.
type CostReport struct {
	GroupBy    string     `json:"group_by"`
	Since      *time.Time `json:"since,omitempty"`
	Until      *time.Time `json:"until,omitempty"`
	Department string     `json:"department,omitempty"`
	Rows       []CostRow  `json:"rows"`
	Total      CostRow    `json:"total"`
}

func costRow(r netcfg.CostRow) CostRow {
	out := CostRow{CostRow: r, CostUSD: usd(r.CostNUSD), SavedUSD: usd(r.SavedNUSD)}
	if r.Requests > 0 {
		out.CacheHitRate = math.Round(float64(r.CacheHits)/float64(r.Requests)*1e4) / 1e4
	}
	return out
}

// ParseTime reads a since/until bound of a cost report: a date (UTC
// midnight) or an RFC 3339 time; empty is the zero time (no bound).
func ParseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-11-29) or an RFC 3339 time", v)
}

// parseDay is ParseTime for query parameter field.
func parseDay(field, v string) (time.Time, error) {
	t, err := ParseTime(v)
	if err != nil {
		return time.Time{}, badRequest("%s: %v", field, err)
	}
	return t, nil
}

// handleCosts reports the ledger: GET /v1/costs?group_by=department|user|
// model|day|key&since=&until=[&department=][&format=csv]. A user key sees
// its own department only.
func (s *Server) handleCosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rep := CostReport{GroupBy: q.Get("group_by"), Department: q.Get("department")}
	if rep.GroupBy == "" {
		rep.GroupBy = "department"
	}
	if names := s.money.CostGroups(); !slices.Contains(names, rep.GroupBy) {
		s.writeError(w, r, badRequest("group_by: %q is not one of %s", rep.GroupBy, strings.Join(names, ", ")))
		return
	}
	since, err := parseDay("since", q.Get("since"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	until, err := parseDay("until", q.Get("until"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r.Context())
	all := rep.Department == "" && p.Admin()
	if !p.Admin() {
		if rep.Department != "" && rep.Department != p.Department {
			s.writeError(w, r, forbidden("this key sees the costs of department "+p.Department+" only"))
			return
		}
		rep.Department = p.Department
	}
	rows, err := s.money.Costs(r.Context(), rep.GroupBy, since, until, rep.Department, all)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep = *NewCostReport(rep.GroupBy, rep.Department, since, until, rows)
	if q.Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="netsmith-costs-`+rep.GroupBy+`.csv"`)
		_ = WriteCostCSV(w, &rep)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// NewCostReport builds a report, with its total, from ledger rows.
func NewCostReport(groupBy, department string, since, until time.Time, rows []netcfg.CostRow) *CostReport {
	rep := &CostReport{GroupBy: groupBy, Department: department, Since: timePtr(since), Until: timePtr(until),
		Rows: make([]CostRow, 0, len(rows))}
	total := netcfg.CostRow{Group: "total"}
	for _, row := range rows {
		rep.Rows = append(rep.Rows, costRow(row))
		total.Requests += row.Requests
		total.Calls += row.Calls
		total.CacheHits += row.CacheHits
		total.InputTokens += row.InputTokens
		total.OutputTokens += row.OutputTokens
		total.CostNUSD += row.CostNUSD
		total.SavedNUSD += row.SavedNUSD
	}
	rep.Total = costRow(total)
	return rep
}

// WriteCostCSV writes a cost report as CSV with a header row.
func WriteCostCSV(w interface{ Write([]byte) (int, error) }, rep *CostReport) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{rep.GroupBy, "requests", "calls", "cache_hits", "cache_hit_rate",
		"input_tokens", "output_tokens", "cost_usd", "saved_usd"})
	for _, r := range append(rep.Rows, rep.Total) {
		_ = cw.Write([]string{csvText(r.Group), itoa(r.Requests), itoa(r.Calls), itoa(r.CacheHits),
			strconv.FormatFloat(r.CacheHitRate, 'f', 4, 64), itoa(r.InputTokens), itoa(r.OutputTokens),
			strconv.FormatFloat(r.CostUSD, 'f', 6, 64), strconv.FormatFloat(r.SavedUSD, 'f', 6, 64)})
	}
	cw.Flush()
	return cw.Error()
}

// csvText makes a text cell safe to open in a spreadsheet: one starting
// with = + - @ (or a tab or carriage return) would be read as a formula, so
// it gets a leading apostrophe. Groups are department, key and model names
// that a client chose.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// BudgetView is the body of GET and PUT /v1/budgets/{department}.
type BudgetView struct {
	Department string          `json:"department"`
	DailyUSD   float64         `json:"daily_usd"`
	MonthlyUSD float64         `json:"monthly_usd"`
	WarnPct    int64           `json:"warn_pct"`
	WebhookURL string          `json:"webhook_url,omitempty"`
	Usage      []BudgetUsageVw `json:"usage"`
}

// BudgetUsageVw is one period of a BudgetView.
type BudgetUsageVw struct {
	Period       string   `json:"period"`
	Name         string   `json:"name"`
	LimitUSD     float64  `json:"limit_usd"`
	SpentUSD     float64  `json:"spent_usd"`
	ReservedUSD  float64  `json:"reserved_usd"`
	RemainingUSD *float64 `json:"remaining_usd"` // null: no limit
}

// MaxBudgetUSD bounds a budget's daily_usd and monthly_usd. Budgets are kept
// in nano-USD in an int64, which overflows past about 9.2e9 USD (1e10 once
// became a negative limit, read as no limit at all), and the warning
// threshold multiplies a limit by 100 in SQL, which PostgreSQL refuses past
// about 9.2e7 USD.
const MaxBudgetUSD = 1_000_000

// budgetAmount reports whether usd is a budget amount: 0 (no limit) up to
// MaxBudgetUSD.
func budgetAmount(usd float64) bool {
	return usd >= 0 && usd <= MaxBudgetUSD // false for NaN too
}

// BudgetRequest is the body of PUT /v1/budgets/{department}; a limit of 0
// means none.
type BudgetRequest struct {
	DailyUSD   float64 `json:"daily_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
	WarnPct    *int64  `json:"warn_pct,omitempty"`
	WebhookURL string  `json:"webhook_url,omitempty"`
}

func (s *Server) budgetView(r *http.Request, department string) (*BudgetView, error) {
	b, err := s.money.Budget(r.Context(), department)
	if errors.Is(err, netcfg.ErrNotFound) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	us, err := s.money.Usage(r.Context(), department, b, time.Now())
	if err != nil {
		return nil, err
	}
	v := &BudgetView{Department: department, Usage: []BudgetUsageVw{}}
	if b != nil {
		v.DailyUSD, v.MonthlyUSD, v.WarnPct, v.WebhookURL = usd(b.DailyNUSD), usd(b.MonthlyNUSD), b.WarnPct, b.WebhookURL
	}
	for _, u := range us {
		vu := BudgetUsageVw{Period: u.Period, Name: u.Name, LimitUSD: usd(u.LimitNUSD), SpentUSD: usd(u.SpentNUSD),
			ReservedUSD: usd(u.ReservedNUSD)}
		if rem := u.RemainingNUSD(); rem >= 0 {
			f := usd(rem)
			vu.RemainingUSD = &f
		}
		v.Usage = append(v.Usage, vu)
	}
	return v, nil
}

func (s *Server) handleGetBudget(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("department")
	if !principal(r.Context()).sees(d) {
		s.writeError(w, r, forbidden("this key sees the budget of department "+principal(r.Context()).Department+" only"))
		return
	}
	v, err := s.budgetView(r, d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handlePutBudget(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	d := r.PathValue("department")
	var req BudgetRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	b := &netcfg.Budget{Department: d, WarnPct: 80, WebhookURL: req.WebhookURL, UpdatedAt: time.Now()}
	switch {
	case !budgetAmount(req.DailyUSD):
		s.writeError(w, r, badRequest("daily_usd: must be 0 (no limit) or a positive amount up to %d", MaxBudgetUSD))
		return
	case !budgetAmount(req.MonthlyUSD):
		s.writeError(w, r, badRequest("monthly_usd: must be 0 (no limit) or a positive amount up to %d", MaxBudgetUSD))
		return
	case req.WarnPct != nil && (*req.WarnPct < 0 || *req.WarnPct > 100):
		s.writeError(w, r, badRequest("warn_pct: must be between 0 (no warning) and 100"))
		return
	case req.WebhookURL != "" && !strings.HasPrefix(req.WebhookURL, "http://") && !strings.HasPrefix(req.WebhookURL, "https://"):
		s.writeError(w, r, badRequest("webhook_url: must be an http:// or https:// URL"))
		return
	}
	if err := netcfg.ValidateDepartment(d); err != nil {
		s.writeError(w, r, &netcfg.FieldError{Field: "department", Msg: err.Error()})
		return
	}
	if req.WarnPct != nil {
		b.WarnPct = *req.WarnPct
	}
	b.DailyNUSD, b.MonthlyNUSD = int64(math.Round(req.DailyUSD*1e9)), int64(math.Round(req.MonthlyUSD*1e9))
	if err := s.money.PutBudget(r.Context(), b); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "budget set", "department", d, "daily_usd", req.DailyUSD,
		"monthly_usd", req.MonthlyUSD, "by", principal(r.Context()).Name)
	v, err := s.budgetView(r, d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleWhoami tells a caller which key and department it is.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"key_id": p.KeyID, "name": p.Name, "department": p.Department,
		"role": p.Role, "open": p.Open})
}
