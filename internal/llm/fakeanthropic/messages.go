package fakeanthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"netsmith/internal/llm"
	"netsmith/internal/llm/sim"
)

// text is a string the API accepts either plainly or as a list of content
// blocks; only text blocks are kept.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &blocks); err != nil {
		return errors.New("must be a string or a list of content blocks")
	}
	var sb strings.Builder
	for _, bl := range blocks {
		if bl.Type != "text" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(bl.Text)
	}
	*t = text(sb.String())
	return nil
}

// messagesRequest is the subset of the Messages API request the fake reads.
type messagesRequest struct {
	Model     string `json:"model"`
	MaxTokens *int64 `json:"max_tokens"`
	System    text   `json:"system"`
	Messages  []struct {
		Role    string `json:"role"`
		Content *text  `json:"content"`
	} `json:"messages"`
}

// validate checks req the way the API does; it returns the message of a 400.
func (r *messagesRequest) validate(needMaxTokens bool) string {
	switch {
	case r.Model == "":
		return "model: Field required"
	case needMaxTokens && r.MaxTokens == nil:
		return "max_tokens: Field required"
	case needMaxTokens && *r.MaxTokens < 1:
		return "max_tokens: Input should be greater than or equal to 1"
	case len(r.Messages) == 0:
		return "messages: at least one message is required"
	}
	for i, m := range r.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if m.Content == nil {
			return fmt.Sprintf("messages.%d.content: Field required", i)
		}
	}
	return ""
}

func (r *messagesRequest) llm() llm.Request {
	req := llm.Request{Model: r.Model, System: string(r.System)}
	if r.MaxTokens != nil {
		req.MaxTokens = int(*r.MaxTokens)
	}
	for _, m := range r.Messages {
		req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: string(*m.Content)})
	}
	return req
}

func inputTokens(req llm.Request) int64 {
	n := sim.CountTokens(req.System)
	for _, m := range req.Messages {
		n += sim.CountTokens(m.Content)
	}
	return n
}

func (s *Server) hasMarker(req llm.Request) bool {
	if strings.Contains(req.System, s.cfg.InvalidMarker) {
		return true
	}
	for _, m := range req.Messages {
		if strings.Contains(m.Content, s.cfg.InvalidMarker) {
			return true
		}
	}
	return false
}

func (s *Server) markerMessage() string {
	return "The prompt contains the marker " + s.cfg.InvalidMarker + ", which this fake server always rejects."
}

// answer is a message the fake will send.
type answer struct {
	text       string
	stopReason string
	in, out    int64
}

// answerFor computes the reply to req with sim, cut at max_tokens.
func answerFor(req llm.Request) answer {
	a := answer{text: sim.Answer(req), stopReason: "end_turn", in: inputTokens(req)}
	a.out = sim.CountTokens(a.text)
	if limit := int64(req.MaxTokens); limit > 0 && a.out > limit {
		cut := int(limit * 4)
		for cut > 0 && !utf8.RuneStart(a.text[cut]) {
			cut--
		}
		a.text, a.out, a.stopReason = a.text[:cut], limit, "max_tokens"
	}
	return a
}

// wireMessage is the Messages API's response.
type wireMessage struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Role         string        `json:"role"`
	Model        string        `json:"model"`
	Content      []wireContent `json:"content"`
	StopReason   string        `json:"stop_reason"`
	StopSequence *string       `json:"stop_sequence"`
	Usage        wireUsage     `json:"usage"`
}

type wireContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type wireUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
}

func (s *Server) message(model string, a answer) wireMessage {
	return wireMessage{
		ID:         s.newID("msg_"),
		Type:       "message",
		Role:       "assistant",
		Model:      model,
		Content:    []wireContent{{Type: "text", Text: a.text}},
		StopReason: a.stopReason,
		Usage:      wireUsage{InputTokens: a.in, OutputTokens: a.out},
	}
}

// readRequest decodes a JSON body into v, answering 413 or 400 itself and
// returning false when it cannot.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, reqID string, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.reject(w, r, reqID, http.StatusRequestEntityTooLarge, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
		return false
	case err != nil:
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", "could not read the request body")
		return false
	}
	if err := json.Unmarshal(data, v); err != nil {
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", "Invalid JSON in the request body: "+err.Error())
		return false
	}
	return true
}

