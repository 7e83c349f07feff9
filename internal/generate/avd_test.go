package generate_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"netsmith/internal/cache"
	"netsmith/internal/corpustest"
	"netsmith/internal/dbtest"
	"netsmith/internal/generate"
	"netsmith/internal/lint"
	"netsmith/internal/llm"
	"netsmith/internal/netcfg"
	"netsmith/internal/prompt"
	"netsmith/internal/render"
)

// TestAVDCampusLeavesFromOneTemplate proves the template cache on real
// data: Arista AVD's campus-fabric example (../shared/corpus/arista-avd/
// campus-fabric), a fleet description (inventory.yml + group_vars/) and the
// configs AVD rendered from it (intended/configs/).
//
// The campus leaves (AVD type l2leaf) are grouped into intents by what the
// inventory says they share; each device's vars come from the inventory
// alone (derived the way AVD derives them, see avdLeafVars), never from an
// intended config. For every intent with more than one leaf, the template
// is the first leaf's intended config with its own values replaced by
// {{.var}} actions (avdTemplateFrom), handed to the service as the model's
// answer. Every other leaf of the intent then goes through Service.Run with
// the template cache on, and must come out byte for byte equal to its
// intended config, for one model call per intent.
func TestAVDCampusLeavesFromOneTemplate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(corpustest.Dir(t), "arista-avd", "campus-fabric")
	fab := avdLoadFabric(t, dir)
	leaves := fab.hostsOfType("l2leaf")
	if len(leaves) == 0 {
		t.Fatal("no l2leaf hosts in the inventory")
	}

	// Leaves that do not go through the comparison below, and why. Every
	// leaf is either the source of its intent's template, compared, or
	// listed here.
	excluded := map[string]avdExclusion{
		"LEAF2A": {why: "alone in its intent (node group IDF2: platform 720XP, no MLAG, uplinks Ethernet1/1 and Ethernet1/3 " +
			"to both spines, IDF2 ports Ethernet3-7/1-48): there is no second leaf to render from its template"},
	}

	intents := avdIntents(t, fab, leaves)
	linter, err := lint.Default()
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	largest := 0
	for _, in := range intents {
		for _, h := range in.hosts {
			seen[h] = true
		}
		largest = max(largest, len(in.hosts))
		if len(in.hosts) < 2 {
			if excluded[in.hosts[0]].why == "" {
				t.Errorf("%s is alone in its intent %s and not in the exclusion table", in.hosts[0], in.constantsJSON)
			}
			continue
		}
		for _, h := range in.hosts {
			if x := excluded[h]; x.why != "" && x.refused == "" {
				t.Errorf("%s is excluded (%s) but shares its intent with %v", h, x.why, in.hosts)
			}
		}
		t.Run(strings.Join(in.hosts, "_"), func(t *testing.T) {
			t.Parallel()
			avdRunIntent(t, dir, fab, in, excluded, linter)
		})
	}
	for _, h := range leaves {
		if !seen[h] {
			t.Errorf("leaf %s belongs to no intent", h)
		}
	}
	// The claim is about the largest same-role group (the IDF3
	// access leaves); make sure it is among those compared.
	if largest < 3 {
		t.Errorf("largest intent has %d leaves, want at least 3 (LEAF3C, LEAF3D, LEAF3E)", largest)
	}
}

// avdExclusion says why a leaf is not compared through the service.
type avdExclusion struct {
	why string
	// refused, when set, marks a leaf whose intent's template netsmith
	// refuses although it is right; the service's fallback reason must
	// name this variable. Such a leaf is compared by rendering the
	// template directly instead, and the test fails once the service
	// accepts the template, so that the leaf moves to the compared ones.
	refused string
}

