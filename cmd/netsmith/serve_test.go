package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
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
			MaxBody: 1, ReadTimeout: time.Second, ReadHeaderTimeout: time.Second, IdleTimeout: time.Second, Listen: tc.listen, Insecure: tc.insecure}
		if err := c.validate(); err != nil {
			t.Errorf("--listen=%q insecure=%v: %v", tc.listen, tc.insecure, err)
			continue
		}
		if c.exposed != tc.exposed {
			t.Errorf("--listen=%q insecure=%v: exposed %v, want %v", tc.listen, tc.insecure, c.exposed, tc.exposed)
		}
	}
	c := Config{Role: "all", Provider: "sim", Concurrency: 1, MaxAttempts: 1, JobTimeout: time.Minute, MaxBody: 1, ReadTimeout: time.Second, ReadHeaderTimeout: time.Second,
		IdleTimeout: time.Second, Listen: "8080"}
	if err := c.validate(); err == nil {
		t.Errorf("--listen=8080 (no colon) accepted")
	}
}

// TestServeEmptyListenRefused runs serve --listen= on a database without
// keys: it must refuse before it listens on every interface.
func TestServeEmptyListenRefused(t *testing.T) {
	t.Parallel()
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

// TestSlowBodyCutOff sends a request's headers and part of its body, then
// stalls: the server must close the connection within --read-timeout, and
// an event stream must still outlive it.
func TestSlowBodyCutOff(t *testing.T) {
	const readTimeout = time.Second
	c, logs := startWithLog(t, nil, "--db", "sqlite://"+filepath.Join(t.TempDir(), "serve.db"),
		"--read-timeout", readTimeout.String(), "--read-header-timeout", readTimeout.String(), "--sim-latency", "2500ms")
	addr := addrRE.FindStringSubmatch(logs.String())[1]

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// The guard only ends a hung test; the assertion is on elapsed below.
	conn.SetReadDeadline(start.Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kind\":")
	_, err = io.Copy(io.Discard, conn) // until the server closes
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("server did not close the stalled connection: %v after %s", err, elapsed)
	}
	// Slack for a loaded two-core machine; without a read timeout the
	// connection stays open until the 30 s guard.
	if elapsed > readTimeout+5*time.Second {
		t.Errorf("stalled body held for %s, read timeout %s", elapsed, readTimeout)
	}

	// A job that takes longer than the read timeout, followed on its event
	// stream: the stream must see it finish.
	id := submitLeaf(t, c, "slow1")
	streamStart := time.Now()
	v, err := c.Wait(t.Context(), id, nil)
	if err != nil {
		t.Fatalf("event stream: %v after %s", err, time.Since(streamStart))
	}
	if v.Status != "succeeded" {
		t.Errorf("job %s: %s", id, v.Status)
	}
	if d := time.Since(streamStart); d < readTimeout {
		t.Errorf("stream lasted %s, less than the read timeout %s: the test proves nothing", d, readTimeout)
	}
}

// TestKeysCreateDepartmentBounded: a key's department is an identifier, as
// everywhere else one is named.
func TestKeysCreateDepartmentBounded(t *testing.T) {
	t.Parallel()
	db := "sqlite://" + filepath.Join(t.TempDir(), "keys.db")
	for _, tc := range []struct {
		dept string
		code int
	}{
		{"=HYPERLINK(1)", 2},
		{"a b", 2},
		{strings.Repeat("d", 65), 2},
		{"net-ops", 0},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"keys", "create", "--db", db, "--name", "k", "--department", tc.dept}, noEnv,
			strings.NewReader(""), &stdout, &stderr)
		if code != tc.code {
			t.Errorf("keys create --department %q: exit %d, want %d; stderr: %s", tc.dept, code, tc.code, stderr.String())
		}
		if tc.code == 2 && !strings.Contains(stderr.String(), "--department") {
			t.Errorf("keys create --department %q: stderr does not name the flag: %s", tc.dept, stderr.String())
		}
	}
}

// TestShutdownEndsEventStreams: an open event stream ends when serve shuts
// down, and shutdown does not wait out --shutdown-timeout for it. The job
// stays queued (--role api runs no workers), so only the stream could hold
// the shutdown.
func TestShutdownEndsEventStreams(t *testing.T) {
	t.Parallel()
	// Without the fix serve holds the stream for the whole two-minute
	// shutdown timeout, past stop's 30 s guard.
	c, _, stop := startServe(t, nil, "--role", "api", "--shutdown-timeout", "2m",
		"--db", "sqlite://"+filepath.Join(t.TempDir(), "serve.db"))
	id := submitLeaf(t, c, "held1")
	opened := make(chan struct{})
	streamErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		var once sync.Once
		_, err := c.Wait(ctx, id, func(*httpapi.JobView) { once.Do(func() { close(opened) }) })
		streamErr <- err
	}()
	select {
	case <-opened: // the stream sent the job's first state
	case err := <-streamErr:
		t.Fatalf("event stream ended before shutdown: %v", err)
	}
	stop()
	// The client reconnects until the job is final (behind a proxy, to
	// another replica); here no server is left, so only its context ends
	// the wait, and never with the job.
	cancel()
	select {
	case err := <-streamErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("wait on a queued job after shutdown ended with %v; want context.Canceled", err)
		}
	case <-time.After(30 * time.Second): // a guard only
		t.Fatal("the wait outlived its context")
	}
}

// submitLeaf submits a job for an EOS leaf named hostname and returns its
// id.
func submitLeaf(t *testing.T, c *httpapi.Client, hostname string) string {
	t.Helper()
	resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind:         netcfg.KindGenerate,
		Device:       &netcfg.Device{Hostname: hostname, Platform: netcfg.AristaEOS, Role: "leaf"},
		Requirements: "EVPN leaf, eBGP to two spines",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}
