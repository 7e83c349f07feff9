package dbtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncerBin is where Debian's pgbouncer package installs the binary.
const PgBouncerBin = "/usr/sbin/pgbouncer"

// PgBouncer starts a PgBouncer of its own in transaction mode in front of
// TEST_DATABASE_URL's database and returns a URL through it, with
// ?pgbouncer=true, as a new role whose own, empty schema comes first on
// PostgreSQL's default search_path ("$user", public): PgBouncer passes no
// search_path startup parameter, as Postgres's URLs have, and a new role
// is quicker than a new database. PgBouncer runs with
// its stock settings but for the listen address, the pool mode and trust
// authentication (the server trusts local connections), as the postgres
// user when the test runs as root (PgBouncer refuses to run as root). It
// skips when PgBouncer or TEST_DATABASE_URL is absent, unless CI=true.
func PgBouncer(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if _, err := os.Stat(PgBouncerBin); err != nil || base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true needs PgBouncer at %s and TEST_DATABASE_URL (set: %t)", PgBouncerBin, base != "")
		}
		tb.Skipf("PgBouncer (%s) or TEST_DATABASE_URL is absent; skipping PgBouncer test (apt-get install pgbouncer)", PgBouncerBin)
	}
	bu, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	role := newRole(tb, base)
	port := startPgBouncer(tb, bu, role)
	u := *bu
	u.Host = net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	u.User = url.User(role)
	q := url.Values{"sslmode": {"disable"}, "pgbouncer": {"true"}}
	u.RawQuery = q.Encode()
	return u.String()
}

// newRole creates a login role with a schema of its name on base's
// database, both dropped when the test ends.
func newRole(tb testing.TB, base string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "nstest_" + hex.EncodeToString(b[:])
	admin := func(stmts ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
	if err := admin("CREATE ROLE "+name+" LOGIN", "CREATE SCHEMA "+name+" AUTHORIZATION "+name); err != nil {
		tb.Fatalf("create role: %v", err)
	}
	tb.Cleanup(func() {
		if err := admin("DROP SCHEMA IF EXISTS "+name+" CASCADE", "DROP ROLE IF EXISTS "+name); err != nil {
			tb.Errorf("drop role %s: %v", name, err)
		}
	})
	return name
}

// startPgBouncer runs PgBouncer in front of server's host for role and
// returns its port; it stops when the test ends.
func startPgBouncer(tb testing.TB, server *url.URL, role string) int {
	tb.Helper()
	dir, err := os.MkdirTemp("", "nstest-pgbouncer-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// The postgres user must read the config it is started with.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	host, pgPort := server.Hostname(), server.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	var cmd *exec.Cmd
	var port int
	// The port is picked free and then bound by PgBouncer: another
	// process may take it in between, so a refused start tries another.
	for attempt := 0; ; attempt++ {
		port = freePort(tb)
		ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
pool_mode = transaction
auth_type = trust
auth_file = %s
`, host, pgPort, port, filepath.Join(dir, "userlist.txt"))
		if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "userlist.txt"), []byte(fmt.Sprintf("%q \"\"\n", role)), 0o644); err != nil {
			tb.Fatal(err)
		}
		cmd = exec.Command(PgBouncerBin, "-v", filepath.Join(dir, "pgbouncer.ini"))
		// It dies with the test binary, even one killed by a timeout.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if os.Getuid() == 0 {
			cmd.SysProcAttr.Credential = postgresUser(tb)
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start pgbouncer: %v", err)
		}
		// PgBouncer logs "listening on" once it accepts connections;
		// an exit first means it did not come up.
		up, log := waitForLine(stderr, "listening on 127.0.0.1:")
		if up {
			go drain(stderr)
			break
		}
		_ = cmd.Wait()
		if attempt == 3 || !strings.Contains(log, "in use") {
			tb.Fatalf("pgbouncer did not start:\n%s", log)
		}
	}
	tb.Cleanup(func() {
		// SIGTERM: PgBouncer's immediate shutdown (SIGINT waits for
		// its clients).
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return port
}

// postgresUser is the postgres system user, whom PgBouncer runs as when
// the test runs as root.
func postgresUser(tb testing.TB) *syscall.Credential {
	tb.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		tb.Fatalf("PgBouncer refuses to run as root, and there is no postgres user: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		tb.Fatalf("postgres user: uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// waitForLine reads r until a line contains s (true) or r ends (false),
// and returns what it read.
func waitForLine(r interface{ Read([]byte) (int, error) }, s string) (bool, string) {
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), s) {
			return true, b.String()
		}
	}
	return false, b.String()
}

func drain(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
