package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Cluster is the whole cluster's state, read from the database by one
// process.
type Cluster struct {
	// Depth is the jobs not yet final, by state (queued, running, retrying).
	Depth map[string]float64
	// OldestAge is, by state, how long the oldest job in it has been
	// there: queued since it was submitted, running since it started.
	// A state with no job has 0.
	OldestAge map[string]time.Duration
	// LiveWorkers is the worker processes (role worker or all) whose
	// heartbeat is recent.
	LiveWorkers int
}

// ClusterFunc reads the cluster's state. leader is false on every process
// but one (the queue's leader), which alone exports it: each replica
// exporting the same cluster-wide numbers made sum() over replicas a
// multiple of the truth.
type ClusterFunc func(ctx context.Context) (c Cluster, leader bool, err error)

// RegisterCluster adds the cluster-wide gauges, read by f at scrape, each
// exported by the leader only: netsmith_queue_depth{state},
// netsmith_queue_oldest_age_seconds{state} and netsmith_workers_live; and
// netsmith_cluster_leader, 1 on the leader and 0 elsewhere, on every
// process.
func RegisterCluster(reg prometheus.Registerer, f ClusterFunc) {
	reg.MustRegister(&clusterCollector{f: f,
		depth: prometheus.NewDesc("netsmith_queue_depth",
			"Jobs not yet final in the whole cluster, by state (queued, running, retrying); exported by the leader only.",
			[]string{"state"}, nil),
		oldest: prometheus.NewDesc("netsmith_queue_oldest_age_seconds",
			"Age of the oldest job in a state: queued since submitted, running since started; exported by the leader only.",
			[]string{"state"}, nil),
		live: prometheus.NewDesc("netsmith_workers_live",
			"Worker processes (role worker or all) with a heartbeat in the database; exported by the leader only.", nil, nil),
		leader: prometheus.NewDesc("netsmith_cluster_leader",
			"1 on the process that exports the cluster-wide gauges (the queue's leader), else 0.", nil, nil),
	})
}

// clusterReadTimeout bounds the database reads of one scrape.
const clusterReadTimeout = 2 * time.Second

type clusterCollector struct {
	f                           ClusterFunc
	depth, oldest, live, leader *prometheus.Desc
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.live
	ch <- c.leader
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterReadTimeout)
	defer cancel()
	st, leader, err := c.f(ctx)
	if err != nil || !leader {
		// Nothing rather than a wrong number: the leader's absence shows
		// as absent(netsmith_queue_depth), which the rules alert on.
		ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, 1)
	for state, n := range st.Depth {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, n, state)
	}
	for state, d := range st.OldestAge {
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, d.Seconds(), state)
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, float64(st.LiveWorkers))
}
