// Package emulate boots generated FRR configs as a network on this Linux
// machine and reports whether it converges: one network namespace per
// device, one veth pair per point-to-point link, zebra and bgpd (and
// staticd, bfdd when the config uses them) per namespace, each instance in
// its own path space under a temporary directory. Static checks say a fabric
// looks consistent; this says whether its sessions come up and its
// loopbacks reach each other.
//
// Everything it creates is named under one run prefix checked before use,
// and removed at the end, also on cancellation and on failure: it never
// touches interfaces, namespaces or processes it did not create.
package emulate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"netsmith/internal/confparse"
	"netsmith/internal/netcfg"
	"netsmith/internal/verify"
)

// ErrUnavailable is returned when this machine cannot emulate: not Linux,
// no root or CAP_NET_ADMIN, or FRR or iproute2 missing.
var ErrUnavailable = errors.New("emulate needs root (or CAP_NET_ADMIN) and FRR (apt-get install frr)")

// Device is one device of the network: its hostname, the platform its
// config is for and the config text.
type Device struct {
	Hostname string
	Platform netcfg.Platform
	Config   string
}

// Link is one point-to-point link between port APort of device A and port
// BPort of device B, ports as the configs name them.
type Link struct {
	A, APort string
	B, BPort string
}

// Config is what Run emulates and how.
type Config struct {
	Devices []Device
	Links   []Link
	// Timeout bounds the wait for convergence (default 2 minutes).
	Timeout time.Duration
	// Settle is how long sessions and routes must stay unchanged to count
	// as converged when every session is up (default 3 seconds).
	Settle time.Duration
	// DownSettle is the same while a session is down (default 15 seconds):
	// longer than FRR's connect retry, so that a session waiting to try
	// again is not reported down.
	DownSettle time.Duration
	// Keep leaves the namespaces and daemons running after Run returns;
	// the report names them and the command that removes them.
	Keep bool
	// FRRDir holds the FRR daemons (default /usr/lib/frr).
	FRRDir string
	// Parallel bounds the pings running at once (default 8).
	Parallel int

	afterStart func() // tests: called once the daemons run
}

// Skipped is a device Run did not emulate, and why.
type Skipped struct {
	Hostname string `json:"hostname"`
	Reason   string `json:"reason"`
}

// Session is one BGP neighbor a config has, and how it ended.
type Session struct {
	Device      string `json:"device"`
	Neighbor    string `json:"neighbor"`
	Peer        string `json:"peer,omitempty"` // the device that owns the neighbor address, if any
	RemoteAS    string `json:"remote_as"`
	State       string `json:"state"`
	Established bool   `json:"established"`
	Reason      string `json:"reason,omitempty"` // FRR's lastResetDueTo
	// Notification is the last BGP notification FRR logged for the
	// session during the run ("OPEN Message Error/Bad Peer AS"), kept
	// when a later reset has another reason.
	Notification string `json:"notification,omitempty"`
}

// Route is one route of a device's routing table.
type Route struct {
	Prefix   string   `json:"prefix"`
	Protocol string   `json:"protocol"`
	Nexthops []string `json:"nexthops,omitempty"`
}

// Reach is one loopback-to-loopback ping.
type Reach struct {
	From     string `json:"from"`
	To       string `json:"to"`
	FromAddr string `json:"from_addr"`
	ToAddr   string `json:"to_addr"`
	OK       bool   `json:"ok"`
}

// Report is what an emulation showed.
type Report struct {
	Devices     int                `json:"devices"`
	Links       int                `json:"links"`
	Skipped     []Skipped          `json:"skipped,omitempty"`
	Sessions    []Session          `json:"sessions"`
	SessionsUp  int                `json:"sessions_up"`
	Routes      map[string][]Route `json:"routes"`
	Reach       []Reach            `json:"reachability"`
	Unreachable int                `json:"unreachable"`
	Converged   bool               `json:"converged"` // false: the timeout came first
	ConvergeMS  int64              `json:"converge_ms"`
	PeakRSS     int64              `json:"peak_rss_bytes"` // the most the daemons held at once
	Warnings    []string           `json:"warnings,omitempty"`
	Namespaces  []string           `json:"namespaces,omitempty"` // the run's namespaces: removed, or with Keep left running
	Dir         string             `json:"dir,omitempty"`        // the daemons' files: removed, or with Keep left
}

