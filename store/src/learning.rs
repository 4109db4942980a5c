//! Learning records: lessons opened, quiz attempts and their answers,
//! completions (migration `0003_learning.sql`). Every function is scoped by
//! the verified [`TenantKey`] and, for a learner's own records, by the
//! learner's account id from the same verified token.
//!
//! The rules (time limits, grace, attempt limits, grading, and which of two
//! answers counts) live in `course::learning`; the app's learning service
//! applies them. This layer applies the answer-merge rule
//! ([`course::learning::answers`]) inside the transaction that holds the
//! attempt, and guarantees what must hold under concurrency:
//!
//! - a retried start with the same client token never makes a second attempt
//!   (`UNIQUE (client_key, account_id, client_token)`), and two concurrent
//!   starts can never both take attempt number *n* of a cycle (`UNIQUE (…,
//!   cycle_version, number)`), so the attempt limit holds;
//! - answers are written only while the attempt is open: every write first
//!   takes the attempt row (`UPDATE … WHERE submitted_at_ms IS NULL`), so a
//!   save racing a submit either lands before the grade or is refused;
//! - a submit grades and stores score, max, percent, passed and
//!   `submitted_at_ms` in one transaction with a conditional UPDATE, so
//!   repeated or concurrent submits give one score;
//! - triggers make a submitted attempt and its answers immutable.
//!
//! Write transactions on SQLite start with `BEGIN IMMEDIATE` (take the write
//! lock up front, waiting under `busy_timeout`) rather than upgrading a read
//! transaction, which SQLite may refuse with `SQLITE_BUSY` under WAL.

use std::collections::HashMap;

use connect::TenantKey;
use course::learning::answers;
pub use course::learning::{
    answers::Merge,
    records::{Attempt, Completion, NewAnswer, ScoreRecord, StoredAnswer},
};
use sqlx::{Any, Row, Transaction};
use std::sync::Arc;

use crate::read_cache::{Records, What};
use crate::reports::StatusValue;

use super::{Db, StoreError, StoreResult};

/// What a new attempt starts with.
#[derive(Clone, Debug)]
pub struct NewAttempt<'a> {
    pub id: &'a str,
    pub course_id: &'a str,
    pub module_id: &'a str,
    pub account_id: &'a str,
    pub client_token: &'a str,
    pub course_version: i64,
    pub page_version: Option<i64>,
    pub cycle_version: i64,
    pub number: i64,
    pub seed: u64,
    pub started_at_ms: i64,
    pub deadline_ms: Option<i64>,
    /// The attempt's checkpoint key (see `course::learning::checkpoint`).
    pub checkpoint_key: &'a str,
}

/// The attempt row [`Db::create_attempt`] writes for `a`, as a read of it
/// returns it.
fn new_attempt_row(a: &NewAttempt<'_>) -> Attempt {
    Attempt {
        id: a.id.to_owned(),
        course_id: a.course_id.to_owned(),
        module_id: a.module_id.to_owned(),
        account_id: a.account_id.to_owned(),
        client_token: a.client_token.to_owned(),
        course_version: a.course_version,
        page_version: a.page_version,
        cycle_version: a.cycle_version,
        number: a.number,
        seed: a.seed,
        started_at_ms: a.started_at_ms,
        deadline_ms: a.deadline_ms,
        last_activity_ms: a.started_at_ms,
        submitted_at_ms: None,
        score: None,
        max_score: None,
        percent: None,
        passed: None,
        checkpoint_key: Some(a.checkpoint_key.to_owned()),
    }
}

/// Outcome of writing one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerWrite {
    /// Stored (or already stored identically); the row as it now is.
    Stored(StoredAnswer),
    /// Not stored: another answer wins (`LatestWins`: a later one is stored;
    /// `FirstWins`: the question is already answered). The row that stays.
    Kept(StoredAnswer),
    /// The attempt was submitted (or is not this learner's).
    Closed,
}

/// A learner's records on one course, as read inside a submit's own
/// transaction (after its grade was written).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LearnerRecords {
    /// Ids of the lessons opened.
    pub opened: Vec<String>,
    /// Every attempt, oldest first (the one just submitted with its score).
    pub attempts: Vec<Attempt>,
    /// Every completion, oldest version first.
    pub completions: Vec<Completion>,
}

/// What a submit settles in its own transaction once graded: the
/// completion the pass earned (if any) and the learner's standing for the
/// reports, computed by the app's rules from [`LearnerRecords`].
#[derive(Clone, Debug, PartialEq)]
pub struct Settle {
    /// Recorded unless the learner has a completion at `cycle_start` or
    /// later (as [`Db::record_completion`]).
    pub completion: Option<Completion>,
    pub cycle_start: i64,
    pub status: crate::reports::StatusRow,
}

/// Computes a [`Settle`] from the records and the submitted attempt; `None`
/// leaves the standing to the caller (e.g. when it needs what the rules
/// cannot decide from these records alone).
///
/// `Fn`, not `FnOnce`: on PostgreSQL a submit runs in a batch of many
/// learners' submits ([`crate::group_commit`]), and when that batch cannot
/// commit each of its submits runs again on its own.
pub type AfterSubmit = Box<dyn Fn(&LearnerRecords, &Attempt) -> Option<Settle> + Send + Sync>;

/// How a submit grades what the attempt holds once the merge is applied.
pub type Grade = Box<dyn Fn(&[StoredAnswer]) -> ScoreRecord + Send + Sync>;

/// Outcome of a submit.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitOutcome {
    /// This call submitted the attempt. `kept` holds the question ids of
    /// merged answers that did not win (see [`AnswerWrite::Kept`]).
    Submitted {
        attempt: Attempt,
        answers: Vec<StoredAnswer>,
        kept: Vec<String>,
        /// What the submit's `after` settled in the same transaction.
        settled: Option<Box<Settle>>,
    },
    /// It was submitted before (by an earlier or a concurrent call); nothing changed.
    AlreadySubmitted(Attempt),
    /// No such attempt for this learner.
    Missing,
}

/// Every attempt column, as [`attempt_from_row`] reads them.
macro_rules! attempt_columns {
    () => {
        "id, course_id, module_id, account_id, client_token, course_version, \
         page_version, cycle_version, number, seed, started_at_ms, deadline_ms, \
         last_activity_ms, submitted_at_ms, score, max_score, percent, passed, checkpoint_key"
    };
}

/// `SELECT <every attempt column> FROM attempts <rest>`, as a static string.
macro_rules! select_attempts {
    ($rest:literal) => {
        concat!("SELECT ", attempt_columns!(), " FROM attempts ", $rest)
    };
}

