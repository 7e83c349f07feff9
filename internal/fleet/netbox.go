package fleet

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"netsmith/internal/netcfg"
)

// netboxPlatforms maps NetBox platform slugs (with '-' read as '_') to
// netsmith platforms.
var netboxPlatforms = map[string]string{
	"ios": "cisco_ios", "cisco_ios": "cisco_ios",
	"iosxe": "cisco_xe", "ios_xe": "cisco_xe", "cisco_iosxe": "cisco_xe", "cisco_ios_xe": "cisco_xe", "cisco_xe": "cisco_xe",
	"nxos": "cisco_nxos", "nx_os": "cisco_nxos", "cisco_nxos": "cisco_nxos", "cisco_nx_os": "cisco_nxos",
	"eos": "arista_eos", "arista_eos": "arista_eos",
	"junos": "juniper_junos", "juniper_junos": "juniper_junos",
	"frr": "frr", "frrouting": "frr",
}

// netboxReserved are config-context or custom-field keys that set the
// device's intent or group instead of becoming vars.
var netboxReserved = []string{"requirements", "os_version", "cache_ttl", "constants", "group"}

// netbox reads a NetBox-style device export: a list of objects with name,
// role.slug (or device_role.slug), platform.slug, site.slug, config_context,
// custom_fields and primary_ip4.address. config_context and custom_fields
// become vars (the context wins), except the keys requirements, os_version,
// cache_ttl, constants and group, which set the intent and the group (from a
// base file); primary_ip4.address becomes mgmt_ip unless the vars set one.
// Other NetBox fields are ignored.
func (r *treeReader) netbox(seq, at *yaml.Node) *doc {
	d := &doc{file: r.file}
	if seq.Kind != yaml.SequenceNode {
		r.errorf(seq, "", "results", "want a list of devices, got %s", nodeDesc(seq))
		return d
	}
	if n, ok := r.counts[seq]; ok {
		if n > r.maxDevices {
			r.errorf(at, "", "", "%d devices is more than the limit of %d", n, r.maxDevices)
			return d
		}
		r.listKey, r.listNetBox, r.listOK = "results", true, n > 0
		if seq == at {
			r.listKey = ""
		}
		return d
	}
	if len(seq.Content) > r.maxDevices {
		r.errorf(at, "", "", "%d devices is more than the limit of %d", len(seq.Content), r.maxDevices)
		return d
	}
	for i, item := range seq.Content {
		if l := r.netboxDevice(item, i); l != nil {
			d.devices = append(d.devices, l)
		}
	}
	return d
}

func (r *treeReader) netboxDevice(n *yaml.Node, i int) *layer {
	item := fmt.Sprintf("[%d]", i)
	es, ok := r.mapping(n, fixed(item), 2, false)
	if !ok {
		return nil
	}
	l := &layer{at: r.at(r.deref(n))}
	for _, e := range es {
		if e.key == "name" {
			l.hostname, _ = r.str(e.v, "", item+".name")
		}
	}
	if !l.hostname.set && hasKey(es, "hostname") {
		r.errorf(n, "", item, "no name: a list at the top of a file is read as a NetBox export; a netsmith fleet is a map with version, defaults, groups and devices")
		return nil
	}
	l.name = label(l.hostname.val)
	if l.name == "" {
		l.prefix = item + "."
	}
	var ctx, custom map[string]any
	var mgmt *yaml.Node
	for _, e := range es {
		f := l.prefix + e.key
		switch e.key {
		case "role", "device_role":
			l.role = r.slug(e.v, l.name, f)
		case "platform":
			l.platform = r.slug(e.v, l.name, f)
			if p, ok := netboxPlatforms[strings.ReplaceAll(strings.ToLower(l.platform.val), "-", "_")]; ok {
				l.platform.val = p
			}
		case "site":
			l.site = r.slug(e.v, l.name, f)
		case "config_context":
			ctx = r.netboxMap(l, e, f)
		case "custom_fields":
			custom = r.netboxMap(l, e, f)
		case "primary_ip4":
			if v := r.deref(e.v); v.Kind == yaml.MappingNode {
				mgmt = childNode(v, "address", 0)
			}
		}
	}
	l.vars = mergeInto(mergeInto(nil, custom), ctx)
	if mgmt != nil {
		if _, set := l.vars["mgmt_ip"]; !set {
			ip, _ := r.str(mgmt, l.name, l.prefix+"primary_ip4.address")
			if ip.val != "" {
				m := map[string]any{"mgmt_ip": ip.val}
				for _, is := range netcfg.CheckVars(m) {
					r.c.errorf(r.at(mgmt), l.name, l.prefix+"primary_ip4.address", "%s", is.Msg)
				}
				l.vars = mergeInto(l.vars, m)
			}
		}
	}
	return l
}

// slug reads a NetBox reference: an object with slug (or name), or a string.
func (r *treeReader) slug(n *yaml.Node, device, f string) setting {
	v := r.deref(n)
	if v.Kind == yaml.MappingNode {
		for _, k := range []string{"slug", "name"} {
			if c := childNode(v, k, 0); c != nil {
				n, f = c, f+"."+k
				break
			}
		}
		if n == v {
			r.errorf(v, device, f, "want an object with slug")
			return setting{set: true, bad: true, at: r.at(v)}
		}
	}
	s, ok := r.str(n, device, f)
	if !ok {
		return setting{set: true, bad: true, at: r.at(n)}
	}
	return s
}

// netboxMap reads config_context or custom_fields, takes out the reserved
// keys and checks the rest as vars.
func (r *treeReader) netboxMap(l *layer, e entry, f string) map[string]any {
	v, ok := r.value(e.v, f, 3, e.alias)
	if !ok || v == nil {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		r.errorf(e.v, l.name, f, "want a map, got %s", netcfg.Describe(v))
		return nil
	}
	for _, k := range netboxReserved {
		rv, ok := m[k]
		if !ok {
			continue
		}
		delete(m, k)
		if rv == nil {
			continue
		}
		at := locate(e.v, []any{k})
		if k == "constants" {
			c, isMap := rv.(map[string]any)
			if !isMap {
				r.errorf(at, l.name, f+".constants", "want a map, got %s", netcfg.Describe(rv))
				continue
			}
			r.check(at, c, l.name, f+".constants")
			l.consts = mergeInto(l.consts, c)
			continue
		}
		s, _ := r.str(at, l.name, f+"."+k)
		switch k {
		case "requirements":
			l.requirements = s
		case "os_version":
			l.osVersion = s
		case "cache_ttl":
			l.cacheTTL = s
		case "group":
			l.group = s
		}
	}
	r.check(e.v, m, l.name, f)
	return m
}
