// Package frrtest checks configs with FRRouting's own parser for tests:
// vtysh --dryrun reads a config as vtysh -b would at boot and names every
// line no daemon has a command for. A test skips when FRR is not installed,
// unless CI is set, where it fails: CI installs FRR, so a skip there would
// hide a config FRR rejects.
package frrtest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Vtysh returns the path of vtysh, or skips (fails when CI is set) when FRR
// is not installed.
func Vtysh(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("vtysh")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("vtysh not found (FRR is required when CI is set): %v", err)
		}
		tb.Skip("vtysh not found: FRR is not installed; skipping (it is required when CI is set)")
	}
	return path
}

// Check fails tb, naming file and FRR's messages, unless vtysh accepts the
// config in file as it stands.
func Check(tb testing.TB, vtysh, file string) {
	tb.Helper()
	if msg, err := Dryrun(vtysh, file); err != nil {
		tb.Errorf("%s: FRR rejects the config (%v):\n%s", file, err, msg)
	}
}

// Dryrun runs vtysh --dryrun on file and returns what it printed, with an
// error when it refused a line.
func Dryrun(vtysh, file string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(vtysh, "--dryrun", "--inputfile", file)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}
