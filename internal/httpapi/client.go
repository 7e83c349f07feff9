package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to a netsmith server. The CLI and the end-to-end tests use it.
type Client struct {
	base string
	http *http.Client
	key  string
}

// NewClient returns a Client for the server at baseURL. httpClient may be
// nil for one with a 30 s timeout. apiKey may be empty.
func NewClient(baseURL string, httpClient *http.Client, apiKey string) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: httpClient, key: apiKey}
}

// APIError is an error answer from the server.
type APIError struct {
	Status     int
	Type       string
	Message    string
	RetryAfter string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Type, e.Message)
}

func (c *Client) do(ctx context.Context, method, path string, header http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	if in != nil {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Content-Type", "application/json")
	}
	req, err := c.newRequest(ctx, method, path, header, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readAPIError(resp)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

func readAPIError(resp *http.Response) error {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
		e.Error.Message = strings.TrimSpace(string(b))
	}
	return &APIError{Status: resp.StatusCode, Type: e.Error.Type, Message: e.Error.Message,
		RetryAfter: resp.Header.Get("Retry-After")}
}

// newRequest builds a request to the server with header and the API key.
func (c *Client) newRequest(ctx context.Context, method, path string, header http.Header, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return req, nil
}

// long sends a request that may outlast the client's timeout (a stream, a
// large upload): only ctx bounds it. It returns the response when its
// status is want, for the caller to read and close.
func (c *Client) long(ctx context.Context, method, path string, header http.Header, body io.Reader, want int) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, header, body)
	if err != nil {
		return nil, err
	}
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}

