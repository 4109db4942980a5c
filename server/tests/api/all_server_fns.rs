//! Every registered server function, table-driven: who may call it at all
//! (authentication) and whether one site — or, for attempts, another
//! learner — can reach another's data.
//!
//! The set of functions comes from the server-function registry at run time
//! and must equal [`TABLE`]: adding a server function without a row here
//! fails [`the_table_covers_every_registered_server_function`].

use std::collections::BTreeSet;

use app::{
    course::{
        learner::{answer_token, item_token, option_token, prompt_token},
        model::Response,
    },
    error::AppError,
    space_admin::api::ReportQuery,
};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

use crate::helpers::*;

const SITE_A: &str = "site-a";
const SECRET_A: &str = "site-a-shared-secret-0123456789";
const SITE_B: &str = "site-b";
const SECRET_B: &str = "site-b-shared-secret-0123456789";
/// The same page id on both sites (page ids are only unique per site).
const PAGE: &str = "98305";
const ADA_ON_A: &str = "557058:ada-on-site-a";
/// A second learner of site A who may view [`PAGE`] (not edit it).
const LEO_ON_A: &str = "557058:leo-on-site-a";
const BOB_ON_B: &str = "557058:bob-on-site-b";
/// Appears in site A's course and nowhere else.
const A_MARKER: &str = "alpha-private";
/// The quiz module of [`valid_course`].
const QUIZ_MODULE: &str = "m1";
/// A Confluence group of site A with [`LEO_ON_A`] in it.
const GROUP: &str = "new-starters";
/// The `client_token` of the `learning/start-attempt` row (a browser-made UUID).
const START_TOKEN: &str = "5a1e0c3d-7b2f-4e8a-9c61-0d4b3f2a1e77";

/// A request's arguments, in the function's input encoding.
enum Args {
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

/// The ids a row's arguments may name.
struct Ids<'a> {
    /// A course of the site (published as version 1, draft revision 1).
    course: &'a str,
    /// An attempt in progress at that course's quiz ([`QUIZ_MODULE`]).
    attempt: &'a str,
}

/// What a function can do with another site's (or learner's) data.
// Each variant is named after the id the function takes (or does not).
#[allow(clippy::enum_variant_names)]
enum Isolation {
    /// Takes a course id: with another site's course id it must answer 404
    /// and change nothing.
    CourseId,
    /// Takes an attempt id: with another site's attempt id, or another
    /// learner's of the same site, it must answer 404 and change nothing
    /// (no answer stored, not submitted).
    AttemptId,
    /// Takes no course id; why it cannot reach another site's data.
    NoCourseId(&'static str),
}

/// What the caller has done with the (published) course before the call in
/// [`every_server_function_works_for_the_site_that_owns_the_course`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Nothing as a learner.
    None,
    /// Started an attempt at the quiz, still in progress; its id is
    /// [`Ids::attempt`]. Every [`Isolation::AttemptId`] row needs this.
    AttemptStarted,
    /// Completed the course: opened every lesson and passed the quiz.
    Completed,
    /// The course has a group rule for [`GROUP`] (Leo is its member).
    GroupRule,
    /// The course lets learners enrol themselves (nothing done yet).
    SelfEnrolCourse,
}

