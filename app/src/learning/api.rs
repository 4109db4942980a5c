//! Learner server functions (`/api/learning/*`) and their DTOs.
//!
//! Every function verifies the context JWT ([`crate::api::ssr::caller`]);
//! the learner is the token's account id (anonymous viewers get 401), who
//! must be allowed by Confluence to view the page the macro is on (and, when
//! the course belongs to another page — a copied page —, that page too).
//! Every query is scoped by the verified tenant, and attempts by the learner:
//! another learner's attempt id answers 404, exactly like one that does not
//! exist.
//!
//! # What the browser never receives before submission
//!
//! Questions go out as [`LearnerQuestion`]s only (no correctness flags,
//! accepted texts, regular expressions, numbers, tolerances, feedback or
//! stored ids; see [`crate::course::learner`]). Grading happens on the
//! server. With [`FeedbackMode::Immediate`] a saved answer returns its own
//! grade and feedback (never the correct answer); after submission the
//! result carries per-question feedback and the correct answers, except with
//! [`FeedbackMode::Never`] (score and pass/fail only).
//!
//! # Time
//!
//! The server clock decides, with one exception for answers journalled
//! offline. `answered_at_ms` is the moment the learner answered, **in server
//! time**: the browser adds `server_now_ms − Date.now()` (measured when the
//! [`AttemptView`] arrived) to its own clock. An answer is accepted when
//!
//! 1. `answered_at_ms ≥ started_at_ms − EARLY_SLACK_MS` (5 s of clock slack),
//! 2. with a time limit: `answered_at_ms ≤ deadline_ms + GRACE_MS` (30 s for
//!    latency and the moment the countdown hits zero), and
//! 3. when it is *received* after `deadline_ms + GRACE_MS`: it was answered
//!    in time (`answered_at_ms ≤ deadline_ms`, i.e. journalled while offline)
//!    and arrives at most [`OFFLINE_WINDOW_MS`] (24 h) after the deadline.
//!
//! A claimed time later than the server's receipt time is stored as the
//! receipt time. Rule 3 trusts the browser's claim for up to a day after the
//! deadline: that is what "answers given in time while offline count" costs,
//! and it is bounded.
//!
//! # Attempts
//!
//! Attempts are counted per quiz, learner and **re-certification cycle**: a
//! cycle starts at the latest version published with `material = true`
//! (version 1 if none). A pass counts towards progress only when it was
//! earned on a version of the current cycle; a learner whose pass or
//! completion is from an older cycle (and who has not completed the current
//! one) is shown `recertification_due`, and gets a fresh set of attempts.
//! An attempt whose time ran out more than 24 h ago without being submitted
//! is graded with the answers the server holds, on the learner's next visit.
//!
//! # Completion
//!
//! When the learner has opened every lesson and passed every quiz of the
//! latest version (current cycle), a completion is recorded — once per cycle,
//! against the latest published version at that moment. Certificates and
//! admin reports read completions; a later non-material version does not
//! take a completion away.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    client::ApClient,
    course::{
        learner::LearnerQuestion,
        model::{Correctness, FeedbackMode, Response},
    },
    error::AppError,
};

/// Answers answered up to this long after the deadline still count (server
/// time), covering network latency and the countdown reaching zero.
pub const GRACE_MS: i64 = 30_000;

/// Answers journalled offline in time are accepted up to this long after the
/// deadline (24 h). Unsubmitted attempts are graded automatically after it.
pub const OFFLINE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// An answer may claim to be this much older than the attempt's start
/// (clock slack) before it is refused.
pub const EARLY_SLACK_MS: i64 = 5_000;

/// Largest stored response (its JSON), bytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Most answers one submit may carry.
pub const MAX_SUBMITTED_ANSWERS: usize = 1_000;

// ---------------------------------------------------------------------------
// DTOs
// ---------------------------------------------------------------------------

/// The course as the learner sees it (`learning/course`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerCourse {
    pub course_id: String,
    /// The latest published version, which this view shows.
    pub version: i64,
    pub title: String,
    /// Sanitised HTML.
    pub description_html: String,
    pub modules: Vec<LearnerModule>,
    pub settings: LearnerSettings,
    pub progress: ProgressDto,
    /// Where to continue; `None` when there is nothing left to do.
    pub resume: Option<ResumePoint>,
    /// The learner passed on a version older than the latest material
    /// change and has not completed the current version.
    pub recertification_due: bool,
    /// When the learner completed the course in the current cycle (epoch ms);
    /// a certificate is available when this is set.
    pub completed_at_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerModule {
    pub id: String,
    pub title: String,
    pub lessons: Vec<LearnerLesson>,
    /// The module's quiz (no questions here; see [`start_attempt`]).
    pub quiz: Option<QuizSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerLesson {
    pub id: String,
    pub title: String,
    /// The lesson body, rendered and sanitised on the server.
    pub html: String,
}

/// A quiz without its questions: the learner's standing on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizSummary {
    pub question_count: u32,
    pub total_points: f64,
    /// Attempts started in the current cycle (submitted or not).
    pub attempts_used: u32,
    /// `None`: unlimited.
    pub attempts_allowed: Option<u32>,
    /// Best submitted percentage in the current cycle.
    pub best_percent: Option<f64>,
    /// Passed in the current cycle.
    pub passed: bool,
    /// An attempt in progress (resume it with [`start_attempt`]).
    pub open_attempt_id: Option<String>,
}

/// The course settings a learner needs to know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerSettings {
    pub pass_mark_percent: u8,
    pub attempt_limit: Option<u32>,
    pub time_limit_secs: Option<u32>,
    pub feedback_mode: FeedbackMode,
    pub certificate_validity_days: Option<u32>,
}

/// The learner's progress through the latest version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDto {
    /// Opened lessons (ids, course order).
    pub opened_lessons: Vec<String>,
    /// Modules whose quiz is passed in the current cycle (ids, course order).
    pub passed_quizzes: Vec<String>,
    pub lessons_total: u32,
    pub quizzes_total: u32,
    /// Every lesson opened and every quiz passed (and there was something to do).
    pub complete: bool,
    /// (lessons opened + quizzes passed) / (lessons + quizzes), 0..=100, rounded down.
    pub percent: u8,
}

/// Where "continue where you left off" goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResumePoint {
    /// An attempt in progress (call [`start_attempt`] for `module_id` to resume it).
    Attempt {
        module_id: String,
        attempt_id: String,
    },
    /// The first lesson, in course order, not opened yet.
    Lesson {
        module_id: String,
        lesson_id: String,
    },
    /// The first quiz, in course order, not passed yet (all lessons before it opened).
    Quiz { module_id: String },
}

/// Where an attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptState {
    /// Open: answers are accepted.
    InProgress,
    /// The time limit (plus grace) passed without a submit; submit it (with
    /// the offline journal) to be graded — done automatically after 24 h.
    TimeUp,
    Submitted,
}

/// One question of an attempt: the learner-safe view plus its prompt as HTML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptQuestion {
    pub question: LearnerQuestion,
    /// `question.prompt_md`, rendered and sanitised on the server.
    pub prompt_html: String,
}

