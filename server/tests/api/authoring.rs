//! The authoring server functions (`/api/authoring/*`) end to end: the real
//! server on a socket, its own database, and a fake Confluence that answers
//! permission checks from a table. Every refusal is also checked against
//! the database: nothing may have been written.
//!
//! Answers are read as the app's own DTOs, except where a test proves that
//! something appears nowhere in an answer (answers reaching a reader): there
//! the raw text is checked first, then read as the DTO.

use std::fmt::Debug;

use app::{
    authoring::api::{Draft, EditorState, ImportFormat, Outline, OutlineModule},
    course::model::{CourseContent, ImportReport, QuestionKind, Response},
    error::AppError,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::helpers::{
    calls::{Refused, Reply},
    *,
};

const SITE: &str = "site-a";
const SECRET: &str = "site-a-shared-secret-0123456789";
const PAGE: &str = "1001";
const OTHER_PAGE: &str = "1002";
/// May view and edit [`PAGE`].
const ADA: &str = "557058:ada-editor";
/// May view [`PAGE`], not edit it.
const REX: &str = "557058:rex-reader";
/// May neither view nor edit [`PAGE`].
const NED: &str = "557058:ned-nobody";

// The refusals without a message, as the app answers them.

/// Confluence says this user may not.
const FORBIDDEN: Refused = Refused {
    status: 403,
    error: AppError::Forbidden,
};
/// Nothing of that id for this site.
const NOT_FOUND: Refused = Refused {
    status: 404,
    error: AppError::NotFound,
};
/// Failed closed (e.g. Confluence could not answer).
const INTERNAL: Refused = Refused {
    status: 500,
    error: AppError::Internal,
};

/// One installed site at a fake Confluence, with the users above.
struct Site {
    app: TestApp,
    fake: FakeConfluence,
}

/// A context token of [`SITE`] for `account` on `page`.
fn token(account: &str, page: &str) -> String {
    context_token(SITE, SECRET, account, page)
}

impl Site {
    async fn new() -> Self {
        let fake = FakeConfluence::start().await;
        let app = spawn_app_with_confluence(&fake).await;
        app.install_on(&fake, SITE, SECRET).await;
        fake.allow_edit(ADA, PAGE);
        fake.allow_read_only(REX, PAGE);
        fake.grant(NED, PAGE, "read", false);
        fake.grant(NED, PAGE, "update", false);
        Site { app, fake }
    }

    /// A form-encoded server function's raw answer (for leak checks).
    async fn raw(&self, token: &str, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        fn_reply(self.app.call_fn(name, Some(token), form).await).await
    }

    /// `authoring/save-draft`'s raw answer (for leak checks).
    async fn raw_save(
        &self,
        token: &str,
        course_id: Option<&str>,
        revision: i64,
        content: &Value,
    ) -> (u16, Value) {
        let body = json!({"course_id": course_id, "revision": revision, "content": content});
        fn_reply(
            self.app
                .call_fn_json("authoring/save-draft", Some(token), &body)
                .await,
        )
        .await
    }

    /// Creates a course as [`ADA`] on `page` and returns its id.
    async fn create(&self, page: &str, content: &Value) -> String {
        let saved = self
            .app
            .save_draft(&token(ADA, page), None, 0, content)
            .await
            .expect("first save failed");
        assert_eq!(saved.revision, 1);
        saved.course_id.into_string()
    }

    async fn stored(&self, id: &str) -> StoredCourse {
        self.app
            .stored_course(SITE, id)
            .await
            .expect("course is stored")
    }

    async fn counts(&self) -> (i64, i64) {
        self.app.course_and_version_counts(SITE).await
    }
}

/// A raw answer (already checked for leaks) read as the typed reply.
fn read<T: DeserializeOwned>((status, body): &(u16, Value)) -> Reply<T> {
    if *status == 200 {
        Ok(serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("200 with an unexpected body ({e}): {body}")))
    } else {
        let error = serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("{status} without an AppError body ({e}): {body}"));
        Err(Refused {
            status: *status,
            error,
        })
    }
}

/// The message of a 400 refusal ([`AppError::Invalid`]); panics on any other answer.
fn expect_invalid<T: Debug>(reply: &Reply<T>) -> &str {
    match reply {
        Err(Refused {
            status: 400,
            error: AppError::Invalid(message),
        }) => message,
        other => panic!("expected a 400 Invalid, got {other:?}"),
    }
}

/// The message of a 409 refusal ([`AppError::Conflict`]); panics on any other answer.
fn expect_conflict<T: Debug>(reply: &Reply<T>) -> &str {
    match reply {
        Err(Refused {
            status: 409,
            error: AppError::Conflict(message),
        }) => message,
        other => panic!("expected a 409 Conflict, got {other:?}"),
    }
}

/// `content` (canonical course JSON) as the app's course type.
fn course(content: &Value) -> CourseContent {
    serde_json::from_value(content.clone()).expect("a course")
}

