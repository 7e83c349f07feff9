package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// nginxBin is where Debian's nginx package installs the binary.
const nginxBin = "/usr/sbin/nginx"

// startNginx runs nginx in front of upstream (host:port) with readTimeout
// as its proxy_read_timeout, and returns its address and access log.
func startNginx(t *testing.T, upstream string, readTimeout time.Duration) (addr, accessLog string) {
	t.Helper()
	if _, err := os.Stat(nginxBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true needs nginx at %s", nginxBin)
		}
		t.Skipf("nginx (%s) is absent; skipping (apt-get install nginx)", nginxBin)
	}
	dir := t.TempDir()
	// nginx's workers run as nobody when it starts as root: they only
	// proxy, but its temporary directories must be theirs to write.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
		accessLog = filepath.Join(dir, "access.log")
		conf := fmt.Sprintf(`daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream netsmith { server %[2]s; }
	server {
		listen %[3]s;
		location / {
			proxy_pass http://netsmith;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_read_timeout %[4]dms;
		}
	}
}
`, dir, upstream, addr, readTimeout.Milliseconds())
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(nginxBin, "-p", dir, "-c", path, "-e", "stderr")
		if up, stderr := awaitListening(t, cmd, addr); up {
			return addr, accessLog
		} else if attempt == 3 || !strings.Contains(stderr, "in use") {
			t.Fatalf("nginx did not start on %s:\n%s", addr, stderr)
		}
	}
}

// awaitListening starts cmd and waits until addr accepts connections
// (true), or cmd exits (false); it returns cmd's stderr so far. A started
// cmd is stopped when the test ends.
func awaitListening(t *testing.T, cmd *exec.Cmd, addr string) (bool, string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	// nginx has no ready line: it listens once it has parsed its config,
	// so a connect that succeeds is its signal.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-done:
			return false, stderr.String()
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true, ""
		}
		time.Sleep(20 * time.Millisecond) // polling a process that is starting
	}
	t.Fatalf("%s did not listen on %s", cmd.Path, addr)
	return false, ""
}

// eventRequests counts the event-stream requests in an nginx access log.
// nginx logs a request once its upstream has closed it, which may be just
// after the client has read the last event: it waits for the first.
func eventRequests(t *testing.T, accessLog string) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		b, err := os.ReadFile(accessLog)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "/events HTTP/1.1"); n > 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond) // polling nginx's log
	}
}

// TestWaitOutlivesProxyTimeout waits on 10 s jobs through nginx with a 2 s
// proxy_read_timeout. With a 1 s heartbeat the one stream stays open the
// whole time; with a heartbeat longer than the proxy allows, nginx cuts
// the stream every 2 s and `submit --wait` reconnects, resuming from the
// last event, until the job is final.
func TestWaitOutlivesProxyTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, heartbeat string
		reconnects      bool
	}{
		{"heartbeat", "1s", false},
		{"reconnect", "5m", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "s.db"), "--provider", "sim",
				"--sim-latency", "10s", "--stream-heartbeat", tc.heartbeat, "--cache=false")
			proxy, accessLog := startNginx(t, p.addr, 2*time.Second)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			var out bytes.Buffer
			err := runSubmit(ctx, []string{"--server", "http://" + proxy, "--wait", "--json", "--hostname", "leaf1",
				"--platform", "arista_eos", "--role", "leaf", "--requirements", "EVPN leaf"}, noEnv, strings.NewReader(""), &out)
			if err != nil {
				t.Fatalf("submit --wait through nginx: %v\n%s", err, out.String())
			}
			took := time.Since(start)
			if !strings.Contains(out.String(), `"status": "`+string(netcfg.StateSucceeded)+`"`) {
				t.Fatalf("submit --wait printed no succeeded job:\n%s", out.String())
			}
			n := eventRequests(t, accessLog)
			switch {
			case took < 10*time.Second:
				t.Errorf("the job took %s; the sim latency is 10s, so the wait proved nothing", took)
			case !tc.reconnects && n != 1:
				t.Errorf("%d event streams with a 1s heartbeat behind a 2s proxy timeout; want 1 that stayed open", n)
			case tc.reconnects && n < 3:
				t.Errorf("%d event streams for a 10s job behind a 2s proxy timeout with no heartbeat; want reconnects (≥ 3)", n)
			}
			t.Logf("job done after %s over %d event streams", took.Round(time.Millisecond), n)
		})
	}
}

// TestBatchWaitRidesOutProxyErrors: a proxy in front answers the batch
// polls 502 now and then (no replica behind it for a moment, as while one
// restarts); the batch wait carries on to the end instead of failing.
func TestBatchWaitRidesOutProxyErrors(t *testing.T) {
	t.Parallel()
	p := startProcess(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "b.db"), "--provider", "sim", "--sim-latency", "300ms")
	target, err := url.Parse("http://" + p.addr)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var polls, refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every other poll of the batch fails, the first one among them.
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/batches/") && polls.Add(1)%2 == 1 {
			refused.Add(1)
			http.Error(w, `{"error":{"type":"bad_gateway","message":"no upstream"}}`, http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := httpapi.NewClient(front.URL, nil, "")
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "campus.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SubmitFleet(t.Context(), httpapi.SubmitOptions{Name: "campus.csv"}, data)
	if err != nil {
		t.Fatal(err)
	}
	final, err := followBatch(t.Context(), c, b.ID, time.Now(), time.Hour, false, io.Discard,
		func(context.Context, *httpapi.BatchView) error { return nil })
	if err != nil {
		t.Fatalf("batch wait through a proxy that failed %d polls: %v", refused.Load(), err)
	}
	if final.Status != "done" || final.Done != int64(b.Devices) || refused.Load() == 0 {
		t.Errorf("batch %s with %d/%d done after %d refused polls; want done, all devices, some refused", final.Status, final.Done, b.Devices, refused.Load())
	}
}
