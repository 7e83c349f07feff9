package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/llm"
	"netsmith/internal/llm/anthropic"
	"netsmith/internal/llm/fakeanthropic"
)

// lines hands each write to a channel; runFakeAnthropic writes its address
// in one write.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunFakeAnthropic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := make(lines, 4)
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runFakeAnthropic(ctx, []string{"--listen", "127.0.0.1:0", "--latency", "5ms", "--jitter", "1ms",
			"--rpm", "2", "--seed", "7", "--api-key", "k1", "--log-level", "debug"}, noEnv, stdout, &stderr)
	}()
	var base string
	select {
	case line := <-stdout:
		base = strings.TrimSpace(line)
	case err := <-done:
		t.Fatalf("runFakeAnthropic returned before listening: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("no address on stdout after 10s")
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("stdout %q, want http://127.0.0.1:port", base)
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	c := anthropic.New(anthropic.Config{BaseURL: base, APIKey: "k1", Model: "claude-fake", HTTPClient: hc})
	req := llm.Request{Messages: []llm.Message{{Role: "user", Content: "hello"}}}
	for i := range 2 {
		if _, err := c.Generate(ctx, req); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := c.Generate(ctx, req)
	var e *llm.Error
	if !errors.As(err, &e) || e.Class != llm.RateLimited || e.RetryAfter != 30*time.Second {
		t.Errorf("third call: %v, want rate limited for 30s", err)
	}

	resp, err := hc.Get(base + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st fakeanthropic.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	_ = resp.Body.Close()
	if err != nil || st.Requests != 3 || st.Succeeded != 2 || st.RateLimited != 1 {
		t.Errorf("stats %+v (%v), want 3 requests, 2 succeeded, 1 rate limited", st, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runFakeAnthropic: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("runFakeAnthropic did not stop within 15s of cancel")
	}
	if log := stderr.String(); !strings.Contains(log, "fake-anthropic stopped") {
		t.Errorf("log has no stop line:\n%s", log)
	}
}

func TestRunFakeAnthropicFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the error; "" for flag.ErrHelp
	}{
		{[]string{"-h"}, ""},
		{[]string{"--error-500", "0.7", "--error-529", "0.5"}, "sum of at most 1"},
		{[]string{"--error-529", "-0.1"}, "--error-529"},
		{[]string{"--rpm", "-1"}, "--rpm"},
		{[]string{"--distribution", "pareto"}, "--distribution"},
		{[]string{"--latency", "-1s"}, "--latency"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		err := runFakeAnthropic(t.Context(), append([]string{"--listen", "127.0.0.1:0"}, tt.args...), noEnv, io.Discard, io.Discard)
		if tt.want == "" {
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%v: %v, want flag.ErrHelp", tt.args, err)
			}
			continue
		}
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want a usage error about %s", tt.args, err, tt.want)
		}
	}
}
