package generate

import (
	"errors"
	"fmt"

	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

// DefaultMaxInputTokens is Config.MaxInputTokens when unset: far above any
// real device's prompt, and below what the vars bounds alone let through
// (BenchmarkEstimateWorstAccepted), so that the costliest request a budget
// may meet is one call of at most this many input tokens plus max_tokens.
const DefaultMaxInputTokens = 100_000

// ErrPromptTooLarge is a request whose prompt would exceed MaxInputTokens:
// refused at submit, and a job never makes such a call (it fails at once,
// without retries).
var ErrPromptTooLarge = errors.New("prompt too large")

// promptTooLarge names the field that makes req's prompt too large.
func promptTooLarge(req *netcfg.JobRequest, tokens, limit int64) error {
	field, what := "device.vars", "with the constants and requirements, make"
	if req.Kind == netcfg.KindAnalyze {
		field, what = "config", "makes"
	}
	return fmt.Errorf("%w: %w", ErrPromptTooLarge, &netcfg.FieldError{Field: field,
		Msg: fmt.Sprintf("%s a prompt of about %d input tokens, over the limit of %d (serve --max-input-tokens)", what, tokens, limit)})
}

// maxInput is the input-token limit of one call.
func (s *Service) maxInput() int64 {
	if s.cfg.MaxInputTokens > 0 {
		return s.cfg.MaxInputTokens
	}
	return DefaultMaxInputTokens
}

// Estimate is the most one model call for req can cost, in tokens: its
// prompt's estimated input and the max_tokens it allows. Budgets reserve
// this at submit time. The prompt is built here once per request, and a
// request whose prompt exceeds MaxInputTokens is refused with an error
// wrapping ErrPromptTooLarge and a *netcfg.FieldError naming the field.
func (s *Service) Estimate(req *netcfg.JobRequest) (model string, input, maxOutput int64, err error) {
	model = s.cfg.Model
	var spec prompt.Spec
	switch req.Kind {
	case netcfg.KindAnalyze:
		model = s.cfg.AnalyzeModel
		spec = prompt.Spec{Task: prompt.TaskAnalyze, Platform: string(req.Platform), Config: req.Config}
	default:
		if req.Device == nil {
			return model, 0, int64(s.cfg.MaxTokens), nil
		}
		spec = templateSpec(req, exampleOf(netcfg.SecretPlaceholders(deviceVars(req.Device))))
	}
	r, err := prompt.Build(spec, model, s.cfg.MaxTokens)
	if err != nil {
		return model, 0, int64(s.cfg.MaxTokens), nil
	}
	input = r.EstimateInputTokens()
	if input > s.maxInput() {
		return model, input, int64(r.MaxTokens), promptTooLarge(req, input, s.maxInput())
	}
	return model, input, int64(r.MaxTokens), nil
}
