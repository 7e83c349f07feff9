package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/submit"
)

// Error is an error with an HTTP status and a message safe for clients. Err,
// the internal cause, is logged and never sent.
type Error struct {
	Status     int
	Type       string
	Msg        string
	Err        error
	RetryAfter time.Duration
	// Extra fields go into the error object beside type and message.
	Extra map[string]any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Type, e.Msg, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Msg: fmt.Sprintf(format, args...)}
}

// statusClientClosed is nginx's code for a client that went away.
const statusClientClosed = 499

// toError maps any error to the public *Error; the one place that decides.
func toError(err error) *Error {
	var (
		e  *Error
		fe *netcfg.FieldError
		mb *http.MaxBytesError
		be *netcfg.BudgetError
		ae *netcfg.ActiveLimitError
		tl *submit.TooLargeError
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Msg: fe.Error()}
	case errors.As(err, &mb):
		return &Error{Status: http.StatusRequestEntityTooLarge, Type: "request_too_large",
			Msg: fmt.Sprintf("request body is larger than %d bytes", mb.Limit)}
	case errors.As(err, &tl):
		return &Error{Status: http.StatusRequestEntityTooLarge, Type: "request_too_large", Msg: tl.Error()}
	case errors.As(err, &be):
		u := be.Usage
		return &Error{Status: http.StatusPaymentRequired, Type: "budget_exceeded", Msg: be.Error(),
			Extra: map[string]any{"department": be.Department, "period": u.Period,
				"limit_usd": usd(u.LimitNUSD), "spent_usd": usd(u.SpentNUSD), "reserved_usd": usd(u.ReservedNUSD),
				"remaining_usd": usd(u.RemainingNUSD()), "estimate_usd": usd(be.EstimateNUSD)}}
	case errors.As(err, &ae):
		return &Error{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Msg: ae.Error(),
			RetryAfter: 5 * time.Second, Extra: map[string]any{"max_active": ae.MaxActive, "active": ae.Active}}
	case errors.Is(err, netcfg.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Type: "not_found_error", Msg: "no such job"}
	case errors.Is(err, netcfg.ErrConflict):
		return &Error{Status: http.StatusConflict, Type: "idempotency_conflict",
			Msg: "idempotency key was already used with a different request body"}
	case errors.Is(err, context.Canceled):
		return &Error{Status: statusClientClosed, Type: "client_closed", Msg: "client closed the request", Err: err}
	case errors.Is(err, queue.ErrQueueFull):
		return &Error{Status: http.StatusServiceUnavailable, Type: "overloaded_error", Msg: err.Error(), RetryAfter: 5 * time.Second}
	}
	return &Error{Status: http.StatusInternalServerError, Type: "api_error", Msg: "internal error", Err: err}
}

// writeError sends err as {"error":{"type","message"}} and logs its cause
// once when it is the server's fault.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(s.outage(err))
	if e.Status >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"status", e.Status, slog.Any("error", err))
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	body := map[string]any{"type": e.Type, "message": e.Msg}
	for k, v := range e.Extra {
		body[k] = v
	}
	writeJSON(w, e.Status, map[string]any{"error": body})
}

// usd renders nano-USD as a JSON number of dollars.
func usd(n int64) float64 { return float64(n) / 1e9 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeJSON reads one JSON document into v, naming the field or offset of
// any problem. Unknown fields are refused so typos do not pass silently.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			syn *json.SyntaxError
			typ *json.UnmarshalTypeError
			mb  *http.MaxBytesError
			fe  *netcfg.FieldError
		)
		switch {
		case errors.As(err, &mb):
			return err
		case errors.As(err, &fe): // a field's own UnmarshalJSON (expires_in)
			return fe
		case errors.As(err, &syn):
			return badRequest("malformed JSON at byte %d: %v", syn.Offset, syn)
		case errors.As(err, &typ) && typ.Field == "":
			return badRequest("request body must be a JSON object, not %s", typ.Value)
		case errors.As(err, &typ):
			return &netcfg.FieldError{Field: typ.Field, Msg: fmt.Sprintf("must be %s, not %s", typ.Type, typ.Value)}
		case errors.Is(err, io.EOF):
			return badRequest("request body is empty; send a JSON object")
		default:
			return badRequest("malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return badRequest("request body holds more than one JSON value")
	}
	return nil
}
