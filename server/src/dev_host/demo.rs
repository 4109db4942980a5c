//! The simulator's **demo**: a first run shows a real course. Once the app
//! accepted the simulated site's install, the simulator puts a course on
//! its page and lets its simulated people use it, all through the app's
//! real API with context JWTs it signs (as `AP.context.getToken()` would):
//!
//! - Ada Author saves the draft and publishes it (`authoring/save-draft`,
//!   `authoring/publish`: the content is validated like any author's);
//!   the page's macro then holds the course;
//! - Sam Spaceadmin enrols Leo, Rita and Mia due in three weeks, and Omar
//!   due two days ago (`space-admin/enrol`);
//! - Leo Learner opens two lessons and fails a quiz attempt; Rita Reader
//!   opens every lesson and passes (a completion, with a certificate that
//!   expires).
//!
//! Idempotent: after a restart the demo course is found again in the
//! database ([`store::Db::demo_course`]: the oldest published course with
//! the demo's title on the page) and only put back into the macro.
//! *Reset demo* ([`reset`]) deletes the simulated site's course data and
//! seeds again. Nothing of this is in a release build (cargo feature
//! `dev-host`, which also turns on the store's `demo` feature).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use reqwest::header::AUTHORIZATION;
use serde_json::{json, Map, Value};

use app::course::learner::{answer_token, item_token, option_token, prompt_token};

use super::sim::{Sim, CLIENT_KEY, PAGE_ID};

/// The demo course's title (how it is found again after a restart).
pub(super) const TITLE: &str = "Welcome to Acme";

const ADA: &str = "557058:ada-author-0001";
const LEO: &str = "557058:leo-learner-0002";
const SAM: &str = "557058:sam-spaceadmin-0003";
const RITA: &str = "557058:rita-reader-0004";
const MIA: &str = "557058:mia-newstarter-0101";
const OMAR: &str = "557058:omar-newstarter-0102";

/// Where the demo stands, for `/sim/state` and the host page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum DemoState {
    /// Not seeded yet (the app may still be starting).
    #[default]
    Pending,
    /// The demo course is on the page.
    Ready { course: String },
    /// Seeding failed; the message says why (also logged).
    Failed(String),
}

impl DemoState {
    pub(super) fn to_json(&self) -> Value {
        match self {
            DemoState::Pending => json!({"state": "pending"}),
            DemoState::Ready { course } => json!({"state": "ready", "course": course}),
            DemoState::Failed(e) => json!({"state": "failed", "error": e}),
        }
    }
}

/// After the install: finds the demo course or seeds it, and puts it into
/// the page's macro.
pub(super) async fn ensure(sim: &Sim) {
    let _one_at_a_time = sim.demo_lock.lock().await;
    let found = sim.db.demo_course(CLIENT_KEY, PAGE_ID, TITLE).await;
    let outcome = match found {
        Ok(Some(course)) => Ok(course),
        Ok(None) => seed(sim).await,
        Err(e) => Err(anyhow::Error::new(e).context("could not look for the demo course")),
    };
    settle(sim, outcome);
}

/// *Reset demo*: deletes every course of the simulated site (with their
/// versions, enrolments, attempts and audit log) and seeds the demo again.
pub(super) async fn reset(sim: &Sim) -> DemoState {
    let _one_at_a_time = sim.demo_lock.lock().await;
    let outcome = async {
        let deleted = sim
            .db
            .delete_course_data(CLIENT_KEY)
            .await
            .context("could not delete the simulated site's courses")?;
        tracing::info!(rows = deleted, "simulator: demo reset, course data deleted");
        seed(sim).await
    }
    .await;
    settle(sim, outcome);
    sim.demo.lock().expect("lock").clone()
}

