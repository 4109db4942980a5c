//! The learner server functions (`/api/learning/*`) end to end: the real
//! server on a socket, its own database (SQLite, or PostgreSQL with
//! `SC_TEST_DB=postgres`), courses published through the real authoring
//! functions, and a fake Confluence answering permission checks (and, for
//! certificates, user names). Time-limit tests move an attempt into the past
//! in the database instead of waiting.

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

use crate::helpers::*;

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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
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
    }

    fn token(&self, account: &str) -> String {
        context_token(SITE, SECRET, account, PAGE)
    }

    async fn form(&self, token: &str, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        fn_reply(self.app.call_fn(name, Some(token), form).await).await
    }

    async fn json(&self, token: &str, name: &str, body: &Value) -> (u16, Value) {
        fn_reply(self.app.call_fn_json(name, Some(token), body).await).await
    }

    /// Creates `content` as a new course on [`PAGE`] and publishes version 1.
    async fn publish(&self, content: &Value) -> String {
        let author = self.token(AUTHOR);
        let (status, saved) = self
            .json(
                &author,
                "authoring/save-draft",
                &json!({"course_id": null, "revision": 0, "content": content}),
            )
            .await;
        assert_eq!(status, 200, "{saved}");
        let id = saved["course_id"].as_str().unwrap().to_owned();
        let (status, v) = self
            .form(
                &author,
                "authoring/publish",
                &[("course_id", &id), ("revision", "1"), ("material", "false")],
            )
            .await;
        assert_eq!(status, 200, "{v}");
        id
    }

    /// Saves `content` as the draft and publishes it; the new version.
    async fn republish(&self, id: &str, content: &Value, material: bool) -> i64 {
        let author = self.token(AUTHOR);
        let revision = self
            .app
            .stored_course(SITE, id)
            .await
            .unwrap()
            .draft_revision;
        let (status, saved) = self
            .json(
                &author,
                "authoring/save-draft",
                &json!({"course_id": id, "revision": revision, "content": content}),
            )
            .await;
        assert_eq!(status, 200, "{saved}");
        let revision = saved["revision"].as_i64().unwrap().to_string();
        let material = material.to_string();
        let (status, v) = self
            .form(
                &author,
                "authoring/publish",
                &[
                    ("course_id", id),
                    ("revision", &revision),
                    ("material", &material),
                ],
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v["version"].as_i64().unwrap()
    }

    async fn course(&self, who: &str, id: &str) -> (u16, Value) {
        self.form(&self.token(who), "learning/course", &[("course_id", id)])
            .await
    }

    async fn open_lesson(&self, who: &str, id: &str, version: i64, lesson: &str) -> (u16, Value) {
        let version = version.to_string();
        self.form(
            &self.token(who),
            "learning/open-lesson",
            &[
                ("course_id", id),
                ("version", &version),
                ("lesson_id", lesson),
            ],
        )
        .await
    }

    async fn start(&self, who: &str, id: &str, module: &str, token: &str) -> (u16, Value) {
        self.form(
            &self.token(who),
            "learning/start-attempt",
            &[
                ("course_id", id),
                ("module_id", module),
                ("client_token", token),
            ],
        )
        .await
    }

    /// Starts with a fresh client token; panics unless 200.
    async fn start_ok(&self, who: &str, id: &str) -> Value {
        let token = uuid::Uuid::new_v4().to_string();
        let (status, view) = self.start(who, id, "m1", &token).await;
        assert_eq!(status, 200, "{view}");
        view
    }

    async fn save(
        &self,
        who: &str,
        attempt: &str,
        question: &str,
        response: Value,
        at: i64,
    ) -> (u16, Value) {
        self.json(
            &self.token(who),
            "learning/save-answer",
            &json!({"attempt_id": attempt, "question_id": question,
                    "response": response, "answered_at_ms": at}),
        )
        .await
    }

    async fn submit(&self, who: &str, attempt: &str, answers: Value) -> (u16, Value) {
        self.json(
            &self.token(who),
            "learning/submit",
            &json!({"attempt_id": attempt, "answers": answers}),
        )
        .await
    }

    async fn history(&self, who: &str, id: &str) -> (u16, Value) {
        self.form(
            &self.token(who),
            "learning/history",
            &[("course_id", id), ("module_id", "m1")],
        )
        .await
    }

    async fn certificate(&self, who: &str, id: &str) -> (u16, Value) {
        self.form(
            &self.token(who),
            "learning/certificate",
            &[("course_id", id)],
        )
        .await
    }

    /// Opens every lesson of the test courses (`l1`, `l2`) at `version`.
    async fn open_all(&self, who: &str, id: &str, version: i64) {
        for lesson in ["l1", "l2"] {
            let (status, p) = self.open_lesson(who, id, version, lesson).await;
            assert_eq!(status, 200, "{p}");
        }
    }

    /// Moves an attempt `by_ms` into the past (start, deadline, activity).
    async fn age_attempt(&self, attempt: &str, by_ms: i64) {
        let mut conn = self.app.db_connection().await;
        let done = sqlx::query(
            "UPDATE attempts SET started_at_ms = started_at_ms - $1, \
                                 deadline_ms = deadline_ms - $1, \
                                 last_activity_ms = last_activity_ms - $1 \
             WHERE client_key = $2 AND id = $3",
        )
        .bind(by_ms)
        .bind(SITE)
        .bind(attempt)
        .execute(&mut conn)
        .await
        .unwrap();
        assert_eq!(done.rows_affected(), 1);
    }

    async fn count(&self, sql: &str) -> i64 {
        self.app.count(sql).await
    }

    async fn report(&self, who: &str, id: &str) -> (u16, Value) {
        self.form(
            &self.token(who),
            "space-admin/course-report",
            &[("course_id", id)],
        )
        .await
    }

    /// The report row of `account`.
    async fn report_row(&self, id: &str, account: &str) -> Value {
        let (status, r) = self.report(SAM, id).await;
        assert_eq!(status, 200, "{r}");
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["account_id"] == account)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {account}: {r}"))
    }

    /// Lea opens both lessons and passes the one-question quiz.
    async fn complete(&self, who: &str, id: &str, version: i64) {
        self.open_all(who, id, version).await;
        let view = self.start_ok(who, id).await;
        let (_, r) = self
            .submit(
                who,
                view["attempt_id"].as_str().unwrap(),
                json!([["t1", r_bool(true), now_ms()]]),
            )
            .await;
        assert_eq!(r["course_complete"], true, "{r}");
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

fn r_bool(b: bool) -> Value {
    json!({"type": "bool", "value": b})
}

fn r_choice(ids: &[String]) -> Value {
    json!({"type": "choice", "value": ids})
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
fn question<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["question"])
        .find(|q| q["id"] == id)
        .unwrap_or_else(|| panic!("no question {id} in {view}"))
}

