-- Jobs and their results. Times are Unix milliseconds. One dialect for SQLite and PostgreSQL.
CREATE TABLE netsmith_job (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    department      TEXT NOT NULL DEFAULT '',
    owner           TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    request_hash    TEXT NOT NULL,
    request         TEXT NOT NULL,
    river_job_id    BIGINT,
    batch_id        TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    max_attempts    BIGINT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    expires_at      BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX netsmith_job_idempotency ON netsmith_job (department, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX netsmith_job_state ON netsmith_job (state);
CREATE INDEX netsmith_job_batch ON netsmith_job (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE netsmith_result (
    job_id        TEXT PRIMARY KEY REFERENCES netsmith_job (id) ON DELETE CASCADE,
    body          TEXT NOT NULL,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
