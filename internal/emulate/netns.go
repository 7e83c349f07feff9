package emulate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// emulation is one run's namespaces, daemons and files.
type emulation struct {
	cfg        Config
	id         string
	dir        string
	namespaces []string // created, in order
	daemons    []*daemon
}

// daemon is one FRR daemon process.
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func newEmulation(cfg Config) (*emulation, error) {
	dir, err := os.MkdirTemp("", "netsmith-emulate-")
	if err != nil {
		return nil, err
	}
	// FRR daemons drop to the frr user; they must reach their own files.
	if u, err := user.Lookup("frr"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &emulation{cfg: cfg, id: runID(), dir: dir}, nil
}

// ip runs "ip ARGS" and returns its error with its output.
func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// existingNamespaces lists the machine's named network namespaces.
func existingNamespaces(ctx context.Context) (map[string]bool, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %w", err)
	}
	m := map[string]bool{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			m[f[0]] = true
		}
	}
	return m, nil
}

// build makes one namespace per node and one veth pair per link, both
// ends created straight in their namespaces under their config names.
func (e *emulation) build(ctx context.Context, nodes []*node, links []Link) error {
	existing, err := existingNamespaces(ctx)
	if err != nil {
		return err
	}
	prefix := "ns-" + e.id + "-"
	for name := range existing {
		if strings.HasPrefix(name, prefix) {
			return fmt.Errorf("namespace %s exists already: run prefix %s is taken", name, prefix)
		}
	}
	byHost := map[string]*node{}
	for i, n := range nodes {
		n.ns = fmt.Sprintf("%s%d", prefix, i+1)
		n.dir = filepath.Join(e.dir, n.Hostname)
		byHost[n.Hostname] = n
		if err := ip(ctx, "netns", "add", n.ns); err != nil {
			return err
		}
		e.namespaces = append(e.namespaces, n.ns)
		if err := ip(ctx, "-n", n.ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
		// A spine forwards between leaves; a new namespace does not.
		if out, err := exec.CommandContext(ctx, "ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
			return fmt.Errorf("%s: ip_forward: %v: %s", n.Hostname, err, out)
		}
	}
	for _, l := range links {
		a, b := byHost[l.A], byHost[l.B]
		if err := ip(ctx, "link", "add", l.APort, "netns", a.ns, "type", "veth", "peer", "name", l.BPort, "netns", b.ns); err != nil {
			return fmt.Errorf("link %s %s - %s %s: %w", l.A, l.APort, l.B, l.BPort, err)
		}
		for _, end := range []struct{ ns, port string }{{a.ns, l.APort}, {b.ns, l.BPort}} {
			if err := ip(ctx, "-n", end.ns, "link", "set", end.port, "up"); err != nil {
				return err
			}
		}
	}
	return nil
}

// close stops every daemon and removes every namespace (and with it the
// veth ends in it) and file this run made. It runs on its own context: a
// canceled run must still clean up.
func (e *emulation) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, d := range e.daemons {
		d.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, d := range e.daemons {
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	e.daemons = nil
	for _, ns := range e.namespaces {
		// A process started in the namespace that outlived its daemon
		// (none should) would keep it alive: kill what is left.
		if out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output(); err == nil {
			for f := range strings.FieldsSeq(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if err := ip(ctx, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	e.namespaces = nil
	if err := os.RemoveAll(e.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
