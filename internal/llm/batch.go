package llm

import "time"

// The Message Batches shape (Anthropic's, at half price): many requests
// sent as one batch, processed within a day, results matched by custom_id.
// Provider adapters that offer it fill these types.

// Batch processing statuses.
const (
	BatchInProgress = "in_progress"
	BatchCanceling  = "canceling"
	BatchEnded      = "ended"
)

// Batch result types.
const (
	ResultSucceeded = "succeeded"
	ResultErrored   = "errored"
	ResultCanceled  = "canceled"
	ResultExpired   = "expired"
)

// BatchRequest is one request of a Message Batch. CustomID must be unique in
// the batch and match ^[a-zA-Z0-9_-]{1,64}$.
type BatchRequest struct {
	CustomID string
	Request  Request
}

// BatchCounts counts a batch's requests by state.
type BatchCounts struct {
	Processing int64 `json:"processing"`
	Succeeded  int64 `json:"succeeded"`
	Errored    int64 `json:"errored"`
	Canceled   int64 `json:"canceled"`
	Expired    int64 `json:"expired"`
}

// Batch is a Message Batch. Times the API reports as null are zero.
type Batch struct {
	ID                string
	ProcessingStatus  string // BatchInProgress, BatchCanceling or BatchEnded
	RequestCounts     BatchCounts
	CreatedAt         time.Time
	ExpiresAt         time.Time
	EndedAt           time.Time
	CancelInitiatedAt time.Time
	ArchivedAt        time.Time
	ResultsURL        string
	RequestID         string // of the HTTP response that returned the batch
}

// Ended reports whether the batch's results can be fetched.
func (b *Batch) Ended() bool { return b.ProcessingStatus == BatchEnded }

// BatchResult is the outcome of one request of a batch. Response is set when
// Type is ResultSucceeded; Err otherwise (classified from error.type for
// errored requests, Transient for canceled and expired ones, which can be
// sent again).
type BatchResult struct {
	CustomID string
	Type     string
	Response *Response
	Err      *Error
}
