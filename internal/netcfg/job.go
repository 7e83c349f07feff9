package netcfg

import (
	"encoding/json"
	"errors"
	"time"
)

// Job is one submitted job with its result, if any (package store keeps
// it in netsmith_job and netsmith_result).
type Job struct {
	ID         string
	Kind       JobKind
	State      JobState
	Department string
	Owner      string
	// KeyID is the API key that submitted the job ("" without keys).
	KeyID string
	// ReservedNUSD is the budget reservation the job holds until it is
	// final; HoldsSlot says it counts against its key's max_active.
	ReservedNUSD   int64
	HoldsSlot      bool
	IdempotencyKey string
	RequestHash    string
	Request        json.RawMessage
	RiverJobID     int64
	BatchID        string
	// IntentKey is the template-cache key of a batch device's intent (""
	// for single jobs and batches run without the cache).
	IntentKey   string
	Attempts    int
	MaxAttempts int
	Error       string
	CreatedAt   time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	ExpiresAt   time.Time
	UpdatedAt   time.Time
	Result      *Result
}

// Result is what a succeeded job produced.
type Result struct {
	Body         json.RawMessage // the kind-specific result document
	Provider     string
	Model        string
	InputTokens  int64
	OutputTokens int64
	Duration     time.Duration
	CreatedAt    time.Time
	// Cache is how the template cache served this job: "" (not used),
	// "hit", "miss", "coalesced" or "fallback"; CacheKey is the entry.
	Cache    string
	CacheKey string
	// SavedInputTokens and SavedOutputTokens are what a hit did not pay.
	SavedInputTokens  int64
	SavedOutputTokens int64
	// Charges are the job's ledger entries: its model calls and cache hits.
	Charges []Charge
}

// ErrConflict is returned when an idempotency key is reused with a different
// request.
var ErrConflict = errors.New("idempotency key reused with a different request")

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// JobVersion is what changes whenever a job's row does: an event stream
// compares it to learn that its job changed in another process.
type JobVersion struct {
	State     JobState
	Attempts  int
	UpdatedAt int64 // Unix ms
}

// VersionOf is j's JobVersion.
func VersionOf(j *Job) JobVersion {
	return JobVersion{State: j.State, Attempts: j.Attempts, UpdatedAt: j.UpdatedAt.UnixMilli()}
}

// JobFilter selects the jobs store.ListJobs returns; a zero field matches every
// job.
type JobFilter struct {
	Department string
	State      JobState
	BatchID    string
	// After is the keyset cursor: the last job of the previous page, by
	// its creation time and id. Pages go from the newest job back.
	AfterCreated time.Time
	AfterID      string
	Limit        int
}
