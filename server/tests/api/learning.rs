//! The learner server functions (`/api/learning/*`) end to end: the real
//! server on a socket, its own database (SQLite, or PostgreSQL with
//! `SC_TEST_DB=postgres`), courses published through the real authoring
//! functions, and a fake Confluence answering permission checks (and, for
//! certificates, user names).
//!
//! Answers are read as the app's own DTOs (the typed calls of
//! [`crate::helpers::calls`]); only the leak tests read the raw JSON, since
//! what they look for must not appear anywhere in it. Time-limit, offline
//! window and expiry tests move the server's clock forward
//! ([`TestApp::clock`]) instead of waiting, and answers are timed by that
//! clock, as the browser times them in server time.

use std::collections::BTreeMap;

use app::{
    course::{
        learner::{LearnerChoice, LearnerKind, LearnerQuestion},
        model::{Correctness, FeedbackMode, Response},
    },
    error::AppError,
    learning::api::{
        AttemptResult, AttemptState, AttemptSummary, AttemptView, Certificate, LearnerCourse,
        LearnerSettings, ProgressDto, QuizSummary, ResumePoint, SavedAnswer,
    },
    space_admin::api::{CourseReport, LearnerRow, LearnerState, ReportCounts, ReportQuery},
};
use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::helpers::{
    calls::{self, Refused, Reply},
    *,
};

const SITE: &str = "site-a";
const SECRET: &str = "site-a-shared-secret-0123456789";
const SITE_B: &str = "site-b";
const SECRET_B: &str = "site-b-shared-secret-0123456789";
const PAGE: &str = "2001";
/// Edits [`PAGE`] (publishes the courses).
const AUTHOR: &str = "557058:author";
/// Learners who may view [`PAGE`].
const LEA: &str = "557058:lea-learner";
const LEO: &str = "557058:leo-learner";
/// May not view [`PAGE`].
const NED: &str = "557058:ned-nobody";
/// Administers space `DEV` (where [`PAGE`] is); reads the reports.
const SAM: &str = "557058:sam-space-admin";
/// A learner on site B who may view page [`PAGE`] of site B.
const BOB_ON_B: &str = "557058:bob-on-site-b";
/// The server's grace after a deadline (`app::learning::api::GRACE_MS`).
const GRACE: i64 = app::learning::api::GRACE_MS;
/// One day, in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// One hour, in milliseconds.
const HOUR_MS: i64 = 3_600_000;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---- refusals -------------------------------------------------------------------

fn unauthorized() -> Refused {
    Refused {
        status: 401,
        error: AppError::Unauthorized,
    }
}

fn forbidden() -> Refused {
    Refused {
        status: 403,
        error: AppError::Forbidden,
    }
}

fn not_found() -> Refused {
    Refused {
        status: 404,
        error: AppError::NotFound,
    }
}

/// A 409 with exactly `message`.
fn conflict(message: &str) -> Refused {
    Refused {
        status: 409,
        error: AppError::Conflict(message.to_owned()),
    }
}

/// A 400 (`AppError::Invalid`), whatever its text.
fn is_invalid<T>(reply: &Reply<T>) -> bool {
    matches!(
        reply,
        Err(Refused {
            status: 400,
            error: AppError::Invalid(_)
        })
    )
}

/// A 409 (`AppError::Conflict`), whatever its text.
fn is_conflict<T>(reply: &Reply<T>) -> bool {
    conflict_with(reply, "")
}

/// A 409 (`AppError::Conflict`) whose text contains `fragment`.
fn conflict_with<T>(reply: &Reply<T>, fragment: &str) -> bool {
    matches!(
        reply,
        Err(Refused { status: 409, error: AppError::Conflict(m) }) if m.contains(fragment)
    )
}