/// A quiz attempt as the learner takes it (`learning/start-attempt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub attempt_id: String,
    pub course_id: String,
    pub module_id: String,
    /// 1-based, within the current cycle.
    pub number: u32,
    pub attempts_allowed: Option<u32>,
    /// The course version the questions come from (pinned at start).
    pub course_version: i64,
    /// The Confluence page version at start, when the context said.
    pub page_version: Option<i64>,
    /// In the order to show them (shuffled per attempt when the course says
    /// so; the same order on every reload).
    pub questions: Vec<AttemptQuestion>,
    /// Answers saved so far: question id → response.
    pub answers: BTreeMap<String, Response>,
    /// Immediate feedback mode only: the grade of each saved answer (for a
    /// reload); empty otherwise.
    pub feedback: BTreeMap<String, QuestionGrade>,
    pub started_at_ms: i64,
    /// `None`: no time limit.
    pub deadline_ms: Option<i64>,
    /// The server clock when this view was made (for the countdown and for
    /// computing `answered_at_ms` in server time).
    pub server_now_ms: i64,
    /// [`GRACE_MS`].
    pub grace_ms: i64,
    pub feedback_mode: FeedbackMode,
    pub pass_mark_percent: u8,
    pub state: AttemptState,
}

/// The grade of one answer (immediate feedback): no correct answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionGrade {
    pub score: f64,
    pub max: f64,
    pub correct: Correctness,
    /// Sanitised HTML.
    pub feedback_html: Option<String>,
}

/// Result of `learning/save-answer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedAnswer {
    pub attempt_id: String,
    pub question_id: String,
    /// `false`: an answer with a later `answered_at_ms` was already stored and
    /// stays (this one was older — e.g. a stale journal entry).
    pub applied: bool,
    /// Of the answer now stored.
    pub answered_at_ms: i64,
    pub received_at_ms: i64,
    /// Immediate feedback mode only: the grade of the stored answer.
    pub grade: Option<QuestionGrade>,
}

/// One question of a submitted attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub question_id: String,
    pub prompt_html: String,
    pub answered: bool,
    pub score: f64,
    pub max: f64,
    pub correct: Correctness,
    /// Sanitised HTML.
    pub feedback_html: Option<String>,
    /// The correct answer, as lines of plain text: the correct option(s);
    /// "True"/"False"; the accepted texts (regular expressions are not
    /// shown); the number (with "± tolerance"); the items in order
    /// ("1. …"); the pairs ("prompt → answer").
    pub correct_answer: Vec<String>,
}

/// An answer the server did not take (from a submit's journal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedAnswer {
    pub question_id: String,
    /// Why, for the learner.
    pub reason: String,
}

/// Result of `learning/submit` (the same on every repeat of the submit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    pub attempt_id: String,
    pub course_id: String,
    pub module_id: String,
    pub number: u32,
    pub course_version: i64,
    pub score: f64,
    pub max_score: f64,
    pub percent: f64,
    pub passed: bool,
    pub pass_mark_percent: u8,
    pub started_at_ms: i64,
    pub submitted_at_ms: i64,
    pub feedback_mode: FeedbackMode,
    /// Per question, in the attempt's order; empty with [`FeedbackMode::Never`].
    pub questions: Vec<QuestionResult>,
    /// Answers sent with this submit that were not counted (too late,
    /// unknown question, already answered with immediate feedback). Empty
    /// on a repeated submit.
    pub rejected: Vec<RejectedAnswer>,
    /// The attempt passed and the course is now complete (certificate available).
    pub course_complete: bool,
}

/// One row of `learning/history`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptSummary {
    pub attempt_id: String,
    /// 1-based within its cycle.
    pub number: u32,
    pub course_version: i64,
    /// Started in the current re-certification cycle.
    pub current_cycle: bool,
    pub state: AttemptState,
    pub started_at_ms: i64,
    pub deadline_ms: Option<i64>,
    pub submitted_at_ms: Option<i64>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
}

/// A completion certificate (`learning/certificate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Stable per completion (printable reference).
    pub certificate_id: String,
    pub course_id: String,
    /// The title of the completed version.
    pub course_title: String,
    pub version: i64,
    /// The learner's display name from Confluence, or their account id when
    /// Confluence could not be asked (see `name_from_confluence`).
    pub learner_name: String,
    pub learner_account_id: String,
    /// `false`: Confluence was unreachable; `learner_name` is the account id.
    pub name_from_confluence: bool,
    pub completed_at_ms: i64,
    /// `completed_at_ms + validity`; `None`: never expires.
    pub expires_at_ms: Option<i64>,
    pub expired: bool,
}

// ---------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------

/// `POST /api/learning/course` — the latest published version for the
/// learner, with their progress. 404 (`AppError::NotFound`) when the course
/// does not exist for this site *or has not been published yet* (the view
/// says "This course has not been published yet.").
#[server(name = LearnerCourseFn, endpoint = "learning/course", client = ApClient)]
pub async fn learner_course(course_id: String) -> Result<LearnerCourse, AppError> {
    ssr::course(course_id).await
}

/// `POST /api/learning/open-lesson` — records that the learner opened a
/// lesson of `version` (idempotent); the progress after it.
#[server(endpoint = "learning/open-lesson", client = ApClient)]
pub async fn open_lesson(
    course_id: String,
    version: i64,
    lesson_id: String,
) -> Result<ProgressDto, AppError> {
    ssr::open_lesson(course_id, version, lesson_id).await
}

/// `POST /api/learning/start-attempt` — start or resume the quiz of
/// `module_id`. `client_token`: a UUID the browser makes per "Start" (a
/// retry with the same token returns the same attempt). An attempt in
/// progress is returned whatever the token. 409 when the attempt limit is
/// reached.
#[server(endpoint = "learning/start-attempt", client = ApClient)]
pub async fn start_attempt(
    course_id: String,
    module_id: String,
    client_token: String,
) -> Result<AttemptView, AppError> {
    ssr::start(course_id, module_id, client_token).await
}

/// `POST /api/learning/save-answer` (JSON) — save one answer as it is given.
/// 404: not the learner's attempt; 409: submitted, too late, or (immediate
/// feedback) already answered differently; 400: unknown question, too early,
/// too large.
#[server(endpoint = "learning/save-answer", client = ApClient, input = server_fn::codec::Json)]
pub async fn save_answer(
    attempt_id: String,
    question_id: String,
    response: Response,
    answered_at_ms: i64,
) -> Result<SavedAnswer, AppError> {
    ssr::save(attempt_id, question_id, response, answered_at_ms).await
}

/// `POST /api/learning/submit` (JSON) — submit an attempt with the offline
/// journal (`(question id, response, answered_at_ms)`, merged like
/// [`save_answer`]). Idempotent: a repeat returns the stored result.
#[server(endpoint = "learning/submit", client = ApClient, input = server_fn::codec::Json)]
pub async fn submit_attempt(
    attempt_id: String,
    answers: Vec<(String, Response, i64)>,
) -> Result<AttemptResult, AppError> {
    ssr::submit(attempt_id, answers).await
}

/// `POST /api/learning/history` — the learner's attempts at one quiz,
/// newest first.
#[server(endpoint = "learning/history", client = ApClient)]
pub async fn attempt_history(
    course_id: String,
    module_id: String,
) -> Result<Vec<AttemptSummary>, AppError> {
    ssr::history(course_id, module_id).await
}

