package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/store"
	"netsmith/internal/submit"
)

// SubmitRequest is the body of POST /v1/jobs.
type SubmitRequest struct {
	netcfg.JobRequest
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// ExpiresIn ends the job as expired if no worker starts it in time:
	// a Go duration ("10m") or a number of seconds.
	ExpiresIn Duration `json:"expires_in,omitempty"`
	// Department pays for the job: an admin key (or an open service) may
	// name one; a user key always pays for its own.
	Department string `json:"department,omitempty"`
}

// SubmitResponse is the body of a 202 from POST /v1/jobs.
type SubmitResponse struct {
	ID        string          `json:"id"`
	Status    netcfg.JobState `json:"status"`
	Duplicate bool            `json:"duplicate"`
}

// MaxExpiresIn bounds SubmitRequest.ExpiresIn: a job nobody started within
// 30 days is not waited for any longer.
const MaxExpiresIn = 30 * 24 * time.Hour

// Duration reads a Go duration string or a number of seconds, at most
// MaxExpiresIn (it is expires_in's type).
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	tooLong := &netcfg.FieldError{Field: "expires_in", Msg: fmt.Sprintf("must be at most %s (30 days)", netcfg.Duration(MaxExpiresIn))}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return &netcfg.FieldError{Field: "expires_in", Msg: fmt.Sprintf("%q is not a duration like 10m or 90s", s)}
		}
		if v > MaxExpiresIn {
			return tooLong
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil || n < 0 {
		return &netcfg.FieldError{Field: "expires_in", Msg: "must be a duration like \"10m\" or a number of seconds"}
	}
	// Compared in seconds, before the conversion: 1e308 seconds as a
	// time.Duration overflows to a negative one, which never expires.
	if n > MaxExpiresIn.Seconds() {
		return tooLong
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// JobView is the body of GET /v1/jobs/{id} and of each SSE event.
type JobView struct {
	ID          string          `json:"id"`
	Kind        netcfg.JobKind  `json:"kind"`
	Status      netcfg.JobState `json:"status"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	BatchID     string          `json:"batch_id,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	ExpiresAt   *time.Time      `json:"expires_at,omitempty"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Error       string          `json:"error,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
}

func viewOf(j *store.Job) *JobView {
	v := &JobView{
		ID: j.ID, Kind: j.Kind, Status: j.State, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		BatchID: j.BatchID, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, Error: j.Error,
		StartedAt: timePtr(j.StartedAt), FinishedAt: timePtr(j.FinishedAt), ExpiresAt: timePtr(j.ExpiresAt),
	}
	if j.Result != nil {
		v.Result = j.Result.Body
	}
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	var req SubmitRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if req.IdempotencyKey != "" && req.IdempotencyKey != h {
			s.writeError(w, r, badRequest("Idempotency-Key header and idempotency_key field differ"))
			return
		}
		req.IdempotencyKey = h
	}
	j, dup, err := s.submit(r.Context(), &req.JobRequest, req.IdempotencyKey, time.Duration(req.ExpiresIn), req.Department)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, SubmitResponse{ID: j.ID, Status: j.State, Duplicate: dup})
}

// MaxIdempotencyKey bounds an idempotency key's length.
const MaxIdempotencyKey = 255

// submit checks what the request carries beside the job (text the
// database can store) and hands it to the submission use case.
func (s *Server) submit(ctx context.Context, req *netcfg.JobRequest, idemKey string, expiresIn time.Duration, department string) (*store.Job, bool, error) {
	if err := checkText("idempotency_key", idemKey); err != nil {
		return nil, false, err
	}
	if err := checkDepartment(department); err != nil {
		return nil, false, err
	}
	if len(idemKey) > MaxIdempotencyKey {
		return nil, false, &netcfg.FieldError{Field: "idempotency_key", Msg: fmt.Sprintf("is longer than %d characters", MaxIdempotencyKey)}
	}
	return s.sub.Job(ctx, s.submitter(ctx), submit.Job{Request: req, IdempotencyKey: idemKey, ExpiresIn: expiresIn, Department: department})
}

// visibleJob returns job id if the caller may see it. Another department's
// job is "no such job", like a missing one, so ids do not leak.
func (s *Server) visibleJob(ctx context.Context, id string) (*store.Job, error) {
	return s.visible(ctx, id, s.q.Get)
}

// statusJob is visibleJob for a status read, which may be served from
// memory while the job has not changed (Jobs.Status). The caller's right
// to see it is checked on every read, from memory or not.
func (s *Server) statusJob(ctx context.Context, id string) (*store.Job, error) {
	return s.visible(ctx, id, s.q.Status)
}

func (s *Server) visible(ctx context.Context, id string, get func(context.Context, string) (*store.Job, error)) (*store.Job, error) {
	j, err := get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !principal(ctx).sees(j.Department) {
		return nil, store.ErrNotFound
	}
	return j, nil
}

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.statusJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(j))
}

func (s *Server) handleCancelJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.visibleJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if j.State.Final() {
		s.writeError(w, r, &Error{Status: http.StatusConflict, Type: "conflict_error",
			Msg: fmt.Sprintf("job %s is already %s", j.ID, j.State)})
		return
	}
	if _, err := s.q.Cancel(r.Context(), j); err != nil {
		s.writeError(w, r, err)
		return
	}
	if j, err = s.q.Get(r.Context(), j.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(j))
}

// handleJobEvents streams the job as server-sent events, one "state" event
// per change, until it reaches a final state. Each event's id names the
// version of the job it carries: a client that reconnects with it in
// Last-Event-ID is not sent that version again. A comment every
// StreamHeartbeat keeps proxies from closing a quiet stream.
func (s *Server) handleJobEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	// Watch before the first read: a change made after it is signalled, one
	// made before it is in what the read returns. Watching after the read
	// lost a job finished in between until the next poll. Changes made by
	// other processes arrive through Watch too while the queue's change
	// feed listens, else through the poller (streamPoller).
	changed, stop := s.q.Watch(id)
	defer stop()
	j, err := s.visibleJob(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.writeError(w, r, &Error{Status: http.StatusInternalServerError, Type: "api_error", Msg: "streaming unsupported"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()

	s.streams.Add(1)
	defer s.streams.Add(-1)
	defer s.countStream()()
	heartbeat := time.NewTicker(s.cfg.StreamHeartbeat)
	defer heartbeat.Stop()
	var (
		last   store.JobVersion
		polled *polledStream
		resume = r.Header.Get("Last-Event-ID")
	)
	for {
		if v := store.VersionOf(j); v != last {
			last = v
			if eid := eventID(v); eid != resume {
				b, _ := json.Marshal(viewOf(j))
				fmt.Fprintf(w, "id: %s\nevent: state\ndata: %s\n\n", eid, b)
				flusher.Flush()
			}
		}
		if j.State.Final() {
			return
		}
		if polled == nil {
			polled = s.poller.add(id, last)
			defer s.poller.remove(polled)
		} else {
			s.poller.seen(polled, last)
		}
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": heartbeat\n\n")
			flusher.Flush()
			continue
		case final := <-changed:
			if final != nil { // completed here: no need to read it back
				j = final
				continue
			}
		case <-polled.wake:
		}
		if j, err = s.q.Get(ctx, id); err != nil {
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", strings.ReplaceAll(toError(err).Msg, "\n", " "))
			return
		}
	}
}

// eventID is the id of the event that carries version v of a job: its
// update time, attempts and state, which change together with the row.
func eventID(v store.JobVersion) string {
	return fmt.Sprintf("%d.%d.%s", v.UpdatedAt, v.Attempts, v.State)
}
