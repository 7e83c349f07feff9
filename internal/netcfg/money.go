package netcfg

import (
	"fmt"
	"strconv"
	"time"
)

// Budget is a department's spending limits; 0 means no limit.
type Budget struct {
	Department  string
	DailyNUSD   int64
	MonthlyNUSD int64
	// WarnPct is the share of a limit (in percent) at which a warning is
	// raised once per period.
	WarnPct    int64
	WebhookURL string
	UpdatedAt  time.Time
}

// BudgetUsage is a department's spend in one period.
type BudgetUsage struct {
	Period       string // "day" or "month"
	Name         string // d2026-11-29, m2026-11
	LimitNUSD    int64  // 0: no limit
	SpentNUSD    int64
	ReservedNUSD int64
}

// RemainingNUSD is what may still be reserved; -1 when there is no limit.
func (u BudgetUsage) RemainingNUSD() int64 {
	if u.LimitNUSD <= 0 {
		return -1
	}
	return max(u.LimitNUSD-u.SpentNUSD-u.ReservedNUSD, 0)
}

// BudgetError is a reservation the budget cannot cover (HTTP 402).
type BudgetError struct {
	Department string
	Usage      BudgetUsage
	// EstimateNUSD is what the submission would have reserved.
	EstimateNUSD int64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("department %q is over its %s budget: %s of %s spent, %s reserved by running jobs, %s remaining; this request needs up to %s",
		e.Department, e.Usage.Period, usd(e.Usage.SpentNUSD), usd(e.Usage.LimitNUSD), usd(e.Usage.ReservedNUSD),
		usd(e.Usage.RemainingNUSD()), usd(e.EstimateNUSD))
}

// ActiveLimitError is a submission that would take a key past its
// max_active unfinished jobs (HTTP 429).
type ActiveLimitError struct {
	Key       string
	MaxActive int64
	Active    int64
	Want      int64
}

func (e *ActiveLimitError) Error() string {
	return fmt.Sprintf("key %q may have %d unfinished jobs; it has %d and this request adds %d",
		e.Key, e.MaxActive, e.Active, e.Want)
}

// BudgetAlert is a department crossing its warning share of a limit; it is
// returned once per period, to the replica whose reservation crossed it.
type BudgetAlert struct {
	Department string
	Usage      BudgetUsage
	WarnPct    int64
	WebhookURL string
}

func usd(n int64) string { return "$" + strconv.FormatFloat(float64(n)/1e9, 'f', 4, 64) }

// Charge kinds.
const (
	ChargeCall      = "call"       // a model call the job made
	ChargeBatchCall = "batch_call" // a request inside a Message Batch
	ChargeCacheHit  = "cache_hit"  // a template the job reused (cost 0)
)

// Charge is one ledger entry a job's result carries.
type Charge struct {
	Kind                              string
	Provider, Model                   string
	InputTokens, OutputTokens         int64
	CacheWriteTokens, CacheReadTokens int64
	CostNUSD                          int64
	// SavedNUSD is what a cache hit did not pay.
	SavedNUSD int64
}

// CostRow is one group of a cost report.
type CostRow struct {
	Group        string `json:"group"`
	Requests     int64  `json:"requests"` // ledger rows: calls and cache hits
	Calls        int64  `json:"calls"`
	CacheHits    int64  `json:"cache_hits"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostNUSD     int64  `json:"-"`
	SavedNUSD    int64  `json:"-"`
}
