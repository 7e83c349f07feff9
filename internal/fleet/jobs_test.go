package fleet

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"netsmith/internal/netcfg"
)

// TestJobsAcceptFleets: every device of every fleet file that parses (the
// good and warn test files, the examples) makes a job request that passes
// JobRequest.Validate after the JSON round trip a queued job takes, as the
// API's batch builds it. A fleet file that parses cannot fail its jobs on
// their values; TestBatchGoodFleets in cmd/netsmith runs the same end to end.
func TestJobsAcceptFleets(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	n := parseEach(t, []string{
		filepath.Join("testdata", "good-*.yaml"),
		filepath.Join("testdata", "warn", "*.yaml"),
		filepath.Join("testdata", "warn", "*.csv"),
		filepath.Join(root, "examples", "*.yaml"),
		filepath.Join(root, "examples", "*.csv"),
	}, func(path string, fl *Fleet) {
		for _, d := range fl.Devices {
			if err := jobValidates(d); err != nil {
				t.Errorf("%s: %s: the fleet parses but its job is refused: %v", path, d.Device.Hostname, err)
			}
		}
	})
	if n == 0 {
		t.Fatal("no fleet files found")
	}
}

// jobValidates builds d's job request as the API's batch does, sends it
// through JSON as the queue does, and validates it as the worker does.
func jobValidates(d Resolved) error {
	b, err := json.Marshal(netcfg.JobRequest{Kind: netcfg.KindGenerate, Device: &d.Device,
		Requirements: d.Intent.Requirements, Constants: d.Intent.Constants, CacheTTL: d.Intent.CacheTTL})
	if err != nil {
		return err
	}
	var req netcfg.JobRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return err
	}
	return req.Validate()
}
