package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCountersFromStart checks that a fresh process exports its bounded
// counters at 0 before the first event, and its build.
func TestCountersFromStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.InitProvider("anthropic", "claude-x", "")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	for name, want := range map[string]int{
		"netsmith_jobs_total":               len(jobKinds) * len(jobOutcomes),
		"netsmith_job_duration_seconds":     len(jobKinds),
		"netsmith_cache_requests_total":     len(cacheResults),
		"netsmith_upstream_throttled_total": len(throttleReasons),
		"netsmith_llm_requests_total":       len(callOutcomes),
		"netsmith_llm_tokens_total":         len(tokenTypes),
		"netsmith_event_streams_total":      1,
		"netsmith_build_info":               1,
	} {
		if series[name] != want {
			t.Errorf("%s: %d series at start, want %d", name, series[name], want)
		}
	}
	for _, mf := range mfs {
		if mf.GetName() != "netsmith_jobs_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["status"] == "succeeded" && labels["reason"] != ReasonNone || labels["reason"] == "" {
				t.Errorf("netsmith_jobs_total%v", labels)
			}
		}
	}
}