/// The id of the choice with `text` in `list` ("options", "items",
/// "prompts", "answers") of question `qid`.
fn pick(view: &Value, qid: &str, list: &str, text: &str) -> String {
    question(view, qid)["kind"][list]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["text"] == text)
        .unwrap_or_else(|| panic!("no {text} in {list} of {qid}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Question ids in the order shown, with each question's choice order.
fn presentation(view: &Value) -> Vec<(String, Vec<String>)> {
    view["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let q = &q["question"];
            let choices = ["options", "items", "answers"]
                .iter()
                .filter_map(|k| q["kind"][*k].as_array())
                .flatten()
                .map(|c| c["text"].as_str().unwrap().to_owned())
                .collect();
            (q["id"].as_str().unwrap().to_owned(), choices)
        })
        .collect()
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap().to_owned()
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
    let (status, c) = site.course(LEA, &id).await;

    // Assert
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["version"], 1);
    assert_eq!(c["title"], "Fire safety");
    assert!(str_of(&c["description_html"]).contains("<strong>fire</strong>"));
    let module = &c["modules"][0];
    assert_eq!(module["id"], "m1");
    assert!(str_of(&module["lessons"][0]["html"]).contains("<strong>this</strong>"));
    assert_eq!(
        module["quiz"],
        json!({"question_count": 2, "total_points": 2.0, "attempts_used": 0,
               "attempts_allowed": 3, "best_percent": null, "passed": false,
               "open_attempt_id": null})
    );
    assert_eq!(
        c["settings"],
        json!({"pass_mark_percent": 75, "attempt_limit": 3, "time_limit_secs": 600,
               "feedback_mode": "never", "certificate_validity_days": 365})
    );
    assert_eq!(
        c["progress"],
        json!({"opened_lessons": [], "passed_quizzes": [], "lessons_total": 2,
               "quizzes_total": 1, "complete": false, "percent": 0})
    );
    assert_eq!(
        c["resume"],
        json!({"Lesson": {"module_id": "m1", "lesson_id": "l1"}})
    );
    assert_eq!(c["recertification_due"], false);
    assert_eq!(c["completed_at_ms"], Value::Null);

    // Opening a lesson is recorded once, however often it happens.
    for _ in 0..3 {
        let (status, p) = site.open_lesson(LEA, &id, 1, "l1").await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["opened_lessons"], json!(["l1"]));
        assert_eq!(p["percent"], 33);
    }
    assert_eq!(
        site.count("SELECT COUNT(*) FROM lesson_views").await,
        1,
        "one row per lesson"
    );
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(
        c["resume"],
        json!({"Lesson": {"module_id": "m1", "lesson_id": "l2"}})
    );
    // Unknown lessons and versions are refused.
    assert_eq!(site.open_lesson(LEA, &id, 1, "nope").await.0, 404);
    assert_eq!(site.open_lesson(LEA, &id, 2, "l1").await.0, 404);
    // Another learner's progress is their own.
    let (_, other) = site.course(LEO, &id).await;
    assert_eq!(other["progress"]["opened_lessons"], json!([]));
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
    let (status, saved) = site
        .json(
            &site.token(AUTHOR),
            "authoring/save-draft",
            &json!({"course_id": null, "revision": 0, "content": true_false_course(1, json!({}))}),
        )
        .await;
    assert_eq!(status, 200);
    let draft = str_of(&saved["course_id"]);

    // Act
    let (anon_status, anon_body) = site
        .form(&anonymous, "learning/course", &[("course_id", &id)])
        .await;
    let (anon_start, _) = site
        .form(
            &anonymous,
            "learning/start-attempt",
            &[
                ("course_id", &id),
                ("module_id", "m1"),
                ("client_token", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;
    let (ned_status, _) = site.course(NED, &id).await;
    let (draft_status, draft_body) = site.course(LEA, &draft).await;
    let (unknown_status, _) = site.course(LEA, &uuid::Uuid::new_v4().to_string()).await;
    let (bad_id_status, _) = site.course(LEA, "../etc").await;

    // Assert
    assert_eq!(anon_status, 401, "{anon_body}");
    assert_eq!(anon_start, 401);
    assert_eq!(ned_status, 403);
    assert_eq!(draft_status, 404, "{draft_body}");
    assert_eq!(unknown_status, 404);
    assert_eq!(bad_id_status, 400);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 0);
}

#[tokio::test]
async fn learning_no_answer_reaches_the_browser_before_submission() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&secret_course()).await;
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

    // Act
    let (s1, course_view) = site.course(LEA, &id).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let red = pick(&view, "q-multi", "options", "opttext-Red");
    let (s2, saved) = site
        .save(LEA, &attempt, "q-multi", r_choice(&[red]), now_ms())
        .await;
    let (s3, saved_tf) = site
        .save(LEA, &attempt, "q-tf", r_bool(false), now_ms())
        .await;
    let resumed = site.start_ok(LEA, &id).await;
    let (s4, history) = site.history(LEA, &id).await;

    // Assert
    assert_eq!((s1, s2, s3, s4), (200, 200, 200, 200));
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
    assert_eq!(view["questions"].as_array().unwrap().len(), 7);
    assert!(view.to_string().contains("opttext-Paris"));
    assert_eq!(
        saved["grade"],
        Value::Null,
        "after-submit mode grades nothing early"
    );
    assert_eq!(resumed["attempt_id"], view["attempt_id"]);
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
    let attempt = str_of(&view["attempt_id"]);
    let at = now_ms();
    let answers = json!([
        ["g1", r_choice(&[pick(&view, "g1", "options", "Carbon dioxide")]), at],
        ["g2", r_choice(&[pick(&view, "g2", "options", "Door")]), at],
        ["g3", r_bool(true), at],
        ["g4", {"type": "number", "value": 9.8}, at],
        ["g5", {"type": "text", "value": "  car   PARK "}, at],
        ["g6", {"type": "order", "value": [
            pick(&view, "g6", "items", "Raise the alarm"),
            pick(&view, "g6", "items", "Leave"),
            pick(&view, "g6", "items", "Gather")]}, at],
        ["g7", {"type": "match", "value": [
            [pick(&view, "g7", "prompts", "Class A"), pick(&view, "g7", "answers", "Wood")],
            [pick(&view, "g7", "prompts", "Class B"), pick(&view, "g7", "answers", "Petrol")],
            [pick(&view, "g7", "prompts", "Class C"), pick(&view, "g7", "answers", "Wood")]]}, at],
    ]);

    // Act
    let (status, result) = site.submit(LEA, &attempt, answers).await;

    // Assert
    assert_eq!(status, 200, "{result}");
    assert!(close(&result["score"], 7.0), "{result}");
    assert!(close(&result["max_score"], 10.0));
    assert!(close(&result["percent"], 70.0));
    assert_eq!(result["passed"], true, "70 % passes a pass mark of 70");
    assert_eq!(result["rejected"], json!([]));
    let shown: Vec<String> = presentation(&view).into_iter().map(|(q, _)| q).collect();
    let graded: Vec<String> = result["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| str_of(&q["question_id"]))
        .collect();
    assert_eq!(graded, shown, "results follow the attempt's order");
    let by_id = |qid: &str| {
        result["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["question_id"] == qid)
            .unwrap()
            .clone()
    };
    let expect = [
        ("g1", 1.0, "correct", json!(["Carbon dioxide"])),
        ("g2", 1.0, "partial", json!(["Door", "Window"])),
        ("g3", 0.0, "incorrect", json!(["False"])),
        ("g4", 1.0, "correct", json!(["9.81 (± 0.05)"])),
        ("g5", 1.0, "correct", json!(["Car Park"])),
        (
            "g6",
            1.0,
            "correct",
            json!(["1. Raise the alarm", "2. Leave", "3. Gather"]),
        ),
        (
            "g7",
            2.0,
            "partial",
            json!(["Class A → Wood", "Class B → Petrol", "Class C → Gas"]),
        ),
    ];
    for (qid, score, correctness, correct_answer) in expect {
        let q = by_id(qid);
        assert!(close(&q["score"], score), "{qid}: {q}");
        assert_eq!(q["correct"], correctness, "{qid}: {q}");
        assert_eq!(q["correct_answer"], correct_answer, "{qid}: {q}");
        assert_eq!(q["answered"], true);
    }
    assert!(str_of(&by_id("g3")["feedback_html"]).contains("<strong>rises</strong>"));
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
    let attempt = str_of(&view["attempt_id"]);
    let at = now_ms();
    let answers = json!([["t1", r_bool(true), at], ["t2", r_bool(false), at]]);

    // Act: three at once (a retrying client), then once more.
    let (a, b, c) = tokio::join!(
        site.submit(LEA, &attempt, answers.clone()),
        site.submit(LEA, &attempt, answers.clone()),
        site.submit(LEA, &attempt, answers.clone()),
    );
    let d = site.submit(LEA, &attempt, answers.clone()).await;

    // Assert
    for (status, body) in [&a, &b, &c, &d] {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(a.1, b.1);
    assert_eq!(a.1, c.1);
    assert_eq!(a.1, d.1);
    assert!(close(&a.1["percent"], 50.0));
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NOT NULL AND score = 1")
            .await,
        1
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
    // A submitted attempt takes no more answers, and the database refuses
    // to change its score even when asked directly.
    let (status, body) = site.save(LEA, &attempt, "t2", r_bool(true), now_ms()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Conflict"], "This attempt has already been submitted.");
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
    let (_, history) = site.history(LEA, &id).await;
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["state"], "Submitted");
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
    let form = [
        ("course_id", id.as_str()),
        ("module_id", "m1"),
        ("client_token", token.as_str()),
    ];

    // Act: the same start three times at once, then again.
    let (a, b, c) = tokio::join!(
        site.form(&with_page_version, "learning/start-attempt", &form),
        site.form(&with_page_version, "learning/start-attempt", &form),
        site.form(&with_page_version, "learning/start-attempt", &form),
    );
    let d = site.start(LEA, &id, "m1", &token).await;

    // Assert
    for (status, body) in [&a, &b, &c, &d] {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["attempt_id"], a.1["attempt_id"]);
    }
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    assert_eq!(a.1["number"], 1);
    assert_eq!(a.1["course_version"], 1);
    assert_eq!(
        a.1["page_version"], 7,
        "pinned to the page version of the context"
    );
    assert_eq!(a.1["state"], "InProgress");
    assert_eq!(a.1["deadline_ms"], Value::Null);
    // Once submitted, the same token still names that attempt (not a new one).
    let attempt = str_of(&a.1["attempt_id"]);
    assert_eq!(site.submit(LEA, &attempt, json!([])).await.0, 200);
    let (status, again) = site.start(LEA, &id, "m1", &token).await;
    assert_eq!(status, 200);
    assert_eq!(again["attempt_id"], a.1["attempt_id"]);
    assert_eq!(again["state"], "Submitted");
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    // Another learner's identical token is theirs alone.
    let (status, leo) = site.start(LEO, &id, "m1", &token).await;
    assert_eq!(status, 200);
    assert_ne!(leo["attempt_id"], a.1["attempt_id"]);
    assert_eq!(
        leo["page_version"],
        Value::Null,
        "no page version in this context"
    );
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
    let attempt = str_of(&first["attempt_id"]);
    let choice = pick(&first, "s3", "options", "A3");
    let (status, saved) = site
        .save(
            LEA,
            &attempt,
            "s3",
            r_choice(std::slice::from_ref(&choice)),
            now_ms(),
        )
        .await;
    assert_eq!(status, 200, "{saved}");

    // Act: a reload makes a new token; the open attempt comes back anyway.
    let second = site.start_ok(LEA, &id).await;
    let (_, course_view) = site.course(LEA, &id).await;

    // Assert
    assert_eq!(second["attempt_id"], first["attempt_id"]);
    assert_eq!(
        presentation(&second),
        presentation(&first),
        "stable shuffle"
    );
    assert_eq!(
        second["answers"],
        json!({"s3": {"type": "choice", "value": [choice]}})
    );
    assert_eq!(second["deadline_ms"], first["deadline_ms"]);
    assert_eq!(second["started_at_ms"], first["started_at_ms"]);
    let deadline = first["deadline_ms"].as_i64().unwrap();
    let started = first["started_at_ms"].as_i64().unwrap();
    assert_eq!(deadline - started, 600_000);
    assert!((second["server_now_ms"].as_i64().unwrap() - now_ms()).abs() < 5_000);
    assert_eq!(second["grace_ms"], GRACE);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 1);
    assert_eq!(
        course_view["resume"],
        json!({"Attempt": {"module_id": "m1", "attempt_id": attempt}})
    );
    assert_eq!(
        course_view["modules"][0]["quiz"]["open_attempt_id"],
        json!(attempt)
    );
    assert_eq!(course_view["modules"][0]["quiz"]["attempts_used"], 1);
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
async fn learning_the_attempt_limit_is_enforced_with_409() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(1, json!({"attempt_limit": 2})))
        .await;
    for _ in 0..2 {
        let view = site.start_ok(LEA, &id).await;
        let attempt = str_of(&view["attempt_id"]);
        let (status, r) = site
            .submit(LEA, &attempt, json!([["t1", r_bool(false), now_ms()]]))
            .await;
        assert_eq!(status, 200, "{r}");
    }

    // Act
    let (status, body) = site
        .start(LEA, &id, "m1", &uuid::Uuid::new_v4().to_string())
        .await;

    // Assert
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Conflict"], "You have used all 2 attempts.");
    assert_eq!(site.count("SELECT COUNT(*) FROM attempts").await, 2);
    let (_, history) = site.history(LEA, &id).await;
    let numbers: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2, 1], "newest first");
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["state"] == "Submitted" && close(&h["percent"], 0.0) && h["passed"] == false));
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(c["modules"][0]["quiz"]["attempts_used"], 2);
    assert!(close(&c["modules"][0]["quiz"]["best_percent"], 0.0));
    // Another learner has their own attempts.
    assert_eq!(
        site.start(LEO, &id, "m1", &uuid::Uuid::new_v4().to_string())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn learning_time_limit_with_grace_counts_answers_given_in_time() {
    // Arrange: a 60 s limit. Lea's attempt ended 10 minutes ago (her
    // answers arrive late); Leo's ended 5 s ago (still within the grace).
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(4, json!({"time_limit_secs": 60})))
        .await;
    let lea = site.start_ok(LEA, &id).await;
    let lea_attempt = str_of(&lea["attempt_id"]);
    site.age_attempt(&lea_attempt, 60_000 + 600_000).await;
    let lea_deadline = lea["deadline_ms"].as_i64().unwrap() - 660_000;
    let leo = site.start_ok(LEO, &id).await;
    let leo_attempt = str_of(&leo["attempt_id"]);
    site.age_attempt(&leo_attempt, 65_000).await;
    let leo_deadline = leo["deadline_ms"].as_i64().unwrap() - 65_000;

    // Act
    let journalled_in_time = site
        .save(LEA, &lea_attempt, "t1", r_bool(true), lea_deadline - 1_000)
        .await;
    let after_grace = site
        .save(
            LEA,
            &lea_attempt,
            "t2",
            r_bool(true),
            lea_deadline + GRACE + 1_000,
        )
        .await;
    let in_grace_but_late = site
        .save(LEA, &lea_attempt, "t3", r_bool(true), lea_deadline + 5_000)
        .await;
    let before_start = site
        .save(
            LEA,
            &lea_attempt,
            "t4",
            r_bool(true),
            lea_deadline - 60_000 - 6_000,
        )
        .await;
    let leo_in_grace = site
        .save(LEO, &leo_attempt, "t1", r_bool(true), leo_deadline + 3_000)
        .await;
    let resumed = site.start_ok(LEA, &id).await;

    // Assert
    assert_eq!(journalled_in_time.0, 200, "{}", journalled_in_time.1);
    assert_eq!(journalled_in_time.1["applied"], true);
    assert_eq!(journalled_in_time.1["answered_at_ms"], lea_deadline - 1_000);
    assert_eq!(after_grace.0, 409, "{}", after_grace.1);
    assert!(str_of(&after_grace.1["Conflict"]).contains("Time ran out"));
    assert_eq!(
        in_grace_but_late.0, 409,
        "received late: only answers given in time"
    );
    assert_eq!(before_start.0, 400, "{}", before_start.1);
    assert_eq!(leo_in_grace.0, 200, "{}", leo_in_grace.1);
    assert_ne!(
        resumed["attempt_id"], lea["attempt_id"],
        "a timed-out attempt is not resumed"
    );
    let (_, history) = site.history(LEA, &id).await;
    assert_eq!(history[1]["state"], "TimeUp");
    assert_eq!(history[0]["state"], "InProgress");
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempt_answers").await,
        2,
        "Lea's in-time answer and Leo's"
    );
}

