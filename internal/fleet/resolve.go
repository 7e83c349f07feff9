package fleet

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

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

	hostname, group                                         setting // devices only
	role, platform, osVersion, requirements, cacheTTL, site setting
	vars, consts                                            map[string]any
}

// merged is defaults, a group and a device folded together.
type merged struct {
	role, platform, osVersion, requirements, cacheTTL, site setting
	vars, consts                                            map[string]any
	intentKey                                               string // cached for group-only intents
}

func (m merged) apply(l *layer) merged {
	for _, f := range []struct{ dst, src *setting }{
		{&m.role, &l.role}, {&m.platform, &l.platform}, {&m.osVersion, &l.osVersion},
		{&m.requirements, &l.requirements}, {&m.cacheTTL, &l.cacheTTL}, {&m.site, &l.site},
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
	r := newResolver(c, docs)
	fl := &Fleet{}
	for _, d := range docs {
		for _, l := range d.devices {
			if res, ok := r.device(l); ok {
				r.intents[res.IntentIndex].Devices = append(r.intents[res.IntentIndex].Devices, len(fl.Devices))
				fl.Devices = append(fl.Devices, res)
			}
		}
	}
	r.finish()
	fl.Intents = r.intents
	for i := range fl.Devices {
		fl.Devices[i].Intent.CacheTTL = fl.Intents[fl.Devices[i].IntentIndex].CacheTTL
	}
	return fl
}

// resolver merges devices one at a time over the defaults and groups of a
// fleet's files, keeping across devices only what the checks between them
// need (hostnames, management addresses, intents), so that a streamed fleet
// holds one device at a time.
type resolver struct {
	c           *collector
	base        merged
	groups      map[string]*layer
	groupMerged map[string]*merged
	intentIndex map[string]int
	intents     []Intent
	seen        map[string]pos
	mgmtSeen    map[netip.Addr]string
	ttls        []intentTTL // by intent index
}

// newResolver checks and folds the defaults and groups of docs; their
// devices are left to device.
func newResolver(c *collector, docs []*doc) *resolver {
	r := &resolver{c: c, groups: map[string]*layer{}, groupMerged: map[string]*merged{}, intentIndex: map[string]int{},
		seen: map[string]pos{}, mgmtSeen: map[netip.Addr]string{}}
	for _, d := range docs {
		for _, l := range d.defaults {
			checkPlatform(c, l, "")
			checkCacheTTL(c, l, "")
			r.base = r.base.apply(l)
		}
		for _, g := range d.groups {
			checkPlatform(c, g, "")
			checkCacheTTL(c, g, "")
			if first, ok := r.groups[g.name]; ok {
				c.errorf(g.at, "", "groups."+g.name, "group %q is already defined (first at %s)", g.name, where(first.at, g.at))
				continue
			}
			r.groups[g.name] = g
		}
	}
	return r
}

// device merges and checks one device; ok is false when it has an error
// (reported to the collector). Its Intent.CacheTTL is the intent's so far:
// finish settles the intents' TTLs once every device is in.
func (r *resolver) device(d *layer) (res Resolved, ok bool) {
	c := r.c
	dev := d.name
	checkPlatform(c, d, dev)
	checkCacheTTL(c, d, dev)
	if d.hostname.bad {
		// reported where it was written
	} else if !d.hostname.set || d.hostname.val == "" {
		c.errorf(d.at, "", d.prefix+"hostname", "missing")
	} else if err := netcfg.ValidateHostname(d.hostname.val); err != nil {
		c.errorf(d.hostname.at, "", d.prefix+"hostname", "%v", err)
	} else {
		// A copy: the hostname may be a slice of the file's whole record.
		key := strings.Clone(strings.ToLower(d.hostname.val))
		if first, ok := r.seen[key]; ok {
			c.errorf(d.hostname.at, dev, "hostname", "duplicate hostname (first at %s)", where(first, d.hostname.at))
		} else {
			r.seen[key] = d.hostname.at
		}
	}

	m := &r.base
	if name := d.group.val; name != "" {
		g, ok := r.groups[name]
		if !ok {
			c.errorf(d.group.at, dev, d.prefix+"group", "unknown group %q%s", name, knownGroups(r.groups))
			return res, false
		} else if m, ok = r.groupMerged[name]; !ok {
			gm := r.base.apply(g)
			m = &gm
			r.groupMerged[name] = m
		}
	}
	mr := m.apply(d)
	if len(d.vars) == 0 {
		mr.vars = deepCopyMap(mr.vars) // every device owns its vars
	}
	platform, perr := netcfg.ParsePlatform(mr.platform.val)
	for _, f := range []struct {
		name string
		f    setting
	}{{"role", mr.role}, {"platform", mr.platform}, {"requirements", mr.requirements}} {
		if f.f.val == "" && !f.f.bad {
			c.errorf(d.at, dev, d.prefix+f.name, "missing: set %s on the device, its group or in defaults", f.name)
		}
	}
	if mr.role.val == "" || perr != nil || mr.requirements.val == "" {
		return res, false // reported above, or where the platform was written
	}
	checkMgmt(c, d, mr.vars, r.mgmtSeen)

	intent := netcfg.Intent{
		Role:         mr.role.val,
		Platform:     platform,
		OSVersion:    mr.osVersion.val,
		Requirements: strings.TrimSpace(mr.requirements.val),
		Constants:    mr.consts,
	}
	// The cache TTL is a setting of the intent, not part of it: devices
	// that differ only in it share one intent (see intentTTL). It stays
	// out of the key, and a device that sets only it reuses its group's.
	ttl, _ := time.ParseDuration(mr.cacheTTL.val) // 0 when unset, or bad and reported
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
			return res, false
		}
		key = string(b)
		if !own {
			m.intentKey = key
		}
	}
	idx, ok := r.intentIndex[key]
	if !ok {
		idx = len(r.intents)
		r.intentIndex[key] = idx
		r.intents = append(r.intents, Intent{Intent: intent})
		r.ttls = append(r.ttls, intentTTL{first: ttl, firstDevice: d.hostname.val})
	} else {
		intent = r.intents[idx].Intent // share one Constants map
	}
	r.ttls[idx].add(ttl, d)
	intent.CacheTTL = netcfg.Duration(r.ttls[idx].shortest)
	return Resolved{
		Device: netcfg.Device{
			Hostname:  d.hostname.val,
			Role:      intent.Role,
			Platform:  platform,
			OSVersion: intent.OSVersion,
			Site:      mr.site.val,
			Vars:      mr.vars,
		},
		Intent:      intent,
		IntentIndex: idx,
		Group:       d.group.val,
		File:        d.at.file,
		Line:        d.at.line,
		Row:         d.at.row,
	}, true
}