/// `POST /api/learning/certificate` — the learner's certificate; 404 until
/// the course is complete.
#[server(name = CertificateFn, endpoint = "learning/certificate", client = ApClient)]
pub async fn certificate(course_id: String) -> Result<Certificate, AppError> {
    ssr::certificate(course_id).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::{
        collections::{HashMap, HashSet},
        sync::{Arc, Mutex, OnceLock},
    };

    use sha2::{Digest, Sha256};

    use super::*;
    use crate::{
        api::ssr::{caller, fail, validate_id},
        connect::{auth::bearer_jwt, authz, users, TenantKey, Verified},
        course::{
            grading::{self, AttemptScore},
            learner::quiz_for_learner,
            markdown::render_markdown,
            model::{course_progress, CourseContent, Question, QuestionKind, Quiz, TextMatch},
        },
        state::AppState,
        store::{
            courses::CourseRow,
            learning::{
                now_ms, AnswerRow, AnswerWrite, AttemptRow, CompletionRow, Merge, NewAnswer,
                NewAttempt, ScoreRecord, SubmitOutcome,
            },
            now_epoch, StoreError,
        },
    };

    /// The verified learner of this call.
    struct Learner {
        state: AppState,
        who: Verified,
        account: String,
        page: String,
    }

    fn store_err(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => fail(AppError::NotFound),
            StoreError::Conflict => fail(AppError::Conflict(
                "That changed at the same time in another window. Please try again.".into(),
            )),
            other => {
                tracing::error!(error = %other, "learning: store error");
                fail(AppError::Internal)
            }
        }
    }

    fn internal(what: &str) -> AppError {
        tracing::error!(what, "learning: inconsistent data");
        fail(AppError::Internal)
    }

    /// Context JWT verified, a logged-in learner, view permission on the page.
    async fn learner() -> Result<Learner, AppError> {
        let state = AppState::current().map_err(fail)?;
        let who = caller().await?;
        let Some(account) = who.account_id.clone().filter(|a| !a.is_empty()) else {
            // Anonymous viewers have no learner record to write to.
            return Err(fail(AppError::Unauthorized));
        };
        let Some(page) = who.content_id.clone() else {
            return Err(fail(AppError::Invalid(
                "Open the course from a Confluence page.".into(),
            )));
        };
        authz::require_view_page(&state, &who, &page).await?;
        Ok(Learner {
            state,
            who,
            account,
            page,
        })
    }

    /// Author-made ids (modules, lessons, questions): compared, never parsed.
    fn validate_ref(id: &str, what: &str) -> Result<(), AppError> {
        if id.is_empty() || id.len() > 200 {
            Err(fail(AppError::Invalid(format!("That is not a {what} id."))))
        } else {
            Ok(())
        }
    }

    fn validate_token(token: &str) -> Result<(), AppError> {
        let ok = (16..=64).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(fail(AppError::Invalid(
                "The attempt token must be a UUID made by the browser.".into(),
            )))
        }
    }

    /// The course of this site; when it belongs to another page (the page
    /// was copied), the learner must be able to view that page too.
    async fn course_row(l: &Learner, course_id: &str) -> Result<CourseRow, AppError> {
        validate_id(course_id, "course")?;
        let row = l
            .state
            .db
            .course(&l.who.tenant, course_id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| fail(AppError::NotFound))?;
        if row.page_id != l.page {
            authz::require_view_page(&l.state, &l.who, &row.page_id).await?;
        }
        Ok(row)
    }

    // ---- published versions (immutable, so cached) --------------------------

    type VersionKey = (String, String, i64);
    /// Parsed versions kept at most; the cache is emptied when it is full.
    const VERSION_CACHE_MAX: usize = 1024;

    fn version_cache() -> &'static Mutex<HashMap<VersionKey, Arc<CourseContent>>> {
        static CACHE: OnceLock<Mutex<HashMap<VersionKey, Arc<CourseContent>>>> = OnceLock::new();
        CACHE.get_or_init(Default::default)
    }

    /// The re-certification cycle start per (tenant, course, latest version).
    fn cycle_cache() -> &'static Mutex<HashMap<VersionKey, i64>> {
        static CACHE: OnceLock<Mutex<HashMap<VersionKey, i64>>> = OnceLock::new();
        CACHE.get_or_init(Default::default)
    }

    /// A published version's content. Versions never change, so the parsed
    /// content is kept per (tenant, course, version).
    async fn content(
        l: &Learner,
        course_id: &str,
        version: i64,
    ) -> Result<Arc<CourseContent>, AppError> {
        content_of(&l.state, &l.who.tenant, course_id, version).await
    }

    async fn content_of(
        state: &AppState,
        tenant: &TenantKey,
        course_id: &str,
        version: i64,
    ) -> Result<Arc<CourseContent>, AppError> {
        let key = (tenant.as_str().to_string(), course_id.to_string(), version);
        if let Some(c) = version_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(c.clone());
        }
        let row = state
            .db
            .version(tenant, course_id, version)
            .await
            .map_err(store_err)?
            .ok_or_else(|| fail(AppError::NotFound))?;
        let parsed: CourseContent = serde_json::from_str(&row.content_json).map_err(|e| {
            tracing::error!(error = %e, course = %course_id, version, "published version does not parse");
            fail(AppError::Internal)
        })?;
        let parsed = Arc::new(parsed);
        let mut cache = version_cache().lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERSION_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, parsed.clone());
        Ok(parsed)
    }

    /// The latest published version and the current re-certification cycle.
    struct Published {
        version: i64,
        content: Arc<CourseContent>,
        /// The latest version published with `material = true` (1 if none).
        cycle_start: i64,
    }

    async fn published(l: &Learner, row: &CourseRow) -> Result<Published, AppError> {
        published_of(&l.state, &l.who.tenant, row).await
    }

    async fn published_of(
        state: &AppState,
        tenant: &TenantKey,
        row: &CourseRow,
    ) -> Result<Published, AppError> {
        let Some(version) = row.latest_version else {
            return Err(fail(AppError::NotFound));
        };
        // Versions up to the latest never change (nor does their `material`
        // flag), so the cycle start is a function of the latest version.
        let key = (tenant.as_str().to_string(), row.id.clone(), version);
        let known = cycle_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        let cycle_start = match known {
            Some(c) => c,
            None => {
                let metas = state
                    .db
                    .versions(tenant, &row.id)
                    .await
                    .map_err(store_err)?;
                let c = metas
                    .iter()
                    .filter(|m| m.material && m.version <= version)
                    .map(|m| m.version)
                    .max()
                    .unwrap_or(1);
                let mut cache = cycle_cache().lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= VERSION_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(key, c);
                c
            }
        };
        let content = content_of(state, tenant, &row.id, version).await?;
        Ok(Published {
            version,
            content,
            cycle_start,
        })
    }

    fn quiz_of<'a>(content: &'a CourseContent, module_id: &str) -> Option<&'a Quiz> {
        content
            .modules
            .iter()
            .find(|m| m.id == module_id)
            .and_then(|m| m.quiz.as_ref())
    }

    // ---- the learner's records ---------------------------------------------

    struct Standing {
        opened: HashSet<String>,
        attempts: Vec<AttemptRow>,
        completions: Vec<CompletionRow>,
    }

    /// Everything the learner did on a course; attempts whose offline window
    /// closed without a submit are graded first.
    async fn standing(l: &Learner, course_id: &str) -> Result<Standing, AppError> {
        let db = &l.state.db;
        let tenant = &l.who.tenant;
        let opened = db
            .opened_lessons(tenant, course_id, &l.account)
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let attempts = db
            .attempts(tenant, &l.account, course_id, None)
            .await
            .map_err(store_err)?;
        let attempts = finalize_overdue(&l.state, tenant, attempts).await?;
        let completions = db
            .completions(tenant, course_id, &l.account)
            .await
            .map_err(store_err)?;
        Ok(Standing {
            opened,
            attempts,
            completions,
        })
    }

    fn overdue(a: &AttemptRow, now: i64) -> bool {
        a.submitted_at_ms.is_none() && a.deadline_ms.is_some_and(|d| now > d + OFFLINE_WINDOW_MS)
    }

    /// Grades the attempts whose offline window closed without a submit
    /// (with the answers saved in time); the others pass through unchanged.
    async fn finalize_overdue(
        state: &AppState,
        tenant: &TenantKey,
        attempts: Vec<AttemptRow>,
    ) -> Result<Vec<AttemptRow>, AppError> {
        let now = now_ms();
        let mut out = Vec::with_capacity(attempts.len());
        for a in attempts {
            if !overdue(&a, now) {
                out.push(a);
                continue;
            }
            let content = content_of(state, tenant, &a.course_id, a.course_version).await?;
            let quiz =
                quiz_of(&content, &a.module_id).ok_or_else(|| internal("quiz of attempt"))?;
            match submit_in_store_of(state, tenant, &a, &content, quiz, &[], now).await? {
                SubmitOutcome::Submitted { attempt, .. }
                | SubmitOutcome::AlreadySubmitted(attempt) => {
                    tracing::info!(attempt = %attempt.id, "graded an attempt left unsubmitted after its time limit");
                    out.push(attempt)
                }
                SubmitOutcome::Missing => {}
            }
        }
        Ok(out)
    }

    fn is_open(a: &AttemptRow, now: i64) -> bool {
        a.submitted_at_ms.is_none() && a.deadline_ms.is_none_or(|d| now <= d + GRACE_MS)
    }

    fn state_of(a: &AttemptRow, now: i64) -> AttemptState {
        if a.submitted_at_ms.is_some() {
            AttemptState::Submitted
        } else if is_open(a, now) {
            AttemptState::InProgress
        } else {
            AttemptState::TimeUp
        }
    }

    /// Modules whose quiz the learner passed in the current cycle.
    fn passed_modules(attempts: &[AttemptRow], cycle_start: i64) -> HashSet<String> {
        attempts
            .iter()
            .filter(|a| a.passed == Some(true) && a.course_version >= cycle_start)
            .map(|a| a.module_id.clone())
            .collect()
    }

    fn progress_dto(content: &CourseContent, s: &Standing, cycle_start: i64) -> ProgressDto {
        let passed = passed_modules(&s.attempts, cycle_start);
        let p = course_progress(
            content,
            |id| s.opened.contains(id),
            |id| passed.contains(id),
        );
        let total = p.lessons_total + p.quizzes_total;
        let done = p.lessons_opened + p.quizzes_passed;
        let percent = (done * 100)
            .checked_div(total)
            .map_or(0, |p| p.min(100) as u8);
        ProgressDto {
            opened_lessons: content
                .modules
                .iter()
                .flat_map(|m| &m.lessons)
                .filter(|les| s.opened.contains(&les.id))
                .map(|les| les.id.clone())
                .collect(),
            passed_quizzes: content
                .modules
                .iter()
                .filter(|m| m.quiz.is_some() && passed.contains(&m.id))
                .map(|m| m.id.clone())
                .collect(),
            lessons_total: p.lessons_total as u32,
            quizzes_total: p.quizzes_total as u32,
            complete: p.complete,
            percent,
        }
    }

    /// The completion of the current cycle (the first one), recording it now
    /// if the learner is complete and has none yet.
    async fn completion(
        l: &Learner,
        course_id: &str,
        p: &Published,
        progress: &ProgressDto,
        s: &Standing,
    ) -> Result<Option<CompletionRow>, AppError> {
        if let Some(c) = current_completion(&s.completions, p.cycle_start) {
            return Ok(Some(c));
        }
        if !progress.complete {
            return Ok(None);
        }
        let db = &l.state.db;
        db.record_completion(
            &l.who.tenant,
            course_id,
            &l.account,
            p.version,
            p.cycle_start,
            now_epoch(),
        )
        .await
        .map_err(store_err)?;
        let all = db
            .completions(&l.who.tenant, course_id, &l.account)
            .await
            .map_err(store_err)?;
        Ok(current_completion(&all, p.cycle_start))
    }

    /// The completion of the cycle starting at `cycle_start`: the first one.
    fn current_completion(list: &[CompletionRow], cycle_start: i64) -> Option<CompletionRow> {
        list.iter()
            .filter(|c| c.version >= cycle_start)
            .min_by_key(|c| (c.completed_at, c.version))
            .cloned()
    }

    fn recertification_due(
        s: &Standing,
        cycle_start: i64,
        progress: &ProgressDto,
        current: &Option<CompletionRow>,
    ) -> bool {
        current.is_none()
            && !progress.complete
            && (s.completions.iter().any(|c| c.version < cycle_start)
                || s.attempts
                    .iter()
                    .any(|a| a.passed == Some(true) && a.course_version < cycle_start))
    }

    // ---- learning/course ---------------------------------------------------

    fn settings_dto(c: &CourseContent) -> LearnerSettings {
        let s = &c.settings;
        LearnerSettings {
            pass_mark_percent: s.pass_mark_percent,
            attempt_limit: s.attempt_limit,
            time_limit_secs: s.time_limit_secs,
            feedback_mode: s.feedback_mode,
            certificate_validity_days: s.certificate_validity_days,
        }
    }

    pub async fn course(course_id: String) -> Result<LearnerCourse, AppError> {
        let l = learner().await?;
        let row = course_row(&l, &course_id).await?;
        let p = published(&l, &row).await?;
        let s = standing(&l, &course_id).await?;
        let progress = progress_dto(&p.content, &s, p.cycle_start);
        let current = completion(&l, &course_id, &p, &progress, &s).await?;
        let now = now_ms();
        let in_cycle = |a: &&AttemptRow| a.cycle_version == p.cycle_start;
        let open = |module_id: &str| {
            s.attempts
                .iter()
                .filter(in_cycle)
                .find(|a| a.module_id == module_id && is_open(a, now))
        };
        let passed = passed_modules(&s.attempts, p.cycle_start);
        let c = &p.content;
        let modules = c
            .modules
            .iter()
            .map(|m| LearnerModule {
                id: m.id.clone(),
                title: m.title.clone(),
                lessons: m
                    .lessons
                    .iter()
                    .map(|les| LearnerLesson {
                        id: les.id.clone(),
                        title: les.title.clone(),
                        html: render_markdown(&les.body_md),
                    })
                    .collect(),
                quiz: m.quiz.as_ref().map(|q| {
                    let mine: Vec<&AttemptRow> = s
                        .attempts
                        .iter()
                        .filter(in_cycle)
                        .filter(|a| a.module_id == m.id)
                        .collect();
                    QuizSummary {
                        question_count: q.questions.len() as u32,
                        total_points: q.questions.iter().map(|q| q.points).sum(),
                        attempts_used: mine.len() as u32,
                        attempts_allowed: c.settings.attempt_limit,
                        best_percent: best_percent(mine.iter().copied()),
                        passed: passed.contains(&m.id),
                        open_attempt_id: open(&m.id).map(|a| a.id.clone()),
                    }
                }),
            })
            .collect();
        let resume = s
            .attempts
            .iter()
            .filter(in_cycle)
            .find(|a| is_open(a, now) && quiz_of(c, &a.module_id).is_some())
            .map(|a| ResumePoint::Attempt {
                module_id: a.module_id.clone(),
                attempt_id: a.id.clone(),
            })
            .or_else(|| {
                c.modules.iter().find_map(|m| {
                    m.lessons
                        .iter()
                        .find(|les| !s.opened.contains(&les.id))
                        .map(|les| ResumePoint::Lesson {
                            module_id: m.id.clone(),
                            lesson_id: les.id.clone(),
                        })
                        .or_else(|| {
                            (m.quiz.is_some() && !passed.contains(&m.id)).then(|| {
                                ResumePoint::Quiz {
                                    module_id: m.id.clone(),
                                }
                            })
                        })
                })
            });
        Ok(LearnerCourse {
            course_id: row.id.clone(),
            version: p.version,
            title: c.title.clone(),
            description_html: render_markdown(&c.description_md),
            modules,
            settings: settings_dto(c),
            recertification_due: recertification_due(&s, p.cycle_start, &progress, &current),
            completed_at_ms: current.map(|c| c.completed_at * 1000),
            progress,
            resume,
        })
    }

    // ---- learning/open-lesson ----------------------------------------------

    pub async fn open_lesson(
        course_id: String,
        version: i64,
        lesson_id: String,
    ) -> Result<ProgressDto, AppError> {
        let l = learner().await?;
        validate_ref(&lesson_id, "lesson")?;
        let row = course_row(&l, &course_id).await?;
        let p = published(&l, &row).await?;
        if version < 1 || version > p.version {
            return Err(fail(AppError::NotFound));
        }
        let at = content(&l, &course_id, version).await?;
        if !at
            .modules
            .iter()
            .flat_map(|m| &m.lessons)
            .any(|les| les.id == lesson_id)
        {
            return Err(fail(AppError::NotFound));
        }
        l.state
            .db
            .open_lesson(
                &l.who.tenant,
                &course_id,
                &l.account,
                &lesson_id,
                version,
                now_epoch(),
            )
            .await
            .map_err(store_err)?;
        let s = standing(&l, &course_id).await?;
        let progress = progress_dto(&p.content, &s, p.cycle_start);
        completion(&l, &course_id, &p, &progress, &s).await?;
        Ok(progress)
    }

    // ---- learning/start-attempt --------------------------------------------

    /// The Confluence page version from the context JWT
    /// (`context.confluence.content.version`), when Confluence sent it. The
    /// token was verified by [`caller`] for this very request; this only
    /// reads one more claim of it.
    fn page_version() -> Option<i64> {
        let parts = use_context::<axum::http::request::Parts>()?;
        let token = bearer_jwt(&parts)?;
        let claims: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
        match &claims["context"]["confluence"]["content"]["version"] {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .filter(|v| *v > 0)
    }

    /// A random 64-bit shuffle seed (from the OS RNG through UUID v4: two
    /// UUIDs' halves mixed so the fixed version/variant bits vanish).
    fn random_seed() -> u64 {
        let (a, _) = uuid::Uuid::new_v4().as_u64_pair();
        let (_, b) = uuid::Uuid::new_v4().as_u64_pair();
        a ^ b.rotate_left(32)
    }

    fn limit_message(limit: u32) -> String {
        if limit == 1 {
            "You have used your one attempt.".into()
        } else {
            format!("You have used all {limit} attempts.")
        }
    }

    pub async fn start(
        course_id: String,
        module_id: String,
        client_token: String,
    ) -> Result<AttemptView, AppError> {
        let l = learner().await?;
        validate_ref(&module_id, "quiz")?;
        validate_token(&client_token)?;
        let row = course_row(&l, &course_id).await?;
        let p = published(&l, &row).await?;
        if quiz_of(&p.content, &module_id).is_none() {
            return Err(fail(AppError::NotFound));
        }
        let db = &l.state.db;
        let tenant = &l.who.tenant;
        // A lost race (same token, or the same attempt number taken by a
        // concurrent start) is read back on the next round.
        for _ in 0..3 {
            if let Some(a) = db
                .attempt_by_token(tenant, &l.account, &client_token)
                .await
                .map_err(store_err)?
            {
                if a.course_id != course_id || a.module_id != module_id {
                    return Err(fail(AppError::Conflict(
                        "This attempt token was already used for another quiz.".into(),
                    )));
                }
                return view_of(&l, &a).await;
            }
            let attempts = db
                .attempts(tenant, &l.account, &course_id, Some(&module_id))
                .await
                .map_err(store_err)?;
            let attempts = finalize_overdue(&l.state, &l.who.tenant, attempts).await?;
            let now = now_ms();
            let cycle: Vec<&AttemptRow> = attempts
                .iter()
                .filter(|a| a.cycle_version == p.cycle_start)
                .collect();
            if let Some(open) = cycle.iter().find(|a| is_open(a, now)) {
                return view_of(&l, open).await;
            }
            let settings = &p.content.settings;
            if let Some(limit) = settings.attempt_limit {
                if cycle.len() as u64 >= u64::from(limit) {
                    return Err(fail(AppError::Conflict(limit_message(limit))));
                }
            }
            let id = uuid::Uuid::new_v4().to_string();
            let number = cycle.iter().map(|a| a.number).max().unwrap_or(0) + 1;
            let deadline = settings.time_limit_secs.map(|s| now + i64::from(s) * 1000);
            let created = db
                .create_attempt(
                    tenant,
                    &NewAttempt {
                        id: &id,
                        course_id: &course_id,
                        module_id: &module_id,
                        account_id: &l.account,
                        client_token: &client_token,
                        course_version: p.version,
                        page_version: page_version(),
                        cycle_version: p.cycle_start,
                        number,
                        seed: random_seed(),
                        started_at_ms: now,
                        deadline_ms: deadline,
                    },
                )
                .await;
            match created {
                Ok(()) => {
                    let a = db
                        .attempt(tenant, &l.account, &id)
                        .await
                        .map_err(store_err)?
                        .ok_or_else(|| internal("attempt just created"))?;
                    return view_of(&l, &a).await;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_err(e)),
            }
        }
        Err(fail(AppError::Conflict(
            "The quiz was started in another window at the same time. Reload to continue there."
                .into(),
        )))
    }

    fn parse_answers(rows: &[AnswerRow]) -> HashMap<String, Response> {
        rows.iter()
            .filter_map(|r| match serde_json::from_str::<Response>(&r.response_json) {
                Ok(resp) => Some((r.question_id.clone(), resp)),
                Err(e) => {
                    tracing::error!(error = %e, question = %r.question_id, "stored response does not parse");
                    None
                }
            })
            .collect()
    }

    fn question_grade(q: &Question, r: &Response) -> QuestionGrade {
        let g = grading::grade(q, r);
        QuestionGrade {
            score: g.score,
            max: g.max,
            correct: g.correct,
            feedback_html: g.feedback_md.as_deref().map(render_markdown),
        }
    }

    async fn view_of(l: &Learner, a: &AttemptRow) -> Result<AttemptView, AppError> {
        let content = content(l, &a.course_id, a.course_version).await?;
        let quiz = quiz_of(&content, &a.module_id).ok_or_else(|| internal("quiz of attempt"))?;
        let settings = &content.settings;
        let rows = l
            .state
            .db
            .answers(&l.who.tenant, &a.id)
            .await
            .map_err(store_err)?;
        let answers = parse_answers(&rows);
        let feedback = if settings.feedback_mode == FeedbackMode::Immediate {
            quiz.questions
                .iter()
                .filter_map(|q| {
                    answers
                        .get(&q.id)
                        .map(|r| (q.id.clone(), question_grade(q, r)))
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let now = now_ms();
        Ok(AttemptView {
            attempt_id: a.id.clone(),
            course_id: a.course_id.clone(),
            module_id: a.module_id.clone(),
            number: a.number as u32,
            attempts_allowed: settings.attempt_limit,
            course_version: a.course_version,
            page_version: a.page_version,
            questions: quiz_for_learner(quiz, settings, a.seed)
                .into_iter()
                .map(|q| AttemptQuestion {
                    prompt_html: render_markdown(&q.prompt_md),
                    question: q,
                })
                .collect(),
            answers: answers.into_iter().collect(),
            feedback,
            started_at_ms: a.started_at_ms,
            deadline_ms: a.deadline_ms,
            server_now_ms: now,
            grace_ms: GRACE_MS,
            feedback_mode: settings.feedback_mode,
            pass_mark_percent: settings.pass_mark_percent,
            state: state_of(a, now),
        })
    }

    // ---- answers -------------------------------------------------------------

    /// Why an answer is refused, and with which status.
    enum Refusal {
        Invalid(String),
        Conflict(String),
    }

    impl Refusal {
        fn message(&self) -> &str {
            match self {
                Refusal::Invalid(m) | Refusal::Conflict(m) => m,
            }
        }
        fn into_error(self) -> AppError {
            fail(match self {
                Refusal::Invalid(m) => AppError::Invalid(m),
                Refusal::Conflict(m) => AppError::Conflict(m),
            })
        }
    }

    const TOO_LATE: &str =
        "Time ran out for this attempt: this answer was given after the time limit and does not count.";

    /// The timing rules (module docs); the `answered_at_ms` to store.
    fn check_timing(a: &AttemptRow, answered_at: i64, now: i64) -> Result<i64, Refusal> {
        if answered_at < a.started_at_ms - EARLY_SLACK_MS {
            return Err(Refusal::Invalid(
                "This answer is timed before the attempt started. Check your device's clock, reload and try again."
                    .into(),
            ));
        }
        if let Some(deadline) = a.deadline_ms {
            if answered_at > deadline + GRACE_MS {
                return Err(Refusal::Conflict(TOO_LATE.into()));
            }
            if now > deadline + GRACE_MS {
                // Received late: only answers journalled in time, within a day.
                if answered_at > deadline {
                    return Err(Refusal::Conflict(TOO_LATE.into()));
                }
                if now > deadline + OFFLINE_WINDOW_MS {
                    return Err(Refusal::Conflict(
                        "This answer arrived more than 24 hours after the attempt's time limit and can no longer count."
                            .into(),
                    ));
                }
            }
        }
        Ok(answered_at.min(now))
    }

    fn response_json(r: &Response) -> Result<String, Refusal> {
        let json = serde_json::to_string(r)
            .map_err(|_| Refusal::Invalid("This answer cannot be read.".into()))?;
        if json.len() > MAX_RESPONSE_BYTES {
            return Err(Refusal::Invalid("This answer is too long.".into()));
        }
        Ok(json)
    }

    fn merge_mode(mode: FeedbackMode) -> Merge {
        if mode == FeedbackMode::Immediate {
            Merge::FirstWins
        } else {
            Merge::LatestWins
        }
    }

    const ALREADY_SUBMITTED: &str = "This attempt has already been submitted.";
    const ALREADY_ANSWERED: &str =
        "You already answered this question; with immediate feedback your first answer counts.";

    /// The learner's attempt (404 for anyone else's), with its pinned content.
    async fn my_attempt(
        l: &Learner,
        attempt_id: &str,
    ) -> Result<(AttemptRow, Arc<CourseContent>, CourseRow), AppError> {
        validate_id(attempt_id, "attempt")?;
        let a = l
            .state
            .db
            .attempt(&l.who.tenant, &l.account, attempt_id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| fail(AppError::NotFound))?;
        let row = course_row(l, &a.course_id).await?;
        let content = content(l, &a.course_id, a.course_version).await?;
        Ok((a, content, row))
    }

    pub async fn save(
        attempt_id: String,
        question_id: String,
        response: Response,
        answered_at_ms: i64,
    ) -> Result<SavedAnswer, AppError> {
        let l = learner().await?;
        let (a, content, _) = my_attempt(&l, &attempt_id).await?;
        let quiz = quiz_of(&content, &a.module_id).ok_or_else(|| internal("quiz of attempt"))?;
        let question = quiz
            .questions
            .iter()
            .find(|q| q.id == question_id)
            .ok_or_else(|| {
                fail(AppError::Invalid(
                    "This question is not part of this attempt.".into(),
                ))
            })?;
        if a.submitted_at_ms.is_some() {
            return Err(fail(AppError::Conflict(ALREADY_SUBMITTED.into())));
        }
        let json = response_json(&response).map_err(Refusal::into_error)?;
        let now = now_ms();
        let at = check_timing(&a, answered_at_ms, now).map_err(Refusal::into_error)?;
        let merge = merge_mode(content.settings.feedback_mode);
        let written = l
            .state
            .db
            .save_answer(
                &l.who.tenant,
                &l.account,
                &a.id,
                &NewAnswer {
                    question_id: &question.id,
                    response_json: &json,
                    answered_at_ms: at,
                },
                now,
                merge,
            )
            .await
            .map_err(store_err)?;
        let (applied, stored) = match written {
            AnswerWrite::Stored(row) => (true, row),
            AnswerWrite::Kept(_) if merge == Merge::FirstWins => {
                return Err(fail(AppError::Conflict(ALREADY_ANSWERED.into())))
            }
            AnswerWrite::Kept(row) => (false, row),
            AnswerWrite::Closed => return Err(fail(AppError::Conflict(ALREADY_SUBMITTED.into()))),
        };
        let grade = if content.settings.feedback_mode == FeedbackMode::Immediate {
            serde_json::from_str::<Response>(&stored.response_json)
                .ok()
                .map(|r| question_grade(question, &r))
        } else {
            None
        };
        Ok(SavedAnswer {
            attempt_id: a.id,
            question_id: stored.question_id,
            applied,
            answered_at_ms: stored.answered_at_ms,
            received_at_ms: stored.received_at_ms,
            grade,
        })
    }

    // ---- submit --------------------------------------------------------------

    fn score_of(quiz: &Quiz, pass_mark: u8, rows: &[AnswerRow]) -> (AttemptScore, ScoreRecord) {
        let s = grading::score_attempt(&quiz.questions, &parse_answers(rows));
        let record = ScoreRecord {
            score: s.score,
            max_score: s.max,
            percent: s.percent,
            passed: s.passes(pass_mark),
        };
        (s, record)
    }

    async fn submit_in_store(
        l: &Learner,
        a: &AttemptRow,
        content: &CourseContent,
        quiz: &Quiz,
        merge_answers: &[NewAnswer<'_>],
        now: i64,
    ) -> Result<SubmitOutcome, AppError> {
        submit_in_store_of(
            &l.state,
            &l.who.tenant,
            a,
            content,
            quiz,
            merge_answers,
            now,
        )
        .await
    }

    /// Grades and stores attempt `a` (of `a.account_id`) in one transaction.
    async fn submit_in_store_of(
        state: &AppState,
        tenant: &TenantKey,
        a: &AttemptRow,
        content: &CourseContent,
        quiz: &Quiz,
        merge_answers: &[NewAnswer<'_>],
        now: i64,
    ) -> Result<SubmitOutcome, AppError> {
        let pass_mark = content.settings.pass_mark_percent;
        state
            .db
            .submit_attempt(
                tenant,
                &a.account_id,
                &a.id,
                now,
                merge_answers,
                merge_mode(content.settings.feedback_mode),
                |rows| score_of(quiz, pass_mark, rows).1,
            )
            .await
            .map_err(store_err)
    }

    /// The correct answer of a question as lines of plain text.
    fn correct_answer(q: &Question) -> Vec<String> {
        match &q.kind {
            QuestionKind::SingleChoice { options }
            | QuestionKind::MultipleChoice { options, .. } => options
                .iter()
                .filter(|o| o.correct)
                .map(|o| o.text.clone())
                .collect(),
            QuestionKind::TrueFalse { answer } => {
                vec![if *answer { "True" } else { "False" }.to_string()]
            }
            QuestionKind::ShortText { accepted } => accepted
                .iter()
                .filter(|t| t.mode != TextMatch::Regex)
                .map(|t| t.text.clone())
                .collect(),
            QuestionKind::Numeric { answer, tolerance } => {
                if *tolerance > 0.0 {
                    vec![format!("{answer} (± {tolerance})")]
                } else {
                    vec![answer.to_string()]
                }
            }
            QuestionKind::Ordering { items } => items
                .iter()
                .enumerate()
                .map(|(i, item)| format!("{}. {}", i + 1, item.text))
                .collect(),
            QuestionKind::Matching { pairs } => pairs
                .iter()
                .map(|p| format!("{} → {}", p.prompt, p.answer))
                .collect(),
        }
    }

    fn result_of(
        a: &AttemptRow,
        content: &CourseContent,
        rows: &[AnswerRow],
        rejected: Vec<RejectedAnswer>,
        course_complete: bool,
    ) -> Result<AttemptResult, AppError> {
        let quiz = quiz_of(content, &a.module_id).ok_or_else(|| internal("quiz of attempt"))?;
        let settings = &content.settings;
        let (Some(submitted_at_ms), Some(score), Some(max_score), Some(percent), Some(passed)) =
            (a.submitted_at_ms, a.score, a.max_score, a.percent, a.passed)
        else {
            return Err(internal("submitted attempt without a score"));
        };
        let questions = if settings.feedback_mode == FeedbackMode::Never {
            Vec::new()
        } else {
            let (scored, _) = score_of(quiz, settings.pass_mark_percent, rows);
            let answered = parse_answers(rows);
            let by_id: HashMap<&str, (&Question, &grading::Grade)> = quiz
                .questions
                .iter()
                .zip(&scored.grades)
                .map(|(q, g)| (q.id.as_str(), (q, g)))
                .collect();
            quiz_for_learner(quiz, settings, a.seed)
                .iter()
                .filter_map(|view| by_id.get(view.id.as_str()))
                .map(|(q, g)| QuestionResult {
                    question_id: q.id.clone(),
                    prompt_html: render_markdown(&q.prompt_md),
                    answered: answered.contains_key(&q.id),
                    score: g.score,
                    max: g.max,
                    correct: g.correct,
                    feedback_html: g.feedback_md.as_deref().map(render_markdown),
                    correct_answer: correct_answer(q),
                })
                .collect()
        };
        Ok(AttemptResult {
            attempt_id: a.id.clone(),
            course_id: a.course_id.clone(),
            module_id: a.module_id.clone(),
            number: a.number as u32,
            course_version: a.course_version,
            score,
            max_score,
            percent,
            passed,
            pass_mark_percent: settings.pass_mark_percent,
            started_at_ms: a.started_at_ms,
            submitted_at_ms,
            feedback_mode: settings.feedback_mode,
            questions,
            rejected,
            course_complete,
        })
    }

    /// After a passed attempt: is the course complete (recording it if so)?
    async fn complete_after_pass(
        l: &Learner,
        row: &CourseRow,
        a: &AttemptRow,
    ) -> Result<bool, AppError> {
        if a.passed != Some(true) {
            return Ok(false);
        }
        let p = published(l, row).await?;
        let s = standing(l, &a.course_id).await?;
        let progress = progress_dto(&p.content, &s, p.cycle_start);
        Ok(completion(l, &a.course_id, &p, &progress, &s)
            .await?
            .is_some())
    }

    pub async fn submit(
        attempt_id: String,
        answers: Vec<(String, Response, i64)>,
    ) -> Result<AttemptResult, AppError> {
        let l = learner().await?;
        if answers.len() > MAX_SUBMITTED_ANSWERS {
            return Err(fail(AppError::Invalid(
                "Too many answers in one submit.".into(),
            )));
        }
        let (a, content, row) = my_attempt(&l, &attempt_id).await?;
        let quiz = quiz_of(&content, &a.module_id).ok_or_else(|| internal("quiz of attempt"))?;
        let db = &l.state.db;
        if a.submitted_at_ms.is_some() {
            let rows = db.answers(&l.who.tenant, &a.id).await.map_err(store_err)?;
            let complete = complete_after_pass(&l, &row, &a).await?;
            return result_of(&a, &content, &rows, Vec::new(), complete);
        }
        let now = now_ms();
        let merge = merge_mode(content.settings.feedback_mode);
        let mut rejected = Vec::new();
        // One answer per question: the latest (first with immediate feedback).
        let mut chosen: HashMap<String, (String, i64)> = HashMap::new();
        for (question_id, response, answered_at) in answers {
            let checked = if !quiz.questions.iter().any(|q| q.id == question_id) {
                Err(Refusal::Invalid(
                    "This question is not part of this attempt.".into(),
                ))
            } else {
                response_json(&response)
                    .and_then(|json| check_timing(&a, answered_at, now).map(|at| (json, at)))
            };
            match checked {
                Err(r) => rejected.push(RejectedAnswer {
                    question_id,
                    reason: r.message().to_string(),
                }),
                Ok((json, at)) => {
                    let replace = match chosen.get(&question_id) {
                        None => true,
                        Some((_, prev)) => match merge {
                            Merge::LatestWins => at >= *prev,
                            Merge::FirstWins => at < *prev,
                        },
                    };
                    if replace {
                        chosen.insert(question_id, (json, at));
                    }
                }
            }
        }
        let mut merged: Vec<NewAnswer<'_>> = chosen
            .iter()
            .map(|(q, (json, at))| NewAnswer {
                question_id: q,
                response_json: json,
                answered_at_ms: *at,
            })
            .collect();
        merged.sort_by(|x, y| x.question_id.cmp(y.question_id));
        match submit_in_store(&l, &a, &content, quiz, &merged, now).await? {
            SubmitOutcome::Missing => Err(fail(AppError::NotFound)),
            SubmitOutcome::AlreadySubmitted(done) => {
                // A concurrent submit won; answer with its stored result.
                let rows = db
                    .answers(&l.who.tenant, &done.id)
                    .await
                    .map_err(store_err)?;
                let complete = complete_after_pass(&l, &row, &done).await?;
                result_of(&done, &content, &rows, Vec::new(), complete)
            }
            SubmitOutcome::Submitted {
                attempt,
                answers,
                kept,
            } => {
                if merge == Merge::FirstWins {
                    rejected.extend(kept.into_iter().map(|question_id| RejectedAnswer {
                        question_id,
                        reason: ALREADY_ANSWERED.into(),
                    }));
                }
                let complete = complete_after_pass(&l, &row, &attempt).await?;
                result_of(&attempt, &content, &answers, rejected, complete)
            }
        }
    }

    // ---- history -------------------------------------------------------------

    pub async fn history(
        course_id: String,
        module_id: String,
    ) -> Result<Vec<AttemptSummary>, AppError> {
        let l = learner().await?;
        validate_ref(&module_id, "quiz")?;
        let row = course_row(&l, &course_id).await?;
        let cycle_start = match row.latest_version {
            Some(_) => published(&l, &row).await?.cycle_start,
            None => return Ok(Vec::new()),
        };
        let attempts = l
            .state
            .db
            .attempts(&l.who.tenant, &l.account, &course_id, Some(&module_id))
            .await
            .map_err(store_err)?;
        let attempts = finalize_overdue(&l.state, &l.who.tenant, attempts).await?;
        let now = now_ms();
        let mut out: Vec<AttemptSummary> = attempts
            .iter()
            .map(|a| AttemptSummary {
                attempt_id: a.id.clone(),
                number: a.number as u32,
                course_version: a.course_version,
                current_cycle: a.cycle_version == cycle_start,
                state: state_of(a, now),
                started_at_ms: a.started_at_ms,
                deadline_ms: a.deadline_ms,
                submitted_at_ms: a.submitted_at_ms,
                score: a.score,
                max_score: a.max_score,
                percent: a.percent,
                passed: a.passed,
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    // ---- certificate ---------------------------------------------------------

    pub async fn certificate(course_id: String) -> Result<Certificate, AppError> {
        let l = learner().await?;
        let row = course_row(&l, &course_id).await?;
        let p = published(&l, &row).await?;
        let s = standing(&l, &course_id).await?;
        let progress = progress_dto(&p.content, &s, p.cycle_start);
        let Some(done) = completion(&l, &course_id, &p, &progress, &s).await? else {
            return Err(fail(AppError::NotFound));
        };
        let at = content(&l, &course_id, done.version).await?;
        let completed_at_ms = done.completed_at * 1000;
        let expires_at_ms = at
            .settings
            .certificate_validity_days
            .map(|days| completed_at_ms + i64::from(days) * 86_400_000);
        let (learner_name, name_from_confluence) =
            match users::display_name(&l.state, &l.who.tenant, &l.account).await {
                Some(name) => (name, true),
                None => (l.account.clone(), false),
            };
        let digest = Sha256::digest(
            format!(
                "{}\n{}\n{}\n{}\n{}",
                l.who.tenant.as_str(),
                course_id,
                l.account,
                done.version,
                done.completed_at
            )
            .as_bytes(),
        );
        Ok(Certificate {
            certificate_id: format!("SC-{}", hex::encode_upper(&digest[..6])),
            course_id,
            course_title: at.title.clone(),
            version: done.version,
            learner_name,
            learner_account_id: l.account.clone(),
            name_from_confluence,
            completed_at_ms,
            expires_at_ms,
            expired: expires_at_ms.is_some_and(|e| now_ms() >= e),
        })
    }

    // ---- admin reports -------------------------------------------------------

    /// One learner's standing on a course (space admin reports), computed by
    /// the same rules as the learner's own view.
    pub(crate) struct LearnerStatus {
        pub account_id: String,
        pub progress: ProgressDto,
        /// Attempts in the current re-certification cycle.
        pub attempts: u32,
        pub best_percent: Option<f64>,
        /// Latest lesson opened, answer saved, submit or completion (epoch ms).
        pub last_activity_ms: i64,
        /// The completion of the current cycle.
        pub completion: Option<CompletionRow>,
        pub expires_at_ms: Option<i64>,
        pub recertification_due: bool,
    }

    /// A published course and every learner's standing on it.
    pub(crate) struct CourseStatuses {
        pub version: i64,
        pub cycle_start: i64,
        pub lessons_total: u32,
        pub quizzes_total: u32,
        pub learners: Vec<LearnerStatus>,
    }

    /// Every learner's standing on a course of `tenant`, from the records the
    /// learner view and certificates read. Attempts whose offline window
    /// closed are graded first, exactly as on the learner's next visit, so a
    /// learner who never came back is not shown "in progress" forever.
    /// `None` while the course has never been published.
    pub(crate) async fn course_statuses(
        state: &AppState,
        tenant: &TenantKey,
        row: &CourseRow,
    ) -> Result<Option<CourseStatuses>, AppError> {
        if row.latest_version.is_none() {
            return Ok(None);
        }
        let p = published_of(state, tenant, row).await?;
        let records = state
            .db
            .course_records(tenant, &row.id)
            .await
            .map_err(store_err)?;
        let attempts = finalize_overdue(state, tenant, records.attempts).await?;
        let mut by_learner: std::collections::BTreeMap<String, (Standing, i64)> =
            Default::default();
        let blank = || {
            (
                Standing {
                    opened: HashSet::new(),
                    attempts: Vec::new(),
                    completions: Vec::new(),
                },
                0,
            )
        };
        for (account, lesson, opened_at) in records.lesson_views {
            let (s, last) = by_learner.entry(account).or_insert_with(blank);
            s.opened.insert(lesson);
            *last = (*last).max(opened_at * 1000);
        }
        for a in attempts {
            let (s, last) = by_learner.entry(a.account_id.clone()).or_insert_with(blank);
            *last = (*last)
                .max(a.last_activity_ms)
                .max(a.submitted_at_ms.unwrap_or_default());
            s.attempts.push(a);
        }
        for (account, c) in records.completions {
            let (s, last) = by_learner.entry(account).or_insert_with(blank);
            *last = (*last).max(c.completed_at * 1000);
            s.completions.push(c);
        }
        let (lessons_total, quizzes_total) = course_totals(&p.content);
        let mut learners = Vec::with_capacity(by_learner.len());
        for (account_id, (s, last_activity_ms)) in by_learner {
            let progress = progress_dto(&p.content, &s, p.cycle_start);
            let current = current_completion(&s.completions, p.cycle_start);
            let expires_at_ms = match &current {
                Some(c) => content_of(state, tenant, &row.id, c.version)
                    .await?
                    .settings
                    .certificate_validity_days
                    .map(|days| c.completed_at * 1000 + i64::from(days) * 86_400_000),
                None => None,
            };
            let in_cycle = s
                .attempts
                .iter()
                .filter(|a| a.cycle_version == p.cycle_start);
            learners.push(LearnerStatus {
                attempts: in_cycle.clone().count() as u32,
                best_percent: best_percent(in_cycle),
                recertification_due: recertification_due(&s, p.cycle_start, &progress, &current),
                account_id,
                progress,
                last_activity_ms,
                completion: current,
                expires_at_ms,
            });
        }
        Ok(Some(CourseStatuses {
            version: p.version,
            cycle_start: p.cycle_start,
            lessons_total,
            quizzes_total,
            learners,
        }))
    }

    /// The best score (percent) of graded attempts; `None` before any.
    fn best_percent<'a>(attempts: impl Iterator<Item = &'a AttemptRow>) -> Option<f64> {
        attempts
            .filter_map(|a| a.percent)
            .fold(None, |best: Option<f64>, x| {
                Some(best.map_or(x, |b| b.max(x)))
            })
    }

    /// `(lessons, quizzes)` of a course version.
    fn course_totals(c: &CourseContent) -> (u32, u32) {
        let lessons = c.modules.iter().map(|m| m.lessons.len()).sum::<usize>();
        let quizzes = c.modules.iter().filter(|m| m.quiz.is_some()).count();
        (lessons as u32, quizzes as u32)
    }
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::course_statuses;
