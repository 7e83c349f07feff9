package emulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// daemonsFor lists the FRR daemons a config needs: zebra always, bgpd for
// "router bgp", staticd for static routes, bfdd for BFD.
func daemonsFor(config string) []string {
	ds := []string{"zebra"}
	has := func(re string) bool { return regexp.MustCompile(`(?m)` + re).MatchString(config) }
	if has(`^router bgp `) {
		ds = append(ds, "bgpd")
	}
	if has(`^(ip|ipv6) route `) || has(`^vrf .*\n(\s+.*\n)*?\s+(ip|ipv6) route `) {
		ds = append(ds, "staticd")
	}
	if has(`^bfd\b|^\s+neighbor \S+ bfd\b|^\s+bfd\b`) {
		ds = append(ds, "bfdd")
	}
	return ds
}

// start runs each node's daemons in its namespace, each in the node's own
// directory (vty sockets, zserv socket, pid files, logs), and applies the
// node's config through vtysh.
func (e *emulation) start(ctx context.Context, nodes []*node, rep *Report) error {
	uid, gid := -1, -1
	if u, err := user.Lookup("frr"); err == nil {
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	for _, n := range nodes {
		if err := os.Mkdir(n.dir, 0o755); err != nil {
			return err
		}
		if uid >= 0 {
			if err := os.Chown(n.dir, uid, gid); err != nil {
				return err
			}
		}
		empty := filepath.Join(n.dir, "empty.conf")
		if err := os.WriteFile(empty, nil, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(n.dir, "frr.conf"), []byte(n.Config), 0o644); err != nil {
			return err
		}
		for _, name := range daemonsFor(n.Config) {
			args := []string{"netns", "exec", n.ns, filepath.Join(e.cfg.FRRDir, name),
				"--vty_socket", n.dir, "-i", filepath.Join(n.dir, name+".pid"),
				"-z", filepath.Join(n.dir, "zserv.api"), "--log", "file:" + filepath.Join(n.dir, name+".log"),
				"-f", empty, "-P", "0"}
			if n.profile != "" {
				args = append(args, "-F", n.profile)
			}
			cmd := exec.Command("ip", args...)
			out, err := os.Create(filepath.Join(n.dir, name+".out"))
			if err != nil {
				return err
			}
			cmd.Stdout, cmd.Stderr = out, out
			// Its own process group: a Ctrl-C at the terminal reaches
			// netsmith, which stops the daemons in order.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				out.Close()
				return fmt.Errorf("%s: start %s: %w", n.Hostname, name, err)
			}
			d := &daemon{name: name, cmd: cmd, done: make(chan struct{})}
			go func() { cmd.Wait(); out.Close(); close(d.done) }()
			e.daemons = append(e.daemons, d)
			n.daemons = append(n.daemons, d)
		}
	}
	for _, n := range nodes {
		if err := n.waitReady(ctx); err != nil {
			return err
		}
		out, err := exec.CommandContext(ctx, "vtysh", "--vty_socket", n.dir, "-f", filepath.Join(n.dir, "frr.conf")).CombinedOutput()
		for line := range strings.SplitSeq(string(out), "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "line ") || strings.HasPrefix(line, "%") {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: vtysh: %s", n.Hostname, line))
			}
		}
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	// A session bgpd tried before its peer was configured waits out its
	// retry timer; a reset makes every session try again now that all
	// configs are in.
	for _, n := range nodes {
		if n.model.BGP == nil {
			continue
		}
		if out, err := exec.CommandContext(ctx, "vtysh", "--vty_socket", n.dir, "-c", "clear ip bgp *").CombinedOutput(); err != nil {
			return fmt.Errorf("%s: vtysh -c 'clear ip bgp *': %v: %s", n.Hostname, err, out)
		}
	}
	return nil
}

// waitReady waits until every daemon of n has its vty socket, or one of
// them has exited.
func (n *node) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		ready := true
		for _, d := range n.daemons {
			select {
			case <-d.done:
				log, _ := os.ReadFile(filepath.Join(n.dir, d.name+".out"))
				return fmt.Errorf("%s: %s exited at start: %s", n.Hostname, d.name, strings.TrimSpace(string(log)))
			default:
			}
			if _, err := os.Stat(filepath.Join(n.dir, d.name+".vty")); err != nil {
				ready = false
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("%s: FRR daemons did not open their vty sockets in 30s (logs in %s)", n.Hostname, n.dir)
		case <-tick.C:
		}
	}
}

// vtysh runs one show command on n's daemons and decodes its JSON. A busy
// daemon can answer nothing at all (where an empty table is "{}"); that
// is asked again, a few times, rather than read as an empty table.
func (n *node) vtysh(ctx context.Context, command string, v any) error {
	var out []byte
	for try := 0; try < 5 && len(bytes.TrimSpace(out)) == 0; try++ {
		var err error
		out, err = exec.CommandContext(ctx, "vtysh", "--vty_socket", n.dir, "-c", command).Output()
		if err != nil {
			return fmt.Errorf("%s: vtysh -c %q: %w", n.Hostname, command, err)
		}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return fmt.Errorf("%s: vtysh -c %q: no answer", n.Hostname, command)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("%s: vtysh -c %q: %w", n.Hostname, command, err)
	}
	return nil
}

