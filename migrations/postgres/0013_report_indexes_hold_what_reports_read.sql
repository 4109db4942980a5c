-- The two indexes the reports read attempts through hold only what the
-- reports read, so that a learner's own lookups cannot pick them.
--
-- A submit claims and grades its attempt by id (`UPDATE attempts … WHERE
-- client_key = $ AND id = $ AND account_id = $ AND submitted_at_ms IS
-- NULL`) and reads the learner's attempts on the course (`WHERE client_key
-- = $ AND course_id = $ AND account_id = $`). Both indexes below matched
-- those statements too: the first by its predicate (`submitted_at_ms IS
-- NULL`) and its leading column, the second by its two leading columns.
-- Without planner statistics (a young table, or autovacuum off, as on the
-- project machines) every candidate is estimated at one row, and
-- PostgreSQL picked them over the primary key and the per-learner unique
-- key, reading every open attempt of the site, or every attempt of the
-- course, to find one learner's: `pg_stat_user_indexes` showed ~2,000
-- index entries read per statement in `bench_submit` (README "Measured").
--
-- Each now carries its report's own condition as its predicate, which the
-- learner's statements do not state, so they cannot use it:
-- * open attempts past a deadline (`open_attempts_past_deadline`): open
--   AND with a deadline — attempts without a time limit no longer fill it;
-- * a version's submitted attempts (analytics, exports: `count_submitted`,
--   `submitted_attempts`): submitted only.
DROP INDEX attempts_open_by_deadline;
CREATE INDEX attempts_open_by_deadline ON attempts (client_key, course_id, deadline_ms)
    WHERE submitted_at_ms IS NULL AND deadline_ms IS NOT NULL;
DROP INDEX attempts_by_version;
CREATE INDEX attempts_by_version ON attempts (client_key, course_id, course_version, id)
    WHERE submitted_at_ms IS NOT NULL;