/// The statements that both the sqlx path and the SQLite writer's one-hop
/// jobs run (SQLite numbers `$n` parameters in the order they first
/// appear, which is `$1, $2, …` in each of these).
pub(crate) mod sql {
    pub(super) const OPENED: &str = "SELECT lesson_id FROM lesson_views \
         WHERE client_key = $1 AND course_id = $2 AND account_id = $3";
    pub(super) const ATTEMPTS: &str = select_attempts!(
        "WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
           AND ($4 IS NULL OR module_id = $4) \
         ORDER BY started_at_ms, cycle_version, number"
    );
    pub(super) const COMPLETIONS: &str = "SELECT version, completed_at FROM completions \
         WHERE client_key = $1 AND course_id = $2 AND account_id = $3 ORDER BY version";
    /// [`OPENED`], [`ATTEMPTS`] (all modules) and [`COMPLETIONS`] in one
    /// statement (one round trip where three were: a submit's transaction
    /// on PostgreSQL): one row per record, `kind` `a`, `o` or `c`, each
    /// with its own columns and NULL in the others'; attempts and
    /// completions in their orders. The first part types the columns the
    /// others fill (`CAST`, which both databases read alike).
    pub(super) const RECORDS: &str = concat!(
        "SELECT 'a' AS kind, ",
        attempt_columns!(),
        ", CAST(NULL AS TEXT) AS lesson_id, CAST(NULL AS BIGINT) AS version, \
           CAST(NULL AS BIGINT) AS completed_at \
         FROM attempts WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         UNION ALL \
         SELECT 'o', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, lesson_id, NULL, NULL \
         FROM lesson_views WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         UNION ALL \
         SELECT 'c', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, version, completed_at \
         FROM completions WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         ORDER BY kind, started_at_ms, cycle_version, number, version"
    );
    /// The stored answers of attempt `$4` and [`RECORDS`] of its learner
    /// on course `$2` in one statement (PostgreSQL's submit): kind `q` for
    /// an answer, in question order, with its four columns.
    pub(super) const ANSWERS_AND_RECORDS: &str = concat!(
        "SELECT 'a' AS kind, ",
        attempt_columns!(),
        ", CAST(NULL AS TEXT) AS lesson_id, CAST(NULL AS BIGINT) AS version, \
           CAST(NULL AS BIGINT) AS completed_at, CAST(NULL AS TEXT) AS question_id, \
           CAST(NULL AS TEXT) AS response_json, CAST(NULL AS BIGINT) AS answered_at_ms, \
           CAST(NULL AS BIGINT) AS received_at_ms \
         FROM attempts WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         UNION ALL \
         SELECT 'o', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, lesson_id, NULL, NULL, \
                NULL, NULL, NULL, NULL \
         FROM lesson_views WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         UNION ALL \
         SELECT 'c', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, version, completed_at, \
                NULL, NULL, NULL, NULL \
         FROM completions WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
         UNION ALL \
         SELECT 'q', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                question_id, response_json, answered_at_ms, received_at_ms \
         FROM attempt_answers WHERE client_key = $1 AND attempt_id = $4 \
         ORDER BY kind, started_at_ms, cycle_version, number, version, question_id"
    );
    /// A batch's row locks ([`crate::group_commit`]): the open attempts
    /// among `$1`, a JSON array of `{k, id, acc}` (tenant, attempt,
    /// learner), locked in key order (two batches, of this process or
    /// another, lock shared rows in the same order). Returns the locked
    /// attempts' tenant, id and course.
    pub(crate) const BATCH_LOCK: &str = "SELECT a.client_key, a.id, a.course_id \
         FROM jsonb_to_recordset($1::jsonb) AS j(k TEXT, id TEXT, acc TEXT) \
         JOIN attempts a ON a.client_key = j.k AND a.id = j.id AND a.account_id = j.acc \
         WHERE a.submitted_at_ms IS NULL \
         ORDER BY a.client_key, a.id FOR UPDATE OF a";
    /// [`ANSWERS_AND_RECORDS`] of every locked attempt of a batch in one
    /// statement: `$1` a JSON array of `{k, c, acc, att}` (tenant, course,
    /// learner, attempt); each row names its attempt in `job`.
    pub(crate) const BATCH_READ: &str = concat!(
        "WITH j AS (SELECT * FROM jsonb_to_recordset($1::jsonb) \
                      AS j(k TEXT, c TEXT, acc TEXT, att TEXT)) \
         SELECT j.att AS job, 'a' AS kind, ",
        attempt_columns!(),
        ", CAST(NULL AS TEXT) AS lesson_id, CAST(NULL AS BIGINT) AS version, \
           CAST(NULL AS BIGINT) AS completed_at, CAST(NULL AS TEXT) AS question_id, \
           CAST(NULL AS TEXT) AS response_json, CAST(NULL AS BIGINT) AS answered_at_ms, \
           CAST(NULL AS BIGINT) AS received_at_ms \
         FROM j JOIN attempts ON client_key = j.k AND course_id = j.c AND account_id = j.acc \
         UNION ALL \
         SELECT j.att, 'o', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, lesson_id, NULL, NULL, \
                NULL, NULL, NULL, NULL \
         FROM j JOIN lesson_views ON client_key = j.k AND course_id = j.c AND account_id = j.acc \
         UNION ALL \
         SELECT j.att, 'c', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, version, completed_at, \
                NULL, NULL, NULL, NULL \
         FROM j JOIN completions ON client_key = j.k AND course_id = j.c AND account_id = j.acc \
         UNION ALL \
         SELECT j.att, 'q', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                question_id, response_json, answered_at_ms, received_at_ms \
         FROM j JOIN attempt_answers ON client_key = j.k AND attempt_id = j.att \
         ORDER BY job, kind, started_at_ms, cycle_version, number, version, question_id"
    );
    /// The end of a batch's write ([`crate::group_commit`]): every graded
    /// attempt's score, from `$4`, a JSON array of `{xk, xid, xacc, xat,
    /// xscore, xmax, xpct, xpassed}` (named apart from the attempt's own
    /// columns, which `RETURNING` names), once the parts before it ran.
    pub(crate) const BATCH_SCORES: &str = concat!(
        " UPDATE attempts SET submitted_at_ms = x.xat, last_activity_ms = x.xat, \
             score = x.xscore, max_score = x.xmax, percent = x.xpct, passed = x.xpassed \
         FROM jsonb_to_recordset($4::jsonb) AS x(xk TEXT, xid TEXT, xacc TEXT, xat BIGINT, \
             xscore DOUBLE PRECISION, xmax DOUBLE PRECISION, xpct DOUBLE PRECISION, \
             xpassed BIGINT) \
         WHERE attempts.client_key = x.xk AND attempts.id = x.xid \
           AND attempts.account_id = x.xacc AND attempts.submitted_at_ms IS NULL \
           AND (SELECT COUNT(*) FROM answers_written) >= 0 \
           AND (SELECT COUNT(*) FROM completions_written) >= 0 \
           AND (SELECT COUNT(*) FROM standings_written) >= 0 \
         RETURNING client_key AS xtenant, ",
        attempt_columns!()
    );
    /// The first parts of a batch's write: the answers the merges chose
    /// (`$1`: `{k, att, q, resp, at, recv}`), the completions the passes
    /// earned (`$2`: `{k, c, acc, v, at, cycle}`, each unless one at
    /// `cycle` or later exists, as [`RECORD_COMPLETION`]).
    pub(crate) const BATCH_ANSWERS_AND_COMPLETIONS: &str = "WITH answers_written AS ( \
           INSERT INTO attempt_answers (client_key, attempt_id, question_id, response_json, \
                                        answered_at_ms, received_at_ms) \
           SELECT k, att, q, resp, at, recv FROM jsonb_to_recordset($1::jsonb) \
             AS x(k TEXT, att TEXT, q TEXT, resp TEXT, at BIGINT, recv BIGINT) \
           ON CONFLICT (client_key, attempt_id, question_id) DO UPDATE \
           SET response_json = excluded.response_json, \
               answered_at_ms = excluded.answered_at_ms, \
               received_at_ms = excluded.received_at_ms RETURNING 1), \
         completions_written AS ( \
           INSERT INTO completions (client_key, course_id, account_id, version, completed_at) \
           SELECT x.k, x.c, x.acc, x.v, x.at FROM jsonb_to_recordset($2::jsonb) \
             AS x(k TEXT, c TEXT, acc TEXT, v BIGINT, at BIGINT, cycle BIGINT) \
           WHERE NOT EXISTS (SELECT 1 FROM completions d WHERE d.client_key = x.k \
               AND d.course_id = x.c AND d.account_id = x.acc AND d.version >= x.cycle) \
           ON CONFLICT (client_key, course_id, account_id, version) DO NOTHING RETURNING 1)";
    /// A completion at `$4` unless one at `$6` or later exists (one per
    /// re-certification cycle).
    pub(super) const RECORD_COMPLETION: &str =
        "INSERT INTO completions (client_key, course_id, account_id, version, completed_at) \
         SELECT $1, $2, $3, $4, $5 \
         WHERE NOT EXISTS (SELECT 1 FROM completions \
                           WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
                             AND version >= $6) \
         ON CONFLICT (client_key, course_id, account_id, version) DO NOTHING";
}

