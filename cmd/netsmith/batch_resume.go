package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"netsmith/internal/fleet"
	"netsmith/internal/httpapi"
	"netsmith/internal/queue"
	"netsmith/internal/store"
)

// batchStateFile, in a batch's --out directory, names the batch that writes
// there until it is done. Left behind by an interrupted batch, it lets the
// next `netsmith batch --out DIR` resume that batch (--resume) or cancel its
// leftovers, so that they are not run by a new batch's workers.
const batchStateFile = ".netsmith-batch.json"

type batchState struct {
	Batch string `json:"batch"`
	Fleet string `json:"fleet"`
	// SHA256 is the fleet file's: a resume of a changed fleet is refused.
	SHA256 string `json:"sha256"`
	// Embedded is set for a batch run in-process, whose leftovers only a
	// later batch can cancel (a server's batch runs on without its client).
	Embedded bool `json:"embedded"`
}

func fleetSum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// readBatchState returns the state left in out, or nil when there is none.
func readBatchState(out string) (*batchState, error) {
	b, err := os.ReadFile(filepath.Join(out, batchStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st batchState
	if err := json.Unmarshal(b, &st); err != nil || st.Batch == "" {
		return nil, fmt.Errorf("%s: not a batch state file (%v); remove it", filepath.Join(out, batchStateFile), err)
	}
	return &st, nil
}

func writeBatchState(out string, st *batchState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeOutFile(out, batchStateFile, append(b, '\n'))
}

func clearBatchState(out string) error {
	err := os.Remove(filepath.Join(out, batchStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// resumeOrCancel handles the batch an earlier run left unfinished in out.
// With resume it returns that batch's id (refusing a changed fleet);
// without, it cancels the batch's unfinished jobs in db (embedded batches
// only; db is opened before any worker starts, so none can claim them) and
// returns "". It returns "" with nothing to do when out holds no state.
func resumeOrCancel(ctx context.Context, out, fleetPath string, data []byte, resume bool, db string, stderr io.Writer) (string, error) {
	st, err := readBatchState(out)
	if err != nil {
		return "", err
	}
	switch {
	case st == nil && resume:
		return "", usagef("--resume: %s holds no interrupted batch", out)
	case st == nil:
		return "", nil
	case resume && st.SHA256 != fleetSum(data):
		return "", usagef("--resume: %s changed since batch %s started (%s); run without --resume to start over", fleetPath, st.Batch, st.Fleet)
	case resume:
		return st.Batch, nil
	}
	if st.Embedded {
		n, err := cancelUnfinished(ctx, db, st.Batch)
		if err != nil {
			return "", fmt.Errorf("cancel the leftovers of interrupted batch %s: %w", st.Batch, err)
		}
		if n > 0 {
			fmt.Fprintf(stderr, "canceled %d unfinished jobs of interrupted batch %s (--resume continues a batch instead)\n", n, st.Batch)
		}
	}
	return "", clearBatchState(out)
}

// cancelUnfinished cancels every job of a batch that has not reached a
// final state and returns how many it canceled.
func cancelUnfinished(ctx context.Context, db, batchID string) (int, error) {
	d, err := openMigrated(ctx, db)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	q, err := queue.New(d, queue.Config{})
	if err != nil {
		return 0, err
	}
	defer q.Close()
	const page = 500
	var (
		n     int
		after string
	)
	for {
		jobs, err := store.ListBatchJobs(ctx, d.ReadConn(), batchID, after, page)
		if err != nil {
			return n, err
		}
		for _, j := range jobs {
			if j.State.Final() {
				continue
			}
			ok, err := q.Cancel(ctx, j)
			if err != nil {
				return n, fmt.Errorf("job %s: %w", j.ID, err)
			}
			if ok {
				n++
			}
		}
		if len(jobs) < page {
			return n, nil
		}
		after = jobs[len(jobs)-1].ID
	}
}

// submitOrResume submits the fleet and records the new batch in out, or,
// given resumeID, picks that batch up again.
func submitOrResume(ctx context.Context, c *httpapi.Client, resumeID, out string, st *batchState,
	opts httpapi.SubmitOptions, data []byte) (*httpapi.BatchView, error) {
	if resumeID != "" {
		return c.Batch(ctx, resumeID)
	}
	b, err := c.SubmitFleet(ctx, opts, data)
	if err != nil {
		return nil, err
	}
	st.Batch = b.ID
	return b, writeBatchState(out, st)
}

// fleetHostnames are the hostnames of a fleet's devices.
func fleetHostnames(f *fleet.Fleet) map[string]bool {
	m := make(map[string]bool, len(f.Devices))
	for _, d := range f.Devices {
		m[d.Device.Hostname] = true
	}
	return m
}
