-- Scheduled jobs (group sync, reminders, backups, purge, personal-data
-- reporting) run in one server process at a time: a process takes a job's
-- lease before running it (store/src/jobs.rs). A lease that expires (its
-- process died) can be taken by another.
CREATE TABLE job_locks (
    name           TEXT PRIMARY KEY NOT NULL,
    holder         TEXT NOT NULL,
    expires_at_ms  INTEGER NOT NULL
);
