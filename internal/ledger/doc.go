// Package ledger is netsmith's money: what a call costs (prices), the
// ledger rows of calls and cache hits (charges), budgets per department,
// the reservations a submission holds against them, their warnings, and
// the cost reports. Budget rules run as SQL in package store, in the
// transactions of the submission and the completion; this package is where
// the rest of netsmith asks for them.
package ledger
