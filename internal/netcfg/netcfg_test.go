package netcfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateHostname(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"bld1-fl1-acc01", false},
		{"dc1_leaf.1a", false},
		{"", true},
		{".hidden", true},
		{"a/b", true},
		{"a..b", true},
		{"../etc", true},
		{"a\x00b", true},
		{"-x", true},
		{"sw 1", true},
		{strings.Repeat("a", MaxHostnameLen), false},
		{strings.Repeat("a", MaxHostnameLen+1), true},
		{strings.Repeat("a", 253), true},
	}
	for _, tt := range tests {
		err := ValidateHostname(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ValidateHostname(%q) = %v, want error %v", tt.in, err, tt.wantErr)
		}
	}
}

// TestMaxHostnameFitsFileName writes HOSTNAME.cfg for the longest accepted
// hostname, so the limit is checked against the file system, not arithmetic.
func TestMaxHostnameFitsFileName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := strings.Repeat("h", MaxHostnameLen)
	if err := ValidateHostname(name); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".cfg"), nil, 0o644); err != nil {
		t.Fatalf("longest valid hostname is not a valid file name: %v", err)
	}
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	if p, err := ParsePlatform(" Arista_EOS "); err != nil || p != AristaEOS {
		t.Errorf("ParsePlatform = %q, %v; want arista_eos", p, err)
	}
	if _, err := ParsePlatform("cisco_asa"); err == nil {
		t.Error("ParsePlatform(cisco_asa) = nil error, want unknown platform")
	}
}

func TestJobStateFinal(t *testing.T) {
	t.Parallel()
	for _, s := range []JobState{StateQueued, StateRunning, StateRetrying} {
		if s.Final() {
			t.Errorf("%s.Final() = true", s)
		}
	}
	for _, s := range FinalStates {
		if !s.Final() {
			t.Errorf("%s.Final() = false", s)
		}
	}
}
