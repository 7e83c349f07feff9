package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"netsmith/internal/coverage"
)

// batchCoverage is summary.json's coverage: how many variable values
// were looked for in the configs, how many were missing, and which devices
// miss some (the first maxIncompleteListed by hostname, with at most
// maxUnusedListed paths each).
type batchCoverage struct {
	Checked           int                `json:"checked"`
	Missing           int                `json:"missing"`
	DevicesIncomplete int                `json:"devices_incomplete"`
	Devices           []incompleteDevice `json:"devices,omitempty"`
}

type incompleteDevice struct {
	Hostname string `json:"hostname"`
	// Unused are the paths of the variables not in the config, with a
	// "did you mean" where one is known; More counts those left out.
	Unused []string `json:"unused"`
	More   int      `json:"more,omitempty"`
}

const (
	maxIncompleteListed = 50
	maxUnusedListed     = 10
)

// add counts one device's result.
func (c *batchCoverage) add(hostname string, checked int, unused []coverage.Missing) {
	c.Checked += checked
	c.Missing += len(unused)
	if len(unused) == 0 {
		return
	}
	c.DevicesIncomplete++
	d := incompleteDevice{Hostname: hostname, More: max(0, len(unused)-maxUnusedListed)}
	for _, m := range unused[:min(len(unused), maxUnusedListed)] {
		p := m.Path
		if m.Suggest != "" {
			p += " (did you mean " + m.Suggest + "?)"
		}
		d.Unused = append(d.Unused, p)
	}
	// Keep the first maxIncompleteListed by hostname, whatever the order
	// results come in.
	i, _ := slices.BinarySearchFunc(c.Devices, hostname, func(e incompleteDevice, h string) int { return strings.Compare(e.Hostname, h) })
	if i < maxIncompleteListed {
		c.Devices = slices.Insert(c.Devices, i, d)
		c.Devices = c.Devices[:min(len(c.Devices), maxIncompleteListed)]
	}
}

// print writes the summary's coverage line.
func (c *batchCoverage) print(w io.Writer) {
	if c.Checked == 0 {
		return
	}
	fmt.Fprintf(w, "variable coverage: %d of %d values used (%.1f%%), %d devices incomplete\n",
		c.Checked-c.Missing, c.Checked, 100*float64(c.Checked-c.Missing)/float64(c.Checked), c.DevicesIncomplete)
}
