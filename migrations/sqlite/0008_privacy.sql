-- Retention purge and personal-data erasure (store/src/privacy.rs) are the
-- only statements allowed to delete or rewrite audit log rows and to
-- blank the author of a published course version. They mark their own
-- transaction by writing the one row of `purge_in_progress` (and delete it
-- again before committing, so no other transaction ever sees it: SQLite
-- has one writer at a time and readers see only committed data). Every
-- other UPDATE or DELETE is still refused by the triggers below.
CREATE TABLE purge_in_progress (
    flag INTEGER PRIMARY KEY NOT NULL CHECK (flag = 1)
);

DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM purge_in_progress)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM purge_in_progress)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

DROP TRIGGER course_versions_immutable;

CREATE TRIGGER course_versions_immutable BEFORE UPDATE ON course_versions
WHEN NOT EXISTS (SELECT 1 FROM purge_in_progress)
BEGIN
    SELECT RAISE(ABORT, 'course versions are immutable');
END;
