package fleet

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"netsmith/internal/netcfg"
)

// doc is one parsed file in the shape every format shares: defaults, groups
// and devices as layers to merge, in file order.
type doc struct {
	file     string
	defaults []*layer
	groups   []*layer
	devices  []*layer
}

// setting is a string setting of a layer. set with an empty val clears what a
// lower layer set (a YAML null).
type setting struct {
	val string
	set bool
	bad bool // written, but not as a string: already reported
	at  pos
}

// layer is one level of the merge: defaults, a group or a device.
type layer struct {
	at     pos    // where the layer starts
	name   string // group name; for devices the hostname when valid
	prefix string // field prefix in errors: "defaults.", "groups.NAME.", "devices[3]." or ""

	hostname, group                               setting // devices only
	role, platform, osVersion, requirements, site setting
	vars, consts                                  map[string]any
}

// merged is defaults, a group and a device folded together.
type merged struct {
	role, platform, osVersion, requirements, site setting
	vars, consts                                  map[string]any
	intentKey                                     string // cached for group-only intents
}

func (m merged) apply(l *layer) merged {
	for _, f := range []struct{ dst, src *setting }{
		{&m.role, &l.role}, {&m.platform, &l.platform}, {&m.osVersion, &l.osVersion},
		{&m.requirements, &l.requirements}, {&m.site, &l.site},
	} {
		if f.src.set {
			*f.dst = *f.src
		}
	}
	if len(l.vars) > 0 {
		m.vars = mergeInto(deepCopyMap(m.vars), l.vars)
	}
	if len(l.consts) > 0 {
		m.consts = mergeInto(deepCopyMap(m.consts), l.consts)
	}
	m.intentKey = ""
	return m
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return deepCopy(m).(map[string]any)
}

// label is what an error shows as the device: its hostname when valid.
func label(hostname string) string {
	if netcfg.ValidateHostname(hostname) == nil {
		return hostname
	}
	return ""
}

// where names a position for "first at …" messages.
func where(p, from pos) string {
	var s string
	if p.row > 0 {
		s = fmt.Sprintf("row %d", p.row)
	} else {
		s = fmt.Sprintf("line %d", p.line)
	}
	if p.file != from.file {
		s = p.file + " " + s
	}
	return s
}

