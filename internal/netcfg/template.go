package netcfg

import "time"

// Template is one template-cache entry: a Go text/template for an intent
// (Kind "template"), or a finished config for one device when the model's
// template failed (Kind "config", a per-device fallback).
type Template struct {
	Key           string
	Kind          string
	State         string // "pending" (a lease is held), "ready" or "invalid"
	Body          string
	Role          string
	Platform      string
	Hostname      string // per-device fallbacks only
	Intent        string // JSON, for provenance
	Provider      string
	Model         string
	PromptVersion string
	InputTokens   int64
	OutputTokens  int64
	Reason        string // why an entry is invalid
	LeaseOwner    string
	LeaseUntil    time.Time
	Version       int64
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Template states.
const (
	TemplatePending = "pending"
	TemplateReady   = "ready"
	TemplateInvalid = "invalid"
)

// TemplateFilter selects cache entries to invalidate. Empty fields match
// anything; All must be set to match everything.
type TemplateFilter struct {
	Key, Role, Platform, Hostname string
	All                           bool
}
