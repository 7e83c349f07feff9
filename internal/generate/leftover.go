package generate

import (
	"errors"
	"fmt"
	"strings"

	"netsmith/internal/netcfg"
)

// ErrTemplateConfig marks a device config that still holds template
// actions ("{{"), which no device accepts: the model answered a template
// where a config was asked, or a template's render printed template text.
// Such a config is never handed out or cached. Package worker fails the job
// with it at once: a model that answered so is likely to again, and each
// try is paid for.
var ErrTemplateConfig = errors.New("template actions in a device config")

// checkNoActions returns an error wrapping ErrTemplateConfig when config
// holds "{{" that none of req's own values (the device's vars, the
// constants, the requirements) put there.
func checkNoActions(config string, req *netcfg.JobRequest) error {
	if !strings.Contains(config, "{{") {
		return nil
	}
	rest := config
	for _, s := range actionValues(req) {
		rest = strings.ReplaceAll(rest, s, "")
	}
	i := strings.Index(rest, "{{")
	if i < 0 {
		return nil
	}
	start := strings.LastIndexByte(rest[:i], '\n') + 1
	line, _, _ := strings.Cut(rest[start:], "\n")
	return fmt.Errorf("%w: %.80q", ErrTemplateConfig, line)
}

// actionValues are the strings of req holding "{{": the text a config may
// carry from its own values.
func actionValues(req *netcfg.JobRequest) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "{{") {
				out = append(out, x)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(req.Requirements)
	walk(req.Constants)
	if req.Device != nil {
		walk(req.Device.Vars)
	}
	return out
}
