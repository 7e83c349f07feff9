package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"netsmith/internal/diff"
	"netsmith/internal/fleet"
)

// DriftSummary is batch --running in summary.json: the batch's configs held
// against the devices' running configs.
type DriftSummary struct {
	Running string   `json:"running"`
	InSync  int      `json:"in_sync"`
	Drifted int      `json:"drifted"`
	Missing int      `json:"missing"`
	Errors  int      `json:"errors,omitempty"`
	Devices []string `json:"drifted_devices,omitempty"` // HOSTNAME.diff written for each
	Absent  []string `json:"missing_devices,omitempty"`
	Failed  []string `json:"error_devices,omitempty"` // "HOSTNAME: why"
}

// checkRunningDir refuses a --running that is not a folder before anything
// is queued or paid for.
func checkRunningDir(dir string) error {
	if dir == "" {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return usagef("--running: %v", err)
	}
	if !st.IsDir() {
		return usagef("--running: %s is not a folder", dir)
	}
	return nil
}

// driftBatch compares the configs the batch wrote to out with the running
// configs in runDir, writes out/HOSTNAME.diff for each drifted device, and
// removes the .diff of every other, so that out says what is to do now.
func driftBatch(out, runDir string, fl *fleet.Fleet, failed []failedDevice) (*DriftSummary, error) {
	skip := make(map[string]bool, len(failed))
	for _, f := range failed {
		skip[f.Hostname] = true
	}
	var targets []diff.Target
	for _, r := range fl.Devices {
		h := r.Device.Hostname
		if !skip[h] {
			targets = append(targets, diff.Target{Hostname: h, Platform: r.Device.Platform, Intended: filepath.Join(out, h+".cfg")})
		}
	}
	d, err := diff.Default()
	if err != nil {
		return nil, err
	}
	dr := d.DriftFiles(targets, runDir)
	s := &DriftSummary{Running: runDir, InSync: dr.InSync, Drifted: dr.Drifted, Missing: dr.Missing, Errors: dr.Errors}
	for _, dd := range dr.Devices {
		switch dd.Status {
		case diff.Drifted:
			s.Devices = append(s.Devices, dd.Hostname)
		case diff.Missing:
			s.Absent = append(s.Absent, dd.Hostname)
		case diff.Failed:
			s.Failed = append(s.Failed, dd.Hostname+": "+dd.Error)
		}
	}
	return s, writeDiffs(out, dr)
}

func (s *DriftSummary) print(w io.Writer, out string) {
	if s == nil {
		return
	}
	fmt.Fprintf(w, "drift against %s: %d in sync, %d drifted, %d missing", s.Running, s.InSync, s.Drifted, s.Missing)
	if s.Errors > 0 {
		fmt.Fprintf(w, ", %d errors", s.Errors)
	}
	if s.Drifted > 0 {
		fmt.Fprintf(w, " (remediation in %s)", filepath.Join(out, "HOSTNAME.diff"))
	}
	fmt.Fprintln(w)
}