#[tokio::test]
async fn a_new_macro_opens_editable_and_saves_create_then_update_the_course_refusing_stale_revisions(
) {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let first = valid_course("Fire safety");
    let mut second = first.clone();
    second["title"] = json!("Fire safety, second draft");
    let mut stale = first.clone();
    stale["title"] = json!("Fire safety, from a stale window");

    // Act
    let opened = site.app.editor_open(&ada, None).await;
    let saved1 = site.app.save_draft(&ada, None, 0, &first).await;
    let id = saved1
        .as_ref()
        .map(|s| s.course_id.to_string())
        .unwrap_or_default();
    let reopened1 = site.app.editor_open(&ada, Some(&id)).await;
    let saved2 = site.app.save_draft(&ada, Some(&id), 1, &second).await;
    let stale_save = site.app.save_draft(&ada, Some(&id), 1, &stale).await;
    // Opened drafts are kept per revision: the next open sees the new one.
    let reopened2 = site.app.editor_open(&ada, Some(&id)).await;

    // Assert
    let opened = opened.expect("an editor opens a new macro");
    assert!(opened.can_edit);
    assert_eq!(opened.course_id, None);
    assert_eq!(opened.revision, 0);
    assert!(!opened.belongs_to_other_page);
    assert!(opened.content.is_some(), "an editor gets a draft");
    assert_eq!(saved1.map(|s| s.revision), Ok(1));
    assert!(!id.is_empty());
    let saved2 = saved2.expect("the second save");
    assert_eq!(saved2.revision, 2);
    assert_eq!(saved2.course_id.as_str(), id);
    expect_conflict(&stale_save); // a stale revision must be refused
    let stored = site.stored(&id).await;
    assert_eq!(stored.draft, second, "the stale save changed the draft");
    let title = |o: Result<EditorState, _>| {
        let o = o.expect("the editor opens the course");
        (
            o.revision,
            o.outline.title,
            o.content.and_then(Draft::into_content).map(|c| c.title),
        )
    };
    assert_eq!(
        title(reopened1),
        (1, "Fire safety".to_owned(), Some("Fire safety".to_owned()))
    );
    let second_title = "Fire safety, second draft".to_owned();
    assert_eq!(
        title(reopened2),
        (2, second_title.clone(), Some(second_title))
    );
    assert_eq!(stored.draft_revision, 2);
    assert_eq!(stored.title, "Fire safety, second draft");
    assert_eq!(stored.page_id, PAGE);
    assert_eq!(stored.latest_version, None);
    assert_eq!(site.counts().await, (1, 0));
    assert_eq!(site.fake.refused(), 0, "the app's JWTs must verify");
    assert!(site
        .fake
        .checks()
        .iter()
        .all(|c| c.client_key.as_deref() == Some(SITE)
            && c.account_id == ADA
            && c.content_id == PAGE));
}

#[tokio::test]
async fn publishing_an_invalid_draft_is_refused_with_400_naming_the_problem_in_the_authors_words_and_writes_no_version(
) {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let empty = site.create(PAGE, &json!({"title": "Empty course"})).await;
    let mut no_correct = valid_course("No correct option");
    no_correct["modules"][0]["quiz"]["questions"][0]["kind"]["options"][1]["correct"] =
        json!(false);
    let broken = site.create(PAGE, &no_correct).await;
    let mut no_text = valid_course("No text");
    no_text["modules"][0]["quiz"]["questions"][1]["prompt_md"] = json!(" ");
    no_text["modules"][0]["lessons"][1]["title"] = json!("");
    let two_problems = site.create(PAGE, &no_text).await;

    // Act
    let e1 = site.app.publish(&ada, &empty, 1, false).await;
    let e2 = site.app.publish(&ada, &broken, 1, false).await;
    let e3 = site.app.publish(&ada, &two_problems, 1, false).await;

    // Assert: in the author's words (the editor's list), never a data path.
    let m1 = expect_invalid(&e1);
    assert_eq!(
        m1,
        "Fix this before publishing: Course: the course has no modules; add a module with a \
         lesson or a quiz."
    );
    let m2 = expect_invalid(&e2);
    assert_eq!(
        m2,
        "Fix this before publishing: Module 1 “Basics” › Quiz › Question 1: mark the correct \
         option: a single-choice question needs exactly one."
    );
    let m3 = expect_invalid(&e3);
    assert_eq!(
        m3,
        "Fix 2 problems before publishing. The first: Module 1 “Basics” › Lesson 2: the lesson \
         needs a title."
    );
    for m in [&m1, &m2, &m3] {
        assert!(!m.contains("modules["), "no data path: {m}");
    }
    assert_eq!(site.counts().await, (3, 0), "no version may be written");
    assert_eq!(site.stored(&empty).await.latest_version, None);
    assert_eq!(site.stored(&broken).await.latest_version, None);
}

