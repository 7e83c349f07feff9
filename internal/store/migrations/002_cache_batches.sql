-- Template cache entries, batches, and what each result owes to the cache.
CREATE TABLE netsmith_template (
    key            TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL,
    body           TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL DEFAULT '',
    platform       TEXT NOT NULL DEFAULT '',
    hostname       TEXT NOT NULL DEFAULT '',
    intent         TEXT NOT NULL DEFAULT '',
    provider       TEXT NOT NULL DEFAULT '',
    model          TEXT NOT NULL DEFAULT '',
    prompt_version TEXT NOT NULL DEFAULT '',
    input_tokens   BIGINT NOT NULL DEFAULT 0,
    output_tokens  BIGINT NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL DEFAULT '',
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    BIGINT NOT NULL DEFAULT 0,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX netsmith_template_role ON netsmith_template (role);
CREATE INDEX netsmith_template_platform ON netsmith_template (platform);
CREATE INDEX netsmith_template_hostname ON netsmith_template (hostname);

CREATE TABLE netsmith_batch (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    department TEXT NOT NULL DEFAULT '',
    devices    BIGINT NOT NULL,
    intents    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE netsmith_result ADD COLUMN cache TEXT NOT NULL DEFAULT '';
ALTER TABLE netsmith_result ADD COLUMN cache_key TEXT NOT NULL DEFAULT '';
ALTER TABLE netsmith_result ADD COLUMN saved_input_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE netsmith_result ADD COLUMN saved_output_tokens BIGINT NOT NULL DEFAULT 0;
