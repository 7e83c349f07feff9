package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"netsmith/internal/netcfg"
)

// Dashboard is the body of GET /v1/dashboard: the whole cluster's state as
// the database holds it (an admin key), or one department's (a user key),
// whichever replica answers. The page at / draws it.
type Dashboard struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Department is the department the numbers cover; "" is every one.
	Department string            `json:"department"`
	Jobs       DashboardJobs     `json:"jobs"`
	Throughput DashboardRate     `json:"throughput"`
	Failures   DashboardFailures `json:"failures"`
	// Batches are the batches still running or finished in the last 10
	// minutes, newest first.
	Batches  []*BatchView       `json:"batches"`
	Spend    DashboardSpend     `json:"spend"`
	Cache    DashboardCache     `json:"cache"`
	Upstream []DashboardLimiter `json:"upstream"`
	// RiverUI is where River UI is mounted for admin keys ("" when it is
	// not, or the caller is no admin).
	RiverUI string `json:"river_ui,omitempty"`
}

// DashboardJobs are the jobs by state and the age of the oldest queued one.
type DashboardJobs struct {
	// States counts every queued, running and retrying job, and the jobs
	// that reached each final state in the last FinishedWindowSeconds.
	States                map[netcfg.JobState]int64 `json:"states"`
	FinishedWindowSeconds int                       `json:"finished_window_seconds"`
	// OldestQueuedSeconds is null when nothing is queued.
	OldestQueuedSeconds *float64 `json:"oldest_queued_seconds"`
}

// DashboardRate is the jobs finished per minute over the last minutes,
// oldest first.
type DashboardRate struct {
	BucketSeconds int               `json:"bucket_seconds"`
	Buckets       []DashboardBucket `json:"buckets"`
	// PerMinute is the mean of the buckets (succeeded and not).
	PerMinute float64 `json:"per_minute"`
}

// DashboardBucket is one interval of DashboardRate.
type DashboardBucket struct {
	Start     time.Time `json:"start"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"` // failed, canceled or expired
}

// DashboardFailures are the jobs that ended failed, canceled or expired in
// the last WindowSeconds, by reason (over the newest Read of them), and
// the latest few with their messages.
type DashboardFailures struct {
	WindowSeconds int                `json:"window_seconds"`
	ByReason      map[string]int64   `json:"by_reason"`
	Read          int                `json:"read"`
	Truncated     bool               `json:"truncated"`
	Latest        []DashboardFailure `json:"latest"`
}

// DashboardFailure is one job of DashboardFailures.Latest.
type DashboardFailure struct {
	JobID      string          `json:"job_id"`
	BatchID    string          `json:"batch_id,omitempty"`
	Department string          `json:"department"`
	Status     netcfg.JobState `json:"status"`
	Reason     string          `json:"reason"`
	Error      string          `json:"error"`
	FinishedAt time.Time       `json:"finished_at"`
}

// DashboardSpend is each department's spend today (UTC) against its daily
// budget.
type DashboardSpend struct {
	Day         string               `json:"day"`
	Departments []DashboardDeptSpend `json:"departments"`
}

// DashboardDeptSpend is one department of DashboardSpend.
type DashboardDeptSpend struct {
	Department  string  `json:"department"`
	SpentUSD    float64 `json:"spent_usd"`
	ReservedUSD float64 `json:"reserved_usd"`
	SavedUSD    float64 `json:"saved_usd"`
	Calls       int64   `json:"calls"`
	CacheHits   int64   `json:"cache_hits"`
	// DailyBudgetUSD is 0 without a daily budget; UsedPct is then null.
	DailyBudgetUSD float64  `json:"daily_budget_usd"`
	UsedPct        *float64 `json:"used_pct"`
	WarnPct        int64    `json:"warn_pct,omitempty"`
}

// DashboardCache is today's template-cache effect, from the ledger: model
// calls against devices served from a cached template, and what those did
// not pay.
type DashboardCache struct {
	Calls    int64    `json:"calls"`
	Hits     int64    `json:"hits"`
	HitRate  *float64 `json:"hit_rate"` // null before the first request
	SavedUSD float64  `json:"saved_usd"`
	SpentUSD float64  `json:"spent_usd"`
}

