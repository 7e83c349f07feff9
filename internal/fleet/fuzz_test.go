package fleet

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input panics, hangs or yields a fleet that breaks
// the invariants the batch code relies on, among them that every device's
// job passes the job's own validation.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/bad/*", "testdata/warn/*"} {
		files, _ := filepath.Glob(pattern)
		for _, path := range files {
			if data, err := os.ReadFile(path); err == nil && filepath.Ext(path) != ".golden" {
				f.Add(filepath.Ext(path), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		fl, err := Parser{MaxDevices: 1000}.Parse("fuzz"+ext, data)
		if err != nil {
			if fl != nil {
				t.Fatal("fleet returned with an error")
			}
			return
		}
		seen := map[string]bool{}
		for i, d := range fl.Devices {
			if d.IntentIndex < 0 || d.IntentIndex >= len(fl.Intents) {
				t.Fatalf("device %d: intent index %d out of range", i, d.IntentIndex)
			}
			if seen[d.Device.Hostname] {
				t.Fatalf("duplicate hostname %q accepted", d.Device.Hostname)
			}
			seen[d.Device.Hostname] = true
			if d.Device.Role == "" || d.Intent.Requirements == "" || d.Device.Platform == "" {
				t.Fatalf("device %q resolved without an intent: %+v", d.Device.Hostname, d.Intent)
			}
			if err := jobValidates(d); err != nil {
				t.Fatalf("device %q: the fleet parses but its job is refused: %v", d.Device.Hostname, err)
			}
		}
	})
}
