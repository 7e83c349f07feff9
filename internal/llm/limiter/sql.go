package limiter

import "strings"

// The statements are written once and specialised per dialect: GREATEST and
// LEAST are max and min on SQLite, and "now" is either the caller's clock
// ($3, Unix microseconds) or, on PostgreSQL when $3 is NULL, the server's
// statement_timestamp(), so that replicas with skewed clocks still agree.
//
// Every statement that reads and writes the state is a single UPDATE whose
// WHERE and SET clauses refer only to the row's own columns and to
// constants. Under PostgreSQL's READ COMMITTED, two such UPDATEs on one row
// serialise on its row lock, and the second re-evaluates its WHERE and SET
// against the row the first committed (EvalPlanQual), so there is no
// read-modify-write window in which two callers can spend the same
// capacity. (A row whose snapshot version fails the WHERE is skipped even
// if a newer version would pass: a spurious refusal, after which the
// caller looks again. Every race errs towards waiting.) SQLite has one
// writer at a time, which gives the same.
//
// On PostgreSQL the writes also call set_config('synchronous_commit',
// 'off', true) in their WHERE: it applies to the statement's own implicit
// transaction, which then commits without waiting for the WAL flush.
// Visibility and ordering are unchanged; only durability across a server
// crash is, and losing the last moments of limiter state is harmless.
//
// Every statement takes $1 provider, $2 model and $3 now (µs, or NULL for
// the server's clock). Those that use {f}, the AIMD multiplier now (the
// stored factor plus what it has recovered since factor_at_us, between the
// floor and 1), also take $4 the floor and $5 the recovery per µs.
const (
	fragF = `{least}(1.0, {greatest}(CAST($4 AS DOUBLE PRECISION),
		factor + ({now} - factor_at_us) * CAST($5 AS DOUBLE PRECISION)))`

	// Increments at the current multiplier, in µs, from $6..$8 (the
	// increments at full rate: requests, input tokens, output tokens), and
	// each dimension's tolerance: a call may go when its limit's theoretical
	// arrival time is at most now + max(burst - increment, 0), i.e. when it
	// fits in the burst window ($9 µs), or when it is larger than the window
	// and nothing is owed.
	fragIncReq = `(CAST($6 AS DOUBLE PRECISION) / {f})`
	fragIncIn  = `(CAST($7 AS DOUBLE PRECISION) / {f})`
	fragIncOut = `(CAST($8 AS DOUBLE PRECISION) / {f})`
	fragTolReq = `({now} + {greatest}(CAST($9 AS BIGINT) - {increq}, 0))`
	fragTolIn  = `({now} + {greatest}(CAST($9 AS BIGINT) - {incin}, 0))`
	fragTolOut = `({now} + {greatest}(CAST($9 AS BIGINT) - {incout}, 0))`

	// sqlAcquire admits one call if every limit and the pause allow it, and
	// advances the three GCRA clocks in the same statement. No row means
	// not now (or no state row yet); sqlWait then says how long.
	sqlAcquire = `UPDATE netsmith_upstream_limit SET
		tat_req_us = {greatest}(tat_req_us, {now}) + CAST({increq} AS BIGINT),
		tat_in_us  = {greatest}(tat_in_us,  {now}) + CAST({incin} AS BIGINT),
		tat_out_us = {greatest}(tat_out_us, {now}) + CAST({incout} AS BIGINT)
	WHERE provider = $1 AND model = $2{async}
		AND paused_until_us <= {now}
		AND tat_req_us <= {tolreq}
		AND tat_in_us  <= {tolin}
		AND tat_out_us <= {tolout}
	RETURNING {f} AS f`

	// sqlWait says, per reason, how many µs remain before sqlAcquire with the
	// same parameters would admit the call (zero or less: now).
	sqlWait = `SELECT
		CAST(paused_until_us - {now} AS BIGINT),
		CAST(tat_req_us - {tolreq} AS BIGINT),
		CAST(tat_in_us  - {tolin}  AS BIGINT),
		CAST(tat_out_us - {tolout} AS BIGINT)
	FROM netsmith_upstream_limit WHERE provider = $1 AND model = $2`

	// sqlAcquireOrWait is sqlAcquire and, when it admits nothing, sqlWait in
	// one round trip (PostgreSQL; SQLite has no UPDATE in WITH, and runs the
	// two in turn). The fallback SELECT reads the statement's snapshot,
	// which may predate the row version the UPDATE rechecked: its wait can
	// then be short, and the caller simply tries again.
	sqlAcquireOrWait = `WITH admitted AS (` + sqlAcquire + `)
	SELECT f, 0, 0, 0, 0 FROM admitted
	UNION ALL
	SELECT CAST(0 AS DOUBLE PRECISION),
		CAST(paused_until_us - {now} AS BIGINT),
		CAST(tat_req_us - {tolreq} AS BIGINT),
		CAST(tat_in_us  - {tolin}  AS BIGINT),
		CAST(tat_out_us - {tolout} AS BIGINT)
	FROM netsmith_upstream_limit
	WHERE provider = $1 AND model = $2 AND NOT EXISTS (SELECT 1 FROM admitted)`

	// sqlAdjust moves the three clocks by $4..$6 µs: positive to charge
	// more (usage above the estimate), negative to give back (unused
	// max_tokens, a call that never left). A refund never takes a clock
	// below now: capacity unused in the past cannot be banked.
	sqlAdjust = `UPDATE netsmith_upstream_limit SET
		tat_req_us = {greatest}({greatest}(tat_req_us, {now}) + CAST($4 AS BIGINT), {now}),
		tat_in_us  = {greatest}({greatest}(tat_in_us,  {now}) + CAST($5 AS BIGINT), {now}),
		tat_out_us = {greatest}({greatest}(tat_out_us, {now}) + CAST($6 AS BIGINT), {now})
	WHERE provider = $1 AND model = $2{async}`

	// sqlPause holds every call back until now + $4 µs (or longer if a
	// longer pause is already in force).
	sqlPause = `UPDATE netsmith_upstream_limit SET
		paused_until_us = {greatest}(paused_until_us, {now} + CAST($4 AS BIGINT))
	WHERE provider = $1 AND model = $2{async}`

	// sqlThrottled records a 429: pause until now + $6 µs and multiply the
	// rate by $7 (not below the floor), unless a pause is already in force
	// or the last cut is younger than $8 µs: the 429s of calls that were in
	// flight together are one signal, not many. It returns the multiplier
	// and whether this call cut it.
	sqlThrottled = `UPDATE netsmith_upstream_limit SET
		factor = CASE WHEN {now} >= {greatest}(paused_until_us, factor_at_us + CAST($8 AS BIGINT))
			THEN {greatest}(CAST($4 AS DOUBLE PRECISION), {f} * CAST($7 AS DOUBLE PRECISION))
			ELSE factor END,
		factor_at_us = CASE WHEN {now} >= {greatest}(paused_until_us, factor_at_us + CAST($8 AS BIGINT))
			THEN {now} ELSE factor_at_us END,
		paused_until_us = {greatest}(paused_until_us, {now} + CAST($6 AS BIGINT))
	WHERE provider = $1 AND model = $2{async}
	RETURNING factor, CAST(CASE WHEN factor_at_us = {now} THEN 1 ELSE 0 END AS BIGINT)`

	// sqlEnsure creates the state row. ON CONFLICT DO NOTHING makes
	// concurrent replicas starting together harmless.
	sqlEnsure = `INSERT INTO netsmith_upstream_limit (provider, model) VALUES ($1, $2)
		ON CONFLICT (provider, model) DO NOTHING`
)

