package generate_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"netsmith/internal/generate"
	"netsmith/internal/llm"
)

// slowLLM answers like its model after a delay.
type slowLLM struct {
	llm.Client
	delay time.Duration
}

func (s slowLLM) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	time.Sleep(s.delay)
	return s.Client.Generate(ctx, req)
}

// TestPhases: a Run says where its time went. A template miss goes through
// every phase, and the cache's own time leaves out the fill's call and
// proof: the phases never add up to more than the Run took. A hit has no
// call, no wait and no proof.
func TestPhases(t *testing.T) {
	t.Parallel()
	const delay = 40 * time.Millisecond
	svc := newService(t, slowLLM{&scriptedLLM{templates: []string{goodTemplate}}, delay})
	names := func(ps map[generate.Phase]time.Duration) []generate.Phase {
		return slices.Sorted(maps.Keys(ps))
	}
	sum := func(ps map[generate.Phase]time.Duration) time.Duration {
		var d time.Duration
		for _, v := range ps {
			d += v
		}
		return d
	}

	miss, err := svc.Run(t.Context(), job("sw1"), generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []generate.Phase{generate.PhaseCall, generate.PhaseCheck, generate.PhaseLint,
		generate.PhaseRender, generate.PhaseTemplate, generate.PhaseWait}
	if got := names(miss.Phases); !slices.Equal(got, want) {
		t.Errorf("a miss's phases: %v, want %v", got, want)
	}
	if got := miss.Phases[generate.PhaseCall]; got < delay {
		t.Errorf("call phase %v, want at least the model's %v", got, delay)
	}
	took := time.Duration(miss.DurationSeconds * float64(time.Second))
	if got := sum(miss.Phases); got > took+time.Millisecond {
		t.Errorf("the phases add up to %v, more than the Run's %v: %v", got, took, miss.Phases)
	}

	hit, err := svc.Run(t.Context(), job("sw2"), generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = []generate.Phase{generate.PhaseLint, generate.PhaseRender, generate.PhaseTemplate}
	if got := names(hit.Phases); !slices.Equal(got, want) || !hit.Cached {
		t.Errorf("a hit's phases: %v (cached %v), want %v", got, hit.Cached, want)
	}
}
