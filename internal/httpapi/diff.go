package httpapi

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
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
		platform = jobPlatform(j, &res)
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

// jobPlatform is the platform of a generate job's config: its result's, or
// the device's in its request.
func jobPlatform(j *netcfg.Job, res *generate.Result) netcfg.Platform {
	if res.Platform != "" {
		return netcfg.Platform(res.Platform)
	}
	var jr netcfg.JobRequest
	if json.Unmarshal(j.Request, &jr) == nil && jr.Device != nil {
		return jr.Device.Platform
	}
	return ""
}

// BatchDrift is the answer of POST /v1/batches/{id}/drift: the batch's
// configs held against the posted running configs, as batch --running
// does on the command line.
type BatchDrift struct {
	BatchID string `json:"batch_id"`
	// NotGenerated counts the batch's devices without a config (failed,
	// or not finished): they are not compared.
	NotGenerated int `json:"not_generated"`
	*diff.Drift
}

// runningExtensions are the file names a running config may have in the
// posted archive: HOSTNAME.cfg, .conf, .txt or no extension.
var runningExtensions = []string{".cfg", ".conf", ".txt"}

// readRunning reads a tar.gz of running configs into hostname → config.
// Each config is at most netcfg.MaxConfig bytes and all of them at most
// maxTotal; a bad archive or entry is a 400 naming it.
func readRunning(r io.Reader, maxTotal int64) (map[string]string, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		return nil, badRequest("body: not a tar.gz of running configs (HOSTNAME.cfg): %v", err)
	}
	tr := tar.NewReader(gz)
	out := make(map[string]string)
	from := make(map[string]string)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, err
			}
			return nil, badRequest("body: the archive is not a valid tar.gz: %v", err)
		}
		base := path.Base(h.Name)
		if h.Typeflag != tar.TypeReg || strings.HasPrefix(base, ".") {
			continue
		}
		host := base
		for _, ext := range runningExtensions {
			if x, ok := strings.CutSuffix(base, ext); ok {
				host = x
				break
			}
		}
		field := "body." + h.Name
		if err := netcfg.ValidateHostname(host); err != nil {
			return nil, &netcfg.FieldError{Field: field, Msg: "is not HOSTNAME.cfg: " + err.Error()}
		}
		if other, ok := from[host]; ok {
			return nil, &netcfg.FieldError{Field: field, Msg: fmt.Sprintf("is device %s's running config again (also %s)", host, other)}
		}
		if h.Size > netcfg.MaxConfig {
			return nil, &netcfg.FieldError{Field: field, Msg: fmt.Sprintf("is longer than %d bytes", netcfg.MaxConfig)}
		}
		if total += h.Size; total > maxTotal {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "request_too_large",
				Msg: fmt.Sprintf("the running configs hold more than %d bytes", maxTotal)}
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, badRequest("body: reading %s: %v", h.Name, err)
		}
		out[host], from[host] = string(b), h.Name
	}
	if len(out) == 0 {
		return nil, badRequest("body: the archive holds no running config (HOSTNAME.cfg)")
	}
	return out, nil
}

// handleBatchDrift compares every config a batch generated with the
// device's running config in the posted tar.gz.
func (s *Server) handleBatchDrift(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleBatch(ctx, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	running, err := readRunning(r.Body, 4*s.cfg.MaxBatchBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := differ()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := BatchDrift{BatchID: id, Drift: &diff.Drift{Devices: []diff.DeviceDrift{}}}
	for after := ""; ; {
		jobs, err := s.db.ListBatchJobs(ctx, id, after, resultsPage)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, j := range jobs {
			var res generate.Result
			if j.State != netcfg.StateSucceeded || j.Result == nil || json.Unmarshal(j.Result.Body, &res) != nil || res.Config == "" {
				out.NotGenerated++
				continue
			}
			host := batchResultOf(j).Hostname
			cfg, found := running[host]
			out.Count(d.DriftOf(host, jobPlatform(j, &res), res.Config, cfg, found))
		}
		if len(jobs) < resultsPage {
			break
		}
		after = jobs[len(jobs)-1].ID
	}
	sort.Slice(out.Devices, func(i, j int) bool { return out.Devices[i].Hostname < out.Devices[j].Hostname })
	writeJSON(w, http.StatusOK, out)
}
