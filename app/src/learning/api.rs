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
//! The rules — time limits and the offline journal, which of two answers
//! counts, attempt cycles and re-certification, progress, completion,
//! certificates — live in [`course::learning`]; [`super::service`] applies
//! them. The functions here are thin: a guard, then one call.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use course::learning::{
    progress::{LearnerProgress as ProgressDto, ResumePoint},
    timing::{offline_window_ms, AttemptState, EARLY_SLACK_MS, GRACE_MS},
};
use course::{
    ids::{AttemptId, ClientToken, CourseId, LessonId, ModuleId, QuestionId},
    learner::LearnerQuestion,
    model::{AccessMode, Correctness, FeedbackMode, Response},
};

use crate::{client::ApClient, error::AppError};

// ---------------------------------------------------------------------------
// DTOs
// ---------------------------------------------------------------------------

/// The course as the learner sees it (`learning/course`).
///
/// What a published version fixes — ids, titles, the description, the
/// lessons — is held as [`SharedText`] and [`SharedList`]: made and
/// JSON-encoded once per version on the server and written verbatim into
/// every learner's response, so a read builds and escapes only what is the
/// learner's own (progress, quiz standing, access).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerCourse {
    pub course_id: SharedText,
    /// The latest published version, which this view shows.
    pub version: i64,
    pub title: SharedText,
    /// Sanitised HTML.
    pub description_html: SharedText,
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
    /// Who may take the course, and whether this learner may.
    pub access: LearnerAccess,
}

/// A learner's access to a course (see `AccessMode`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerAccess {
    pub mode: AccessMode,
    /// `false`: the course is shown as an outline only (lesson bodies
    /// empty) and [`Self::message`] says why and what to do.
    pub allowed: bool,
    pub message: Option<String>,
    /// A self-enrol course the learner is not enrolled in yet: show *Enrol*.
    pub can_self_enrol: bool,
    /// The learner's enrolment, if any (in any mode: due dates apply to
    /// open courses too).
    pub enrolment: Option<LearnerEnrolment>,
}