#[tokio::test]
async fn a_refusal_to_publish_is_worded_in_the_language_of_the_page_that_asked() {
    // Arrange: a draft whose first question has no correct option.
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let mut no_correct = valid_course("No correct option");
    no_correct["modules"][0]["quiz"]["questions"][0]["kind"]["options"][1]["correct"] =
        json!(false);
    let id = site.create(PAGE, &no_correct).await;
    let form = [
        ("course_id", id.as_str()),
        ("revision", "1"),
        ("material", "false"),
    ];
    let publish_in = |language: &'static str| {
        let (site, ada, form) = (&site, &ada, &form);
        async move {
            read::<Value>(
                &fn_reply(
                    site.app
                        .call_fn_in(language, "authoring/publish", ada, form)
                        .await,
                )
                .await,
            )
        }
    };

    // Act: the editor in Confluence's German (any German region), in
    // English, and in a language the app does not speak.
    let de = publish_in("de-DE").await;
    let de_ch = publish_in("de-CH").await;
    let en = publish_in("en-US").await;
    let fr = publish_in("fr-FR").await;

    // Assert
    assert_eq!(
        expect_invalid(&de),
        "Behebe das vor dem Veröffentlichen: Modul 1 „Basics“ › Quiz › Frage 1: Markiere die \
         richtige Option: Eine Einfachauswahl-Frage braucht genau eine."
    );
    assert_eq!(expect_invalid(&de_ch), expect_invalid(&de));
    let english = "Fix this before publishing: Module 1 “Basics” › Quiz › Question 1: mark the \
                   correct option: a single-choice question needs exactly one.";
    assert_eq!(expect_invalid(&en), english);
    assert_eq!(
        expect_invalid(&fr),
        english,
        "unknown languages fall back to English"
    );
    assert_eq!(site.counts().await, (1, 0), "no version may be written");
}

#[tokio::test]
async fn published_versions_are_immutable_snapshots_listed_newest_first() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let v1_content = valid_course("Fire safety");
    let id = site.create(PAGE, &v1_content).await;
    let mut v2_content = v1_content.clone();
    v2_content["title"] = json!("Fire safety 2");
    v2_content["modules"][0]["lessons"][1]["body_md"] = json!("Changed body.");

    // Act
    let v1 = site.app.publish(&ada, &id, 1, true).await;
    let saved = site.app.save_draft(&ada, Some(&id), 1, &v2_content).await;
    let v2 = site.app.publish(&ada, &id, 2, true).await;
    let opened = site.app.editor_open(&ada, Some(&id)).await;
    let got_v1 = site.app.version_content(&ada, &id, 1).await;
    let got_v2 = site.app.version_content(&ada, &id, 2).await;
    let missing = site.app.version_content(&ada, &id, 3).await;

    // Assert
    let v1 = v1.expect("publishing version 1");
    assert_eq!(v1.version, 1);
    assert_eq!(v1.title, "Fire safety");
    assert!(!v1.material, "the first version cannot invalidate passes");
    assert_eq!(v1.published_by.as_deref(), Some(ADA));
    assert_eq!(saved.map(|s| s.revision), Ok(2));
    let v2 = v2.expect("publishing version 2");
    assert_eq!(v2.version, 2);
    assert!(v2.material);
    let opened = opened.expect("the editor opens");
    assert_eq!(opened.latest_version, Some(2));
    let listed: Vec<i64> = opened.versions.iter().map(|v| v.version).collect();
    assert_eq!(listed, [2, 1], "newest first");
    assert_eq!(opened.versions[0].title, "Fire safety 2");
    assert_eq!(got_v1, Ok(course(&v1_content)), "version 1 changed");
    assert_eq!(got_v2, Ok(course(&v2_content)));
    assert_eq!(missing, Err(NOT_FOUND));
    let stored = site.app.stored_versions(SITE, &id).await;
    assert_eq!(
        stored,
        [(1, v1_content.clone()), (2, v2_content.clone())],
        "stored snapshots"
    );
}

#[tokio::test]
async fn the_database_refuses_to_update_a_published_version() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    let mut conn = site.app.db_connection().await;

    // Act
    let update = sqlx::query(
        "UPDATE course_versions SET content_json = '{}', title = 'tampered' \
         WHERE client_key = $1 AND course_id = $2",
    )
    .bind(SITE)
    .bind(&id)
    .execute(&mut conn)
    .await;

    // Assert
    let err = update.expect_err("an UPDATE on course_versions must fail (trigger)");
    assert!(
        err.to_string().contains("immutable"),
        "the trigger's message: {err}"
    );
    assert_eq!(site.app.stored_versions(SITE, &id).await, [(1, content)]);
}