// finish settles each intent's cache TTL (the shortest its devices give)
// and warns where its devices disagree.
func (r *resolver) finish() {
	for i, t := range r.ttls {
		r.intents[i].CacheTTL = netcfg.Duration(t.shortest)
		if d := t.differs; d != nil {
			r.c.warnf(d.at, d.name, d.prefix+"cache_ttl", "%s, but %s of the same intent has %s: they share one template, cached for the shortest (%s)",
				ttlText(t.differsTTL), t.firstDevice, ttlText(t.first), netcfg.Duration(t.shortest))
		}
	}
}

// intentTTL gathers the cache TTLs the devices of one intent resolve to.
// They share one template, so the intent takes the shortest TTL given (0,
// the cache's default, when none is), with a warning when they disagree.
type intentTTL struct {
	first       time.Duration // the first device's TTL (0: unset)
	firstDevice string
	shortest    time.Duration // the shortest TTL set, 0 when none is
	differs     *layer        // the first device whose TTL differs from first
	differsTTL  time.Duration
}

func (t *intentTTL) add(ttl time.Duration, d *layer) {
	if ttl > 0 && (t.shortest == 0 || ttl < t.shortest) {
		t.shortest = ttl
	}
	if ttl != t.first && t.differs == nil {
		t.differs, t.differsTTL = d, ttl
	}
}

func ttlText(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return netcfg.Duration(d).String()
}

// checkCacheTTL reports a cache_ttl a layer sets that is not a duration
// within netcfg's bounds.
func checkCacheTTL(c *collector, l *layer, dev string) {
	s := l.cacheTTL
	if s.val == "" {
		return
	}
	d, err := time.ParseDuration(s.val)
	if err != nil {
		c.errorf(s.at, dev, l.prefix+"cache_ttl", "%q is not a duration such as 72h or 30m", s.val)
		return
	}
	if err := netcfg.ValidateCacheTTL(d); err != nil {
		c.errorf(s.at, dev, l.prefix+"cache_ttl", "%v", err)
	}
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
	names := slices.Sorted(maps.Keys(groups))
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
		seen[p.Addr()] = strings.Clone(d.hostname.val)
	}
	gw, _ := vars["mgmt_gateway"].(string)
	if a, err := netip.ParseAddr(gw); err == nil && !p.Masked().Contains(a) {
		c.warnf(d.at, d.name, d.prefix+"vars.mgmt_gateway", "gateway %s is outside mgmt_ip %s", a, p)
	}
}
