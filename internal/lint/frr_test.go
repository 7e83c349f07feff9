package lint

import (
	"regexp"
	"testing"

	"netsmith/internal/llm/sim"
	"netsmith/internal/prompt"
)

// TestSimFRRClean lints the FRR configs the sim writes, as a batch does:
// no findings, and Detect reads them as FRR. Without their route-maps the
// eBGP sessions are flagged, so the rule does run on them.
func TestSimFRRClean(t *testing.T) {
	t.Parallel()
	l, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	uplink := func(port, peer, ip, peerIP string, asn int) map[string]any {
		return map[string]any{"port": port, "peer": peer, "peer_port": "eth1", "ip": ip, "peer_ip": peerIP, "peer_asn": asn}
	}
	specs := []prompt.Spec{
		{Role: "leaf", Requirements: "eBGP leaf on routed /31 uplinks to both spines, BFD on every session.",
			Vars: map[string]any{"asn": 65101, "loopback0": "10.0.0.11/32", "uplinks": []any{
				uplink("eth1", "spine1", "10.1.0.1/31", "10.1.0.0", 65000), uplink("eth2", "spine2", "10.1.0.3/31", "10.1.0.2", 65000)}}},
		{Role: "spine", Requirements: "eBGP spine.",
			Vars: map[string]any{"asn": 65000, "loopback0": "10.0.0.1/32", "downlinks": []any{
				uplink("eth1", "leaf1", "10.1.0.0/31", "10.1.0.1", 65101), uplink("eth2", "leaf2", "10.1.0.4/31", "10.1.0.5", 65102)}}},
		{Role: "edge", Requirements: "eBGP to the provider, accept a default route only.",
			Constants: map[string]any{"advertise": "192.0.2.0/24"},
			Vars: map[string]any{"asn": 64512, "router_id": "192.0.2.1",
				"bgp_neighbors": []any{map[string]any{"ip": "203.0.113.1", "asn": 64500, "description": "transit-a"}}}},
	}
	routeMaps := regexp.MustCompile(`(?m)^\s+neighbor \S+ route-map .*\n`)
	for _, s := range specs {
		s.Task, s.Platform, s.Hostname = prompt.TaskConfig, string(FRR), "r-"+s.Role
		config := sim.Render(s)
		if p := Detect(config); p != FRR {
			t.Errorf("%s: Detect = %q, want frr", s.Role, p)
		}
		if fs := l.LintContext(FRR, config, Context{Vars: s.Vars, Requirements: s.Requirements}); len(fs) != 0 {
			t.Errorf("%s: findings on sim's FRR config: %v\n%s", s.Role, fs, config)
		}
		bare := routeMaps.ReplaceAllString(config, "")
		if len(findingLines(l.Lint(FRR, bare), "bgp-ebgp-policy")) == 0 {
			t.Errorf("%s: eBGP sessions without route-maps are not flagged:\n%s", s.Role, bare)
		}
	}
}