#[tokio::test]
async fn restoring_version_1_makes_it_the_draft_again_with_a_new_revision() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let v1_content = valid_course("Fire safety");
    let id = site.create(PAGE, &v1_content).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    let mut changed = v1_content.clone();
    changed["title"] = json!("Rewritten");
    changed["modules"][0]["lessons"]
        .as_array_mut()
        .unwrap()
        .pop();
    site.app
        .save_draft(&ada, Some(&id), 1, &changed)
        .await
        .expect("saving the change");

    // Act
    let stale = site.app.restore_version(&ada, &id, 1, 1).await;
    let restored = site.app.restore_version(&ada, &id, 1, 2).await;
    let opened = site.app.editor_open(&ada, Some(&id)).await;

    // Assert
    expect_conflict(&stale); // a stale revision must be refused
    let restored = restored.expect("restoring version 1");
    assert_eq!(restored.revision, 3);
    assert_eq!(restored.course_id.as_str(), id);
    let opened = opened.expect("the editor opens");
    assert_eq!(opened.content, Some(Draft::Content(course(&v1_content))));
    assert_eq!(opened.revision, 3);
    let stored = site.stored(&id).await;
    assert_eq!(stored.draft, v1_content);
    assert_eq!(stored.title, "Fire safety");
    assert_eq!(
        stored.latest_version,
        Some(1),
        "restoring publishes nothing"
    );
}

/// Raw answers: the point is that no answer text reaches the reader.
#[tokio::test]
async fn a_viewer_without_edit_permission_sees_the_outline_without_answers_and_changes_nothing() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let rex = token(REX, PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    let before = site.stored(&id).await;
    let export = site
        .app
        .export_course(&ada, &id)
        .await
        .expect("the editor exports");
    let gift = "::Q1:: 2+2? {=4 ~5}";

    // Act
    let opened = site
        .raw(&rex, "authoring/open", &[("course_id", &id)])
        .await;
    let refused: Vec<(&str, (u16, Value))> = vec![
        (
            "save-draft (existing)",
            site.raw_save(&rex, Some(&id), 1, &content).await,
        ),
        (
            "save-draft (new)",
            site.raw_save(&rex, None, 0, &content).await,
        ),
        (
            "publish",
            site.raw(
                &rex,
                "authoring/publish",
                &[("course_id", &id), ("revision", "1"), ("material", "false")],
            )
            .await,
        ),
        (
            "restore",
            site.raw(
                &rex,
                "authoring/restore",
                &[("course_id", &id), ("version", "1"), ("revision", "1")],
            )
            .await,
        ),
        (
            "version",
            site.raw(
                &rex,
                "authoring/version",
                &[("course_id", &id), ("version", "1")],
            )
            .await,
        ),
        (
            "export",
            site.raw(&rex, "authoring/export", &[("course_id", &id)])
                .await,
        ),
        (
            "copy",
            site.raw(&rex, "authoring/copy", &[("course_id", &id)])
                .await,
        ),
        (
            "import-questions",
            site.raw(
                &rex,
                "authoring/import-questions",
                &[("format", "Gift"), ("text", gift)],
            )
            .await,
        ),
        (
            "import-course",
            site.raw(&rex, "authoring/import-course", &[("json", &export)])
                .await,
        ),
        (
            "preview",
            site.raw(&rex, "authoring/preview", &[("markdown", "**b**")])
                .await,
        ),
    ];

    // Assert
    let text = opened.1.to_string();
    for leak in ["hidden-", "\"correct\"", "4242.5", "accepted", "prompt_md"] {
        assert!(!text.contains(leak), "{leak} reached a reader: {text}");
    }
    let opened: EditorState = read(&opened).expect("a reader opens the editor");
    assert!(!opened.can_edit);
    assert_eq!(opened.content, None, "no draft for a reader");
    assert_eq!(opened.course_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        opened.outline,
        Outline {
            title: "Fire safety".into(),
            modules: vec![OutlineModule {
                title: "Basics".into(),
                lessons: vec!["Why it matters".into(), "Extinguishers".into()],
                questions: 7,
            }],
        }
    );
    for (name, answer) in &refused {
        let body = &answer.1;
        assert!(!body.to_string().contains("hidden-"), "{name}: {body}");
        assert_eq!(read::<Value>(answer), Err(FORBIDDEN), "{name} by a reader");
    }
    assert_eq!(
        site.stored(&id).await,
        before,
        "a reader changed the course"
    );
    assert_eq!(site.counts().await, (1, 1), "a reader wrote something");
}

#[tokio::test]
async fn a_user_who_may_not_even_view_the_page_cannot_open_the_editor() {
    // Arrange
    let site = Site::new().await;
    let id = site.create(PAGE, &valid_course("Fire safety")).await;
    let ned = token(NED, PAGE);

    // Act: the existing course's answer raw, to prove no answer is in it.
    let existing = site
        .raw(&ned, "authoring/open", &[("course_id", &id)])
        .await;
    let new = site.app.editor_open(&ned, None).await;

    // Assert
    let body = &existing.1;
    assert!(!body.to_string().contains("hidden-"), "{body}");
    assert_eq!(read::<EditorState>(&existing), Err(FORBIDDEN));
    assert_eq!(new, Err(FORBIDDEN));
}

