package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestListenExposed holds the one listen-address rule: only a provably
// loopback address serves without API keys or --insecure.
func TestListenExposed(t *testing.T) {
	for _, tc := range []struct {
		listen   string
		insecure bool
		exposed  bool
	}{
		{"", false, true},
		{":8080", false, true},
		{":0", false, true},
		{"0.0.0.0:8080", false, true},
		{"[::]:8080", false, true},
		{"192.0.2.1:8080", false, true},
		{"example.net:8080", false, true},
		{"localhost.example.net:8080", false, true},
		{"127.0.0.1:8080", false, false},
		{"127.0.0.2:8080", false, false},
		{"[::1]:8080", false, false},
		{"localhost:8080", false, false},
		{"", true, false},
		{"0.0.0.0:8080", true, false},
	} {
		c := Config{Role: "all", Provider: "sim", Concurrency: 1, MaxAttempts: 1, JobTimeout: time.Minute,
			MaxBody: 1, Listen: tc.listen, Insecure: tc.insecure}
		if err := c.validate(); err != nil {
			t.Errorf("--listen=%q insecure=%v: %v", tc.listen, tc.insecure, err)
			continue
		}
		if c.exposed != tc.exposed {
			t.Errorf("--listen=%q insecure=%v: exposed %v, want %v", tc.listen, tc.insecure, c.exposed, tc.exposed)
		}
	}
	c := Config{Role: "all", Provider: "sim", Concurrency: 1, MaxAttempts: 1, JobTimeout: time.Minute, MaxBody: 1, Listen: "8080"}
	if err := c.validate(); err == nil {
		t.Errorf("--listen=8080 (no colon) accepted")
	}
}

// TestServeEmptyListenRefused runs serve --listen= on a database without
// keys: it must refuse before it listens on every interface.
func TestServeEmptyListenRefused(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "serve.db")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--listen=", "--db", db}, noEnv, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if code != 2 {
		t.Fatalf("serve --listen= exited %d, want 2; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `--listen "" is not a loopback address`) {
		t.Errorf("stderr does not name the address:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "netsmith serving") {
		t.Errorf("serve listened before refusing:\n%s", stderr.String())
	}
}
