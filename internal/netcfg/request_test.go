package netcfg

import (
	"encoding/json"
	"errors"
	"testing"
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
		{"bad ntp", `{"kind":"generate","device":{"hostname":"a","platform":"arista_eos","vars":{"ntp_servers":["10.0.0.1","ntp"]}},"requirements":"x"}`, "device.vars.ntp_servers.1"},
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
