package generate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
	"netsmith/internal/render"
)

// scriptedLLM answers template prompts from a list (the last answer
// repeats) and config prompts with a config of the device; it records what
// it was asked.
type scriptedLLM struct {
	mu        sync.Mutex
	templates []string
	specs     []prompt.Spec
}

func (s *scriptedLLM) Generate(_ context.Context, req llm.Request) (*llm.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spec, _ := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
	s.specs = append(s.specs, spec)
	text := "hostname " + spec.Hostname + "\nenable secret 9 <vault:x>\n"
	if spec.Task == prompt.TaskTemplate {
		n := 0
		for _, sp := range s.specs {
			if sp.Task == prompt.TaskTemplate {
				n++
			}
		}
		text = s.templates[min(n, len(s.templates))-1]
	}
	return &llm.Response{Provider: "test", Model: req.Model, Text: "```\n" + text + "```\n",
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 50}}, nil
}

func (s *scriptedLLM) calls(task prompt.Task) []prompt.Spec {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []prompt.Spec
	for _, sp := range s.specs {
		if sp.Task == task {
			out = append(out, sp)
		}
	}
	return out
}

func newService(t *testing.T, model llm.Client) *generate.Service {
	t.Helper()
	db := dbtest.Open(t, dbtest.SQLite(t))
	l, err := lint.Default()
	if err != nil {
		t.Fatal(err)
	}
	return generate.New(generate.Config{LLM: model, Provider: "test", Model: "m",
		Cache: cache.New(cache.Config{Conn: db.Conn(), Owner: "t"}), Linter: l})
}

func job(host string) *netcfg.JobRequest {
	return &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
		Device: &netcfg.Device{Hostname: host, Platform: netcfg.CiscoIOS, Role: "access",
			Vars: map[string]any{"mgmt_ip": "10.1.1.11/24"}}}
}

const goodTemplate = `hostname {{.hostname}}
enable secret 9 <vault:x>
interface Vlan99
 ip address {{.mgmt_ip_address}} {{.mgmt_ip_netmask}}
`

// TestLintFeedbackRetry: a template whose render has a high finding is sent
// back once with the findings; the fixed one is cached and used.
func TestLintFeedbackRetry(t *testing.T) {
	t.Parallel()
	risky := strings.Replace(goodTemplate, "enable secret 9 <vault:x>", "enable password cisco", 1)
	m := &scriptedLLM{templates: []string{risky, goodTemplate}}
	svc := newService(t, m)
	for _, h := range []string{"sw1", "sw2", "sw3"} {
		res, err := svc.Run(t.Context(), job(h), generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Config, "hostname "+h+"\n") || strings.Contains(res.Config, "enable password") {
			t.Errorf("%s config:\n%s", h, res.Config)
		}
	}
	calls := m.calls(prompt.TaskTemplate)
	if len(calls) != 2 {
		t.Fatalf("%d template calls, want 2 (the second with feedback)", len(calls))
	}
	if fb := strings.Join(calls[1].Feedback, "\n"); !strings.Contains(fb, "enable") || !strings.Contains(fb, "high") {
		t.Errorf("second call's feedback %q does not name the finding", fb)
	}
	for _, ex := range calls {
		if ex.Vars["hostname"] != "sw1" || ex.Vars["mgmt_ip"] != "10.1.1.11/24" {
			t.Errorf("template example vars %v", ex.Vars)
		}
	}
}