// Submit posts a job.
func (c *Client) Submit(ctx context.Context, req *SubmitRequest) (*SubmitResponse, error) {
	var out SubmitResponse
	if err := c.do(ctx, http.MethodPost, "/v1/jobs", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Job returns a job.
func (c *Client) Job(ctx context.Context, id string) (*JobView, error) {
	var out JobView
	if err := c.do(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Cancel cancels a job.
func (c *Client) Cancel(ctx context.Context, id string) (*JobView, error) {
	var out JobView
	if err := c.do(ctx, http.MethodDelete, "/v1/jobs/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Wait follows the job's event stream until it reaches a final state and
// returns it. onChange, if not nil, sees every state on the way. A stream
// that breaks before then (a proxy's read timeout, a server restarted or
// drained) is opened again after a backoff, resuming after the last event
// seen (Last-Event-ID); only an answer refusing the stream (a 4xx but 429)
// or ctx ends the wait early.
func (c *Client) Wait(ctx context.Context, id string, onChange func(*JobView)) (*JobView, error) {
	var (
		last   *JobView
		lastID string
		retry  Backoff
	)
	for {
		err := c.follow(ctx, id, &lastID, func(v *JobView) {
			last = v
			retry.Reset()
			if onChange != nil {
				onChange(v)
			}
		})
		if last != nil && last.Status.Final() {
			return last, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return last, cerr
		}
		if !Transient(err) {
			return last, err
		}
		if err := retry.Wait(ctx); err != nil {
			return last, err
		}
	}
}

// Transient reports whether a Client call that failed with err may pass
// if made again: it got no answer (a refused or cut connection, a stream
// that ended early) or a 5xx or 429 one (a proxy with no replica behind
// it, a replica draining). A 4xx but 429, or an answer the client cannot
// read, will not change. Whether ctx is done is the caller's to check.
func Transient(err error) bool {
	var apiErr *APIError
	var protoErr *streamError
	switch {
	case err == nil, errors.As(err, &protoErr):
		return false
	case errors.As(err, &apiErr):
		return apiErr.Status >= 500 || apiErr.Status == http.StatusTooManyRequests
	}
	return true
}

// Backoff spaces the attempts of a call made again after Transient errors:
// from BackoffMin, doubled after each attempt, up to BackoffMax, each wait
// drawn at random from its upper half so that clients cut off together do
// not come back together. The zero value is ready.
type Backoff struct{ next time.Duration }

// The bounds of Backoff's waits.
const (
	BackoffMin = 250 * time.Millisecond
	BackoffMax = 5 * time.Second
)

// Reset starts the next wait from BackoffMin again, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Wait waits before the next attempt; it returns ctx's error if ctx ends
// first.
func (b *Backoff) Wait(ctx context.Context) error {
	d := max(b.next, BackoffMin)
	b.next = min(2*d, BackoffMax)
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// streamError is an event stream Wait cannot read: reconnecting would not
// help.
type streamError struct{ msg string }

func (e *streamError) Error() string { return e.msg }

// follow reads one connection of job id's event stream, from the event
// after *lastID, calling onEvent with each state and recording its id. It
// returns when the stream ends, with why (nil when it ended cleanly).
func (c *Client) follow(ctx context.Context, id string, lastID *string, onEvent func(*JobView)) error {
	h := http.Header{"Accept": {"text/event-stream"}}
	if *lastID != "" {
		h.Set("Last-Event-ID", *lastID)
	}
	// The stream lasts as long as the job.
	resp, err := c.long(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id)+"/events", h, nil, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	// Most events are small; one with a large config grows the buffer.
	sc.Buffer(make([]byte, 4<<10), 16<<20)
	var eventID, event string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			eventID = v
			continue
		}
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue // a heartbeat comment, the blank line
		}
		if event == "error" { // the server could not read the job: try again
			return fmt.Errorf("job %s: event stream: %s", id, data)
		}
		var v JobView
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return &streamError{fmt.Sprintf("job %s: server sent %q", id, data)}
		}
		if eventID != "" {
			*lastID = eventID
		}
		onEvent(&v)
		if v.Status.Final() {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("event stream ended before the job finished")
}

// LegacyGenerate posts to the legacy /api/generate-config.
func (c *Client) LegacyGenerate(ctx context.Context, deviceName, requirements string) (*LegacyGenerateResponse, error) {
	var out LegacyGenerateResponse
	in := LegacyGenerateRequest{DeviceName: deviceName, Requirements: requirements}
	if err := c.do(ctx, http.MethodPost, "/api/generate-config", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LegacyStatus reads the legacy /api/job-status/{job_id}.
func (c *Client) LegacyStatus(ctx context.Context, jobID string) (*LegacyStatus, error) {
	var out LegacyStatus
	if err := c.do(ctx, http.MethodGet, "/api/job-status/"+url.PathEscape(jobID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Healthz checks /healthz.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// SubmitBatch posts a fleet file (YAML, CSV or JSON, named by format or
// guessed from name) and returns the new batch.
func (c *Client) SubmitBatch(ctx context.Context, name string, format string, fleetFile []byte) (*BatchView, error) {
	return c.SubmitFleet(ctx, SubmitOptions{Name: name, Format: format}, fleetFile)
}

// SubmitOptions are the query parameters of POST /v1/batches.
type SubmitOptions struct {
	Name   string
	Format string // yaml, csv or json; guessed from Name when empty
	// Economy makes the intents' templates through the Message Batches
	// API (half price, slower).
	Economy bool
	// Department pays for the batch (admin keys or an open service).
	Department string
}

// SubmitFleet posts a fleet file with opts and returns the new batch.
func (c *Client) SubmitFleet(ctx context.Context, opts SubmitOptions, fleetFile []byte) (*BatchView, error) {
	q := url.Values{"name": {opts.Name}}
	if opts.Format != "" {
		q.Set("format", opts.Format)
	}
	if opts.Economy {
		q.Set("economy", "true")
	}
	if opts.Department != "" {
		q.Set("department", opts.Department)
	}
	// A large fleet takes a while to queue.
	resp, err := c.long(ctx, http.MethodPost, "/v1/batches?"+q.Encode(),
		http.Header{"Content-Type": {"application/octet-stream"}}, bytes.NewReader(fleetFile), http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v BatchView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Batch returns a batch's progress.
func (c *Client) Batch(ctx context.Context, id string) (*BatchView, error) {
	var v BatchView
	if err := c.do(ctx, http.MethodGet, "/v1/batches/"+url.PathEscape(id), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// BatchResults streams a batch's results (NDJSON) to fn.
func (c *Client) BatchResults(ctx context.Context, id string, fn func(*BatchResult) error) error {
	return c.BatchResultsSince(ctx, id, time.Time{}, fn)
}

// BatchResultsSince is BatchResults for the devices that finished at or
// after since (all of them when since is zero).
func (c *Client) BatchResultsSince(ctx context.Context, id string, since time.Time, fn func(*BatchResult) error) error {
	p := "/v1/batches/" + url.PathEscape(id) + "/results"
	if !since.IsZero() {
		p += "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339Nano))
	}
	resp, err := c.long(ctx, http.MethodGet, p, nil, nil, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var br BatchResult
		if err := dec.Decode(&br); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("batch %s results: %w", id, err)
		}
		if err := fn(&br); err != nil {
			return err
		}
	}
}

// BaseURL returns the server URL the client talks to.
func (c *Client) BaseURL() string { return c.base }

// CacheStats reads GET /v1/cache/stats.
func (c *Client) CacheStats(ctx context.Context) (*CacheStats, error) {
	var out CacheStats
	if err := c.do(ctx, http.MethodGet, "/v1/cache/stats", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InvalidateCache posts to /v1/cache/invalidate and returns how many
// entries went.
func (c *Client) InvalidateCache(ctx context.Context, req *InvalidateRequest) (int64, error) {
	var out struct {
		Invalidated int64 `json:"invalidated"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/cache/invalidate", nil, req, &out); err != nil {
		return 0, err
	}
	return out.Invalidated, nil
}

// Costs asks GET /v1/costs with query (group_by, since, until, department).
func (c *Client) Costs(ctx context.Context, query url.Values) (*CostReport, error) {
	var out CostReport
	if err := c.do(ctx, http.MethodGet, "/v1/costs?"+query.Encode(), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Budget returns a department's budget and its usage.
func (c *Client) Budget(ctx context.Context, department string) (*BudgetView, error) {
	var out BudgetView
	if err := c.do(ctx, http.MethodGet, "/v1/budgets/"+url.PathEscape(department), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetBudget sets a department's budget (admin keys only).
func (c *Client) SetBudget(ctx context.Context, department string, req *BudgetRequest) (*BudgetView, error) {
	var out BudgetView
	if err := c.do(ctx, http.MethodPut, "/v1/budgets/"+url.PathEscape(department), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// JobDiff asks for the remediation from a device's running config to the
// config job id generated (POST /v1/jobs/{id}/diff).
func (c *Client) JobDiff(ctx context.Context, id string, req DiffRequest) (*DiffResponse, error) {
	var out DiffResponse
	if err := c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/diff", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BatchDrift posts a tar.gz of running configs (HOSTNAME.cfg) and returns
// the batch's configs held against them (POST /v1/batches/{id}/drift).
func (c *Client) BatchDrift(ctx context.Context, id string, runningTarGz []byte) (*BatchDrift, error) {
	resp, err := c.long(ctx, http.MethodPost, "/v1/batches/"+url.PathEscape(id)+"/drift",
		http.Header{"Content-Type": {"application/gzip"}}, bytes.NewReader(runningTarGz), http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v BatchDrift
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return &v, nil
}
