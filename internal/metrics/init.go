package metrics

import "runtime/debug"

// The reasons netsmith_jobs_total gives a job's final state: ReasonNone for
// succeeded, and for the others why it ended. The set is closed, so the
// label stays bounded and every series exists from start.
const (
	ReasonNone        = "none"
	ReasonUpstream4xx = "upstream_4xx" // the model's API refused the request (a 4xx)
	ReasonUpstream5xx = "upstream_5xx" // the model's API failed, was overloaded or unreachable
	ReasonTimeout     = "timeout"      // an attempt ran out of time
	ReasonExpired     = "expired"      // not started before its expiry
	ReasonCanceled    = "canceled"     // canceled by request
	ReasonLint        = "lint"         // the model's output could not be made a valid config
	ReasonInternal    = "internal"     // anything else (budget spent at run time, the queue lost it)
)

// jobOutcomes are the status and reason pairs netsmith_jobs_total counts.
var jobOutcomes = [][2]string{
	{"succeeded", ReasonNone},
	{"failed", ReasonUpstream4xx}, {"failed", ReasonUpstream5xx}, {"failed", ReasonTimeout},
	{"failed", ReasonLint}, {"failed", ReasonInternal},
	{"expired", ReasonExpired},
	{"canceled", ReasonCanceled},
}

// jobKinds are the job kinds (netcfg.JobKind) counted from start.
var jobKinds = []string{"generate", "analyze"}

// The label values known before the first event, so that every counter is
// exported (at 0) from the first scrape: rate() and absent() then work on a
// fresh process, and an alert on an increase sees the first one.
var (
	cacheResults    = []string{"hit", "miss", "coalesced", "fallback"}
	throttleReasons = []string{"rpm", "itpm", "otpm", "pause", "429"}
	callOutcomes    = []string{"ok", "transient", "rate_limited", "permanent"}
	tokenTypes      = []string{"input", "output", "cache_read", "cache_write"}
)

func (m *Metrics) zero() {
	for _, k := range jobKinds {
		for _, o := range jobOutcomes {
			m.JobsTotal.WithLabelValues(k, o[0], o[1])
		}
		m.JobDuration.WithLabelValues(k)
	}
	for _, r := range cacheResults {
		m.CacheRequests.WithLabelValues(r)
	}
	for _, r := range []string{"hit_final", "hit_open", "miss"} {
		m.StatusReads.WithLabelValues(r)
	}
	for _, s := range []string{"notify", "poll"} {
		m.StatusFeed.WithLabelValues(s)
	}
}

// InitProvider exports the upstream counters of provider and its models
// at 0, as New does for the rest.
func (m *Metrics) InitProvider(provider string, models ...string) {
	for _, r := range throttleReasons {
		m.UpstreamThrottled.WithLabelValues(provider, r)
	}
	for _, model := range models {
		if model == "" {
			continue
		}
		for _, o := range callOutcomes {
			m.LLMRequests.WithLabelValues(provider, model, o)
		}
		for _, t := range tokenTypes {
			m.LLMTokens.WithLabelValues(provider, model, t)
		}
	}
}

// buildVersion is the module version and VCS revision the Go toolchain
// recorded in this binary ("(devel)" and "unknown" when it recorded none).
func buildVersion() (version, revision string) {
	version, revision = "(devel)", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			revision = s.Value
		}
	}
	return
}

// Version is the version netsmith_build_info reports, for the heartbeat
// rows that tell which version each process runs.
func Version() string {
	v, r := buildVersion()
	if r != "unknown" && len(r) > 12 {
		r = r[:12]
	}
	return v + " " + r
}
