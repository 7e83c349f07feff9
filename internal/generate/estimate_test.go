package generate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/llm/sim"
	"netsmith/internal/netcfg"
)

// countingLLM counts the calls that reach sim.
type countingLLM struct {
	n   atomic.Int32
	sim *sim.Client
}

func (c *countingLLM) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	c.n.Add(1)
	return c.sim.Generate(ctx, req)
}

// bigVarsRequest is a valid request whose prompt is about `tokens` input
// tokens or more: vars within every bound of netcfg, just many of them.
func bigVarsRequest(tokens int) *netcfg.JobRequest {
	vars := map[string]any{}
	for i := range tokens / 1000 {
		vars[fmt.Sprintf("note%04d", i)] = strings.Repeat("interface description uplink ", 150)
	}
	return &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
		Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoIOS, Vars: vars}}
}

// TestPromptCap: a request whose prompt is over MaxInputTokens is refused by
// Estimate naming the field, and run anyway (a job queued before the limit
// was lowered) it fails without a model call; one under it runs.
func TestPromptCap(t *testing.T) {
	t.Parallel()
	llmc := &countingLLM{sim: sim.New(sim.Config{})}
	svc := generate.New(generate.Config{LLM: llmc, Provider: "sim", Model: "m", MaxInputTokens: 20_000})
	big := bigVarsRequest(60_000)
	if err := big.Validate(); err != nil {
		t.Fatalf("the big request is refused by the vars bounds already: %v", err)
	}
	_, in, _, err := svc.Estimate(big)
	var fe *netcfg.FieldError
	if !errors.Is(err, generate.ErrPromptTooLarge) || !errors.As(err, &fe) || fe.Field != "device.vars" {
		t.Fatalf("Estimate = %d tokens, %v; want ErrPromptTooLarge naming device.vars", in, err)
	}
	if _, err := svc.Run(context.Background(), big, generate.Options{}); !errors.Is(err, generate.ErrPromptTooLarge) {
		t.Errorf("Run = %v, want ErrPromptTooLarge", err)
	}
	if n := llmc.n.Load(); n != 0 {
		t.Errorf("%d model calls for a prompt over the limit, want 0", n)
	}
	small := bigVarsRequest(5_000)
	if _, in, _, err := svc.Estimate(small); err != nil || in > 20_000 {
		t.Fatalf("Estimate(small) = %d, %v", in, err)
	}
	if _, err := svc.Run(context.Background(), small, generate.Options{}); err != nil {
		t.Errorf("Run(small) = %v", err)
	}
	if llmc.n.Load() == 0 {
		t.Error("no model call for a request under the limit")
	}
}