// neighborJSON is the part of "show bgp neighbors json" Run reads.
type neighborJSON struct {
	RemoteAS        json.Number `json:"remoteAs"`
	State           string      `json:"bgpState"`
	LastReset       string      `json:"lastResetDueTo"`
	LastNotifyError string      `json:"lastNotificationReason"`
	GracefulRestart struct {
		EndOfRIBRecv map[string]bool `json:"endOfRibRecv"`
	} `json:"gracefulRestartInfo"`
	Messages struct {
		InQ         int64 `json:"depthInq"`
		OutQ        int64 `json:"depthOutq"`
		UpdatesSent int64 `json:"updatesSent"`
		UpdatesRecv int64 `json:"updatesRecv"`
	} `json:"messageStats"`
}

// routeJSON is the part of "show ip route json" Run reads.
type routeJSON struct {
	Protocol string `json:"protocol"`
	Selected bool   `json:"selected"`
	Nexthops []struct {
		IP        string `json:"ip"`
		Interface string `json:"interfaceName"`
		Active    bool   `json:"active"`
	} `json:"nexthops"`
}

// snapshot is what one poll saw on every node.
type snapshot struct {
	sessions []Session
	routes   map[string][]Route
	// noEOR counts the sessions up that have not yet received the peer's
	// End-of-RIB: their first routes may still be coming.
	noEOR int
	// queued counts the sessions with messages waiting in bgpd's in or out
	// queue: updates are on their way.
	queued int
	// updates is every session's UPDATE messages sent and received. A
	// speaker slowed down (a loaded machine) can go quiet for longer than
	// the settle time between the End-of-RIB and the routes it learns
	// later; any UPDATE moving restarts the settle time, so the routes
	// are read once the messages have stopped, not just the tables.
	updates []string
}

// key is what must stay unchanged for the network to count as settled:
// which sessions are up, and every route with its next hops. A down
// session's state (Active, Connect, Idle) cycles forever, so it is left
// out.
func (s *snapshot) key() string {
	var b strings.Builder
	for _, x := range s.sessions {
		fmt.Fprintf(&b, "%s %s %t\n", x.Device, x.Neighbor, x.Established)
	}
	for _, u := range s.updates {
		b.WriteString(u)
	}
	hosts := make([]string, 0, len(s.routes))
	for h := range s.routes {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		for _, r := range s.routes[h] {
			fmt.Fprintf(&b, "%s %s %s %v\n", h, r.Prefix, r.Protocol, r.Nexthops)
		}
	}
	return b.String()
}

func (s *snapshot) allUp() bool {
	for _, x := range s.sessions {
		if !x.Established {
			return false
		}
	}
	return true
}

