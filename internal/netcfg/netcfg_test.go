package netcfg

import "testing"

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
	}
	for _, tt := range tests {
		err := ValidateHostname(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ValidateHostname(%q) = %v, want error %v", tt.in, err, tt.wantErr)
		}
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
