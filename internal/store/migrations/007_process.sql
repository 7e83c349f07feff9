-- One row per running netsmith process, written by the process every few
-- seconds (its heartbeat): the cluster's live workers, and which version
-- each process runs. Times are Unix milliseconds.
CREATE TABLE netsmith_process (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    version    TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX netsmith_process_last_seen ON netsmith_process (last_seen);