// poll asks every node for its BGP neighbors and routes.
func (e *emulation) poll(ctx context.Context, nodes []*node, owner map[string]string) (*snapshot, error) {
	s := &snapshot{routes: map[string][]Route{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Parallel)
	for _, n := range nodes {
		g.Go(func() error {
			var (
				sessions []Session
				updates  []string
			)
			noEOR, queued := 0, 0
			if n.model.BGP != nil {
				var nbrs map[string]neighborJSON
				if err := n.vtysh(gctx, "show bgp neighbors json", &nbrs); err != nil {
					return err
				}
				for _, want := range n.model.BGP.Neighbors {
					if want.VRF != "" {
						continue
					}
					addr := want.Addr.String()
					got, ok := nbrs[addr]
					s := Session{Device: n.Hostname, Neighbor: addr, Peer: owner[addr], RemoteAS: want.RemoteAS, State: got.State}
					if !ok {
						s.State = "unknown to bgpd"
					}
					s.Established = got.State == "Established"
					if s.Established && !got.GracefulRestart.EndOfRIBRecv["ipv4Unicast"] {
						noEOR++
					}
					if m := got.Messages; m.InQ > 0 || m.OutQ > 0 {
						queued++
					}
					updates = append(updates, fmt.Sprintf("%s %s updates %d/%d\n", n.Hostname, addr, got.Messages.UpdatesSent, got.Messages.UpdatesRecv))
					if !s.Established {
						s.Reason, s.Notification = got.LastReset, got.LastNotifyError
					}
					sessions = append(sessions, s)
				}
			}
			var table map[string][]routeJSON
			if err := n.vtysh(gctx, "show ip route json", &table); err != nil {
				return err
			}
			var routes []Route
			for prefix, rs := range table {
				for _, r := range rs {
					if !r.Selected {
						continue
					}
					rt := Route{Prefix: prefix, Protocol: r.Protocol}
					for _, nh := range r.Nexthops {
						if !nh.Active {
							continue
						}
						if nh.IP != "" {
							rt.Nexthops = append(rt.Nexthops, nh.IP)
						} else {
							rt.Nexthops = append(rt.Nexthops, nh.Interface)
						}
					}
					slices.Sort(rt.Nexthops)
					routes = append(routes, rt)
				}
			}
			slices.SortFunc(routes, func(a, b Route) int { return strings.Compare(a.Prefix, b.Prefix) })
			mu.Lock()
			s.sessions = append(s.sessions, sessions...)
			s.routes[n.Hostname] = routes
			s.noEOR += noEOR
			s.queued += queued
			s.updates = append(s.updates, updates...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sortSessions(s.sessions)
	slices.Sort(s.updates)
	return s, nil
}

// owners maps every interface address to the node that holds it.
func owners(nodes []*node) map[string]string {
	owner := map[string]string{}
	for _, n := range nodes {
		for _, i := range n.model.Interfaces {
			for _, a := range i.Addresses {
				owner[a.Prefix.Addr().String()] = n.Hostname
			}
		}
	}
	return owner
}

// moved reports whether sessions or routes differ from what converge last
// saw: a speaker starved of CPU can stay silent for longer than the
// settle time and send its routes after convergence was declared.
func (e *emulation) moved(ctx context.Context, nodes []*node, key string) (bool, error) {
	s, err := e.poll(ctx, nodes, owners(nodes))
	if err != nil {
		return false, err
	}
	return s.key() != key, nil
}

// converge polls until sessions and routes have not changed for the
// settle time, or until deadline, puts the last poll in rep and returns
// its key.
func (e *emulation) converge(ctx context.Context, nodes []*node, rep *Report, start, deadline time.Time) (string, error) {
	owner := owners(nodes)
	timeout := time.NewTimer(time.Until(deadline))
	defer timeout.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last *snapshot
	lastKey, lastChange := "", start
	notified := map[[2]string]string{} // device, neighbor -> last notification seen
	for {
		s, err := e.poll(ctx, nodes, owner)
		if err != nil {
			return "", err
		}
		for i := range s.sessions {
			x := &s.sessions[i]
			k := [2]string{x.Device, x.Neighbor}
			if x.Notification != "" {
				notified[k] = x.Notification
			} else if !x.Established {
				x.Notification = notified[k]
			}
		}
		if rss := e.rss(); rss > rep.PeakRSS {
			rep.PeakRSS = rss
		}
		now := time.Now()
		if k := s.key(); last == nil || k != lastKey {
			lastKey, lastChange = k, now
		}
		last = s
		settle := e.cfg.Settle
		if !s.allUp() {
			settle = e.cfg.DownSettle
		}
		settled := now.Sub(lastChange) >= settle && s.noEOR == 0 && s.queued == 0
		timedOut := false
		if !settled {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-timeout.C:
				timedOut = true
			case <-tick.C:
				continue
			}
		}
		rep.Converged = !timedOut
		rep.ConvergeMS = lastChange.Sub(start).Milliseconds()
		rep.Sessions, rep.Routes = last.sessions, last.routes
		rep.SessionsUp = 0
		for _, x := range last.sessions {
			if x.Established {
				rep.SessionsUp++
			}
		}
		return lastKey, nil
	}
}

// rss is the sum of the resident memory of every running daemon.
func (e *emulation) rss() int64 {
	var sum int64
	for _, d := range e.daemons {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				sum += kb * 1024
			}
		}
	}
	return sum
}

// reachability pings every node's loopback from every other node's
// loopback, a bounded number at once. A ping that fails is tried once
// more, so that one lost first packet is not an unreachable pair.
func (e *emulation) reachability(ctx context.Context, nodes []*node, rep *Report) error {
	var pairs []Reach
	index := map[string]*node{}
	for _, a := range nodes {
		index[a.Hostname] = a
		for _, b := range nodes {
			if a != b && a.loopback.IsValid() && b.loopback.IsValid() {
				pairs = append(pairs, Reach{From: a.Hostname, To: b.Hostname, FromAddr: a.loopback.String(), ToAddr: b.loopback.String()})
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Parallel)
	for i := range pairs {
		g.Go(func() error {
			p := &pairs[i]
			for try := 0; try < 2 && !p.OK; try++ {
				err := exec.CommandContext(gctx, "ip", "netns", "exec", index[p.From].ns, "ping", "-n", "-q", "-c1", "-W1", "-I", p.FromAddr, p.ToAddr).Run()
				if gctx.Err() != nil {
					return gctx.Err()
				}
				p.OK = err == nil
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rep.Reach, rep.Unreachable = pairs, 0
	for _, p := range pairs {
		if !p.OK {
			rep.Unreachable++
		}
	}
	return nil
}