/// A raw answer read as the DTO it is (a leak test's field checks).
fn parsed<T: DeserializeOwned>(body: &Value) -> T {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

// ---- the site -------------------------------------------------------------------

/// A context token of `account` on [`PAGE`] of site A.
fn token_for(account: &str) -> String {
    context_token(SITE, SECRET, account, PAGE)
}

struct Site {
    app: TestApp,
    fake: FakeConfluence,
}

impl Site {
    async fn new() -> Self {
        let fake = FakeConfluence::start().await;
        let app = spawn_app_with_confluence(&fake).await;
        app.install_on(&fake, SITE, SECRET).await;
        Self::grant(&fake);
        Site { app, fake }
    }

    /// Site A installed at a fake Confluence that can also name users.
    async fn with_names(users: &[(&str, &str)]) -> Self {
        let fake = FakeConfluence::start().await;
        let app = spawn_app_with_confluence(&fake).await;
        for (id, name) in users {
            fake.add_user(id, name);
        }
        app.install_on(&fake, SITE, SECRET).await;
        Self::grant(&fake);
        Site { app, fake }
    }

    fn grant(fake: &FakeConfluence) {
        fake.allow_edit(AUTHOR, PAGE);
        fake.allow_read_only(LEA, PAGE);
        fake.allow_read_only(LEO, PAGE);
        fake.grant(NED, PAGE, "read", false);
        fake.make_space_admin(SAM, "DEV");
        // Reports need the admin to see the course's page too.
        fake.allow_read_only(SAM, PAGE);
    }

    /// The server's clock now: answers are timed by it (as the browser
    /// times them, in server time).
    fn now(&self) -> i64 {
        self.app.now_ms()
    }

    /// The raw answer of a server function (form input): for leak tests.
    async fn raw_form(&self, token: &str, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        fn_reply(self.app.call_fn(name, Some(token), form).await).await
    }

    /// The raw answer of a server function (JSON input): for leak tests.
    async fn raw_json(&self, token: &str, name: &str, body: &Value) -> (u16, Value) {
        fn_reply(self.app.call_fn_json(name, Some(token), body).await).await
    }

    /// Creates `content` as a new course on [`PAGE`] and publishes version 1.
    async fn publish(&self, content: &Value) -> String {
        let author = token_for(AUTHOR);
        let saved = self
            .app
            .save_draft(&author, None, 0, content)
            .await
            .expect("the draft is saved");
        let id = saved.course_id.into_string();
        self.app
            .publish(&author, &id, saved.revision, false)
            .await
            .expect("the course is published");
        id
    }

    /// Saves `content` as the draft and publishes it; the new version.
    async fn republish(&self, id: &str, content: &Value, material: bool) -> i64 {
        let author = token_for(AUTHOR);
        let revision = self
            .app
            .stored_course(SITE, id)
            .await
            .unwrap()
            .draft_revision;
        let saved = self
            .app
            .save_draft(&author, Some(id), revision, content)
            .await
            .expect("the draft is saved");
        self.app
            .publish(&author, id, saved.revision, material)
            .await
            .expect("the course is published")
            .version
    }

    async fn course(&self, who: &str, id: &str) -> Reply<LearnerCourse> {
        self.app.learner_course(&token_for(who), id).await
    }

    async fn open_lesson(
        &self,
        who: &str,
        id: &str,
        version: i64,
        lesson: &str,
    ) -> Reply<ProgressDto> {
        self.app
            .open_lesson(&token_for(who), id, version, lesson)
            .await
    }

    async fn start(&self, who: &str, id: &str, module: &str, token: &str) -> Reply<AttemptView> {
        self.app
            .start_attempt(&token_for(who), id, module, token)
            .await
    }

    /// Starts (or resumes) with a fresh client token; panics on a refusal.
    async fn start_ok(&self, who: &str, id: &str) -> AttemptView {
        let token = uuid::Uuid::new_v4().to_string();
        self.start(who, id, "m1", &token)
            .await
            .expect("the attempt starts")
    }

    async fn save(
        &self,
        who: &str,
        attempt: &str,
        question: &str,
        response: Response,
        at: i64,
    ) -> Reply<SavedAnswer> {
        self.app
            .save_answer(&token_for(who), attempt, question, &response, at)
            .await
    }

    async fn submit(
        &self,
        who: &str,
        attempt: &str,
        answers: &[(&str, Response, i64)],
    ) -> Reply<AttemptResult> {
        self.app
            .submit_attempt(&token_for(who), attempt, answers)
            .await
    }

    /// Saves an answer from the offline journal, with its checkpoint.
    async fn save_journalled(
        &self,
        who: &str,
        attempt: &str,
        question: &str,
        response: Response,
        at: i64,
        checkpoint: Option<&str>,
    ) -> Reply<SavedAnswer> {
        self.app
            .save_answer_with_checkpoint(
                &token_for(who),
                attempt,
                question,
                &response,
                at,
                checkpoint,
            )
            .await
    }

    /// Submits with the offline journal and its checkpoint.
    async fn submit_journal(
        &self,
        who: &str,
        attempt: &str,
        answers: &[(&str, Response, i64)],
        checkpoint: Option<&str>,
    ) -> Reply<AttemptResult> {
        self.app
            .submit_attempt_with_checkpoint(&token_for(who), attempt, answers, checkpoint)
            .await
    }

    async fn history(&self, who: &str, id: &str) -> Reply<Vec<AttemptSummary>> {
        self.app.attempt_history(&token_for(who), id, "m1").await
    }

    async fn certificate(&self, who: &str, id: &str) -> Reply<Certificate> {
        self.app.certificate(&token_for(who), id).await
    }

    /// Opens every lesson of the test courses (`l1`, `l2`) at `version`.
    async fn open_all(&self, who: &str, id: &str, version: i64) {
        for lesson in ["l1", "l2"] {
            self.open_lesson(who, id, version, lesson)
                .await
                .expect("the lesson opens");
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        self.app.count(sql).await
    }

    async fn report(&self, who: &str, id: &str) -> Reply<CourseReport> {
        self.app.course_report(&token_for(who), id).await
    }

    /// The report row of `account`.
    async fn report_row(&self, id: &str, account: &str) -> LearnerRow {
        let report = self.report(SAM, id).await.expect("the report");
        report
            .rows
            .iter()
            .find(|row| row.account_id == account)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {account}: {report:?}"))
    }

    /// `who` opens both lessons and passes the one-question quiz.
    async fn complete(&self, who: &str, id: &str, version: i64) {
        self.open_all(who, id, version).await;
        let view = self.start_ok(who, id).await;
        let r = self
            .submit(who, &view.attempt_id, &[("t1", r_bool(true), self.now())])
            .await
            .expect("the attempt is graded");
        assert!(r.course_complete, "{r:?}");
    }
}

// ---- courses ----------------------------------------------------------------

fn lessons() -> Value {
    json!([
        {"id": "l1", "title": "Why it matters", "body_md": "Read **this** first."},
        {"id": "l2", "title": "Extinguishers", "body_md": "Use the *right* one."}
    ])
}

/// One module `m1` with lessons `l1`, `l2` and a quiz of `questions`.
fn course(questions: Value, settings: Value) -> Value {
    json!({
        "title": "Fire safety",
        "description_md": "Learn **fire** safety.",
        "modules": [{"id": "m1", "title": "Basics", "lessons": lessons(),
                     "quiz": {"questions": questions}}],
        "settings": settings,
    })
}

fn true_false(id: &str, answer: bool) -> Value {
    json!({"id": id, "prompt_md": format!("Statement {id}"), "points": 1.0,
           "feedback_correct_md": "Yes, **indeed**.", "feedback_incorrect_md": "No.",
           "kind": {"type": "true_false", "answer": answer}})
}

/// `n` true/false questions `t1`…`tn`, all true.
fn true_false_course(n: usize, settings: Value) -> Value {
    course(
        Value::Array(
            (1..=n)
                .map(|i| true_false(&format!("t{i}"), true))
                .collect(),
        ),
        settings,
    )
}

fn r_bool(b: bool) -> Response {
    Response::Bool(b)
}

fn r_choice(ids: &[String]) -> Response {
    Response::Choice(ids.to_vec())
}

/// Every question kind, with secrets that must not reach the browser
/// before submission: every id, feedback, accepted text and pattern has
/// `secret`, and the numeric answer and tolerance are distinctive.
fn secret_course() -> Value {
    let fb = |id: &str| {
        json!({"feedback_correct_md": format!("SECRET-FB-RIGHT-{id}"),
               "feedback_incorrect_md": format!("SECRET-FB-WRONG-{id}")})
    };
    let q = |id: &str, kind: Value| {
        let mut v = json!({"id": id, "prompt_md": format!("qprompt-{id}"), "points": 2.0,
                           "kind": kind});
        for (k, x) in fb(id).as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    course(
        json!([
            q(
                "q-single",
                json!({"type": "single_choice", "options": [
                {"id": "opt-secret-right", "text": "opttext-Paris", "correct": true,
                 "feedback": "SECRET-OPTFB-right"},
                {"id": "opt-secret-wrong", "text": "opttext-Lyon", "correct": false,
                 "feedback": "SECRET-OPTFB-wrong"}]})
            ),
            q(
                "q-multi",
                json!({"type": "multiple_choice", "partial_credit": true,
                                "negative_marking": true, "options": [
                {"id": "opt-secret-r1", "text": "opttext-Red", "correct": true},
                {"id": "opt-secret-r2", "text": "opttext-Blue", "correct": true},
                {"id": "opt-secret-w1", "text": "opttext-Cat", "correct": false}]})
            ),
            q("q-tf", json!({"type": "true_false", "answer": true})),
            q(
                "q-short",
                json!({"type": "short_text", "accepted": [
                {"text": "SECRET-ACCEPTED", "mode": "case_insensitive"},
                {"text": "^SECRET-REGEX[0-9]+$", "mode": "regex"}]})
            ),
            q(
                "q-num",
                json!({"type": "numeric", "answer": 31415.926, "tolerance": 0.125})
            ),
            q(
                "q-order",
                json!({"type": "ordering", "items": [
                {"id": "item-secret-1", "text": "opttext-Alpha"},
                {"id": "item-secret-2", "text": "opttext-Beta"},
                {"id": "item-secret-3", "text": "opttext-Gamma"}]})
            ),
            q(
                "q-match",
                json!({"type": "matching", "pairs": [
                {"id": "pair-secret-fr", "prompt": "opttext-France", "answer": "opttext-Paris-city"},
                {"id": "pair-secret-de", "prompt": "opttext-Germany", "answer": "opttext-Berlin"}]})
            ),
        ]),
        json!({"pass_mark_percent": 50, "shuffle_questions": true, "shuffle_options": true}),
    )
}

// ---- reading the learner view -------------------------------------------------

/// The learner question `id` of an attempt view.
fn question<'a>(view: &'a AttemptView, id: &str) -> &'a LearnerQuestion {
    view.questions
        .iter()
        .map(|q| &q.question)
        .find(|q| q.id == id)
        .unwrap_or_else(|| panic!("no question {id} in {view:?}"))
}

/// The choices of `list` ("options", "items", "prompts", "answers") of a question.
fn choices<'a>(q: &'a LearnerQuestion, list: &str) -> &'a [LearnerChoice] {
    match (&q.kind, list) {
        (
            LearnerKind::SingleChoice { options } | LearnerKind::MultipleChoice { options, .. },
            "options",
        ) => options,
        (LearnerKind::Ordering { items }, "items") => items,
        (LearnerKind::Matching { prompts, .. }, "prompts") => prompts,
        (LearnerKind::Matching { answers, .. }, "answers") => answers,
        (kind, _) => panic!("no {list} in {kind:?}"),
    }
}

/// The id of the choice with `text` in `list` ("options", "items",
/// "prompts", "answers") of question `qid`.
fn pick(view: &AttemptView, qid: &str, list: &str, text: &str) -> String {
    choices(question(view, qid), list)
        .iter()
        .find(|c| c.text == text)
        .unwrap_or_else(|| panic!("no {text} in {list} of {qid}"))
        .id
        .clone()
}

/// Question ids in the order shown, with each question's choice order.
fn presentation(view: &AttemptView) -> Vec<(String, Vec<String>)> {
    view.questions
        .iter()
        .map(|q| {
            let q = &q.question;
            let choices: &[LearnerChoice] = match &q.kind {
                LearnerKind::SingleChoice { options }
                | LearnerKind::MultipleChoice { options, .. } => options,
                LearnerKind::Ordering { items } => items,
                LearnerKind::Matching { answers, .. } => answers,
                LearnerKind::TrueFalse | LearnerKind::ShortText | LearnerKind::Numeric => &[],
            };
            (
                q.id.clone(),
                choices.iter().map(|c| c.text.clone()).collect(),
            )
        })
        .collect()
}

// ---- tests --------------------------------------------------------------------

#[tokio::test]
async fn learning_course_view_has_rendered_lessons_progress_and_settings() {
    // Arrange
    let site = Site::new().await;
    let settings = json!({"pass_mark_percent": 75, "attempt_limit": 3, "time_limit_secs": 600,
                          "feedback_mode": "never", "certificate_validity_days": 365});
    let id = site.publish(&true_false_course(2, settings)).await;

    // Act
    let c = site.course(LEA, &id).await;

    // Assert
    let c = c.expect("the course view");
    assert_eq!(c.version, 1);
    assert_eq!(c.title, "Fire safety");
    assert!(c.description_html.contains("<strong>fire</strong>"));
    let module = &c.modules[0];
    assert_eq!(module.id, "m1");
    assert!(module.lessons[0].html.contains("<strong>this</strong>"));
    assert_eq!(
        module.quiz,
        Some(QuizSummary {
            question_count: 2,
            total_points: 2.0,
            attempts_used: 0,
            attempts_allowed: Some(3),
            best_percent: None,
            passed: false,
            open_attempt_id: None,
        })
    );
    assert_eq!(
        c.settings,
        LearnerSettings {
            pass_mark_percent: 75,
            attempt_limit: Some(3),
            time_limit_secs: Some(600),
            feedback_mode: FeedbackMode::Never,
            certificate_validity_days: Some(365),
        }
    );
    assert_eq!(
        c.progress,
        ProgressDto {
            opened_lessons: vec![],
            passed_quizzes: vec![],
            lessons_total: 2,
            quizzes_total: 1,
            complete: false,
            percent: 0,
        }
    );
    assert_eq!(
        c.resume,
        Some(ResumePoint::Lesson {
            module_id: "m1".into(),
            lesson_id: "l1".into()
        })
    );
    assert!(!c.recertification_due);
    assert_eq!(c.completed_at_ms, None);

    // Opening a lesson is recorded once, however often it happens.
    for _ in 0..3 {
        let p = site
            .open_lesson(LEA, &id, 1, "l1")
            .await
            .expect("the lesson opens");
        assert_eq!(p.opened_lessons, ["l1"]);
        assert_eq!(p.percent, 33);
    }
    assert_eq!(
        site.count("SELECT COUNT(*) FROM lesson_views").await,
        1,
        "one row per lesson"
    );
    let c = site.course(LEA, &id).await.expect("the course view");
    assert_eq!(
        c.resume,
        Some(ResumePoint::Lesson {
            module_id: "m1".into(),
            lesson_id: "l2".into()
        })
    );
    // Unknown lessons and versions are refused.
    assert_eq!(
        site.open_lesson(LEA, &id, 1, "nope").await,
        Err(not_found())
    );
    assert_eq!(site.open_lesson(LEA, &id, 2, "l1").await, Err(not_found()));
    // Another learner's progress is their own.
    let other = site.course(LEO, &id).await.expect("Leo's course view");
    assert!(other.progress.opened_lessons.is_empty());
}

