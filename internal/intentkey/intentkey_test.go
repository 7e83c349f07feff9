package intentkey

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
)

func base() KeyInput {
	return KeyInput{
		Kind:         "generate",
		Role:         "access",
		Platform:     "cisco_xe",
		OSVersion:    "17.9",
		Requirements: "Layer-2 access switch. VLANs 10, 20, 30. SSH v2 only.",
		Constants: map[string]any{
			"domain": "example.net",
			"ntp":    []any{"10.0.0.1", "10.0.0.2"},
			"stp":    map[string]any{"mode": "rapid-pvst", "priority": 4096},
		},
		VarNames:      []string{"hostname", "mgmt_ip", "uplinks"},
		Model:         "claude-sonnet-4-5",
		PromptVersion: "v1",
	}
}

func TestKeyEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*KeyInput)
	}{
		{"requirements normalized", func(in *KeyInput) {
			in.Requirements = "layer-2 access switch\nvlans 30,20,10\n\nssh v2 only"
		}},
		{"role and platform case", func(in *KeyInput) { in.Role, in.Platform = " Access ", "CISCO_XE" }},
		{"kind case", func(in *KeyInput) { in.Kind = "Generate" }},
		{"os version spaces", func(in *KeyInput) { in.OSVersion = " 17.9 " }},
		{"var names order and duplicates", func(in *KeyInput) {
			in.VarNames = []string{"uplinks", "hostname", "mgmt_ip", "hostname"}
		}},
		{"constants int as float", func(in *KeyInput) {
			in.Constants = map[string]any{
				"domain": "example.net",
				"ntp":    []string{"10.0.0.1", "10.0.0.2"},
				"stp":    map[string]any{"priority": 4096.0, "mode": "rapid-pvst"},
			}
		}},
		{"constants json numbers", func(in *KeyInput) {
			in.Constants = map[string]any{
				"domain": "example.net",
				"ntp":    []any{"10.0.0.1", "10.0.0.2"},
				"stp":    map[string]any{"mode": "rapid-pvst", "priority": json.Number("4096.0")},
			}
		}},
		{"constants yaml any keys", func(in *KeyInput) {
			in.Constants = map[string]any{
				"domain": "example.net",
				"ntp":    []any{"10.0.0.1", "10.0.0.2"},
				"stp":    map[any]any{"mode": "rapid-pvst", "priority": uint16(4096)},
			}
		}},
		{"constants typed map", func(in *KeyInput) {
			in.Constants = map[string]any{
				"domain": "example.net",
				"ntp":    [2]string{"10.0.0.1", "10.0.0.2"},
				"stp":    map[string]any{"mode": "rapid-pvst", "priority": int64(4096)},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := base()
			in := base()
			tt.modify(&in)
			if got, w := Key(in), Key(want); got != w {
				t.Errorf("keys differ\n got %s\n%s\nwant %s\n%s", got, Canonical(in), w, Canonical(want))
			}
		})
	}
}

func TestKeyNilConstants(t *testing.T) {
	t.Parallel()
	a, b := base(), base()
	a.Constants, b.Constants = nil, map[string]any{}
	if Key(a) != Key(b) {
		t.Errorf("nil and empty constants give different keys:\n%s\n%s", Canonical(a), Canonical(b))
	}
}

func TestKeyNotEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*KeyInput)
	}{
		{"kind", func(in *KeyInput) { in.Kind = "analyze" }},
		{"role", func(in *KeyInput) { in.Role = "distribution" }},
		{"platform", func(in *KeyInput) { in.Platform = "cisco_ios" }},
		{"os version", func(in *KeyInput) { in.OSVersion = "17.12" }},
		{"os version case", func(in *KeyInput) { in.OSVersion = "17.9A" }},
		{"requirements vlan", func(in *KeyInput) {
			in.Requirements = "Layer-2 access switch. VLANs 10, 20, 31. SSH v2 only."
		}},
		{"model", func(in *KeyInput) { in.Model = "claude-haiku-4-5" }},
		{"prompt version", func(in *KeyInput) { in.PromptVersion = "v2" }},
		{"var names", func(in *KeyInput) { in.VarNames = []string{"hostname", "mgmt_ip"} }},
		{"constant number", func(in *KeyInput) {
			in.Constants["stp"] = map[string]any{"mode": "rapid-pvst", "priority": 8192}
		}},
		{"constant number as string", func(in *KeyInput) {
			in.Constants["stp"] = map[string]any{"mode": "rapid-pvst", "priority": "4096"}
		}},
		{"constant float", func(in *KeyInput) {
			in.Constants["stp"] = map[string]any{"mode": "rapid-pvst", "priority": 4096.5}
		}},
		{"constant list order", func(in *KeyInput) { in.Constants["ntp"] = []any{"10.0.0.2", "10.0.0.1"} }},
		{"constant string case", func(in *KeyInput) { in.Constants["domain"] = "Example.net" }},
		{"constant key", func(in *KeyInput) { in.Constants["domain_name"] = in.Constants["domain"] }},
		{"constant null vs missing", func(in *KeyInput) { in.Constants["extra"] = nil }},
		{"constant nan", func(in *KeyInput) { in.Constants["x"] = math.NaN() }},
		{"constant big json number", func(in *KeyInput) {
			in.Constants["x"] = json.Number("123456789012345678901234567890")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			tt.modify(&in)
			if got, w := Key(in), Key(base()); got == w {
				t.Errorf("keys equal, want different\n%s", Canonical(in))
			}
		})
	}
}

func TestKeyFormat(t *testing.T) {
	t.Parallel()
	k := Key(base())
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(k) {
		t.Errorf("Key = %q, want 64 lowercase hex digits", k)
	}
	for range 20 { // map iteration order must not matter
		if got := Key(base()); got != k {
			t.Fatalf("Key not deterministic: %s then %s", k, got)
		}
	}
}

// TestCanonicalGolden pins the document format: a change here changes every
// key in every cache, so it must come with a bump of Version.
func TestCanonicalGolden(t *testing.T) {
	t.Parallel()
	want := `{"constants":{"domain":"example.net","ntp":["10.0.0.1","10.0.0.2"],"stp":{"mode":"rapid-pvst","priority":4096}},` +
		`"key_version":"ik1","kind":"generate","model":"claude-sonnet-4-5","os_version":"17.9","platform":"cisco_xe",` +
		`"prompt_version":"v1","requirements":"layer-2 access switch vlans 10,20,30 ssh v2 only","role":"access",` +
		`"var_names":["hostname","mgmt_ip","uplinks"]}`
	if got := string(Canonical(base())); got != want {
		t.Errorf("Canonical =\n%s\nwant\n%s", got, want)
	}
	var v any
	if err := json.Unmarshal(Canonical(base()), &v); err != nil {
		t.Errorf("Canonical is not valid JSON: %v", err)
	}
}

func TestKeyCyclicConstants(t *testing.T) {
	t.Parallel()
	m := map[string]any{}
	m["self"] = m
	in := base()
	in.Constants = m
	if k := Key(in); k == Key(base()) {
		t.Errorf("cyclic constants hashed like other constants")
	}
}

func BenchmarkKey(b *testing.B) {
	in := base()
	in.Requirements = `Layer-2 access switch. Dual uplinks as an LACP trunk to the distribution pair.
Access ports in the data VLAN with a voice VLAN, portfast and bpduguard. SSH v2 only.
Trunk VLANs 10, 20, 30, 99 on the uplinks; native VLAN 99. NTP from the group constants.
Banner "Authorized access only". Syslog to 10.0.0.50. MTU 9216 on uplinks.`
	b.ReportAllocs()
	for b.Loop() {
		Key(in)
	}
}

func TestWriteStringMatchesJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uote\back`, "ctl\x00\x1f\n\t", "utf8 ü €", "bad \xff utf8", "<html>&"} {
		var b strings.Builder
		writeString(&b, s)
		var got string
		if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
			t.Fatalf("writeString(%q) = %s: not JSON: %v", s, b.String(), err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want {
			t.Errorf("writeString(%q) decodes to %q, want %q", s, got, want)
		}
	}
}
