package fleet

import (
	"bytes"
	"path/filepath"
	"strings"

	"netsmith/internal/netcfg"
)

// Limits that keep a hostile or broken file from exhausting the process.
// The size of the file itself is the caller's limit.
const (
	// DefaultMaxDevices is the device limit when Parser.MaxDevices is 0.
	DefaultMaxDevices = 200_000
	// MaxDepth bounds the nesting of maps and lists in a YAML or JSON file:
	// the bound of a job's vars and constants (netcfg.CheckVars applies
	// the rest of those bounds to every vars and constants map here).
	MaxDepth = netcfg.MaxTreeDepth
	// MaxAliasNodes bounds how many values YAML aliases and merge keys may
	// expand to in one file, so that a "billion laughs" file is an error
	// instead of an out-of-memory kill.
	MaxAliasNodes = 250_000
)

// Fleet is a parsed and validated fleet file.
type Fleet struct {
	// Devices in file order, each with its variables fully merged.
	Devices []Resolved `json:"devices"`
	// Intents in order of first use; many devices share one.
	Intents []Intent `json:"intents"`
	// Warnings are problems that do not stop a batch, such as literal
	// secrets (which RedactSecrets keeps away from the LLM), a management
	// gateway outside the management prefix, or devices of one intent that
	// give different cache TTLs.
	Warnings Errors `json:"warnings,omitempty"`
}

// Resolved is one device after defaults, its group and its own entry have
// been merged. Maps in Device.Vars belong to this device alone; the
// Intent.Constants map is shared by every device of the intent and must not
// be modified.
type Resolved struct {
	Device      netcfg.Device `json:"device"`
	Intent      netcfg.Intent `json:"intent"`
	IntentIndex int           `json:"intent_index"`    // index into Fleet.Intents
	Group       string        `json:"group,omitempty"` // the group the device belongs to, "" for none
	File        string        `json:"file"`            // the file that lists the device
	Line        int           `json:"line,omitempty"`  // where the device starts in a YAML/JSON file
	Row         int           `json:"row,omitempty"`   // its CSV row (the header is row 1)
}

// Intent is one distinct intent of a fleet and the devices that share it.
// Two devices share an intent when role, platform, OS version, requirements
// (with surrounding white space trimmed) and constants are equal; the cache
// key, with its normalisation, is built elsewhere. CacheTTL plays no part in
// that: it is the shortest cache_ttl the intent's devices give, and every
// device's Resolved.Intent carries the same.
type Intent struct {
	netcfg.Intent
	Devices []int `json:"devices"` // indexes into Fleet.Devices, in file order
}

// Format is a fleet file format.
type Format string

// The formats Parse reads. JSON is either the YAML structure written as JSON
// or a NetBox-style device list (an array, or an object with "results").
const (
	FormatYAML Format = "yaml"
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
)

// Parser parses fleet files. Its zero value is ready to use.
type Parser struct {
	// Format of the file; "" chooses it by DetectFormat.
	Format Format
	// Base is an optional YAML or JSON file with version, defaults and
	// groups (and no devices) applied under the parsed file, so that a CSV
	// or NetBox device list can name groups kept in YAML. BaseName names it
	// in errors.
	Base     []byte
	BaseName string
	// MaxDevices caps the number of devices; 0 means DefaultMaxDevices.
	MaxDevices int
}

// Parse parses a fleet file with the zero Parser. name is used to choose the
// format and to label errors; nothing is read from disk.
func Parse(name string, data []byte) (*Fleet, error) {
	return Parser{}.Parse(name, data)
}

// Parse parses and validates the fleet file data. Every problem found is
// returned together, as Errors sorted by position; on error the Fleet is nil.
func (p Parser) Parse(name string, data []byte) (*Fleet, error) {
	fl := &Fleet{}
	sum, err := p.Stream(name, data, func(r *Resolved) error {
		fl.Devices = append(fl.Devices, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	fl.Intents, fl.Warnings = sum.Intents, sum.Warnings
	for i := range fl.Devices {
		d := &fl.Devices[i]
		d.Intent.CacheTTL = fl.Intents[d.IntentIndex].CacheTTL
		fl.Intents[d.IntentIndex].Devices = append(fl.Intents[d.IntentIndex].Devices, i)
	}
	return fl, nil
}

// DetectFormat chooses the format by the extension of name (.yaml, .yml,
// .csv, .json) and otherwise by content: JSON when it starts with '{' or
// '[', CSV when its first line is a header naming hostname, YAML otherwise.
func DetectFormat(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return FormatYAML
	case ".csv":
		return FormatCSV
	case ".json":
		return FormatJSON
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return FormatJSON
	}
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, []byte("---")) {
			continue
		}
		if bytes.Contains(bytes.ToLower(line), []byte("hostname")) &&
			bytes.ContainsRune(line, ',') && !bytes.Contains(line, []byte(": ")) {
			return FormatCSV
		}
		break
	}
	return FormatYAML
}

var utf8BOM = []byte("\ufeff")