#[tokio::test]
async fn learning_refuses_anonymous_viewers_non_viewers_and_unpublished_courses() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    let mut anonymous = context_claims_on(SITE, "ignored", PAGE, "DEV");
    anonymous.as_object_mut().unwrap().remove("sub");
    let anonymous = hs_token(Algorithm::HS256, SECRET, &anonymous);
    // A draft that was never published.
    let draft = site
        .app
        .save_draft(
            &token_for(AUTHOR),
            None,
            0,
            &true_false_course(1, json!({})),
        )
        .await
        .expect("the draft is saved")
        .course_id
        .into_string();

    // Act
    let anon_course = site.app.learner_course(&anonymous, &id).await;
    let anon_start = site
        .app
        .start_attempt(&anonymous, &id, "m1", &uuid::Uuid::new_v4().to_string())
        .await;
    let ned = site.course(NED, &id).await;
    let draft_course = site.course(LEA, &draft).await;
    let unknown = site.course(LEA, &uuid::Uuid::new_v4().to_string()).await;
    let bad_id = site.course(LEA, "../etc").await;

    // Assert
    assert_eq!(anon_course, Err(unauthorized()));
    assert_eq!(anon_start, Err(unauthorized()));
    assert_eq!(ned, Err(forbidden()));
    assert_eq!(draft_course, Err(not_found()));
    assert_eq!(unknown, Err(not_found()));
    assert!(is_invalid(&bad_id), "{bad_id:?}");
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 0);
}

#[tokio::test]
async fn learning_no_answer_reaches_the_browser_before_submission() {
    // Arrange: every answer is read raw — the point is what is *not* in it.
    let site = Site::new().await;
    let id = site.publish(&secret_course()).await;
    let lea = token_for(LEA);
    let forbidden = [
        "secret",
        "31415.9",
        "0.125",
        "tolerance",
        "accepted",
        "regex",
        "\"correct\"",
        "\"answer\":",
        "partial",
    ];
    let leaks = |what: &str, json: &Value| -> Vec<String> {
        let text = json.to_string().to_lowercase();
        forbidden
            .iter()
            .filter(|needle| text.contains(&needle.to_lowercase()))
            .map(|needle| format!("{what} leaks {needle:?}: {json}"))
            .collect()
    };
    let start = |client_token: String| {
        let (site, lea, id) = (&site, &lea, &id);
        async move {
            site.raw_form(
                lea,
                "learning/start-attempt",
                &[
                    ("course_id", id),
                    ("module_id", "m1"),
                    ("client_token", &client_token),
                ],
            )
            .await
        }
    };
    let save = |attempt: String, question: &'static str, response: Response| {
        let (site, lea) = (&site, &lea);
        async move {
            site.raw_json(
                lea,
                "learning/save-answer",
                &json!({"attempt_id": attempt, "question_id": question,
                        "response": response, "answered_at_ms": site.now()}),
            )
            .await
        }
    };

    // Act
    let (s1, course_view) = site
        .raw_form(&lea, "learning/course", &[("course_id", &id)])
        .await;
    let (s2, view) = start(uuid::Uuid::new_v4().to_string()).await;
    let attempt: AttemptView = parsed(&view);
    let red = pick(&attempt, "q-multi", "options", "opttext-Red");
    let (s3, saved) = save(attempt.attempt_id.clone(), "q-multi", r_choice(&[red])).await;
    let (s4, saved_tf) = save(attempt.attempt_id.clone(), "q-tf", r_bool(false)).await;
    let (s5, resumed) = start(uuid::Uuid::new_v4().to_string()).await;
    let (s6, history) = site
        .raw_form(
            &lea,
            "learning/history",
            &[("course_id", &id), ("module_id", "m1")],
        )
        .await;

    // Assert
    assert_eq!(
        (s1, s2, s3, s4, s5, s6),
        (200, 200, 200, 200, 200, 200),
        "{view}"
    );
    let mut failures = Vec::new();
    failures.extend(leaks("learner_course", &course_view));
    failures.extend(leaks("start_attempt", &view));
    failures.extend(leaks("save_answer", &saved));
    failures.extend(leaks("save_answer", &saved_tf));
    failures.extend(leaks("resumed attempt", &resumed));
    failures.extend(leaks("history", &history));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The course view has no questions at all: no prompts, no choices.
    let text = course_view.to_string();
    assert!(
        !text.contains("qprompt") && !text.contains("opttext"),
        "{text}"
    );
    // The attempt does show every question (so the test above means something).
    assert_eq!(attempt.questions.len(), 7);
    assert!(view.to_string().contains("opttext-Paris"));
    assert_eq!(
        parsed::<SavedAnswer>(&saved).grade,
        None,
        "after-submit mode grades nothing early"
    );
    assert_eq!(
        parsed::<AttemptView>(&resumed).attempt_id,
        attempt.attempt_id
    );
}

#[tokio::test]
async fn learning_grades_each_question_type_on_the_server_through_submit() {
    // Arrange
    let site = Site::new().await;
    let questions = json!([
        {"id": "g1", "prompt_md": "Electrical fire?", "points": 1.0,
         "kind": {"type": "single_choice", "options": [
            {"id": "a", "text": "Water", "correct": false},
            {"id": "b", "text": "Carbon dioxide", "correct": true}]}},
        {"id": "g2", "prompt_md": "Exits?", "points": 2.0,
         "kind": {"type": "multiple_choice", "partial_credit": true, "options": [
            {"id": "a", "text": "Door", "correct": true},
            {"id": "b", "text": "Window", "correct": true},
            {"id": "c", "text": "Lift", "correct": false}]}},
        {"id": "g3", "prompt_md": "Smoke sinks.", "points": 1.0,
         "feedback_incorrect_md": "Smoke **rises**.",
         "kind": {"type": "true_false", "answer": false}},
        {"id": "g4", "prompt_md": "g?", "points": 1.0,
         "kind": {"type": "numeric", "answer": 9.81, "tolerance": 0.05}},
        {"id": "g5", "prompt_md": "Assembly point?", "points": 1.0,
         "kind": {"type": "short_text", "accepted": [
            {"text": "Car Park", "mode": "case_insensitive"},
            {"text": "^lot [0-9]+$", "mode": "regex"}]}},
        {"id": "g6", "prompt_md": "Order the steps.", "points": 1.0,
         "kind": {"type": "ordering", "items": [
            {"id": "1", "text": "Raise the alarm"},
            {"id": "2", "text": "Leave"},
            {"id": "3", "text": "Gather"}]}},
        {"id": "g7", "prompt_md": "Match the class.", "points": 3.0,
         "kind": {"type": "matching", "pairs": [
            {"id": "p1", "prompt": "Class A", "answer": "Wood"},
            {"id": "p2", "prompt": "Class B", "answer": "Petrol"},
            {"id": "p3", "prompt": "Class C", "answer": "Gas"}]}}
    ]);
    let id = site
        .publish(&course(
            questions,
            json!({"pass_mark_percent": 70, "shuffle_questions": true, "shuffle_options": true}),
        ))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let at = site.now();
    let matched = |prompt: &str, answer: &str| {
        (
            pick(&view, "g7", "prompts", prompt),
            pick(&view, "g7", "answers", answer),
        )
    };
    let answers = [
        (
            "g1",
            r_choice(&[pick(&view, "g1", "options", "Carbon dioxide")]),
            at,
        ),
        ("g2", r_choice(&[pick(&view, "g2", "options", "Door")]), at),
        ("g3", r_bool(true), at),
        ("g4", Response::Number(9.8), at),
        ("g5", Response::Text("  car   PARK ".into()), at),
        (
            "g6",
            Response::Order(vec![
                pick(&view, "g6", "items", "Raise the alarm"),
                pick(&view, "g6", "items", "Leave"),
                pick(&view, "g6", "items", "Gather"),
            ]),
            at,
        ),
        (
            "g7",
            Response::Match(vec![
                matched("Class A", "Wood"),
                matched("Class B", "Petrol"),
                matched("Class C", "Wood"),
            ]),
            at,
        ),
    ];

    // Act
    let result = site.submit(LEA, &view.attempt_id, &answers).await;

    // Assert
    let result = result.expect("the attempt is graded");
    assert!(close(result.score, 7.0), "{result:?}");
    assert!(close(result.max_score, 10.0));
    assert!(close(result.percent, 70.0));
    assert!(result.passed, "70 % passes a pass mark of 70");
    assert_eq!(result.rejected, []);
    let shown: Vec<String> = presentation(&view).into_iter().map(|(q, _)| q).collect();
    let graded: Vec<String> = result
        .questions
        .iter()
        .map(|q| q.question_id.clone())
        .collect();
    assert_eq!(graded, shown, "results follow the attempt's order");
    let by_id = |qid: &str| {
        result
            .questions
            .iter()
            .find(|q| q.question_id == qid)
            .unwrap_or_else(|| panic!("no result for {qid}"))
    };
    let expect: [(&str, f64, Correctness, &[&str]); 7] = [
        ("g1", 1.0, Correctness::Correct, &["Carbon dioxide"]),
        ("g2", 1.0, Correctness::Partial, &["Door", "Window"]),
        ("g3", 0.0, Correctness::Incorrect, &["False"]),
        ("g4", 1.0, Correctness::Correct, &["9.81 (± 0.05)"]),
        ("g5", 1.0, Correctness::Correct, &["Car Park"]),
        (
            "g6",
            1.0,
            Correctness::Correct,
            &["1. Raise the alarm", "2. Leave", "3. Gather"],
        ),
        (
            "g7",
            2.0,
            Correctness::Partial,
            &["Class A → Wood", "Class B → Petrol", "Class C → Gas"],
        ),
    ];
    for (qid, score, correctness, correct_answer) in expect {
        let q = by_id(qid);
        assert!(close(q.score, score), "{qid}: {q:?}");
        assert_eq!(q.correct, correctness, "{qid}: {q:?}");
        assert_eq!(q.correct_answer, correct_answer, "{qid}: {q:?}");
        assert!(q.answered, "{qid}: {q:?}");
    }
    assert!(by_id("g3")
        .feedback_html
        .as_ref()
        .expect("feedback for g3")
        .contains("<strong>rises</strong>"));
    // Stored exactly once, with the same numbers.
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NOT NULL AND passed = 1 AND percent > 69.9 AND percent < 70.1")
            .await,
        1
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 7);
}

