package netcfg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJobRequestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		wantField string // "" means valid
	}{
		{"generate ok", `{"kind":"generate","device":{"hostname":"sw1","platform":"cisco_xe","vars":{"mgmt_ip":"10.0.0.1/24","vlans":[{"id":10},20]}},"requirements":"ssh only"}`, ""},
		{"analyze ok", `{"kind":"analyze","platform":"ARISTA_EOS","config":"hostname x"}`, ""},
		{"no kind", `{}`, "kind"},
		{"bad kind", `{"kind":"deploy"}`, "kind"},
		{"no device", `{"kind":"generate","requirements":"x"}`, "device"},
		{"bad hostname", `{"kind":"generate","device":{"hostname":"../etc","platform":"cisco_ios"},"requirements":"x"}`, "device.hostname"},
		{"no platform", `{"kind":"generate","device":{"hostname":"a"},"requirements":"x"}`, "device.platform"},
		{"bad platform", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_asa"},"requirements":"x"}`, "device.platform"},
		{"no requirements", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"}}`, "requirements"},
		{"vlan range", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"vlans":[10,4095]}},"requirements":"x"}`, "device.vars.vlans.1"},
		{"vlan map", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"vlans":[{"id":0,"name":"X"}]}},"requirements":"x"}`, "device.vars.vlans.0.id"},
		{"bad mgmt ip", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"mgmt_ip":"10.0.0.300/24"}},"requirements":"x"}`, "device.vars.mgmt_ip"},
		{"mgmt ip without prefix", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"mgmt_ip":"10.0.0.1"}},"requirements":"x"}`, "device.vars.mgmt_ip"},
		{"bad uplink ip", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios","vars":{"uplinks":[{"port":"Gi1","ip":"x"}]}},"requirements":"x"}`, "device.vars.uplinks.0.ip"},
		{"bad asn", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"asn":0}},"requirements":"x"}`, "device.vars.asn"},
		{"ntp by name", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"ntp_servers":["10.0.0.1","ntp"]}},"requirements":"x"}`, ""},
		{"inventory values", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"syslog_servers":[{"address":"log1.example.net","port":514,"vrf":"MGMT"}],"tacacs_servers":[{"host":"t1","key":"vault:k"}],"vlans":[{"id":110,"name":"WEB"}],"name_servers":["2001:db8::53"]}},"requirements":"x"}`, ""},
		{"literal key is a warning only", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"tacacs_servers":[{"host":"t1","key":"s3cr3t"}],"mgmt_gatway":"10.0.0.1"}},"requirements":"x"}`, ""},
		{"tacacs port", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"tacacs_servers":[{"host":"t0"},{"host":"t1","port":70000}]}},"requirements":"x"}`, "device.vars.tacacs_servers.1.port"},
		{"bad ntp", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"ntp_servers":["10.0.0.1","ntp server"]}},"requirements":"x"}`, "device.vars.ntp_servers.1"},
		{"cache ttl hours", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"72h"}`, ""},
		{"cache ttl minimum", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"1m"}`, ""},
		{"cache ttl maximum", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"8760h"}`, ""},
		{"cache ttl negative", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"-1h"}`, "cache_ttl"},
		{"cache ttl under a minute", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"59s"}`, "cache_ttl"},
		{"cache ttl over a year", `{"kind":"generate","device":{"hostname":"a","platform":"cisco_ios"},"requirements":"x","cache_ttl":"8760h1s"}`, "cache_ttl"},
		{"analyze no config", `{"kind":"analyze","platform":"cisco_ios"}`, "config"},
		{"analyze no platform", `{"kind":"analyze","config":"x"}`, "platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r JobRequest
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			err := r.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want *FieldError for %s", err, tt.wantField)
			}
			if fe.Field != tt.wantField {
				t.Errorf("field = %q (%v), want %q", fe.Field, err, tt.wantField)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		text string // String() of the parsed value
	}{
		{"72h", 72 * time.Hour, "72h"},
		{"30m", 30 * time.Minute, "30m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"90s", 90 * time.Second, "1m30s"},
		{"1h0m30s", time.Hour + 30*time.Second, "1h0m30s"},
		{" 2h ", 2 * time.Hour, "2h"},
		{"-1h", -time.Hour, "-1h"},
		{"0", 0, "0s"},
	}
	for _, tt := range tests {
		var d Duration
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &d); err != nil {
			t.Errorf("Unmarshal(%q) = %v", tt.in, err)
			continue
		}
		if time.Duration(d) != tt.want || d.String() != tt.text {
			t.Errorf("Unmarshal(%q) = %v (%s), want %v (%s)", tt.in, time.Duration(d), d, tt.want, tt.text)
		}
		b, err := json.Marshal(d)
		var back Duration
		if err != nil || json.Unmarshal(b, &back) != nil || back != d {
			t.Errorf("round trip of %q: %s, %v -> %v", tt.in, b, err, time.Duration(back))
		}
	}
	for _, bad := range []string{`"3 days"`, `"72"`, `""`, `3600`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, time.Duration(d))
		}
	}
	// Unset, it is left out of a request.
	b, err := json.Marshal(JobRequest{Kind: KindAnalyze})
	if err != nil || strings.Contains(string(b), "cache_ttl") {
		t.Errorf("Marshal(JobRequest without CacheTTL) = %s, %v; want no cache_ttl", b, err)
	}
}
