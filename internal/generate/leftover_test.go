package generate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

// answerLLM answers every prompt, template or config, with text.
type answerLLM string

func (a answerLLM) Generate(_ context.Context, req llm.Request) (*llm.Response, error) {
	return &llm.Response{Provider: "test", Model: req.Model, Text: "```\n" + string(a) + "```\n",
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 50}}, nil
}

// TestTemplateAnswerNeverAConfig: a model that answers a template where a
// config was asked fails the job with ErrTemplateConfig, on the path without
// the cache and on the fallback after its template was refused; the answer
// is never cached as the device's config.
func TestTemplateAnswerNeverAConfig(t *testing.T) {
	t.Parallel()
	// Hard-coded hostname: the proof refuses it, so the device falls back
	// to a config call, which the model answers with the same template.
	refused := strings.Replace(goodTemplate, "{{.hostname}}", "sw1", 1)
	t.Run("fallback", func(t *testing.T) {
		t.Parallel()
		m := &scriptedLLM{templates: []string{refused}}
		svc := newService(t, &configAsTemplate{scriptedLLM: m, answer: refused})
		for try := 1; try <= 2; try++ {
			res, err := svc.Run(t.Context(), job("sw1"), generate.Options{})
			if !errors.Is(err, generate.ErrTemplateConfig) || res != nil {
				t.Fatalf("try %d: Run = %+v, %v; want no result and ErrTemplateConfig", try, res, err)
			}
			if !strings.Contains(err.Error(), "sw1") || !strings.Contains(err.Error(), "{{") {
				t.Errorf("error %q does not name the device and the template text", err)
			}
			// Not cached: the second try asks the model again.
			if n := len(m.calls(prompt.TaskConfig)); n != try {
				t.Errorf("try %d: %d config calls, want %d", try, n, try)
			}
		}
		if _, err := svc.RunCached(t.Context(), job("sw1")); !errors.Is(err, generate.ErrNeedsCall) {
			t.Errorf("RunCached after the refusals = %v, want ErrNeedsCall (nothing cached)", err)
		}
	})
	t.Run("uncached", func(t *testing.T) {
		t.Parallel()
		svc := generate.New(generate.Config{LLM: answerLLM(goodTemplate), Provider: "test", Model: "m"})
		if res, err := svc.Run(t.Context(), job("sw1"), generate.Options{}); !errors.Is(err, generate.ErrTemplateConfig) || res != nil {
			t.Fatalf("Run = %+v, %v; want ErrTemplateConfig", res, err)
		}
	})
}

// configAsTemplate is scriptedLLM, but config prompts get answer.
type configAsTemplate struct {
	*scriptedLLM
	answer string
}

func (c *configAsTemplate) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	resp, err := c.scriptedLLM.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	if spec, _ := prompt.Parse(req.Messages[len(req.Messages)-1].Content); spec.Task == prompt.TaskConfig {
		resp.Text = "```\n" + c.answer + "```\n"
	}
	return resp, nil
}

// TestTemplatePrintingTemplateTextRefused: a template whose render prints
// template actions is refused by the proof, and the devices fall back to a
// config of their own.
func TestTemplatePrintingTemplateTextRefused(t *testing.T) {
	t.Parallel()
	m := &scriptedLLM{templates: []string{goodTemplate + `banner motd {{"{{.secret}}"}}` + "\n"}}
	svc := newService(t, m)
	res, err := svc.Run(t.Context(), job("sw1"), generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Config, "{{") || !strings.Contains(res.FallbackReason, "renders template text") {
		t.Errorf("fallback reason %q, config:\n%s", res.FallbackReason, res.Config)
	}
	if n := len(m.calls(prompt.TaskConfig)); n != 1 {
		t.Errorf("%d config calls, want 1 (the fallback)", n)
	}
}

// TestConfigMayCarryItsOwnBraces: "{{" that the device's own values put in
// its config is no template text.
func TestConfigMayCarryItsOwnBraces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, answer string
		vars         map[string]any
		wantErr      bool
	}{
		{"plain", "hostname sw1\n", nil, false},
		{"own value", "hostname sw1\nbanner motd ^{{ welcome }}^\n", map[string]any{"motd": "{{ welcome }}"}, false},
		{"nested value", "hostname sw1\ndescription {{a}}\n", map[string]any{"ports": []any{map[string]any{"d": "{{a}}"}}}, false},
		{"value and action", "hostname sw1\nbanner {{ welcome }}\nip {{.ip}}\n", map[string]any{"motd": "{{ welcome }}"}, true},
		{"action", "hostname {{.hostname}}\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := generate.New(generate.Config{LLM: answerLLM(tt.answer), Provider: "test", Model: "m"})
			j := &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "access switch",
				Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoIOS, Role: "access", Vars: tt.vars}}
			_, err := svc.Run(t.Context(), j, generate.Options{})
			if errors.Is(err, generate.ErrTemplateConfig) != tt.wantErr {
				t.Errorf("Run = %v, want ErrTemplateConfig %v", err, tt.wantErr)
			}
		})
	}
}
