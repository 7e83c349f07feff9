-- Status reads remember a job until it changes (package jobstatus). Every
-- change of a job's row is announced at its commit on the channel
-- netsmith_job, the payload "<id> <updated_at>": the replicas' listeners
-- forget their copy, and the timestamp gives the feed's lag. Inserts are
-- not announced: a job nobody has read is nobody's copy. PostgreSQL only;
-- on SQLite the readers poll.
CREATE FUNCTION netsmith_job_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('netsmith_job', OLD.id || ' 0');
    ELSE
        PERFORM pg_notify('netsmith_job', NEW.id || ' ' || NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER netsmith_job_notify AFTER UPDATE OR DELETE ON netsmith_job
    FOR EACH ROW EXECUTE FUNCTION netsmith_job_notify();
