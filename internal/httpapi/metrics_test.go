package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// checkEventStreamMetrics checks, after one job was waited on over its
// event stream, that the stream is counted as a stream and a request, and
// its lifetime stays out of the request-latency histogram.
func checkEventStreamMetrics(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{
		`netsmith_http_requests_total{code="200",route="GET /v1/jobs/{id}/events"} 1`,
		"netsmith_event_streams_total 1",
		`netsmith_http_request_duration_seconds_count{route="POST /v1/jobs"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(page, `netsmith_http_request_duration_seconds_count{route="GET /v1/jobs/{id}/events"}`) {
		t.Error("the event stream's lifetime is in netsmith_http_request_duration_seconds")
	}
}