// statements are the queries specialised for one dialect.
type statements struct {
	acquire, wait, adjust, pause, throttled, ensure string
	acquireOrWait                                   string // "" on SQLite
}

func newStatements(dialect string) statements {
	now := `CAST($3 AS BIGINT)`
	greatest, least, async := "max", "min", ""
	if dialect == "postgres" {
		now = `COALESCE(CAST($3 AS BIGINT), CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000 AS BIGINT))`
		greatest, least = "GREATEST", "LEAST"
		async = "\n\t\tAND set_config('synchronous_commit', 'off', true) = 'off'"
	}
	// Expand the fragments innermost last, so that each may use the ones
	// replaced after it.
	steps := [][2]string{
		{"{tolreq}", fragTolReq}, {"{tolin}", fragTolIn}, {"{tolout}", fragTolOut},
		{"{increq}", fragIncReq}, {"{incin}", fragIncIn}, {"{incout}", fragIncOut},
		{"{f}", fragF},
		{"{now}", now}, {"{greatest}", greatest}, {"{least}", least}, {"{async}", async},
	}
	expand := func(q string) string {
		for _, s := range steps {
			q = strings.ReplaceAll(q, s[0], s[1])
		}
		return q
	}
	st := statements{
		acquire:   expand(sqlAcquire),
		wait:      expand(sqlWait),
		adjust:    expand(sqlAdjust),
		pause:     expand(sqlPause),
		throttled: expand(sqlThrottled),
		ensure:    sqlEnsure,
	}
	if dialect == "postgres" {
		st.acquireOrWait = expand(sqlAcquireOrWait)
	}
	return st
}
