package main

import (
	"cmp"
	"log/slog"

	"netsmith/internal/llm"
	"netsmith/internal/llm/anthropic"
	"netsmith/internal/llm/openai"
	"netsmith/internal/llm/sim"
)

// defaultAnthropicModel is used when --model is not given.
const defaultAnthropicModel = "claude-sonnet-4-5"

// newProvider builds the configured LLM client and the model it uses.
func newProvider(cfg *Config, logger *slog.Logger) (llm.Client, string, error) {
	switch cfg.Provider {
	case "sim":
		logger.Warn("PROVIDER IS SIM: configs are simulated by netsmith, not written by a model; set ANTHROPIC_API_KEY or --provider for real output",
			"provider", "sim", "latency", cfg.SimLatency.String())
		model := cmp.Or(cfg.Model, "sim-1")
		return sim.New(sim.Config{Latency: cfg.SimLatency, Model: model}), model, nil
	case "anthropic":
		model := cmp.Or(cfg.Model, defaultAnthropicModel)
		logger.Info("provider anthropic", "model", model, "base_url", cmp.Or(cfg.AnthropicBaseURL, anthropic.DefaultBaseURL))
		return anthropic.New(anthropic.Config{BaseURL: cfg.AnthropicBaseURL, APIKey: cfg.AnthropicAPIKey,
			Model: model, MaxTokens: cfg.MaxTokens, Timeout: cfg.JobTimeout}), model, nil
	case "openai":
		if cfg.Model == "" {
			return nil, "", usagef("--provider openai needs --model (the served model's name)")
		}
		logger.Info("provider openai", "model", cfg.Model, "base_url", cfg.OpenAIBaseURL)
		return openai.New(openai.Config{BaseURL: cfg.OpenAIBaseURL, APIKey: cfg.OpenAIAPIKey,
			Model: cfg.Model, MaxTokens: cfg.MaxTokens, Timeout: cfg.JobTimeout}), cfg.Model, nil
	}
	return nil, "", usagef("unknown provider %q", cfg.Provider)
}