pub(crate) fn attempt_from_row(row: &sqlx::any::AnyRow) -> Result<Attempt, sqlx::Error> {
    let seed_text: String = row.try_get("seed")?;
    let seed = seed_text
        .parse::<u64>()
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: "seed".into(),
            source: Box::new(e),
        })?;
    Ok(Attempt {
        id: row.try_get("id")?,
        course_id: row.try_get("course_id")?,
        module_id: row.try_get("module_id")?,
        account_id: row.try_get("account_id")?,
        client_token: row.try_get("client_token")?,
        course_version: row.try_get("course_version")?,
        page_version: row.try_get("page_version")?,
        cycle_version: row.try_get("cycle_version")?,
        number: row.try_get("number")?,
        seed,
        started_at_ms: row.try_get("started_at_ms")?,
        deadline_ms: row.try_get("deadline_ms")?,
        last_activity_ms: row.try_get("last_activity_ms")?,
        submitted_at_ms: row.try_get("submitted_at_ms")?,
        score: row.try_get("score")?,
        max_score: row.try_get("max_score")?,
        percent: row.try_get("percent")?,
        passed: row.try_get::<Option<i64>, _>("passed")?.map(|p| p != 0),
        checkpoint_key: row.try_get("checkpoint_key")?,
    })
}

fn completion_from_row(row: &sqlx::any::AnyRow) -> Result<Completion, sqlx::Error> {
    Ok(Completion {
        version: row.try_get("version")?,
        completed_at: row.try_get("completed_at")?,
    })
}

