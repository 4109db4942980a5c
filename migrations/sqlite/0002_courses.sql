-- Courses and their immutable published versions.
-- A course's content (modules, lessons, quizzes, settings) is one JSON document
-- (app/src/course/model.rs): the draft is edited in place (autosave with an
-- optimistic revision counter); publishing snapshots it as a new version that
-- is never changed again (trigger below), so attempts can always be read
-- against the exact questions they were taken on.
CREATE TABLE courses (
    client_key     TEXT NOT NULL,
    id             TEXT NOT NULL,
    space_key      TEXT NOT NULL,
    page_id        TEXT NOT NULL,      -- the Confluence page whose macro holds this course
    title          TEXT NOT NULL,
    draft_json     TEXT NOT NULL,
    draft_revision INTEGER NOT NULL,   -- bumps on every draft save; stale saves are refused
    latest_version INTEGER,            -- NULL until first publish
    copied_from    TEXT,               -- course id this one was copied from (page copies)
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (client_key, id)
);
CREATE INDEX courses_by_page ON courses (client_key, page_id);

CREATE TABLE course_versions (
    client_key    TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    version       INTEGER NOT NULL,
    title         TEXT NOT NULL,
    content_json  TEXT NOT NULL,
    material      INTEGER NOT NULL,    -- 1: questions changed materially (re-certification due)
    published_by  TEXT,
    published_at  INTEGER NOT NULL,
    PRIMARY KEY (client_key, course_id, version),
    FOREIGN KEY (client_key, course_id) REFERENCES courses (client_key, id)
);

CREATE TRIGGER course_versions_immutable BEFORE UPDATE ON course_versions
BEGIN
    SELECT RAISE(ABORT, 'course versions are immutable');
END;