// TestRiskyTemplateCompletesFlagged: when the model keeps a risky line after
// feedback, the template is used and every config carries the finding.
func TestRiskyTemplateCompletesFlagged(t *testing.T) {
	t.Parallel()
	risky := strings.Replace(goodTemplate, "enable secret 9 <vault:x>", "enable password cisco", 1)
	m := &scriptedLLM{templates: []string{risky}}
	svc := newService(t, m)
	for _, h := range []string{"sw1", "sw2"} {
		res, err := svc.Run(t.Context(), job(h), generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var flagged bool
		for _, f := range res.Lint {
			flagged = flagged || f.Rule == "ios-enable-password"
		}
		if !flagged {
			t.Errorf("%s: findings %v lack ios-enable-password", h, res.Lint)
		}
	}
	if n := len(m.calls(prompt.TaskTemplate)); n != 2 {
		t.Errorf("%d template calls, want 2", n)
	}
}

// TestHardCodedTemplateFallsBack: a template with the example device's
// hostname baked in is refused (twice), and each device gets a call of its
// own, cached under its hostname.
func TestHardCodedTemplateFallsBack(t *testing.T) {
	t.Parallel()
	m := &scriptedLLM{templates: []string{strings.Replace(goodTemplate, "{{.hostname}}", "sw1", 1)}}
	svc := newService(t, m)
	for _, h := range []string{"sw1", "sw2", "sw2"} {
		res, err := svc.Run(t.Context(), job(h), generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Config, "hostname "+h+"\n") {
			t.Errorf("%s got config:\n%s", h, res.Config)
		}
		if want := `template rejected: hard-codes "sw1" (value of hostname)`; res.FallbackReason != want {
			t.Errorf("%s: fallback reason %q, want %q", h, res.FallbackReason, want)
		}
	}
	if n := len(m.calls(prompt.TaskTemplate)); n != 2 {
		t.Errorf("%d template calls, want 2 and then a stored verdict", n)
	}
	if n := len(m.calls(prompt.TaskConfig)); n != 2 {
		t.Errorf("%d per-device calls, want 2 (sw1, sw2; the second sw2 is cached)", n)
	}
}

// TestRunCached: RunCached serves a device only from a template already
// cached and never calls the model; where Run would call it (no template
// yet, or vars the template cannot render) it returns ErrNeedsCall.
func TestRunCached(t *testing.T) {
	t.Parallel()
	m := &scriptedLLM{templates: []string{goodTemplate + "{{range .uplinks}}interface {{.port}}\n{{end}}"}}
	svc := newService(t, m)
	withUplinks := func(host string) *netcfg.JobRequest {
		j := job(host)
		j.Device.Vars["uplinks"] = []any{map[string]any{"port": "Gi1/0/1"}}
		return j
	}
	if _, err := svc.RunCached(t.Context(), withUplinks("sw1")); !errors.Is(err, generate.ErrNeedsCall) {
		t.Fatalf("RunCached before any template = %v, want ErrNeedsCall", err)
	}
	if n := len(m.calls(prompt.TaskTemplate)); n != 0 {
		t.Fatalf("RunCached made %d template calls", n)
	}
	if _, err := svc.Run(t.Context(), withUplinks("sw1"), generate.Options{}); err != nil {
		t.Fatal(err)
	}
	filled := len(m.calls(prompt.TaskTemplate))
	res, err := svc.RunCached(t.Context(), withUplinks("sw2"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Config, "hostname sw2\n") || strings.Contains(res.Config, "sw1") ||
		res.Cache != cache.Hit || !res.Cached || len(res.Calls) != 0 || res.Lint == nil {
		t.Errorf("cached result %+v\n%s", res, res.Config)
	}
	// Same intent (the same variable names), but an uplink without a port:
	// the template cannot render it, so the device needs its own call.
	bad := withUplinks("sw3")
	bad.Device.Vars["uplinks"] = []any{map[string]any{"peer": "x"}}
	if _, err := svc.RunCached(t.Context(), bad); !errors.Is(err, generate.ErrNeedsCall) {
		t.Errorf("RunCached with vars the template cannot render = %v, want ErrNeedsCall", err)
	}
	analyze := &netcfg.JobRequest{Kind: netcfg.KindAnalyze, Platform: netcfg.CiscoIOS, Config: "hostname x\n"}
	if _, err := svc.RunCached(t.Context(), analyze); !errors.Is(err, generate.ErrNeedsCall) {
		t.Errorf("RunCached(analyze) = %v, want ErrNeedsCall", err)
	}
	if n := len(m.specs); n != filled {
		t.Errorf("%d model calls in all, want only the %d template calls Run made", n, filled)
	}
}

// TestLintSeesDeviceContext: configs are linted with their device's vars and
// the intent's requirements, and the lint memo keeps findings apart for the
// same text under different contexts.
func TestLintSeesDeviceContext(t *testing.T) {
	t.Parallel()
	svc := newService(t, &scriptedLLM{templates: []string{goodTemplate}})
	rules := func(res *generate.Result) map[string]bool {
		out := map[string]bool{}
		for _, f := range res.Lint {
			out[f.Rule] = true
		}
		return out
	}
	req := job("sw1")
	req.Device.Vars["tacacs_servers"] = []any{"10.0.0.41"}
	res, err := svc.Run(t.Context(), req, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rules(res)["aaa-tacacs-server"] {
		t.Errorf("sw1 (tacacs_servers set, none in the config): findings %v lack aaa-tacacs-server", res.Lint)
	}
	res, err = svc.Run(t.Context(), job("sw2"), generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rules(res)["aaa-tacacs-server"] {
		t.Errorf("sw2 (no tacacs_servers): findings %v have aaa-tacacs-server", res.Lint)
	}

	const access = "hostname sw9\ninterface GigabitEthernet1/0/1\n switchport mode access\n"
	for _, tt := range []struct {
		requirements string
		want         bool
	}{
		{"access ports with portfast", true},
		{"access ports", false},
		{"access ports with portfast", true},
	} {
		res, err := svc.Run(t.Context(), &netcfg.JobRequest{Kind: netcfg.KindAnalyze, Platform: netcfg.CiscoIOS,
			Config: access, Requirements: tt.requirements}, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := rules(res)["ios-access-port-portfast"]; got != tt.want {
			t.Errorf("analyze with requirements %q: ios-access-port-portfast %t, want %t", tt.requirements, got, tt.want)
		}
	}
}

// TestRenderOutOfTimeRetries: a device whose render runs out of time (a
// starved CPU, or its job's deadline) gets an error wrapping
// render.ErrTimeLimit for the job to retry, not a per-device call: its
// intent's template fits it, and the retry renders it for nothing.
func TestRenderOutOfTimeRetries(t *testing.T) {
	t.Parallel()
	m := &scriptedLLM{templates: []string{goodTemplate}}
	svc := newService(t, m)
	if _, err := svc.Run(t.Context(), job("sw1"), generate.Options{}); err != nil {
		t.Fatal(err)
	}
	filled := len(m.calls(prompt.TaskTemplate))
	// A deadline already past ends the render at its first check, as a
	// render starved for longer than its time limit ends.
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	res, err := svc.Run(ctx, job("sw2"), generate.Options{})
	if !errors.Is(err, render.ErrTimeLimit) {
		t.Fatalf("Run out of time = %+v, %v; want an error wrapping render.ErrTimeLimit", res, err)
	}
	res, err = svc.Run(t.Context(), job("sw2"), generate.Options{})
	if err != nil || res.Cache != cache.Hit || !strings.Contains(res.Config, "hostname sw2\n") {
		t.Fatalf("retry = %+v, %v; want sw2's config from the cached template", res, err)
	}
	if n, c := len(m.calls(prompt.TaskTemplate)), len(m.calls(prompt.TaskConfig)); n != filled || c != 0 {
		t.Errorf("%d template and %d per-device calls, want the fill's %d and 0", n, c, filled)
	}
}
