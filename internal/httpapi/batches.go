package httpapi

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"context"
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

	"netsmith/internal/fleet"
	"netsmith/internal/generate"
	"netsmith/internal/netcfg"
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
	b, err := s.sub.Fleet(r.Context(), s.submitter(r.Context()), name, f, economy, r.URL.Query().Get("department"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.db.GetBatch(r.Context(), b.ID, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := batchView(st, time.Now())
	s.addEconomy(r.Context(), v, true) // fresh: it has just committed
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

// visibleBatch returns batch id if the caller may see it; another
// department's batch is "no such batch".
func (s *Server) visibleBatch(ctx context.Context, id string) (*netcfg.BatchStatus, error) {
	st, err := s.db.GetBatch(ctx, id, false)
	if err == nil && !principal(ctx).sees(st.Department) {
		err = netcfg.ErrNotFound
	}
	if errors.Is(err, netcfg.ErrNotFound) {
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
	s.addEconomy(r.Context(), v, false)
	writeJSON(w, http.StatusOK, v)
}

// addEconomy adds the batch's economy record, when it has one.
func (s *Server) addEconomy(ctx context.Context, v *BatchView, fresh bool) {
	ec, err := s.db.GetEconomy(ctx, v.ID, fresh)
	if err != nil {
		if !errors.Is(err, netcfg.ErrNotFound) {
			s.logger.WarnContext(ctx, "read economy record", "batch_id", v.ID, "error", err)
		}
		return
	}
	v.Economy = &EconomyView{MessageBatchID: ec.MessageBatchID, State: ec.State, Requests: ec.Requests,
		Filled: ec.Filled, Released: ec.Released}
}

func batchView(st *netcfg.BatchStatus, now time.Time) *BatchView {
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
func rejectedByIntent(rs []netcfg.RejectedTemplate) map[string]string {
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
		var jobs []*netcfg.Job
		if since.IsZero() {
			jobs, err = s.db.ListBatchJobs(ctx, id, after, resultsPage)
		} else {
			jobs, err = s.db.ListBatchJobsFinishedSince(ctx, id, since, after, resultsPage)
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

func batchResultOf(j *netcfg.Job) *BatchResult {
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
