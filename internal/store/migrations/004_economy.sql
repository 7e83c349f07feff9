-- Economy mode: one Message Batch per fleet batch makes the templates of the
-- intents the fleet leased at submit time.
CREATE TABLE netsmith_economy (
    batch_id         TEXT PRIMARY KEY,
    message_batch_id TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    requests         BIGINT NOT NULL DEFAULT 0,
    filled           BIGINT NOT NULL DEFAULT 0,
    released         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