// resolve merges the layers of docs into devices and intents and checks what
// can only be checked after merging. Errors go to c.
func resolve(c *collector, docs []*doc) *Fleet {
	var (
		base    merged
		groups  = map[string]*layer{}
		devices []*layer
	)
	for _, d := range docs {
		for _, l := range d.defaults {
			checkPlatform(c, l, "")
			base = base.apply(l)
		}
		for _, g := range d.groups {
			checkPlatform(c, g, "")
			if first, ok := groups[g.name]; ok {
				c.errorf(g.at, "", "groups."+g.name, "group %q is already defined (first at %s)", g.name, where(first.at, g.at))
				continue
			}
			groups[g.name] = g
		}
		devices = append(devices, d.devices...)
	}

	fl := &Fleet{Devices: make([]Resolved, 0, len(devices))}
	groupMerged := map[string]*merged{}
	intentIndex := map[string]int{}
	seen := map[string]pos{}
	mgmtSeen := map[netip.Addr]string{}
	for _, d := range devices {
		dev := d.name
		checkPlatform(c, d, dev)
		if d.hostname.bad {
			// reported where it was written
		} else if !d.hostname.set || d.hostname.val == "" {
			c.errorf(d.at, "", d.prefix+"hostname", "missing")
		} else if err := netcfg.ValidateHostname(d.hostname.val); err != nil {
			c.errorf(d.hostname.at, "", d.prefix+"hostname", "%v", err)
		} else {
			key := strings.ToLower(d.hostname.val)
			if first, ok := seen[key]; ok {
				c.errorf(d.hostname.at, dev, "hostname", "duplicate hostname (first at %s)", where(first, d.hostname.at))
			} else {
				seen[key] = d.hostname.at
			}
		}

		m := &base
		groupOK := true
		if name := d.group.val; name != "" {
			g, ok := groups[name]
			if !ok {
				c.errorf(d.group.at, dev, d.prefix+"group", "unknown group %q%s", name, knownGroups(groups))
				groupOK = false
			} else if m, ok = groupMerged[name]; !ok {
				gm := base.apply(g)
				m = &gm
				groupMerged[name] = m
			}
		}
		r := m.apply(d)
		if len(d.vars) == 0 {
			r.vars = deepCopyMap(r.vars) // every device owns its vars
		}
		if !groupOK {
			continue
		}
		platform, perr := netcfg.ParsePlatform(r.platform.val)
		for _, f := range []struct {
			name string
			f    setting
		}{{"role", r.role}, {"platform", r.platform}, {"requirements", r.requirements}} {
			if f.f.val == "" && !f.f.bad {
				c.errorf(d.at, dev, d.prefix+f.name, "missing: set %s on the device, its group or in defaults", f.name)
			}
		}
		if r.role.val == "" || perr != nil || r.requirements.val == "" {
			continue // reported above, or where the platform was written
		}
		checkMgmt(c, d, r.vars, mgmtSeen)

		intent := netcfg.Intent{
			Role:         r.role.val,
			Platform:     platform,
			OSVersion:    r.osVersion.val,
			Requirements: strings.TrimSpace(r.requirements.val),
			Constants:    r.consts,
		}
		// Devices that add nothing to their group's intent reuse its key.
		own := d.role.set || d.platform.set || d.osVersion.set || d.requirements.set || len(d.consts) > 0
		key := ""
		if !own {
			key = m.intentKey
		}
		if key == "" {
			b, err := json.Marshal(intent)
			if err != nil {
				c.errorf(d.at, dev, d.prefix+"constants", "%v", err)
				continue
			}
			key = string(b)
			if !own {
				m.intentKey = key
			}
		}
		idx, ok := intentIndex[key]
		if !ok {
			idx = len(fl.Intents)
			intentIndex[key] = idx
			fl.Intents = append(fl.Intents, Intent{Intent: intent})
		} else {
			intent = fl.Intents[idx].Intent // share one Constants map
		}
		fl.Intents[idx].Devices = append(fl.Intents[idx].Devices, len(fl.Devices))
		fl.Devices = append(fl.Devices, Resolved{
			Device: netcfg.Device{
				Hostname:  d.hostname.val,
				Role:      intent.Role,
				Platform:  platform,
				OSVersion: intent.OSVersion,
				Site:      r.site.val,
				Vars:      r.vars,
			},
			Intent:      intent,
			IntentIndex: idx,
			Group:       d.group.val,
			File:        d.at.file,
			Line:        d.at.line,
			Row:         d.at.row,
		})
	}
	return fl
}

func checkPlatform(c *collector, l *layer, dev string) {
	if l.platform.val == "" {
		return
	}
	if _, err := netcfg.ParsePlatform(l.platform.val); err != nil {
		c.errorf(l.platform.at, dev, l.prefix+"platform", "%v", err)
	}
}

func knownGroups(groups map[string]*layer) string {
	if len(groups) == 0 {
		return " (no groups are defined)"
	}
	names := sortedKeys(groups)
	if len(names) > 10 {
		return fmt.Sprintf(" (%d groups are defined: %s, …)", len(names), strings.Join(names[:10], ", "))
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// checkMgmt warns when a device's management gateway is outside its
// management prefix, or when two devices share a management address.
func checkMgmt(c *collector, d *layer, vars map[string]any, seen map[netip.Addr]string) {
	s, _ := vars["mgmt_ip"].(string)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return
	}
	if other, ok := seen[p.Addr()]; ok {
		c.warnf(d.at, d.name, d.prefix+"vars.mgmt_ip", "management address %s is also used by %s", p.Addr(), other)
	} else {
		seen[p.Addr()] = d.hostname.val
	}
	gw, _ := vars["mgmt_gateway"].(string)
	if a, err := netip.ParseAddr(gw); err == nil && !p.Masked().Contains(a) {
		c.warnf(d.at, d.name, d.prefix+"vars.mgmt_gateway", "gateway %s is outside mgmt_ip %s", a, p)
	}
}
