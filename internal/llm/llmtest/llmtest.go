// Package llmtest runs the fake Anthropic server (package fakeanthropic) on
// loopback for a test and hands out real clients pointed at it, so that
// tests exercise the real wire format instead of mocks.
package llmtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"netsmith/internal/llm/anthropic"
	"netsmith/internal/llm/fakeanthropic"
)

// APIKey is the x-api-key clients from Server.Anthropic send.
const APIKey = "llmtest-key"

// Model is the model clients from Server.Anthropic ask for by default.
const Model = "claude-fake-1"

// Server is a running fake Anthropic API.
type Server struct {
	URL        string                // base URL, without /v1
	Fake       *fakeanthropic.Server // for Stats
	HTTPClient *http.Client          // pooled for many concurrent calls
}

// NewServer starts the fake with cfg on 127.0.0.1 and stops it when the test
// ends.
func NewServer(t testing.TB, cfg fakeanthropic.Config) *Server {
	t.Helper()
	fake := fakeanthropic.New(cfg, nil)
	srv := httptest.NewServer(fake)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &Server{URL: srv.URL, Fake: fake, HTTPClient: &http.Client{Transport: tr}}
}

// Anthropic returns a client for the fake. Empty BaseURL, APIKey, Model and
// HTTPClient in cfg are filled in.
func (s *Server) Anthropic(cfg anthropic.Config) *anthropic.Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = s.URL
	}
	if cfg.APIKey == "" {
		cfg.APIKey = APIKey
	}
	if cfg.Model == "" {
		cfg.Model = Model
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = s.HTTPClient
	}
	return anthropic.New(cfg)
}
