package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
)

// TestLoadtest drives a real server through both APIs and checks the JSON
// line: every job accounted for, latencies ordered, upstream calls counted
// from the fake (one per distinct intent).
func TestLoadtest(t *testing.T) {
	t.Parallel()
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 10 * time.Millisecond})
	c := startInProcessEnv(t, map[string]string{"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": up.URL},
		"--db", "sqlite://"+filepath.Join(t.TempDir(), "l.db"), "--poll-interval", "100ms")
	for _, api := range []string{"v1", "legacy"} {
		var out bytes.Buffer
		code := run(context.Background(), []string{"loadtest", "--server", c.BaseURL(), "-n", "60", "-c", "10",
			"--distinct", "3", "--api", api, "--upstream-stats", up.URL}, noEnv, strings.NewReader(""), &out, &out)
		if code != 0 {
			t.Fatalf("loadtest --api %s exited %d:\n%s", api, code, out.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var res LoadResult
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
			t.Fatalf("last line is not the JSON result: %v\n%s", err, out.String())
		}
		if res.Jobs != 60 || res.OK != 60 || res.Failed != 0 || res.JobsPerSecond <= 0 {
			t.Errorf("%s: %+v", api, res)
		}
		if !(res.E2EP50Ms <= res.E2EP95Ms && res.E2EP95Ms <= res.E2EP99Ms && res.SubmitP50Ms <= res.SubmitP99Ms) {
			t.Errorf("%s: percentiles out of order: %+v", api, res)
		}
		// 3 intents per API (the legacy one names no platform and no vars,
		// so its intents differ from v1's): one template call each, or two
		// when the model's first template draws a high lint finding (the
		// legacy jobs carry no enable secret).
		if res.UpstreamCalls == nil || *res.UpstreamCalls < 3 || *res.UpstreamCalls > 6 ||
			api == "v1" && *res.UpstreamCalls != 3 {
			got := int64(-1)
			if res.UpstreamCalls != nil {
				got = *res.UpstreamCalls
			}
			t.Errorf("%s: %d upstream calls, want 3 intents' worth (3–6)", api, got)
		}
	}
}