#[tokio::test]
async fn a_course_opened_from_a_copied_page_is_flagged_refuses_saves_and_can_be_copied() {
    // Arrange
    let site = Site::new().await;
    site.fake.allow_edit(ADA, OTHER_PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    let before = site.stored(&id).await;
    let on_copy = token(ADA, OTHER_PAGE);
    let mut edited = content.clone();
    edited["title"] = json!("Edited on the copy");

    // Act
    let opened = site.app.editor_open(&on_copy, Some(&id)).await;
    let saved = site.app.save_draft(&on_copy, Some(&id), 1, &edited).await;
    let published = site.app.publish(&on_copy, &id, 1, false).await;
    let copied = site.app.copy_course(&on_copy, &id).await;

    // Assert
    let opened = opened.expect("the editor opens on the copied page");
    assert!(opened.belongs_to_other_page);
    assert!(opened.can_edit);
    expect_conflict(&saved);
    expect_conflict(&published);
    let copied = copied.expect("the course is copied");
    let new_id = copied.course_id.expect("the copy has an id").into_string();
    assert_ne!(new_id, id);
    assert!(!copied.belongs_to_other_page);
    assert_eq!(copied.content, Some(Draft::Content(course(&content))));
    assert_eq!(copied.revision, 1);
    let copy = site.stored(&new_id).await;
    assert_eq!(copy.page_id, OTHER_PAGE);
    assert_eq!(copy.draft, content);
    assert_eq!(copy.copied_from.as_deref(), Some(id.as_str()));
    assert_eq!(
        site.stored(&id).await,
        before,
        "the original must be unchanged"
    );
}

#[tokio::test]
async fn markdown_preview_is_sanitised_like_the_learner_view() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let markdown = "**b** <script>alert(1)</script> [x](javascript:alert(2)) \
                    <a href=\"javascript:alert(3)\">y</a>";

    // Act
    let html = site.app.preview_markdown(&ada, markdown).await;

    // Assert
    let html = html.expect("a string of HTML");
    assert!(html.contains("<strong>b</strong>"), "{html}");
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(!html.to_lowercase().contains("javascript:"), "{html}");
}

#[tokio::test]
async fn gift_import_reports_a_bad_question_by_line_number_and_writes_nothing() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    let before = site.stored(&id).await;
    let gift = "// a comment\n::Q1:: What is 2+2? {=4 ~3 ~5}\n\n::Q2:: Write an essay. {}\n";

    // Act
    let report = site
        .app
        .import_questions(&ada, ImportFormat::Gift, gift)
        .await;

    // Assert
    let report = report.expect("an import report");
    assert_eq!(report.questions.len(), 1, "{report:?}");
    assert!(
        matches!(report.questions[0].kind, QuestionKind::SingleChoice { .. }),
        "{report:?}"
    );
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].line, 4, "{report:?}");
    assert!(!report.problems[0].message.is_empty());
    assert_eq!(
        site.stored(&id).await,
        before,
        "an import is a dry run: nothing written"
    );
    assert_eq!(site.counts().await, (1, 0));
}

#[tokio::test]
async fn import_problems_are_worded_in_the_language_of_the_page() {
    // Arrange: an essay question (GIFT) and an answer naming no option (Aiken).
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let import_in = |language: &'static str, format: &'static str, text: &'static str| {
        let (site, ada) = (&site, &ada);
        async move {
            read::<ImportReport>(
                &fn_reply(
                    site.app
                        .call_fn_in(
                            language,
                            "authoring/import-questions",
                            ada,
                            &[("format", format), ("text", text)],
                        )
                        .await,
                )
                .await,
            )
            .expect("an import report")
        }
    };
    let gift = "::Q1:: Write an essay. {}\n";
    let aiken = "What is 2+2?\nA. 3\nB. 4\nANSWER: Z\n";

    // Act
    let gift_de = import_in("de-DE", "Gift", gift).await;
    let gift_en = import_in("en-US", "Gift", gift).await;
    let aiken_de = import_in("de-AT", "Aiken", aiken).await;
    let aiken_en = import_in("en", "Aiken", aiken).await;

    // Assert: the same problems at the same lines, in the page's language.
    let texts = |r: &ImportReport| -> Vec<(usize, String)> {
        r.problems
            .iter()
            .map(|p| (p.line, p.message.clone()))
            .collect()
    };
    assert_eq!(
        texts(&gift_de),
        [(
            1,
            "Freitextfragen ('{}') werden nicht unterstützt: Sie müssen von Hand bewertet werden."
                .to_owned()
        )]
    );
    assert_eq!(
        texts(&gift_en),
        [(
            1,
            "Essay questions ('{}') are not supported: they need manual grading.".to_owned()
        )]
    );
    assert_eq!(
        texts(&aiken_de),
        [(4, "'ANSWER: Z' nennt keine der Optionen (AB).".to_owned())]
    );
    assert_eq!(
        texts(&aiken_en),
        [(
            4,
            "'ANSWER: Z' does not name one of the options (AB).".to_owned()
        )]
    );
}

