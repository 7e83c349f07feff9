package emulate

import (
	"fmt"
	"strings"

	"netsmith/internal/netcfg"
)

// LinksFromFleet returns the point-to-point links of a fleet's link model:
// each device's uplinks and downlinks entries with a port, a peer in the
// fleet and the peer's port. A link listed by both its ends is returned
// once.
func LinksFromFleet(devs []netcfg.Device) []Link {
	inFleet := map[string]bool{}
	for _, d := range devs {
		inFleet[d.Hostname] = true
	}
	seen := map[[4]string]bool{}
	var out []Link
	for _, d := range devs {
		for _, key := range []string{"uplinks", "downlinks"} {
			list, _ := d.Vars[key].([]any)
			for _, e := range list {
				m, _ := e.(map[string]any)
				port, peer, peerPort := field(m, "port"), field(m, "peer"), field(m, "peer_port")
				if port == "" || peerPort == "" || !inFleet[peer] {
					continue
				}
				l := Link{A: d.Hostname, APort: port, B: peer, BPort: peerPort}
				if seen[[4]string{l.B, l.BPort, l.A, l.APort}] || seen[[4]string{l.A, l.APort, l.B, l.BPort}] {
					continue
				}
				seen[[4]string{l.A, l.APort, l.B, l.BPort}] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func field(m map[string]any, key string) string {
	if v, ok := m[key]; ok && v != nil {
		return strings.TrimSpace(fmt.Sprint(v))
	}
	return ""
}
