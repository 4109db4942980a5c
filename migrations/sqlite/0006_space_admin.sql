-- Space administration: who must take which course by when, why they are
-- enrolled, each learner's standing as the reports list it, the reminders
-- sent, and the audit log. Times ending in _ms are milliseconds.

-- One row per enrolled learner of a course. A learner is enrolled while at
-- least one reason holds: an admin enrolled them (`direct`), they enrolled
-- themselves (`self_enrolled`), or a group rule covers them (a row in
-- enrolment_groups). `due_at_ms` is the learner's effective due date:
-- set by an admin for this learner (`due_by_admin` = 1, group rules then
-- leave it alone), or the earliest due date of their group rules.
CREATE TABLE enrolments (
    client_key    TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    enrolled_at_ms INTEGER NOT NULL,
    direct        INTEGER NOT NULL DEFAULT 0,
    self_enrolled INTEGER NOT NULL DEFAULT 0,
    due_at_ms     INTEGER,
    due_by_admin  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_key, course_id, account_id),
    FOREIGN KEY (client_key, course_id) REFERENCES courses (client_key, id)
);
CREATE INDEX enrolments_due ON enrolments (client_key, course_id, due_at_ms);

-- Group rules: every member of the group is enrolled, now and at every sync.
-- Due date: absolute (`due_at_ms`) or N days after the member was enrolled.
CREATE TABLE group_rules (
    client_key    TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    group_name    TEXT NOT NULL,
    due_at_ms     INTEGER,
    due_days      INTEGER,
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT,
    synced_at_ms  INTEGER,
    PRIMARY KEY (client_key, course_id, group_name),
    FOREIGN KEY (client_key, course_id) REFERENCES courses (client_key, id)
);

-- Which group rules cover which enrolled learner (and since when).
CREATE TABLE enrolment_groups (
    client_key     TEXT NOT NULL,
    course_id      TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    group_name     TEXT NOT NULL,
    added_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (client_key, course_id, account_id, group_name)
);
CREATE INDEX enrolment_groups_by_group ON enrolment_groups (client_key, course_id, group_name);

-- Each learner's standing on a course, as the learner view computes it,
-- kept for the reports (written after every lesson opened, attempt started
-- or submitted, completion). `version` is the latest published version it
-- was computed against: after a new version is published the row is
-- computed again before a report reads it.
CREATE TABLE learner_status (
    client_key        TEXT NOT NULL,
    course_id         TEXT NOT NULL,
    account_id        TEXT NOT NULL,
    version           INTEGER NOT NULL,
    cycle_start       INTEGER NOT NULL,
    complete          INTEGER NOT NULL,      -- completed in the current cycle
    recertification_due INTEGER NOT NULL,
    progress_percent  INTEGER NOT NULL,
    lessons_opened    INTEGER NOT NULL,
    quizzes_passed    INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    best_percent      REAL,
    completed_at_ms   INTEGER,
    completed_version INTEGER,
    expires_at_ms     INTEGER,
    last_activity_ms  INTEGER NOT NULL,
    started           INTEGER NOT NULL,      -- opened a lesson or started an attempt
    PRIMARY KEY (client_key, course_id, account_id)
);
CREATE INDEX learner_status_completed ON learner_status (client_key, course_id, completed_at_ms);
CREATE INDEX learner_status_version ON learner_status (client_key, course_id, version);

-- The open attempts of a course (few), which a report grades once their
-- offline window has closed.
CREATE INDEX attempts_open ON attempts (client_key, course_id) WHERE submitted_at_ms IS NULL;

-- Reminders sent: each (learner, course, kind, what it is about) once.
CREATE TABLE reminders_sent (
    client_key  TEXT NOT NULL,
    course_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    reminder    TEXT NOT NULL,               -- the reminder's key (kind and date)
    sent_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (client_key, course_id, account_id, reminder)
);

-- The audit log: every enrolment, due-date and access-mode change and every
-- export, by whom and when. Append-only: the database refuses to change or
-- delete a row.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key  TEXT NOT NULL,
    space_key   TEXT NOT NULL,
    course_id   TEXT,
    actor       TEXT,                         -- account id; NULL for the group sync and jobs
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,                -- JSON
    at_ms       INTEGER NOT NULL
);
CREATE INDEX audit_log_by_space ON audit_log (client_key, space_key, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Analytics and exports read a course version's submitted attempts.
CREATE INDEX attempts_by_version ON attempts (client_key, course_id, course_version, id);
