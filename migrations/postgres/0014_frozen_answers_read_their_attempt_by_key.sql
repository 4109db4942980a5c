-- The answers' "frozen" trigger reads its attempt by the primary key.
--
-- It ran `SELECT 1 FROM attempts WHERE client_key = $ AND id = $ AND
-- submitted_at_ms IS NOT NULL` once per answer row written. Since 0013 the
-- index `attempts_by_version (client_key, course_id, course_version, id)
-- WHERE submitted_at_ms IS NOT NULL` matches that statement by its
-- predicate, and PostgreSQL chose it over the primary key (an index-only
-- scan, estimated at one row): with `id` its fourth column, every lookup
-- read every submitted attempt of the site. `bench_submit` on a new
-- database spent 6 ms of PostgreSQL's time per answer in the trigger
-- (`EXPLAIN ANALYZE`: "Trigger attempt_answers_frozen: time=12.573
-- calls=2"), more with every attempt submitted (README "Measured").
--
-- The lookup now states only the key, which no report index can serve,
-- and the function tests the column it read.
CREATE OR REPLACE FUNCTION attempt_answers_frozen() RETURNS trigger AS $$
DECLARE
    submitted BIGINT;
BEGIN
    SELECT submitted_at_ms INTO submitted FROM attempts
    WHERE client_key = NEW.client_key AND id = NEW.attempt_id;
    IF submitted IS NOT NULL THEN
        RAISE EXCEPTION 'the attempt was submitted';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