#[tokio::test]
async fn learning_submit_after_the_deadline_counts_the_journalled_in_time_answers() {
    // Arrange: t1 saved online; then the network went down, the time ran
    // out, and the journal (t2 in time, t3 too late) arrives an hour later.
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(
            4,
            json!({"time_limit_secs": 60, "pass_mark_percent": 50}),
        ))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let (status, _) = site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    assert_eq!(status, 200);
    site.age_attempt(&attempt, 60_000 + 3_600_000).await;
    let deadline = view["deadline_ms"].as_i64().unwrap() - 3_660_000;
    let journal = json!([
        ["t1", r_bool(true), deadline - 50_000],
        ["t2", r_bool(true), deadline - 2_000],
        ["t3", r_bool(true), deadline + GRACE + 5_000],
        ["zz", r_bool(true), deadline - 1_000],
    ]);

    // Act
    let (status, result) = site.submit(LEA, &attempt, journal.clone()).await;
    let (again_status, again) = site.submit(LEA, &attempt, journal).await;

    // Assert
    assert_eq!(status, 200, "{result}");
    assert!(close(&result["score"], 2.0), "t1 and t2 count: {result}");
    assert_eq!(result["passed"], true);
    let rejected: Vec<String> = result["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| str_of(&r["question_id"]))
        .collect();
    assert_eq!(rejected, vec!["t3", "zz"]);
    assert!(str_of(&result["rejected"][0]["reason"]).contains("Time ran out"));
    assert_eq!(again_status, 200);
    assert!(close(&again["score"], 2.0));
    assert_eq!(again["submitted_at_ms"], result["submitted_at_ms"]);
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
}