/// A learner's enrolment, as the course view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerEnrolment {
    pub enrolled_at_ms: i64,
    pub due_at_ms: Option<i64>,
    /// The due date has passed and the course is not complete.
    pub overdue: bool,
    /// They enrolled themselves (and no admin or group did).
    pub self_only: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerModule {
    pub id: SharedText,
    pub title: SharedText,
    /// The module's lessons; bodies empty when the learner may see only
    /// the outline.
    pub lessons: SharedList<LearnerLesson>,
    /// The module's quiz (no questions here; see [`start_attempt`]).
    pub quiz: Option<QuizSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerLesson {
    pub id: String,
    pub title: String,
    /// The lesson body, rendered and sanitised on the server.
    pub html: SharedText,
}

/// Text a published version fixes (an id, a title, rendered HTML), shared
/// and not copied. On the server it also keeps its JSON encoding, made
/// once, and writes that verbatim: escaping the lesson bodies on every read
/// was the largest cost of `learning/course` in `perf`. The browser reads a
/// plain string. Serialised only with JSON (the server-function codec).
#[derive(Clone, Debug, Default)]
pub struct SharedText {
    text: std::sync::Arc<str>,
    #[cfg(feature = "ssr")]
    json: Option<std::sync::Arc<serde_json::value::RawValue>>,
}

impl SharedText {
    /// `text` with its JSON encoding made now, once.
    #[cfg(feature = "ssr")]
    pub fn encoded(text: &str) -> Self {
        Self {
            text: text.into(),
            json: encode(&text).map(std::sync::Arc::from),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Bytes held (both forms).
    pub fn weight(&self) -> usize {
        #[cfg(feature = "ssr")]
        let json = self.json.as_ref().map_or(0, |j| j.get().len());
        #[cfg(not(feature = "ssr"))]
        let json = 0;
        self.text.len() + json
    }
}

/// `value` as JSON text, checked (`None` only if it cannot be encoded,
/// which the types used here cannot fail).
#[cfg(feature = "ssr")]
fn encode<T: Serialize + ?Sized>(value: &T) -> Option<Box<serde_json::value::RawValue>> {
    serde_json::to_string(value)
        .ok()
        .and_then(|json| serde_json::value::RawValue::from_string(json).ok())
}

impl std::ops::Deref for SharedText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<String> for SharedText {
    fn from(text: String) -> Self {
        Self {
            text: text.into(),
            #[cfg(feature = "ssr")]
            json: None,
        }
    }
}

impl From<&str> for SharedText {
    fn from(text: &str) -> Self {
        Self {
            text: text.into(),
            #[cfg(feature = "ssr")]
            json: None,
        }
    }
}

impl PartialEq for SharedText {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for SharedText {}

impl PartialEq<&str> for SharedText {
    fn eq(&self, other: &&str) -> bool {
        &*self.text == *other
    }
}

impl PartialEq<String> for SharedText {
    fn eq(&self, other: &String) -> bool {
        *self.text == **other
    }
}

impl Serialize for SharedText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "ssr")]
        if let Some(json) = &self.json {
            return json.as_ref().serialize(s);
        }
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SharedText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

/// A list a published version fixes (a module's lessons), shared and not
/// copied; on the server with its JSON encoding made once, like
/// [`SharedText`].
#[derive(Clone, Debug)]
pub struct SharedList<T> {
    items: std::sync::Arc<[T]>,
    #[cfg(feature = "ssr")]
    json: Option<std::sync::Arc<serde_json::value::RawValue>>,
}

impl<T: Serialize> SharedList<T> {
    /// `items` with their JSON encoding made now, once.
    #[cfg(feature = "ssr")]
    pub fn encoded(items: Vec<T>) -> Self {
        let json = encode(&items).map(std::sync::Arc::from);
        Self {
            items: items.into(),
            json,
        }
    }

    /// Bytes of the JSON encoding held (0 without one).
    pub fn json_weight(&self) -> usize {
        #[cfg(feature = "ssr")]
        return self.json.as_ref().map_or(0, |j| j.get().len());
        #[cfg(not(feature = "ssr"))]
        0
    }
}

impl<T> std::ops::Deref for SharedList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> From<Vec<T>> for SharedList<T> {
    fn from(items: Vec<T>) -> Self {
        Self {
            items: items.into(),
            #[cfg(feature = "ssr")]
            json: None,
        }
    }
}

impl<T: PartialEq> PartialEq for SharedList<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<T: Eq> Eq for SharedList<T> {}

impl<T: Serialize> Serialize for SharedList<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "ssr")]
        if let Some(json) = &self.json {
            return json.as_ref().serialize(s);
        }
        self.items.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SharedList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(Self::from)
    }
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
    /// The latest checkpoint (`None` once the time is up): the browser keeps
    /// it beside its offline journal and sends it with answers, so answers
    /// that arrive after the time limit can be tied to this open attempt.
    pub checkpoint: Option<String>,
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
    /// A fresh checkpoint while the attempt is open (see [`AttemptView::checkpoint`]).
    pub checkpoint: Option<String>,
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
// Server functions: a guard, then one call into the service.
// ---------------------------------------------------------------------------

/// `POST /api/learning/course` — the latest published version for the
/// learner, with their progress. 404 (`AppError::NotFound`) when the course
/// does not exist for this site *or has not been published yet* (the view
/// says "This course has not been published yet.").
///
/// Encoded once per change: the server keeps the learner's view (on
/// SQLite) until their records change or the clock would change it, and
/// sends those bytes again (`LearningService::course`).
#[server(name = LearnerCourseFn, endpoint = "learning/course", client = ApClient, output = crate::codec::EncodedJson)]
pub async fn learner_course(
    course_id: CourseId,
) -> Result<crate::codec::Encoded<LearnerCourse>, AppError> {
    let l = Learner::verify().await?;
    l.state().learning.course(&l, &course_id).await
}

