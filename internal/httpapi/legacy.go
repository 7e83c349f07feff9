package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"netsmith/internal/generate"
	"netsmith/internal/netcfg"
)

// The legacy-compatible API of the Flask + Celery service netsmith replaces.
// Field names and status words are kept byte for byte so its clients work
// unchanged.

// LegacyGenerateRequest is the body of POST /api/generate-config.
type LegacyGenerateRequest struct {
	DeviceName   string `json:"device_name"`
	Requirements string `json:"requirements"`
}

// LegacyGenerateResponse is its 202 answer.
type LegacyGenerateResponse struct {
	JobID      string `json:"job_id"`
	Status     string `json:"status"`
	DeviceName string `json:"device_name"`
}

// LegacyStatus is the body of GET /api/job-status/{job_id}.
type LegacyStatus struct {
	JobID  string        `json:"job_id"`
	Status string        `json:"status"`
	Result *LegacyResult `json:"result"`
}

// LegacyResult is the result of a finished legacy job.
type LegacyResult struct {
	Status          string          `json:"status"`
	DeviceName      string          `json:"device_name"`
	Config          string          `json:"config,omitempty"`
	DurationSeconds float64         `json:"duration_seconds"`
	Tokens          generate.Tokens `json:"tokens"`
	Cached          bool            `json:"cached"`
	Error           string          `json:"error,omitempty"`
}

// celeryState maps a job state to the Celery state word legacy clients know.
var celeryState = map[netcfg.JobState]string{
	netcfg.StateQueued:    "PENDING",
	netcfg.StateRunning:   "STARTED",
	netcfg.StateRetrying:  "RETRY",
	netcfg.StateSucceeded: "SUCCESS",
	netcfg.StateFailed:    "FAILURE",
	netcfg.StateCanceled:  "REVOKED",
	netcfg.StateExpired:   "REVOKED",
}

func (s *Server) handleLegacyGenerate(w http.ResponseWriter, r *http.Request) {
	var req LegacyGenerateRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(req.DeviceName) == "" {
		s.writeError(w, r, &netcfg.FieldError{Field: "device_name", Msg: "is required"})
		return
	}
	jr := &netcfg.JobRequest{
		Kind:         netcfg.KindGenerate,
		Device:       &netcfg.Device{Hostname: req.DeviceName, Platform: netcfg.Platform(s.cfg.DefaultPlatform)},
		Requirements: req.Requirements,
	}
	j, _, err := s.submit(r.Context(), jr, r.Header.Get("Idempotency-Key"), 0, "")
	if err != nil {
		// The legacy request's fields are device_name and requirements.
		s.writeError(w, r, legacyField(err))
		return
	}
	writeJSON(w, http.StatusAccepted, LegacyGenerateResponse{JobID: j.ID, Status: "queued", DeviceName: req.DeviceName})
}

func legacyField(err error) error {
	var fe *netcfg.FieldError
	if errors.As(err, &fe) && fe.Field == "device.hostname" {
		return &netcfg.FieldError{Field: "device_name", Msg: fe.Msg}
	}
	return err
}

func (s *Server) handleLegacyStatus(w http.ResponseWriter, r *http.Request) {
	j, err := s.statusJob(r.Context(), r.PathValue("job_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := LegacyStatus{JobID: j.ID, Status: celeryState[j.State]}
	var req netcfg.JobRequest
	_ = json.Unmarshal(j.Request, &req)
	device := ""
	if req.Device != nil {
		device = req.Device.Hostname
	}
	switch {
	case j.Result != nil:
		var res generate.Result
		if err := json.Unmarshal(j.Result.Body, &res); err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Result = &LegacyResult{Status: "success", DeviceName: device, Config: res.Config,
			DurationSeconds: res.DurationSeconds, Tokens: res.Tokens, Cached: res.Cached}
	case j.State == netcfg.StateFailed || j.State == netcfg.StateCanceled || j.State == netcfg.StateExpired:
		out.Result = &LegacyResult{Status: "error", DeviceName: device, Error: j.Error}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleLegacyHealth(w http.ResponseWriter, r *http.Request) {
	status, code := "healthy", http.StatusOK
	if err := s.db.Ping(r.Context()); err != nil {
		status, code = "unhealthy", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]string{"status": status, "provider": s.cfg.Provider})
}