#[tokio::test]
async fn learning_an_attempt_left_open_past_the_offline_window_is_graded_on_the_next_visit() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"time_limit_secs": 60})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let (status, _) = site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    assert_eq!(status, 200);
    site.age_attempt(&attempt, 25 * 3_600_000).await;
    let deadline = view["deadline_ms"].as_i64().unwrap() - 25 * 3_600_000;

    // Act
    let (late_status, late) = site
        .save(LEA, &attempt, "t2", r_bool(true), deadline - 1_000)
        .await;
    let (_, history) = site.history(LEA, &id).await;

    // Assert
    assert_eq!(late_status, 409, "{late}");
    assert!(str_of(&late["Conflict"]).contains("24 hours"));
    assert_eq!(history[0]["state"], "Submitted", "{history}");
    assert!(close(&history[0]["score"], 1.0));
    assert!(close(&history[0]["max_score"], 2.0));
}

#[tokio::test]
async fn learning_later_answers_win_and_stale_journal_entries_do_not_overwrite_them() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let t = now_ms();

    // Act
    let newer = site.save(LEA, &attempt, "t1", r_bool(true), t).await;
    let stale = site
        .save(LEA, &attempt, "t1", r_bool(false), t - 1_000)
        .await;
    let unknown = site.save(LEA, &attempt, "nope", r_bool(false), t).await;
    let (_, result) = site
        .submit(LEA, &attempt, json!([["t1", r_bool(false), t - 2_000]]))
        .await;

    // Assert
    assert_eq!(newer.0, 200);
    assert_eq!(newer.1["applied"], true);
    assert_eq!(stale.0, 200, "{}", stale.1);
    assert_eq!(stale.1["applied"], false);
    assert_eq!(stale.1["answered_at_ms"], t);
    assert_eq!(unknown.0, 400);
    assert!(close(&result["score"], 1.0), "{result}");
    assert_eq!(
        result["rejected"],
        json!([]),
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
    let attempt = str_of(&view["attempt_id"]);

    // Act
    let first = site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    let retry = site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    let changed = site
        .save(LEA, &attempt, "t1", r_bool(false), now_ms())
        .await;
    let reloaded = site.start_ok(LEA, &immediate).await;
    let (_, result) = site
        .submit(LEA, &attempt, json!([["t1", r_bool(false), now_ms()]]))
        .await;
    let never_view = site.start_ok(LEA, &never).await;
    let (_, never_result) = site
        .submit(
            LEA,
            never_view["attempt_id"].as_str().unwrap(),
            json!([["t1", r_bool(true), now_ms()]]),
        )
        .await;

    // Assert
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first.1["grade"]["correct"], "correct");
    assert!(str_of(&first.1["grade"]["feedback_html"]).contains("<strong>indeed</strong>"));
    assert_eq!(retry.0, 200, "re-sending the same answer is fine");
    assert_eq!(
        changed.0, 409,
        "the first answer counts once its feedback was shown"
    );
    assert_eq!(reloaded["feedback"]["t1"]["correct"], "correct");
    assert_eq!(reloaded["feedback_mode"], "immediate");
    assert!(close(&result["score"], 1.0));
    assert_eq!(result["rejected"][0]["question_id"], "t1");
    assert_eq!(result["questions"].as_array().unwrap().len(), 2);
    assert!(close(&never_result["score"], 1.0));
    assert_eq!(
        never_result["questions"],
        json!([]),
        "never: the score only"
    );
    assert_eq!(never_result["feedback_mode"], "never");
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
    assert_eq!(site.certificate(LEA, &id).await.0, 404);
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let (_, result) = site
        .submit(LEA, &attempt, json!([["t1", r_bool(true), now_ms()]]))
        .await;
    assert_eq!(result["passed"], true);
    assert_eq!(result["course_complete"], false, "lessons not opened yet");
    assert_eq!(site.certificate(LEA, &id).await.0, 404);
    site.open_lesson(LEA, &id, 1, "l1").await;
    assert_eq!(site.certificate(LEA, &id).await.0, 404);
    let (_, progress) = site.open_lesson(LEA, &id, 1, "l2").await;
    assert_eq!(progress["complete"], true);
    assert_eq!(progress["percent"], 100);

    let (status, cert) = site.certificate(LEA, &id).await;
    assert_eq!(status, 200, "{cert}");
    assert_eq!(cert["learner_name"], "Lea Learner");
    assert_eq!(cert["name_from_confluence"], true);
    assert_eq!(cert["learner_account_id"], LEA);
    assert_eq!(cert["course_title"], "Fire safety");
    assert_eq!(cert["version"], 1);
    let completed = cert["completed_at_ms"].as_i64().unwrap();
    assert!((completed - now_ms()).abs() < 10_000);
    assert_eq!(
        cert["expires_at_ms"].as_i64().unwrap(),
        completed + 30 * 86_400_000
    );
    assert_eq!(cert["expired"], false);
    assert!(str_of(&cert["certificate_id"]).starts_with("SC-"));
    let (_, again) = site.certificate(LEA, &id).await;
    assert_eq!(again, cert, "the same certificate every time");
    assert_eq!(site.count("SELECT COUNT(*) FROM completions").await, 1);
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(c["completed_at_ms"], completed);
    assert_eq!(c["resume"], Value::Null);
    // Leo has done nothing: no certificate.
    assert_eq!(site.certificate(LEO, &id).await.0, 404);
    // Passing when every lesson is already open completes on submit.
    site.open_all(LEO, &id, 1).await;
    let leo = site.start_ok(LEO, &id).await;
    let (_, leo_result) = site
        .submit(
            LEO,
            leo["attempt_id"].as_str().unwrap(),
            json!([["t1", r_bool(true), now_ms()]]),
        )
        .await;
    assert_eq!(leo_result["course_complete"], true);
    assert_eq!(site.count("SELECT COUNT(*) FROM completions").await, 2);
}

