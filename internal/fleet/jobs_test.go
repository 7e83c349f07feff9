package fleet

import (
	"encoding/json"
	"os"
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
	var files []string
	for _, pat := range []string{
		filepath.Join("testdata", "good-*.yaml"),
		filepath.Join("testdata", "warn", "*.yaml"),
		filepath.Join("testdata", "warn", "*.csv"),
		filepath.Join(repoRoot(t), "examples", "*.yaml"),
		filepath.Join(repoRoot(t), "examples", "*.csv"),
	} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fl, err := Parse(filepath.Base(path), data)
		if err != nil {
			t.Errorf("Parse(%s):\n%v", path, err)
			continue
		}
		for _, d := range fl.Devices {
			if err := jobValidates(d); err != nil {
				t.Errorf("%s: %s: the fleet parses but its job is refused: %v", path, d.Device.Hostname, err)
			}
		}
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
