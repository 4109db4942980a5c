-- The open attempts by deadline hold only the attempts that have one.
--
-- The report's query reads open attempts past their deadline
-- (`submitted_at_ms IS NULL AND deadline_ms IS NOT NULL AND deadline_ms <
-- $`, store/src/learning.rs `open_attempts_past_deadline`), the only query
-- this index is for. With the predicate `submitted_at_ms IS NULL` alone,
-- the index also matched the claim and the graded write of every quiz
-- submit (`UPDATE attempts … WHERE client_key = $ AND id = $ AND
-- account_id = $ AND submitted_at_ms IS NULL`): without planner statistics
-- (a young table, or autovacuum off, as on the project machines)
-- PostgreSQL chose it over the primary key and read every open attempt of
-- the site to find one — `pg_stat_user_indexes` showed ~2,000 index
-- entries read per submit in `bench_submit`. A submit does not say
-- `deadline_ms IS NOT NULL`, so it can no longer use this index; attempts
-- without a time limit, never read through it, no longer fill it.
DROP INDEX attempts_open_by_deadline;
CREATE INDEX attempts_open_by_deadline ON attempts (client_key, course_id, deadline_ms)
    WHERE submitted_at_ms IS NULL AND deadline_ms IS NOT NULL;