#[tokio::test]
async fn learning_the_same_submission_sent_three_times_gives_one_attempt_and_one_score() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"pass_mark_percent": 50})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    let at = site.now();
    let answers = [("t1", r_bool(true), at), ("t2", r_bool(false), at)];

    // Act: three at once (a retrying client), then once more.
    let (a, b, c) = tokio::join!(
        site.submit(LEA, &attempt, &answers),
        site.submit(LEA, &attempt, &answers),
        site.submit(LEA, &attempt, &answers),
    );
    let d = site.submit(LEA, &attempt, &answers).await;

    // Assert
    let a = a.expect("the attempt is graded");
    for other in [b, c, d] {
        assert_eq!(other, Ok(a.clone()));
    }
    assert!(close(a.percent, 50.0));
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NOT NULL AND score = 1")
            .await,
        1
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
    // A submitted attempt takes no more answers, and the database refuses
    // to change its score even when asked directly.
    assert_eq!(
        site.save(LEA, &attempt, "t2", r_bool(true), site.now())
            .await,
        Err(conflict("This attempt has already been submitted."))
    );
    let mut conn = site.app.db_connection().await;
    let tamper = sqlx::query("UPDATE attempts SET score = 2, passed = 1 WHERE id = $1")
        .bind(&attempt)
        .execute(&mut conn)
        .await;
    assert!(tamper.is_err(), "submitted attempts must be immutable");
    let answer_tamper =
        sqlx::query("UPDATE attempt_answers SET response_json = 'x' WHERE attempt_id = $1")
            .bind(&attempt)
            .execute(&mut conn)
            .await;
    assert!(
        answer_tamper.is_err(),
        "answers of a submitted attempt are frozen"
    );
    let history = site.history(LEA, &id).await.expect("the history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].state, AttemptState::Submitted);
}

/// Many learners submitting at once (each submit sent twice, as a retrying
/// client does): each is graded on its own answers, stored once, and
/// counted in its own standing. On PostgreSQL the submits are committed
/// together in batches (`store::group_commit`), at most one per learner
/// per batch; this checks that batching changes none of the above.
#[tokio::test]
async fn many_learners_submitting_at_once_are_each_graded_once_on_their_own_answers() {
    // Arrange
    const LEARNERS: usize = 40;
    let site = Site::new().await;
    let learners: Vec<String> = (0..LEARNERS)
        .map(|i| format!("557058:batch-learner-{i}"))
        .collect();
    for l in &learners {
        site.fake.allow_read_only(l, PAGE);
    }
    let id = site
        .publish(&true_false_course(2, json!({"pass_mark_percent": 50})))
        .await;
    let mut attempts = Vec::new();
    for l in &learners {
        attempts.push(site.start_ok(l, &id).await.attempt_id);
    }
    // Learner i answers both right (100 %), one right (50 %) or none (0 %).
    let expected = |i: usize| [100.0, 50.0, 0.0][i % 3];
    let at = site.now();
    let answers: Vec<[(&str, Response, i64); 2]> = (0..LEARNERS)
        .map(|i| {
            [
                ("t1", r_bool(i % 3 != 2), at),
                ("t2", r_bool(i % 3 == 0), at),
            ]
        })
        .collect();
    let before = site.app.state.db.submit_batches();

    // Act: every submit twice, all at once.
    let results = futures::future::join_all((0..2 * LEARNERS).map(|k| {
        let i = k % LEARNERS;
        site.submit(&learners[i], &attempts[i], &answers[i])
    }))
    .await;

    // Assert
    for (k, r) in results.iter().enumerate() {
        let i = k % LEARNERS;
        let r = r.as_ref().expect("the attempt is graded");
        assert_eq!(r.attempt_id, attempts[i]);
        assert!(close(r.percent, expected(i)), "learner {i}: {r:?}");
        assert_eq!(r.passed, expected(i) >= 50.0, "learner {i}");
        assert_eq!(
            Ok(r.clone()),
            results[(k + LEARNERS) % (2 * LEARNERS)],
            "both sends of learner {i} answer the same"
        );
    }
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NOT NULL")
            .await,
        LEARNERS as i64
    );
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempt_answers").await,
        2 * LEARNERS as i64
    );
    let report = site.report(SAM, &id).await.expect("the report");
    for (i, l) in learners.iter().enumerate() {
        let row = report
            .rows
            .iter()
            .find(|r| &r.account_id == l)
            .unwrap_or_else(|| panic!("no report row for learner {i}"));
        assert_eq!(row.attempts, 1, "learner {i}: {row:?}");
        assert!(
            row.best_percent.is_some_and(|p| close(p, expected(i))),
            "learner {i}: {row:?}"
        );
    }
    let after = site.app.state.db.submit_batches();
    assert_eq!(after.is_some(), test_backend_is_postgres());
    if let (Some(before), Some(after)) = (before, after) {
        let submits = after.submits - before.submits;
        let batches = after.batches - before.batches;
        assert_eq!(submits, LEARNERS as u64, "each submit committed once");
        assert_eq!(after.alone, before.alone, "no batch failed");
        assert!(
            batches < submits,
            "submits shared commits: {submits} submits in {batches} batches"
        );
    }
}

#[tokio::test]
async fn learning_a_retried_start_with_the_same_token_returns_the_same_attempt() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let token = uuid::Uuid::new_v4().to_string();
    let mut claims = context_claims_on(SITE, LEA, PAGE, "DEV");
    claims["context"]["confluence"]["content"]["version"] = json!("7");
    let with_page_version = hs_token(Algorithm::HS256, SECRET, &claims);
    let start = || {
        site.app
            .start_attempt(&with_page_version, &id, "m1", &token)
    };

    // Act: the same start three times at once, then again.
    let (a, b, c) = tokio::join!(start(), start(), start());
    let d = site.start(LEA, &id, "m1", &token).await;

    // Assert
    let a = a.expect("the attempt starts");
    for other in [b, c, d] {
        assert_eq!(other.expect("the attempt starts").attempt_id, a.attempt_id);
    }
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    assert_eq!(a.number, 1);
    assert_eq!(a.course_version, 1);
    assert_eq!(
        a.page_version,
        Some(7),
        "pinned to the page version of the context"
    );
    assert_eq!(a.state, AttemptState::InProgress);
    assert_eq!(a.deadline_ms, None);
    // Once submitted, the same token still names that attempt (not a new one).
    site.submit(LEA, &a.attempt_id, &[])
        .await
        .expect("the attempt is graded");
    let again = site
        .start(LEA, &id, "m1", &token)
        .await
        .expect("the same attempt");
    assert_eq!(again.attempt_id, a.attempt_id);
    assert_eq!(again.state, AttemptState::Submitted);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    // Another learner's identical token is theirs alone.
    let leo = site
        .start(LEO, &id, "m1", &token)
        .await
        .expect("Leo's attempt starts");
    assert_ne!(leo.attempt_id, a.attempt_id);
    assert_eq!(leo.page_version, None, "no page version in this context");
}

