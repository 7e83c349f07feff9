package httpapi

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/fleet"
	"netsmith/internal/generate"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// BatchView is the body of GET /v1/batches/{id} and of a 202 from POST.
type BatchView struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name"`
	Department string                    `json:"department,omitempty"` // who pays for it
	Status     string                    `json:"status"`               // running or done
	Devices    int                       `json:"devices"`
	Intents    int                       `json:"intents"`
	Counts     map[netcfg.JobState]int64 `json:"counts"`
	Done       int64                     `json:"done"`
	LLMCalls   int64                     `json:"llm_calls"`
	CacheHits  int64                     `json:"cache_hits"`
	Coalesced  int64                     `json:"coalesced"`
	Fallbacks  int64                     `json:"fallbacks"`
	Tokens     generate.Tokens           `json:"tokens"`
	Saved      generate.Tokens           `json:"saved_tokens"`
	CostUSD    float64                   `json:"cost_usd"`
	SavedUSD   float64                   `json:"saved_usd"`
	CreatedAt  time.Time                 `json:"created_at"`
	ETASeconds *float64                  `json:"eta_seconds,omitempty"`
	Warnings   []string                  `json:"warnings,omitempty"`
	// TemplatesRejected holds, for each intent of the batch whose template
	// was refused (its devices got calls of their own), why: by intent
	// name, role/platform, with the intent key's start when two intents
	// share one.
	TemplatesRejected map[string]string `json:"templates_rejected,omitempty"`
	// Economy is set for a batch submitted with economy=true whose
	// intents' templates go through the Message Batches API.
	Economy *EconomyView `json:"economy,omitempty"`
}

// EconomyView is the economy-mode part of a batch: its Message Batch and how
// many templates it made (Filled) or gave back to the normal path
// (Released).
type EconomyView struct {
	MessageBatchID string `json:"message_batch_id,omitempty"`
	State          string `json:"state"`
	Requests       int64  `json:"requests"`
	Filled         int64  `json:"filled"`
	Released       int64  `json:"released"`
}

