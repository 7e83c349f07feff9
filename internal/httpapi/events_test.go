package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
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

// TestWaitResumesAfterCutStream: a proxy cuts the first event stream after
// its first event; Wait reconnects with that event's id in Last-Event-ID,
// is not sent the same state again, and returns the final state.
func TestWaitResumesAfterCutStream(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 0) // no workers: the job stays queued until canceled
	backend, err := neturl.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(backend)
	rp.FlushInterval = -1
	var streams atomic.Int32
	firstID := make(chan string, 1)
	resumed := make(chan string, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/events") {
			rp.ServeHTTP(w, r)
			return
		}
		if streams.Add(1) > 1 {
			resumed <- r.Header.Get("Last-Event-ID")
			rp.ServeHTTP(w, r)
			return
		}
		// The first stream: pass its first event on, then end it.
		resp, err := http.Get(srv.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "text/event-stream")
		ev := readEvent(t, bufio.NewScanner(resp.Body))
		fmt.Fprintf(w, "%s\n\n", strings.Join(ev, "\n"))
		firstID <- strings.TrimPrefix(ev[0], "id: ")
	}))
	t.Cleanup(front.Close)

	c := httpapi.NewClient(front.URL, nil, "")
	sub, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind: netcfg.KindGenerate, Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoXE}, Requirements: "x",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []netcfg.JobState
	done := make(chan error, 1)
	var final *httpapi.JobView
	go func() {
		var err error
		final, err = c.Wait(t.Context(), sub.ID, func(v *httpapi.JobView) { seen = append(seen, v.Status) })
		done <- err
	}()
	id := <-firstID
	if got := <-resumed; got != id {
		t.Errorf("reconnect sent Last-Event-ID %q; want the first event's %q", got, id)
	}
	if _, err := c.Cancel(t.Context(), sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if final.Status != netcfg.StateCanceled || !slices.Equal(seen, []netcfg.JobState{netcfg.StateQueued, netcfg.StateCanceled}) {
		t.Errorf("Wait ended %s having seen %v; want canceled after [queued canceled], the queued state once", final.Status, seen)
	}
}
