package netcfg

import (
	"regexp"
	"strings"
	"time"
)

// JobOverview is the jobs by state and the age of the oldest one waiting.
type JobOverview struct {
	// States counts every open job (queued, running, retrying) and the
	// jobs that reached each final state since the overview's since.
	States map[JobState]int64
	// OldestQueued is the creation time of the oldest queued job (zero when
	// none is queued).
	OldestQueued time.Time
}

// ThroughputBucket is the jobs that reached a final state in one interval.
type ThroughputBucket struct {
	Start     time.Time
	Succeeded int64
	// Failed counts failed, canceled and expired jobs.
	Failed int64
}

// Failure reasons, bounded: the same names as netsmith_jobs_total's reason
// label.
const (
	ReasonUpstream4xx = "upstream_4xx"
	ReasonUpstream5xx = "upstream_5xx"
	ReasonTimeout     = "timeout"
	ReasonExpired     = "expired"
	ReasonCanceled    = "canceled"
	ReasonLint        = "lint"
	ReasonInternal    = "internal"
)

// upstreamStatus finds the HTTP status in a model call's error text:
// llm.Error writes "provider STATUS type: message".
var upstreamStatus = regexp.MustCompile(`^(?:gave up after \d+ attempts: )?[a-z][a-z0-9_-]* ([1-5]\d\d)\b`)

// FailureReason classifies a job that ended state with error text msg. The
// job row keeps only the text, so the class is read from it: the state for
// expired and canceled jobs, the upstream's HTTP status, a deadline, lint.
func FailureReason(state JobState, msg string) string {
	switch state {
	case StateExpired:
		return ReasonExpired
	case StateCanceled:
		return ReasonCanceled
	}
	if m := upstreamStatus.FindStringSubmatch(msg); m != nil {
		switch m[1][0] {
		case '4':
			return ReasonUpstream4xx
		case '5':
			return ReasonUpstream5xx
		}
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "deadline exceeded") || strings.Contains(low, "timeout") || strings.Contains(low, "timed out"):
		return ReasonTimeout
	case strings.Contains(low, "lint"):
		return ReasonLint
	}
	return ReasonInternal
}

// Failure is one job that did not succeed.
type Failure struct {
	JobID      string
	BatchID    string
	Department string
	State      JobState
	Reason     string
	Error      string
	FinishedAt time.Time
}

// Failures is the failed, canceled and expired jobs of a window: counts by
// reason over the newest ones read, and the latest few.
type Failures struct {
	ByReason map[string]int64
	Latest   []Failure
	// Read is how many jobs ByReason covers; Truncated says the window held
	// more than were read.
	Read      int
	Truncated bool
}

// DepartmentSpend is a department's ledger since the start of the UTC day,
// against its budget.
type DepartmentSpend struct {
	Department string
	// SpentNUSD and SavedNUSD are the ledger's cost and cache savings;
	// Calls its model calls and CacheHits its cache hits.
	SpentNUSD, SavedNUSD int64
	Calls, CacheHits     int64
	// ReservedNUSD is what unfinished jobs hold of today's budget.
	ReservedNUSD int64
	// DailyNUSD is the daily budget (0: none); WarnPct its warning level.
	DailyNUSD int64
	WarnPct   int64
}

// UpstreamState is one provider and model's row of the upstream limiter's
// shared table (package llm/limiter).
type UpstreamState struct {
	Provider, Model string
	// PausedUntil is when the pause a 429 started ends (zero or past: not
	// paused).
	PausedUntil time.Time
	// Factor is the share of the configured rates the cluster runs at:
	// each 429 cuts it, and it climbs back to 1 over time. This is the
	// stored value as of FactorAt.
	Factor   float64
	FactorAt time.Time
	// Ahead is how far each limit's clock runs ahead of now (requests,
	// input tokens, output tokens): the wait a call that needs the whole
	// burst would see. Zero when the limit has room.
	AheadReq, AheadIn, AheadOut time.Duration
}