// DashboardLimiter is one provider and model in the upstream limiter's
// shared table.
type DashboardLimiter struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// PausedSeconds is what remains of the cluster-wide pause a 429
	// started (0: not paused).
	PausedSeconds float64 `json:"paused_seconds"`
	// RateFactor is the share of the configured rates the cluster runs at
	// after 429s, as last stored (1: none recently); it recovers over time.
	RateFactor   float64    `json:"rate_factor"`
	RateFactorAt *time.Time `json:"rate_factor_at,omitempty"`
	// Ahead is how far each limit's clock runs ahead of now, in seconds:
	// requests, input tokens, output tokens.
	AheadSeconds map[string]float64 `json:"ahead_seconds"`
}

// Dashboard windows: the throughput chart's buckets, the failures read.
const (
	dashFinishedWindow = 24 * time.Hour // final states count the jobs finished within it
	dashBuckets        = 10
	dashBucket         = time.Minute
	dashFailureWindow  = time.Hour
	dashFailureRead    = 2000
	dashFailureLatest  = 10
	dashBatches        = 20
	dashBatchesDone    = 10 * time.Minute // finished batches stay this long
)

// RiverUIPrefix is where the API mounts River UI (Deps.RiverUI).
const RiverUIPrefix = "/riverui"

// handleDashboardData is GET /v1/dashboard.
func (s *Server) handleDashboardData(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	dept := ""
	if !p.Admin() {
		dept = p.Department
	}
	d, err := s.dashboard(r.Context(), dept, time.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.Admin() && s.riverUI != nil {
		d.RiverUI = RiverUIPrefix + "/"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, d)
}

// dashboard reads the page's data, department's only when set, on the
// readers: it needs no write made a moment ago.
func (s *Server) dashboard(ctx context.Context, dept string, now time.Time) (*Dashboard, error) {
	d := &Dashboard{GeneratedAt: now.UTC(), Department: dept, Batches: []*BatchView{}, Upstream: []DashboardLimiter{}}

	jobs, err := s.db.DashboardJobs(ctx, dept, now.Add(-dashFinishedWindow))
	if err != nil {
		return nil, err
	}
	d.Jobs.States, d.Jobs.FinishedWindowSeconds = jobs.States, int(dashFinishedWindow.Seconds())
	if !jobs.OldestQueued.IsZero() {
		age := max(now.Sub(jobs.OldestQueued).Seconds(), 0)
		d.Jobs.OldestQueuedSeconds = &age
	}

	tp, err := s.db.Throughput(ctx, dept, now, dashBucket, dashBuckets)
	if err != nil {
		return nil, err
	}
	d.Throughput = DashboardRate{BucketSeconds: int(dashBucket.Seconds()), Buckets: make([]DashboardBucket, len(tp))}
	var total int64
	for i, b := range tp {
		d.Throughput.Buckets[i] = DashboardBucket{Start: b.Start, Succeeded: b.Succeeded, Failed: b.Failed}
		total += b.Succeeded + b.Failed
	}
	d.Throughput.PerMinute = float64(total) / (dashBucket * dashBuckets).Minutes()

	f, err := s.db.RecentFailures(ctx, dept, now.Add(-dashFailureWindow), dashFailureRead, dashFailureLatest)
	if err != nil {
		return nil, err
	}
	d.Failures = DashboardFailures{WindowSeconds: int(dashFailureWindow.Seconds()), ByReason: f.ByReason,
		Read: f.Read, Truncated: f.Truncated, Latest: make([]DashboardFailure, 0, len(f.Latest))}
	for _, x := range f.Latest {
		d.Failures.Latest = append(d.Failures.Latest, DashboardFailure{JobID: x.JobID, BatchID: x.BatchID,
			Department: x.Department, Status: x.State, Reason: x.Reason, Error: x.Error, FinishedAt: x.FinishedAt})
	}

	bs, err := s.db.ActiveBatches(ctx, dept, now.Add(-dashBatchesDone), dashBatches)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		d.Batches = append(d.Batches, batchView(b, now))
	}

	sp, err := s.db.SpendToday(ctx, dept, now)
	if err != nil {
		return nil, err
	}
	d.Spend = DashboardSpend{Day: now.UTC().Format(time.DateOnly), Departments: make([]DashboardDeptSpend, 0, len(sp))}
	var cacheSpent, cacheSaved int64
	for _, x := range sp {
		v := DashboardDeptSpend{Department: x.Department, SpentUSD: usd(x.SpentNUSD), ReservedUSD: usd(x.ReservedNUSD),
			SavedUSD: usd(x.SavedNUSD), Calls: x.Calls, CacheHits: x.CacheHits, DailyBudgetUSD: usd(x.DailyNUSD)}
		if x.DailyNUSD > 0 {
			pct := 100 * float64(x.SpentNUSD+x.ReservedNUSD) / float64(x.DailyNUSD)
			v.UsedPct, v.WarnPct = &pct, x.WarnPct
		}
		d.Spend.Departments = append(d.Spend.Departments, v)
		d.Cache.Calls += x.Calls
		d.Cache.Hits += x.CacheHits
		cacheSpent += x.SpentNUSD
		cacheSaved += x.SavedNUSD
	}
	d.Cache.SpentUSD, d.Cache.SavedUSD = usd(cacheSpent), usd(cacheSaved)
	if n := d.Cache.Calls + d.Cache.Hits; n > 0 {
		rate := float64(d.Cache.Hits) / float64(n)
		d.Cache.HitRate = &rate
	}

	us, err := s.db.UpstreamStates(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		v := DashboardLimiter{Provider: u.Provider, Model: u.Model, RateFactor: u.Factor,
			RateFactorAt: timePtr(u.FactorAt), AheadSeconds: map[string]float64{
				"requests": u.AheadReq.Seconds(), "input_tokens": u.AheadIn.Seconds(), "output_tokens": u.AheadOut.Seconds()}}
		if u.PausedUntil.After(now) {
			v.PausedSeconds = u.PausedUntil.Sub(now).Seconds()
		}
		d.Upstream = append(d.Upstream, v)
	}
	return d, nil
}

