package netcfg

import "time"

// Batch is a fleet file expanded into jobs.
type Batch struct {
	ID         string
	Name       string
	Department string
	Devices    int
	Intents    int
	CreatedAt  time.Time
}

// BatchStatus is a batch with its progress.
type BatchStatus struct {
	Batch
	States       map[JobState]int64
	InputTokens  int64
	OutputTokens int64
	Cache        CacheStats
	// LLMCalls and the tokens are the batch's model calls in the ledger:
	// template fills (every try), per-device fallbacks, jobs run without
	// the cache and an economy batch's Message Batch requests.
	LLMCalls int64
	// Rejected are the batch's intents whose template was refused.
	Rejected     []RejectedTemplate
	FirstStarted time.Time
	LastFinished time.Time
}

// RejectedTemplate is an intent of a batch whose template was refused (its
// cache entry holds an invalid verdict), so its devices got calls of their
// own.
type RejectedTemplate struct {
	Key, Role, Platform string
	Reason              string
}

// CacheStats sums how results were served by the cache.
type CacheStats struct {
	Hits, Misses, Coalesced, Fallbacks  int64
	SavedInputTokens, SavedOutputTokens int64
	Entries, Ready, Invalid             int64
	// CostNUSD and SavedNUSD are the ledger's spend and cache savings.
	CostNUSD, SavedNUSD int64
}

// BatchEconomy is the economy-mode record of one fleet batch: the Message Batch
// that makes the templates of the intents the fleet leased when it was
// submitted.
type BatchEconomy struct {
	BatchID        string
	MessageBatchID string // empty until the Message Batch is created
	State          string // EconomyPending, EconomySubmitted or EconomyDone
	Requests       int64  // template requests sent
	Filled         int64  // templates stored from the batch's results
	Released       int64  // leases given back to the normal path
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Economy states.
const (
	EconomyPending   = "pending"
	EconomySubmitted = "submitted"
	EconomyDone      = "done"
)
