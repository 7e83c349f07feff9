package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"netsmith/internal/llm"
)

type wireBatch struct {
	ID                string          `json:"id"`
	Type              string          `json:"type"`
	ProcessingStatus  string          `json:"processing_status"`
	RequestCounts     llm.BatchCounts `json:"request_counts"`
	CreatedAt         *time.Time      `json:"created_at"`
	ExpiresAt         *time.Time      `json:"expires_at"`
	EndedAt           *time.Time      `json:"ended_at"`
	CancelInitiatedAt *time.Time      `json:"cancel_initiated_at"`
	ArchivedAt        *time.Time      `json:"archived_at"`
	ResultsURL        *string         `json:"results_url"`
}

func (w *wireBatch) batch(requestID string) *llm.Batch {
	t := func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return *p
	}
	b := &llm.Batch{
		ID:                w.ID,
		ProcessingStatus:  w.ProcessingStatus,
		RequestCounts:     w.RequestCounts,
		CreatedAt:         t(w.CreatedAt),
		ExpiresAt:         t(w.ExpiresAt),
		EndedAt:           t(w.EndedAt),
		CancelInitiatedAt: t(w.CancelInitiatedAt),
		ArchivedAt:        t(w.ArchivedAt),
		RequestID:         requestID,
	}
	if w.ResultsURL != nil {
		b.ResultsURL = *w.ResultsURL
	}
	return b
}

// CreateBatch submits reqs as one Message Batch (POST /v1/messages/batches).
func (c *Client) CreateBatch(ctx context.Context, reqs []llm.BatchRequest) (*llm.Batch, error) {
	type item struct {
		CustomID string          `json:"custom_id"`
		Params   messagesRequest `json:"params"`
	}
	body := struct {
		Requests []item `json:"requests"`
	}{Requests: make([]item, 0, len(reqs))}
	for _, r := range reqs {
		p, err := c.body(r.Request, true)
		if err != nil {
			return nil, err
		}
		body.Requests = append(body.Requests, item{CustomID: r.CustomID, Params: p})
	}
	return c.batchCall(ctx, http.MethodPost, "/v1/messages/batches", body)
}

// GetBatch returns the batch's current state (GET /v1/messages/batches/{id}).
func (c *Client) GetBatch(ctx context.Context, id string) (*llm.Batch, error) {
	return c.batchCall(ctx, http.MethodGet, "/v1/messages/batches/"+url.PathEscape(id), nil)
}

// CancelBatch asks the API to cancel the batch
// (POST /v1/messages/batches/{id}/cancel) and returns its state, usually
// llm.BatchCanceling.
func (c *Client) CancelBatch(ctx context.Context, id string) (*llm.Batch, error) {
	return c.batchCall(ctx, http.MethodPost, "/v1/messages/batches/"+url.PathEscape(id)+"/cancel", nil)
}

func (c *Client) batchCall(ctx context.Context, method, path string, in any) (*llm.Batch, error) {
	var w wireBatch
	meta, err := c.call(ctx, method, path, in, &w)
	if err != nil {
		return nil, err
	}
	if w.ID == "" || w.Type != "message_batch" {
		return nil, meta.malformed(fmt.Errorf("response is not a message_batch (type %q, id %q)", w.Type, w.ID))
	}
	return w.batch(meta.requestID), nil
}

// BatchResults fetches all results of an ended batch
// (GET /v1/messages/batches/{id}/results, JSONL). Results are in the
// order the API streams them, which need not be the order of the requests;
// match them by CustomID.
func (c *Client) BatchResults(ctx context.Context, id string) ([]llm.BatchResult, error) {
	var out []llm.BatchResult
	err := c.EachBatchResult(ctx, id, func(r llm.BatchResult) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// EachBatchResult streams the results of an ended batch to fn, one line at a
// time, without holding them all. It stops at fn's first error and returns
// it.
func (c *Client) EachBatchResult(ctx context.Context, id string, fn func(llm.BatchResult) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.open(ctx, http.MethodGet, "/v1/messages/batches/"+url.PathEscape(id)+"/results", nil, "application/x-jsonl, application/json")
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	m := meta{status: resp.StatusCode, requestID: requestID(resp.Header), limits: ParseRateLimits(resp.Header)}
	dec := json.NewDecoder(resp.Body)
	for {
		var line resultLine
		err := dec.Decode(&line)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
				return m.malformed(fmt.Errorf("batch results: %w", err))
			}
			return c.transportError(ctx, err)
		}
		if err := fn(line.result(m.requestID)); err != nil {
			return err
		}
	}
}

// resultLine is one line of a batch's results file.
type resultLine struct {
	CustomID string `json:"custom_id"`
	Result   struct {
		Type    string   `json:"type"`
		Message *message `json:"message"`
		// Error is an error body ({"type":"error","error":{…}}) or, in
		// older answers, the inner {"type","message"} itself.
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Error   *struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"error"`
	} `json:"result"`
}

func (l *resultLine) result(requestID string) llm.BatchResult {
	r := llm.BatchResult{CustomID: l.CustomID, Type: l.Result.Type}
	switch {
	case l.Result.Type == llm.ResultSucceeded && l.Result.Message != nil:
		r.Response = l.Result.Message.response(requestID, nil)
	case l.Result.Type == llm.ResultErrored:
		typ, msg := "", ""
		if e := l.Result.Error; e != nil {
			typ, msg = e.Type, e.Message
			if e.Error != nil {
				typ, msg = e.Error.Type, e.Error.Message
			}
		}
		class, _ := classOfType(typ)
		r.Err = &llm.Error{Provider: Name, Class: class, Type: typ, Message: msg}
	case l.Result.Type == llm.ResultSucceeded:
		r.Err = &llm.Error{Provider: Name, Class: llm.Transient, Message: "malformed batch result: succeeded without a message"}
	default:
		r.Err = &llm.Error{Provider: Name, Class: llm.Transient, Type: l.Result.Type, Message: "batch request " + l.Result.Type}
	}
	return r
}
