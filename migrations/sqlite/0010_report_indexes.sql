-- Space-admin reports over large courses (issue #11: 10 000 enrolled
-- learners and 50 000 attempts in a course; bench/report.sh measures them).
-- See store/src/reports.rs for the queries these serve.

-- 1. One row per person of a report.
--
-- A report lists a course's enrolled learners and everyone with a standing.
-- Those lived in two tables, so every page joined `enrolments` and
-- `learner_status` over the whole course (a union of both, a lookup in each)
-- before it could filter, sort, count or page: tens of milliseconds a page
-- for 10 000 learners, however few rows it showed. `learner_status` now also
-- carries each learner's enrolment, copied by the triggers below from
-- `enrolments` (which stays the source of truth), and an enrolled learner
-- who has done nothing yet has a row of their own (`has_standing` = 0), so a
-- report reads one table along one of the indexes below.
ALTER TABLE learner_status ADD COLUMN has_standing INTEGER NOT NULL DEFAULT 1;
ALTER TABLE learner_status ADD COLUMN enrolled_at_ms INTEGER;   -- NULL: not enrolled
ALTER TABLE learner_status ADD COLUMN direct INTEGER NOT NULL DEFAULT 0;
ALTER TABLE learner_status ADD COLUMN self_enrolled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE learner_status ADD COLUMN due_at_ms INTEGER;

-- The learner's state without the clock (certificates expire and due dates
-- pass without anyone acting, so those are compared with the time a report
-- is read): 0 not started, 1 in progress, 2 re-certification due, 3 complete
-- (completed, or expired once expires_at_ms has passed). The same rules as
-- the report's states, in one place.
ALTER TABLE learner_status ADD COLUMN stage INTEGER GENERATED ALWAYS AS (
    CASE WHEN has_standing = 0
              OR (started = 0 AND complete = 0 AND recertification_due = 0) THEN 0
         WHEN complete = 1 THEN 3
         WHEN recertification_due = 1 THEN 2
         ELSE 1 END) VIRTUAL;

-- Rows for enrolled learners without a standing, then every enrolment.
INSERT INTO learner_status (client_key, course_id, account_id, version, cycle_start, complete,
                            recertification_due, progress_percent, lessons_opened,
                            quizzes_passed, attempts, last_activity_ms, started, has_standing)
SELECT e.client_key, e.course_id, e.account_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
FROM enrolments e
WHERE NOT EXISTS (SELECT 1 FROM learner_status s
                  WHERE s.client_key = e.client_key AND s.course_id = e.course_id
                    AND s.account_id = e.account_id);

UPDATE learner_status SET (enrolled_at_ms, direct, self_enrolled, due_at_ms) =
    (SELECT e.enrolled_at_ms, e.direct, e.self_enrolled, e.due_at_ms FROM enrolments e
     WHERE e.client_key = learner_status.client_key AND e.course_id = learner_status.course_id
       AND e.account_id = learner_status.account_id)
WHERE EXISTS (SELECT 1 FROM enrolments e
              WHERE e.client_key = learner_status.client_key
                AND e.course_id = learner_status.course_id
                AND e.account_id = learner_status.account_id);

-- Every change to an enrolment, in the same transaction. (An upsert that
-- updates fires the UPDATE trigger.)
CREATE TRIGGER enrolments_into_learner_status_insert AFTER INSERT ON enrolments
BEGIN
    INSERT INTO learner_status (client_key, course_id, account_id, version, cycle_start,
                                complete, recertification_due, progress_percent,
                                lessons_opened, quizzes_passed, attempts, last_activity_ms,
                                started, has_standing)
    SELECT NEW.client_key, NEW.course_id, NEW.account_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM learner_status s
                      WHERE s.client_key = NEW.client_key AND s.course_id = NEW.course_id
                        AND s.account_id = NEW.account_id);
    UPDATE learner_status SET enrolled_at_ms = NEW.enrolled_at_ms, direct = NEW.direct,
                              self_enrolled = NEW.self_enrolled, due_at_ms = NEW.due_at_ms
    WHERE client_key = NEW.client_key AND course_id = NEW.course_id
      AND account_id = NEW.account_id;
END;

CREATE TRIGGER enrolments_into_learner_status_update AFTER UPDATE ON enrolments
BEGIN
    UPDATE learner_status SET enrolled_at_ms = NEW.enrolled_at_ms, direct = NEW.direct,
                              self_enrolled = NEW.self_enrolled, due_at_ms = NEW.due_at_ms
    WHERE client_key = NEW.client_key AND course_id = NEW.course_id
      AND account_id = NEW.account_id;
END;

-- Unenrolled: the learner leaves the report unless they have a standing
-- (an open course's learner who is no longer enrolled).
CREATE TRIGGER enrolments_into_learner_status_delete AFTER DELETE ON enrolments
BEGIN
    DELETE FROM learner_status
    WHERE client_key = OLD.client_key AND course_id = OLD.course_id
      AND account_id = OLD.account_id AND has_standing = 0;
    UPDATE learner_status SET enrolled_at_ms = NULL, direct = 0, self_enrolled = 0,
                              due_at_ms = NULL
    WHERE client_key = OLD.client_key AND course_id = OLD.course_id
      AND account_id = OLD.account_id;
END;

-- 2. The report's orders, each an index a page is read along (a page of 50
-- reads about 50 entries, not the course). Ties are broken by account id.
--
-- "Needs attention" (the default): overdue first, by state then due date,
-- then the others by state and due date. Per stage, due dates in the past
-- (overdue unless complete), to come, and none are three ranges of this
-- index, each in order; expires_at_ms tells completed from expired without
-- reading the row.
CREATE INDEX learner_status_attention
    ON learner_status (client_key, course_id, stage, due_at_ms, account_id, expires_at_ms);
-- The other orders: the column's non-NULL range, then its NULLs.
CREATE INDEX learner_status_by_progress
    ON learner_status (client_key, course_id, progress_percent, account_id);
CREATE INDEX learner_status_by_due ON learner_status (client_key, course_id, due_at_ms, account_id);
CREATE INDEX learner_status_by_activity
    ON learner_status (client_key, course_id, last_activity_ms, account_id);
CREATE INDEX learner_status_by_completion
    ON learner_status (client_key, course_id, completed_at_ms, account_id);
CREATE INDEX learner_status_by_score
    ON learner_status (client_key, course_id, best_percent, account_id);
CREATE INDEX learner_status_by_enrolment
    ON learner_status (client_key, course_id, enrolled_at_ms, account_id);
-- learner_status_by_completion serves the completion chart too.
DROP INDEX learner_status_completed;

-- Standings computed against another version than the latest (computed
-- again before a report reads them): rows without a standing have none.
CREATE INDEX learner_status_stale ON learner_status (client_key, course_id, has_standing, version);
DROP INDEX learner_status_version;

-- 3. A report grades the attempts abandoned past their offline window,
-- which needs a passed deadline: the open attempts of a course by deadline,
-- so attempts without a time limit (NULL) or still running are never read.
-- It serves everything attempts_open served (same rows, same leading
-- columns), which goes.
CREATE INDEX attempts_open_by_deadline ON attempts (client_key, course_id, deadline_ms)
    WHERE submitted_at_ms IS NULL;
DROP INDEX attempts_open;
