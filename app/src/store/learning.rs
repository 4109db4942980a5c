//! Learning records: lessons opened, quiz attempts and their answers,
//! completions (migration `0003_learning.sql`). Every function is scoped by
//! the verified [`TenantKey`] and, for a learner's own records, by the
//! learner's account id from the same verified token.
//!
//! The rules (time limits, grace, attempt limits, grading) live in
//! [`crate::learning::api`]; this layer only guarantees what must hold under
//! concurrency:
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

use sqlx::{Any, Row, Transaction};

use super::{Backend, Db, StoreError, StoreResult};
use crate::connect::TenantKey;

/// Milliseconds since the Unix epoch (server clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One quiz attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRow {
    pub id: String,
    pub course_id: String,
    pub module_id: String,
    pub account_id: String,
    pub client_token: String,
    pub course_version: i64,
    pub page_version: Option<i64>,
    pub cycle_version: i64,
    pub number: i64,
    /// The shuffle seed (stored as decimal text: a `u64` does not fit a
    /// signed 64-bit column).
    pub seed: u64,
    pub started_at_ms: i64,
    pub deadline_ms: Option<i64>,
    pub last_activity_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
}

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
}

/// One stored answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerRow {
    pub question_id: String,
    pub response_json: String,
    pub answered_at_ms: i64,
    pub received_at_ms: i64,
}

/// An answer to write.
#[derive(Clone, Debug)]
pub struct NewAnswer<'a> {
    pub question_id: &'a str,
    pub response_json: &'a str,
    pub answered_at_ms: i64,
}

/// How answers are merged into what is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// The answer with the latest `answered_at_ms` wins (ties: the later write).
    LatestWins,
    /// The first stored answer is final (immediate feedback was shown for it).
    FirstWins,
}

/// Outcome of writing one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerWrite {
    /// Stored (or already stored identically); the row as it now is.
    Stored(AnswerRow),
    /// Not stored: another answer wins (`LatestWins`: a later one is stored;
    /// `FirstWins`: the question is already answered). The row that stays.
    Kept(AnswerRow),
    /// The attempt was submitted (or is not this learner's).
    Closed,
}

/// A submit's grade, computed inside the transaction from the stored answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRecord {
    pub score: f64,
    pub max_score: f64,
    pub percent: f64,
    pub passed: bool,
}

/// Outcome of a submit.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitOutcome {
    /// This call submitted the attempt. `kept` holds the question ids of
    /// merged answers that did not win (see [`AnswerWrite::Kept`]).
    Submitted {
        attempt: AttemptRow,
        answers: Vec<AnswerRow>,
        kept: Vec<String>,
    },
    /// It was submitted before (by an earlier or a concurrent call); nothing changed.
    AlreadySubmitted(AttemptRow),
    /// No such attempt for this learner.
    Missing,
}

/// A completion record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionRow {
    pub version: i64,
    /// Seconds since the Unix epoch.
    pub completed_at: i64,
}

/// `SELECT <every attempt column> FROM attempts <rest>`, as a static string.
/// Every attempt column, as [`attempt_from_row`] reads them.
macro_rules! attempt_columns {
    () => {
        "id, course_id, module_id, account_id, client_token, course_version, \
         page_version, cycle_version, number, seed, started_at_ms, deadline_ms, \
         last_activity_ms, submitted_at_ms, score, max_score, percent, passed"
    };
}

/// `SELECT <every attempt column> FROM attempts <rest>`, as a static string.
macro_rules! select_attempts {
    ($rest:literal) => {
        concat!("SELECT ", attempt_columns!(), " FROM attempts ", $rest)
    };
}

fn attempt_from_row(row: &sqlx::any::AnyRow) -> Result<AttemptRow, sqlx::Error> {
    let seed_text: String = row.try_get("seed")?;
    let seed = seed_text
        .parse::<u64>()
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: "seed".into(),
            source: Box::new(e),
        })?;
    Ok(AttemptRow {
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
    })
}