#[tokio::test]
async fn learning_an_open_attempt_is_resumed_with_the_same_shuffled_order_and_saved_answers() {
    // Arrange: six questions of four options, everything shuffled.
    let site = Site::new().await;
    let questions: Vec<Value> = (1..=6)
        .map(|i| {
            json!({"id": format!("s{i}"), "prompt_md": format!("Question {i}"), "points": 1.0,
                   "kind": {"type": "single_choice", "options": [
                       {"id": "a", "text": format!("A{i}"), "correct": true},
                       {"id": "b", "text": format!("B{i}"), "correct": false},
                       {"id": "c", "text": format!("C{i}"), "correct": false},
                       {"id": "d", "text": format!("D{i}"), "correct": false}]}})
        })
        .collect();
    let id = site
        .publish(&course(
            Value::Array(questions),
            json!({"shuffle_questions": true, "shuffle_options": true, "time_limit_secs": 600}),
        ))
        .await;
    let first = site.start_ok(LEA, &id).await;
    let attempt = first.attempt_id.clone();
    let choice = pick(&first, "s3", "options", "A3");
    site.save(
        LEA,
        &attempt,
        "s3",
        r_choice(std::slice::from_ref(&choice)),
        site.now(),
    )
    .await
    .expect("the answer is saved");

    // Act: a reload makes a new token; the open attempt comes back anyway.
    let second = site.start_ok(LEA, &id).await;
    let course_view = site.course(LEA, &id).await;

    // Assert
    assert_eq!(second.attempt_id, first.attempt_id);
    assert_eq!(
        presentation(&second),
        presentation(&first),
        "stable shuffle"
    );
    assert_eq!(
        second.answers,
        BTreeMap::from([("s3".to_owned(), r_choice(&[choice]))])
    );
    assert_eq!(second.deadline_ms, first.deadline_ms);
    assert_eq!(second.started_at_ms, first.started_at_ms);
    let deadline = first.deadline_ms.expect("a time limit");
    assert_eq!(deadline - first.started_at_ms, 600_000);
    assert!((second.server_now_ms - site.now()).abs() < 5_000);
    assert_eq!(second.grace_ms, GRACE);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    let course_view = course_view.expect("the course view");
    assert_eq!(
        course_view.resume,
        Some(ResumePoint::Attempt {
            module_id: "m1".into(),
            attempt_id: attempt.clone()
        })
    );
    let quiz = course_view.modules[0].quiz.as_ref().expect("a quiz");
    assert_eq!(quiz.open_attempt_id, Some(attempt));
    assert_eq!(quiz.attempts_used, 1);
    // The order is really shuffled (at least one question list or option
    // list differs from the authored order, for this seed or the next).
    let authored: Vec<(String, Vec<String>)> = (1..=6)
        .map(|i| {
            (
                format!("s{i}"),
                ["A", "B", "C", "D"]
                    .iter()
                    .map(|l| format!("{l}{i}"))
                    .collect(),
            )
        })
        .collect();
    assert_ne!(presentation(&first), authored);
}

#[tokio::test]
async fn learning_refusals_are_worded_in_the_language_of_the_page() {
    // Arrange: Lea used her one attempt.
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(1, json!({"attempt_limit": 1})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    site.submit(LEA, &view.attempt_id, &[("t1", r_bool(true), site.now())])
        .await
        .expect("the attempt is graded");
    let start_in = |language: &'static str| {
        let (site, id) = (&site, &id);
        async move {
            let token = uuid::Uuid::new_v4().to_string();
            calls::typed::<AttemptView>(
                site.app
                    .call_fn_in(
                        language,
                        "learning/start-attempt",
                        &token_for(LEA),
                        &[
                            ("course_id", id.as_str()),
                            ("module_id", "m1"),
                            ("client_token", token.as_str()),
                        ],
                    )
                    .await,
            )
            .await
        }
    };

    // Act: a new attempt from a German page, an English one, and a page in
    // a language the app does not speak.
    let de = start_in("de-DE").await;
    let en = start_in("en-GB").await;
    let fr = start_in("fr-FR").await;

    // Assert: the same refusal (409), in the page's language; English
    // unchanged and the fallback.
    assert_eq!(
        de,
        Err(conflict("Du hast deinen einen Versuch verbraucht."))
    );
    assert_eq!(en, Err(conflict("You have used your one attempt.")));
    assert_eq!(fr, en);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
}

#[tokio::test]
async fn learning_the_attempt_limit_is_enforced_with_409() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(1, json!({"attempt_limit": 2})))
        .await;
    for _ in 0..2 {
        let view = site.start_ok(LEA, &id).await;
        site.submit(LEA, &view.attempt_id, &[("t1", r_bool(false), site.now())])
            .await
            .expect("the attempt is graded");
    }

    // Act
    let refused = site
        .start(LEA, &id, "m1", &uuid::Uuid::new_v4().to_string())
        .await;

    // Assert
    assert_eq!(refused, Err(conflict("You have used all 2 attempts.")));
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 2);
    let history = site.history(LEA, &id).await.expect("the history");
    let numbers: Vec<u32> = history.iter().map(|h| h.number).collect();
    assert_eq!(numbers, vec![2, 1], "newest first");
    assert!(history.iter().all(|h| h.state == AttemptState::Submitted
        && h.percent.is_some_and(|p| close(p, 0.0))
        && h.passed == Some(false)));
    let c = site.course(LEA, &id).await.expect("the course view");
    let quiz = c.modules[0].quiz.as_ref().expect("a quiz");
    assert_eq!(quiz.attempts_used, 2);
    assert!(quiz.best_percent.is_some_and(|p| close(p, 0.0)));
    // Another learner has their own attempts.
    let leo = site
        .start(LEO, &id, "m1", &uuid::Uuid::new_v4().to_string())
        .await;
    assert!(leo.is_ok(), "{leo:?}");
}

/// The course view is kept between reads (on SQLite) and sent again; an
/// attempt's time limit must still show on time: open through deadline +
/// grace, not open a millisecond later, and graded once its offline window
/// has closed.
#[tokio::test]
async fn a_kept_course_view_follows_the_attempts_time_limit() {
    // Arrange: a 60 s limit (a 60 s offline window); Lea starts.
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"time_limit_secs": 60})))
        .await;
    let before = site.course(LEA, &id).await.expect("the course view");
    assert_eq!(
        before.modules[0].quiz.as_ref().unwrap().open_attempt_id,
        None
    );
    let lea = site.start_ok(LEA, &id).await;
    let deadline = lea.deadline_ms.expect("a time limit");
    let quiz = || async {
        let c = site.course(LEA, &id).await.expect("the course view");
        c.modules[0].quiz.clone().expect("a quiz")
    };

    // Act + Assert: the start shows at once (the view kept before it was
    // dropped), and again from the kept view.
    let open = Some(lea.attempt_id.clone());
    assert_eq!(quiz().await.open_attempt_id, open);
    assert_eq!(quiz().await.open_attempt_id, open);
    // (The test's clock also runs in real time: 5 s margins, no exact
    // millisecond.)
    site.app
        .clock
        .advance(deadline + GRACE - 5_000 - site.now());
    assert_eq!(quiz().await.open_attempt_id, open, "open in the grace");
    assert_eq!(
        quiz().await.open_attempt_id,
        open,
        "open in the grace, kept"
    );
    site.app.clock.advance(10_000);
    assert_eq!(quiz().await.open_attempt_id, None, "closed after the grace");
    // The offline window (60 s after the deadline) closes: the visit grades
    // the attempt with what was saved (nothing: 0 %).
    site.app.clock.advance(60_000 - GRACE);
    let q = quiz().await;
    assert_eq!(q.attempts_used, 1);
    assert!(q.best_percent.is_some_and(|p| close(p, 0.0)), "{q:?}");
}

#[tokio::test]
async fn learning_time_limit_with_grace_counts_answers_given_in_time() {
    // Arrange: a 60 s limit (so a 60 s offline window). Lea starts, and 40 s
    // later Leo; 65 s after that, Lea's attempt ended 45 s ago (her
    // journalled answers arrive late, within the window) and Leo's 5 s ago
    // (still within the grace).
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(4, json!({"time_limit_secs": 60})))
        .await;
    let lea = site.start_ok(LEA, &id).await;
    site.app.clock.advance(40_000);
    let leo = site.start_ok(LEO, &id).await;
    site.app.clock.advance(65_000);
    let lea_deadline = lea.deadline_ms.expect("a time limit");
    let leo_deadline = leo.deadline_ms.expect("a time limit");

    // Act
    let journalled_in_time = site
        .save_journalled(
            LEA,
            &lea.attempt_id,
            "t1",
            r_bool(true),
            lea_deadline - 1_000,
            lea.checkpoint.as_deref(),
        )
        .await;
    let after_grace = site
        .save(
            LEA,
            &lea.attempt_id,
            "t2",
            r_bool(true),
            lea_deadline + GRACE + 1_000,
        )
        .await;
    let in_grace_but_late = site
        .save(
            LEA,
            &lea.attempt_id,
            "t3",
            r_bool(true),
            lea_deadline + 5_000,
        )
        .await;
    let before_start = site
        .save(
            LEA,
            &lea.attempt_id,
            "t4",
            r_bool(true),
            lea_deadline - 60_000 - 6_000,
        )
        .await;
    let leo_in_grace = site
        .save(
            LEO,
            &leo.attempt_id,
            "t1",
            r_bool(true),
            leo_deadline + 3_000,
        )
        .await;
    let resumed = site.start_ok(LEA, &id).await;

    // Assert
    let saved = journalled_in_time.expect("answered in time");
    assert!(saved.applied);
    assert_eq!(saved.answered_at_ms, lea_deadline - 1_000);
    assert!(
        conflict_with(&after_grace, "Time ran out"),
        "{after_grace:?}"
    );
    assert!(
        conflict_with(&in_grace_but_late, "Time ran out"),
        "received late: only answers given in time: {in_grace_but_late:?}"
    );
    assert!(is_invalid(&before_start), "{before_start:?}");
    assert!(leo_in_grace.is_ok(), "{leo_in_grace:?}");
    assert_ne!(
        resumed.attempt_id, lea.attempt_id,
        "a timed-out attempt is not resumed"
    );
    let history = site.history(LEA, &id).await.expect("the history");
    assert_eq!(
        history[1].state,
        AttemptState::Submitted,
        "starting another attempt graded the timed-out one"
    );
    assert!(
        history[1].score.is_some_and(|s| close(s, 1.0)),
        "{history:?}"
    );
    assert_eq!(history[0].state, AttemptState::InProgress);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempt_answers").await,
        2,
        "Lea's in-time answer and Leo's"
    );
}

