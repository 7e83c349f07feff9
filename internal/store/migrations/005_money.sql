-- Money and access: API keys, the cost ledger and department budgets.
-- Amounts are integer nano-US-dollars (1 USD = 1e9), so sums are exact.

-- API keys. Only a SHA-256 of the key is stored (keys are 256-bit random,
-- so a fast hash is enough). active counts the key's unfinished jobs when
-- it has a max_active limit; tat_us is the GCRA theoretical arrival time of
-- its submissions-per-minute limit, in Unix microseconds.
CREATE TABLE netsmith_key (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    department  TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    rpm         BIGINT NOT NULL DEFAULT 0,
    max_active  BIGINT NOT NULL DEFAULT 0,
    active      BIGINT NOT NULL DEFAULT 0,
    tat_us      BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX netsmith_key_name ON netsmith_key (name) WHERE revoked_at IS NULL;

-- What a job still holds until it reaches a final state: its budget
-- reservation and its slot in its key's max_active. Released exactly once,
-- by the update that makes the job final.
ALTER TABLE netsmith_job ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE netsmith_job ADD COLUMN reserved_nusd BIGINT NOT NULL DEFAULT 0;
ALTER TABLE netsmith_job ADD COLUMN holds_slot BIGINT NOT NULL DEFAULT 0;
CREATE INDEX netsmith_job_department_state ON netsmith_job (department, state);

-- One row per upstream call and per cache hit, written in the job's
-- completion transaction (id is job id and call number, so a job that
-- completes twice after a crash is charged once).
CREATE TABLE netsmith_ledger (
    id                 TEXT PRIMARY KEY,
    job_id             TEXT NOT NULL,
    batch_id           TEXT NOT NULL DEFAULT '',
    key_id             TEXT NOT NULL DEFAULT '',
    owner              TEXT NOT NULL DEFAULT '',
    department         TEXT NOT NULL DEFAULT '',
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    input_tokens       BIGINT NOT NULL,
    output_tokens      BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cache_read_tokens  BIGINT NOT NULL,
    cost_nusd          BIGINT NOT NULL,
    saved_nusd         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX netsmith_ledger_created ON netsmith_ledger (created_at);
CREATE INDEX netsmith_ledger_department ON netsmith_ledger (department, created_at);
CREATE INDEX netsmith_ledger_batch ON netsmith_ledger (batch_id) WHERE batch_id <> '';

-- Budgets per department; 0 means no limit for that period.
CREATE TABLE netsmith_budget (
    department   TEXT PRIMARY KEY,
    daily_nusd   BIGINT NOT NULL DEFAULT 0,
    monthly_nusd BIGINT NOT NULL DEFAULT 0,
    warn_pct     BIGINT NOT NULL DEFAULT 80,
    webhook_url  TEXT NOT NULL DEFAULT '',
    updated_at   BIGINT NOT NULL
);

-- Spend and open reservations per department and period (UTC day
-- 'd2026-11-29' or month 'm2026-11'). warned is set once per period by the
-- replica that crossed warn_pct, so the alert fires once.
CREATE TABLE netsmith_budget_usage (
    department    TEXT NOT NULL,
    period        TEXT NOT NULL,
    reserved_nusd BIGINT NOT NULL DEFAULT 0,
    spent_nusd    BIGINT NOT NULL DEFAULT 0,
    warned        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (department, period)
);
