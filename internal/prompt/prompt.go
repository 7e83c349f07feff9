// Package prompt renders the versioned prompts netsmith sends to a model and
// parses the spec back out of them, so that the sim provider and the fake
// Anthropic server answer the same exchange a real model sees.
//
// Every prompt ends with a fenced ```json block labelled netsmith-spec that
// holds the structured task (platform, role, requirements, variables). The
// reply is expected to hold one fenced code block: a config, a Go
// text/template, or findings.
package prompt

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"netsmith/internal/llm"
)

// Version is the prompt version. It is part of every template-cache key, so
// changing any file under templates/ must bump it.
const Version = "v2"

// Task says what the model is asked to produce.
type Task string

// The tasks.
const (
	TaskConfig   Task = "config"   // one device's finished config
	TaskTemplate Task = "template" // a Go text/template over the intent's variables
	TaskAnalyze  Task = "analyze"  // findings about a config
)

// Spec is the structured content of a prompt.
type Spec struct {
	Task         Task           `json:"task"`
	Platform     string         `json:"platform,omitempty"`
	Role         string         `json:"role,omitempty"`
	OSVersion    string         `json:"os_version,omitempty"`
	Requirements string         `json:"requirements,omitempty"`
	Constants    map[string]any `json:"constants,omitempty"`
	// Hostname is the device for TaskConfig.
	Hostname string `json:"hostname,omitempty"`
	// Vars holds the device's values for TaskConfig and one example value per
	// declared variable for TaskTemplate.
	Vars map[string]any `json:"vars,omitempty"`
	// Config is the text to review for TaskAnalyze.
	Config string `json:"config,omitempty"`
	// Feedback lists problems found in an earlier answer, to be fixed.
	Feedback []string `json:"feedback,omitempty"`
}

const specFence = "```json netsmith-spec\n"

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"spec": func(s Spec) (string, error) {
		b, err := json.MarshalIndent(s, "", "  ")
		return string(b), err
	},
}).ParseFS(templateFS, "templates/*.tmpl"))

// Build renders the prompt for s into a request for model with maxTokens.
func Build(s Spec, model string, maxTokens int) (llm.Request, error) {
	name := string(s.Task) + ".tmpl"
	if templates.Lookup(name) == nil {
		return llm.Request{}, fmt.Errorf("build prompt: unknown task %q", s.Task)
	}
	var sys, user bytes.Buffer
	if err := templates.ExecuteTemplate(&sys, "system.tmpl", s); err != nil {
		return llm.Request{}, fmt.Errorf("build system prompt: %w", err)
	}
	if err := templates.ExecuteTemplate(&user, name, s); err != nil {
		return llm.Request{}, fmt.Errorf("build %s prompt: %w", s.Task, err)
	}
	return llm.Request{
		Model:     model,
		System:    strings.TrimSpace(sys.String()),
		Messages:  []llm.Message{{Role: "user", Content: strings.TrimSpace(user.String())}},
		MaxTokens: maxTokens,
	}, nil
}

// Parse extracts the spec from a prompt's text (the last user message). It
// reports false when the text holds no netsmith-spec block.
func Parse(text string) (Spec, bool) {
	i := strings.LastIndex(text, specFence)
	if i < 0 {
		return Spec{}, false
	}
	body := text[i+len(specFence):]
	j := strings.Index(body, "\n```")
	if j < 0 {
		return Spec{}, false
	}
	var s Spec
	if err := json.Unmarshal([]byte(body[:j]), &s); err != nil {
		return Spec{}, false
	}
	return s, true
}

// ExtractBlock returns the body of the first fenced code block in a reply, or
// the whole reply trimmed when it has none.
func ExtractBlock(reply string) string {
	i := strings.Index(reply, "```")
	if i < 0 {
		return strings.TrimSpace(reply) + "\n"
	}
	rest := reply[i+3:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return strings.TrimSpace(reply) + "\n"
	}
	rest = rest[nl+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		return strings.TrimRight(rest, " \t\n") + "\n"
	}
	return strings.TrimRight(rest[:end], " \t\n") + "\n"
}