#[tokio::test]
async fn learning_submit_after_the_deadline_counts_the_journalled_in_time_answers() {
    // Arrange: t1 saved online; then the network went down, the time ran
    // out, and the journal (t2 in time, t3 too late) arrives 45 s after the
    // time limit (within the quiz's 60 s offline window), with the latest
    // checkpoint the browser had.
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(
            4,
            json!({"time_limit_secs": 60, "pass_mark_percent": 50}),
        ))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    let saved = site
        .save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await
        .expect("the answer is saved");
    let checkpoint = saved.checkpoint.expect("a checkpoint while open");
    site.app.clock.advance(60_000 + 45_000);
    let deadline = view.deadline_ms.expect("a time limit");
    let journal = [
        ("t1", r_bool(true), deadline - 50_000),
        ("t2", r_bool(true), deadline - 2_000),
        ("t3", r_bool(true), deadline + GRACE + 5_000),
        ("zz", r_bool(true), deadline - 1_000),
    ];

    // Act
    let result = site
        .submit_journal(LEA, &attempt, &journal, Some(&checkpoint))
        .await;
    let again = site
        .submit_journal(LEA, &attempt, &journal, Some(&checkpoint))
        .await;

    // Assert
    let result = result.expect("the attempt is graded");
    assert!(close(result.score, 2.0), "t1 and t2 count: {result:?}");
    assert!(result.passed);
    let rejected: Vec<&str> = result
        .rejected
        .iter()
        .map(|r| r.question_id.as_str())
        .collect();
    assert_eq!(rejected, ["t3", "zz"]);
    assert!(result.rejected[0].reason.contains("Time ran out"));
    let again = again.expect("the same result");
    assert!(close(again.score, 2.0));
    assert_eq!(again.submitted_at_ms, result.submitted_at_ms);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
}

#[tokio::test]
async fn learning_an_attempt_left_open_past_the_offline_window_is_graded_on_the_next_visit() {
    // Arrange: one of two answers saved, then 25 hours pass (far beyond the
    // 60 s quiz's offline window).
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"time_limit_secs": 60})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    site.save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await
        .expect("the answer is saved");
    site.app.clock.advance(25 * HOUR_MS);
    let deadline = view.deadline_ms.expect("a time limit");

    // Act
    let late = site
        .save_journalled(
            LEA,
            &attempt,
            "t2",
            r_bool(true),
            deadline - 1_000,
            view.checkpoint.as_deref(),
        )
        .await;
    let history = site.history(LEA, &id).await;

    // Assert
    assert!(conflict_with(&late, "more than 1 minute after"), "{late:?}");
    let history = history.expect("the history");
    assert_eq!(history[0].state, AttemptState::Submitted, "{history:?}");
    assert!(history[0].score.is_some_and(|s| close(s, 1.0)));
    assert!(history[0].max_score.is_some_and(|s| close(s, 2.0)));
}

#[tokio::test]
async fn learning_later_answers_win_and_stale_journal_entries_do_not_overwrite_them() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    let t = site.now();

    // Act
    let newer = site.save(LEA, &attempt, "t1", r_bool(true), t).await;
    let stale = site
        .save(LEA, &attempt, "t1", r_bool(false), t - 1_000)
        .await;
    let unknown = site.save(LEA, &attempt, "nope", r_bool(false), t).await;
    let result = site
        .submit(LEA, &attempt, &[("t1", r_bool(false), t - 2_000)])
        .await;

    // Assert
    assert!(newer.expect("the answer is saved").applied);
    let stale = stale.expect("a stale answer is not an error");
    assert!(!stale.applied);
    assert_eq!(stale.answered_at_ms, t);
    assert!(is_invalid(&unknown), "{unknown:?}");
    let result = result.expect("the attempt is graded");
    assert!(close(result.score, 1.0), "{result:?}");
    assert_eq!(
        result.rejected,
        [],
        "older answers are superseded, not refused"
    );
}

#[tokio::test]
async fn learning_feedback_follows_the_course_mode() {
    // Arrange
    let site = Site::new().await;
    let immediate = site
        .publish(&true_false_course(2, json!({"feedback_mode": "immediate"})))
        .await;
    let never = site
        .publish(&true_false_course(2, json!({"feedback_mode": "never"})))
        .await;
    let view = site.start_ok(LEA, &immediate).await;
    let attempt = view.attempt_id;

    // Act
    let first = site
        .save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await;
    let retry = site
        .save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await;
    let changed = site
        .save(LEA, &attempt, "t1", r_bool(false), site.now())
        .await;
    let reloaded = site.start_ok(LEA, &immediate).await;
    let result = site
        .submit(LEA, &attempt, &[("t1", r_bool(false), site.now())])
        .await;
    let never_view = site.start_ok(LEA, &never).await;
    let never_result = site
        .submit(
            LEA,
            &never_view.attempt_id,
            &[("t1", r_bool(true), site.now())],
        )
        .await;

    // Assert
    let grade = first
        .expect("the answer is saved")
        .grade
        .expect("immediate feedback");
    assert_eq!(grade.correct, Correctness::Correct);
    assert!(grade
        .feedback_html
        .expect("feedback")
        .contains("<strong>indeed</strong>"));
    assert!(
        retry.is_ok(),
        "re-sending the same answer is fine: {retry:?}"
    );
    assert!(
        is_conflict(&changed),
        "the first answer counts once its feedback was shown: {changed:?}"
    );
    assert_eq!(reloaded.feedback["t1"].correct, Correctness::Correct);
    assert_eq!(reloaded.feedback_mode, FeedbackMode::Immediate);
    let result = result.expect("the attempt is graded");
    assert!(close(result.score, 1.0));
    assert_eq!(result.rejected[0].question_id, "t1");
    assert_eq!(result.questions.len(), 2);
    let never_result = never_result.expect("the attempt is graded");
    assert!(close(never_result.score, 1.0));
    assert_eq!(never_result.questions, [], "never: the score only");
    assert_eq!(never_result.feedback_mode, FeedbackMode::Never);
}

#[tokio::test]
async fn learning_completion_and_certificate() {
    // Arrange
    let site = Site::with_names(&[(LEA, "Lea Learner")]).await;
    let id = site
        .publish(&true_false_course(
            1,
            json!({"certificate_validity_days": 30, "pass_mark_percent": 100}),
        ))
        .await;

    // Act + Assert: nothing is complete before every lesson and the quiz.
    assert_eq!(site.certificate(LEA, &id).await, Err(not_found()));
    let view = site.start_ok(LEA, &id).await;
    let result = site
        .submit(LEA, &view.attempt_id, &[("t1", r_bool(true), site.now())])
        .await
        .expect("the attempt is graded");
    assert!(result.passed);
    assert!(!result.course_complete, "lessons not opened yet");
    assert_eq!(site.certificate(LEA, &id).await, Err(not_found()));
    site.open_lesson(LEA, &id, 1, "l1")
        .await
        .expect("the lesson opens");
    assert_eq!(site.certificate(LEA, &id).await, Err(not_found()));
    let progress = site
        .open_lesson(LEA, &id, 1, "l2")
        .await
        .expect("the lesson opens");
    assert!(progress.complete);
    assert_eq!(progress.percent, 100);

    let cert = site.certificate(LEA, &id).await.expect("a certificate");
    assert_eq!(cert.learner_name, "Lea Learner");
    assert!(cert.name_from_confluence);
    assert_eq!(cert.learner_account_id, LEA);
    assert_eq!(cert.course_title, "Fire safety");
    assert_eq!(cert.version, 1);
    let completed = cert.completed_at_ms;
    assert!((completed - site.now()).abs() < 10_000);
    assert_eq!(cert.expires_at_ms, Some(completed + 30 * DAY_MS));
    assert!(!cert.expired);
    assert!(cert.certificate_id.starts_with("SC-"));
    assert_eq!(
        site.certificate(LEA, &id).await,
        Ok(cert),
        "the same certificate every time"
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM completions").await, 1);
    let c = site.course(LEA, &id).await.expect("the course view");
    assert_eq!(c.completed_at_ms, Some(completed));
    assert_eq!(c.resume, None);
    // Leo has done nothing: no certificate.
    assert_eq!(site.certificate(LEO, &id).await, Err(not_found()));
    // Passing when every lesson is already open completes on submit.
    site.open_all(LEO, &id, 1).await;
    let leo = site.start_ok(LEO, &id).await;
    let leo_result = site
        .submit(LEO, &leo.attempt_id, &[("t1", r_bool(true), site.now())])
        .await
        .expect("the attempt is graded");
    assert!(leo_result.course_complete);
    assert_eq!(site.count("SELECT COUNT(*) FROM completions").await, 2);
}

#[tokio::test]
async fn learning_certificate_names_the_account_when_confluence_cannot() {
    // Arrange: this fake Confluence has no user directory (404).
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    site.open_all(LEA, &id, 1).await;
    let view = site.start_ok(LEA, &id).await;
    site.submit(LEA, &view.attempt_id, &[("t1", r_bool(true), site.now())])
        .await
        .expect("the attempt is graded");

    // Act
    let cert = site.certificate(LEA, &id).await;

    // Assert
    let cert = cert.expect("a certificate");
    assert_eq!(cert.learner_name, LEA);
    assert!(!cert.name_from_confluence);
    assert_eq!(cert.expires_at_ms, None);
    assert!(!cert.expired);
}

#[tokio::test]
async fn learning_recertification_is_due_after_a_material_publish() {
    // Arrange: Lea completes version 1.
    let site = Site::new().await;
    let content = true_false_course(1, json!({"attempt_limit": 1}));
    let id = site.publish(&content).await;
    site.open_all(LEA, &id, 1).await;
    let view = site.start_ok(LEA, &id).await;
    let r = site
        .submit(LEA, &view.attempt_id, &[("t1", r_bool(true), site.now())])
        .await
        .expect("the attempt is graded");
    assert!(r.course_complete);

    // Act + Assert: a non-material change keeps the completion.
    let mut v2 = content.clone();
    v2["title"] = json!("Fire safety (typo fixed)");
    assert_eq!(site.republish(&id, &v2, false).await, 2);
    let c = site.course(LEA, &id).await.expect("the course view");
    assert_eq!(c.version, 2);
    assert!(!c.recertification_due);
    assert!(c.progress.complete);
    assert_eq!(
        site.certificate(LEA, &id)
            .await
            .expect("a certificate")
            .version,
        1
    );

    // A material change asks for re-certification, with fresh attempts.
    let mut v3 = v2.clone();
    v3["modules"][0]["quiz"]["questions"][0]["kind"]["answer"] = json!(false);
    assert_eq!(site.republish(&id, &v3, true).await, 3);
    let c = site.course(LEA, &id).await.expect("the course view");
    assert!(c.recertification_due, "{c:?}");
    assert!(!c.progress.complete);
    assert!(c.progress.passed_quizzes.is_empty());
    assert_eq!(
        c.progress.opened_lessons,
        ["l1", "l2"],
        "reading is not undone"
    );
    assert_eq!(c.completed_at_ms, None);
    assert_eq!(c.modules[0].quiz.as_ref().expect("a quiz").attempts_used, 0);
    assert_eq!(
        c.resume,
        Some(ResumePoint::Quiz {
            module_id: "m1".into()
        })
    );
    assert_eq!(site.certificate(LEA, &id).await, Err(not_found()));
    // Leo never passed: nothing is due for him.
    assert!(
        !site
            .course(LEO, &id)
            .await
            .expect("Leo's course view")
            .recertification_due
    );

    let view = site.start_ok(LEA, &id).await;
    assert_eq!(view.course_version, 3);
    assert_eq!(view.number, 1);
    let r = site
        .submit(LEA, &view.attempt_id, &[("t1", r_bool(false), site.now())])
        .await
        .expect("the attempt is graded");
    assert!(r.passed);
    assert!(r.course_complete);
    let c = site.course(LEA, &id).await.expect("the course view");
    assert!(!c.recertification_due);
    let cert = site.certificate(LEA, &id).await.expect("a certificate");
    assert_eq!(cert.version, 3);
    let history = site.history(LEA, &id).await.expect("the history");
    assert!(history[0].current_cycle);
    assert!(!history[1].current_cycle);
}

#[tokio::test]
async fn learning_another_learner_cannot_save_to_or_submit_my_attempt() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    site.save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await
        .expect("the answer is saved");

    // Act: Leo's save is read raw (nothing of Lea's may be in it).
    let (save, save_body) = site
        .raw_json(
            &token_for(LEO),
            "learning/save-answer",
            &json!({"attempt_id": attempt, "question_id": "t2",
                    "response": r_bool(false), "answered_at_ms": site.now()}),
        )
        .await;
    let submit = site
        .submit(LEO, &attempt, &[("t1", r_bool(false), site.now())])
        .await;
    let ned = site
        .save(NED, &attempt, "t2", r_bool(false), site.now())
        .await;

    // Assert
    assert_eq!(save, 404, "{save_body}");
    assert_eq!(submit, Err(not_found()));
    assert_eq!(ned, Err(forbidden()), "no view permission on the page");
    assert!(!save_body.to_string().contains(LEA));
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 1);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NULL")
            .await,
        1
    );
    let mine = site.history(LEA, &id).await.expect("Lea's history");
    assert_eq!(mine.len(), 1);
    assert_eq!(site.history(LEO, &id).await, Ok(vec![]));
}

