-- Learning: what each learner did with a published course.
-- Every row belongs to one learner (account_id, from the verified context JWT)
-- of one site (client_key). Times ending in _ms are milliseconds since the
-- Unix epoch (attempt timing needs sub-second precision); the others are
-- seconds, as elsewhere. See app/src/store/learning.rs and
-- app/src/learning/api.rs for the rules these tables serve.

-- Lessons a learner has opened (completion needs every lesson opened).
-- One row per lesson: opening it again changes nothing.
CREATE TABLE lesson_views (
    client_key TEXT NOT NULL,
    course_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    lesson_id  TEXT NOT NULL,
    version    BIGINT NOT NULL,          -- course version the lesson was first opened on
    opened_at  BIGINT NOT NULL,          -- seconds
    PRIMARY KEY (client_key, course_id, account_id, lesson_id),
    FOREIGN KEY (client_key, course_id) REFERENCES courses (client_key, id)
);

-- Quiz attempts. An attempt is pinned to the course version (and, when the
-- context JWT carries it, the Confluence page version) it was started on, and
-- is graded on the server only. Once submitted_at_ms is set the row never
-- changes again (trigger below).
CREATE TABLE attempts (
    client_key       TEXT NOT NULL,
    id               TEXT NOT NULL,      -- UUID
    course_id        TEXT NOT NULL,
    module_id        TEXT NOT NULL,      -- the quiz (at most one per module)
    account_id       TEXT NOT NULL,
    client_token     TEXT NOT NULL,      -- made by the browser: a retried start returns the same attempt
    course_version   BIGINT NOT NULL,    -- the published version the questions come from
    page_version     BIGINT,             -- Confluence page version, NULL when the context did not say
    cycle_version    BIGINT NOT NULL,    -- latest material version when started: attempts are counted per cycle
    number           BIGINT NOT NULL,    -- 1, 2, … within (quiz, learner, cycle)
    seed             TEXT NOT NULL,      -- shuffle seed: a u64 in decimal (does not fit BIGINT, which is signed)
    started_at_ms    BIGINT NOT NULL,
    deadline_ms      BIGINT,             -- started_at_ms + time limit; NULL: no time limit
    last_activity_ms BIGINT NOT NULL,    -- last answer saved (also the row lock taken before writing answers)
    submitted_at_ms  BIGINT,             -- NULL while open
    score            DOUBLE PRECISION,   -- set together with submitted_at_ms
    max_score        DOUBLE PRECISION,
    percent          DOUBLE PRECISION,
    passed           BIGINT,             -- 0/1
    PRIMARY KEY (client_key, id),
    UNIQUE (client_key, account_id, client_token),
    -- Also the learner's lookup index; two concurrent starts cannot both take the same number,
    -- so the attempt limit holds under races.
    UNIQUE (client_key, course_id, account_id, module_id, cycle_version, number),
    FOREIGN KEY (client_key, course_id, course_version)
        REFERENCES course_versions (client_key, course_id, version)
);

CREATE FUNCTION attempts_submitted_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'submitted attempts are immutable';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER attempts_submitted_immutable BEFORE UPDATE ON attempts
FOR EACH ROW WHEN (OLD.submitted_at_ms IS NOT NULL)
EXECUTE FUNCTION attempts_submitted_immutable();

-- The latest answer per question of an attempt ("last write by answered_at
-- wins"). answered_at_ms is when the learner answered (server time as the
-- browser computed it; it may have been journalled offline), received_at_ms
-- when the server got it.
CREATE TABLE attempt_answers (
    client_key     TEXT NOT NULL,
    attempt_id     TEXT NOT NULL,
    question_id    TEXT NOT NULL,
    response_json  TEXT NOT NULL,        -- app/src/course/model.rs Response
    answered_at_ms BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (client_key, attempt_id, question_id),
    FOREIGN KEY (client_key, attempt_id) REFERENCES attempts (client_key, id)
);

-- Answers of a submitted attempt are frozen (the score was computed from them).
CREATE FUNCTION attempt_answers_frozen() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM attempts
               WHERE client_key = NEW.client_key AND id = NEW.attempt_id
                 AND submitted_at_ms IS NOT NULL) THEN
        RAISE EXCEPTION 'the attempt was submitted';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER attempt_answers_frozen BEFORE INSERT OR UPDATE ON attempt_answers
FOR EACH ROW EXECUTE FUNCTION attempt_answers_frozen();

-- Course completions (what certificates and admin reports read): at most one
-- per learner and re-certification cycle is written (the first), against the
-- latest published version at that moment.
CREATE TABLE completions (
    client_key   TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    version      BIGINT NOT NULL,
    completed_at BIGINT NOT NULL,        -- seconds
    PRIMARY KEY (client_key, course_id, account_id, version),
    FOREIGN KEY (client_key, course_id, version)
        REFERENCES course_versions (client_key, course_id, version)
);
