package fleet

import (
	"bytes"
	"iter"

	"go.yaml.in/yaml/v3"
)

// Summary is what Stream returns besides the devices it hands out.
type Summary struct {
	// Devices is how many devices were handed out.
	Devices int
	// Intents in order of first use, each with its final cache TTL; their
	// Devices lists are empty (Parse fills them).
	Intents []Intent
	// Warnings are as in Fleet.
	Warnings Errors
}

// Stream parses and validates a fleet file as Parse does, but hands each
// device to fn as soon as it is read and merged, in file order, instead of
// returning them all. For CSV and JSON the parse holds one device at a time
// (and, for the checks between devices, each one's hostname and management
// address and the intents), not the file's tree: memory grows with the
// devices' count, not their size (BenchmarkParse40MB). A YAML file is
// parsed whole, then handed out.
//
// A device's Intent.CacheTTL is its intent's so far; the Summary's intents
// have the final TTL, the shortest any of its devices gives. fn is not
// called once an error has been found, and on error (Errors, as from
// Parse) whatever fn was given must be discarded. An error from fn stops
// the parse and is returned as it is.
func (p Parser) Stream(name string, data []byte, fn func(*Resolved) error) (*Summary, error) {
	max := p.MaxDevices
	if max <= 0 {
		max = DefaultMaxDevices
	}
	c := &collector{}
	var docs []*doc
	if p.Base != nil {
		baseName := p.BaseName
		if baseName == "" {
			baseName = "base"
		}
		c.files = append(c.files, baseName)
		if d := parseTree(c, baseName, p.Base, DetectFormat(baseName, p.Base) == FormatJSON, max); d != nil {
			if len(d.devices) > 0 {
				c.errorf(d.devices[0].at, "", "devices", "a base file holds only version, defaults and groups")
				d.devices = nil
			}
			docs = append(docs, d)
		}
	}
	c.files = append(c.files, name)
	format := p.Format
	if format == "" {
		format = DetectFormat(name, data)
	}
	var (
		d       *doc
		devices iter.Seq[*layer]
	)
	switch format {
	case FormatCSV:
		d, devices = streamCSV(c, name, data, max)
	case FormatJSON:
		d, devices = streamJSON(c, name, data, max)
	default:
		if d = parseTree(c, name, data, false, max); d != nil {
			devices = func(yield func(*layer) bool) {
				for _, l := range d.devices {
					if !yield(l) {
						return
					}
				}
			}
		}
	}
	if d != nil {
		docs = append(docs, d)
	}
	r := newResolver(c, docs)
	read, handed := 0, 0
	var ferr error
	if devices != nil {
		for l := range devices {
			read++
			res, ok := r.device(l)
			if !ok || len(c.errs) > 0 {
				continue
			}
			if ferr = fn(&res); ferr != nil {
				break
			}
			handed++
		}
	}
	if ferr != nil {
		return nil, ferr
	}
	if d != nil && len(c.errs) == 0 && read == 0 {
		c.errorf(pos{file: name}, "", "", "no devices")
	}
	r.finish()
	if len(c.errs) > 0 {
		return nil, c.errs.sorted(c.files, MaxErrors)
	}
	return &Summary{Devices: handed, Intents: r.intents, Warnings: c.warns.sorted(c.files, MaxErrors)}, nil
}

// streamJSON reads a JSON fleet in two passes over data: the first builds
// the tree without the device list (each device is built, checked for
// syntax and dropped) and reads the defaults and groups; devices then
// builds the devices again one at a time.
func streamJSON(c *collector, file string, data []byte, maxDevices int) (*doc, iter.Seq[*layer]) {
	data = bytes.TrimPrefix(data, utf8BOM)
	counts := map[*yaml.Node]int{}
	root, err := jsonStream(data, func(string, *yaml.Node, int) {}, counts)
	if err != nil {
		err.File = file
		c.errs = append(c.errs, err)
		return nil, nil
	}
	r := &treeReader{c: c, file: file, maxDevices: maxDevices, aliasLeft: MaxAliasNodes, counts: counts}
	d := r.tree(root)
	if d == nil || len(d.devices) > 0 || !r.listOK {
		// Not a streamed list (no devices, or an error already said why).
		return d, nil
	}
	return d, func(yield func(*layer) bool) {
		stopped := false
		_, _ = jsonStream(data, func(key string, n *yaml.Node, i int) {
			if stopped || key != r.listKey {
				return
			}
			var l *layer
			if r.listNetBox {
				l = r.netboxDevice(n, i)
			} else {
				l = r.device(n, i)
			}
			if l != nil && !yield(l) {
				stopped = true
			}
		}, map[*yaml.Node]int{})
	}
}
