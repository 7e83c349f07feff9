-- Upstream rate-limit state shared by every replica (package llm/limiter):
-- one row per provider and model. The tat_* columns are GCRA theoretical
-- arrival times, one per limit (requests, input tokens, output tokens).
-- Unlike the rest of the store, times here are Unix MICROseconds: one token
-- at 400,000 tokens/min is 150 us, below millisecond resolution.
-- factor is the AIMD multiplier of the configured rates as it was at
-- factor_at_us; it climbs back to 1 over time (computed in the queries).
CREATE TABLE netsmith_upstream_limit (
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    tat_req_us      BIGINT NOT NULL DEFAULT 0,
    tat_in_us       BIGINT NOT NULL DEFAULT 0,
    tat_out_us      BIGINT NOT NULL DEFAULT 0,
    paused_until_us BIGINT NOT NULL DEFAULT 0,
    factor          DOUBLE PRECISION NOT NULL DEFAULT 1,
    factor_at_us    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, model)
);