#[tokio::test]
async fn learning_certificate_names_the_account_when_confluence_cannot() {
    // Arrange: this fake Confluence has no user directory (404).
    let site = Site::new().await;
    let id = site.publish(&true_false_course(1, json!({}))).await;
    site.open_all(LEA, &id, 1).await;
    let view = site.start_ok(LEA, &id).await;
    site.submit(
        LEA,
        view["attempt_id"].as_str().unwrap(),
        json!([["t1", r_bool(true), now_ms()]]),
    )
    .await;

    // Act
    let (status, cert) = site.certificate(LEA, &id).await;

    // Assert
    assert_eq!(status, 200, "{cert}");
    assert_eq!(cert["learner_name"], LEA);
    assert_eq!(cert["name_from_confluence"], false);
    assert_eq!(cert["expires_at_ms"], Value::Null);
    assert_eq!(cert["expired"], false);
}

#[tokio::test]
async fn learning_recertification_is_due_after_a_material_publish() {
    // Arrange: Lea completes version 1.
    let site = Site::new().await;
    let content = true_false_course(1, json!({"attempt_limit": 1}));
    let id = site.publish(&content).await;
    site.open_all(LEA, &id, 1).await;
    let view = site.start_ok(LEA, &id).await;
    let (_, r) = site
        .submit(
            LEA,
            view["attempt_id"].as_str().unwrap(),
            json!([["t1", r_bool(true), now_ms()]]),
        )
        .await;
    assert_eq!(r["course_complete"], true);

    // Act + Assert: a non-material change keeps the completion.
    let mut v2 = content.clone();
    v2["title"] = json!("Fire safety (typo fixed)");
    assert_eq!(site.republish(&id, &v2, false).await, 2);
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(c["version"], 2);
    assert_eq!(c["recertification_due"], false);
    assert_eq!(c["progress"]["complete"], true);
    assert_eq!(site.certificate(LEA, &id).await.1["version"], 1);

    // A material change asks for re-certification, with fresh attempts.
    let mut v3 = v2.clone();
    v3["modules"][0]["quiz"]["questions"][0]["kind"]["answer"] = json!(false);
    assert_eq!(site.republish(&id, &v3, true).await, 3);
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(c["recertification_due"], true, "{c}");
    assert_eq!(c["progress"]["complete"], false);
    assert_eq!(c["progress"]["passed_quizzes"], json!([]));
    assert_eq!(
        c["progress"]["opened_lessons"],
        json!(["l1", "l2"]),
        "reading is not undone"
    );
    assert_eq!(c["completed_at_ms"], Value::Null);
    assert_eq!(c["modules"][0]["quiz"]["attempts_used"], 0);
    assert_eq!(c["resume"], json!({"Quiz": {"module_id": "m1"}}));
    assert_eq!(site.certificate(LEA, &id).await.0, 404);
    // Leo never passed: nothing is due for him.
    assert_eq!(site.course(LEO, &id).await.1["recertification_due"], false);

    let view = site.start_ok(LEA, &id).await;
    assert_eq!(view["course_version"], 3);
    assert_eq!(view["number"], 1);
    let (_, r) = site
        .submit(
            LEA,
            view["attempt_id"].as_str().unwrap(),
            json!([["t1", r_bool(false), now_ms()]]),
        )
        .await;
    assert_eq!(r["passed"], true);
    assert_eq!(r["course_complete"], true);
    let (_, c) = site.course(LEA, &id).await;
    assert_eq!(c["recertification_due"], false);
    let (_, cert) = site.certificate(LEA, &id).await;
    assert_eq!(cert["version"], 3);
    let (_, history) = site.history(LEA, &id).await;
    assert_eq!(history[0]["current_cycle"], true);
    assert_eq!(history[1]["current_cycle"], false);
}