// avdRunIntent renders every leaf of in but the first from a template made
// of the first one's intended config, through the service, and compares.
func avdRunIntent(t *testing.T, dir string, fab *avdFabric, in avdIntent, excluded map[string]avdExclusion, linter *lint.Linter) {
	source := in.hosts[0]
	sourceVars := avdLeafVars(t, fab, source)
	sourceConfig := avdReadConfig(t, dir, source)
	tmpl := avdTemplateFrom(t, source, sourceConfig, sourceVars)

	// The template must be netsmith's kind of template (allow-listed
	// functions only) and give back its source leaf's config exactly.
	parsed, err := render.Parse(source, tmpl)
	if err != nil {
		t.Fatalf("template from %s: %v", source, err)
	}
	own, err := parsed.Render(t.Context(), netcfg.DeriveVars(avdWithHostname(source, sourceVars)))
	if err != nil {
		t.Fatalf("render the template with %s's own vars: %v", source, err)
	}
	if diff := gocmp.Diff(sourceConfig, own); diff != "" {
		t.Fatalf("template from %s does not give back its own config (-want +got):\n%s", source, diff)
	}
	t.Logf("template from %s: %d of its %d lines carry an action; vars %v",
		source, strings.Count(tmpl, "\n")-avdConstantLines(tmpl), strings.Count(tmpl, "\n"), slices.Sorted(maps.Keys(sourceVars)))

	// The model answers a template request with that template, and a
	// per-device config request (the service's fallback) with a config
	// that matches no device.
	var (
		mu       sync.Mutex
		calls    = map[prompt.Task]int{}
		feedback []string
	)
	model := avdLLMFunc(func(_ context.Context, req llm.Request) (*llm.Response, error) {
		spec, ok := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
		mu.Lock()
		calls[spec.Task]++
		feedback = append(feedback, spec.Feedback...)
		mu.Unlock()
		resp := &llm.Response{Provider: "avd-test", Model: req.Model, StopReason: "end_turn",
			Usage: llm.Usage{InputTokens: 1200, OutputTokens: int64(len(tmpl) / 4)}}
		switch {
		case ok && spec.Task == prompt.TaskTemplate:
			resp.Text = "Template derived from " + source + ":\n\n```eos\n" + tmpl + "```\n"
		case ok && spec.Task == prompt.TaskConfig:
			resp.Text = "```eos\n! per-device answer for " + spec.Hostname + "\nend\n```\n"
		default:
			return nil, fmt.Errorf("test model: unexpected request (task %q)", spec.Task)
		}
		return resp, nil
	})

	db := dbtest.Open(t, dbtest.SQLite(t))
	svc := generate.New(generate.Config{
		LLM: model, Provider: "avd-test", Model: "avd-test-model",
		Cache:  cache.New(cache.Config{Conn: db.Conn(), Owner: "avd-test"}),
		Linter: linter,
	})

	refused := 0
	for i, host := range in.hosts[1:] {
		vars := avdLeafVars(t, fab, host)
		want := avdReadConfig(t, dir, host)
		x := excluded[host]
		if x.refused != "" {
			refused++
			got, err := parsed.Render(t.Context(), netcfg.DeriveVars(avdWithHostname(host, vars)))
			if err != nil {
				t.Fatalf("%s: render %s's template directly: %v", host, source, err)
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("%s rendered directly from %s's template differs from intended/configs/%s.cfg (-want +got):\n%s", host, source, host, diff)
			} else {
				t.Logf("%s: rendered directly (not through the service, see its exclusion): %d bytes, byte-for-byte equal to intended/configs/%s.cfg", host, len(got), host)
			}
		}

		req := &netcfg.JobRequest{
			Kind: netcfg.KindGenerate,
			Device: &netcfg.Device{
				Hostname: host, Role: in.role, Platform: netcfg.AristaEOS, Vars: vars,
			},
			Requirements: avdRequirements,
			Constants:    in.constants,
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("%s: job request: %v", host, err)
		}
		res, err := svc.Run(t.Context(), req)
		if err != nil {
			t.Fatalf("%s: Run: %v", host, err)
		}
		if x.refused != "" {
			if res.FallbackReason == "" {
				t.Errorf("%s: the service now accepts %s's template: move %s from the exclusion table to the compared leaves", host, source, host)
			} else if !strings.Contains(res.FallbackReason, x.refused) {
				t.Errorf("%s: fell back for another reason than %s: %s", host, x.refused, res.FallbackReason)
			}
			continue
		}
		if res.FallbackReason != "" {
			t.Errorf("%s: fell back to a per-device call: %s", host, res.FallbackReason)
		}
		wantOutcome := cache.Hit
		if i-refused == 0 {
			wantOutcome = cache.Miss
		}
		if res.Cache != wantOutcome {
			t.Errorf("%s: cache outcome %q, want %q", host, res.Cache, wantOutcome)
		}
		for _, f := range res.Lint {
			if f.AtLeast(lint.SeverityHigh) {
				t.Errorf("%s: lint finding at high or above: %s", host, f)
			}
		}
		if diff := gocmp.Diff(want, res.Config); diff != "" {
			t.Errorf("%s rendered from %s's template differs from intended/configs/%s.cfg (-want +got):\n%s", host, source, host, diff)
		} else {
			t.Logf("%s: through the service (cache %s): %d bytes, byte-for-byte equal to intended/configs/%s.cfg", host, res.Cache, len(res.Config), host)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if refused > 0 {
		t.Logf("model calls: %v (template refused; feedback %q)", calls, feedback)
		return
	}
	if want := (map[prompt.Task]int{prompt.TaskTemplate: 1}); !maps.Equal(calls, want) {
		t.Errorf("model calls for %d leaves of one intent: %v, want %v (feedback %q)", len(in.hosts)-1, calls, want, feedback)
	} else {
		t.Logf("model calls: 1 (a template) for %d leaves", len(in.hosts)-1)
	}
}

// avdRequirements is the requirements text of every campus leaf: the
// intents differ by their constants (from the inventory), not by wording.
const avdRequirements = "Campus leaf switch (AVD l2leaf) of the arista-avd campus-fabric example: " +
	"the configuration AVD's eos_designs and eos_cli_config_gen produce for its node group."

// avdLLMFunc is a model answered by a function.
type avdLLMFunc func(ctx context.Context, req llm.Request) (*llm.Response, error)

func (f avdLLMFunc) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	return f(ctx, req)
}

func avdReadConfig(tb testing.TB, dir, host string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "intended", "configs", host+".cfg"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// ---- The fleet description ----

// avdFabric is what the test reads of the AVD inventory and group_vars.
type avdFabric struct {
	hostType     map[string]string // inventory host -> AVD node type (from group_vars "type")
	ansibleHost  map[string]string // inventory host -> ansible_host
	nodes        map[string]*avdNode
	networkPorts []map[string]any // group_vars network_ports entries
}

// avdNode is one switch of the fabric file, with its settings merged the
// way AVD merges them: <type>.defaults, then its node group, then the node.
type avdNode struct {
	Name       string
	Type       string   // l2leaf, l3spine
	Group      string   // node group name
	GroupNodes []string // the node group's nodes in file order (MLAG primary first)
	GroupMLAG  bool
	S          avdSettings
}

// avdSettings are the merged node settings the leaves' configs depend on.
type avdSettings struct {
	ID                     int      `yaml:"id"`
	MgmtIP                 string   `yaml:"mgmt_ip"`
	Platform               string   `yaml:"platform"`
	MLAG                   *bool    `yaml:"mlag"`
	UplinkInterfaces       []string `yaml:"uplink_interfaces"`
	UplinkSwitches         []string `yaml:"uplink_switches"`
	UplinkSwitchInterfaces []string `yaml:"uplink_switch_interfaces"`
	MLAGInterfaces         []string `yaml:"mlag_interfaces"`
	MLAGPeerIPv4Pool       string   `yaml:"mlag_peer_ipv4_pool"`
	InbandMgmtSubnet       string   `yaml:"inband_mgmt_subnet"`
	Filter                 struct {
		Tags []string `yaml:"tags"`
	} `yaml:"filter"`
}

func avdReadYAML(tb testing.TB, path string, into any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// avdLoadFabric reads inventory.yml and group_vars/*.yml.
func avdLoadFabric(tb testing.TB, dir string) *avdFabric {
	tb.Helper()
	fab := &avdFabric{hostType: map[string]string{}, ansibleHost: map[string]string{}, nodes: map[string]*avdNode{}}

	// inventory.yml: groups with children and hosts; a group's type comes
	// from group_vars/<group>.yml.
	var inv map[string]any
	avdReadYAML(tb, filepath.Join(dir, "inventory.yml"), &inv)
	groupVars := map[string]map[string]any{}
	files, err := filepath.Glob(filepath.Join(dir, "group_vars", "*.yml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no group_vars in %s (%v)", dir, err)
	}
	for _, f := range files {
		var m map[string]any
		avdReadYAML(tb, f, &m)
		groupVars[strings.TrimSuffix(filepath.Base(f), ".yml")] = m
	}
	var walk func(group string, body any, typ string)
	walk = func(group string, body any, typ string) {
		if t, ok := groupVars[group]["type"].(string); ok {
			typ = t
		}
		m, _ := body.(map[string]any)
		hosts, _ := m["hosts"].(map[string]any)
		for h, hv := range hosts {
			if typ != "" {
				fab.hostType[h] = typ
			}
			if hm, ok := hv.(map[string]any); ok {
				if a, ok := hm["ansible_host"].(string); ok {
					fab.ansibleHost[h] = a
				}
			}
		}
		children, _ := m["children"].(map[string]any)
		for g, c := range children {
			walk(g, c, typ)
		}
	}
	for g, body := range inv {
		walk(g, body, "")
	}

	// The fabric file: every top-level key holding node_groups is a node
	// type; each node's settings are defaults < node group < node.
	for _, file := range slices.Sorted(maps.Keys(groupVars)) {
		gv := groupVars[file]
		for _, typ := range slices.Sorted(maps.Keys(gv)) {
			v := gv[typ]
			m, ok := v.(map[string]any)
			if !ok || m["node_groups"] == nil {
				continue
			}
			defaults, _ := m["defaults"].(map[string]any)
			groups, _ := m["node_groups"].([]any)
			for _, gAny := range groups {
				g, _ := gAny.(map[string]any)
				name, _ := g["group"].(string)
				nodes, _ := g["nodes"].([]any)
				var names []string
				for _, nAny := range nodes {
					n, _ := nAny.(map[string]any)
					names = append(names, n["name"].(string))
				}
				for _, nAny := range nodes {
					n, _ := nAny.(map[string]any)
					merged := map[string]any{}
					maps.Copy(merged, defaults)
					for k, v := range g {
						if k != "nodes" && k != "group" {
							merged[k] = v
						}
					}
					maps.Copy(merged, n)
					node := &avdNode{Name: n["name"].(string), Type: typ, Group: name, GroupNodes: names}
					b, err := yaml.Marshal(merged)
					if err == nil {
						err = yaml.Unmarshal(b, &node.S)
					}
					if err != nil {
						tb.Fatalf("node %s: %v", node.Name, err)
					}
					// AVD forms an MLAG pair of a two-node group unless
					// the group says mlag: false.
					node.GroupMLAG = len(names) == 2 && (node.S.MLAG == nil || *node.S.MLAG)
					fab.nodes[node.Name] = node
				}
			}
		}
		if np, ok := gv["network_ports"].([]any); ok {
			for _, e := range np {
				if m, ok := e.(map[string]any); ok {
					fab.networkPorts = append(fab.networkPorts, m)
				}
			}
		}
	}
	for h, typ := range fab.hostType {
		n := fab.nodes[h]
		if n == nil || n.Type != typ {
			tb.Fatalf("inventory host %s (type %s) has no %s node in the fabric file", h, typ, typ)
		}
		// The inventory's ansible_host is the management address.
		if a := fab.ansibleHost[h]; a != "" && a != avdAddr(tb, n.S.MgmtIP) {
			tb.Fatalf("%s: ansible_host %s is not mgmt_ip %s", h, a, n.S.MgmtIP)
		}
	}
	return fab
}

func (f *avdFabric) hostsOfType(typ string) []string {
	var out []string
	for h, t := range f.hostType {
		if t == typ {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func (f *avdFabric) node(tb testing.TB, name string) *avdNode {
	tb.Helper()
	n := f.nodes[name]
	if n == nil {
		tb.Fatalf("no node %s in the fabric file", name)
	}
	return n
}

// mlagPrimary returns the first node of n's MLAG pair (n itself when n is
// not in one).
func (f *avdFabric) mlagPrimary(tb testing.TB, n *avdNode) *avdNode {
	tb.Helper()
	if !n.GroupMLAG {
		return n
	}
	return f.node(tb, n.GroupNodes[0])
}

// peerNodeGroupOrPeer is how AVD names a peer in an L2 port-channel
// description (underlay_l2_port_channel_description,
// "L2_{peer_node_group_or_peer}_{peer_interface}"): the peer's node group
// when the peer is half of an MLAG pair, else the peer's hostname.
func (f *avdFabric) peerNodeGroupOrPeer(tb testing.TB, peer string) string {
	n := f.node(tb, peer)
	if n.GroupMLAG {
		return n.Group
	}
	return n.Name
}

// ---- Intents ----

type avdIntent struct {
	role          string
	constants     map[string]any
	constantsJSON string
	hosts         []string // sorted; the first is the template's source
}

// avdIntents groups leaves by what the inventory says they share: node
// type, platform, MLAG and its interfaces (and domain, the node group of an
// MLAG pair), uplink interfaces, VLAN filter tags, and the network_ports
// entries that apply to them. Node groups that differ only in name
// (IDF3_3C, IDF3_3D, IDF3_3E) are one intent.
func avdIntents(tb testing.TB, fab *avdFabric, hosts []string) []avdIntent {
	tb.Helper()
	byKey := map[string]*avdIntent{}
	var keys []string
	for _, h := range hosts {
		n := fab.node(tb, h)
		c := map[string]any{
			"node_type":         n.Type,
			"avd_platform":      n.S.Platform,
			"mlag":              n.GroupMLAG,
			"uplink_interfaces": n.S.UplinkInterfaces,
			"vlan_filter_tags":  n.S.Filter.Tags,
			"network_ports":     avdNetworkPortsFor(tb, fab, h),
		}
		if n.GroupMLAG {
			c["mlag_interfaces"] = n.S.MLAGInterfaces
			c["mlag_domain_id"] = n.Group
		}
		b, err := json.Marshal(c)
		if err != nil {
			tb.Fatal(err)
		}
		k := string(b)
		in := byKey[k]
		if in == nil {
			in = &avdIntent{role: n.Type, constants: c, constantsJSON: k}
			byKey[k] = in
			keys = append(keys, k)
		}
		in.hosts = append(in.hosts, h)
	}
	out := make([]avdIntent, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

// avdNetworkPortsFor returns the network_ports entries whose switches
// pattern matches host (AVD matches the whole name as a regex).
func avdNetworkPortsFor(tb testing.TB, fab *avdFabric, host string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, e := range fab.networkPorts {
		sw, _ := e["switches"].([]any)
		for _, p := range sw {
			re, err := regexp.Compile("^(?:" + fmt.Sprint(p) + ")$")
			if err != nil {
				tb.Fatalf("network_ports switches %q: %v", p, err)
			}
			if re.MatchString(host) {
				entry := maps.Clone(e)
				delete(entry, "switches")
				out = append(out, entry)
				break
			}
		}
	}
	return out
}

// ---- Per-device vars, from the inventory ----

// avdLeafVars returns a leaf's vars, all read from the fabric file or
// derived from it the way AVD's eos_designs derives them:
//
//   - mgmt_ip: the node's mgmt_ip.
//   - inband_mgmt_ip: address 3+id of inband_mgmt_subnet, with its length
//     (AVD shared_utils.inband_mgmt_ip: subnet[3 + id]).
//   - uplinks: uplink_interfaces, uplink_switches and
//     uplink_switch_interfaces side by side (node over group over defaults).
//   - uplink_port_channel_id: the digits of the first uplink interface,
//     the MLAG primary's for a pair ("Ethernet97/1" -> 971; AVD's default
//     uplink port-channel id).
//   - uplink_peer_group: the first uplink switch's node group if that is an
//     MLAG pair, else its hostname (AVD's peer_node_group_or_peer).
//   - uplink_peer_port_channel: "Port-Channel" + the digits of the MLAG
//     primary's first uplink switch interface (the parent's port-channel).
//   - mlag_peer, mlag_ip, mlag_peer_ip (MLAG pairs): the other node of the
//     group; the /31 at offset (primary id - 1) of mlag_peer_ipv4_pool,
//     first address for the primary (AVD ip_addressing, first_id).
//   - downlinks (leaves other leaves uplink to): for every leaf listing
//     this one in uplink_switches, its interface pair, hostname and
//     port-channel ids, in interface order.
func avdLeafVars(tb testing.TB, fab *avdFabric, host string) map[string]any {
	tb.Helper()
	n := fab.node(tb, host)
	s := n.S
	if len(s.UplinkInterfaces) == 0 || len(s.UplinkInterfaces) != len(s.UplinkSwitches) || len(s.UplinkSwitches) != len(s.UplinkSwitchInterfaces) {
		tb.Fatalf("%s: uplink_interfaces %v, uplink_switches %v and uplink_switch_interfaces %v do not line up",
			host, s.UplinkInterfaces, s.UplinkSwitches, s.UplinkSwitchInterfaces)
	}
	primary := fab.mlagPrimary(tb, n)
	uplinks := make([]any, len(s.UplinkInterfaces))
	for i := range uplinks {
		uplinks[i] = map[string]any{
			"interface":      s.UplinkInterfaces[i],
			"peer":           s.UplinkSwitches[i],
			"peer_interface": s.UplinkSwitchInterfaces[i],
		}
	}
	vars := map[string]any{
		"mgmt_ip":                  s.MgmtIP,
		"inband_mgmt_ip":           avdInbandMgmtIP(tb, s.InbandMgmtSubnet, s.ID),
		"uplinks":                  uplinks,
		"uplink_port_channel_id":   avdPortChannelID(tb, primary.S.UplinkInterfaces[0]),
		"uplink_peer_group":        fab.peerNodeGroupOrPeer(tb, s.UplinkSwitches[0]),
		"uplink_peer_port_channel": "Port-Channel" + strconv.Itoa(avdPortChannelID(tb, primary.S.UplinkSwitchInterfaces[0])),
	}
	if n.GroupMLAG {
		i := slices.Index(n.GroupNodes, host)
		vars["mlag_peer"] = n.GroupNodes[1-i]
		primaryID := primary.S.ID
		vars["mlag_ip"] = avdMLAGIP(tb, s.MLAGPeerIPv4Pool, primaryID, i) + "/31"
		vars["mlag_peer_ip"] = avdMLAGIP(tb, s.MLAGPeerIPv4Pool, primaryID, 1-i)
	}
	var downlinks []map[string]any
	for _, name := range slices.Sorted(maps.Keys(fab.nodes)) {
		c := fab.nodes[name]
		for k, up := range c.S.UplinkSwitches {
			if up != host {
				continue
			}
			if c.GroupMLAG {
				tb.Fatalf("%s: downlink to MLAG pair %s: not modelled by this test", host, c.Group)
			}
			downlinks = append(downlinks, map[string]any{
				"interface":         c.S.UplinkSwitchInterfaces[k],
				"peer":              c.Name,
				"peer_interface":    c.S.UplinkInterfaces[k],
				"port_channel_id":   avdPortChannelID(tb, c.S.UplinkSwitchInterfaces[0]),
				"peer_port_channel": "Port-Channel" + strconv.Itoa(avdPortChannelID(tb, c.S.UplinkInterfaces[0])),
			})
		}
	}
	if len(downlinks) > 0 {
		slices.SortFunc(downlinks, func(a, b map[string]any) int {
			return avdNaturalCompare(a["interface"].(string), b["interface"].(string))
		})
		list := make([]any, len(downlinks))
		for i, d := range downlinks {
			list[i] = d
		}
		vars["downlinks"] = list
	}
	return vars
}

func avdWithHostname(host string, vars map[string]any) map[string]any {
	out := maps.Clone(vars)
	out["hostname"] = host
	return out
}

// avdInbandMgmtIP is AVD's inband management address: address 3+id of the
// subnet, with the subnet's length.
func avdInbandMgmtIP(tb testing.TB, subnet string, id int) string {
	tb.Helper()
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		tb.Fatalf("inband_mgmt_subnet %q: %v", subnet, err)
	}
	return fmt.Sprintf("%s/%d", avdNthAddr(tb, p, 3+id), p.Bits())
}

// avdMLAGIP is AVD's default (first_id) MLAG peer address: address offset
// of the /31 at index primaryID-1 in pool.
func avdMLAGIP(tb testing.TB, pool string, primaryID, offset int) string {
	tb.Helper()
	p, err := netip.ParsePrefix(pool)
	if err != nil {
		tb.Fatalf("mlag_peer_ipv4_pool %q: %v", pool, err)
	}
	return avdNthAddr(tb, p, (primaryID-1)*2+offset).String()
}

func avdNthAddr(tb testing.TB, p netip.Prefix, n int) netip.Addr {
	tb.Helper()
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
	}
	if !p.Contains(a) {
		tb.Fatalf("address %d is outside %s", n, p)
	}
	return a
}

func avdAddr(tb testing.TB, cidr string) string {
	tb.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		tb.Fatalf("%q: %v", cidr, err)
	}
	return p.Addr().String()
}

// avdPortChannelID is AVD's default port-channel id for a member
// interface: its digits ("Ethernet97/1" -> 971, "Ethernet1" -> 1).
func avdPortChannelID(tb testing.TB, iface string) int {
	tb.Helper()
	var digits strings.Builder
	for _, r := range iface {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	id, err := strconv.Atoi(digits.String())
	if err != nil {
		tb.Fatalf("interface %q has no number: %v", iface, err)
	}
	return id
}

// avdNaturalCompare orders interface names the way EOS lists them:
// "Ethernet9" before "Ethernet10", "Ethernet97/4" before "Ethernet98/1".
func avdNaturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := avdLeadingDigits(a), avdLeadingDigits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func avdLeadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// ---- The template, from one leaf's intended config ----

// avdTemplateFrom turns one leaf's intended config into a template over
// that leaf's vars, mechanically:
//
//   - the interface stanzas of a list's elements ("interface <element's
//     interface>" for uplinks and downlinks, "interface Port-Channel<id>"
//     for downlinks) must be adjacent and, with each element's own values
//     replaced by {{.field}} and top-level values by {{$.name}}, the same
//     text; the run becomes {{range .list}}that text{{end}};
//   - everywhere else, every top-level value becomes {{.name}}.
//
// A value is replaced only where it stands on its own (not inside a longer
// number or word). Two vars with the same value in one scope, or a var the
// config does not show, fail the test: the template must say which
// variable each value is.
func avdTemplateFrom(tb testing.TB, host, config string, vars map[string]any) string {
	tb.Helper()
	vars = avdWithHostname(host, vars)
	scalars := map[string]string{}
	for k, v := range vars {
		switch v := v.(type) {
		case string:
			scalars[k] = v
		case int:
			scalars[k] = strconv.Itoa(v)
		case []any:
		default:
			tb.Fatalf("var %s: unexpected type %T", k, v)
		}
	}
	used := map[string]int{}

	type block struct {
		start, end int
		text       string
	}
	var blocks []block
	headers := map[string][]func(map[string]any) string{
		"uplinks": {func(e map[string]any) string { return "interface " + e["interface"].(string) }},
		"downlinks": {
			func(e map[string]any) string { return fmt.Sprintf("interface Port-Channel%d", e["port_channel_id"]) },
			func(e map[string]any) string { return "interface " + e["interface"].(string) },
		},
	}
	for _, list := range slices.Sorted(maps.Keys(headers)) {
		elems, _ := vars[list].([]any)
		if vars[list] != nil && len(elems) == 0 {
			tb.Fatalf("var %s is not a list", list)
		}
		if len(elems) == 0 {
			continue
		}
		for _, header := range headers[list] {
			var b block
			for i, e := range elems {
				elem := e.(map[string]any)
				start, end := avdStanza(tb, config, header(elem))
				if i > 0 && start != b.end {
					tb.Fatalf("%s: the stanzas of %s[%d] and %s[%d] are not adjacent", host, list, i-1, list, i)
				}
				var pairs []avdPair
				for f, v := range elem {
					pairs = append(pairs, avdPair{name: list + "[]." + f, value: fmt.Sprint(v), action: "{{." + f + "}}"})
				}
				for k, v := range scalars {
					pairs = append(pairs, avdPair{name: k, value: v, action: "{{$." + k + "}}", outer: true})
				}
				text := avdSubstitute(tb, config[start:end], pairs, used)
				if i == 0 {
					b = block{start: start, text: text}
				} else if text != b.text {
					tb.Fatalf("%s: %s[%d] (%q) is not written like %s[0] (%q)", host, list, i, text, list, b.text)
				}
				b.end = end
				used[list]++
			}
			b.text = "{{range ." + list + "}}" + b.text + "{{end}}"
			blocks = append(blocks, b)
		}
	}
	slices.SortFunc(blocks, func(a, b block) int { return a.start - b.start })

	var pairs []avdPair
	for k, v := range scalars {
		pairs = append(pairs, avdPair{name: k, value: v, action: "{{." + k + "}}"})
	}
	var out strings.Builder
	at := 0
	for _, b := range blocks {
		if b.start < at {
			tb.Fatalf("%s: list stanzas overlap", host)
		}
		out.WriteString(avdSubstitute(tb, config[at:b.start], pairs, used))
		out.WriteString(b.text)
		at = b.end
	}
	out.WriteString(avdSubstitute(tb, config[at:], pairs, used))

	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if used[k] == 0 {
			tb.Fatalf("%s: var %s (%v) does not show in its intended config", host, k, vars[k])
		}
	}
	return out.String()
}

// avdPair is a value to replace and its action. Outer pairs (top-level vars
// inside a list's stanza) give way to the element's own fields.
type avdPair struct {
	name, value, action string
	outer               bool
}

// avdSubstitute replaces, in text, each occurrence of a pair's value that
// stands on its own by the pair's action, longest match first, and counts
// the replacements per var in used.
func avdSubstitute(tb testing.TB, text string, pairs []avdPair, used map[string]int) string {
	tb.Helper()
	byValue := map[string]avdPair{}
	for _, p := range pairs {
		if p.value == "" {
			tb.Fatalf("var %s is empty", p.name)
		}
		q, dup := byValue[p.value]
		switch {
		case !dup || q.outer && !p.outer:
			byValue[p.value] = p
		case q.outer == p.outer:
			tb.Fatalf("vars %s and %s have the same value %q: the template could not say which one a line shows", q.name, p.name, p.value)
		}
	}
	type hit struct {
		start, end int
		p          avdPair
	}
	var hits []hit
	for v, p := range byValue {
		for off := 0; ; {
			i := strings.Index(text[off:], v)
			if i < 0 {
				break
			}
			i += off
			j := i + len(v)
			if (i == 0 || !avdSameClass(text[i-1], v[0])) && (j == len(text) || !avdSameClass(text[j], v[len(v)-1])) {
				hits = append(hits, hit{i, j, p})
			}
			off = i + 1
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Or(a.start-b.start, b.end-a.end) })
	var out strings.Builder
	at := 0
	for _, h := range hits {
		if h.start < at {
			continue // inside a longer value already replaced
		}
		out.WriteString(text[at:h.start])
		out.WriteString(h.p.action)
		at = h.end
		name := h.p.name
		if k, _, ok := strings.Cut(name, "[]."); ok {
			name = k
		}
		used[name]++
	}
	out.WriteString(text[at:])
	return out.String()
}

func avdSameClass(a, b byte) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	return digit(a) && digit(b) || letter(a) && letter(b)
}

// avdStanza returns the bounds of the stanza that starts with the line
// header: that line up to and including the next "!" line.
func avdStanza(tb testing.TB, config, header string) (start, end int) {
	tb.Helper()
	needle := "\n" + header + "\n"
	i := strings.Index(config, needle)
	if i < 0 || strings.Count(config, needle) != 1 {
		tb.Fatalf("stanza %q: found %d times, want once", header, strings.Count(config, needle))
	}
	start = i + 1
	j := strings.Index(config[start:], "\n!\n")
	if j < 0 {
		tb.Fatalf("stanza %q has no end", header)
	}
	return start, start + j + len("\n!\n")
}

// avdConstantLines counts the template's lines without an action.
func avdConstantLines(tmpl string) int {
	n := 0
	for l := range strings.Lines(tmpl) {
		if !strings.Contains(l, "{{") {
			n++
		}
	}
	return n
}
