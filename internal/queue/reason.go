package queue

import (
	"context"
	"errors"

	"netsmith/internal/metrics"
)

// failureReason is the bounded reason netsmith_jobs_total gives a job
// that failed with err: a PermanentError's Reason, else the reason an
// error in err's chain tells (llm.Error: upstream_4xx or upstream_5xx),
// else timeout for a deadline, else internal.
func failureReason(err error) string {
	var perm *PermanentError
	if errors.As(err, &perm) && perm.Reason != "" {
		return perm.Reason
	}
	var r interface{ FailureReason() string }
	if errors.As(err, &r) {
		if s := r.FailureReason(); s != "" {
			return s
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return metrics.ReasonTimeout
	}
	return metrics.ReasonInternal
}