struct ServerFn {
    /// The registered path, `/api/...`.
    path: &'static str,
    /// Valid arguments naming the given ids (revision 1, version 1 where asked).
    args: fn(&Ids<'_>) -> Args,
    isolation: Isolation,
    /// What the caller must have done first for the call to succeed.
    progress: Progress,
}

fn form(pairs: &[(&'static str, &str)]) -> Args {
    Args::Form(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

fn export_file() -> String {
    json!({"format": "smart-courses/course", "version": 1, "content": valid_course("Imported")})
        .to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn response(r: Response) -> Value {
    serde_json::to_value(r).unwrap()
}

/// Every server function of the app. A new one needs a row here: valid
/// arguments, what it must do with another site's ids, and what the caller
/// must have done first.
const TABLE: &[ServerFn] = &[
    ServerFn {
        path: "/api/whoami",
        args: |_| form(&[]),
        isolation: Isolation::NoCourseId("answers only the caller's own verified identity"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/open",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/save-draft",
        args: |ids| {
            Args::Json(json!({
                "course_id": ids.course,
                "revision": 1,
                "content": valid_course("Overwritten by another site"),
            }))
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/publish",
        args: |ids| {
            form(&[
                ("course_id", ids.course),
                ("revision", "1"),
                ("material", "false"),
            ])
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/version",
        args: |ids| form(&[("course_id", ids.course), ("version", "1")]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/restore",
        args: |ids| {
            form(&[
                ("course_id", ids.course),
                ("version", "1"),
                ("revision", "1"),
            ])
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/copy",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/overview",
        args: |_| form(&[("page", "0")]),
        isolation: Isolation::NoCourseId(
            "lists only the caller's own space on the caller's own site",
        ),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/course-report",
        args: |ids| Args::Json(json!({"course_id": ids.course, "query": ReportQuery::default()})),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/learner",
        args: |ids| form(&[("course_id", ids.course), ("account_id", ADA_ON_A)]),
        isolation: Isolation::CourseId,
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/space-admin/search-users",
        args: |_| form(&[("query", "Ada")]),
        isolation: Isolation::NoCourseId(
            "searches the Confluence of the caller's own site (the tenant of the verified token)",
        ),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/search-groups",
        args: |_| form(&[("query", "new")]),
        isolation: Isolation::NoCourseId(
            "searches the Confluence of the caller's own site (the tenant of the verified token)",
        ),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/enrol",
        args: |ids| {
            Args::Json(
                json!({"course_id": ids.course, "account_ids": [LEO_ON_A], "due_at_ms": null}),
            )
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/enrol-group",
        args: |ids| {
            Args::Json(json!({"course_id": ids.course, "group": GROUP, "due": {"DaysAfter": 14}}))
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/unenrol",
        args: |ids| Args::Json(json!({"course_id": ids.course, "account_ids": [LEO_ON_A]})),
        isolation: Isolation::CourseId,
        progress: Progress::GroupRule,
    },
    ServerFn {
        path: "/api/space-admin/remove-group",
        args: |ids| form(&[("course_id", ids.course), ("group", GROUP)]),
        isolation: Isolation::CourseId,
        progress: Progress::GroupRule,
    },
    ServerFn {
        path: "/api/space-admin/set-due",
        args: |ids| {
            Args::Json(
                json!({"course_id": ids.course, "account_ids": [LEO_ON_A], "due_at_ms": 1_900_000_000_000_i64}),
            )
        },
        isolation: Isolation::CourseId,
        progress: Progress::GroupRule,
    },
    ServerFn {
        path: "/api/space-admin/sync-groups",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::GroupRule,
    },
    ServerFn {
        path: "/api/space-admin/analytics",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/space-admin/audit",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::GroupRule,
    },
    ServerFn {
        path: "/api/space-admin/report-csv",
        args: |ids| Args::Json(json!({"course_id": ids.course, "query": ReportQuery::default()})),
        isolation: Isolation::CourseId,
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/space-admin/attempts-csv",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/space-admin/analytics-csv",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/space-admin/audit-csv",
        args: |_| form(&[]),
        isolation: Isolation::NoCourseId(
            "the audit log of the caller's own space on the caller's own site",
        ),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/support-grant",
        args: |_| form(&[("hours", "1"), ("reason", "Case 1: checking a report")]),
        isolation: Isolation::NoCourseId(
            "grants access to the caller's own space on the caller's own site only",
        ),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/support-grants",
        args: |_| form(&[]),
        isolation: Isolation::NoCourseId("lists the caller's own space's grants only"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/space-admin/support-revoke",
        args: |_| form(&[]),
        isolation: Isolation::NoCourseId("ends the caller's own space's grants only"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/enrol",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::SelfEnrolCourse,
    },
    ServerFn {
        path: "/api/authoring/preview",
        args: |_| form(&[("markdown", "**preview**")]),
        isolation: Isolation::NoCourseId("renders only the Markdown it is sent"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/import-questions",
        args: |_| form(&[("format", "Gift"), ("text", "::Q:: 2+2? {=4 ~5}")]),
        isolation: Isolation::NoCourseId("parses only the text it is sent and writes nothing"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/export",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/authoring/analytics",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        // Submitted attempts to analyse.
        progress: Progress::Completed,
    },
    ServerFn {
        path: "/api/authoring/import-course",
        args: |_| Args::Form(vec![("json", export_file())]),
        isolation: Isolation::NoCourseId("parses only the file it is sent and writes nothing"),
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/course",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/open-lesson",
        args: |ids| {
            form(&[
                ("course_id", ids.course),
                ("version", "1"),
                ("lesson_id", "l1"),
            ])
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/start-attempt",
        args: |ids| {
            form(&[
                ("course_id", ids.course),
                ("module_id", QUIZ_MODULE),
                ("client_token", START_TOKEN),
            ])
        },
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/save-answer",
        args: |ids| {
            Args::Json(json!({
                "attempt_id": ids.attempt,
                "question_id": "q3",
                "response": response(Response::Bool(false)),
                "answered_at_ms": now_ms(),
            }))
        },
        isolation: Isolation::AttemptId,
        progress: Progress::AttemptStarted,
    },
    ServerFn {
        path: "/api/learning/submit",
        args: |ids| {
            Args::Json(json!({
                "attempt_id": ids.attempt,
                "answers": [["q3", response(Response::Bool(false)), now_ms()]],
            }))
        },
        isolation: Isolation::AttemptId,
        progress: Progress::AttemptStarted,
    },
    ServerFn {
        path: "/api/learning/history",
        args: |ids| form(&[("course_id", ids.course), ("module_id", QUIZ_MODULE)]),
        isolation: Isolation::CourseId,
        progress: Progress::None,
    },
    ServerFn {
        path: "/api/learning/certificate",
        args: |ids| form(&[("course_id", ids.course)]),
        isolation: Isolation::CourseId,
        // 404 until the course is complete.
        progress: Progress::Completed,
    },
];

async fn call(app: &TestApp, f: &ServerFn, token: Option<&str>, ids: &Ids<'_>) -> (u16, Value) {
    let name = f
        .path
        .strip_prefix("/api/")
        .expect("server fns live under /api/");
    let resp = match (f.args)(ids) {
        Args::Form(pairs) => {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call_fn(name, token, &pairs).await
        }
        Args::Json(body) => app.call_fn_json(name, token, &body).await,
    };
    fn_reply(resp).await
}

fn registered_paths() -> BTreeSet<String> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| {
            assert_eq!(method, http::Method::POST, "{path} is not a POST function");
            path.to_owned()
        })
        .collect()
}

#[test]
fn the_table_covers_every_registered_server_function() {
    // Arrange
    let known: BTreeSet<String> = TABLE.iter().map(|f| f.path.to_owned()).collect();

    // Act
    let registered = registered_paths();

    // Assert
    assert!(
        registered.contains("/api/whoami"),
        "the registry looks empty: {registered:?}"
    );
    assert_eq!(known.len(), TABLE.len(), "a path is listed twice in TABLE");
    let missing: Vec<_> = registered.difference(&known).collect();
    let stale: Vec<_> = known.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "server functions not covered by the auth and data-isolation tests: {missing:?}. \
         Add a row for each to TABLE in server/tests/api/all_server_fns.rs, with valid \
         arguments, its Isolation (CourseId if it takes a course id, AttemptId if it takes \
         an attempt id, else NoCourseId with the reason it cannot reach another site's \
         data) and the Progress the caller needs for the call to succeed."
    );
    assert!(
        stale.is_empty(),
        "TABLE in server/tests/api/all_server_fns.rs lists functions that are no longer \
         registered: {stale:?}. Remove or rename those rows."
    );
    let no_attempt: Vec<_> = TABLE
        .iter()
        .filter(|f| {
            matches!(f.isolation, Isolation::AttemptId) && f.progress != Progress::AttemptStarted
        })
        .map(|f| f.path)
        .collect();
    assert!(
        no_attempt.is_empty(),
        "rows with Isolation::AttemptId need Progress::AttemptStarted (an attempt to name): \
         {no_attempt:?}"
    );
}

#[tokio::test]
async fn every_server_function_refuses_a_caller_without_a_valid_context_token_with_401() {
    // Arrange
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    app.install_on(&fake, SITE_B, SECRET_B).await;
    app.install_on(&fake, "site-gone", "site-gone-secret-0123456789")
        .await;
    app.uninstall("site-gone").await;
    // The user could edit the page: only the token decides.
    fake.allow_edit(ADA_ON_A, PAGE);
    let course_id = uuid::Uuid::new_v4().to_string();
    let attempt_id = uuid::Uuid::new_v4().to_string();
    let ids = Ids {
        course: &course_id,
        attempt: &attempt_id,
    };

    // Act
    let mut failures = Vec::new();
    for f in TABLE {
        let mut page_claims = context_claims_on(SITE_A, ADA_ON_A, PAGE, "DEV");
        page_claims["qsh"] = json!(connect::qsh::qsh("POST", f.path, None, ""));
        let cases: Vec<(&str, Option<String>)> = vec![
            ("no token", None),
            (
                "page JWT (computed qsh)",
                Some(hs_token(Algorithm::HS256, SECRET_A, &page_claims)),
            ),
            (
                "token of a site that never installed",
                Some(context_token(
                    "site-never",
                    "site-never-secret",
                    ADA_ON_A,
                    PAGE,
                )),
            ),
            (
                "token of an uninstalled site",
                Some(context_token(
                    "site-gone",
                    "site-gone-secret-0123456789",
                    ADA_ON_A,
                    PAGE,
                )),
            ),
            (
                "signed by site B claiming site A",
                Some(context_token(SITE_A, SECRET_B, ADA_ON_A, PAGE)),
            ),
        ];
        for (case, token) in cases {
            let (status, body) = call(&app, f, token.as_deref(), &ids).await;
            if status != 401 {
                failures.push(format!("{} / {case}: {status} {body}", f.path));
            }
        }
    }

    // Assert
    assert!(
        failures.is_empty(),
        "not refused with 401:\n{}",
        failures.join("\n")
    );
    assert!(
        fake.checks().is_empty(),
        "Confluence was asked before the caller was authenticated: {:?}",
        fake.checks()
    );
    for site in [SITE_A, SITE_B, "site-gone", "site-never"] {
        assert_eq!(app.course_and_version_counts(site).await, (0, 0), "{site}");
        assert_eq!(
            app.learning_records(site).await,
            Vec::<String>::new(),
            "{site}"
        );
    }
}

#[tokio::test]
async fn no_server_function_lets_one_site_reach_another_sites_course() {
    // Arrange: site A has a published course on page 98305, and Ada (site A)
    // an attempt in progress at its quiz, with no answers yet. Site B's user
    // may edit page 98305 on site B; Leo, a second learner of site A, may
    // view the page.
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    app.install_on(&fake, SITE_B, SECRET_B).await;
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.allow_read_only(LEO_ON_A, PAGE);
    fake.allow_edit(BOB_ON_B, PAGE);
    fake.make_space_admin(BOB_ON_B, "DEV");
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);
    let leo = context_token(SITE_A, SECRET_A, LEO_ON_A, PAGE);
    let bob = context_token(SITE_B, SECRET_B, BOB_ON_B, PAGE);
    let mut content = valid_course(&format!("{A_MARKER} course"));
    content["modules"][0]["lessons"][1]["body_md"] = json!(format!("{A_MARKER} lesson"));
    let a_course = create_and_publish(&app, &ada, &content).await;
    let a_attempt = start_attempt(&app, &ada, &a_course).await;
    let ids = Ids {
        course: &a_course,
        attempt: &a_attempt,
    };
    let before = app.stored_course(SITE_A, &a_course).await.unwrap();
    let versions_before = app.stored_versions(SITE_A, &a_course).await;
    let learning_before = app.learning_records(SITE_A).await;
    assert_eq!(learning_before.len(), 1, "one attempt: {learning_before:?}");

    // Act: site B's user with site A's ids; for attempts also Leo, with Ada's.
    let mut answers = Vec::new();
    for f in TABLE {
        answers.push((f, "site B", call(&app, f, Some(&bob), &ids).await));
        if matches!(f.isolation, Isolation::AttemptId) {
            answers.push((f, "another learner", call(&app, f, Some(&leo), &ids).await));
        }
    }

    // Assert
    let mut failures = Vec::new();
    for (f, who, (status, body)) in &answers {
        if body.to_string().contains(A_MARKER) {
            failures.push(format!(
                "{} ({who}): site A's data in the answer: {body}",
                f.path
            ));
        }
        match f.isolation {
            Isolation::CourseId | Isolation::AttemptId if *status != 404 => failures.push(format!(
                "{} ({who}): expected 404, got {status} {body}",
                f.path
            )),
            Isolation::NoCourseId(why) if *status != 200 => failures.push(format!(
                "{} ({why}): site B's own call should work, got {status} {body}",
                f.path
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        app.learning_records(SITE_A).await,
        learning_before,
        "site A's learning records changed (Ada's attempt must have no answers and stay open)"
    );
    assert_eq!(
        app.learning_records(SITE_B).await,
        Vec::<String>::new(),
        "site B got learning records from calls naming site A's course or attempt"
    );
    assert_eq!(
        app.stored_course(SITE_A, &a_course).await.unwrap(),
        before,
        "site B changed site A's course"
    );
    assert_eq!(
        app.stored_versions(SITE_A, &a_course).await,
        versions_before
    );
    assert_eq!(app.course_and_version_counts(SITE_A).await, (1, 1));
    assert_eq!(
        app.course_and_version_counts(SITE_B).await,
        (0, 0),
        "site B got a copy or a version of site A's course"
    );
    assert!(
        fake.checks()
            .iter()
            .filter(|c| c.account_id == BOB_ON_B)
            .all(|c| c.client_key.as_deref() == Some(SITE_B)),
        "B's user was checked against site A"
    );
}

/// [`call`] through Forge Remote: `Authorization: Bearer <fit>` and the
/// Forge tokens instead of a context JWT.
async fn forge_call(
    app: &TestApp,
    f: &ServerFn,
    fit: &str,
    tokens: &ForgeTokens,
    ids: &Ids<'_>,
) -> (u16, Value) {
    let name = f
        .path
        .strip_prefix("/api/")
        .expect("server fns live under /api/");
    let authorization = format!("Bearer {fit}");
    let resp = match (f.args)(ids) {
        Args::Form(pairs) => {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.forge_call_fn(name, &authorization, tokens, ForgeBody::Form(&pairs))
                .await
        }
        Args::Json(body) => {
            app.forge_call_fn(name, &authorization, tokens, ForgeBody::Json(&body))
                .await
        }
    };
    fn_reply(resp).await
}

/// The Forge rows of the isolation table: the same table, every function,
/// called through Forge Remote. Site A is a Connect tenant that also names
/// its Forge installation; site B a Forge-only tenant created by the Forge
/// lifecycle. A FIT of site B's installation — and, for attempts, one of
/// Leo on site A — never reaches site A's course or Ada's attempt.
#[tokio::test]
async fn no_server_function_lets_one_forge_installation_reach_another_sites_course() {
    // Arrange
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site_a = ForgeSite::on(&fake, 0xa1);
    let site_b = ForgeSite::on(&fake, 0xb2);
    app.install_on_with_installation(&fake, SITE_A, SECRET_A, &site_a.installation)
        .await;
    let installed = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&format!("Bearer {}", site_b.fit(None, PAGE, "DEV"))),
            &json!({"eventType": "avi:forge:installed:app"}).to_string(),
        )
        .await;
    assert_eq!(installed.status(), 204);
    let site_b_key = site_b.installation.as_str();
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.allow_read_only(LEO_ON_A, PAGE);
    fake.allow_edit(BOB_ON_B, PAGE);
    fake.make_space_admin(BOB_ON_B, "DEV");
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);
    let mut content = valid_course(&format!("{A_MARKER} course"));
    content["modules"][0]["lessons"][1]["body_md"] = json!(format!("{A_MARKER} lesson"));
    let a_course = create_and_publish(&app, &ada, &content).await;
    let a_attempt = start_attempt(&app, &ada, &a_course).await;
    let ids = Ids {
        course: &a_course,
        attempt: &a_attempt,
    };
    let before = app.stored_course(SITE_A, &a_course).await.unwrap();
    let versions_before = app.stored_versions(SITE_A, &a_course).await;
    let learning_before = app.learning_records(SITE_A).await;
    assert_eq!(learning_before.len(), 1, "one attempt: {learning_before:?}");

    // Act: Bob through site B's installation with site A's ids; for
    // attempts also Leo through site A's, with Ada's.
    let bob_tokens = site_b.tokens(&fake, site_b_key, BOB_ON_B);
    let leo_tokens = site_a.tokens(&fake, SITE_A, LEO_ON_A);
    let mut answers = Vec::new();
    for f in TABLE {
        // A FIT lives 25 s: a fresh one per call, as Forge mints them.
        let bob = site_b.fit(Some(BOB_ON_B), PAGE, "DEV");
        answers.push((
            f,
            "site B (Forge)",
            forge_call(&app, f, &bob, &bob_tokens, &ids).await,
        ));
        if matches!(f.isolation, Isolation::AttemptId) {
            let leo = site_a.fit(Some(LEO_ON_A), PAGE, "DEV");
            answers.push((
                f,
                "another learner (Forge)",
                forge_call(&app, f, &leo, &leo_tokens, &ids).await,
            ));
        }
    }

    // Assert
    let mut failures = Vec::new();
    for (f, who, (status, body)) in &answers {
        if body.to_string().contains(A_MARKER) {
            failures.push(format!(
                "{} ({who}): site A's data in the answer: {body}",
                f.path
            ));
        }
        match f.isolation {
            Isolation::CourseId | Isolation::AttemptId if *status != 404 => failures.push(format!(
                "{} ({who}): expected 404, got {status} {body}",
                f.path
            )),
            Isolation::NoCourseId(why) if *status != 200 => failures.push(format!(
                "{} ({why}): site B's own call should work, got {status} {body}",
                f.path
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.learning_records(SITE_A).await, learning_before);
    assert_eq!(
        app.learning_records(site_b_key).await,
        Vec::<String>::new(),
        "site B got learning records from calls naming site A's course or attempt"
    );
    assert_eq!(
        app.stored_course(SITE_A, &a_course).await.unwrap(),
        before,
        "site B changed site A's course"
    );
    assert_eq!(
        app.stored_versions(SITE_A, &a_course).await,
        versions_before
    );
    assert_eq!(app.course_and_version_counts(SITE_A).await, (1, 1));
    assert_eq!(
        app.course_and_version_counts(site_b_key).await,
        (0, 0),
        "site B got a copy or a version of site A's course"
    );
    // Bob was only ever checked with site B's system token, at site B's
    // gateway URL; nothing for Forge callers went out Connect-signed.
    let b_system = format!("Bearer {}", bob_tokens.system.as_deref().unwrap());
    let b_user = format!("Bearer {}", bob_tokens.user.as_deref().unwrap());
    for r in fake.requests() {
        let auth = r.authorization.as_deref().unwrap_or("");
        if auth == b_system || auth == b_user {
            assert!(
                r.path
                    .starts_with(&format!("/ex/confluence/{}/wiki/", site_b.cloud_id)),
                "site B's token went to {}",
                r.path
            );
        }
    }
    let connect_signed_to_gateway: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/ex/confluence/"))
        .filter(|r| {
            !r.authorization
                .as_deref()
                .unwrap_or("")
                .starts_with("Bearer ")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        connect_signed_to_gateway.is_empty(),
        "calls for Forge callers that were not made with Forge tokens: {connect_signed_to_gateway:?}"
    );
    assert!(
        fake.checks()
            .iter()
            .filter(|c| c.account_id == BOB_ON_B)
            .all(|c| c.client_key.as_deref() == Some(site_b_key)),
        "B's user was checked against site A"
    );
}

#[tokio::test]
async fn every_server_function_works_for_the_site_that_owns_the_course() {
    // Arrange: the control for the isolation test above: the same requests,
    // from the owning site, succeed (so the 404s there are isolation, not
    // malformed requests). Each function gets a fresh published course, which
    // the caller (who may view and edit the page) has progressed through as
    // the row says.
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.make_space_admin(ADA_ON_A, "DEV");
    fake.add_to_group(GROUP, LEO_ON_A);
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);
    let arranged = arrange_own_courses(&app, &ada).await;

    // Act
    let mut answers = Vec::new();
    for (f, (course, attempt)) in TABLE.iter().zip(&arranged) {
        let ids = Ids { course, attempt };
        answers.push((f.path, call(&app, f, Some(&ada), &ids).await));
    }

    // Assert
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, (status, _))| *status != 200)
        .map(|(path, (status, body))| format!("{path}: {status} {body}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same control through Forge Remote: every function, called with a
/// FIT of the site's installation (and Ada's Forge tokens), does what it
/// does for her context JWT — one implementation behind both transports —
/// and every call it makes to Confluence goes through Forge's gateway with
/// those tokens (no Connect-signed call, no ACT_AS_USER grant).
#[tokio::test]
async fn every_server_function_works_through_forge_for_the_site_that_owns_the_course() {
    // Arrange: as above, through Connect (the site's Connect install names
    // its Forge installation).
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 0xa3);
    app.install_on_with_installation(&fake, SITE_A, SECRET_A, &site.installation)
        .await;
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.make_space_admin(ADA_ON_A, "DEV");
    fake.add_to_group(GROUP, LEO_ON_A);
    fake.add_user(LEO_ON_A, "Leo");
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);
    let arranged = arrange_own_courses(&app, &ada).await;
    let tokens = site.tokens(&fake, SITE_A, ADA_ON_A);
    fake.clear_log();

    // Act
    let mut answers = Vec::new();
    for (f, (course, attempt)) in TABLE.iter().zip(&arranged) {
        let ids = Ids { course, attempt };
        let fit = site.fit(Some(ADA_ON_A), PAGE, "DEV");
        answers.push((f.path, forge_call(&app, f, &fit, &tokens, &ids).await));
    }

    // Assert
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, (status, _))| *status != 200)
        .map(|(path, (status, body))| format!("{path}: {status} {body}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let system = format!("Bearer {}", tokens.system.as_deref().unwrap());
    let user = format!("Bearer {}", tokens.user.as_deref().unwrap());
    let gateway = format!("/ex/confluence/{}/wiki/", site.cloud_id);
    let requests = fake.requests();
    assert!(
        !requests.is_empty(),
        "the functions asked Confluence nothing?"
    );
    let not_forge: Vec<String> = requests
        .iter()
        .filter(|r| {
            let auth = r.authorization.as_deref().unwrap_or("");
            !(r.path.starts_with(&gateway) && (auth == system || auth == user))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        not_forge.is_empty(),
        "calls for a Forge caller not made through Forge with its tokens: {not_forge:?}"
    );
    assert_eq!(fake.refused(), 0);
}

/// Creates `content` as a course on [`PAGE`] and publishes it as version 1
/// (the draft stays at revision 1).
async fn create_and_publish(app: &TestApp, token: &str, content: &Value) -> String {
    let (status, saved) = fn_reply(
        app.call_fn_json(
            "authoring/save-draft",
            Some(token),
            &json!({"course_id": null, "revision": 0, "content": content}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let id = saved["course_id"].as_str().unwrap().to_owned();
    let (status, published) = fn_reply(
        app.call_fn(
            "authoring/publish",
            Some(token),
            &[("course_id", &id), ("revision", "1"), ("material", "false")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{published}");
    id
}

/// Starts an attempt at the quiz of `course` (a fresh client token) as the
/// token's learner; the attempt id.
async fn start_attempt(app: &TestApp, token: &str, course: &str) -> String {
    let client_token = uuid::Uuid::new_v4().to_string();
    let (status, view) = fn_reply(
        app.call_fn(
            "learning/start-attempt",
            Some(token),
            &[
                ("course_id", course),
                ("module_id", QUIZ_MODULE),
                ("client_token", &client_token),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "InProgress", "{view}");
    view["attempt_id"].as_str().unwrap().to_owned()
}

/// The right answer to every question of [`valid_course`], as
/// `learning/submit` takes them (choices named by their learner-view tokens).
fn right_answers_to_valid_course() -> Value {
    let at = now_ms();
    let answers = [
        (
            "q1",
            Response::Choice(vec![option_token("q1", "hidden-co2")]),
        ),
        (
            "q2",
            Response::Choice(vec![
                option_token("q2", "hidden-door"),
                option_token("q2", "hidden-window"),
            ]),
        ),
        ("q3", Response::Bool(true)),
        ("q4", Response::Number(4242.5)),
        ("q5", Response::Text("hidden-car park".into())),
        (
            "q6",
            Response::Order(vec![
                item_token("q6", "hidden-raise the alarm"),
                item_token("q6", "hidden-leave"),
            ]),
        ),
        (
            "q7",
            Response::Match(vec![
                (
                    prompt_token("q7", "Class A"),
                    answer_token("q7", "hidden-wood"),
                ),
                (
                    prompt_token("q7", "Class B"),
                    answer_token("q7", "hidden-petrol"),
                ),
            ]),
        ),
    ];
    Value::Array(
        answers
            .into_iter()
            .map(|(id, r)| json!([id, response(r), at]))
            .collect(),
    )
}

/// Completes the published [`valid_course`] `course` as the token's learner:
/// opens every lesson of version 1 and passes the quiz. The attempt id.
async fn complete_course(app: &TestApp, token: &str, course: &str) -> String {
    for lesson in ["l1", "l2"] {
        let (status, progress) = fn_reply(
            app.call_fn(
                "learning/open-lesson",
                Some(token),
                &[
                    ("course_id", course),
                    ("version", "1"),
                    ("lesson_id", lesson),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{progress}");
    }
    let attempt = start_attempt(app, token, course).await;
    let (status, result) = fn_reply(
        app.call_fn_json(
            "learning/submit",
            Some(token),
            &json!({"attempt_id": attempt, "answers": right_answers_to_valid_course()}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["rejected"], json!([]), "{result}");
    assert_eq!(result["percent"], 100.0, "{result}");
    assert_eq!(result["course_complete"], true, "{result}");
    attempt
}

/// Regression test (fixed in `app/src/error.rs`): a request whose arguments
/// cannot be read (a field missing) was answered with the JSON body
/// `{"Invalid": "The request was malformed."}` but HTTP status 500, because
/// server_fn turns argument errors into `AppError` through
/// `FromServerFnError::from_server_fn_error`, which did not set the status
/// (only `api::ssr::fail` does).
#[tokio::test]
async fn no_server_function_answers_an_incomplete_request_with_500() {
    // Arrange
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.make_space_admin(ADA_ON_A, "DEV");
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);

    // Act: every function, with no arguments at all.
    let mut answers = Vec::new();
    for f in TABLE {
        let name = f.path.strip_prefix("/api/").unwrap();
        let ids = Ids {
            course: "x",
            attempt: "x",
        };
        let resp = match (f.args)(&ids) {
            Args::Form(_) => app.call_fn(name, Some(&ada), &[]).await,
            Args::Json(_) => app.call_fn_json(name, Some(&ada), &json!({})).await,
        };
        answers.push((f.path, fn_reply(resp).await));
    }

    // Assert: fine (200, nothing required) or refused as the client's fault.
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, (status, _))| !matches!(status, 200 | 400))
        .map(|(path, (status, body))| format!("{path}: {status} {body}"))
        .collect();
    assert!(
        failures.is_empty(),
        "BUG: incomplete requests not answered with 400:\n{}",
        failures.join("\n")
    );
    assert_eq!(app.course_and_version_counts(SITE_A).await, (0, 0));
    assert_eq!(app.learning_records(SITE_A).await, Vec::<String>::new());
}

/// The harness itself: the fake Confluence answers the space-admin check the
/// way `authz::is_space_admin` asks it (ACT_AS_USER token, space key → id,
/// permitted operations), so server functions that need it can rely on it.
#[tokio::test]
async fn the_fake_confluence_answers_the_space_admin_check_as_authz_asks_it() {
    // Arrange
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    fake.make_space_admin(ADA_ON_A, "DEV");
    let verify = |account: &'static str| {
        let state = app.state.clone();
        async move {
            let token = context_token(SITE_A, SECRET_A, account, PAGE);
            connect::jwt::verify_hs256(
                &state.connect.tenants,
                &state.connect.settings,
                &token,
                connect::jwt::Expect::Context,
            )
            .await
            .unwrap()
        }
    };
    let ada = verify(ADA_ON_A).await;
    let bob = verify(BOB_ON_B).await;

    // Act
    let ada_admin = connect::authz::is_space_admin(&app.state.connect, &ada, "DEV").await;
    let bob_admin = connect::authz::is_space_admin(&app.state.connect, &bob, "DEV").await;
    let unknown_space = connect::authz::is_space_admin(&app.state.connect, &ada, "OPS").await;

    // Assert
    assert_eq!(ada_admin, Ok(true));
    assert_eq!(bob_admin, Ok(false));
    assert_eq!(unknown_space, Ok(false));
}

/// The space tools tab is for space administrators only, and lists only the
/// courses of the space the token names.
#[tokio::test]
async fn space_overview_is_for_space_admins_and_lists_their_space() {
    // Arrange
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE_A, SECRET_A).await;
    fake.allow_edit(ADA_ON_A, PAGE);
    fake.allow_read_only(LEO_ON_A, PAGE);
    fake.make_space_admin(ADA_ON_A, "DEV");
    let ada = context_token(SITE_A, SECRET_A, ADA_ON_A, PAGE);
    let leo = context_token(SITE_A, SECRET_A, LEO_ON_A, PAGE);
    create_and_publish(&app, &ada, &valid_course("Listed")).await;

    // Act
    let admin = app.space_overview(&ada).await;
    let learner = fn_reply(
        app.call_fn("space-admin/overview", Some(&leo), &[("page", "0")])
            .await,
    )
    .await;

    // Assert
    let admin = admin.expect("a space admin gets the overview");
    assert_eq!(admin.space_key, "DEV", "{admin:?}");
    assert_eq!(admin.courses.len(), 1, "{admin:?}");
    // Found by the page's title (from Confluence), with a link to the page.
    assert_eq!(admin.courses[0].title, "Page 98305", "{admin:?}");
    assert_eq!(admin.courses[0].course_title, "Listed", "{admin:?}");
    assert!(
        admin.courses[0]
            .page_url
            .as_deref()
            .is_some_and(|u| u.ends_with("/wiki/spaces/DEV/pages/98305")),
        "{admin:?}"
    );
    assert_eq!(admin.courses[0].latest_version, Some(1), "{admin:?}");
    // The learner's answer raw: the point is that the course appears nowhere in it.
    let (learner_status, learner_body) = learner;
    assert_eq!(learner_status, 403, "{learner_body}");
    assert!(
        !learner_body.to_string().contains("Listed"),
        "{learner_body}"
    );
    assert_eq!(
        serde_json::from_value::<AppError>(learner_body).ok(),
        Some(AppError::Forbidden)
    );
}

/// One course per row of [`TABLE`], owned by Ada on site A and brought to
/// the row's [`Progress`]; with the attempt id each row's call names.
async fn arrange_own_courses(app: &TestApp, ada: &str) -> Vec<(String, String)> {
    let mut arranged = Vec::new();
    for f in TABLE {
        let mut content = valid_course("Owned");
        if f.progress == Progress::SelfEnrolCourse {
            content["settings"]["access"] = json!("self_enrol");
        }
        let course = create_and_publish(app, ada, &content).await;
        let attempt = match f.progress {
            // Names no attempt of anyone's.
            Progress::None | Progress::SelfEnrolCourse => uuid::Uuid::new_v4().to_string(),
            Progress::AttemptStarted => start_attempt(app, ada, &course).await,
            Progress::Completed => complete_course(app, ada, &course).await,
            Progress::GroupRule => {
                let (status, body) = fn_reply(
                    app.call_fn_json(
                        "space-admin/enrol-group",
                        Some(ada),
                        &json!({"course_id": course, "group": GROUP, "due": "None"}),
                    )
                    .await,
                )
                .await;
                assert_eq!(status, 200, "{body}");
                uuid::Uuid::new_v4().to_string()
            }
        };
        arranged.push((course, attempt));
    }
    arranged
}