#[tokio::test]
async fn aiken_import_returns_single_choice_questions() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let aiken =
        "What is 2+2?\nA. 3\nB. 4\nANSWER: B\n\nWhich is a colour?\nA) Red\nB) Seven\nANSWER: A\n";

    // Act
    let report = site
        .app
        .import_questions(&ada, ImportFormat::Aiken, aiken)
        .await;

    // Assert
    let report = report.expect("an import report");
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.questions.len(), 2);
    assert_eq!(report.questions[0].prompt_md, "What is 2+2?");
    let QuestionKind::SingleChoice { options } = &report.questions[0].kind else {
        panic!("a single choice question: {report:?}");
    };
    let correct: Vec<&str> = options
        .iter()
        .filter(|o| o.correct)
        .map(|o| o.text.as_str())
        .collect();
    assert_eq!(correct, ["4"]);
    assert_eq!(site.counts().await, (0, 0));
}

#[tokio::test]
async fn an_exported_course_imports_unchanged_into_another_sites_page() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    const SITE_B: &str = "site-b";
    const SECRET_B: &str = "site-b-shared-secret-0123456789";
    const BEA: &str = "557058:bea-editor-on-b";
    site.app.install_on(&site.fake, SITE_B, SECRET_B).await;
    site.fake.allow_edit(BEA, "2001");
    let bea = context_token(SITE_B, SECRET_B, BEA, "2001");

    // Act
    let export = site.app.export_course(&ada, &id).await;
    let file_text = export.clone().unwrap_or_default();
    let imported = site.app.import_course(&bea, &file_text).await;
    let draft = imported.as_ref().map(|c| json!(c)).unwrap_or_default();
    let saved = site.app.save_draft(&bea, None, 0, &draft).await;

    // Assert
    let export = export.expect("the editor exports");
    // The file format itself, as another site reads it.
    let file: Value = serde_json::from_str(&export).expect("the export is JSON");
    assert_eq!(file["format"], "smart-courses/course");
    assert_eq!(file["version"], 1);
    assert_eq!(file["content"], content);
    assert_eq!(imported, Ok(course(&content)));
    let b_id = saved.expect("site B saves the import").course_id;
    let on_b = site.app.stored_course(SITE_B, &b_id).await.unwrap();
    assert_eq!(on_b.draft, content);
    assert_eq!(on_b.page_id, "2001");
    assert!(
        site.app.stored_course(SITE_B, &id).await.is_none(),
        "the import made a new course on site B, not a link to A's"
    );
}

#[tokio::test]
async fn importing_a_file_that_is_not_a_course_export_is_refused_with_a_clear_message() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);

    // Act
    let garbage = site.app.import_course(&ada, "this is not json {").await;
    let other = site
        .app
        .import_course(&ada, r#"{"format": "moodle/backup", "version": 1}"#)
        .await;

    // Assert
    let m1 = expect_invalid(&garbage);
    assert!(m1.contains("not valid JSON"), "{m1}");
    let m2 = expect_invalid(&other);
    assert!(m2.contains("not a Smart Courses course export"), "{m2}");
    assert_eq!(site.counts().await, (0, 0));
}

#[tokio::test]
async fn a_draft_over_512_kb_is_refused_with_400_and_nothing_is_written() {
    // Arrange
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    let before = site.stored(&id).await;
    let mut huge = content.clone();
    huge["modules"][0]["lessons"][0]["body_md"] = json!("x".repeat(600 * 1024));

    // Act
    let e1 = site.app.save_draft(&ada, Some(&id), 1, &huge).await;
    let e2 = site.app.save_draft(&ada, None, 0, &huge).await;

    // Assert
    let m1 = expect_invalid(&e1);
    assert!(m1.contains("too large"), "{m1}");
    expect_invalid(&e2);
    assert_eq!(site.stored(&id).await, before);
    assert_eq!(site.counts().await, (1, 0));
}

#[tokio::test]
async fn when_confluence_cannot_be_reached_calls_fail_closed_with_500_and_write_nothing() {
    // Arrange: a site whose baseUrl points at a closed port.
    let site = Site::new().await;
    const DOWN: &str = "site-down";
    const DOWN_SECRET: &str = "site-down-shared-secret-0123456789";
    site.app
        .install_at(DOWN, DOWN_SECRET, &closed_port_base_url())
        .await;
    let on_down = context_token(DOWN, DOWN_SECRET, ADA, PAGE);
    let content = valid_course("Fire safety");

    // Act
    let opened = site.app.editor_open(&on_down, None).await;
    let saved = site.app.save_draft(&on_down, None, 0, &content).await;
    let preview = site.app.preview_markdown(&on_down, "x").await;

    // Assert
    assert_eq!(opened, Err(INTERNAL));
    assert_eq!(saved, Err(INTERNAL));
    assert_eq!(preview, Err(INTERNAL));
    assert_eq!(site.app.course_and_version_counts(DOWN).await, (0, 0));
}