#[tokio::test]
async fn learning_another_site_cannot_reach_my_course_or_my_attempts() {
    // Arrange: site A's learner has an attempt; site B's learner may view
    // the page with the same id on site B. Every answer is read raw (nothing
    // of site A's course may be in it).
    let site = Site::new().await;
    site.app.install_on(&site.fake, SITE_B, SECRET_B).await;
    site.fake.allow_read_only(BOB_ON_B, PAGE);
    let bob = context_token(SITE_B, SECRET_B, BOB_ON_B, PAGE);
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    site.save(LEA, &attempt, "t1", r_bool(true), site.now())
        .await
        .expect("the answer is saved");
    let token = uuid::Uuid::new_v4().to_string();

    // Act
    let answers = vec![
        site.raw_form(&bob, "learning/course", &[("course_id", &id)])
            .await,
        site.raw_form(
            &bob,
            "learning/open-lesson",
            &[("course_id", &id), ("version", "1"), ("lesson_id", "l1")],
        )
        .await,
        site.raw_form(
            &bob,
            "learning/start-attempt",
            &[
                ("course_id", &id),
                ("module_id", "m1"),
                ("client_token", &token),
            ],
        )
        .await,
        site.raw_json(
            &bob,
            "learning/save-answer",
            &json!({"attempt_id": attempt, "question_id": "t2",
                    "response": r_bool(false), "answered_at_ms": site.now()}),
        )
        .await,
        site.raw_json(
            &bob,
            "learning/submit",
            &json!({"attempt_id": attempt, "answers": []}),
        )
        .await,
        site.raw_form(
            &bob,
            "learning/history",
            &[("course_id", &id), ("module_id", "m1")],
        )
        .await,
        site.raw_form(&bob, "learning/certificate", &[("course_id", &id)])
            .await,
    ];

    // Assert
    for (status, body) in &answers {
        assert_eq!(*status, 404, "{body}");
        assert!(!body.to_string().contains("Fire"), "{body}");
    }
    let b = SITE_B;
    for table in ["lesson_views", "attempts", "attempt_answers", "completions"] {
        assert_eq!(
            site.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE client_key = '{b}'"
            ))
            .await,
            0,
            "{table}"
        );
    }
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 1);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn learning_a_course_is_shown_only_to_those_who_may_view_its_own_page() {
    // Arrange: the course lives on PAGE. Mal may view his own page 3001 but
    // not PAGE; Lea may view both (a copied page showing the same macro).
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    const MAL: &str = "557058:mal-other-page";
    const OTHER_PAGE: &str = "3001";
    site.fake.allow_read_only(MAL, OTHER_PAGE);
    site.fake.grant(MAL, PAGE, "read", false);
    site.fake.allow_read_only(LEA, OTHER_PAGE);
    let mal = context_token(SITE, SECRET, MAL, OTHER_PAGE);
    let lea_elsewhere = context_token(SITE, SECRET, LEA, OTHER_PAGE);
    let token = uuid::Uuid::new_v4().to_string();

    // Act: Mal's course view is read raw (the course must not be in it).
    let (mal_course, mal_body) = site
        .raw_form(&mal, "learning/course", &[("course_id", &id)])
        .await;
    let mal_start = site.app.start_attempt(&mal, &id, "m1", &token).await;
    let lea_course = site.app.learner_course(&lea_elsewhere, &id).await;

    // Assert
    assert_eq!(mal_course, 403, "{mal_body}");
    assert_eq!(mal_start, Err(forbidden()));
    assert!(!mal_body.to_string().contains("Fire"));
    assert!(lea_course.is_ok(), "{lea_course:?}");
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 0);
}

// ---- space admin reports (the same records) ------------------------------------

#[tokio::test]
async fn report_shows_each_learners_progress_completion_and_expiry_to_space_admins() {
    // Arrange: Lea completes; Leo opened one lesson and failed the quiz once.
    let site = Site::with_names(&[(LEA, "Lea Learner")]).await;
    let id = site
        .publish(&true_false_course(
            1,
            json!({"certificate_validity_days": 30, "pass_mark_percent": 100}),
        ))
        .await;
    site.complete(LEA, &id, 1).await;
    site.open_lesson(LEO, &id, 1, "l1")
        .await
        .expect("the lesson opens");
    let leo = site.start_ok(LEO, &id).await;
    let failed = site
        .submit(LEO, &leo.attempt_id, &[("t1", r_bool(false), site.now())])
        .await
        .expect("the attempt is graded");
    assert!(!failed.passed);
    let cert = site.certificate(LEA, &id).await.expect("a certificate");

    // Act
    let report = site.report(SAM, &id).await;

    // Assert
    let report = report.expect("the report");
    assert_eq!(report.course.course_title, "Fire safety");
    assert_eq!(report.course.version, Some(1));
    assert_eq!(report.course.lessons_total, 2);
    assert_eq!(report.course.quizzes_total, 1);
    assert_eq!(
        report.counts,
        ReportCounts {
            learners: 2,
            completed: 1,
            in_progress: 1,
            ..ReportCounts::default()
        }
    );
    let rows = &report.rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(report.total, 2);
    // Needs attention first: Leo (in progress) before Lea (completed).
    assert_eq!(rows[0].account_id, LEO);
    assert_eq!(rows[0].name, None);
    assert_eq!(rows[0].state, LearnerState::InProgress);
    assert_eq!(rows[0].lessons_opened, 1);
    assert_eq!(rows[0].quizzes_passed, 0);
    assert_eq!(rows[0].attempts, 1);
    assert!(
        rows[0].best_percent.is_some_and(|p| close(p, 0.0)),
        "{report:?}"
    );
    assert_eq!(rows[0].progress_percent, 33);
    assert_eq!(rows[0].completed_at_ms, None);
    assert_eq!(rows[1].account_id, LEA);
    assert_eq!(rows[1].name.as_deref(), Some("Lea Learner"));
    assert_eq!(rows[1].state, LearnerState::Completed);
    assert_eq!(rows[1].progress_percent, 100);
    assert!(rows[1].best_percent.is_some_and(|p| close(p, 100.0)));
    // The same data as the learner's certificate.
    assert_eq!(rows[1].completed_at_ms, Some(cert.completed_at_ms));
    assert_eq!(rows[1].completed_version, Some(cert.version));
    assert_eq!(rows[1].expires_at_ms, cert.expires_at_ms);
    let last = rows[1].last_activity_ms.expect("a last activity");
    assert!((site.now() - last).abs() < 60_000, "{report:?}");

    // Names are remembered: a second report asks Confluence nothing new,
    // for Lea (her name) nor for Leo (Confluence has no user for him, and
    // that is remembered for a while too).
    let before = site.fake.user_lookups();
    site.report(SAM, &id).await.expect("the report");
    assert_eq!(site.fake.user_lookups() - before, 0);
}

