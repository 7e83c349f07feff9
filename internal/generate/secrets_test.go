package generate_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/llm/sim"
	"netsmith/internal/netcfg"
)

// promptRecorder is sim, keeping every prompt it was sent.
type promptRecorder struct {
	sim     *sim.Client
	mu      sync.Mutex
	prompts []string
}

func (p *promptRecorder) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	p.mu.Lock()
	p.prompts = append(p.prompts, req.System)
	for _, m := range req.Messages {
		p.prompts = append(p.prompts, m.Content)
	}
	p.mu.Unlock()
	return p.sim.Generate(ctx, req)
}

// TestSecretsSameOnEveryPath: a device's config is the same whether a model
// call of its own wrote it (no cache) or its intent's template rendered it:
// a literal hash verbatim, a reference as "<vault:…>", which lint flags, and
// no secret in any prompt.
func TestSecretsSameOnEveryPath(t *testing.T) {
	t.Parallel()
	const hash = "$6$rounds=5000$abcdefgh$0123456789ABCDEFabcdef"
	req := func(host string) *netcfg.JobRequest {
		return &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "leaf switch, SSH only",
			Constants: map[string]any{"snmp_community": "env:SNMP_RO"},
			Device: &netcfg.Device{Hostname: host, Platform: netcfg.AristaEOS, Role: "leaf",
				Vars: map[string]any{"mgmt_ip": "10.1.1.11/24", "admin_secret": hash, "enable_secret": "vault:dc1/enable"}}}
	}
	rec := &promptRecorder{sim: sim.New(sim.Config{})}
	l, err := lint.Default()
	if err != nil {
		t.Fatal(err)
	}
	perDevice := generate.New(generate.Config{LLM: rec, Provider: "sim", Model: "sim-1", Linter: l})
	templated := newService(t, rec)

	for _, host := range []string{"leaf1", "leaf2"} {
		call, err := perDevice.Run(t.Context(), req(host), generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := templated.Run(t.Context(), req(host), generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.FallbackReason != "" || tmpl.Cached == (host == "leaf1") {
			t.Errorf("%s: not from the template (cache %s, fallback %q)", host, tmpl.Cache, tmpl.FallbackReason)
		}
		if call.Config != tmpl.Config {
			t.Errorf("%s: per-device config and template render differ:\n--- call\n%s\n--- template\n%s", host, call.Config, tmpl.Config)
		}
		for _, want := range []string{"secret sha512 " + hash + "\n", "enable password sha512 <vault:dc1/enable>\n", "<env:SNMP_RO>"} {
			if !strings.Contains(tmpl.Config, want) {
				t.Errorf("%s: config lacks %q:\n%s", host, want, tmpl.Config)
			}
		}
		for _, bad := range []string{"redacted", "<<", "<secret:", "<" + hash} {
			if strings.Contains(tmpl.Config, bad) {
				t.Errorf("%s: config holds %q:\n%s", host, bad, tmpl.Config)
			}
		}
		flagged := 0
		for _, f := range tmpl.Lint {
			if f.Rule == "unresolved-secret" {
				flagged++
			}
		}
		if flagged != strings.Count(tmpl.Config, "<vault:")+strings.Count(tmpl.Config, "<env:") {
			t.Errorf("%s: %d unresolved-secret findings for the config:\n%s", host, flagged, tmpl.Config)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range rec.prompts {
		if strings.Contains(p, "$6$") || strings.Contains(p, "dc1/enable") || strings.Contains(p, "SNMP_RO") {
			t.Errorf("a prompt holds a secret or a reference:\n%s", p)
		}
	}
}