// OK reports whether every session is up and every loopback reaches every
// other.
func (r *Report) OK() bool {
	return r.SessionsUp == len(r.Sessions) && r.Unreachable == 0 && r.Devices > 0
}

// Down returns the sessions that are not Established.
func (r *Report) Down() []Session {
	var out []Session
	for _, s := range r.Sessions {
		if !s.Established {
			out = append(out, s)
		}
	}
	return out
}

// Check returns an error wrapping ErrUnavailable when this machine cannot
// emulate, saying what is missing.
func Check(frrDir string) error {
	if frrDir == "" {
		frrDir = defaultFRRDir
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: network namespaces are Linux only", ErrUnavailable)
	}
	if os.Geteuid() != 0 && !hasNetAdmin() {
		return fmt.Errorf("%w: running as uid %d without CAP_NET_ADMIN", ErrUnavailable, os.Geteuid())
	}
	for _, d := range []string{"zebra", "bgpd"} {
		if _, err := os.Stat(filepath.Join(frrDir, d)); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	for _, tool := range []string{"ip", "vtysh", "ping", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return nil
}

const defaultFRRDir = "/usr/lib/frr"

// hasNetAdmin reads the effective capabilities of this process.
func hasNetAdmin() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var caps uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &caps); err == nil {
				return caps&(1<<12) != 0 // CAP_NET_ADMIN
			}
		}
	}
	return false
}

// node is one emulated device.
type node struct {
	Device
	ns       string
	dir      string
	model    *verify.Device
	loopback netip.Addr
	daemons  []*daemon
	profile  string // "frr defaults" of the config
}