#[tokio::test]
async fn learning_another_learner_cannot_save_to_or_submit_my_attempt() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;

    // Act
    let save = site
        .save(LEO, &attempt, "t2", r_bool(false), now_ms())
        .await;
    let submit = site
        .submit(LEO, &attempt, json!([["t1", r_bool(false), now_ms()]]))
        .await;
    let ned = site
        .save(NED, &attempt, "t2", r_bool(false), now_ms())
        .await;

    // Assert
    assert_eq!(save.0, 404, "{}", save.1);
    assert_eq!(submit.0, 404, "{}", submit.1);
    assert_eq!(ned.0, 403, "no view permission on the page");
    assert!(!save.1.to_string().contains(LEA));
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 1);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM attempts WHERE submitted_at_ms IS NULL")
            .await,
        1
    );
    let (_, mine) = site.history(LEA, &id).await;
    let (_, theirs) = site.history(LEO, &id).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(theirs, json!([]));
}

#[tokio::test]
async fn learning_another_site_cannot_reach_my_course_or_my_attempts() {
    // Arrange: site A's learner has an attempt; site B's learner may view
    // the page with the same id on site B.
    let site = Site::new().await;
    site.app.install_on(&site.fake, SITE_B, SECRET_B).await;
    site.fake.allow_read_only(BOB_ON_B, PAGE);
    let bob = context_token(SITE_B, SECRET_B, BOB_ON_B, PAGE);
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    let token = uuid::Uuid::new_v4().to_string();

    // Act
    let answers = vec![
        site.form(&bob, "learning/course", &[("course_id", &id)])
            .await,
        site.form(
            &bob,
            "learning/open-lesson",
            &[("course_id", &id), ("version", "1"), ("lesson_id", "l1")],
        )
        .await,
        site.form(
            &bob,
            "learning/start-attempt",
            &[
                ("course_id", &id),
                ("module_id", "m1"),
                ("client_token", &token),
            ],
        )
        .await,
        site.json(
            &bob,
            "learning/save-answer",
            &json!({"attempt_id": attempt, "question_id": "t2",
                    "response": r_bool(false), "answered_at_ms": now_ms()}),
        )
        .await,
        site.json(
            &bob,
            "learning/submit",
            &json!({"attempt_id": attempt, "answers": []}),
        )
        .await,
        site.form(
            &bob,
            "learning/history",
            &[("course_id", &id), ("module_id", "m1")],
        )
        .await,
        site.form(&bob, "learning/certificate", &[("course_id", &id)])
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
    let start = [
        ("course_id", id.as_str()),
        ("module_id", "m1"),
        ("client_token", token.as_str()),
    ];

    // Act
    let (mal_course, mal_body) = site
        .form(&mal, "learning/course", &[("course_id", &id)])
        .await;
    let (mal_start, _) = site.form(&mal, "learning/start-attempt", &start).await;
    let (lea_course, lea_body) = site
        .form(&lea_elsewhere, "learning/course", &[("course_id", &id)])
        .await;

    // Assert
    assert_eq!(mal_course, 403, "{mal_body}");
    assert_eq!(mal_start, 403);
    assert!(!mal_body.to_string().contains("Fire"));
    assert_eq!(lea_course, 200, "{lea_body}");
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
    site.open_lesson(LEO, &id, 1, "l1").await;
    let leo = site.start_ok(LEO, &id).await;
    let (_, failed) = site
        .submit(
            LEO,
            leo["attempt_id"].as_str().unwrap(),
            json!([["t1", r_bool(false), now_ms()]]),
        )
        .await;
    assert_eq!(failed["passed"], false);
    let (_, cert) = site.certificate(LEA, &id).await;

    // Act
    let (status, report) = site.report(SAM, &id).await;

    // Assert
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["title"], "Fire safety");
    assert_eq!(report["version"], 1);
    assert_eq!(report["lessons_total"], 2);
    assert_eq!(report["quizzes_total"], 1);
    assert_eq!(
        report["totals"],
        json!({"learners": 2, "completed": 1, "in_progress": 1,
               "recertification_due": 0, "expired": 0})
    );
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    // Sorted by name: "557058:leo…" (no name from Confluence) before "Lea Learner".
    assert_eq!(rows[0]["account_id"], LEO);
    assert_eq!(rows[0]["name"], Value::Null);
    assert_eq!(rows[0]["state"], "InProgress");
    assert_eq!(rows[0]["lessons_opened"], 1);
    assert_eq!(rows[0]["quizzes_passed"], 0);
    assert_eq!(rows[0]["attempts"], 1);
    assert!(close(&rows[0]["best_percent"], 0.0), "{report}");
    assert_eq!(rows[0]["progress_percent"], 33);
    assert_eq!(rows[0]["completed_at_ms"], Value::Null);
    assert_eq!(rows[1]["account_id"], LEA);
    assert_eq!(rows[1]["name"], "Lea Learner");
    assert_eq!(rows[1]["state"], "Completed");
    assert_eq!(rows[1]["progress_percent"], 100);
    assert!(close(&rows[1]["best_percent"], 100.0));
    // The same data as the learner's certificate.
    assert_eq!(rows[1]["completed_at_ms"], cert["completed_at_ms"]);
    assert_eq!(rows[1]["completed_version"], cert["version"]);
    assert_eq!(rows[1]["expires_at_ms"], cert["expires_at_ms"]);
    let last = rows[1]["last_activity_ms"].as_i64().unwrap();
    assert!((now_ms() - last).abs() < 60_000, "{report}");

    // Names are remembered: a second report asks Confluence nothing new
    // for Lea (Leo, unknown, is asked again).
    let before = site.fake.user_lookups();
    site.report(SAM, &id).await;
    assert_eq!(site.fake.user_lookups() - before, 1);
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

    // Act
    let (learner, learner_body) = site.report(LEA, &id).await;
    let (author, _) = site.report(AUTHOR, &id).await;
    let (other_space, other_body) = site
        .form(
            &in_other_space,
            "space-admin/course-report",
            &[("course_id", &id)],
        )
        .await;
    let (bad_id, bad_body) = site.report(SAM, "../etc").await;
    let (unknown, _) = site
        .report(SAM, "00000000-0000-4000-8000-000000000000")
        .await;
    let (csv_learner, _) = site
        .form(
            &site.token(LEA),
            "space-admin/course-report-csv",
            &[("course_id", &id)],
        )
        .await;

    // Assert
    assert_eq!(learner, 403, "{learner_body}");
    assert_eq!(author, 403, "editing a page does not make a space admin");
    assert_eq!(other_space, 404, "a course of another space: {other_body}");
    assert_eq!(bad_id, 400, "{bad_body}");
    assert_eq!(unknown, 404);
    assert_eq!(csv_learner, 403);
    assert!(
        !learner_body.to_string().contains(LEA),
        "nothing about learners leaks in the refusal"
    );
}