// outcome is what the lock-holding part of a message decided.
type outcome struct {
	status  int
	typ     string
	msg     string
	retry   time.Duration
	latency time.Duration
	states  []limitState
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request, reqID string) {
	var mr messagesRequest
	if !s.readRequest(w, r, reqID, &mr) {
		return
	}
	if msg := mr.validate(true); msg != "" {
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if s.models != nil && !s.models[mr.Model] {
		s.reject(w, r, reqID, http.StatusNotFound, "not_found_error", "model: "+mr.Model)
		return
	}
	req := mr.llm()
	if s.hasMarker(req) {
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", s.markerMessage())
		return
	}
	a := answerFor(req)
	o := s.decide(mr.Model, a)
	setLimitHeaders(w.Header(), o.states)
	if o.status != http.StatusOK {
		if o.status == http.StatusTooManyRequests {
			w.Header().Set("retry-after", fmt.Sprint(retryAfterSeconds(o.retry)))
		}
		s.log.DebugContext(r.Context(), "fake message refused", "request_id", reqID, "model", mr.Model, "status", o.status)
		writeError(w, o.status, o.typ, o.msg, reqID)
		return
	}
	if o.latency > 0 {
		t := time.NewTimer(o.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.mu.Lock()
			s.stats.ClientClosed++
			s.mu.Unlock()
			return
		}
	}
	s.mu.Lock()
	s.stats.ByStatus[http.StatusOK]++
	s.stats.Succeeded++
	s.stats.InputTokens += a.in
	s.stats.OutputTokens += a.out
	ms := s.modelStats(mr.Model)
	ms.Succeeded++
	ms.InputTokens += a.in
	ms.OutputTokens += a.out
	s.mu.Unlock()
	s.log.DebugContext(r.Context(), "fake message answered", "request_id", reqID, "model", mr.Model,
		"input_tokens", a.in, "output_tokens", a.out, "latency", o.latency)
	writeJSON(w, http.StatusOK, s.message(mr.Model, a))
}

// decide admits a message against the limits, draws injected errors and the
// latency, and counts the outcome, all under s.mu.
func (s *Server) decide(model string, a answer) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	ms := s.modelStats(model)
	ms.Requests++
	ad := s.limits.admit(s.now(), a.in, a.out)
	o := outcome{status: http.StatusOK, states: ad.states}
	switch p := s.rng.Float64(); {
	case !ad.ok:
		o.status, o.typ, o.msg, o.retry = http.StatusTooManyRequests, "rate_limit_error", rateLimitMessage(ad.exceeded, model), ad.retryAfter
		ms.RateLimited++
	case p < s.cfg.Error529Rate:
		o.status, o.typ, o.msg = 529, "overloaded_error", "Overloaded"
		ms.Overloaded++
	case p < s.cfg.Error529Rate+s.cfg.Error500Rate:
		o.status, o.typ, o.msg = http.StatusInternalServerError, "api_error", "Internal server error"
		ms.ServerErrors++
	default:
		o.latency = s.latency(a.out)
	}
	if o.status != http.StatusOK {
		s.stats.ByStatus[o.status]++
	}
	return o
}

// latency draws one answer's latency; s.mu must be held (it uses s.rng).
func (s *Server) latency(outTokens int64) time.Duration {
	d := s.cfg.Latency
	switch j := float64(s.cfg.Jitter); s.cfg.Distribution {
	case Uniform:
		d += time.Duration((s.rng.Float64()*2 - 1) * j)
	case Normal:
		d += time.Duration(s.rng.NormFloat64() * j)
	}
	d += time.Duration(outTokens) * s.cfg.PerOutputToken
	return time.Duration(math.Max(float64(d), 0))
}

func (s *Server) handleCountTokens(w http.ResponseWriter, r *http.Request, reqID string) {
	var mr messagesRequest
	if !s.readRequest(w, r, reqID, &mr) {
		return
	}
	if msg := mr.validate(false); msg != "" {
		s.reject(w, r, reqID, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	s.mu.Lock()
	s.stats.CountTokens++
	s.stats.ByStatus[http.StatusOK]++
	states := s.limits.peek(s.now())
	s.mu.Unlock()
	setLimitHeaders(w.Header(), states)
	writeJSON(w, http.StatusOK, struct {
		InputTokens int64 `json:"input_tokens"`
	}{inputTokens(mr.llm())})
}
