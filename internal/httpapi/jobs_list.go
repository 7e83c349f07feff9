package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/netcfg"
)

// JobList is the body of GET /v1/jobs: one page of jobs, newest first,
// without their results (GET /v1/jobs/{id} has those). NextCursor, when
// set, is the cursor of the next page.
type JobList struct {
	Jobs       []*JobView `json:"jobs"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

const (
	defaultJobPage = 100
	maxJobPage     = 1000
)

var allStates = []netcfg.JobState{netcfg.StateQueued, netcfg.StateRunning, netcfg.StateRetrying,
	netcfg.StateSucceeded, netcfg.StateFailed, netcfg.StateCanceled, netcfg.StateExpired}

// handleListJobs is GET /v1/jobs?state=&batch=&limit=&cursor=: a user key
// sees its department's jobs, an admin every job or one department's
// (?department=).
func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := netcfg.JobFilter{State: netcfg.JobState(q.Get("state")), BatchID: q.Get("batch"), Limit: defaultJobPage}
	if f.State != "" && !slices.Contains(allStates, f.State) {
		s.writeError(w, r, badRequest("state %q: want one of queued, running, retrying, succeeded, failed, canceled, expired", f.State))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxJobPage {
			s.writeError(w, r, badRequest("limit %q: want 1 to %d", v, maxJobPage))
			return
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		var ok bool
		if f.AfterCreated, f.AfterID, ok = parseCursor(v); !ok {
			s.writeError(w, r, badRequest("cursor %q: not a cursor from next_cursor", v))
			return
		}
	}
	p := principal(r.Context())
	switch dept := q.Get("department"); {
	case !p.Admin():
		f.Department = p.Department
	case dept != "":
		f.Department = dept
	}
	jobs, err := s.db.ListJobs(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := JobList{Jobs: make([]*JobView, 0, len(jobs))}
	for _, j := range jobs {
		v := viewOf(j)
		v.Result = nil
		out.Jobs = append(out.Jobs, v)
	}
	if len(jobs) == f.Limit {
		last := jobs[len(jobs)-1]
		out.NextCursor = cursorOf(last.CreatedAt, last.ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// A cursor is the last job's creation time (Unix ms) and id, opaque to
// clients.
func cursorOf(created time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(created.UnixMilli(), 10) + "/" + id))
}

func parseCursor(s string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	ms, id, ok := strings.Cut(string(b), "/")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.UnixMilli(n), id, true
}

// Jobs lists one page of jobs: query takes state, batch, limit, cursor and
// (admin keys) department.
func (c *Client) Jobs(ctx context.Context, query url.Values) (*JobList, error) {
	var out JobList
	if err := c.do(ctx, http.MethodGet, "/v1/jobs?"+query.Encode(), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
