package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"netsmith/internal/confparse"
	"netsmith/internal/diff"
	"netsmith/internal/generate"
	"netsmith/internal/netcfg"
)

// DiffRequest is the body of POST /v1/jobs/{id}/diff: the device's running
// config, and its platform when the job does not say.
type DiffRequest struct {
	Running  string          `json:"running"`
	Platform netcfg.Platform `json:"platform,omitempty"`
}

// DiffResponse is the remediation from the posted running config to the
// job's config.
type DiffResponse struct {
	JobID  string `json:"job_id"`
	InSync bool   `json:"in_sync"`
	*diff.Result
}

// differ holds the built-in remediation rules, compiled once.
var differ = sync.OnceValues(diff.Default)

// handleJobDiff compares a posted running config with a finished generate
// job's config and returns the remediation (netsmith diff RUNNING INTENDED
// --json, INTENDED being the job's config).
func (s *Server) handleJobDiff(w http.ResponseWriter, r *http.Request) {
	var req DiffRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Running == "":
		s.writeError(w, r, &netcfg.FieldError{Field: "running", Msg: "is required: the device's running config"})
		return
	case len(req.Running) > netcfg.MaxConfig:
		s.writeError(w, r, &netcfg.FieldError{Field: "running", Msg: fmt.Sprintf("is longer than %d bytes", netcfg.MaxConfig)})
		return
	}
	if err := checkText("running", req.Running); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Platform != "" {
		p, err := netcfg.ParsePlatform(string(req.Platform))
		if err != nil {
			s.writeError(w, r, &netcfg.FieldError{Field: "platform", Msg: err.Error()})
			return
		}
		req.Platform = p
	}
	j, err := s.visibleJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var res generate.Result
	if j.Result != nil {
		if err := json.Unmarshal(j.Result.Body, &res); err != nil {
			s.writeError(w, r, fmt.Errorf("job %s result: %w", j.ID, err))
			return
		}
	}
	if j.Kind != netcfg.KindGenerate || res.Config == "" {
		s.writeError(w, r, &Error{Status: http.StatusConflict, Type: "job_not_ready",
			Msg: fmt.Sprintf("job %s has no config to compare with (kind %s, status %s)", j.ID, j.Kind, j.State)})
		return
	}
	platform := req.Platform
	if platform == "" {
		platform = netcfg.Platform(res.Platform)
	}
	if platform == "" {
		var jr netcfg.JobRequest
		if json.Unmarshal(j.Request, &jr) == nil && jr.Device != nil {
			platform = jr.Device.Platform
		}
	}
	d, err := differ()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := d.DiffText(platform, req.Running, res.Config)
	switch {
	case errors.Is(err, diff.ErrPlatform), errors.Is(err, confparse.ErrBinary):
		s.writeError(w, r, &netcfg.FieldError{Field: "running", Msg: err.Error()})
		return
	case err != nil:
		s.writeError(w, r, &netcfg.FieldError{Field: "platform", Msg: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, DiffResponse{JobID: j.ID, InSync: out.Empty(), Result: out})
}
