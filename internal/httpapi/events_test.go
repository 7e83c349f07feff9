package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"netsmith/internal/httpapi"
)

// readEvent reads one server-sent event or comment block, up to its blank
// line, and returns its lines.
func readEvent(t *testing.T, sc *bufio.Scanner) []string {
	t.Helper()
	var lines []string
	for sc.Scan() {
		if sc.Text() == "" {
			return lines
		}
		lines = append(lines, sc.Text())
	}
	t.Fatalf("stream ended after %q: %v", lines, sc.Err())
	return nil
}

func openEvents(t *testing.T, url, lastEventID string) *bufio.Scanner {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return bufio.NewScanner(resp.Body)
}

// TestEventStreamHeartbeatAndResume: a stream of a job that does not change
// sends its state once, with an id, then only heartbeat comments; one
// resumed with that id in Last-Event-ID does not send the state again,
// and one resumed with another id does.
func TestEventStreamHeartbeatAndResume(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{StreamHeartbeat: 50 * time.Millisecond}, 0) // no workers: the job stays queued
	_, out := post(t, srv.URL+"/v1/jobs", validJob)
	url := srv.URL + "/v1/jobs/" + out["id"].(string) + "/events"

	first := readEvent(t, openEvents(t, url, ""))
	if len(first) != 3 || !strings.HasPrefix(first[0], "id: ") || first[1] != "event: state" || !strings.Contains(first[2], `"status":"queued"`) {
		t.Fatalf("first event %q; want id, event: state and the queued job", first)
	}
	id := strings.TrimPrefix(first[0], "id: ")

	sc := openEvents(t, url, "")
	readEvent(t, sc)
	for range 2 {
		if ev := readEvent(t, sc); len(ev) != 1 || ev[0] != ": heartbeat" {
			t.Fatalf("quiet stream sent %q; want a heartbeat comment", ev)
		}
	}
	if ev := readEvent(t, openEvents(t, url, id)); len(ev) != 1 || ev[0] != ": heartbeat" {
		t.Errorf("stream resumed at the current version sent %q first; want only a heartbeat", ev)
	}
	if ev := readEvent(t, openEvents(t, url, "1.0.queued")); len(ev) != 3 || ev[0] != first[0] {
		t.Errorf("stream resumed at an older version sent %q first; want the current state again", ev)
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.ErrUnexpectedEOF, true},
		{errors.New("event stream ended before the job finished"), true},
		{&httpapi.APIError{Status: http.StatusBadGateway}, true},
		{&httpapi.APIError{Status: http.StatusServiceUnavailable}, true},
		{&httpapi.APIError{Status: http.StatusTooManyRequests}, true},
		{&httpapi.APIError{Status: http.StatusNotFound}, false},
		{&httpapi.APIError{Status: http.StatusUnauthorized}, false},
		{fmt.Errorf("poll: %w", &httpapi.APIError{Status: http.StatusForbidden}), false},
	} {
		if got := httpapi.Transient(tc.err); got != tc.want {
			t.Errorf("Transient(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}
