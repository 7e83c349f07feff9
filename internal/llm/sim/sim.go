package sim

import (
	"context"
	"time"

	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

// Name is the provider name sim reports.
const Name = "sim"

// Config configures a Client.
type Config struct {
	Latency time.Duration // how long each call takes
	Model   string        // model name to report; "sim-1" when empty
}

// Client answers requests without a network.
type Client struct {
	cfg Config
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.Model == "" {
		cfg.Model = "sim-1"
	}
	return &Client{cfg: cfg}
}

// Generate answers req after the configured latency. It returns ctx's error
// when ctx ends first, or has already ended.
func (c *Client) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.cfg.Latency > 0 {
		t := time.NewTimer(c.cfg.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	text := Answer(req)
	model := req.Model
	if model == "" {
		model = c.cfg.Model
	}
	return &llm.Response{
		Provider:   Name,
		Model:      model,
		Text:       text,
		StopReason: "end_turn",
		Usage: llm.Usage{
			InputTokens:  req.EstimateInputTokens(),
			OutputTokens: CountTokens(text),
		},
	}, nil
}

// CountTokens estimates the tokens in s (llm.EstimateTokens): what the
// sim and the fake report as usage.
func CountTokens(s string) int64 { return llm.EstimateTokens(s) }

// Answer returns the reply text for req: one fenced block holding a config,
// a template or findings, derived only from the spec in the last user
// message. The same request always gets the same answer.
func Answer(req llm.Request) string {
	var user string
	for _, m := range req.Messages {
		if m.Role == "user" {
			user = m.Content
		}
	}
	spec, ok := prompt.Parse(user)
	if !ok {
		return "```\n! netsmith sim: the prompt holds no netsmith-spec block\n```\n"
	}
	return "```\n" + Render(spec) + "```\n"
}

// Render writes the body of the answer for spec:
//
//   - TaskConfig: the device's running config in its platform's syntax
//     (cisco_ios, cisco_xe, cisco_nxos, arista_eos, juniper_junos in brace
//     form, frr as FRRouting's frr.conf; any other platform gets IOS syntax), from the hostname, the vars
//     (after DeriveVars), the constants and keywords in the requirements.
//   - TaskTemplate: the same config as a Go text/template over the declared
//     vars, using built-in actions only. Executed with missingkey=error on
//     DeriveVars(vars) of a device whose vars have the shapes of the
//     examples, plus "hostname", it yields exactly what TaskConfig writes for
//     that device. Constants are written in as text.
//   - TaskAnalyze: "severity: description" lines, most severe first, or
//     "none".
//
// Vars it does not know are ignored, missing ones leave their lines out.
func Render(s prompt.Spec) string {
	switch s.Task {
	case prompt.TaskAnalyze:
		return analyze(s.Platform, s.Config)
	case prompt.TaskTemplate:
		return write(s, true)
	default:
		return write(s, false)
	}
}

// write writes s's config, or its template.
func write(s prompt.Spec, template bool) string {
	g := &gen{template: template, vars: netcfg.DeriveVars(s.Vars), consts: netcfg.DeriveVars(s.Constants)}
	d := newDevice(g, s)
	switch s.Platform {
	case "arista_eos":
		writeEOS(g, d)
	case "cisco_nxos":
		writeNXOS(g, d)
	case "juniper_junos":
		writeJunos(g, d)
	case "frr":
		writeFRR(g, d)
	default:
		writeIOS(g, d)
	}
	return g.b.String()
}
