-- Retention purge and personal-data erasure (store/src/privacy.rs) are the
-- only statements allowed to delete or rewrite audit log rows and to
-- blank the author of a published course version. They mark their own
-- transaction with `SET LOCAL sc.purge = 'on'` (gone at commit or
-- rollback, invisible to every other session). Every other UPDATE or
-- DELETE is still refused by the trigger functions below.
-- (SQLite, without session settings, uses a one-row table instead; the
-- table exists here too, unused, so both schemas have the same tables.)
CREATE TABLE purge_in_progress (
    flag BIGINT PRIMARY KEY NOT NULL CHECK (flag = 1)
);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('sc.purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION course_versions_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('sc.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'course versions are immutable';
END;
$$ LANGUAGE plpgsql;