/// `POST /api/learning/open-lesson` — records that the learner opened a
/// lesson of `version` (idempotent); the progress after it.
#[server(endpoint = "learning/open-lesson", client = ApClient)]
pub async fn open_lesson(
    course_id: CourseId,
    version: i64,
    lesson_id: LessonId,
) -> Result<ProgressDto, AppError> {
    let l = Learner::verify().await?;
    l.state()
        .learning
        .open_lesson(&l, &course_id, version, &lesson_id)
        .await
}

/// `POST /api/learning/start-attempt` — start or resume the quiz of
/// `module_id`. `client_token`: a UUID the browser makes per "Start" (a
/// retry with the same token returns the same attempt). An attempt in
/// progress is returned whatever the token. 409 when the attempt limit is
/// reached.
#[server(endpoint = "learning/start-attempt", client = ApClient)]
pub async fn start_attempt(
    course_id: CourseId,
    module_id: ModuleId,
    client_token: ClientToken,
) -> Result<AttemptView, AppError> {
    let l = Learner::verify().await?;
    l.state()
        .learning
        .start(&l, &course_id, &module_id, &client_token)
        .await
}

/// `POST /api/learning/save-answer` (JSON) — save one answer as it is given
/// (with the latest checkpoint the browser holds, for answers from the
/// offline journal). 404: not the learner's attempt; 409: submitted, too
/// late, or (immediate feedback) already answered differently; 400: unknown
/// question, too early, too large.
#[server(endpoint = "learning/save-answer", client = ApClient, input = server_fn::codec::Json)]
pub async fn save_answer(
    attempt_id: AttemptId,
    question_id: QuestionId,
    response: Response,
    answered_at_ms: i64,
    checkpoint: Option<String>,
) -> Result<SavedAnswer, AppError> {
    let l = Learner::verify().await?;
    l.state()
        .learning
        .save(
            &l,
            &attempt_id,
            &question_id,
            &response,
            answered_at_ms,
            checkpoint.as_deref(),
        )
        .await
}

/// `POST /api/learning/submit` (JSON) — submit an attempt with the offline
/// journal (`(question id, response, answered_at_ms)`, merged like
/// [`save_answer`]) and the latest checkpoint. Idempotent: a repeat returns
/// the stored result.
#[server(endpoint = "learning/submit", client = ApClient, input = server_fn::codec::Json)]
pub async fn submit_attempt(
    attempt_id: AttemptId,
    answers: Vec<(QuestionId, Response, i64)>,
    checkpoint: Option<String>,
) -> Result<AttemptResult, AppError> {
    let l = Learner::verify().await?;
    l.state()
        .learning
        .submit(&l, &attempt_id, answers, checkpoint.as_deref())
        .await
}

/// `POST /api/learning/history` — the learner's attempts at one quiz,
/// newest first.
#[server(endpoint = "learning/history", client = ApClient)]
pub async fn attempt_history(
    course_id: CourseId,
    module_id: ModuleId,
) -> Result<Vec<AttemptSummary>, AppError> {
    let l = Learner::verify().await?;
    l.state().learning.history(&l, &course_id, &module_id).await
}

/// `POST /api/learning/enrol` — the learner enrols in a *self-enrol* course
/// (idempotent); the course view after it. 403 for an *enrolled only*
/// course (a space admin enrols), 400 for an open one.
#[server(name = SelfEnrolFn, endpoint = "learning/enrol", client = ApClient)]
pub async fn self_enrol(course_id: CourseId) -> Result<LearnerCourse, AppError> {
    let l = Learner::verify().await?;
    l.state().learning.self_enrol(&l, &course_id).await
}

/// `POST /api/learning/certificate` — the learner's certificate; 404 until
/// the course is complete.
#[server(name = CertificateFn, endpoint = "learning/certificate", client = ApClient)]
pub async fn certificate(course_id: CourseId) -> Result<Certificate, AppError> {
    let l = Learner::verify().await?;
    let name = connect::users::display_name(&l.state().connect, l.who(), &l.account);
    l.state().learning.certificate(&l, &course_id, name).await
}

#[cfg(feature = "ssr")]
use crate::api::guards::Learner;