#[tokio::test]
async fn report_marks_recertification_due_and_expired_certificates() {
    // Arrange: Lea and Leo complete version 1 (valid 10 days).
    let site = Site::new().await;
    let content = true_false_course(1, json!({"certificate_validity_days": 10}));
    let id = site.publish(&content).await;
    site.complete(LEA, &id, 1).await;
    site.complete(LEO, &id, 1).await;
    // Leo's completion was eleven days ago.
    let mut conn = site.app.db_connection().await;
    sqlx::query(
        "UPDATE completions SET completed_at = completed_at - 950400 \
         WHERE client_key = $1 AND account_id = $2",
    )
    .bind(SITE)
    .bind(LEO)
    .execute(&mut conn)
    .await
    .unwrap();

    // Act + Assert: Leo's certificate has expired.
    let leo = site.report_row(&id, LEO).await;
    assert_eq!(leo["state"], "Expired", "{leo}");
    assert!(leo["expires_at_ms"].as_i64().unwrap() < now_ms());
    assert_eq!(site.report_row(&id, LEA).await["state"], "Completed");

    // A material change: both are due for re-certification.
    let mut v2 = content.clone();
    v2["modules"][0]["quiz"]["questions"][0]["kind"]["answer"] = json!(false);
    assert_eq!(site.republish(&id, &v2, true).await, 2);
    let (_, report) = site.report(SAM, &id).await;
    assert_eq!(report["cycle_start"], 2);
    assert_eq!(report["totals"]["recertification_due"], 2, "{report}");
    let lea = site.report_row(&id, LEA).await;
    assert_eq!(lea["state"], "RecertificationDue");
    assert_eq!(lea["attempts"], 0, "attempts count per cycle");
    assert_eq!(lea["completed_at_ms"], Value::Null);
    assert_eq!(lea["lessons_opened"], 2, "reading is not undone");
}