#[tokio::test]
async fn report_is_for_admins_of_the_courses_space_only() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    site.open_all(LEA, &id, 1).await;
    let in_other_space = hs_token(
        Algorithm::HS256,
        SECRET,
        &context_claims_on(SITE, SAM, PAGE, "OTHER"),
    );
    site.fake.make_space_admin(SAM, "OTHER");

    // Act: the learner's refusal is read raw (nothing about learners may be in it).
    let (learner, learner_body) = site
        .raw_json(
            &token_for(LEA),
            "space-admin/course-report",
            &json!({ "course_id": id, "query": ReportQuery::default() }),
        )
        .await;
    let author = site.report(AUTHOR, &id).await;
    let other_space = site.app.course_report(&in_other_space, &id).await;
    let bad_id = site.report(SAM, "../etc").await;
    let unknown = site
        .report(SAM, "00000000-0000-4000-8000-000000000000")
        .await;
    let csv_learner = site
        .app
        .report_csv(&token_for(LEA), &id, &ReportQuery::default())
        .await;

    // Assert
    assert_eq!(learner, 403, "{learner_body}");
    assert_eq!(
        author,
        Err(forbidden()),
        "editing a page does not make a space admin"
    );
    assert_eq!(other_space, Err(not_found()), "a course of another space");
    assert!(is_invalid(&bad_id), "{bad_id:?}");
    assert_eq!(unknown, Err(not_found()));
    assert_eq!(csv_learner, Err(forbidden()));
    assert!(
        !learner_body.to_string().contains(LEA),
        "nothing about learners leaks in the refusal"
    );
}

#[tokio::test]
async fn report_marks_recertification_due_and_expired_certificates() {
    // Arrange: Leo completes version 1 (valid 10 days); eleven days later,
    // Lea does.
    let site = Site::new().await;
    let content = true_false_course(1, json!({"certificate_validity_days": 10}));
    let id = site.publish(&content).await;
    site.complete(LEO, &id, 1).await;
    site.app.clock.advance(11 * DAY_MS);
    site.complete(LEA, &id, 1).await;

    // Act + Assert: Leo's certificate has expired.
    let leo = site.report_row(&id, LEO).await;
    assert_eq!(leo.state, LearnerState::Expired, "{leo:?}");
    assert!(leo.expires_at_ms.expect("an expiry") < site.now());
    assert_eq!(
        site.report_row(&id, LEA).await.state,
        LearnerState::Completed
    );

    // A material change: both are due for re-certification.
    let mut v2 = content.clone();
    v2["modules"][0]["quiz"]["questions"][0]["kind"]["answer"] = json!(false);
    assert_eq!(site.republish(&id, &v2, true).await, 2);
    let report = site.report(SAM, &id).await.expect("the report");
    assert_eq!(report.course.cycle_start, Some(2));
    assert_eq!(report.counts.recertification_due, 2, "{report:?}");
    let lea = site.report_row(&id, LEA).await;
    assert_eq!(lea.state, LearnerState::RecertificationDue);
    assert_eq!(lea.attempts, 0, "attempts count per cycle");
    assert_eq!(lea.completed_at_ms, None);
    assert_eq!(lea.lessons_opened, 2, "reading is not undone");
}

#[tokio::test]
async fn report_grades_attempts_abandoned_past_the_offline_window() {
    // Arrange: Lea answered one of two questions, then never came back
    // (25 hours pass).
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"time_limit_secs": 60})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    site.save(LEA, &view.attempt_id, "t1", r_bool(true), site.now())
        .await
        .expect("the answer is saved");
    site.app.clock.advance(25 * HOUR_MS);

    // Act
    let row = site.report_row(&id, LEA).await;

    // Assert
    assert_eq!(row.attempts, 1);
    assert!(row.best_percent.is_some_and(|p| close(p, 50.0)), "{row:?}");
    assert_eq!(row.state, LearnerState::InProgress);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NOT NULL")
            .await,
        1,
        "graded once, as the learner's next visit would"
    );
}

#[tokio::test]
async fn report_csv_has_a_header_and_one_row_per_learner() {
    // Arrange
    let site = Site::with_names(&[(LEA, "=cmd|' /C calc'!A0")]).await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    site.complete(LEA, &id, 1).await;
    site.open_lesson(LEO, &id, 1, "l1")
        .await
        .expect("the lesson opens");

    // Act
    let csv = site
        .app
        .report_csv(&token_for(SAM), &id, &ReportQuery::default())
        .await;

    // Assert
    let csv = csv.expect("the CSV");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with(
            "\u{feff}Name,Account ID,Status,Overdue,Enrolled,Enrolled because,Due,Progress %"
        ),
        "a byte-order mark, then the header: {csv}"
    );
    let lea = lines.iter().find(|l| l.contains(LEA)).unwrap();
    assert!(
        lea.starts_with("'=cmd|' /C calc'!A0,"),
        "a formula-like name is defused: {lea}"
    );
    assert!(
        lea.contains(",Completed,no,,not enrolled,,100,2,1,1,100.0,"),
        "{lea}"
    );
    let leo = lines.iter().find(|l| l.contains(LEO)).unwrap();
    assert!(
        leo.contains(",In progress,no,,not enrolled,,33,1,0,0,,"),
        "{leo}"
    );
}

#[tokio::test]
async fn learning_a_journal_that_answers_one_question_twice_counts_the_later_answer() {
    // Arrange: the journal holds two answers to t1 (the later one right) and
    // one to t2; the server already has a stale answer to t2.
    let site = Site::new().await;
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = view.attempt_id;
    let t = site.now();
    site.save(LEA, &attempt, "t2", r_bool(false), t - 5_000)
        .await
        .expect("the answer is saved");

    // Act
    let result = site
        .submit(
            LEA,
            &attempt,
            &[
                ("t1", r_bool(true), t - 1_000),
                ("t1", r_bool(false), t - 3_000),
                ("t2", r_bool(true), t - 2_000),
            ],
        )
        .await;

    // Assert
    let result = result.expect("the attempt is graded");
    assert!(close(result.score, 2.0), "{result:?}");
    assert_eq!(
        result.rejected,
        [],
        "an older journal entry for the same question is superseded, not refused"
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
}

/// The learner's records are cached in the server on SQLite (store
/// `read_cache`): reads racing with the learner's own writes must never
/// leave an old view behind. Many reads run while the lessons are opened
/// and an attempt is started, saved and submitted; each read after a write
/// returned shows it.
#[tokio::test]
async fn reads_racing_with_writes_never_serve_old_records() {
    // Arrange
    let site = std::sync::Arc::new(Site::new().await);
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let reader = |site: std::sync::Arc<Site>, id: String| {
        tokio::spawn(async move {
            for _ in 0..40 {
                site.course(LEA, &id).await.expect("the course view");
            }
        })
    };

    // Act + Assert: each write, with reads racing it; then a read sees it.
    for lesson in ["l1", "l2"] {
        let readers: Vec<_> = (0..4).map(|_| reader(site.clone(), id.clone())).collect();
        site.open_lesson(LEA, &id, 1, lesson).await.expect("opens");
        for r in readers {
            r.await.unwrap();
        }
        let seen = site.course(LEA, &id).await.unwrap().progress.opened_lessons;
        assert!(
            seen.contains(&lesson.to_string()),
            "{lesson} missing from {seen:?}"
        );
    }
    let readers: Vec<_> = (0..4).map(|_| reader(site.clone(), id.clone())).collect();
    let view = site.start_ok(LEA, &id).await;
    let open = site.course(LEA, &id).await.unwrap().modules[0]
        .quiz
        .as_ref()
        .unwrap()
        .open_attempt_id
        .clone();
    assert_eq!(open.as_deref(), Some(view.attempt_id.as_str()));
    let now = site.app.now_ms();
    site.app
        .submit_attempt(
            &token_for(LEA),
            &view.attempt_id,
            &[
                ("t1", Response::Bool(true), now),
                ("t2", Response::Bool(true), now),
            ],
        )
        .await
        .expect("graded");
    for r in readers {
        r.await.unwrap();
    }
    let after = site.course(LEA, &id).await.unwrap();
    let quiz = after.modules[0].quiz.as_ref().unwrap();
    assert_eq!(
        quiz.open_attempt_id, None,
        "the submitted attempt is not open"
    );
    assert_eq!(quiz.attempts_used, 1);
    assert!(quiz.passed);
    assert!(after.progress.complete);
    // Another learner's cached view is untouched by Lea's writes.
    let leo = site.course(LEO, &id).await.unwrap();
    assert!(leo.progress.opened_lessons.is_empty());
}
