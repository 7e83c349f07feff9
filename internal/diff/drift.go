package diff

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"netsmith/internal/lint"
	"netsmith/internal/netcfg"
)

// Drift statuses of a device.
const (
	InSync  = "in_sync"
	Drifted = "drifted"
	Missing = "missing" // no running config for the device
	Failed  = "error"   // a config could not be read or compared
)

// DeviceDrift is one device's drift: its running config against its
// intended one.
type DeviceDrift struct {
	Hostname string          `json:"hostname"`
	Platform netcfg.Platform `json:"platform,omitempty"`
	Status   string          `json:"status"`
	Commands int             `json:"commands,omitempty"` // remediation lines
	Added    int             `json:"added,omitempty"`
	Removed  int             `json:"removed,omitempty"`
	Changed  int             `json:"changed,omitempty"`
	Error    string          `json:"error,omitempty"`
	Result   *Result         `json:"result,omitempty"` // nil unless compared
}

// Drift is a fleet's drift: counts by status and the devices.
type Drift struct {
	InSync  int           `json:"in_sync"`
	Drifted int           `json:"drifted"`
	Missing int           `json:"missing"`
	Errors  int           `json:"errors"`
	Devices []DeviceDrift `json:"devices"`
}

// Target is a device whose intended config is in a file.
type Target struct {
	Hostname string
	Platform netcfg.Platform // empty: detected from the intended config
	Intended string          // path of the intended config
}

// Targets returns a Target for every DIR/HOSTNAME.cfg, in name order.
func Targets(dir string) ([]Target, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, e := range ents {
		host, ok := strings.CutSuffix(e.Name(), ".cfg")
		if !ok || e.IsDir() || host == "" || strings.HasPrefix(host, ".") {
			continue
		}
		out = append(out, Target{Hostname: host, Intended: filepath.Join(dir, e.Name())})
	}
	return out, nil
}

// runningExtensions are the names a device's running config may have in a
// running-config folder, tried in order.
var runningExtensions = []string{".cfg", ".conf", ".txt", ""}

// RunningFile returns the path of host's running config in dir, or "" when
// there is none.
func RunningFile(dir, host string) (string, error) {
	for _, ext := range runningExtensions {
		p := filepath.Join(dir, host+ext)
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	return "", nil
}

// DriftFiles compares each target's intended config with its running
// config in runDir. A device's read or parse error is recorded on it (status
// "error"), not returned: one bad file does not hide the fleet's drift.
func (d *Differ) DriftFiles(targets []Target, runDir string) *Drift {
	devices := make([]DeviceDrift, len(targets))
	// Devices are independent and the Differ is read-only: one worker per
	// CPU (BenchmarkDiff10k is the cost per device).
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(runtime.GOMAXPROCS(0), len(targets)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(targets); i = int(next.Add(1) - 1) {
				devices[i] = d.driftOne(targets[i], runDir)
			}
		})
	}
	wg.Wait()
	dr := &Drift{Devices: make([]DeviceDrift, 0, len(targets))}
	for _, dd := range devices {
		dr.Count(dd)
	}
	sort.SliceStable(dr.Devices, func(i, j int) bool { return dr.Devices[i].Hostname < dr.Devices[j].Hostname })
	return dr
}

func (d *Differ) driftOne(t Target, runDir string) DeviceDrift {
	fail := func(err error) DeviceDrift {
		return DeviceDrift{Hostname: t.Hostname, Platform: t.Platform, Status: Failed, Error: err.Error()}
	}
	intended, err := os.ReadFile(t.Intended)
	if err != nil {
		return fail(err)
	}
	rp, err := RunningFile(runDir, t.Hostname)
	if err != nil {
		return fail(err)
	}
	var running []byte
	if rp != "" {
		if running, err = os.ReadFile(rp); err != nil {
			return fail(err)
		}
	}
	dd := d.DriftOf(t.Hostname, t.Platform, string(intended), string(running), rp != "")
	if dd.Status == Failed {
		dd.Error = rp + ": " + dd.Error
	}
	return dd
}

// DriftOf compares one device's intended config with its running config;
// found says whether there is a running config (the device is missing when
// there is not). An empty platform is detected from the intended config.
func (d *Differ) DriftOf(host string, platform netcfg.Platform, intended, running string, found bool) DeviceDrift {
	dd := DeviceDrift{Hostname: host, Platform: platform, Status: Missing}
	if !found {
		return dd
	}
	if dd.Platform == "" {
		dd.Platform = lint.Detect(intended)
	}
	res, err := d.DiffText(dd.Platform, running, intended)
	if err != nil {
		dd.Status, dd.Error = Failed, err.Error()
		return dd
	}
	dd.Result = res
	dd.Status = InSync
	if !res.Empty() {
		dd.Status = Drifted
		dd.Commands = len(res.Remediation)
		dd.Added, dd.Removed, dd.Changed = res.Counts()
	}
	return dd
}

// Count adds a device's status to the fleet's counts and the device to
// its list.
func (dr *Drift) Count(dd DeviceDrift) {
	switch dd.Status {
	case InSync:
		dr.InSync++
	case Drifted:
		dr.Drifted++
	case Missing:
		dr.Missing++
	default:
		dr.Errors++
	}
	dr.Devices = append(dr.Devices, dd)
}