fn settle(sim: &Sim, outcome: anyhow::Result<String>) {
    let state = match outcome {
        Ok(course) => {
            let mut params = Map::new();
            params.insert("course".into(), json!(course));
            *sim.macro_params.lock().expect("lock") = params;
            tracing::info!(%course, "simulator: the demo course is on the page");
            DemoState::Ready { course }
        }
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "simulator: could not seed the demo"
            );
            DemoState::Failed(format!("{e:#}"))
        }
    };
    *sim.demo.lock().expect("lock") = state;
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A server function's arguments: form-encoded (the default) or JSON.
enum Args {
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

/// Calls `POST /api/{name}` as `user`; the JSON reply.
async fn call(
    sim: &Sim,
    http: &reqwest::Client,
    user: &str,
    name: &str,
    args: Args,
) -> anyhow::Result<Value> {
    let token = sim.context_jwt(user)?;
    let request = http
        .post(format!("{}/api/{name}", sim.app_base))
        .header(AUTHORIZATION, format!("JWT {token}"));
    let request = match args {
        Args::Form(form) => request.form(&form),
        Args::Json(body) => request.json(&body),
    };
    let response = request
        .send()
        .await
        .with_context(|| format!("{name}: no answer"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{name}: {status} {text}");
    serde_json::from_str(&text).with_context(|| format!("{name}: not JSON: {text}"))
}

/// Publishes the demo course and has the simulated people use it; the
/// course id.
async fn seed(sim: &Sim) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;
    let content = content();

    // The author writes and publishes it: validated like any course.
    let saved = call(
        sim,
        &http,
        ADA,
        "authoring/save-draft",
        Args::Json(json!({"course_id": null, "revision": 0, "content": content})),
    )
    .await?;
    let course = saved["course_id"]
        .as_str()
        .context("save-draft: no course id")?
        .to_owned();
    let revision = saved["revision"]
        .as_i64()
        .context("save-draft: no revision")?;
    let published = call(
        sim,
        &http,
        ADA,
        "authoring/publish",
        Args::Form(vec![
            ("course_id", course.clone()),
            ("revision", revision.to_string()),
            ("material", "false".into()),
        ]),
    )
    .await?;
    let version = published["version"]
        .as_i64()
        .context("publish: no version")?;

    // The space admin enrols new starters: three due in three weeks, one
    // overdue.
    let enrol = |accounts: Vec<&str>, due_at_ms: i64| {
        Args::Json(json!({"course_id": course, "account_ids": accounts, "due_at_ms": due_at_ms}))
    };
    call(
        sim,
        &http,
        SAM,
        "space-admin/enrol",
        enrol(vec![LEO, RITA, MIA], now_ms() + 21 * DAY_MS),
    )
    .await?;
    call(
        sim,
        &http,
        SAM,
        "space-admin/enrol",
        enrol(vec![OMAR], now_ms() - 2 * DAY_MS),
    )
    .await?;

    // Leo reads the first module and fails the quiz once; Rita reads
    // everything and passes (the course is complete, with a certificate).
    let learn = |user: &'static str, lessons: &'static [&'static str], pass: bool| {
        let (http, course) = (&http, &course);
        async move {
            for lesson in lessons {
                call(
                    sim,
                    http,
                    user,
                    "learning/open-lesson",
                    Args::Form(vec![
                        ("course_id", course.clone()),
                        ("version", version.to_string()),
                        ("lesson_id", (*lesson).to_owned()),
                    ]),
                )
                .await?;
            }
            let attempt = call(
                sim,
                http,
                user,
                "learning/start-attempt",
                Args::Form(vec![
                    ("course_id", course.clone()),
                    ("module_id", "safely".into()),
                    ("client_token", uuid::Uuid::new_v4().to_string()),
                ]),
            )
            .await?;
            let result = call(
                sim,
                http,
                user,
                "learning/submit",
                Args::Json(json!({
                    "attempt_id": attempt["attempt_id"],
                    "answers": answers(pass, now_ms()),
                    "checkpoint": attempt["checkpoint"],
                })),
            )
            .await?;
            anyhow::ensure!(
                result["passed"] == json!(pass),
                "{user}'s demo attempt did not come out as planned: {result}"
            );
            anyhow::Ok(())
        }
    };
    learn(LEO, &["first-day", "tools"], false).await?;
    learn(
        RITA,
        &["first-day", "tools", "security", "who-to-ask"],
        true,
    )
    .await?;
    Ok(course)
}

/// The demo course: two modules, lessons with headings, a code block, a
/// picture the app serves (`public/media/demo/`) and a table, and one quiz
/// with a question of every kind; certificates expire after a year.
fn content() -> Value {
    json!({
        "title": TITLE,
        "description_md": "Everything a new starter needs in their **first week** at Acme: \
            where things are, the tools we use, and how to work safely.",
        "settings": {
            "pass_mark_percent": 70,
            "attempt_limit": 3,
            "feedback_mode": "after_submit",
            "certificate_validity_days": 365,
            "access": "open"
        },
        "modules": [
            {
                "id": "getting-started",
                "title": "Getting started",
                "lessons": [
                    {
                        "id": "first-day",
                        "title": "Your first day",
                        "body_md": "## Before you arrive\n\nYour laptop is ready at the front desk; \
                            bring a photo ID.\n\n## Your first week\n\n\
                            ![Your first week, day by day](/media/demo/first-week.svg)\n\n\
                            | Day | What happens | With whom |\n|---|---|---|\n\
                            | Monday | Set-up and a tour | Your buddy |\n\
                            | Tuesday | Meet the team | Your manager |\n\
                            | Wednesday | Your first task | Your buddy |\n\
                            | Friday | Retro | The whole team |\n\n\
                            > Tip: write down every question you have; there are no silly ones."
                    },
                    {
                        "id": "tools",
                        "title": "Tools we use",
                        "body_md": "## Source code\n\nEverything lives in one repository. \
                            Get it and run the checks:\n\n\
                            ```sh\ngit clone git@git.acme.example:acme/monorepo.git\n\
                            cd monorepo\n./scripts/check.sh\n```\n\n\
                            ## Chat and documents\n\n- **Chat** for quick questions\n\
                            - **Confluence** for anything worth keeping\n\
                            - *Email* for people outside Acme"
                    }
                ]
            },
            {
                "id": "safely",
                "title": "Working safely",
                "lessons": [
                    {
                        "id": "security",
                        "title": "Security basics",
                        "body_md": "## Passwords\n\nUse the password manager and turn on \
                            two-step verification everywhere.\n\n## Phishing\n\n\
                            1. Check the sender.\n2. Hover before you click.\n\
                            3. Report anything odd to the security team."
                    },
                    {
                        "id": "who-to-ask",
                        "title": "Who to ask",
                        "body_md": "## People\n\n| Question | Ask |\n|---|---|\n\
                            | Laptop, access | IT help desk |\n| Pay, holidays | People team |\n\
                            | Anything else | Your buddy |"
                    }
                ],
                "quiz": {"questions": [
                    {"id": "q-single", "prompt_md": "Where is your laptop on your first day?",
                     "points": 1,
                     "feedback_correct_md": "Right: at the front desk.",
                     "feedback_incorrect_md": "It waits for you at the front desk.",
                     "kind": {"type": "single_choice", "options": [
                        {"id": "a", "text": "At the front desk", "correct": true},
                        {"id": "b", "text": "In the post", "correct": false},
                        {"id": "c", "text": "You bring your own", "correct": false}]}},
                    {"id": "q-multiple", "prompt_md": "Which of these are signs of **phishing**?",
                     "points": 2,
                     "kind": {"type": "multiple_choice", "partial_credit": true, "options": [
                        {"id": "a", "text": "An unexpected sender", "correct": true},
                        {"id": "b", "text": "A link to a look-alike address", "correct": true},
                        {"id": "c", "text": "Your manager's usual signature", "correct": false}]}},
                    {"id": "q-true-false", "prompt_md": "Sharing your password with your buddy is fine.",
                     "points": 1,
                     "kind": {"type": "true_false", "answer": false}},
                    {"id": "q-short-text", "prompt_md": "Which team answers questions about holidays?",
                     "points": 1,
                     "kind": {"type": "short_text", "accepted": [
                        {"text": "People team", "mode": "case_insensitive"},
                        {"text": "people( team)?|HR", "mode": "regex"}]}},
                    {"id": "q-numeric", "prompt_md": "How many steps does the phishing check have?",
                     "points": 1,
                     "kind": {"type": "numeric", "answer": 3, "tolerance": 0}},
                    {"id": "q-ordering", "prompt_md": "Put the phishing check in order.",
                     "points": 1,
                     "kind": {"type": "ordering", "items": [
                        {"id": "i1", "text": "Check the sender"},
                        {"id": "i2", "text": "Hover before you click"},
                        {"id": "i3", "text": "Report anything odd"}]}},
                    {"id": "q-matching", "prompt_md": "Match each question to whom you ask.",
                     "points": 1,
                     "kind": {"type": "matching", "pairs": [
                        {"id": "p1", "prompt": "Laptop, access", "answer": "IT help desk"},
                        {"id": "p2", "prompt": "Pay, holidays", "answer": "People team"},
                        {"id": "p3", "prompt": "Anything else", "answer": "Your buddy"}]}}
                ]}
            }
        ]
    })
}

/// Answers to the demo quiz as the learner view sends them (its ids are
/// tokens of the visible text): all correct, or two right out of eight
/// points (a fail at a 70 % pass mark).
fn answers(pass: bool, at_ms: i64) -> Value {
    let choice = |q: &str, texts: &[&str]| json!({"type": "choice", "value": texts.iter().map(|t| option_token(q, t)).collect::<Vec<_>>()});
    let order = |texts: &[&str]| json!({"type": "order", "value": texts.iter().map(|t| item_token("q-ordering", t)).collect::<Vec<_>>()});
    let matched = |pairs: &[(&str, &str)]| {
        json!({"type": "match", "value": pairs.iter()
            .map(|(p, a)| (prompt_token("q-matching", p), answer_token("q-matching", a)))
            .collect::<Vec<_>>()})
    };
    let steps = [
        "Check the sender",
        "Hover before you click",
        "Report anything odd",
    ];
    let answers = if pass {
        vec![
            ("q-single", choice("q-single", &["At the front desk"])),
            (
                "q-multiple",
                choice(
                    "q-multiple",
                    &["An unexpected sender", "A link to a look-alike address"],
                ),
            ),
            ("q-true-false", json!({"type": "bool", "value": false})),
            (
                "q-short-text",
                json!({"type": "text", "value": "people team"}),
            ),
            ("q-numeric", json!({"type": "number", "value": 3})),
            ("q-ordering", order(&steps)),
            (
                "q-matching",
                matched(&[
                    ("Laptop, access", "IT help desk"),
                    ("Pay, holidays", "People team"),
                    ("Anything else", "Your buddy"),
                ]),
            ),
        ]
    } else {
        vec![
            ("q-single", choice("q-single", &["At the front desk"])),
            (
                "q-multiple",
                choice("q-multiple", &["Your manager's usual signature"]),
            ),
            ("q-true-false", json!({"type": "bool", "value": true})),
            (
                "q-short-text",
                json!({"type": "text", "value": "my manager"}),
            ),
            ("q-numeric", json!({"type": "number", "value": 3})),
            ("q-ordering", order(&[steps[2], steps[1], steps[0]])),
            (
                "q-matching",
                matched(&[
                    ("Laptop, access", "Your buddy"),
                    ("Pay, holidays", "IT help desk"),
                    ("Anything else", "People team"),
                ]),
            ),
        ]
    };
    json!(answers
        .into_iter()
        .map(|(q, response)| json!([q, response, at_ms]))
        .collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::course::{
        model::{CourseContent, QuestionKind},
        validate::validate_course,
    };

    /// The demo passes the validation publishing applies, and its quiz has a
    /// question of every kind the model knows.
    #[test]
    fn the_demo_course_is_valid_and_asks_every_kind_of_question() {
        let course: CourseContent = serde_json::from_value(content()).unwrap();
        assert_eq!(validate_course(&course), vec![]);
        assert_eq!(course.modules.len(), 2);
        // A kind added to the model does not compile here until the demo
        // asks it too.
        let rank = |k: &QuestionKind| match k {
            QuestionKind::SingleChoice { .. } => 0,
            QuestionKind::MultipleChoice { .. } => 1,
            QuestionKind::TrueFalse { .. } => 2,
            QuestionKind::ShortText { .. } => 3,
            QuestionKind::Numeric { .. } => 4,
            QuestionKind::Ordering { .. } => 5,
            QuestionKind::Matching { .. } => 6,
        };
        let quizzes: Vec<_> = course
            .modules
            .iter()
            .filter_map(|m| m.quiz.as_ref())
            .collect();
        assert_eq!(quizzes.len(), 1, "one quiz");
        let kinds: Vec<usize> = quizzes[0].questions.iter().map(|q| rank(&q.kind)).collect();
        assert_eq!(kinds, (0..7).collect::<Vec<_>>());
        assert_eq!(course.settings.certificate_validity_days, Some(365));
    }
}
