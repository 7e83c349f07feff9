package fakeanthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

const (
	statusInProgress = "in_progress"
	statusCanceling  = "canceling"
	statusEnded      = "ended"
	maxBatchRequests = 100_000
)

var customIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// batch is a Message Batch. Its results are computed when it is created;
// time alone decides how many of them count as processed.
type batch struct {
	id         string
	created    time.Time
	canceledAt time.Time // zero unless canceled
	items      []batchItem
}

type batchItem struct {
	customID string
	line     []byte // the JSONL line of its result, without newline
	errored  bool
}

type batchCounts struct {
	Processing int64 `json:"processing"`
	Succeeded  int64 `json:"succeeded"`
	Errored    int64 `json:"errored"`
	Canceled   int64 `json:"canceled"`
	Expired    int64 `json:"expired"`
}

// batchView is a batch's state at one instant.
type batchView struct {
	status    string
	counts    batchCounts
	endedAt   time.Time // zero while not ended
	processed int       // items[:processed] have results; the rest are processing or canceled
}

// view computes the batch's state at now. Requests finish evenly over
// dur; a cancel stops the batch within a tenth of dur, the requests not
// processed by then being canceled.
func (b *batch) view(now time.Time, dur time.Duration) batchView {
	end := b.created.Add(dur)
	canceled := false
	if !b.canceledAt.IsZero() {
		if stop := b.canceledAt.Add(dur / 10); stop.Before(end) {
			end, canceled = stop, true
		}
	}
	n := len(b.items)
	upTo := now
	if end.Before(upTo) {
		upTo = end
	}
	v := batchView{processed: n}
	if dur > 0 && upTo.Before(b.created.Add(dur)) {
		v.processed = min(max(int(float64(n)*float64(upTo.Sub(b.created))/float64(dur)), 0), n)
	}
	for _, it := range b.items[:v.processed] {
		if it.errored {
			v.counts.Errored++
		} else {
			v.counts.Succeeded++
		}
	}
	rest := int64(n - v.processed)
	switch {
	case now.Before(end) && !b.canceledAt.IsZero():
		v.status = statusCanceling
		v.counts.Processing = rest
	case now.Before(end):
		v.status = statusInProgress
		v.counts.Processing = rest
	default:
		v.status, v.endedAt = statusEnded, end
		if canceled {
			v.counts.Canceled = rest
		}
	}
	return v
}

type wireBatch struct {
	ID                string      `json:"id"`
	Type              string      `json:"type"`
	ProcessingStatus  string      `json:"processing_status"`
	RequestCounts     batchCounts `json:"request_counts"`
	EndedAt           *time.Time  `json:"ended_at"`
	CreatedAt         time.Time   `json:"created_at"`
	ExpiresAt         time.Time   `json:"expires_at"`
	ArchivedAt        *time.Time  `json:"archived_at"`
	CancelInitiatedAt *time.Time  `json:"cancel_initiated_at"`
	ResultsURL        *string     `json:"results_url"`
}

// wire renders b as the API does; s.mu must be held (a cancel writes
// b.canceledAt).
func (s *Server) wire(r *http.Request, b *batch, v batchView) wireBatch {
	w := wireBatch{
		ID:               b.id,
		Type:             "message_batch",
		ProcessingStatus: v.status,
		RequestCounts:    v.counts,
		CreatedAt:        b.created.UTC(),
		ExpiresAt:        b.created.Add(24 * time.Hour).UTC(),
	}
	if !v.endedAt.IsZero() {
		t := v.endedAt.UTC()
		w.EndedAt = &t
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		u := scheme + "://" + r.Host + "/v1/messages/batches/" + b.id + "/results"
		w.ResultsURL = &u
	}
	if !b.canceledAt.IsZero() {
		t := b.canceledAt.UTC()
		w.CancelInitiatedAt = &t
	}
	return w
}

// resultLine is one line of a results file.
type resultLine struct {
	CustomID string `json:"custom_id"`
	Result   struct {
		Type    string       `json:"type"`
		Message *wireMessage `json:"message,omitempty"`
		Error   *errorBody   `json:"error,omitempty"`
	} `json:"result"`
}

type errorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) handleCreateBatch(w http.ResponseWriter, r *http.Request, reqID string) {
	var body struct {
		Requests []struct {
			CustomID *string          `json:"custom_id"`
			Params   *json.RawMessage `json:"params"`
		} `json:"requests"`
	}
	if !s.readRequest(w, r, reqID, &body) {
		return
	}
	bad := func(msg string) { s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", msg) }
	switch n := len(body.Requests); {
	case n == 0:
		bad("requests: List should have at least 1 item")
		return
	case n > maxBatchRequests:
		bad(fmt.Sprintf("requests: List should have at most %d items", maxBatchRequests))
		return
	}
	seen := make(map[string]bool, len(body.Requests))
	for i, it := range body.Requests {
		switch {
		case it.CustomID == nil:
			bad(fmt.Sprintf("requests.%d.custom_id: Field required", i))
			return
		case !customIDPattern.MatchString(*it.CustomID):
			bad(fmt.Sprintf("requests.%d.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", i))
			return
		case seen[*it.CustomID]:
			bad(fmt.Sprintf("requests.%d.custom_id: Duplicate custom_id %q", i, *it.CustomID))
			return
		case it.Params == nil:
			bad(fmt.Sprintf("requests.%d.params: Field required", i))
			return
		}
		seen[*it.CustomID] = true
	}

	b := &batch{items: make([]batchItem, len(body.Requests))}
	var tokIn, tokOut int64
	for i, it := range body.Requests {
		line, a := s.batchResult(*it.CustomID, *it.Params)
		data, err := json.Marshal(line)
		if err != nil {
			s.reject(w, r, reqID, http.StatusInternalServerError, "api_error", "Internal server error")
			return
		}
		b.items[i] = batchItem{customID: *it.CustomID, line: data, errored: line.Result.Type == "errored"}
		tokIn += a.in
		tokOut += a.out
	}

	s.mu.Lock()
	b.id = s.newID("msgbatch_")
	b.created = s.now()
	s.batches[b.id] = b
	s.order = append(s.order, b.id)
	s.stats.Batches.Created++
	s.stats.Batches.Requests += int64(len(b.items))
	s.stats.Batches.InputTokens += tokIn
	s.stats.Batches.OutputTokens += tokOut
	s.stats.ByStatus[http.StatusOK]++
	out := s.wire(r, b, b.view(b.created, s.cfg.BatchTime))
	states := s.limits.peek(b.created)
	s.mu.Unlock()
	s.log.DebugContext(r.Context(), "fake batch created", "request_id", reqID, "batch_id", out.ID, "requests", len(b.items))
	setLimitHeaders(w.Header(), states)
	writeJSON(w, http.StatusOK, out)
}

// batchResult answers one request of a batch: a message, or an errored
// result for what the Messages endpoint would have refused.
func (s *Server) batchResult(customID string, params json.RawMessage) (resultLine, answer) {
	line := resultLine{CustomID: customID}
	fail := func(typ, msg string) (resultLine, answer) {
		line.Result.Type = "errored"
		line.Result.Error = &errorBody{Type: "error"}
		line.Result.Error.Error.Type, line.Result.Error.Error.Message = typ, msg
		return line, answer{}
	}
	var mr messagesRequest
	if err := json.Unmarshal(params, &mr); err != nil {
		return fail("invalid_request_error", "params: "+err.Error())
	}
	if msg := mr.validate(true); msg != "" {
		return fail("invalid_request_error", msg)
	}
	if s.models != nil && !s.models[mr.Model] {
		return fail("not_found_error", "model: "+mr.Model)
	}
	req := mr.llm()
	if s.hasMarker(req) {
		return fail("invalid_request_error", s.markerMessage())
	}
	a := answerFor(req)
	m := s.message(mr.Model, a)
	line.Result.Type, line.Result.Message = "succeeded", &m
	return line, a
}

// lookup finds the batch named in the path, answering 404 itself when there
// is none. On success s.mu is held and the caller must unlock it.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, reqID string) (*batch, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	b := s.batches[id]
	if b == nil {
		s.mu.Unlock()
		s.reject(w, r, reqID, http.StatusNotFound, "not_found_error", "message_batch: "+id+" not found")
		return nil, false
	}
	return b, true
}

func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request, reqID string) {
	b, ok := s.lookup(w, r, reqID)
	if !ok {
		return
	}
	now := s.now()
	out := s.wire(r, b, b.view(now, s.cfg.BatchTime))
	states := s.limits.peek(now)
	s.stats.ByStatus[http.StatusOK]++
	s.mu.Unlock()
	setLimitHeaders(w.Header(), states)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCancelBatch(w http.ResponseWriter, r *http.Request, reqID string) {
	b, ok := s.lookup(w, r, reqID)
	if !ok {
		return
	}
	now := s.now()
	if v := b.view(now, s.cfg.BatchTime); v.status == statusInProgress {
		b.canceledAt = now
		s.stats.Batches.Canceled++
	}
	out := s.wire(r, b, b.view(now, s.cfg.BatchTime))
	states := s.limits.peek(now)
	s.stats.ByStatus[http.StatusOK]++
	s.mu.Unlock()
	setLimitHeaders(w.Header(), states)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleBatchResults(w http.ResponseWriter, r *http.Request, reqID string) {
	b, ok := s.lookup(w, r, reqID)
	if !ok {
		return
	}
	v := b.view(s.now(), s.cfg.BatchTime)
	if v.status != statusEnded {
		s.mu.Unlock()
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error",
			"Message Batch "+r.PathValue("id")+" has not ended yet; its results are available once processing_status is ended.")
		return
	}
	s.stats.ByStatus[http.StatusOK]++
	s.mu.Unlock()
	// b.items never changes after the batch is created, so it is read
	// without the lock; v.processed fixes which items have results.
	w.Header().Set("content-type", "application/x-jsonl")
	w.WriteHeader(http.StatusOK)
	for i, it := range b.items {
		line := it.line
		if i >= v.processed {
			var c resultLine
			c.CustomID, c.Result.Type = it.customID, "canceled"
			line, _ = json.Marshal(c)
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return
		}
	}
}

func (s *Server) handleListBatches(w http.ResponseWriter, r *http.Request, reqID string) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", "limit: Input should be between 1 and 1000")
			return
		}
		limit = n
	}
	s.mu.Lock()
	now := s.now()
	type page struct {
		Data    []wireBatch `json:"data"`
		HasMore bool        `json:"has_more"`
		FirstID *string     `json:"first_id"`
		LastID  *string     `json:"last_id"`
	}
	p := page{Data: []wireBatch{}}
	for i := len(s.order) - 1; i >= 0 && len(p.Data) < limit; i-- {
		b := s.batches[s.order[i]]
		p.Data = append(p.Data, s.wire(r, b, b.view(now, s.cfg.BatchTime)))
	}
	p.HasMore = len(p.Data) < len(s.order)
	states := s.limits.peek(now)
	s.stats.ByStatus[http.StatusOK]++
	s.mu.Unlock()
	if len(p.Data) > 0 {
		p.FirstID, p.LastID = &p.Data[0].ID, &p.Data[len(p.Data)-1].ID
	}
	setLimitHeaders(w.Header(), states)
	writeJSON(w, http.StatusOK, p)
}
