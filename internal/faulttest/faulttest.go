// Package faulttest gives tests the faults of a bad day on real parts, not
// mocks: a small tmpfs that fills up (the disk full under SQLite), and a
// private PostgreSQL instance of their own that they stop and start
// mid-run (a database outage that touches no one else's database).
//
// Both need root (mount, and running PostgreSQL's binaries as the postgres
// user); without it, or without PostgreSQL's binaries, the tests that use
// them skip locally and fail when CI=true. The package's own tests are
// the fault suite: fast_test.go always, slow_test.go with NETSMITH_FAULTS=slow.
package faulttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"netsmith/internal/dbtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/netsmith once per test binary and returns its path, for
// the tests that run it as a process (killed, stopped, restarted).
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "netsmith-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "netsmith")
		if out, err := exec.Command("go", "build", "-o", binPath, "netsmith/cmd/netsmith").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// skip skips tb locally and fails it in CI, saying why.
func skip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + ", and CI=true: the fault tests must run in CI")
	}
	tb.Skip(msg)
}

// NeedRoot skips tb (fails it in CI) unless the test runs as root.
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		skip(tb, "needs root")
	}
}

// Tmpfs mounts a tmpfs of size (as mount's size=, e.g. "8m") on a new
// directory and unmounts it when tb ends.
func Tmpfs(tb testing.TB, size string) string {
	tb.Helper()
	NeedRoot(tb)
	dir, err := os.MkdirTemp("", "netsmith-tmpfs-")
	if err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		skip(tb, "cannot mount a tmpfs: %v: %s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			tb.Errorf("umount %s: %v: %s", dir, err, out)
			return
		}
		os.Remove(dir)
	})
	return dir
}

// Fill writes a file in dir until its file system is full (ENOSPC) and
// returns a func that removes it again, freeing the space.
func Fill(tb testing.TB, dir string) (free func()) {
	tb.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err = f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		tb.Fatalf("filling %s: %v, want ENOSPC", dir, err)
	}
	// Whatever page-sized room is left goes too.
	for _, n := range []int{4096, 512, 1} {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
		f.Close()
	}
	freed := false
	free = func() {
		if !freed {
			freed = true
			if err := os.Remove(p); err != nil {
				tb.Error(err)
			}
		}
	}
	tb.Cleanup(free)
	return free
}

// Postgres is a private PostgreSQL instance: its own data directory and
// port, run as the postgres user, stopped and removed when the test ends.
type Postgres struct {
	URL  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
	Port int

	tb       testing.TB
	bin, dir string
	cred     *syscall.Credential
}

// PGBinDir is where PostgreSQL's server binaries are looked for first.
const PGBinDir = "/usr/lib/postgresql/15/bin"

// PrivatePostgres initializes and starts a new PostgreSQL instance.
func PrivatePostgres(tb testing.TB) *Postgres {
	tb.Helper()
	NeedRoot(tb)
	bin := PGBinDir
	if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); err != nil {
		out, err := exec.Command("pg_config", "--bindir").Output()
		if err != nil {
			skip(tb, "no PostgreSQL server binaries (%s, pg_config)", PGBinDir)
		}
		bin = strings.TrimSpace(string(out))
	}
	cred := dbtest.PostgresUser(tb)
	// Not t.TempDir: its parents are 0700 root, which the postgres user
	// cannot enter.
	dir, err := os.MkdirTemp("", "netsmith-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		tb.Fatal(err)
	}
	p := &Postgres{tb: tb, bin: bin, dir: dir, Port: dbtest.FreePort(tb), cred: cred}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	p.Start()
	tb.Cleanup(func() {
		if p.running() {
			p.run("pg_ctl", "stop", "-D", p.data(), "-m", "immediate", "-w")
		}
	})
	return p
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

// Start starts the instance and waits until it accepts connections.
func (p *Postgres) Start() {
	p.tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.Port, p.dir)
	p.run("pg_ctl", "start", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60", "-o", opts)
}

// Stop stops the instance (fast: open sessions are ended) and waits until
// it is down.
func (p *Postgres) Stop() {
	p.tb.Helper()
	p.run("pg_ctl", "stop", "-D", p.data(), "-m", "fast", "-w", "-t", "60")
}

func (p *Postgres) running() bool {
	cmd := exec.Command(filepath.Join(p.bin, "pg_ctl"), "status", "-D", p.data())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd.Run() == nil
}

// Log returns the server's log so far, for a failing test's message.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log"))
	return string(b)
}

func (p *Postgres) run(name string, args ...string) {
	p.tb.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		p.tb.Fatalf("%s %s: %v (after %s)\n%s\n%s", name, strings.Join(args, " "), err, time.Since(start), out, p.Log())
	}
}
