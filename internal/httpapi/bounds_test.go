package httpapi_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// TestNestedTreeRefused sends the 20 KB request that once cost seconds:
// vars or constants nested thousands deep. It is answered 400, naming the
// field, before any estimate is built and without a job queued.
func TestNestedTreeRefused(t *testing.T) {
	t.Parallel()
	var estimates atomic.Int64
	srv, q := newMoneyServer(t, httpapi.Config{}, 0, func(*netcfg.JobRequest) int64 { estimates.Add(1); return 1 })
	const depth = 3000
	deep := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	for _, tc := range []struct{ name, body, field string }{
		{"vars", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":` + deep + `},"requirements":"x"}`, "device.vars.a.a"},
		{"constants", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"constants":` + deep + `,"requirements":"x"}`, "constants.a.a"},
	} {
		start := time.Now()
		resp, body := post(t, srv.URL+"/v1/jobs", tc.body)
		elapsed := time.Since(start)
		if resp.StatusCode != 400 {
			t.Fatalf("%s: status %d (%v), want 400", tc.name, resp.StatusCode, body)
		}
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if !strings.HasPrefix(msg, tc.field) || !strings.Contains(msg, "nested deeper than 64 levels") {
			t.Errorf("%s: message %q, want the field (%s…) and the depth", tc.name, msg, tc.field)
		}
		// The bound is generous for a loaded machine; the time is logged.
		if elapsed > 2*time.Second {
			t.Errorf("%s: refused after %s", tc.name, elapsed)
		}
		t.Logf("%s: %d bytes nested %d deep refused in %s", tc.name, len(tc.body), depth, elapsed)
	}
	if n := estimates.Load(); n != 0 {
		t.Errorf("%d estimates built for refused requests", n)
	}
	d, err := q.Depth(t.Context())
	if err != nil || d[netcfg.StateQueued] != 0 {
		t.Errorf("queue depth = %v (%v), want nothing queued", d, err)
	}
}
