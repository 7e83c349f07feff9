package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"netsmith/internal/confparse"
	"netsmith/internal/emulate"
	"netsmith/internal/fleet"
	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

const emulateUsage = `Usage: netsmith emulate OUTDIR --fleet FILE [--json] [--timeout D] [--keep]

Boots the FRR configs OUTDIR/HOSTNAME.cfg as a network on this machine: one
network namespace per device, one veth pair per point-to-point link of the
fleet (uplinks/downlinks: port, peer, peer_port), zebra and bgpd (staticd,
bfdd when used) per device with its config. It waits until BGP sessions and
routes stop changing (or the timeout), then reports each session the configs
expect against Established with FRR's reason, each device's routes, a
loopback-to-loopback ping matrix and the time to converge. Devices whose
config is not FRR are skipped and listed. Everything it made is removed at
the end, also on Ctrl-C; with --keep the network stays up for inspection.

Needs Linux, root (or CAP_NET_ADMIN), FRR (apt-get install frr) and ping.

Exit status: 0 every session up and every loopback reachable, 1 otherwise,
2 bad flags or input, or no privilege or FRR.

Flags:
`

// runEmulate implements "netsmith emulate OUTDIR --fleet FILE" and returns
// the exit code.
func runEmulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fleetFlag := fs.String("fleet", "", "fleet `FILE` (YAML, CSV or JSON) the configs were made from (required)")
	jsonFlag := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 2*time.Minute, "longest wait for the network to converge")
	keep := fs.Bool("keep", false, "leave the namespaces and daemons running (the report names them)")
	pos, fail, code, done := parseCodeCommand(fs, emulateUsage, args, getenv, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 || *fleetFlag == "" {
		return fail("give OUTDIR and --fleet FILE (usage: netsmith emulate OUTDIR --fleet FILE [--json] [--timeout D] [--keep])")
	}
	fl, err := readFleetFlag(*fleetFlag)
	if err != nil {
		return fail("%v", err)
	}
	rep, err := emulateDir(ctx, pos[0], fl, emulate.Config{Timeout: *timeout, Keep: *keep})
	if err != nil {
		return fail("%v", err)
	}
	if *jsonFlag {
		if err := printJSON(stdout, rep); err != nil {
			return fail("%v", err)
		}
	} else {
		printEmulate(stdout, rep)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// emulateDir emulates the configs DIR/HOSTNAME.cfg of fl's devices with the
// fleet's links. A device whose config is FRR is emulated whatever platform
// the fleet gives it; a device without a config file is skipped.
func emulateDir(ctx context.Context, dir string, fl *fleet.Fleet, cfg emulate.Config) (*emulate.Report, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	var missing []emulate.Skipped
	frr := 0
	for _, r := range fl.Devices {
		d := r.Device
		b, err := readOutFile(filepath.Join(dir, d.Hostname+".cfg"))
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, emulate.Skipped{Hostname: d.Hostname, Reason: "no " + d.Hostname + ".cfg in " + dir})
			continue
		}
		if err != nil {
			return nil, err
		}
		dev := emulate.Device{Hostname: d.Hostname, Platform: d.Platform, Config: string(b)}
		if lint.Detect(dev.Config) == confparse.FRR {
			dev.Platform = confparse.FRR
			frr++
		}
		cfg.Devices = append(cfg.Devices, dev)
	}
	// The files are read first so that a bad one is named with or without
	// FRR and the rights to boot it.
	if err := emulate.Check(cfg.FRRDir); err != nil {
		return nil, err
	}
	if frr == 0 {
		return nil, fmt.Errorf("%s holds no FRR config of the fleet's %d devices: only FRR is emulated", dir, len(fl.Devices))
	}
	devs := make([]netcfg.Device, len(fl.Devices))
	for i, r := range fl.Devices {
		devs[i] = r.Device
	}
	cfg.Links = emulate.LinksFromFleet(devs)
	rep, err := emulate.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Skipped = append(rep.Skipped, missing...)
	return rep, nil
}

