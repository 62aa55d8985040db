-- The doorbell for workers in other processes: whenever a run becomes QUEUED (created, approved, reviewed, resumed,
-- woken by its children), PostgreSQL notifies channel switchboard_runnable at commit, and listening workers claim at
-- once instead of at their next poll. Only a latency optimisation: polling still finds every run. Identical
-- notifications of one transaction are delivered once, so queueing many runs together rings once.
CREATE FUNCTION switchboard_notify_runnable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_runnable', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER runs_notify_runnable_insert
  AFTER INSERT ON "runs"
  FOR EACH ROW WHEN (NEW."status" = 'QUEUED')
  EXECUTE FUNCTION switchboard_notify_runnable();

CREATE TRIGGER runs_notify_runnable_update
  AFTER UPDATE OF "status" ON "runs"
  FOR EACH ROW WHEN (NEW."status" = 'QUEUED' AND OLD."status" IS DISTINCT FROM NEW."status")
  EXECUTE FUNCTION switchboard_notify_runnable();
