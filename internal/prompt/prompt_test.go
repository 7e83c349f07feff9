package prompt

import (
	"flag"
	"netsmith/internal/golden"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var specs = map[string]Spec{
	"config": {
		Task: TaskConfig, Platform: "cisco_xe", Role: "access", OSVersion: "17.9",
		Requirements: "Layer-2 access switch. Dual uplinks as an LACP trunk. SSH v2 only.",
		Constants:    map[string]any{"domain_name": "example.net"},
		Hostname:     "bld1-fl1-acc01",
		Vars: map[string]any{
			"mgmt_ip": "10.99.1.11/24",
			"uplinks": []any{map[string]any{"port": "TenGigabitEthernet1/1/1", "peer": "bld1-dist01", "peer_port": "Te1/0/11"}},
			"vlans":   []any{10, 20, 99},
		},
	},
	"template": {
		Task: TaskTemplate, Platform: "arista_eos", Role: "leaf",
		Requirements: "EVPN/VXLAN L3 leaf, eBGP underlay to 2 spines",
		Vars:         map[string]any{"hostname": "dc1-leaf1a", "asn": 65101, "loopback0": "10.255.0.3/32"},
		Feedback:     []string{"line 3: hard-coded hostname dc1-leaf1a"},
	},
	"frr": {
		Task: TaskTemplate, Platform: "frr", Role: "leaf", OSVersion: "8.4",
		Requirements: "eBGP leaf on routed /31 uplinks to both spines, loopback0 advertised",
		Vars:         map[string]any{"hostname": "fab-leaf1", "asn": 65101, "loopback0": "10.0.0.11/32"},
	},
	"analyze": {Task: TaskAnalyze, Platform: "cisco_ios", Config: "hostname r1\nline vty 0 4\n transport input telnet\n"},
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := Build(spec, "claude-test", 4096)
			if err != nil {
				t.Fatal(err)
			}
			got := "SYSTEM:\n" + req.System + "\n\nUSER:\n" + req.Messages[0].Content + "\n"
			// A change here is a change of the prompt: bump Version with it.
			golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
			back, ok := Parse(req.Messages[0].Content)
			if !ok {
				t.Fatal("Parse found no spec in the built prompt")
			}
			if diff := cmp.Diff(normalize(t, spec), normalize(t, back)); diff != "" {
				t.Errorf("Parse(Build(spec)) differs (-want +got):\n%s", diff)
			}
		})
	}
}

// normalize round-trips s through JSON so numbers compare equal.
func normalize(t *testing.T, s Spec) Spec {
	t.Helper()
	req, err := Build(s, "m", 1)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := Parse(req.Messages[0].Content)
	return out
}

func TestExtractBlock(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Here:\n```\nhostname a\n```\nthanks", "hostname a\n"},
		{"```cisco\nhostname a\n!\n```", "hostname a\n!\n"},
		{"hostname a", "hostname a\n"},
		{"```\nhostname a\n", "hostname a\n"},
		{"```text\n```\n```\nsecond\n```", "\n"},
	}
	for _, tt := range tests {
		if got := ExtractBlock(tt.in); got != tt.want {
			t.Errorf("ExtractBlock(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "no spec here", "```json netsmith-spec\n{not json\n```", "```json netsmith-spec\n{}"} {
		if _, ok := Parse(in); ok {
			t.Errorf("Parse(%q) = ok, want false", in)
		}
	}
}
