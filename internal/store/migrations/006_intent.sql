-- Fleet batches at speed.
--
-- A fleet batch's device jobs name their intent's template-cache key, so
-- that a worker holding a fresh template can finish the intent's other
-- queued devices in one transaction (queue: the sweep) instead of one
-- queue round trip each.
ALTER TABLE netsmith_job ADD COLUMN intent_key TEXT;
CREATE INDEX netsmith_job_batch_intent ON netsmith_job (batch_id, intent_key) WHERE intent_key IS NOT NULL;

-- A batch's progress is read several times a second while it runs. These
-- two indexes cover it, so that reading it touches neither the job rows
-- (with their requests) nor the result rows (with their configs): results
-- now carry their batch. The first also serves
-- `GET /v1/batches/{id}/results?since=`.
CREATE INDEX netsmith_job_batch_state ON netsmith_job (batch_id, state, finished_at, started_at) WHERE batch_id IS NOT NULL;
DROP INDEX netsmith_job_batch;
ALTER TABLE netsmith_result ADD COLUMN batch_id TEXT;
UPDATE netsmith_result SET batch_id = (SELECT j.batch_id FROM netsmith_job j WHERE j.id = netsmith_result.job_id);
CREATE INDEX netsmith_result_batch ON netsmith_result
    (batch_id, cache, input_tokens, output_tokens, saved_input_tokens, saved_output_tokens) WHERE batch_id IS NOT NULL;