// Run emulates the devices of cfg and reports what it saw. It returns an
// error when the network cannot be built or ctx ends; sessions that stay
// down and unreachable loopbacks are in the report, not errors.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := Check(cfg.FRRDir); err != nil {
		return nil, err
	}
	if cfg.FRRDir == "" {
		cfg.FRRDir = defaultFRRDir
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 3 * time.Second
	}
	if cfg.DownSettle < cfg.Settle {
		cfg.DownSettle = max(cfg.Settle, 15*time.Second)
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	rep = &Report{Routes: map[string][]Route{}}
	nodes, err := prepare(cfg, rep)
	if err != nil {
		return nil, err
	}
	links, err := usableLinks(cfg.Links, nodes, rep)
	if err != nil {
		return nil, err
	}
	rep.Devices, rep.Links = len(nodes), len(links)
	if len(nodes) == 0 {
		return rep, nil
	}

	e, err := newEmulation(cfg)
	if err != nil {
		return nil, err
	}
	// On failure the report is returned too, naming what was made (and
	// removed).
	defer func() {
		rep.Namespaces, rep.Dir = slices.Clone(e.namespaces), e.dir
		if cfg.Keep && err == nil {
			return
		}
		if cerr := e.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := e.build(ctx, nodes, links); err != nil {
		return rep, err
	}
	start := time.Now()
	if err := e.start(ctx, nodes, rep); err != nil {
		return rep, err
	}
	if cfg.afterStart != nil {
		cfg.afterStart()
	}
	// Converge, ping, and look again: when the tables moved while the
	// pings ran, the network had not settled, so converge and ping again
	// (until the timeout), and report what it settled to.
	deadline := start.Add(cfg.Timeout)
	for {
		key, err := e.converge(ctx, nodes, rep, start, deadline)
		if err != nil {
			return rep, err
		}
		if err := e.reachability(ctx, nodes, rep); err != nil {
			return rep, err
		}
		moved, err := e.moved(ctx, nodes, key)
		if err != nil {
			return rep, err
		}
		if !moved || !rep.Converged || time.Now().After(deadline) {
			return rep, nil
		}
	}
}

// prepare parses the FRR devices' configs and lists the others as skipped.
func prepare(cfg Config, rep *Report) ([]*node, error) {
	var nodes []*node
	seen := map[string]bool{}
	for _, d := range cfg.Devices {
		if seen[d.Hostname] {
			return nil, fmt.Errorf("device %s: listed twice", d.Hostname)
		}
		seen[d.Hostname] = true
		if d.Platform != confparse.FRR {
			rep.Skipped = append(rep.Skipped, Skipped{d.Hostname, fmt.Sprintf("platform %s: only FRR configs are emulated", d.Platform)})
			continue
		}
		tree, err := confparse.Parse(confparse.FRR, d.Config)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Hostname, err)
		}
		n := &node{Device: d, model: verify.Extract(d.Hostname, tree), profile: profile(d.Config)}
		if lo := n.model.Interface("lo"); lo != nil {
			for _, a := range lo.Addresses {
				if a.Prefix.Addr().Is4() && !a.Prefix.Addr().IsLoopback() {
					n.loopback = a.Prefix.Addr()
					break
				}
			}
		}
		if !n.loopback.IsValid() {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: no IPv4 address on interface lo, so no reachability from or to it", d.Hostname))
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// profile returns the config's "frr defaults" profile, which a daemon takes
// only at start.
func profile(config string) string {
	for line := range strings.SplitSeq(config, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "frr defaults "); ok {
			return strings.TrimSpace(p)
		}
	}
	return ""
}

// usableLinks keeps the links whose two ends are emulated devices, with
// ports that are valid Linux interface names, each link once.
func usableLinks(links []Link, nodes []*node, rep *Report) ([]Link, error) {
	byHost := map[string]bool{}
	for _, n := range nodes {
		byHost[n.Hostname] = true
	}
	used := map[[2]string]string{} // device, port -> the link that uses it
	var out []Link
	for _, l := range links {
		if !byHost[l.A] || !byHost[l.B] {
			continue
		}
		a, b := [2]string{l.A, l.APort}, [2]string{l.B, l.BPort}
		name := fmt.Sprintf("%s %s - %s %s", l.A, l.APort, l.B, l.BPort)
		if prev, ok := used[a]; ok {
			if prev == fmt.Sprintf("%s %s - %s %s", l.B, l.BPort, l.A, l.APort) || prev == name {
				continue // the same link, seen from the other end
			}
			return nil, fmt.Errorf("link %s: port %s of %s is also in link %s", name, l.APort, l.A, prev)
		}
		if prev, ok := used[b]; ok {
			return nil, fmt.Errorf("link %s: port %s of %s is also in link %s", name, l.BPort, l.B, prev)
		}
		for _, end := range [][2]string{a, b} {
			if err := linuxName(end[1]); err != nil {
				return nil, fmt.Errorf("link %s: device %s: %w", name, end[0], err)
			}
		}
		used[a], used[b] = name, name
		out = append(out, l)
	}
	return out, nil
}

// linuxName checks that port can be a Linux interface name, as FRR
// configs name their ports (eth1, swp1).
func linuxName(port string) error {
	if port == "" || len(port) > 15 || strings.ContainsAny(port, "/: \t") || port == "lo" {
		return fmt.Errorf("port %q is not a Linux interface name (at most 15 characters, no '/', ':' or spaces)", port)
	}
	return nil
}

// runID is a random name part that tells this run's namespaces from
// anything else on the machine.
func runID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sortSessions orders sessions by device, then neighbor.
func sortSessions(s []Session) {
	slices.SortFunc(s, func(a, b Session) int {
		if c := strings.Compare(a.Device, b.Device); c != 0 {
			return c
		}
		return strings.Compare(a.Neighbor, b.Neighbor)
	})
}