// RetryResponse is the body of a 202 from POST /v1/jobs/{id}/retry.
type RetryResponse struct {
	SubmitResponse
	RetryOf string `json:"retry_of"`
}

// handleRetryJob is POST /v1/jobs/{id}/retry: a job that ended failed,
// canceled or expired is submitted again: a new job with the same request
// and department, outside any batch. The old one stays as it ended, with
// its record and charges.
func (s *Server) handleRetryJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.visibleJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !j.State.Final() || j.State == netcfg.StateSucceeded {
		s.writeError(w, r, &Error{Status: http.StatusConflict, Type: "conflict_error",
			Msg: fmt.Sprintf("job %s is %s: only a failed, canceled or expired job can be retried", j.ID, j.State)})
		return
	}
	var req netcfg.JobRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		s.writeError(w, r, fmt.Errorf("job %s: stored request: %w", j.ID, err))
		return
	}
	nj, _, err := s.submit(r.Context(), &req, "", 0, j.Department)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RetryResponse{SubmitResponse: SubmitResponse{ID: nj.ID, Status: nj.State}, RetryOf: j.ID})
}

// serveRiverUI serves River UI to admin keys, read-only. A browser cannot
// add a bearer header to the page's own requests, so the key may also come
// as HTTP Basic credentials (any user name, the key as password): a 401
// asks the browser for them, and it sends them with every request after.
// Only GET and HEAD pass: River UI's cancel and retry act on River's rows
// alone, not on netsmith's job record, its budget reservation or its key's
// slot; netsmith's own cancel and retry (DELETE /v1/jobs/{id}, POST
// /v1/jobs/{id}/retry, the page at /) do all of it.
func (s *Server) serveRiverUI(w http.ResponseWriter, r *http.Request) {
	if s.riverUI == nil {
		s.writeError(w, r, &Error{Status: http.StatusNotFound, Type: "not_found_error",
			Msg: "River UI is not mounted on this process"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Msg: "River UI is read-only here: cancel and retry jobs with DELETE /v1/jobs/{id} and POST /v1/jobs/{id}/retry (or the page at /), which keep netsmith's job record, budget and key limits right"})
		return
	}
	if _, key, ok := r.BasicAuth(); ok {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+key)
	}
	p, err := s.authenticate(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="netsmith River UI (an admin API key as password)", charset="UTF-8"`)
		}
		s.writeError(w, r, err)
		return
	}
	if !p.Admin() {
		s.writeError(w, r, forbidden("River UI needs an admin key"))
		return
	}
	s.riverUI.ServeHTTP(w, r)
}
