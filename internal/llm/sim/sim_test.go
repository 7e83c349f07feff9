package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"

	"netsmith/internal/golden"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// answer builds the prompt for s as a worker would and returns the body of
// sim's reply.
func answer(t testing.TB, s prompt.Spec) string {
	t.Helper()
	req, err := prompt.Build(s, "sim-1", 4096)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	reply := Answer(req)
	if n := strings.Count(reply, "```"); n != 2 {
		t.Fatalf("reply has %d fences, want exactly one block:\n%s", n, reply)
	}
	return prompt.ExtractBlock(reply)
}

// render executes tmpl the way the service does: built-in actions only,
// missingkey=error, on DeriveVars of the device's vars.
func render(t testing.TB, tmpl string, vars map[string]any) string {
	t.Helper()
	tp, err := template.New("answer").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("parse template: %v\n%s", err, tmpl)
	}
	var b bytes.Buffer
	if err := tp.Execute(&b, netcfg.DeriveVars(vars)); err != nil {
		t.Fatalf("execute template: %v", err)
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got, *update)
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, in := range intents() {
		t.Run("template_"+in.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, "template_"+in.name, answer(t, templateSpec(in)))
		})
		for _, d := range in.devices {
			t.Run("config_"+d.hostname, func(t *testing.T) {
				t.Parallel()
				checkGolden(t, "config_"+d.hostname, answer(t, configSpec(in, d)))
			})
		}
	}
}

// TestTemplateMatchesConfig checks the contract of docs/design.md §3 for the
// sim: the template for an intent, rendered with a device's own vars, is
// exactly the config sim writes for that device.
func TestTemplateMatchesConfig(t *testing.T) {
	t.Parallel()
	for _, in := range intents() {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			tmpl := answer(t, templateSpec(in))
			if !strings.Contains(tmpl, "{{") {
				t.Errorf("template has no actions:\n%s", tmpl)
			}
			for _, d := range in.devices {
				got := render(t, tmpl, renderVars(d))
				want := answer(t, configSpec(in, d))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: rendered template differs from config (-config +rendered):\n%s", d.hostname, diff)
				}
			}
		})
	}
}

func TestAnswerDeterministic(t *testing.T) {
	t.Parallel()
	for _, in := range intents() {
		specs := []prompt.Spec{templateSpec(in)}
		for _, d := range in.devices {
			specs = append(specs, configSpec(in, d))
		}
		for _, s := range specs {
			req, err := prompt.Build(s, "sim-1", 4096)
			if err != nil {
				t.Fatal(err)
			}
			first := Answer(req)
			for range 20 { // map iteration order changes between runs
				if got := Answer(req); got != first {
					t.Fatalf("%s %s %s: answer changed between calls:\n%s", in.name, s.Task, s.Hostname, cmp.Diff(first, got))
				}
			}
		}
	}
}

func TestAnswerWithoutSpec(t *testing.T) {
	t.Parallel()
	got := Answer(llm.Request{Messages: []llm.Message{{Role: "user", Content: "write me a config"}}})
	if !strings.Contains(got, "no netsmith-spec block") || strings.Count(got, "```") != 2 {
		t.Errorf("Answer = %q, want one block saying the spec is missing", got)
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	in := intents()[0]
	req, err := prompt.Build(configSpec(in, in.devices[0]), "", 4096)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		c := New(Config{Latency: 1500 * time.Millisecond})
		start := time.Now()
		resp, err := c.Generate(t.Context(), req)
		if err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if got := time.Since(start); got != 1500*time.Millisecond {
			t.Errorf("Generate took %v, want the latency 1.5s", got)
		}
		want := &llm.Response{
			Provider:   "sim",
			Model:      "sim-1",
			Text:       Answer(req),
			StopReason: "end_turn",
			Usage: llm.Usage{
				InputTokens:  CountTokens(req.System) + CountTokens(req.Messages[0].Content),
				OutputTokens: CountTokens(Answer(req)),
			},
		}
		if diff := cmp.Diff(want, resp); diff != "" {
			t.Errorf("Generate (-want +got):\n%s", diff)
		}
		if resp.Usage.InputTokens < 100 || resp.Usage.OutputTokens < 100 {
			t.Errorf("usage %+v looks too small for a config exchange", resp.Usage)
		}
	})
}