// BatchResult is one line of GET /v1/batches/{id}/results as NDJSON.
type BatchResult struct {
	JobID    string          `json:"job_id"`
	Hostname string          `json:"hostname"`
	Status   netcfg.JobState `json:"status"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	// FinishedAt is when the job reached its final state.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// fleetFormat picks the fleet format from the Content-Type, the format
// query parameter or the name.
func fleetFormat(r *http.Request) fleet.Format {
	if f := r.URL.Query().Get("format"); f != "" {
		return fleet.Format(strings.ToLower(f))
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.Contains(mt, "json"):
		return fleet.FormatJSON
	case strings.Contains(mt, "yaml"):
		return fleet.FormatYAML
	case strings.Contains(mt, "csv"):
		return fleet.FormatCSV
	}
	return ""
}

func (s *Server) handleSubmitBatch(w http.ResponseWriter, r *http.Request) {
	// Checked before the fleet is read and parsed.
	if err := checkDepartment(r.URL.Query().Get("department")); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := cmp.Or(r.URL.Query().Get("name"), "fleet")
	economy := false
	if v := r.URL.Query().Get("economy"); v != "" {
		if economy, err = strconv.ParseBool(v); err != nil {
			s.writeError(w, r, &Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
				Msg: "economy: want true or false, got " + strconv.Quote(v)})
			return
		}
	}
	if economy && (!s.cfg.Economy || s.meta == nil || s.cache == nil) {
		s.writeError(w, r, &Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Msg: "economy mode needs the anthropic provider (Message Batches API) and the template cache"})
		return
	}
	f, err := fleet.Parser{Format: fleetFormat(r)}.Parse(name, body)
	if err != nil {
		var fe fleet.Errors
		if errors.As(err, &fe) {
			s.writeFleetErrors(w, fe)
			return
		}
		s.writeError(w, r, err)
		return
	}
	b, err := s.submitFleet(r.Context(), name, f, economy, r.URL.Query().Get("department"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := store.GetBatch(r.Context(), s.q.ReadConn(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := batchView(st, time.Now())
	s.addEconomy(r.Context(), s.q.Conn(), v) // the writer: it has just committed
	for _, warn := range f.Warnings {
		v.Warnings = append(v.Warnings, warn.Error())
	}
	writeJSON(w, http.StatusAccepted, v)
}

// writeFleetErrors answers 400 naming every bad row and field.
func (s *Server) writeFleetErrors(w http.ResponseWriter, fe fleet.Errors) {
	msg := fmt.Sprintf("fleet file has %d error(s); nothing was queued:\n%s", len(fe), fe.Error())
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"error":  map[string]string{"type": "invalid_request_error", "message": msg},
		"errors": fe,
	})
}

// submitFleet queues one job per device, all or nothing.
func (s *Server) submitFleet(ctx context.Context, name string, f *fleet.Fleet, economy bool, department string) (*store.Batch, error) {
	p := principal(ctx)
	if s.cfg.MaxQueue > 0 {
		d, err := s.q.CachedDepth(ctx)
		if err != nil {
			return nil, err
		}
		waiting := d[netcfg.StateQueued] + d[netcfg.StateRetrying]
		if n := int64(len(f.Devices)); n > s.cfg.MaxQueue {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "request_too_large",
				Msg: fmt.Sprintf("the fleet has %d devices, more than the queue holds (%d); split it", n, s.cfg.MaxQueue)}
		} else if waiting+n > s.cfg.MaxQueue {
			return nil, fmt.Errorf("%w: %d jobs are waiting and the fleet adds %d (limit %d); retry later",
				queue.ErrQueueFull, waiting, n, s.cfg.MaxQueue)
		}
	}
	now := time.Now()
	b := &store.Batch{ID: newID(), Name: name, Devices: len(f.Devices), Intents: len(f.Intents), CreatedAt: now}
	jobs := make([]*store.Job, len(f.Devices))
	var eco *queue.Economy
	if economy {
		eco = &queue.Economy{LeaseUntil: now.Add(s.cfg.EconomyLease)}
	}
	seen := map[string]bool{}
	estimated := map[string]bool{}
	// Devices of one fleet intent with the same variable names share an
	// intent key: it is computed once for them, not once per device.
	metas := map[string]cache.Meta{}
	for i := range f.Devices {
		d := &f.Devices[i]
		req := netcfg.JobRequest{Kind: netcfg.KindGenerate, Device: &d.Device,
			Requirements: d.Intent.Requirements, Constants: d.Intent.Constants, CacheTTL: d.Intent.CacheTTL}
		// The intent's cache key.
		var m cache.Meta
		if s.meta != nil && (s.cache != nil || eco != nil) {
			mk := strconv.Itoa(d.IntentIndex) + "\x00" + strings.Join(generate.VarNames(&d.Device), "\x00")
			var ok bool
			if m, ok = metas[mk]; !ok {
				m = s.meta(&req)
				metas[mk] = m
			}
		}
		if eco != nil {
			if !seen[m.Key] {
				seen[m.Key] = true
				eco.Templates = append(eco.Templates, &store.Template{Key: m.Key, Kind: m.Kind, Role: m.Role,
					Platform: m.Platform, Hostname: m.Hostname, Intent: m.Intent})
			}
		}
		body, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		jobs[i] = &store.Job{ID: newID(), Kind: netcfg.KindGenerate, RequestHash: hex.EncodeToString(sum[:]),
			Request: body, CreatedAt: now}
		if s.cache != nil {
			jobs[i].IntentKey = m.Key
		}
		if err := attribute(p, jobs[i], department); err != nil {
			return nil, err
		}
		// With the template cache a fleet pays about one call per intent:
		// that is what is reserved, on the intent's first device.
		if s.est != nil && (s.cache == nil || s.meta == nil || !estimated[m.Key]) {
			estimated[m.Key] = true
			if jobs[i].ReservedNUSD, err = s.est(&req); err != nil {
				var fe *netcfg.FieldError
				if errors.As(err, &fe) {
					return nil, &netcfg.FieldError{Field: fmt.Sprintf("device %s: %s", d.Device.Hostname, fe.Field), Msg: fe.Msg}
				}
				return nil, err
			}
		}
	}
	if len(jobs) > 0 {
		b.Department = jobs[0].Department
	}
	if err := s.admit(ctx, p); err != nil {
		return nil, err
	}
	leased, err := s.q.EnqueueEconomyBatch(ctx, b, jobs, eco)
	if err != nil {
		return nil, err
	}
	if eco != nil {
		s.logger.InfoContext(ctx, "economy batch queued", "batch_id", b.ID, "intents", len(eco.Templates), "leased", leased)
	}
	return b, nil
}

// visibleBatch returns batch id if the caller may see it; another
// department's batch is "no such batch".
func (s *Server) visibleBatch(ctx context.Context, id string) (*store.BatchStatus, error) {
	st, err := store.GetBatch(ctx, s.q.ReadConn(), id)
	if err == nil && !principal(ctx).sees(st.Department) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Status: http.StatusNotFound, Type: "not_found_error", Msg: "no such batch"}
	}
	return st, err
}

func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request) {
	st, err := s.visibleBatch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := batchView(st, time.Now())
	s.addEconomy(r.Context(), s.q.ReadConn(), v)
	writeJSON(w, http.StatusOK, v)
}

// addEconomy adds the batch's economy record, when it has one.
func (s *Server) addEconomy(ctx context.Context, c store.Conn, v *BatchView) {
	ec, err := store.GetEconomy(ctx, c, v.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger.WarnContext(ctx, "read economy record", "batch_id", v.ID, "error", err)
		}
		return
	}
	v.Economy = &EconomyView{MessageBatchID: ec.MessageBatchID, State: ec.State, Requests: ec.Requests,
		Filled: ec.Filled, Released: ec.Released}
}

func batchView(st *store.BatchStatus, now time.Time) *BatchView {
	v := &BatchView{
		ID: st.ID, Name: st.Name, Department: st.Department, Devices: st.Devices, Intents: st.Intents, Counts: st.States,
		LLMCalls: st.LLMCalls, CacheHits: st.Cache.Hits, Coalesced: st.Cache.Coalesced, Fallbacks: st.Cache.Fallbacks,
		Tokens: generate.Tokens{Input: st.InputTokens, Output: st.OutputTokens, Total: st.InputTokens + st.OutputTokens},
		Saved: generate.Tokens{Input: st.Cache.SavedInputTokens, Output: st.Cache.SavedOutputTokens,
			Total: st.Cache.SavedInputTokens + st.Cache.SavedOutputTokens},
		CostUSD: usd(st.Cache.CostNUSD), SavedUSD: usd(st.Cache.SavedNUSD),
		CreatedAt: st.CreatedAt, Status: "running",
	}
	for _, s := range netcfg.FinalStates {
		v.Done += st.States[s]
	}
	v.TemplatesRejected = rejectedByIntent(st.Rejected)
	if v.Done == int64(st.Devices) {
		v.Status = "done"
		return v
	}
	// ETA from the rate so far.
	if elapsed := now.Sub(st.CreatedAt).Seconds(); v.Done > 0 && elapsed > 0 {
		eta := float64(int64(st.Devices)-v.Done) / (float64(v.Done) / elapsed)
		v.ETASeconds = &eta
	}
	return v
}

// rejectedByIntent names each refused template's intent role/platform, or
// role/platform#key when intents share a role and platform.
func rejectedByIntent(rs []store.RejectedTemplate) map[string]string {
	if len(rs) == 0 {
		return nil
	}
	n := map[string]int{}
	for _, r := range rs {
		n[r.Role+"/"+r.Platform]++
	}
	out := make(map[string]string, len(rs))
	for _, r := range rs {
		name := r.Role + "/" + r.Platform
		if n[name] > 1 {
			name += "#" + r.Key[:min(len(r.Key), 12)]
		}
		out[name] = r.Reason
	}
	return out
}

// resultsPage is how many jobs one query of a results stream reads.
const resultsPage = 500

// handleBatchResults streams the batch's results as NDJSON, or, with
// ?format=tar.gz (or Accept: application/gzip), the configs as a tar.gz of
// HOSTNAME.cfg files. With ?since=TIME (RFC 3339) only the devices that
// finished at or after TIME are included, so a client can collect results
// while the batch runs.
func (s *Server) handleBatchResults(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleBatch(ctx, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	since, err := ParseTime(r.URL.Query().Get("since"))
	if err != nil {
		s.writeError(w, r, badRequest("since: %v", err))
		return
	}
	asTar := r.URL.Query().Get("format") == "tar.gz" || strings.Contains(r.Header.Get("Accept"), "gzip")
	var (
		enc *json.Encoder
		tw  *tar.Writer
	)
	if asTar {
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.tar.gz"`)
		gz := gzip.NewWriter(w)
		defer gz.Close()
		tw = tar.NewWriter(gz)
		defer tw.Close()
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false)
	}
	after := ""
	for {
		var jobs []*store.Job
		if since.IsZero() {
			jobs, err = store.ListBatchJobs(ctx, s.q.ReadConn(), id, after, resultsPage)
		} else {
			jobs, err = store.ListBatchJobsFinishedSince(ctx, s.q.ReadConn(), id, since, after, resultsPage)
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "stream batch results", "batch_id", id, "error", err)
			return // the status line is gone; the client sees a short stream
		}
		for _, j := range jobs {
			br := batchResultOf(j)
			if tw != nil {
				if err := writeTarConfig(tw, br); err != nil {
					return
				}
				continue
			}
			if err := enc.Encode(br); err != nil {
				return
			}
		}
		if len(jobs) < resultsPage {
			return
		}
		after = jobs[len(jobs)-1].ID
	}
}

func batchResultOf(j *store.Job) *BatchResult {
	br := &BatchResult{JobID: j.ID, Status: j.State, Attempts: j.Attempts, Error: j.Error}
	var req netcfg.JobRequest
	if json.Unmarshal(j.Request, &req) == nil && req.Device != nil {
		br.Hostname = req.Device.Hostname
	}
	if j.Result != nil {
		br.Result = j.Result.Body
	}
	if !j.FinishedAt.IsZero() {
		br.FinishedAt = &j.FinishedAt
	}
	return br
}

// writeTarConfig adds HOSTNAME.cfg for a succeeded job. Hostnames were
// validated as file names at submit; path.Base is a second guard.
func writeTarConfig(tw *tar.Writer, br *BatchResult) error {
	if br.Status != netcfg.StateSucceeded || br.Hostname == "" {
		return nil
	}
	var res generate.Result
	if err := json.Unmarshal(br.Result, &res); err != nil {
		return err
	}
	name := path.Base(br.Hostname) + ".cfg"
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(res.Config)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := io.WriteString(tw, res.Config)
	return err
}