fn answer_from_row(row: &sqlx::any::AnyRow) -> Result<AnswerRow, sqlx::Error> {
    Ok(AnswerRow {
        question_id: row.try_get("question_id")?,
        response_json: row.try_get("response_json")?,
        answered_at_ms: row.try_get("answered_at_ms")?,
        received_at_ms: row.try_get("received_at_ms")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// A write transaction; on SQLite it also holds the process's writer gate
/// (see [`Db::sqlite_write_gate`]) until it is committed or dropped.
struct WriteTx {
    tx: Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Db {
    /// A transaction that will write: `BEGIN IMMEDIATE` on SQLite (see the
    /// module docs), a plain `BEGIN` on PostgreSQL (row locks come from the
    /// first UPDATE).
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(match self.backend() {
            Backend::Sqlite => {
                let gate = self.sqlite_write_gate().await;
                WriteTx {
                    tx: self.pool().begin_with("BEGIN IMMEDIATE").await?,
                    _gate: gate,
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool().begin().await?,
                _gate: None,
            },
        })
    }

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
        Ok(sqlx::query_scalar(
            "SELECT lesson_id FROM lesson_views \
             WHERE client_key = $1 AND course_id = $2 AND account_id = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_all(self.pool())
        .await?)
    }

    // ---- attempts ----------------------------------------------------------

    /// Creates an attempt. [`StoreError::Conflict`] when the client token or
    /// the attempt number is already taken (a retry or a concurrent start:
    /// read again and return what is there).
    pub async fn create_attempt(&self, tenant: &TenantKey, a: &NewAttempt<'_>) -> StoreResult<()> {
        let _gate = self.sqlite_write_gate().await;
        let result = sqlx::query(
            "INSERT INTO attempts (client_key, id, course_id, module_id, account_id, client_token, \
                                   course_version, page_version, cycle_version, number, seed, \
                                   started_at_ms, deadline_ms, last_activity_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)",
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
    ) -> StoreResult<Option<AttemptRow>> {
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
    ) -> StoreResult<Option<AttemptRow>> {
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
    ) -> StoreResult<Vec<AttemptRow>> {
        let rows = sqlx::query(select_attempts!(
            "WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
               AND ($4 IS NULL OR module_id = $4) \
             ORDER BY started_at_ms, cycle_version, number"
        ))
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
    ) -> StoreResult<Vec<AnswerRow>> {
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

    /// Writes one answer to an open attempt of this learner (see [`Merge`]).
    /// Re-sending the answer that is stored counts as stored (a retry).
    pub async fn save_answer(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
        answer: &NewAnswer<'_>,
        received_at_ms: i64,
        merge: Merge,
    ) -> StoreResult<AnswerWrite> {
        let mut tx = self.begin_write().await?;
        if !claim_open(&mut tx, tenant, account_id, attempt_id, received_at_ms).await? {
            return Ok(AnswerWrite::Closed);
        }
        let out = write_answer(&mut tx, tenant, attempt_id, answer, received_at_ms, merge).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Submits an open attempt of this learner, in one transaction: merges
    /// `merge_answers`, reads every stored answer, grades them with `grade`,
    /// and stores the score with `submitted_at_ms = now_ms` through a
    /// conditional UPDATE (`WHERE submitted_at_ms IS NULL`).
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_attempt(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        attempt_id: &str,
        now_ms: i64,
        merge_answers: &[NewAnswer<'_>],
        merge: Merge,
        grade: impl FnOnce(&[AnswerRow]) -> ScoreRecord,
    ) -> StoreResult<SubmitOutcome> {
        let mut tx = self.begin_write().await?;
        if !claim_open(&mut tx, tenant, account_id, attempt_id, now_ms).await? {
            drop(tx);
            return Ok(match self.attempt(tenant, account_id, attempt_id).await? {
                Some(a) => SubmitOutcome::AlreadySubmitted(a),
                None => SubmitOutcome::Missing,
            });
        }
        write_answers(&mut tx, tenant, attempt_id, merge_answers, now_ms, merge).await?;
        let answers: Vec<AnswerRow> = sqlx::query(
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
        .collect::<Result<_, _>>()?;
        // A merged answer that is not what is now stored was not counted
        // (a later answer, or with immediate feedback the first one, stays).
        let kept = merge_answers
            .iter()
            .filter(|a| {
                !answers.iter().any(|row| {
                    row.question_id == a.question_id
                        && same_json(&row.response_json, a.response_json)
                })
            })
            .map(|a| a.question_id.to_string())
            .collect();
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
        tx.commit().await?;
        Ok(SubmitOutcome::Submitted {
            attempt,
            answers,
            kept,
        })
    }

    // ---- completions -------------------------------------------------------

    /// The learner's completions of a course, oldest version first.
    pub async fn completions(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Vec<CompletionRow>> {
        let rows = sqlx::query(
            "SELECT version, completed_at FROM completions \
             WHERE client_key = $1 AND course_id = $2 AND account_id = $3 ORDER BY version",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(CompletionRow {
                    version: r.try_get("version")?,
                    completed_at: r.try_get("completed_at")?,
                })
            })
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
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO completions (client_key, course_id, account_id, version, completed_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE NOT EXISTS (SELECT 1 FROM completions \
                               WHERE client_key = $1 AND course_id = $2 AND account_id = $3 \
                                 AND version >= $6) \
             ON CONFLICT (client_key, course_id, account_id, version) DO NOTHING",
        )
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
/// (read only; the learner-side rules in [`crate::learning::api`] interpret it).
#[derive(Clone, Debug, Default)]
pub struct CourseRecords {
    /// `(account id, lesson id, opened at (seconds))` of every lesson opened.
    pub lesson_views: Vec<(String, String, i64)>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptRow>,
    /// `(account id, completion)`, oldest version first.
    pub completions: Vec<(String, CompletionRow)>,
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
                CompletionRow {
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

/// The same JSON document (so the same response), whatever the formatting.
fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

async fn stored_answer(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
    question_id: &str,
) -> StoreResult<AnswerRow> {
    let row = sqlx::query(
        "SELECT question_id, response_json, answered_at_ms, received_at_ms FROM attempt_answers \
         WHERE client_key = $1 AND attempt_id = $2 AND question_id = $3",
    )
    .bind(tenant.as_str())
    .bind(attempt_id)
    .bind(question_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(answer_from_row(&row)?)
}

/// Rows per multi-row INSERT (6 parameters each; far below both databases'
/// parameter limits).
const ANSWERS_PER_INSERT: usize = 100;

/// Merges `answers` into the stored answers, a few statements for all of
/// them (a submit's journal; [`write_answer`] for one): per question only the answer that would win
/// is sent (the latest `answered_at_ms`, or the first with
/// [`Merge::FirstWins`]), because PostgreSQL refuses to update one row twice
/// in one statement. Returns the number of rows inserted or updated.
async fn write_answers(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
    answers: &[NewAnswer<'_>],
    received_at_ms: i64,
    merge: Merge,
) -> StoreResult<u64> {
    let mut winners: Vec<&NewAnswer<'_>> = Vec::with_capacity(answers.len());
    for a in answers {
        match winners.iter_mut().find(|w| w.question_id == a.question_id) {
            Some(w) => {
                if merge == Merge::LatestWins && a.answered_at_ms >= w.answered_at_ms {
                    *w = a;
                }
            }
            None => winners.push(a),
        }
    }
    let mut written = 0;
    for chunk in winners.chunks(ANSWERS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO attempt_answers (client_key, attempt_id, question_id, response_json, \
                                          answered_at_ms, received_at_ms) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 6;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
        }
        sql.push_str(match merge {
            Merge::LatestWins => {
                " ON CONFLICT (client_key, attempt_id, question_id) DO UPDATE \
                 SET response_json = excluded.response_json, \
                     answered_at_ms = excluded.answered_at_ms, \
                     received_at_ms = excluded.received_at_ms \
                 WHERE attempt_answers.answered_at_ms <= excluded.answered_at_ms"
            }
            Merge::FirstWins => " ON CONFLICT (client_key, attempt_id, question_id) DO NOTHING",
        });
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
        written += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

async fn write_answer(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    attempt_id: &str,
    a: &NewAnswer<'_>,
    received_at_ms: i64,
    merge: Merge,
) -> StoreResult<AnswerWrite> {
    let written = write_answers(
        tx,
        tenant,
        attempt_id,
        std::slice::from_ref(a),
        received_at_ms,
        merge,
    )
    .await?;
    let row = stored_answer(tx, tenant, attempt_id, a.question_id).await?;
    if written == 1 || same_json(&row.response_json, a.response_json) {
        Ok(AnswerWrite::Stored(row))
    } else {
        Ok(AnswerWrite::Kept(row))
    }
}