fn answer_from_row(row: &sqlx::any::AnyRow) -> Result<StoredAnswer, sqlx::Error> {
    Ok(StoredAnswer {
        question_id: row.try_get("question_id")?,
        response_json: row.try_get("response_json")?,
        answered_at_ms: row.try_get("answered_at_ms")?,
        received_at_ms: row.try_get("received_at_ms")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Db {
    // ---- lessons -----------------------------------------------------------

    /// Records that the learner opened a lesson; `true` if this was the first time.
    pub async fn open_lesson(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        lesson_id: &str,
        version: i64,
        opened_at: i64,
    ) -> StoreResult<bool> {
        let _changed = self.learner_changed_on_exit(tenant, account_id);
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "INSERT INTO lesson_views (client_key, course_id, account_id, lesson_id, version, \
                                       opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (client_key, course_id, account_id, lesson_id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .bind(lesson_id)
        .bind(version)
        .bind(opened_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The ids of the lessons the learner has opened in this course.
    pub async fn opened_lessons(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Vec<String>> {
        let read = || async {
            let opened: Vec<String> = sqlx::query_scalar(sql::OPENED)
                .bind(tenant.as_str())
                .bind(course_id)
                .bind(account_id)
                .fetch_all(self.pool())
                .await?;
            Ok(Records::Opened(Arc::new(opened)))
        };
        match self
            .learner_read(tenant, account_id, course_id, What::Opened, read)
            .await?
        {
            Records::Opened(v) => Ok(v.as_ref().clone()),
            _ => unreachable!("the cache keys entries by what they hold"),
        }
    }

    // ---- attempts ----------------------------------------------------------

    /// Creates an attempt. [`StoreError::Conflict`] when the client token or
    /// the attempt number is already taken (a retry or a concurrent start:
    /// read again and return what is there).
    ///
    /// On SQLite the new attempt is then kept in the learner cache by id
    /// (the course's attempt list is dropped: the one entry the new row
    /// changes), so that the start's own read of it and the submit that
    /// follows read memory, not the database.
    pub async fn create_attempt(&self, tenant: &TenantKey, a: &NewAttempt<'_>) -> StoreResult<()> {
        /// Drops the learner's attempt list of the course when dropped:
        /// after the insert, and also when this future is dropped half-way.
        struct AttemptsChanged<'a>(
            Option<&'a crate::read_cache::LearnerReads>,
            &'a str,
            &'a str,
            &'a str,
        );
        impl Drop for AttemptsChanged<'_> {
            fn drop(&mut self) {
                if let Some(cache) = self.0 {
                    cache.attempts_changed(self.1, self.2, self.3);
                }
            }
        }
        let _gate = self.sqlite_write_gate().await;
        let result = {
            let _changed = AttemptsChanged(
                self.learner_reads.as_ref(),
                tenant.as_str(),
                a.account_id,
                a.course_id,
            );
            self.insert_attempt(tenant, a).await
        };
        if result.is_ok() {
            if let Some(cache) = &self.learner_reads {
                // The write gate is still held: no write of this process
                // can have committed since, so this is the row as stored.
                cache.put_attempt(tenant.as_str(), a.account_id, new_attempt_row(a));
            }
        }
        result
    }

    async fn insert_attempt(&self, tenant: &TenantKey, a: &NewAttempt<'_>) -> StoreResult<()> {
        let result = sqlx::query(
            "INSERT INTO attempts (client_key, id, course_id, module_id, account_id, client_token, \
                                   course_version, page_version, cycle_version, number, seed, \
                                   started_at_ms, deadline_ms, last_activity_ms, checkpoint_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $14)",
        )
        .bind(tenant.as_str())
        .bind(a.id)
        .bind(a.course_id)
        .bind(a.module_id)
        .bind(a.account_id)
        .bind(a.client_token)
        .bind(a.course_version)
        .bind(a.page_version)
        .bind(a.cycle_version)
        .bind(a.number)
        .bind(a.seed.to_string())
        .bind(a.started_at_ms)
        .bind(a.deadline_ms)
        .bind(a.checkpoint_key)
        .execute(self.pool())
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// The learner's attempt `id` (another learner's attempt is `None`).
    pub async fn attempt(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>> {
        let read = || async {
            Ok(Records::Attempt(
                self.attempt_from_db(tenant, account_id, id)
                    .await?
                    .map(Arc::new),
            ))
        };
        match self
            .learner_read(tenant, account_id, id, What::Attempt, read)
            .await?
        {
            Records::Attempt(a) => Ok(a.as_deref().cloned()),
            _ => unreachable!("the cache keys entries by what they hold"),
        }
    }

    async fn attempt_from_db(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>> {
        let row = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND id = $2 AND account_id = $3"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(attempt_from_row).transpose()?)
    }

    /// The learner's attempt started with `client_token`.
    pub async fn attempt_by_token(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        client_token: &str,
    ) -> StoreResult<Option<Attempt>> {
        let row = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND account_id = $2 AND client_token = $3"
        ))
        .bind(tenant.as_str())
        .bind(account_id)
        .bind(client_token)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(attempt_from_row).transpose()?)
    }

    /// The learner's attempts on a course (one quiz with `module_id`), oldest first.
    pub async fn attempts(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        course_id: &str,
        module_id: Option<&str>,
    ) -> StoreResult<Vec<Attempt>> {
        if module_id.is_some() {
            return self
                .attempts_from_db(tenant, account_id, course_id, module_id)
                .await;
        }
        let read = || async {
            Ok(Records::Attempts(Arc::new(
                self.attempts_from_db(tenant, account_id, course_id, None)
                    .await?,
            )))
        };
        match self
            .learner_read(tenant, account_id, course_id, What::Attempts, read)
            .await?
        {
            Records::Attempts(v) => Ok(v.as_ref().clone()),
            _ => unreachable!("the cache keys entries by what they hold"),
        }
    }

    async fn attempts_from_db(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        course_id: &str,
        module_id: Option<&str>,
    ) -> StoreResult<Vec<Attempt>> {
        let rows = sqlx::query(sql::ATTEMPTS)
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(account_id)
            .bind(module_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(attempt_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The stored answers of an attempt (scoped by tenant; the caller has
    /// checked the attempt is the learner's).
    pub async fn answers(
        &self,
        tenant: &TenantKey,
        attempt_id: &str,
    ) -> StoreResult<Vec<StoredAnswer>> {
        let rows = sqlx::query(
            "SELECT question_id, response_json, answered_at_ms, received_at_ms \
             FROM attempt_answers WHERE client_key = $1 AND attempt_id = $2 \
             ORDER BY question_id",
        )
        .bind(tenant.as_str())
        .bind(attempt_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(answer_from_row).collect::<Result<_, _>>()?)
    }

    /// Writes one answer to an open attempt of this learner, under the
    /// merge rule. Re-sending the answer that is stored counts as stored
    /// (a retry).
    pub async fn save_answer(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
        answer: &NewAnswer<'_>,
        received_at_ms: i64,
        merge: Merge,
    ) -> StoreResult<AnswerWrite> {
        let _changed = self.learner_changed_on_exit(tenant, account_id);
        let mut tx = self.begin_write().await?;
        if !claim_open(&mut tx, tenant, account_id, attempt_id, received_at_ms).await? {
            return Ok(AnswerWrite::Closed);
        }
        let stored = stored_answer(&mut tx, tenant, attempt_id, answer.question_id).await?;
        let plan = answers::plan(merge, stored.as_slice(), std::slice::from_ref(answer));
        let out = if plan.write.is_empty() {
            // The stored answer stays (a stale or a repeated answer).
            let row = stored.into_iter().next().ok_or(StoreError::Conflict)?;
            if plan.kept.is_empty() {
                AnswerWrite::Stored(row)
            } else {
                AnswerWrite::Kept(row)
            }
        } else {
            write_answers(&mut tx, tenant, attempt_id, &plan.write, received_at_ms).await?;
            AnswerWrite::Stored(StoredAnswer {
                question_id: answer.question_id.to_owned(),
                response_json: answer.response_json.to_owned(),
                answered_at_ms: answer.answered_at_ms,
                received_at_ms,
            })
        };
        tx.commit().await?;
        Ok(out)
    }

    /// Submits an open attempt of this learner, in one transaction: merges
    /// `merge_answers` into the stored answers (the merge rule), grades what
    /// is then stored with `grade`, and stores the score with
    /// `submitted_at_ms = now_ms` through a conditional UPDATE
    /// (`WHERE submitted_at_ms IS NULL`). With `after`, the same transaction
    /// then reads the learner's records on the course and stores what
    /// `after` settles from them (a completion, the standing): a submit is
    /// one commit, and its standing can never lag behind its score.
    ///
    /// On SQLite the whole of it is one job of the writer thread (see
    /// [`crate::writer`]), and the records it read replace the learner's
    /// cached ones once it committed: the learner's next request reads
    /// them from memory. On PostgreSQL it is committed in a batch with
    /// other learners' submits ([`crate::group_commit`]), or on its own
    /// ([`Self::submit_on_postgres`]) when the batch could not commit.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_attempt(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
        now_ms: i64,
        merge_answers: &[NewAnswer<'_>],
        merge: Merge,
        grade: impl Fn(&[StoredAnswer]) -> ScoreRecord + Send + Sync + 'static,
        after: Option<AfterSubmit>,
    ) -> StoreResult<SubmitOutcome> {
        if let Some(writer) = &self.writer {
            let job = one_hop::Submit {
                tenant: tenant.as_str().to_owned(),
                account_id: account_id.to_owned(),
                attempt_id: attempt_id.to_owned(),
                now_ms,
                merge_answers: owned_answers(merge_answers),
                merge,
            };
            let cache = self.learner_reads.clone();
            let (t, account) = (tenant.as_str().to_owned(), account_id.to_owned());
            let done = writer
                .run_then(
                    // Runs again if another job of its batch fails (see
                    // `crate::writer`): it reads and grades from scratch.
                    move |c| job.run(c, &grade, after.as_ref()),
                    // The records go into the cache (the caller does not
                    // need them): moved, not copied on the writer's thread.
                    move |done: &mut Option<(SubmitOutcome, Option<LearnerRecords>)>| {
                        let (Some(cache), Some((outcome, records))) = (&cache, done) else {
                            return;
                        };
                        match (outcome, records.take()) {
                            (SubmitOutcome::Submitted { attempt, .. }, Some(r)) => cache
                                .replace_learner(
                                    &t,
                                    &account,
                                    &attempt.course_id,
                                    r.opened,
                                    r.attempts,
                                    r.completions,
                                ),
                            _ => cache.learner_changed(&t, &account),
                        }
                    },
                )
                .await?;
            if let Some((outcome, _)) = done {
                return Ok(self.submitted(tenant, outcome));
            }
            return self.not_open(tenant, account_id, attempt_id).await;
        }
        if let Some(batches) = &self.group_commit {
            let job = crate::group_commit::Job {
                tenant: tenant.as_str().to_owned(),
                account_id: account_id.to_owned(),
                attempt_id: attempt_id.to_owned(),
                now_ms,
                merge_answers: owned_answers(merge_answers),
                merge,
                grade: Box::new(grade),
                after,
            };
            use crate::group_commit::Reply;
            let (grade, after) = match batches.submit(job).await {
                Reply::Submitted(outcome) => return Ok(self.submitted(tenant, *outcome)),
                Reply::NotOpen => return self.not_open(tenant, account_id, attempt_id).await,
                // The batch could not commit (or this job could not be
                // computed in it): this submit alone, as before batches.
                Reply::Alone { grade, after } => (grade, after),
            };
            return self
                .submit_on_postgres(
                    tenant,
                    account_id,
                    attempt_id,
                    now_ms,
                    merge_answers,
                    merge,
                    grade,
                    after,
                )
                .await;
        }
        let _changed = self.learner_changed_on_exit(tenant, account_id);
        let mut tx = self.begin_write().await?;
        if !claim_open(&mut tx, tenant, account_id, attempt_id, now_ms).await? {
            drop(tx);
            return self.not_open(tenant, account_id, attempt_id).await;
        }
        let stored = answers_in(&mut tx, tenant, attempt_id).await?;
        let plan = answers::plan(merge, &stored, merge_answers);
        write_answers(&mut tx, tenant, attempt_id, &plan.write, now_ms).await?;
        let answers = stored_after(stored, &plan.write, now_ms);
        let s = grade(&answers);
        let row = sqlx::query(concat!(
            "UPDATE attempts SET submitted_at_ms = $1, score = $2, max_score = $3, percent = $4, \
                                 passed = $5 \
             WHERE client_key = $6 AND id = $7 AND account_id = $8 AND submitted_at_ms IS NULL \
             RETURNING ",
            attempt_columns!()
        ))
        .bind(now_ms)
        .bind(s.score)
        .bind(s.max_score)
        .bind(s.percent)
        .bind(s.passed as i64)
        .bind(tenant.as_str())
        .bind(attempt_id)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            // Cannot happen while we hold the row; refuse rather than guess.
            return Err(StoreError::Conflict);
        };
        let attempt = attempt_from_row(&row)?;
        let settled = match after {
            None => None,
            Some(after) => {
                let course = attempt.course_id.as_str();
                let records = records_in(&mut tx, tenant, course, account_id).await?;
                let settled = after(&records, &attempt).map(Box::new);
                if let Some(settle) = &settled {
                    if let Some(c) = &settle.completion {
                        sqlx::query(sql::RECORD_COMPLETION)
                            .bind(tenant.as_str())
                            .bind(course)
                            .bind(account_id)
                            .bind(c.version)
                            .bind(c.completed_at)
                            .bind(settle.cycle_start)
                            .execute(&mut **tx)
                            .await?;
                    }
                    crate::reports::write_statuses(
                        &mut tx,
                        tenant.as_str(),
                        course,
                        std::slice::from_ref(&settle.status),
                    )
                    .await?;
                }
                settled
            }
        };
        tx.commit().await?;
        Ok(self.submitted(
            tenant,
            SubmitOutcome::Submitted {
                attempt,
                answers,
                kept: plan.kept,
                settled,
            },
        ))
    }

    /// A submit's outcome once committed: a standing it settled changes
    /// the course's report counts.
    fn submitted(&self, tenant: &TenantKey, outcome: SubmitOutcome) -> SubmitOutcome {
        if let SubmitOutcome::Submitted {
            attempt,
            settled: Some(_),
            ..
        } = &outcome
        {
            self.report_changed(tenant, &attempt.course_id);
        }
        outcome
    }

    /// What a submit answers when the attempt was not open for this
    /// learner: submitted already (by a concurrent submit, say), or missing
    /// or someone else's.
    async fn not_open(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
    ) -> StoreResult<SubmitOutcome> {
        Ok(
            match self.attempt_from_db(tenant, account_id, attempt_id).await? {
                Some(a) => SubmitOutcome::AlreadySubmitted(a),
                None => SubmitOutcome::Missing,
            },
        )
    }

    /// [`Self::submit_attempt`] on PostgreSQL: the same steps in five
    /// statements (BEGIN, lock, read, write, COMMIT) where they were nine.
    ///
    /// `perf` put PostgreSQL's cost of a submit in the number of statements
    /// (a flat profile per statement), and the claim's `UPDATE` wrote a
    /// row version, with an entry in each of the attempt's six indexes, only
    /// to lock the row. Here:
    /// 1. `SELECT … FOR UPDATE` takes the same row lock (a saved answer
    ///    waits for it, and this waits for a save in flight) and writes
    ///    nothing;
    /// 2. one statement, in a snapshot taken after the lock, reads the
    ///    stored answers and the learner's records on the course
    ///    ([`sql::ANSWERS_AND_RECORDS`]);
    /// 3. the merge, the grade and `after` run here, on the records with
    ///    this attempt as it will be stored;
    /// 4. one statement writes the answers, the completion, the standing
    ///    and the score ([`graded_write`]).
    #[allow(clippy::too_many_arguments)]
    async fn submit_on_postgres(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
        now_ms: i64,
        merge_answers: &[NewAnswer<'_>],
        merge: Merge,
        grade: impl Fn(&[StoredAnswer]) -> ScoreRecord,
        after: Option<AfterSubmit>,
    ) -> StoreResult<SubmitOutcome> {
        let mut tx = self.begin_write().await?;
        let course: Option<String> = sqlx::query_scalar(
            "SELECT course_id FROM attempts \
             WHERE client_key = $1 AND id = $2 AND account_id = $3 AND submitted_at_ms IS NULL \
             FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(attempt_id)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(course) = course else {
            drop(tx);
            return self.not_open(tenant, account_id, attempt_id).await;
        };
        let rows = sqlx::query(sql::ANSWERS_AND_RECORDS)
            .bind(tenant.as_str())
            .bind(course.as_str())
            .bind(account_id)
            .bind(attempt_id)
            .fetch_all(&mut **tx)
            .await?;
        let (stored, records) = answers_and_records(&rows)?;
        let Graded {
            plan,
            answers,
            score: s,
            attempt: graded,
            settled,
        } = graded_on_records(
            attempt_id,
            stored,
            records,
            merge_answers,
            merge,
            now_ms,
            &grade,
            after.as_ref(),
        )?;
        let (text, binds) = graded_write(
            tenant.as_str(),
            account_id,
            attempt_id,
            &course,
            now_ms,
            &s,
            &plan.write,
            settled.as_deref(),
        );
        // Audited: `text` is built from literals and numbered placeholders
        // only; every value is a bind parameter.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for b in binds {
            q = match b {
                StatusValue::Text(t) => q.bind(t),
                StatusValue::Int(i) => q.bind(i),
                StatusValue::OptInt(i) => q.bind(i),
                StatusValue::Real(f) => q.bind(f),
            };
        }
        let row = q.fetch_optional(&mut **tx).await?;
        // Cannot be missing while this transaction holds the row lock.
        let attempt = attempt_from_row(&row.ok_or(StoreError::Conflict)?)?;
        debug_assert_eq!(attempt, graded, "the stored attempt is the one graded");
        tx.commit().await?;
        Ok(self.submitted(
            tenant,
            SubmitOutcome::Submitted {
                attempt,
                answers,
                kept: plan.kept,
                settled,
            },
        ))
    }

    /// The course's open attempts whose deadline has passed by `now_ms`:
    /// the only ones a report may have to grade as abandoned (see
    /// `course::learning::timing::abandoned`), in one statement. A partial
    /// index holds the open attempts by deadline (migration
    /// `0010_report_indexes.sql`), so attempts without a time limit, or
    /// still running, are never read.
    pub async fn open_attempts_past_deadline(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        now_ms: i64,
    ) -> StoreResult<Vec<Attempt>> {
        let rows = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND course_id = $2 AND submitted_at_ms IS NULL \
               AND deadline_ms IS NOT NULL AND deadline_ms < $3 \
             ORDER BY deadline_ms, id"
        ))
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(attempt_from_row)
            .collect::<Result<_, _>>()?)
    }

    // ---- completions -------------------------------------------------------

    /// The learner's completions of a course, oldest version first.
    pub async fn completions(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Vec<Completion>> {
        let read = || async {
            Ok(Records::Completions(Arc::new(
                self.completions_from_db(tenant, course_id, account_id)
                    .await?,
            )))
        };
        match self
            .learner_read(tenant, account_id, course_id, What::Completions, read)
            .await?
        {
            Records::Completions(v) => Ok(v.as_ref().clone()),
            _ => unreachable!("the cache keys entries by what they hold"),
        }
    }

    async fn completions_from_db(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Vec<Completion>> {
        let rows = sqlx::query(sql::COMPLETIONS)
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(account_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(completion_from_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Records a completion at `version` unless the learner already has one
    /// at `since_version` or later (one per re-certification cycle).
    pub async fn record_completion(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        version: i64,
        since_version: i64,
        completed_at: i64,
    ) -> StoreResult<()> {
        let _changed = self.learner_changed_on_exit(tenant, account_id);
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(sql::RECORD_COMPLETION)
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(account_id)
            .bind(version)
            .bind(completed_at)
            .bind(since_version)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Everything every learner did on one course, for the space admin's report
/// (read only; the learner-side rules in the app's learning service (`app::learning`) interpret it).
#[derive(Clone, Debug, Default)]
pub struct CourseRecords {
    /// `(account id, lesson id, opened at (seconds))` of every lesson opened.
    pub lesson_views: Vec<(String, String, i64)>,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// `(account id, completion)`, oldest version first.
    pub completions: Vec<(String, Completion)>,
}

impl Db {
    /// All learners' records on a course of this tenant (admin reports).
    pub async fn course_records(
        &self,
        tenant: &TenantKey,
        course_id: &str,
    ) -> StoreResult<CourseRecords> {
        let lesson_views = sqlx::query(
            "SELECT account_id, lesson_id, opened_at FROM lesson_views \
             WHERE client_key = $1 AND course_id = $2",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("account_id")?,
                r.try_get("lesson_id")?,
                r.try_get("opened_at")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let attempts = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND course_id = $2 \
             ORDER BY started_at_ms, cycle_version, number"
        ))
        .bind(tenant.as_str())
        .bind(course_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(attempt_from_row)
        .collect::<Result<_, _>>()?;
        let completions = sqlx::query(
            "SELECT account_id, version, completed_at FROM completions \
             WHERE client_key = $1 AND course_id = $2 ORDER BY version",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("account_id")?,
                Completion {
                    version: r.try_get("version")?,
                    completed_at: r.try_get("completed_at")?,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        Ok(CourseRecords {
            lesson_views,
            attempts,
            completions,
        })
    }
}

impl Db {
    /// Like [`Db::late_answers`], for some learners only (a report page).
    ///
    /// Driven from the learners' attempts (the unique index on
    /// `(client_key, course_id, account_id, …)`): only attempts with a time
    /// limit can have late answers, and only theirs are looked up, by the
    /// answers' primary key. (Written as a correlated subquery so that no
    /// planner starts from the answers: SQLite without statistics did,
    /// reading every answer of the site for each report page.)
    pub async fn late_answers_of(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        accounts: &[String],
        grace_ms: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let list = (0..accounts.len())
            .map(|i| format!("${}", 4 + i))
            .collect::<Vec<_>>()
            .join(", ");
        // Per attempt, added up here: SUM of a count is NUMERIC on
        // PostgreSQL, which the Any driver does not read.
        let sql = format!(
            "SELECT a.account_id AS account_id, \
                    (SELECT COUNT(*) FROM attempt_answers x \
                     WHERE x.client_key = a.client_key AND x.attempt_id = a.id \
                       AND x.received_at_ms > a.deadline_ms + $3) AS late \
             FROM attempts a \
             WHERE a.client_key = $1 AND a.course_id = $2 AND a.account_id IN ({list}) \
               AND a.deadline_ms IS NOT NULL"
        );
        // Audited: literals and numbered placeholders only.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(grace_ms);
        for a in accounts {
            q = q.bind(a);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut late: HashMap<String, i64> = HashMap::new();
        for r in &rows {
            let n: i64 = r.try_get("late")?;
            if n > 0 {
                *late.entry(r.try_get("account_id")?).or_default() += n;
            }
        }
        Ok(late.into_iter().collect())
    }

    /// Per learner, how many of their answers on a course arrived after
    /// their attempt's deadline plus `grace_ms` (late arrivals from the
    /// offline journal), for the space admin's report.
    pub async fn late_answers(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        grace_ms: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT a.account_id AS account_id, COUNT(*) AS late FROM attempt_answers x \
             JOIN attempts a ON a.client_key = x.client_key AND a.id = x.attempt_id \
             WHERE x.client_key = $1 AND a.course_id = $2 AND a.deadline_ms IS NOT NULL \
               AND x.received_at_ms > a.deadline_ms + $3 \
             GROUP BY a.account_id",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(grace_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("account_id")?, r.try_get("late")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }
}

/// Takes the attempt row for writing if it is open and the learner's:
/// `false` when it is submitted, missing or someone else's. On PostgreSQL
/// this row lock orders concurrent saves and submits of one attempt.
async fn claim_open(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    account_id: &str,
    attempt_id: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE attempts SET last_activity_ms = $1 \
         WHERE client_key = $2 AND id = $3 AND account_id = $4 AND submitted_at_ms IS NULL",
    )
    .bind(now_ms)
    .bind(tenant.as_str())
    .bind(attempt_id)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The stored answer to one question of an attempt, if any.
async fn stored_answer(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
    question_id: &str,
) -> StoreResult<Option<StoredAnswer>> {
    let row = sqlx::query(
        "SELECT question_id, response_json, answered_at_ms, received_at_ms FROM attempt_answers \
         WHERE client_key = $1 AND attempt_id = $2 AND question_id = $3",
    )
    .bind(tenant.as_str())
    .bind(attempt_id)
    .bind(question_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(answer_from_row).transpose()?)
}

/// The learner's records on a course, inside the write transaction, in
/// one statement ([`sql::RECORDS`]).
async fn records_in(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    course_id: &str,
    account_id: &str,
) -> StoreResult<LearnerRecords> {
    let rows = sqlx::query(sql::RECORDS)
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut records = LearnerRecords {
        opened: Vec::new(),
        attempts: Vec::new(),
        completions: Vec::new(),
    };
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        match kind.as_str() {
            "a" => records.attempts.push(attempt_from_row(row)?),
            "o" => records.opened.push(row.try_get("lesson_id")?),
            _ => records.completions.push(completion_from_row(row)?),
        }
    }
    Ok(records)
}

/// The rows of [`sql::ANSWERS_AND_RECORDS`]: the attempt's stored answers
/// and the learner's records.
fn answers_and_records(
    rows: &[sqlx::any::AnyRow],
) -> Result<(Vec<StoredAnswer>, LearnerRecords), sqlx::Error> {
    let mut read = (Vec::new(), LearnerRecords::default());
    for row in rows {
        push_answer_or_record(row, &mut read)?;
    }
    Ok(read)
}

/// One row of [`sql::ANSWERS_AND_RECORDS`] (or of a batch's
/// [`sql::BATCH_READ`]) into the answers or the records it belongs to.
pub(crate) fn push_answer_or_record(
    row: &sqlx::any::AnyRow,
    (answers, records): &mut (Vec<StoredAnswer>, LearnerRecords),
) -> Result<(), sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    match kind.as_str() {
        "a" => records.attempts.push(attempt_from_row(row)?),
        "o" => records.opened.push(row.try_get("lesson_id")?),
        "c" => records.completions.push(completion_from_row(row)?),
        _ => answers.push(answer_from_row(row)?),
    }
    Ok(())
}

/// The submitted answers as a queued job owns them: `(question id,
/// response JSON, answered at)`.
fn owned_answers(answers: &[NewAnswer<'_>]) -> Vec<(String, String, i64)> {
    answers
        .iter()
        .map(|a| {
            (
                a.question_id.to_owned(),
                a.response_json.to_owned(),
                a.answered_at_ms,
            )
        })
        .collect()
}

/// What a PostgreSQL submit stores, computed from what its transaction
/// read under the attempt's row lock ([`graded_on_records`]).
pub(crate) struct Graded<'m> {
    /// The merge of the submitted answers into the stored ones.
    pub(crate) plan: answers::MergePlan<'m>,
    /// What the attempt holds once `plan` is written: what was graded.
    pub(crate) answers: Vec<StoredAnswer>,
    pub(crate) score: ScoreRecord,
    /// The attempt as the write stores it.
    pub(crate) attempt: Attempt,
    pub(crate) settled: Option<Box<Settle>>,
}

/// Steps 3 of [`Db::submit_on_postgres`], shared with the batches of
/// [`crate::group_commit`]: the merge, the grade, and `after` on the
/// learner's records with this attempt as it will be stored. A conflict
/// when the records lack the attempt (they were read after its lock, so
/// they cannot).
#[allow(clippy::too_many_arguments)]
pub(crate) fn graded_on_records<'m>(
    attempt_id: &str,
    stored: Vec<StoredAnswer>,
    mut records: LearnerRecords,
    merge_answers: &'m [NewAnswer<'m>],
    merge: Merge,
    now_ms: i64,
    grade: &dyn Fn(&[StoredAnswer]) -> ScoreRecord,
    after: Option<&AfterSubmit>,
) -> StoreResult<Graded<'m>> {
    let plan = answers::plan(merge, &stored, merge_answers);
    let answers = stored_after(stored, &plan.write, now_ms);
    let score = grade(&answers);
    let place = records
        .attempts
        .iter()
        .position(|a| a.id == attempt_id)
        .ok_or(StoreError::Conflict)?;
    let attempt = {
        let a = &mut records.attempts[place];
        a.submitted_at_ms = Some(now_ms);
        a.last_activity_ms = now_ms;
        a.score = Some(score.score);
        a.max_score = Some(score.max_score);
        a.percent = Some(score.percent);
        a.passed = Some(score.passed);
        a.clone()
    };
    let settled = after.and_then(|after| after(&records, &attempt).map(Box::new));
    Ok(Graded {
        plan,
        answers,
        score,
        attempt,
        settled,
    })
}

/// PostgreSQL's graded write as one statement: the answers the merge chose,
/// the completion and the standing `settled` holds, each a data-modifying
/// `WITH` part, and the score as the main `UPDATE … RETURNING` the attempt.
/// The `UPDATE` reads a count of each part first, so the parts have run
/// before the attempt turns submitted (the answers' "frozen" trigger reads
/// it). The text and its parameters, numbered in order.
#[allow(clippy::too_many_arguments)]
fn graded_write<'a>(
    tenant: &'a str,
    account_id: &'a str,
    attempt_id: &'a str,
    course_id: &'a str,
    now_ms: i64,
    s: &ScoreRecord,
    winners: &'a [NewAnswer<'a>],
    settled: Option<&'a Settle>,
) -> (String, Vec<StatusValue<'a>>) {
    use std::fmt::Write as _;
    use StatusValue::{Int, Real, Text};
    let mut sql = String::new();
    let mut binds: Vec<StatusValue<'a>> = Vec::new();
    let mut parts: Vec<&str> = Vec::new();
    // The next parameter: bound to `v`, its placeholder returned.
    fn p<'a>(binds: &mut Vec<StatusValue<'a>>, v: StatusValue<'a>) -> String {
        binds.push(v);
        format!("${}", binds.len())
    }
    if !winners.is_empty() {
        // The answers come first: their parameters are $1 … $6n, in the
        // order `answers_insert_sql` numbers them.
        for w in winners {
            binds.extend([
                Text(tenant),
                Text(attempt_id),
                Text(w.question_id),
                Text(w.response_json),
                Int(w.answered_at_ms),
                Int(now_ms),
            ]);
        }
        let _ = write!(
            sql,
            "WITH answers_written AS ({} RETURNING 1)",
            answers_insert_sql(winners.len())
        );
        parts.push("answers_written");
    }
    if let Some(settle) = settled {
        if let Some(c) = &settle.completion {
            let (t, co, a) = (
                p(&mut binds, Text(tenant)),
                p(&mut binds, Text(course_id)),
                p(&mut binds, Text(account_id)),
            );
            let (v, at, cycle) = (
                p(&mut binds, Int(c.version)),
                p(&mut binds, Int(c.completed_at)),
                p(&mut binds, Int(settle.cycle_start)),
            );
            let _ = write!(
                sql,
                "{} completion_written AS (INSERT INTO completions (client_key, course_id, \
                     account_id, version, completed_at) SELECT {t}, {co}, {a}, {v}, {at} \
                 WHERE NOT EXISTS (SELECT 1 FROM completions WHERE client_key = {t} \
                     AND course_id = {co} AND account_id = {a} AND version >= {cycle}) \
                 ON CONFLICT (client_key, course_id, account_id, version) DO NOTHING \
                 RETURNING 1)",
                if parts.is_empty() { "WITH" } else { "," },
            );
            parts.push("completion_written");
        }
        let first = binds.len() + 1;
        binds.extend(crate::reports::status_values(
            tenant,
            course_id,
            &settle.status,
        ));
        let _ = write!(
            sql,
            "{} standing_written AS ({} RETURNING 1)",
            if parts.is_empty() { "WITH" } else { "," },
            crate::reports::status_upsert_sql(1, first),
        );
        parts.push("standing_written");
    }
    let (at, score, max, percent, passed) = (
        p(&mut binds, Int(now_ms)),
        p(&mut binds, Real(s.score)),
        p(&mut binds, Real(s.max_score)),
        p(&mut binds, Real(s.percent)),
        p(&mut binds, Int(s.passed as i64)),
    );
    let (t, id, a) = (
        p(&mut binds, Text(tenant)),
        p(&mut binds, Text(attempt_id)),
        p(&mut binds, Text(account_id)),
    );
    let _ = write!(
        sql,
        " UPDATE attempts SET submitted_at_ms = {at}, last_activity_ms = {at}, score = {score}, \
             max_score = {max}, percent = {percent}, passed = {passed} \
         WHERE client_key = {t} AND id = {id} AND account_id = {a} AND submitted_at_ms IS NULL",
    );
    for part in &parts {
        let _ = write!(sql, " AND (SELECT COUNT(*) FROM {part}) >= 0");
    }
    sql.push_str(concat!(" RETURNING ", attempt_columns!()));
    (sql, binds)
}

/// Every stored answer of an attempt, inside the write transaction.
async fn answers_in(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
) -> StoreResult<Vec<StoredAnswer>> {
    Ok(sqlx::query(
        "SELECT question_id, response_json, answered_at_ms, received_at_ms \
         FROM attempt_answers WHERE client_key = $1 AND attempt_id = $2 \
         ORDER BY question_id",
    )
    .bind(tenant.as_str())
    .bind(attempt_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(answer_from_row)
    .collect::<Result<_, _>>()?)
}

/// What an attempt holds after `written` (received at `received_at_ms`)
/// replaced or joined the `stored` answers, in question order: what a
/// submit grades.
fn stored_after(
    stored: Vec<StoredAnswer>,
    written: &[NewAnswer<'_>],
    received_at_ms: i64,
) -> Vec<StoredAnswer> {
    let mut by_question: HashMap<String, StoredAnswer> = stored
        .into_iter()
        .map(|a| (a.question_id.clone(), a))
        .collect();
    for w in written {
        by_question.insert(
            w.question_id.to_owned(),
            StoredAnswer {
                question_id: w.question_id.to_owned(),
                response_json: w.response_json.to_owned(),
                answered_at_ms: w.answered_at_ms,
                received_at_ms,
            },
        );
    }
    let mut answers: Vec<StoredAnswer> = by_question.into_values().collect();
    answers.sort_by(|x, y| x.question_id.cmp(&y.question_id));
    answers
}

/// Rows per multi-row INSERT (6 parameters each; far below both databases'
/// parameter limits).
const ANSWERS_PER_INSERT: usize = 100;

/// The upsert of `rows` answers, six parameters each: tenant, attempt,
/// question, response JSON, answered at, received at. Its text is
/// literals and numbered placeholders only.
fn answers_insert_sql(rows: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::from(
        "INSERT INTO attempt_answers (client_key, attempt_id, question_id, response_json, \
                                      answered_at_ms, received_at_ms) VALUES ",
    );
    for i in 0..rows {
        let p = i * 6;
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(
            sql,
            "(${}, ${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6
        );
    }
    sql.push_str(
        " ON CONFLICT (client_key, attempt_id, question_id) DO UPDATE \
         SET response_json = excluded.response_json, \
             answered_at_ms = excluded.answered_at_ms, \
             received_at_ms = excluded.received_at_ms",
    );
    sql
}

/// Writes the answers the merge rule chose (at most one per question), a
/// few multi-row statements for all of them. The rule was applied to what
/// is stored under the attempt's row lock, so these replace unconditionally.
async fn write_answers(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
    winners: &[NewAnswer<'_>],
    received_at_ms: i64,
) -> StoreResult<()> {
    for chunk in winners.chunks(ANSWERS_PER_INSERT) {
        let sql = answers_insert_sql(chunk.len());
        // Audited: `sql` is built from literals and numbered placeholders
        // only; every value is a bind parameter.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in chunk {
            q = q
                .bind(tenant.as_str())
                .bind(attempt_id)
                .bind(a.question_id)
                .bind(a.response_json)
                .bind(a.answered_at_ms)
                .bind(received_at_ms);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A submitted attempt with its stored answers (analytics and exports).
#[derive(Clone, Debug, PartialEq)]
pub struct SubmittedAttempt {
    pub attempt: Attempt,
    pub answers: Vec<StoredAnswer>,
}

/// Attempts whose answers one statement reads (well below both databases'
/// parameter limits).
const ANSWER_BATCH: usize = 500;

impl Db {
    /// How many attempts of a course version were submitted (analytics
    /// recompute when this changes).
    pub async fn count_submitted(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        version: i64,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM attempts \
             WHERE client_key = $1 AND course_id = $2 AND course_version = $3 \
               AND submitted_at_ms IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(version)
        .fetch_one(self.pool())
        .await?)
    }

    /// A page of a course's submitted attempts (of one version, or all),
    /// by attempt id after `after_id`, each with its answers: keyset paging,
    /// so an export streams the whole course in bounded memory.
    pub async fn submitted_attempts(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        version: Option<i64>,
        after_id: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<SubmittedAttempt>> {
        let rows = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND course_id = $2 AND ($3 IS NULL OR course_version = $3) \
               AND submitted_at_ms IS NOT NULL AND ($4 IS NULL OR id > $4) \
             ORDER BY id LIMIT $5"
        ))
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(version)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let attempts: Vec<Attempt> = rows
            .iter()
            .map(attempt_from_row)
            .collect::<Result<_, _>>()?;
        let mut answers: HashMap<String, Vec<StoredAnswer>> = HashMap::new();
        for chunk in attempts.chunks(ANSWER_BATCH) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", 2 + i))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT attempt_id, question_id, response_json, answered_at_ms, received_at_ms \
                 FROM attempt_answers WHERE client_key = $1 AND attempt_id IN ({list})"
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for a in chunk {
                q = q.bind(&a.id);
            }
            for r in q.fetch_all(self.pool()).await? {
                let id: String = r.try_get("attempt_id")?;
                answers.entry(id).or_default().push(answer_from_row(&r)?);
            }
        }
        Ok(attempts
            .into_iter()
            .map(|attempt| {
                let mut a = answers.remove(&attempt.id).unwrap_or_default();
                a.sort_by(|x, y| x.question_id.cmp(&y.question_id));
                SubmittedAttempt {
                    attempt,
                    answers: a,
                }
            })
            .collect())
    }
}

/// The submit as one job of SQLite's writer thread ([`crate::writer`]): the
/// same steps as the sqlx path of [`Db::submit_attempt`] (claim the open
/// attempt, read its answers, merge, grade, write, store the score), run
/// back to back on the writer's connection. The SQL is SQLite's only;
/// PostgreSQL keeps the sqlx path (and the same tests run on both).
mod one_hop {
    use course::learning::answers::{self, Merge};
    use rusqlite::{Connection, OptionalExtension};

    use super::{
        sql, AfterSubmit, Attempt, Completion, LearnerRecords, NewAnswer, ScoreRecord,
        StoredAnswer, SubmitOutcome,
    };
    use crate::{writer::sql_err, StoreError, StoreResult};

    pub(super) struct Submit {
        pub(super) tenant: String,
        pub(super) account_id: String,
        pub(super) attempt_id: String,
        pub(super) now_ms: i64,
        /// `(question id, response JSON, answered at)`.
        pub(super) merge_answers: Vec<(String, String, i64)>,
        pub(super) merge: Merge,
    }

    impl Submit {
        /// `None` when the attempt is not open for this learner (submitted,
        /// missing or someone else's): the caller reads which. With
        /// `after`, also the learner's records on the course as committed.
        pub(super) fn run(
            &self,
            c: &Connection,
            grade: &impl Fn(&[StoredAnswer]) -> ScoreRecord,
            after: Option<&AfterSubmit>,
        ) -> StoreResult<Option<(SubmitOutcome, Option<LearnerRecords>)>> {
            // The writer holds SQLite's write lock for the whole batch, so
            // reading that the attempt is open is as good as claiming it:
            // nothing else can submit it or save into it before this job
            // ends. (An `UPDATE` here wrote the row, its indexes and the
            // immutability trigger's check once more, only to be written
            // again by the score's `UPDATE` below, which sets the activity
            // time too, as on PostgreSQL.)
            let open = c
                .prepare_cached(
                    "SELECT 1 FROM attempts \
                     WHERE client_key = ?1 AND id = ?2 AND account_id = ?3 \
                       AND submitted_at_ms IS NULL",
                )
                .and_then(|mut st| st.exists((&self.tenant, &self.attempt_id, &self.account_id)))
                .map_err(sql_err)?;
            if !open {
                return Ok(None);
            }
            let stored: Vec<StoredAnswer> = c
                .prepare_cached(
                    "SELECT question_id, response_json, answered_at_ms, received_at_ms \
                     FROM attempt_answers WHERE client_key = ?1 AND attempt_id = ?2 \
                     ORDER BY question_id",
                )
                .and_then(|mut st| {
                    st.query_map((&self.tenant, &self.attempt_id), |r| {
                        Ok(StoredAnswer {
                            question_id: r.get(0)?,
                            response_json: r.get(1)?,
                            answered_at_ms: r.get(2)?,
                            received_at_ms: r.get(3)?,
                        })
                    })?
                    .collect()
                })
                .map_err(sql_err)?;
            let incoming: Vec<NewAnswer<'_>> = self
                .merge_answers
                .iter()
                .map(|(q, json, at)| NewAnswer {
                    question_id: q,
                    response_json: json,
                    answered_at_ms: *at,
                })
                .collect();
            let plan = answers::plan(self.merge, &stored, &incoming);
            // One statement per hundred answers, not one per answer: each
            // statement on these tables (a foreign key, the frozen-answer
            // triggers) keeps a journal of the pages it changes, and the
            // answers of an attempt share their pages.
            for chunk in plan.write.chunks(super::ANSWERS_PER_INSERT) {
                let mut binds: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 6);
                for w in chunk {
                    binds.extend([
                        &self.tenant as &dyn rusqlite::ToSql,
                        &self.attempt_id,
                        &w.question_id,
                        &w.response_json,
                        &w.answered_at_ms,
                        &self.now_ms,
                    ]);
                }
                c.prepare_cached(&super::answers_insert_sql(chunk.len()))
                    .and_then(|mut st| st.execute(binds.as_slice()))
                    .map_err(sql_err)?;
            }
            let answers = super::stored_after(stored, &plan.write, self.now_ms);
            let s = grade(&answers);
            let attempt = c
                .prepare_cached(concat!(
                    "UPDATE attempts SET submitted_at_ms = ?1, last_activity_ms = ?1, \
                         score = ?2, max_score = ?3, percent = ?4, passed = ?5 \
                     WHERE client_key = ?6 AND id = ?7 AND account_id = ?8 \
                       AND submitted_at_ms IS NULL RETURNING ",
                    attempt_columns!()
                ))
                .and_then(|mut st| {
                    st.query_row(
                        (
                            self.now_ms,
                            s.score,
                            s.max_score,
                            s.percent,
                            s.passed as i64,
                            &self.tenant,
                            &self.attempt_id,
                            &self.account_id,
                        ),
                        attempt_from_row,
                    )
                    .optional()
                })
                .map_err(sql_err)?;
            // Cannot be missing while this transaction holds the row.
            let attempt = attempt.ok_or(StoreError::Conflict)?;
            let (settled, records) = match after {
                None => (None, None),
                Some(after) => {
                    let course = attempt.course_id.as_str();
                    let mut records = LearnerRecords {
                        opened: query(
                            c,
                            sql::OPENED,
                            (&self.tenant, course, &self.account_id),
                            |r| r.get(0),
                        )?,
                        attempts: query(
                            c,
                            sql::ATTEMPTS,
                            (&self.tenant, course, &self.account_id, None::<&str>),
                            attempt_from_row,
                        )?,
                        completions: self.completions(c, course)?,
                    };
                    let settled = after(&records, &attempt).map(Box::new);
                    if let Some(settle) = &settled {
                        if let Some(done) = &settle.completion {
                            c.prepare_cached(sql::RECORD_COMPLETION)
                                .and_then(|mut st| {
                                    st.execute((
                                        &self.tenant,
                                        course,
                                        &self.account_id,
                                        done.version,
                                        done.completed_at,
                                        settle.cycle_start,
                                    ))
                                })
                                .map_err(sql_err)?;
                            records.completions = self.completions(c, course)?;
                        }
                        crate::reports::write_status_one_hop(
                            c,
                            &self.tenant,
                            course,
                            &settle.status,
                        )?;
                    }
                    (settled, Some(records))
                }
            };
            Ok(Some((
                SubmitOutcome::Submitted {
                    attempt,
                    answers,
                    kept: plan.kept,
                    settled,
                },
                records,
            )))
        }

        fn completions(&self, c: &Connection, course: &str) -> StoreResult<Vec<Completion>> {
            query(
                c,
                sql::COMPLETIONS,
                (&self.tenant, course, &self.account_id),
                |r| {
                    Ok(Completion {
                        version: r.get(0)?,
                        completed_at: r.get(1)?,
                    })
                },
            )
        }
    }

    /// Every row of a cached statement, mapped.
    fn query<T, P: rusqlite::Params>(
        c: &Connection,
        sql: &str,
        params: P,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        c.prepare_cached(sql)
            .and_then(|mut st| st.query_map(params, f)?.collect())
            .map_err(sql_err)
    }

    /// An attempt row in [`attempt_columns!`] order.
    fn attempt_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
        let seed: String = r.get(9)?;
        let seed = seed.parse::<u64>().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Text, Box::new(e))
        })?;
        Ok(Attempt {
            id: r.get(0)?,
            course_id: r.get(1)?,
            module_id: r.get(2)?,
            account_id: r.get(3)?,
            client_token: r.get(4)?,
            course_version: r.get(5)?,
            page_version: r.get(6)?,
            cycle_version: r.get(7)?,
            number: r.get(8)?,
            seed,
            started_at_ms: r.get(10)?,
            deadline_ms: r.get(11)?,
            last_activity_ms: r.get(12)?,
            submitted_at_ms: r.get(13)?,
            score: r.get(14)?,
            max_score: r.get(15)?,
            percent: r.get(16)?,
            passed: r.get::<_, Option<i64>>(17)?.map(|p| p != 0),
            checkpoint_key: r.get(18)?,
        })
    }
}
