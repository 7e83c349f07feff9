package httpapi

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"netsmith/internal/netcfg"
)

// TestStreamPoller checks that the poller reads the jobs of all open streams
// in one call per interval however many streams there are, wakes exactly the
// streams whose job changed or vanished, and stops when the last stream
// leaves. It runs in a synctest bubble: the clock moves only when every
// goroutine waits, so no read can fall between two of the test's add calls
// however loaded the machine is.
func TestStreamPoller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const every = 10 * time.Millisecond
		var (
			mu       sync.Mutex
			versions = map[string]netcfg.JobVersion{}
			calls    []int // ids per read
		)
		p := &streamPoller{every: every, read: func(_ context.Context, ids []string) (map[string]netcfg.JobVersion, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, len(ids))
			out := map[string]netcfg.JobVersion{}
			for _, id := range ids {
				if v, ok := versions[id]; ok {
					out[id] = v
				}
			}
			return out, nil
		}}
		// after lets the clock run d and waits until the poller has
		// handled what it read meanwhile.
		after := func(d time.Duration) {
			time.Sleep(d)
			synctest.Wait()
		}
		queued := netcfg.JobVersion{State: netcfg.StateQueued, UpdatedAt: 1}
		const n = 600
		streams := make([]*polledStream, n)
		for i := range n {
			id := fmt.Sprintf("job-%d", i%(n/2)) // two streams per job
			mu.Lock()
			versions[id] = queued
			mu.Unlock()
			streams[i] = p.add(id, queued)
		}
		// The first read comes an interval after the first stream opened,
		// the next ones p.interval(n/2) apart: n/2 jobs slow the poller down.
		next := p.interval(n / 2)
		after(every)
		after(next)
		for i, ps := range streams {
			select {
			case <-ps.wake:
				t.Fatalf("stream %d woken with its job unchanged", i)
			default:
			}
		}
		mu.Lock()
		versions["job-7"] = netcfg.JobVersion{State: netcfg.StateSucceeded, Attempts: 1, UpdatedAt: 2}
		delete(versions, "job-8")
		mu.Unlock()
		after(next)
		for i, ps := range streams {
			want := ps.id == "job-7" || ps.id == "job-8"
			select {
			case <-ps.wake:
				if !want {
					t.Errorf("stream %d (%s) woken, its job did not change", i, ps.id)
				}
			default:
				if want {
					t.Errorf("stream %d (%s) not woken", i, ps.id)
				}
			}
		}
		mu.Lock()
		if len(calls) != 3 {
			t.Errorf("%d reads; want 3", len(calls))
		}
		for _, c := range calls {
			if c != n/2 {
				t.Errorf("a read of %d ids; want one read of all %d jobs per interval", c, n/2)
			}
		}
		mu.Unlock()
		for _, ps := range streams {
			p.remove(ps)
		}
		synctest.Wait() // the poller's goroutine has returned
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stop != nil {
			t.Error("the poller still runs with no stream open")
		}
	})
}

// TestStreamPollerInterval: the poller reads every interval until the open
// streams' jobs pass maxPolledJobs a second, then less often.
func TestStreamPollerInterval(t *testing.T) {
	p := &streamPoller{every: time.Second}
	for _, tt := range []struct {
		jobs int
		want time.Duration
	}{{0, time.Second}, {512, time.Second}, {maxPolledJobs, time.Second}, {15000, 7500 * time.Millisecond}} {
		if got := p.interval(tt.jobs); got != tt.want {
			t.Errorf("interval(%d) = %v, want %v", tt.jobs, got, tt.want)
		}
	}
}