#[tokio::test]
async fn report_grades_attempts_abandoned_past_the_offline_window() {
    // Arrange: Lea answered one of two questions, then never came back.
    let site = Site::new().await;
    let id = site
        .publish(&true_false_course(2, json!({"time_limit_secs": 60})))
        .await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let (status, _) = site.save(LEA, &attempt, "t1", r_bool(true), now_ms()).await;
    assert_eq!(status, 200);
    site.age_attempt(&attempt, 25 * 3_600_000).await;

    // Act
    let row = site.report_row(&id, LEA).await;

    // Assert
    assert_eq!(row["attempts"], 1);
    assert!(close(&row["best_percent"], 50.0), "{row}");
    assert_eq!(row["state"], "InProgress");
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
    site.open_lesson(LEO, &id, 1, "l1").await;

    // Act
    let resp = site
        .app
        .call_fn(
            "space-admin/course-report-csv",
            Some(&site.token(SAM)),
            &[("course_id", &id)],
        )
        .await;

    // Assert
    assert_eq!(resp.status().as_u16(), 200);
    let csv: String = resp.json().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("Learner,Account ID,Status,Progress %"),
        "{csv}"
    );
    let lea = lines.iter().find(|l| l.contains(LEA)).unwrap();
    assert!(
        lea.starts_with("'=cmd|' /C calc'!A0,"),
        "a formula-like name is defused: {lea}"
    );
    assert!(lea.contains(",Completed,100,2,2,1,1,1,100.0,"), "{lea}");
    let leo = lines.iter().find(|l| l.contains(LEO)).unwrap();
    assert!(leo.contains(",In progress,33,1,2,0,1,0,,"), "{leo}");
}

#[tokio::test]
async fn learning_a_journal_that_answers_one_question_twice_counts_the_later_answer() {
    // Arrange: the journal holds two answers to t1 (the later one right) and
    // one to t2; the server already has a stale answer to t2.
    let site = Site::new().await;
    let id = site.publish(&true_false_course(2, json!({}))).await;
    let view = site.start_ok(LEA, &id).await;
    let attempt = str_of(&view["attempt_id"]);
    let t = now_ms();
    let (status, _) = site
        .save(LEA, &attempt, "t2", r_bool(false), t - 5_000)
        .await;
    assert_eq!(status, 200);

    // Act
    let (status, result) = site
        .submit(
            LEA,
            &attempt,
            json!([
                ["t1", r_bool(true), t - 1_000],
                ["t1", r_bool(false), t - 3_000],
                ["t2", r_bool(true), t - 2_000]
            ]),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{result}");
    assert!(close(&result["score"], 2.0), "{result}");
    assert_eq!(
        result["rejected"],
        json!([]),
        "an older journal entry for the same question is superseded, not refused"
    );
    assert_eq!(site.count("SELECT COUNT(*) FROM attempt_answers").await, 2);
}
