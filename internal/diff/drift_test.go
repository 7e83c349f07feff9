package diff

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDriftFiles: every status, running configs found under each name a
// folder may give them, and a bad one reported on its device.
func TestDriftFiles(t *testing.T) {
	d := defaultDiffer(t)
	out, run := t.TempDir(), t.TempDir()
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{"same", "conf", "drift", "gone", "junos", "bad"} {
		write(out, h+".cfg", "hostname "+h+"\ninterface Gi1\n description up\n")
	}
	write(out, "junos.cfg", "set system host-name junos\n")
	write(out, "notes.txt", "not a device")
	write(run, "same.cfg", "hostname same\ninterface Gi1\n description up\n")
	write(run, "conf.conf", "hostname conf\n!\ninterface Gi1\n description up\n")
	write(run, "drift.txt", "hostname drift\ninterface Gi1\n description down\n")
	write(run, "junos", "set system host-name junos-old\n")
	write(run, "bad.cfg", "hostname bad\x00\n")
	targets, err := Targets(out)
	if err != nil || len(targets) != 6 {
		t.Fatalf("Targets = %v, %v; want the six .cfg files", targets, err)
	}
	dr := d.DriftFiles(targets, run)
	want := map[string]string{"same": InSync, "conf": InSync, "drift": Drifted, "gone": Missing, "junos": Drifted, "bad": Failed}
	for _, dd := range dr.Devices {
		if dd.Status != want[dd.Hostname] {
			t.Errorf("%s: %s (%s), want %s", dd.Hostname, dd.Status, dd.Error, want[dd.Hostname])
		}
	}
	if dr.InSync != 2 || dr.Drifted != 2 || dr.Missing != 1 || dr.Errors != 1 {
		t.Errorf("counts %d/%d/%d/%d, want 2 in sync, 2 drifted, 1 missing, 1 error", dr.InSync, dr.Drifted, dr.Missing, dr.Errors)
	}
	for _, dd := range dr.Devices {
		if dd.Hostname == "junos" && dd.Result.Text() != "set system host-name junos\n" {
			t.Errorf("junos remediation %q", dd.Result.Text())
		}
	}
}