#[tokio::test]
async fn when_confluence_answers_with_errors_calls_fail_closed_with_500_and_write_nothing() {
    // Arrange: a course exists; then Confluence starts answering 503. (A
    // different user than the one who created it, so no cached decision.)
    let site = Site::new().await;
    let content = valid_course("Fire safety");
    let id = site.create(PAGE, &content).await;
    let before = site.stored(&id).await;
    const EVE: &str = "557058:eve-editor";
    site.fake.allow_edit(EVE, PAGE);
    let eve = token(EVE, PAGE);
    let mut changed = content.clone();
    changed["title"] = json!("Changed while Confluence is down");
    site.fake.set_outage(true);

    // Act
    let opened = site.app.editor_open(&eve, Some(&id)).await;
    let saved = site.app.save_draft(&eve, Some(&id), 1, &changed).await;
    let published = site.app.publish(&eve, &id, 1, false).await;

    // Assert
    assert_eq!(opened, Err(INTERNAL));
    assert_eq!(saved, Err(INTERNAL));
    assert_eq!(published, Err(INTERNAL));
    assert_eq!(site.stored(&id).await, before);
    assert_eq!(site.counts().await, (1, 0));
}

/// Regression test (fixed in `app/src/authoring/api.rs`): the permission
/// check was made on the page the caller's token names, never on the page
/// the course belongs to: `open` (content when `can_edit`),
/// `version_content`, `export` and `copy` loaded any course of the site by
/// id. So a user who may not even view a restricted page, but may edit some
/// page of their own, read its answers by calling with its course id
/// (visible to anyone who can see the macro's parameters, e.g. in the page
/// source or an earlier version of the page).
///
/// Raw answers: the point is that no answer text appears in any of them.
#[tokio::test]
async fn a_user_who_cannot_view_the_courses_page_cannot_read_its_answers_from_a_page_they_edit() {
    // Arrange: ADA's course on PAGE; MAL edits his own page but may not view PAGE.
    let site = Site::new().await;
    let ada = token(ADA, PAGE);
    let id = site.create(PAGE, &valid_course("Restricted course")).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    const MAL: &str = "557058:mal-other-page-editor";
    const MALS_PAGE: &str = "3001";
    site.fake.allow_edit(MAL, MALS_PAGE);
    site.fake.grant(MAL, PAGE, "read", false);
    site.fake.grant(MAL, PAGE, "update", false);
    let mal = token(MAL, MALS_PAGE);

    // Act
    let answers = [
        (
            "open",
            site.raw(&mal, "authoring/open", &[("course_id", &id)])
                .await,
        ),
        (
            "export",
            site.raw(&mal, "authoring/export", &[("course_id", &id)])
                .await,
        ),
        (
            "version",
            site.raw(
                &mal,
                "authoring/version",
                &[("course_id", &id), ("version", "1")],
            )
            .await,
        ),
        (
            "copy",
            site.raw(&mal, "authoring/copy", &[("course_id", &id)])
                .await,
        ),
        (
            "analytics",
            site.raw(&mal, "authoring/analytics", &[("course_id", &id)])
                .await,
        ),
    ];

    // Assert
    let leaks: Vec<String> = answers
        .iter()
        .filter(|(_, (_, body))| body.to_string().contains("hidden-"))
        .map(|(name, (status, _))| format!("{name} answered {status} with the answers"))
        .collect();
    assert!(
        leaks.is_empty(),
        "BUG: answers of a course on a page the caller cannot view: {leaks:?}"
    );
    for (name, answer) in &answers {
        assert_eq!(read::<Value>(answer), Err(FORBIDDEN), "{name}");
    }
    assert_eq!(
        site.counts().await,
        (1, 1),
        "BUG: a course was copied from a page the caller cannot view"
    );
}

#[tokio::test]
async fn when_confluence_refuses_the_apps_credentials_calls_fail_closed_with_500() {
    // Arrange: Confluence knows another secret for this site than the app
    // (so it refuses the app's JWTs with 401).
    let site = Site::new().await;
    const STALE: &str = "site-stale-secret";
    site.app
        .install_at(
            STALE,
            "the-secret-the-app-has-0123456789",
            &site.fake.base_url(),
        )
        .await;
    site.fake
        .add_site(STALE, "a-newer-secret-confluence-has-0123");
    let on_stale = context_token(STALE, "the-secret-the-app-has-0123456789", ADA, PAGE);

    // Act
    let opened = site.app.editor_open(&on_stale, None).await;
    let saved = site
        .app
        .save_draft(&on_stale, None, 0, &valid_course("x"))
        .await;

    // Assert
    assert_eq!(opened, Err(INTERNAL));
    assert_eq!(saved, Err(INTERNAL));
    assert!(site.fake.refused() >= 2, "the fake verified the app's JWTs");
    assert_eq!(site.app.course_and_version_counts(STALE).await, (0, 0));
}

