// Package limiter keeps a whole netsmith cluster inside an LLM provider's
// rate limits: requests, input tokens and output tokens per minute, per
// provider and model, shared by every replica through the database.
//
// # Use
//
// Wrap a provider's client; the result is an llm.Client whose calls of
// each limiter's model wait for capacity and settle afterwards:
//
//	l, err := limiter.New(ctx, conn, dialect, limiter.Config{
//		Provider: "anthropic", Model: model,
//		Limits:   limiter.Limits{RPM: 50, InputTPM: 30000, OutputTPM: 8000},
//		Throttled: m.UpstreamThrottled, Logger: log,
//	})
//	...
//	client = limiter.Wrap(client, l)
//
// Client.Generate does what a caller of a Limiter itself must:
//
//	res, err := l.Acquire(ctx, estimatedInputTokens, int64(req.MaxTokens))
//	// err: ctx ended, or a *WaitError (the wait outlasts ctx's deadline;
//	// its Wait is a good snooze).
//	resp, err := client.Call(ctx, req)
//	switch {
//	case err == nil:
//		res.Settle(ctx, resp.Usage)     // give back unused max_tokens
//		l.Observe(ctx, resp.RateLimits) // adopt the provider's limits
//	case a 429:
//		l.OnRateLimited(ctx, e.RetryAfter) // pause everyone, slow down
//		l.Observe(ctx, the error's RateLimits)
//		// the reservation stands: the provider may have counted the call
//	case the request never reached the provider:
//		res.Cancel(ctx)
//	}
//
// # Algorithm
//
// Each limit is a GCRA (generic cell rate algorithm) clock: a theoretical
// arrival time tat, in Unix microseconds, that moves forward by the cost of
// every admitted call (1 request, or n tokens, times 60 s / limit). A call is
// admitted when, for every limit, tat <= now + max(burst - cost, 0): it fits
// in the burst window (Config.Burst, 1 s by default), or it is larger than
// the window and nothing is owed. Over any interval t at most
// limit × (t + burst) / 1 min goes, plus one call. Anthropic's limits are
// token buckets refilled continuously and may be enforced over short
// intervals, so a short burst keeps the cluster from overrunning them after
// an idle spell. The window is Config.Burst less a quarter: calls reach
// the provider a little after they are admitted, and while a burst is on
// its way the provider's bucket, full after the idle spell, refills
// nothing, so the calls admitted here meanwhile arrive on top of it. With
// the limits equal on both sides (bench s3-rate.sh), a burst that exactly
// fills the provider's bucket gives 429s at start-up, and the pause and cut
// that follow; a quarter less lets the burst take a quarter of the window
// to arrive (see jitterShare). Large calls borrow: a
// call costing more than the window goes alone and the next one waits
// until it is paid for.
//
// The three clocks, a pause deadline and the AIMD multiplier live in one row
// of netsmith_upstream_limit per provider and model. Acquire is one UPDATE
// … WHERE <the pause is over and every limit allows it> RETURNING; on
// PostgreSQL it is wrapped in a WITH whose fallback SELECT says how long to
// wait and why, so one round trip answers either way (SQLite runs the
// SELECT second). Race freedom comes from the single statement: under READ
// COMMITTED, concurrent UPDATEs of the row queue on its row lock and each
// re-evaluates its WHERE and SET against the version the previous one
// committed, so no two callers can spend the same capacity (see sql.go).
// These writes commit with synchronous_commit off: a database crash may
// forget the last fraction of a second of limiter state, which costs at
// most one burst, and each call saves a WAL flush, most of an Acquire's
// time (BenchmarkAcquire).
//
// Output tokens are charged at max_tokens up front and settled from actual
// usage (as Anthropic does); input tokens are charged from the caller's
// estimate and settled the same way. A refund never takes a clock below
// now, so unused capacity is not banked.
//
// # Backing off
//
// OnRateLimited (a 429 reached us anyway: another client shares the key, or
// the configured limits are too high) pauses every replica until
// retry-after and multiplies the rates by 0.7, not below Config.MinFactor.
// 0.7 rather than TCP Reno's 0.5 (it is CUBIC's): the limits are known, so
// a 429 says the cluster is at the provider's limit, not far beyond it, and
// a halving costs a run at the limit (bench s3-rate.sh) much of its rate for
// a single 429, while 429s that go on keep cutting (0.7, 0.49, 0.34, …).
// The multiplier climbs back linearly, from 0 to 1 over Config.Recovery
// (1 minute by default), computed from the time of the cut in each query,
// so nothing needs to run in the background. 429s that arrive during the
// pause, or within a second of the last cut, do not cut again: calls that
// were in flight together are one signal. Observe adopts a provider's
// advertised limit when it is lower than the configured one and, when a
// limit's remaining count is zero, pauses every replica until the reported
// reset or until a burst's worth has refilled, whichever comes first
// (Anthropic's reset is when its bucket is full again, often a minute away
// though the next call fits far sooner).
//
// # Within a process
//
// Callers that must wait queue in FIFO order; only the head of the queue
// polls the database, sleeping as long as the database said (at most a
// second, and less when a Settle or Cancel in this process gives back what
// it waits for). So while throttled a replica adds about one query per
// admitted call however many workers it runs, and the cluster about one per
// replica and call. A large call at the head holds smaller ones behind it;
// across replicas there is no such order, and under sustained overload a
// large call can lose to a stream of small ones from other replicas.
//
// Without limits (none configured, none reported) a call is held back only
// by a pause, and a replica reads the pause once for all the calls of the
// next 50 ms that find none; a pause it sets itself applies to its next
// call, one another replica sets within those 50 ms.
//
// # Time
//
// On PostgreSQL the limiter uses the database server's clock unless
// Config.Clock is set, so replicas with skewed clocks share one timeline.
// On SQLite (one process) it uses Config.Clock or time.Now. Waits are real
// timers in either case; Clock exists for tests that drive the arithmetic.
package limiter