// printEmulate prints the report: what was skipped, the sessions that are
// down, the pairs that cannot reach each other, each device's routes and
// a total line.
func printEmulate(w io.Writer, rep *emulate.Report) {
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Hostname, s.Reason)
	}
	for _, s := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	for _, s := range rep.Down() {
		peer := ""
		if s.Peer != "" {
			peer = " (" + s.Peer + ")"
		}
		fmt.Fprintf(w, "session down: %s -> %s%s remote-as %s: %s", s.Device, s.Neighbor, peer, s.RemoteAS, s.State)
		if s.Reason != "" {
			fmt.Fprintf(w, ", %s", s.Reason)
		}
		if s.Notification != "" {
			fmt.Fprintf(w, " (last notification: %s)", s.Notification)
		}
		fmt.Fprintln(w)
	}
	for _, r := range rep.Reach {
		if !r.OK {
			fmt.Fprintf(w, "unreachable: %s %s -> %s %s\n", r.From, r.FromAddr, r.To, r.ToAddr)
		}
	}
	for _, host := range slices.Sorted(maps.Keys(rep.Routes)) {
		var rs []string
		for _, r := range rep.Routes[host] {
			if r.Protocol != "connected" && r.Protocol != "local" {
				rs = append(rs, fmt.Sprintf("%s %s via %s", r.Prefix, r.Protocol, strings.Join(r.Nexthops, ",")))
			}
		}
		fmt.Fprintf(w, "routes %s: %s\n", host, strings.Join(rs, "; "))
	}
	status := "converged"
	if !rep.Converged {
		status = "did not converge before the timeout"
	}
	fmt.Fprintf(w, "emulate: %d devices, %d links, %s in %.1fs; sessions %d/%d established; loopbacks %d/%d reachable; daemons' peak memory %d MiB\n",
		rep.Devices, rep.Links, status, float64(rep.ConvergeMS)/1000, rep.SessionsUp, len(rep.Sessions),
		len(rep.Reach)-rep.Unreachable, len(rep.Reach), rep.PeakRSS>>20)
	if len(rep.Namespaces) > 0 && rep.Dir != "" {
		if _, err := os.Stat(rep.Dir); err == nil {
			fmt.Fprintf(w, "kept: namespaces %s, files in %s; remove with: for ns in %s; do ip netns pids $ns | xargs -r kill; ip netns del $ns; done; rm -rf %s\n",
				strings.Join(rep.Namespaces, " "), rep.Dir, strings.Join(rep.Namespaces, " "), rep.Dir)
		}
	}
}

// emulateBatch runs emulate on a batch's configs when every device's
// config is FRR, and says why not otherwise. Sessions down or loopbacks
// unreachable are an error.
func emulateBatch(ctx context.Context, out string, fl *fleet.Fleet, stdout, stderr io.Writer) error {
	for _, r := range fl.Devices {
		b, err := readOutFile(filepath.Join(out, r.Device.Hostname+".cfg"))
		if err != nil {
			return fmt.Errorf("emulate: %w", err)
		}
		if lint.Detect(string(b)) != confparse.FRR {
			fmt.Fprintf(stderr, "emulate: not run: %s is %s, and only an all-FRR fleet is emulated\n", r.Device.Hostname, r.Device.Platform)
			return nil
		}
	}
	rep, err := emulateDir(ctx, out, fl, emulate.Config{})
	if err != nil {
		return fmt.Errorf("emulate %s: %w", out, err)
	}
	printEmulate(stdout, rep)
	if !rep.OK() {
		return fmt.Errorf("emulate: %d of %d sessions down, %d of %d loopback pairs unreachable", len(rep.Down()), len(rep.Sessions), rep.Unreachable, len(rep.Reach))
	}
	return nil
}
