package generate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/netcfg"
)

// worstVars is the costliest vars tree the API accepts for its prompt: as
// many chains nested netcfg.MaxTreeDepth deep as netcfg.MaxTreeNodes allows
// (indentation grows with depth), under 1 MiB of JSON.
func worstVars() map[string]any {
	vars := map[string]any{}
	for c := range netcfg.MaxTreeNodes / netcfg.MaxTreeDepth {
		v := any("x")
		for range netcfg.MaxTreeDepth - 1 {
			v = map[string]any{"k": v}
		}
		vars[fmt.Sprint("c", c)] = v
	}
	return vars
}

// BenchmarkEstimateWorstAccepted measures what the largest vars tree the
// bounds accept costs to estimate, and reports its prompt's input tokens:
// over DefaultMaxInputTokens, so the API refuses it at this cost (the
// costliest request it accepts is httpapi's BenchmarkSubmitWorstAccepted).
func BenchmarkEstimateWorstAccepted(b *testing.B) {
	req := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
		Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoIOS, Vars: worstVars()}}
	if err := req.Validate(); err != nil {
		b.Fatalf("the worst request is refused: %v", err)
	}
	body, _ := json.Marshal(req)
	svc := generate.New(generate.Config{Model: "m", MaxTokens: 8192})
	var in int64
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if _, in, _, err = svc.Estimate(req); !errors.Is(err, generate.ErrPromptTooLarge) {
			b.Fatalf("Estimate = %v, want ErrPromptTooLarge", err)
		}
	}
	b.ReportMetric(float64(in), "input-tokens")
	b.ReportMetric(float64(len(body)), "body-bytes")
}

// BenchmarkValidateWorstAccepted measures the bounds check itself on the
// same request.
func BenchmarkValidateWorstAccepted(b *testing.B) {
	req := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
		Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoIOS, Vars: worstVars()}}
	b.ReportAllocs()
	for b.Loop() {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
