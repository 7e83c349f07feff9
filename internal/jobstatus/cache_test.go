package jobstatus

import (
	"strings"
	"testing"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

func job(id string, state netcfg.JobState, body int) *store.Job {
	j := &store.Job{ID: id, State: state, Request: []byte(`{}`), UpdatedAt: time.UnixMilli(1000).UTC()}
	if body > 0 {
		j.Result = &store.Result{Body: []byte(strings.Repeat("x", body))}
	}
	return j
}

// TestEvictionBoundsBytes: final jobs beyond MaxBytes push out the least
// recently read ones, the bytes kept never exceed the bound, and a job
// larger than MaxEntry is not kept at all.
func TestEvictionBoundsBytes(t *testing.T) {
	t.Parallel()
	c := New(Config{MaxBytes: 64 << 10, MaxEntry: 8 << 10})
	for i := range 100 {
		c.Fill(c.Ticket(), job(string(rune('A'+i%26))+strings.Repeat("x", i), netcfg.StateSucceeded, 2000))
		if b := c.Stats().Bytes; b > 64<<10 {
			t.Fatalf("after %d jobs: %d bytes kept, over the bound of %d", i+1, b, 64<<10)
		}
	}
	st := c.Stats()
	if st.Final == 0 || st.Final >= 100 {
		t.Errorf("%d final jobs kept of 100 of ~2.5 kB in 64 kB; want some, not all", st.Final)
	}
	// The newest is there, the oldest was evicted.
	if _, r := c.Lookup("A"); r != Miss {
		t.Errorf("oldest job: %s, want evicted", r)
	}
	big := job("big", netcfg.StateSucceeded, 9<<10)
	c.Fill(c.Ticket(), big)
	if _, r := c.Lookup("big"); r != Miss {
		t.Errorf("job over MaxEntry: %s, want not kept", r)
	}
}

// TestOpenJobsNeedAFeed: an unfinished job is served from memory only while
// a feed runs, only if no change of it was seen while it was read, and no
// longer once a change is seen; a final job is served without a feed.
func TestOpenJobsNeedAFeed(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	c.Fill(c.Ticket(), job("q", netcfg.StateQueued, 0))
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("unfinished job without a feed: %s, want miss", r)
	}
	c.Fill(c.Ticket(), job("f", netcfg.StateFailed, 0))
	if _, r := c.Lookup("f"); r != HitFinal {
		t.Errorf("final job: %s, want %s", r, HitFinal)
	}

	c.setLive(true)
	c.Fill(c.Ticket(), job("q", netcfg.StateQueued, 0))
	if _, r := c.Lookup("q"); r != HitOpen {
		t.Errorf("unfinished job with a feed: %s, want %s", r, HitOpen)
	}
	c.Changed("q", nil)
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("changed job: %s, want miss", r)
	}

	// A change seen while the job was being read: what the read returned
	// may predate it.
	tk := c.Ticket()
	c.Changed("q", nil)
	c.Fill(tk, job("q", netcfg.StateQueued, 0))
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("job changed during its read: %s, want not kept", r)
	}
	// Another job's change does not matter.
	tk = c.Ticket()
	c.Changed("other", nil)
	c.Fill(tk, job("q", netcfg.StateRunning, 0))
	if _, r := c.Lookup("q"); r != HitOpen {
		t.Errorf("job read while another changed: %s, want %s", r, HitOpen)
	}
	// The feed restarting (a listener lost) forgets unfinished jobs, and
	// a read begun before it is not kept.
	tk = c.Ticket()
	c.setLive(true)
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("after the feed restarted: %s, want miss", r)
	}
	c.Fill(tk, job("q", netcfg.StateRunning, 0))
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("read begun before the feed restarted: %s, want not kept", r)
	}
	// Too many changes to tell: not kept.
	tk = c.Ticket()
	for range changesKept + 1 {
		c.Changed("other", nil)
	}
	c.Fill(tk, job("q", netcfg.StateRunning, 0))
	if _, r := c.Lookup("q"); r != Miss {
		t.Errorf("read outlasting %d changes: %s, want not kept", changesKept, r)
	}
}

// TestAnnouncedCompletionKeepsFinal: the database's announcement of a
// completion made here (same updated_at) leaves the final job kept; one of
// a later change, or of a deletion, drops it.
func TestAnnouncedCompletionKeepsFinal(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	f := job("f", netcfg.StateSucceeded, 10)
	c.Changed("f", f)
	c.announced("f", f.UpdatedAt)
	if _, r := c.Lookup("f"); r != HitFinal {
		t.Errorf("after its own announcement: %s, want %s", r, HitFinal)
	}
	c.announced("f", f.UpdatedAt.Add(time.Second))
	if _, r := c.Lookup("f"); r != Miss {
		t.Errorf("after a later change: %s, want miss", r)
	}
	c.Changed("f", f)
	c.announced("f", time.Time{})
	if _, r := c.Lookup("f"); r != Miss {
		t.Errorf("after deletion: %s, want miss", r)
	}
}

// TestValidateDropsChanged: the poll drops the unfinished jobs whose
// version moved or which are gone, and keeps the others.
func TestValidateDropsChanged(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	c.setLive(true)
	for _, id := range []string{"same", "moved", "gone"} {
		c.Fill(c.Ticket(), job(id, netcfg.StateQueued, 0))
	}
	before := c.openVersions()
	now := map[string]store.JobVersion{"same": before["same"], "moved": {State: netcfg.StateRunning, UpdatedAt: 2000}}
	c.validate(before, now)
	for id, want := range map[string]Result{"same": HitOpen, "moved": Miss, "gone": Miss} {
		if _, r := c.Lookup(id); r != want {
			t.Errorf("%s: %s, want %s", id, r, want)
		}
	}
}

// TestOpenBounded: unfinished jobs beyond MaxOpen push out the oldest.
func TestOpenBounded(t *testing.T) {
	t.Parallel()
	c := New(Config{MaxOpen: 3})
	c.setLive(true)
	for _, id := range []string{"a", "b", "c", "d"} {
		c.Fill(c.Ticket(), job(id, netcfg.StateQueued, 0))
	}
	if st := c.Stats(); st.Open != 3 {
		t.Errorf("%d unfinished jobs kept, want 3", st.Open)
	}
	if _, r := c.Lookup("a"); r != Miss {
		t.Errorf("oldest: %s, want evicted", r)
	}
}
