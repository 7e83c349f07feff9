-- The dashboard (GET /v1/dashboard) reads the jobs finished in the last
-- minutes: their throughput and failures. This index makes that read cost
-- the jobs of those minutes instead of the whole table.
CREATE INDEX netsmith_job_finished ON netsmith_job (finished_at) WHERE finished_at IS NOT NULL;
