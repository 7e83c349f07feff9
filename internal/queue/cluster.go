package queue

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// HeartbeatInterval is how often a process writes its heartbeat row
// (store.Heartbeat); a process not seen for liveAfter counts as gone.
const (
	HeartbeatInterval = 5 * time.Second
	liveAfter         = 3 * HeartbeatInterval
	// forgetAfter is when a dead process's row is deleted.
	forgetAfter = time.Hour
)

func (e *riverEngine[TDriver, TTx]) id() string { return e.client.ID() }

// newClientID names this process's River client: host, pid and a random
// suffix. River's default (host and start time to the microsecond) can
// repeat for processes started together on one host, and two clients with
// one id confuse its leader election.
func newClientID() string {
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "_", "-", "_").Replace(cmp.Or(host, "unknown_host"))
	if len(host) > 60 {
		host = host[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s_%d_%x", host, os.Getpid(), b)
}

// ID is this process's queue client id: the leader_id River records
// while this process leads, and the id of its heartbeat row.
func (q *Queue) ID() string { return q.eng.id() }

// Leader reports whether this process is the queue's elected leader now.
// Only a process with workers takes part in the election.
func (q *Queue) Leader(ctx context.Context) (bool, error) {
	if q.cfg.Workers == 0 {
		return false, nil
	}
	var n int
	err := q.db.ReadConn().QueryRow(ctx, `SELECT count(*) FROM river_leader WHERE leader_id = $1`, q.ID()).Scan(&n)
	return n > 0, err
}

// Cluster reads the cluster-wide state the leader exports as metrics
// (metrics.RegisterCluster): on any other process it reads nothing and
// reports leader false.
func (q *Queue) Cluster(ctx context.Context) (metrics.Cluster, bool, error) {
	var c metrics.Cluster
	leader, err := q.Leader(ctx)
	if err != nil || !leader {
		return c, false, err
	}
	conn := q.db.ReadConn()
	depth, err := q.Depth(ctx)
	if err != nil {
		return c, true, err
	}
	oldest, err := store.OldestSince(ctx, conn)
	if err != nil {
		return c, true, err
	}
	now := q.cfg.Clock()
	procs, err := store.LiveProcesses(ctx, conn, now.Add(-liveAfter))
	if err != nil {
		return c, true, err
	}
	c.Depth = make(map[string]float64, len(depth))
	for s, n := range depth {
		c.Depth[string(s)] = float64(n)
	}
	c.OldestAge = map[string]time.Duration{}
	for _, s := range []netcfg.JobState{netcfg.StateQueued, netcfg.StateRunning} {
		c.OldestAge[string(s)] = 0
		if t, ok := oldest[s]; ok {
			c.OldestAge[string(s)] = max(0, now.Sub(t))
		}
	}
	for _, p := range procs {
		if p.Role != "api" {
			c.LiveWorkers++
		}
	}
	return c, true, nil
}

// heartbeat writes this process's row every HeartbeatInterval until
// stopped, then deletes it.
type heartbeat struct {
	stop func()
	done chan struct{}
}

func (q *Queue) startHeartbeat() *heartbeat {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heartbeat{stop: cancel, done: make(chan struct{})}
	now := q.cfg.Clock()
	p := store.Process{ID: q.ID(), Role: q.role(), Version: metrics.Version(), StartedAt: now}
	go func() {
		defer close(h.done)
		t := time.NewTicker(HeartbeatInterval)
		defer t.Stop()
		for {
			p.LastSeen = q.cfg.Clock()
			wctx, wcancel := context.WithTimeout(ctx, HeartbeatInterval)
			// The lazy pool: a heartbeat lost in a crash is one the next
			// replaces.
			if err := store.Heartbeat(wctx, q.db.LazyConn(), p); err != nil && ctx.Err() == nil {
				q.cfg.Logger.Warn("write heartbeat", slog.Any("error", err))
			}
			wcancel()
			select {
			case <-ctx.Done():
				dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer dcancel()
				if err := store.RemoveProcess(dctx, q.db.LazyConn(), p.ID, q.cfg.Clock().Add(-forgetAfter)); err != nil {
					q.cfg.Logger.Warn("remove heartbeat", slog.Any("error", err))
				}
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heartbeat) close() {
	h.stop()
	<-h.done
}

// role is the process role its heartbeat row records.
func (q *Queue) role() string {
	switch {
	case q.cfg.Role != "":
		return q.cfg.Role
	case q.cfg.Workers > 0:
		return "worker"
	}
	return "api"
}

// heartbeats guards the one heartbeat of a started Queue.
type heartbeats struct {
	mu sync.Mutex
	h  *heartbeat
}

func (hs *heartbeats) start(q *Queue) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.h == nil {
		hs.h = q.startHeartbeat()
	}
}

func (hs *heartbeats) stop() {
	hs.mu.Lock()
	h := hs.h
	hs.h = nil
	hs.mu.Unlock()
	if h != nil {
		h.close()
	}
}