#[tokio::test]
async fn the_editor_sees_how_each_question_did_once_two_learners_answered_and_readers_are_refused()
{
    // Arrange: version 1 published; Rex and Lea answer only the true/false
    // question q3, Rex right and Lea wrong.
    let site = Site::new().await;
    const LEA: &str = "557058:lea-learner";
    site.fake.allow_read_only(LEA, PAGE);
    let ada = token(ADA, PAGE);
    let id = site.create(PAGE, &valid_course("Analysed course")).await;
    let unpublished = site.create(PAGE, &valid_course("Draft only")).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    for (learner, answer) in [(REX, true), (LEA, false)] {
        let t = token(learner, PAGE);
        let attempt = site
            .app
            .start_attempt(&t, &id, "m1", &uuid::Uuid::new_v4().to_string())
            .await
            .expect("the attempt starts");
        let now = site.app.now_ms();
        site.app
            .submit_attempt(
                &t,
                &attempt.attempt_id,
                &[("q3", Response::Bool(answer), now)],
            )
            .await
            .expect("the attempt is graded");
    }

    // Act
    let figures = site.app.editor_analytics(&ada, &id, None).await;
    let by_reader = site
        .app
        .editor_analytics(&token(REX, PAGE), &id, None)
        .await;
    let by_nobody = site
        .app
        .editor_analytics(&token(NED, PAGE), &id, None)
        .await;
    let never_published = site.app.editor_analytics(&ada, &unpublished, None).await;
    let no_such_version = site.app.editor_analytics(&ada, &id, Some(2)).await;

    // Assert
    let figures = figures.expect("the editor gets the figures");
    assert_eq!((figures.version, figures.versions.clone()), (1, vec![1]));
    let quiz = &figures.quizzes[0];
    assert_eq!((quiz.module_id.as_str(), quiz.attempts), ("m1", 2));
    let stats = |q: &str| {
        &quiz
            .questions
            .iter()
            .find(|x| x.question_id == q)
            .unwrap_or_else(|| panic!("no figures for {q}: {figures:?}"))
            .stats
    };
    assert_eq!(stats("q3").facility, Some(0.5), "one of two right");
    assert_eq!((stats("q3").attempts, stats("q3").answered), (2, 2));
    assert_eq!(stats("q1").facility, Some(0.0), "unanswered counts 0");
    assert_eq!(stats("q1").answered, 0);
    assert_eq!(by_reader, Err(FORBIDDEN), "view permission is not enough");
    assert_eq!(by_nobody, Err(FORBIDDEN));
    assert_eq!(never_published, Err(NOT_FOUND));
    assert_eq!(no_such_version, Err(NOT_FOUND));
}

#[tokio::test]
async fn publishing_a_changed_access_mode_is_recorded_in_the_space_audit_log() {
    // Arrange: version 1 open to everyone; the draft then made enrolled-only.
    let site = Site::new().await;
    const SAM: &str = "557058:sam-space-admin";
    site.fake.make_space_admin(SAM, "DEV");
    let ada = token(ADA, PAGE);
    let mut content = valid_course("Access course");
    let id = site.create(PAGE, &content).await;
    site.app
        .publish(&ada, &id, 1, false)
        .await
        .expect("publishing version 1");
    content["settings"]["access"] = json!("enrolled_only");
    site.app
        .save_draft(&ada, Some(&id), 1, &content)
        .await
        .expect("the draft is saved");
    let access_entries = "SELECT COUNT(*) FROM audit_log WHERE action = 'access_mode'";
    let before = site.app.count(access_entries).await;

    // Act: version 2 changes the mode, version 3 does not.
    site.app
        .publish(&ada, &id, 2, false)
        .await
        .expect("publishing version 2");
    site.app
        .publish(&ada, &id, 2, false)
        .await
        .expect("publishing version 3");

    // Assert
    assert_eq!(before, 0, "the first version changes nothing");
    assert_eq!(site.app.count(access_entries).await, 1);
    let mut db = site.app.db_connection().await;
    let (space, course, actor, detail): (String, String, String, String) = sqlx::query_as(
        "SELECT space_key, course_id, actor, detail FROM audit_log WHERE action = 'access_mode'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        (space.as_str(), course.as_str(), actor.as_str()),
        ("DEV", id.as_str(), ADA)
    );
    assert_eq!(
        serde_json::from_str::<Value>(&detail).unwrap(),
        json!({"from": "Open to everyone who can view the page",
               "to": "Enrolled learners only", "version": 2})
    );
    let log = site
        .app
        .audit_log(&token(SAM, PAGE), None, None)
        .await
        .expect("the space admin reads the log");
    assert_eq!(log.entries.len(), 1, "{log:?}");
    assert_eq!(log.entries[0].action, "access_mode");
    assert!(
        log.entries[0].summary.contains("Enrolled learners only")
            && log.entries[0].summary.contains("version 2"),
        "{:?}",
        log.entries[0]
    );
}