func TestGenerateHonoursContext(t *testing.T) {
	t.Parallel()
	req := llm.Request{Model: "m", Messages: []llm.Message{{Role: "user", Content: "x"}}}
	for _, latency := range []time.Duration{0, time.Hour} {
		t.Run("canceled before, latency "+latency.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			resp, err := New(Config{Latency: latency}).Generate(ctx, req)
			if !errors.Is(err, context.Canceled) || resp != nil {
				t.Errorf("Generate = %v, %v; want nil, context.Canceled", resp, err)
			}
		})
	}
	t.Run("deadline during latency", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			resp, err := New(Config{Latency: time.Minute}).Generate(ctx, req)
			if !errors.Is(err, context.DeadlineExceeded) || resp != nil {
				t.Errorf("Generate = %v, %v; want nil, context.DeadlineExceeded", resp, err)
			}
			if got := time.Since(start); got != 2*time.Second {
				t.Errorf("Generate returned after %v, want at the 2s deadline", got)
			}
		})
	})
}

// TestRenderOddVars feeds vars of unexpected shapes: nothing panics, the
// config keeps its hostname and the template still parses.
func TestRenderOddVars(t *testing.T) {
	t.Parallel()
	odd := []map[string]any{
		nil,
		{"mgmt_ip": "not-an-address", "uplinks": "Gi0/1", "vlans": "10,20"},
		{"mgmt_ip": 42, "uplinks": []any{"Gi0/1", 7}, "vlans": []any{nil, "x"}, "asn": "65000"},
		{"uplinks": []any{map[string]any{"peer": "x"}, nil}, "bgp_neighbors": []any{map[string]any{"ip": 1}}, "loopback0": "10.0.0.1"},
		{"ntp_servers": "10.0.0.1", "logging_hosts": map[string]any{"a": 1}, "hostname": []any{"a"}, "enable_secret": ""},
		{"loopback00": "10.0.0.1/32", "loopback7": "fe80::1/64", "asn": 1e20, "mlag_ports": 3, "access_ports": []any{}},
		{"tacacs_servers": "10.0.0.41", "radius_servers": []any{map[string]any{"port": 1812}, 7}, "downlinks": []any{map[string]any{"ip": 5}},
			"evpn_peers": []any{"x"}, "vrfs": map[string]any{"name": "A"}, "vlans": []any{map[string]any{"id": 10, "svi_ip": "fe80::1/64", "vrf": 3}}},
		{"tacacs_servers": []any{map[string]any{"address": []any{1}, "key": map[string]any{}}}, "downlinks": []any{map[string]any{"port": "e1", "port_channel": "x"}},
			"vrfs": []any{map[string]any{"vni": 1}}, "asn": 1, "mlag_ip": "10.0.0.1/31", "mlag_peer_ip": "10.0.0.0", "native_vlan": []any{}, "dhcp_relays": 4},
	}
	reqs := "LACP, portfast, bpduguard, voice VLAN, MLAG with peer-1, EVPN/VXLAN, OSPF, BGP, access ports"
	for _, platform := range []string{"cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "juniper_junos", "frr", "", "vyos"} {
		for i, vars := range odd {
			s := prompt.Spec{Task: prompt.TaskConfig, Platform: platform, Role: "leaf", Requirements: reqs, Hostname: "sw1", Vars: vars}
			if cfg := Render(s); !strings.Contains(cfg, "sw1") {
				t.Errorf("%s #%d: config lacks the hostname:\n%s", platform, i, cfg)
			}
			s.Task = prompt.TaskTemplate
			if _, err := template.New("").Option("missingkey=error").Parse(Render(s)); err != nil {
				t.Errorf("%s #%d: template does not parse: %v", platform, i, err)
			}
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("cisco_xe", "LACP trunk, voice VLAN, portfast", `{"vlans":[{"id":10,"name":"DATA"}],"uplinks":[{"port":"Te1/1/1","peer":"d1"}],"mgmt_ip":"10.0.0.2/24"}`)
	f.Add("arista_eos", "EVPN MLAG OSPF", `{"asn":65001,"loopback0":"10.0.0.1/32","vlans":[10,20],"uplinks":[{"port":"Ethernet1","ip":"10.1.0.1/31","peer_ip":"10.1.0.0","peer_asn":65000}]}`)
	f.Add("juniper_junos", "lacp bpduguard", `{"vlans":[{"id":"x","name":{"a":1}}],"uplinks":[{"port":"{{.x}}"}],"banner":"a\"b"}`)
	f.Add("frr", "bfd default route only", `{"asn":65101,"loopback0":"10.0.0.3/32","loopback1":"x","uplinks":[{"port":"eth1","ip":"10.1.0.1/31","peer_ip":"10.1.0.0","peer_asn":65000}],"bgp_neighbors":[{"ip":7}]}`)
	f.Add("cisco_nxos", "vpc evpn", `{"mlag_peer_ip":"1.1.1.1","mgmt_ip":"::1/128","vlans":[[1]]}`)
	f.Add("arista_eos", "MLAG EVPN anycast", `{"asn":65101,"loopback0":"10.0.0.3/32","mlag_ip":"10.1.0.0/31","mlag_peer_ip":"10.1.0.1","tacacs_servers":[{"address":"10.0.0.41","key":"vault:k"}],"downlinks":[{"port":"Ethernet1","port_channel":11,"peer":"l2"}],"evpn_peers":[{"ip":"10.0.0.1","asn":65100}],"vlans":[{"id":110,"svi_ip":"10.1.10.1/24","vrf":"A","vni":10110}],"vrfs":[{"name":"A","vni":50001}]}`)
	f.Add("juniper_junos", "vrrp evpn", `{"asn":65101,"vlans":[{"id":110,"svi_ip":"10.1.10.2/24","vrf":"A","virtual_ip":"10.1.10.1"}],"vrfs":[{"name":"A","vni":5}],"radius_servers":["r1"],"downlinks":[{"port":"xe-0/0/1","ip":"10.0.0.0/31","peer_ip":"10.0.0.1","peer_asn":65000}]}`)
	f.Fuzz(func(t *testing.T, platform, req, vars string) {
		s := prompt.Spec{Task: prompt.TaskConfig, Platform: platform, Role: "access", Requirements: req, Hostname: "h"}
		if err := json.Unmarshal([]byte(vars), &s.Vars); err != nil {
			t.Skip()
		}
		cfg := Render(s)

		// The template over the same vars renders to the same config, unless
		// the vars are too irregular to render at all (a list mixing maps
		// and scalars).
		s.Task = prompt.TaskTemplate
		s.Vars = with(s.Vars, map[string]any{"hostname": "h"})
		tp, err := template.New("").Option("missingkey=error").Parse(Render(s))
		if err != nil {
			t.Fatalf("template does not parse: %v", err)
		}
		var b bytes.Buffer
		if err := tp.Execute(&b, netcfg.DeriveVars(s.Vars)); err != nil {
			t.Skip()
		}
		if diff := cmp.Diff(cfg, b.String()); diff != "" {
			t.Errorf("template rendered with its own example differs from the config (-config +rendered):\n%s", diff)
		}

		// Constants are written into the template as text.
		s.Constants, s.Vars = s.Vars, map[string]any{"hostname": "h"}
		if _, err := template.New("").Option("missingkey=error").Parse(Render(s)); err != nil {
			t.Errorf("template with constants does not parse: %v", err)
		}
	})
}

func BenchmarkAnswer(b *testing.B) {
	in := intents()[0]
	for _, s := range []prompt.Spec{configSpec(in, in.devices[0]), templateSpec(in)} {
		req, err := prompt.Build(s, "sim-1", 4096)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(s.Task), func(b *testing.B) {
			for b.Loop() {
				Answer(req)
			}
		})
	}
}
