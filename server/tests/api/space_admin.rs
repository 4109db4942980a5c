//! Space administration through the real server and a fake Confluence:
//! enrolments (people, group rules and their sync, due dates), access modes
//! as learners meet them, the report's pages and filters, one learner's
//! attempts, analytics, the audit log (append-only in the database) and the
//! CSV exports.

use app::{
    course::model::Response,
    error::AppError,
    space_admin::api::{DueRule, LearnerState, ReasonFilter, ReportQuery, ReportSort},
};
use serde_json::{json, Value};
use testkit::{Stub, User};

use crate::helpers::{
    calls::{self, Refused, Reply},
    *,
};

const SITE: &str = "site-a";
const SECRET: &str = "site-a-shared-secret-0123456789";
const PAGE: &str = "3001";
const AUTHOR: &str = "557058:author";
const SAM: &str = "557058:sam-space-admin";
const LEA: &str = "557058:lea-learner";
const LEO: &str = "557058:leo-learner";
const GROUP: &str = "new-starters";
const DAY_MS: i64 = 86_400_000;

fn token(account: &str) -> String {
    context_token(SITE, SECRET, account, PAGE)
}

/// One module with a lesson and a quiz of `n` true/false questions (all true).
fn course_json(n: usize, settings: Value) -> Value {
    let questions: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"id": format!("t{i}"), "prompt_md": format!("Statement {i}"), "points": 1.0,
                   "kind": {"type": "true_false", "answer": true}})
        })
        .collect();
    json!({
        "title": "Fire safety",
        "description_md": "Learn fire safety.",
        "modules": [{"id": "m1", "title": "Basics",
                     "lessons": [{"id": "l1", "title": "Why", "body_md": "Read this."}],
                     "quiz": {"questions": questions}}],
        "settings": settings,
    })
}

struct Site {
    app: TestApp,
    fake: FakeConfluence,
}

impl Site {
    async fn new() -> Self {
        let fake = FakeConfluence::start().await;
        let app = spawn_app_with_confluence(&fake).await;
        fake.add_user_with(User::new(LEA, "Lea Learner").with_email("lea@example.com"));
        fake.add_user_with(User::new(LEO, "Leo Learner"));
        app.install_on(&fake, SITE, SECRET).await;
        fake.allow_edit(AUTHOR, PAGE);
        fake.allow_read_only(LEA, PAGE);
        fake.allow_read_only(LEO, PAGE);
        fake.make_space_admin(SAM, "DEV");
        fake.allow_read_only(SAM, PAGE);
        Site { app, fake }
    }

    async fn publish(&self, content: &Value) -> String {
        let author = token(AUTHOR);
        let saved = self
            .app
            .save_draft(&author, None, 0, content)
            .await
            .expect("the draft is saved");
        self.app
            .publish(&author, &saved.course_id, saved.revision, false)
            .await
            .expect("the course is published");
        saved.course_id.to_string()
    }

    /// `who` opens the lesson and answers the quiz (`right` of the answers true).
    async fn take(&self, who: &str, id: &str, answers: &[bool]) -> f64 {
        let t = token(who);
        self.app
            .open_lesson(&t, id, 1, "l1")
            .await
            .expect("the lesson opens");
        let view = self
            .app
            .start_attempt(&t, id, "m1", &uuid::Uuid::new_v4().to_string())
            .await
            .expect("the attempt starts");
        let now = self.app.now_ms();
        let ids: Vec<String> = (1..=answers.len()).map(|i| format!("t{i}")).collect();
        let given: Vec<(&str, Response, i64)> = ids
            .iter()
            .zip(answers)
            .map(|(q, a)| (q.as_str(), Response::Bool(*a), now))
            .collect();
        self.app
            .submit_attempt(&t, &view.attempt_id, &given)
            .await
            .expect("the attempt is graded")
            .percent
    }

    async fn report(&self, id: &str, query: ReportQuery) -> app::space_admin::api::CourseReport {
        self.app
            .course_report_with(&token(SAM), id, &query)
            .await
            .expect("the report")
    }
}

fn row<'a>(
    r: &'a app::space_admin::api::CourseReport,
    account: &str,
) -> &'a app::space_admin::api::LearnerRow {
    r.rows
        .iter()
        .find(|x| x.account_id == account)
        .unwrap_or_else(|| panic!("no row for {account}: {r:?}"))
}

#[tokio::test]
async fn enrolments_say_why_and_by_when_and_mark_the_overdue() {
    // Arrange
    let site = Site::new().await;
    site.fake.add_to_group(GROUP, LEA);
    site.fake.add_to_group(GROUP, LEO);
    let id = site.publish(&course_json(1, json!({}))).await;
    let now = site.app.now_ms();
    let sam = token(SAM);

    // Act
    let direct = site
        .app
        .enrol(&sam, &id, &[LEA], Some(now + DAY_MS))
        .await
        .expect("enrolled");
    let group = site
        .app
        .enrol_group(&sam, &id, GROUP, DueRule::DaysAfter(7))
        .await
        .expect("the group is enrolled");
    let report = site.report(&id, ReportQuery::default()).await;

    // Assert
    assert_eq!((direct.added, direct.already), (1, 0));
    assert_eq!(group.members, Some(2));
    assert_eq!(report.counts.enrolled, 2, "{report:?}");
    let lea = row(&report, LEA);
    assert!(
        lea.reasons.direct && lea.reasons.groups == [GROUP],
        "{lea:?}"
    );
    assert_eq!(lea.due_at_ms, Some(now + DAY_MS), "an admin's date wins");
    let leo = row(&report, LEO);
    assert!(
        !leo.reasons.direct && leo.reasons.groups == [GROUP],
        "{leo:?}"
    );
    let leo_due = leo.due_at_ms.expect("the rule's date");
    assert_eq!(leo_due, leo.enrolled_at_ms.unwrap() + 7 * DAY_MS);
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].due, DueRule::DaysAfter(7));
    assert_eq!(report.groups[0].members, 2);

    // Eight days on: both overdue; Lea completes and is not any more.
    site.app.clock.advance(8 * DAY_MS);
    let overdue = site
        .report(
            &id,
            ReportQuery {
                overdue_only: true,
                ..ReportQuery::default()
            },
        )
        .await;
    assert_eq!(overdue.total, 2, "{overdue:?}");
    let leo_view = site.app.learner_course(&token(LEO), &id).await.unwrap();
    let enrolment = leo_view.access.enrolment.expect("Leo sees his enrolment");
    assert_eq!(enrolment.due_at_ms, Some(leo_due));
    assert!(enrolment.overdue, "the learner sees 'overdue'");
    assert_eq!(site.take(LEA, &id, &[true]).await, 100.0);
    let after = site.report(&id, ReportQuery::default()).await;
    assert!(!row(&after, LEA).overdue);
    assert_eq!(row(&after, LEA).state, LearnerState::Completed);
    assert!(row(&after, LEO).overdue);
    assert_eq!(after.counts.overdue, 1);
    assert!(
        after.status_chart_svg.contains("Overdue")
            && after.status_chart_svg.contains("role=\"img\""),
        "{}",
        after.status_chart_svg
    );
    assert!(
        after.completion_chart_svg.contains("1 of 2"),
        "{}",
        after.completion_chart_svg
    );

    // Unenrolling Lea leaves her enrolled through the group, and says so.
    let un = site.app.unenrol(&sam, &id, &[LEA]).await.unwrap();
    assert_eq!(un.removed, 0);
    assert_eq!(un.kept_by_group, vec![LEA.to_owned()]);
    let set = site.app.set_due(&sam, &id, &[LEO], None).await.unwrap();
    assert_eq!(set, 1);
    // Removing the rule unenrols those only it covered: Leo, and Lea
    // (her direct enrolment was removed above); Lea's records stay.
    let gone = site.app.remove_group(&sam, &id, GROUP).await.unwrap();
    assert_eq!(gone.removed, 2);
    let last = site.report(&id, ReportQuery::default()).await;
    assert_eq!(last.counts.enrolled, 0);
    assert_eq!(row(&last, LEA).enrolled_at_ms, None);
    assert_eq!(row(&last, LEA).state, LearnerState::Completed);
    let again = site.app.remove_group(&sam, &id, GROUP).await;
    assert!(
        matches!(again, Err(Refused { status: 404, .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn group_members_who_join_later_are_enrolled_when_the_tab_opens_and_leavers_on_sync() {
    // Arrange: the rule is made while only Lea is in the group.
    let site = Site::new().await;
    site.fake.add_to_group(GROUP, LEA);
    let id = site.publish(&course_json(1, json!({}))).await;
    let sam = token(SAM);
    site.app
        .enrol_group(&sam, &id, GROUP, DueRule::None)
        .await
        .unwrap();
    site.fake.add_to_group(GROUP, LEO);

    // Act: the admin opens the tab.
    let overview = site.app.space_overview(&sam).await.expect("the overview");

    // Assert
    assert_eq!(overview.sync_failures, Vec::<String>::new());
    assert_eq!(overview.courses[0].enrolled, 2, "{overview:?}");
    let report = site.report(&id, ReportQuery::default()).await;
    assert!(row(&report, LEO).reasons.groups == [GROUP]);

    // Lea leaves the group: the next sync unenrols her.
    site.fake.remove_from_group(GROUP, LEA);
    let sync = site.app.sync_groups(&sam, &id).await.unwrap();
    assert_eq!((sync.added, sync.removed), (0, 1));
    assert_eq!(
        site.report(&id, ReportQuery::default())
            .await
            .counts
            .enrolled,
        1
    );
    // Recorded as done by the sync, not by a person.
    let audit = site.app.audit_log(&sam, Some(&id), None).await.unwrap();
    let synced: Vec<_> = audit
        .entries
        .iter()
        .filter(|e| e.action == "group_sync")
        .collect();
    assert!(!synced.is_empty(), "{audit:?}");
    assert!(synced.iter().all(|e| e.actor_id.is_none()));

    // Confluence cannot list the group just now: the sync says which rule
    // failed, and nobody is unenrolled.
    let group_id = site.fake.group_id(GROUP).expect("the group's id");
    site.fake.stub(
        http::Method::GET,
        &format!("/wiki/rest/api/group/{group_id}/membersByGroupId"),
        Stub::json(503, json!({"message": "try later"})),
    );
    let sync = site.app.sync_groups(&sam, &id).await;
    let sync = sync.expect("a failed sync is reported, not an error");
    assert_eq!(sync.failed, vec![GROUP.to_owned()]);
    assert_eq!(
        site.report(&id, ReportQuery::default())
            .await
            .counts
            .enrolled,
        1
    );
    // A group Confluence does not know is refused with a clear message.
    let unknown = site
        .app
        .enrol_group(&sam, &id, "no-such-group", DueRule::None)
        .await;
    assert!(
        matches!(&unknown, Err(Refused { status: 400, error: AppError::Invalid(m) }) if m.contains("no-such-group")),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn enrolled_only_courses_show_an_outline_and_refuse_every_learning_call() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&course_json(1, json!({"access": "enrolled_only"})))
        .await;
    let leo = token(LEO);

    // Act
    let view = site
        .app
        .learner_course(&leo, &id)
        .await
        .expect("an outline, not an error");
    let lesson = site.app.open_lesson(&leo, &id, 1, "l1").await;
    let start = site
        .app
        .start_attempt(&leo, &id, "m1", &uuid::Uuid::new_v4().to_string())
        .await;
    let enrol_self = site.app.self_enrol(&leo, &id).await;

    // Assert
    assert!(!view.access.allowed);
    assert!(
        view.access
            .message
            .as_deref()
            .is_some_and(|m| m.contains("space admin")),
        "{:?}",
        view.access
    );
    for refused in [
        lesson.map(|_| ()),
        start.map(|_| ()),
        enrol_self.map(|_| ()),
    ] {
        assert!(
            matches!(
                refused,
                Err(Refused {
                    status: 403,
                    error: AppError::NotEnrolled(_)
                })
            ),
            "{refused:?}"
        );
    }
    // Enrolled by an admin: the course opens.
    site.app
        .enrol(&token(SAM), &id, &[LEO], None)
        .await
        .unwrap();
    assert!(
        site.app
            .learner_course(&leo, &id)
            .await
            .unwrap()
            .access
            .allowed
    );
    assert_eq!(site.take(LEO, &id, &[true]).await, 100.0);
}

#[tokio::test]
async fn self_enrol_courses_enrol_the_learner_who_clicks_enrol() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&course_json(1, json!({"access": "self_enrol"})))
        .await;
    let lea = token(LEA);
    let before = site.app.learner_course(&lea, &id).await.unwrap();

    // Act
    let after = site.app.self_enrol(&lea, &id).await.expect("enrolled");

    // Assert
    assert!(!before.access.allowed && before.access.can_self_enrol);
    assert!(after.access.allowed && !after.access.can_self_enrol);
    assert!(after.access.enrolment.is_some_and(|e| e.self_only));
    let report = site.report(&id, ReportQuery::default()).await;
    assert!(row(&report, LEA).reasons.self_enrolled);
    let audit = site.app.audit_log(&token(SAM), None, None).await.unwrap();
    assert_eq!(audit.entries[0].action, "self_enrol");
    assert_eq!(audit.entries[0].actor_id.as_deref(), Some(LEA));
}

#[tokio::test]
async fn the_report_pages_filters_and_sorts_in_the_database() {
    // Arrange: 120 enrolled learners, Lea completed.
    let site = Site::new().await;
    let id = site.publish(&course_json(1, json!({}))).await;
    let sam = token(SAM);
    let many: Vec<String> = (0..119).map(|i| format!("557058:bulk-{i:03}")).collect();
    let mut all: Vec<&str> = many.iter().map(String::as_str).collect();
    all.push(LEA);
    site.app.enrol(&sam, &id, &all, None).await.unwrap();
    site.take(LEA, &id, &[true]).await;

    // Act
    let first = site.report(&id, ReportQuery::default()).await;
    let third = site
        .report(
            &id,
            ReportQuery {
                page: 2,
                ..ReportQuery::default()
            },
        )
        .await;
    let completed = site
        .report(
            &id,
            ReportQuery {
                state: Some(LearnerState::Completed),
                ..ReportQuery::default()
            },
        )
        .await;
    let by_score = site
        .report(
            &id,
            ReportQuery {
                sort: ReportSort::BestScore,
                descending: true,
                page_size: 1,
                ..ReportQuery::default()
            },
        )
        .await;
    let direct = site
        .report(
            &id,
            ReportQuery {
                reason: Some(ReasonFilter::Direct),
                search: "lea".into(),
                ..ReportQuery::default()
            },
        )
        .await;
    let too_big = site
        .app
        .course_report_with(
            &sam,
            &id,
            &ReportQuery {
                page_size: 5000,
                ..ReportQuery::default()
            },
        )
        .await;

    // Assert
    assert_eq!((first.total, first.rows.len()), (120, 50));
    assert_eq!(third.rows.len(), 20);
    assert_eq!(completed.total, 1);
    assert_eq!(completed.rows[0].account_id, LEA);
    assert_eq!(by_score.rows[0].account_id, LEA);
    assert_eq!(
        direct.total, 1,
        "the name search goes through Confluence: {direct:?}"
    );
    assert!(direct.search_note.is_some());
    assert!(
        matches!(too_big, Err(Refused { status: 400, .. })),
        "{too_big:?}"
    );
}

#[tokio::test]
async fn a_learners_detail_has_every_attempt_with_its_answers_and_email() {
    // Arrange: Lea fails, then passes.
    let site = Site::new().await;
    let id = site.publish(&course_json(2, json!({}))).await;
    site.take(LEA, &id, &[false, true]).await;
    site.take(LEA, &id, &[true, true]).await;

    // Act
    let detail = site
        .app
        .learner_detail(&token(SAM), &id, LEA)
        .await
        .expect("the detail");
    let nobody = site
        .app
        .learner_detail(&token(SAM), &id, "557058:nobody")
        .await;

    // Assert
    assert_eq!(detail.email.as_deref(), Some("lea@example.com"));
    assert_eq!(detail.attempts.len(), 2);
    let (newest, oldest) = (&detail.attempts[0], &detail.attempts[1]);
    assert_eq!((newest.number, oldest.number), (2, 1));
    assert_eq!(oldest.percent, Some(50.0));
    assert_eq!(oldest.answers[0].answer, vec!["False".to_owned()]);
    assert_eq!(oldest.answers[0].correct_answer, vec!["True".to_owned()]);
    assert_eq!(
        oldest.answers[0].correct,
        Some(app::course::model::Correctness::Incorrect)
    );
    assert_eq!(newest.passed, Some(true));
    assert!(matches!(nobody, Err(Refused { status: 404, .. })));
}

#[tokio::test]
async fn people_search_shows_email_where_confluence_shares_it() {
    let site = Site::new().await;
    let hits = site.app.search_users(&token(SAM), "learner").await.unwrap();
    let lea = hits
        .iter()
        .find(|h| h.account_id == LEA)
        .expect("Lea found");
    let leo = hits
        .iter()
        .find(|h| h.account_id == LEO)
        .expect("Leo found");
    assert_eq!(lea.email.as_deref(), Some("lea@example.com"));
    assert_eq!(leo.email, None);
    site.fake.add_to_group(GROUP, LEO);
    let groups = site
        .app
        .search_groups(&token(SAM), "starters")
        .await
        .unwrap();
    assert_eq!(groups, vec![GROUP.to_owned()]);
    let empty = site.app.search_users(&token(SAM), "  ").await;
    assert!(matches!(empty, Err(Refused { status: 400, .. })));
    let learner = site.app.search_users(&token(LEA), "learner").await;
    assert!(matches!(learner, Err(Refused { status: 403, .. })));
}

#[tokio::test]
async fn analytics_are_per_version_and_match_the_answers() {
    // Arrange: three learners; t1 right for two of them, t2 for all.
    let site = Site::new().await;
    let id = site.publish(&course_json(2, json!({}))).await;
    site.take(LEA, &id, &[true, true]).await;
    site.take(LEO, &id, &[true, true]).await;
    site.take(SAM, &id, &[false, true]).await;

    // Act
    let a = site
        .app
        .space_analytics(&token(SAM), &id, None)
        .await
        .unwrap();

    // Assert
    assert_eq!((a.version, a.versions.clone()), (1, vec![1]));
    let quiz = &a.quizzes[0];
    assert_eq!(quiz.attempts, 3);
    let facility = |q: usize| quiz.questions[q].stats.facility.unwrap();
    assert!((facility(0) - 2.0 / 3.0).abs() < 1e-9, "{a:?}");
    assert!((facility(1) - 1.0).abs() < 1e-9);
    assert_eq!(quiz.questions[0].prompt, "Statement 1");
    let missing = site.app.space_analytics(&token(SAM), &id, Some(7)).await;
    assert!(matches!(missing, Err(Refused { status: 404, .. })));
}

#[tokio::test]
async fn the_audit_log_records_changes_and_the_database_refuses_to_change_it() {
    // Arrange
    let site = Site::new().await;
    let id = site.publish(&course_json(1, json!({}))).await;
    let sam = token(SAM);
    site.app
        .enrol(&sam, &id, &[LEA, LEO], Some(2_000_000_000_000))
        .await
        .unwrap();
    site.app.unenrol(&sam, &id, &[LEO]).await.unwrap();

    // Act
    let page = site.app.audit_log(&sam, None, None).await.unwrap();
    let mut db = site.app.db_connection().await;
    let update = sqlx::query("UPDATE audit_log SET action = 'nothing'")
        .execute(&mut db)
        .await;
    let delete = sqlx::query("DELETE FROM audit_log").execute(&mut db).await;

    // Assert
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["unenrol", "enrol"], "newest first");
    assert_eq!(page.entries[1].actor_id.as_deref(), Some(SAM));
    assert!(
        page.entries[1].summary.contains("Lea Learner")
            && page.entries[1].summary.contains("2033-05-18"),
        "{:?}",
        page.entries[1]
    );
    assert!(update.is_err(), "UPDATE must be refused");
    assert!(delete.is_err(), "DELETE must be refused");
    assert_eq!(site.app.count("SELECT COUNT(*) FROM audit_log").await, 2);
}

/// The 400's text of a refusal (panics on anything else).
fn invalid_text<T: std::fmt::Debug>(reply: Reply<T>) -> String {
    match reply {
        Err(Refused {
            status: 400,
            error: AppError::Invalid(m),
        }) => m,
        other => panic!("expected a 400 Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn the_admin_services_and_guards_answer_in_the_language_of_the_page() {
    // Arrange: a published course; Sam administers its space.
    let site = Site::new().await;
    let id = site.publish(&course_json(1, json!({}))).await;
    let sam = token(SAM);
    let enrol_nobody = |language: &'static str| {
        let (site, sam, id) = (&site, &sam, &id);
        async move {
            calls::typed::<Value>(
                site.app
                    .call_fn_json_in(
                        language,
                        "space-admin/enrol",
                        sam,
                        &json!({ "course_id": id, "account_ids": [], "due_at_ms": null }),
                    )
                    .await,
            )
            .await
        }
    };
    let long_search = ReportQuery {
        search: "x".repeat(101),
        ..ReportQuery::default()
    };
    let search_in = |language: &'static str| {
        let (site, sam, id, query) = (&site, &sam, &id, &long_search);
        async move {
            calls::typed::<Value>(
                site.app
                    .call_fn_json_in(
                        language,
                        "space-admin/course-report",
                        sam,
                        &json!({ "course_id": id, "query": query }),
                    )
                    .await,
            )
            .await
        }
    };
    // A token from outside any space (the admin guard needs one).
    let mut claims = context_claims_on(SITE, SAM, PAGE, "DEV");
    claims["context"]["confluence"]
        .as_object_mut()
        .unwrap()
        .remove("space");
    let spaceless = hs_token(jsonwebtoken::Algorithm::HS256, SECRET, &claims);
    let overview_in = |language: &'static str| {
        let (site, spaceless) = (&site, &spaceless);
        async move {
            calls::typed::<Value>(
                site.app
                    .call_fn_in(
                        language,
                        "space-admin/overview",
                        spaceless,
                        &[("page", "0")],
                    )
                    .await,
            )
            .await
        }
    };

    // Act + Assert: the enrolment service, the report service and the
    // admin guard, each from a German page and an English one.
    assert_eq!(
        invalid_text(enrol_nobody("de-DE").await),
        "Wähle mindestens eine Person aus."
    );
    assert_eq!(
        invalid_text(enrol_nobody("en-US").await),
        "Choose at least one person."
    );
    assert_eq!(
        invalid_text(search_in("de-AT").await),
        "Suche nach höchstens 100 Zeichen eines Namens."
    );
    assert_eq!(
        invalid_text(search_in("en").await),
        "Search for at most 100 characters of a name."
    );
    assert_eq!(
        invalid_text(overview_in("de-DE").await),
        "Öffne dies in den Einstellungen eines Bereichs."
    );
    assert_eq!(
        invalid_text(overview_in("en-US").await),
        "Open this from a space's settings."
    );
    assert_eq!(site.app.count("SELECT COUNT(*) FROM enrolments").await, 0);
}

#[tokio::test]
async fn a_csv_download_from_a_german_page_is_written_for_german_spreadsheets() {
    // Arrange: Leo passed the course.
    let site = Site::new().await;
    let id = site.publish(&course_json(1, json!({}))).await;
    site.take(LEO, &id, &[true]).await;
    let sam = token(SAM);

    // Act: the space tools tab in German downloads the learner table.
    let body = calls::text(
        site.app
            .call_fn_json_in(
                "de-DE",
                "space-admin/report-csv",
                &sam,
                &json!({ "course_id": id, "query": ReportQuery::default() }),
            )
            .await,
    )
    .await
    .unwrap();

    // Assert: German headers and words, `;` between cells (the comma is
    // the decimal sign), German dates.
    let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().take(5).collect::<Vec<_>>(),
        [
            "Name",
            "Konto-ID",
            "Status",
            "Überfällig",
            "Eingeschrieben (UTC)"
        ]
    );
    assert_eq!(&headers[11], "Bestes Ergebnis %");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], LEO);
    assert_eq!(&rows[0][2], "Abgeschlossen");
    assert_eq!(&rows[0][3], "nein");
    assert_eq!(&rows[0][11], "100,0");
    let completed = rows[0][12].as_bytes();
    assert!(
        completed.len() == 19
            && completed[2] == b'.'
            && completed[5] == b'.'
            && completed[10] == b' '
            && completed[13] == b':',
        "dd.mm.yyyy hh:mm:ss, not {:?}",
        &rows[0][12]
    );

    // The attempts, downloaded from the German page: true/false answers in
    // German words; the English download keeps "True".
    let german = calls::text(
        site.app
            .call_fn_in(
                "de-DE",
                "space-admin/attempts-csv",
                &sam,
                &[("course_id", id.as_str())],
            )
            .await,
    )
    .await
    .unwrap();
    let german = german
        .strip_prefix('\u{feff}')
        .unwrap_or(&german)
        .to_owned();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(german.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let answer = headers
        .iter()
        .position(|h| h == "Antwort")
        .expect("an answer column");
    let correct = headers
        .iter()
        .position(|h| h == "Richtige Antwort")
        .expect("a correct-answer column");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][answer], &rows[0][correct]), ("Wahr", "Wahr"));
    let english = site.app.attempts_csv(&sam, &id).await.unwrap();
    assert!(english.contains("True"), "{english}");
    assert!(!english.contains("Wahr"), "{english}");
}

#[tokio::test]
async fn csv_exports_round_trip_and_defuse_formulas() {
    // Arrange: a learner whose name is a formula.
    let site = Site::new().await;
    site.fake
        .add_user_with(User::new(LEO, "=HYPERLINK(\"http://evil\",\"x\")"));
    let id = site.publish(&course_json(1, json!({}))).await;
    site.take(LEO, &id, &[true]).await;
    let sam = token(SAM);

    // Act
    let report = site
        .app
        .report_csv(&sam, &id, &ReportQuery::default())
        .await
        .unwrap();
    let attempts = site.app.attempts_csv(&sam, &id).await.unwrap();
    let analytics = site.app.analytics_csv(&sam, &id).await.unwrap();
    let audit = site.app.audit_csv(&sam).await.unwrap();
    let refused = site.app.attempts_csv(&token(LEA), &id).await;

    // Assert
    let records = |body: &str| -> Vec<csv::StringRecord> {
        let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
        csv::Reader::from_reader(body.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect()
    };
    let rows = records(&report);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(&rows[0][1], LEO);
    assert_eq!(&rows[0][2], "Completed");
    let rows = records(&attempts);
    assert_eq!(rows.len(), 1, "one row per question");
    assert_eq!(&rows[0][14], "True");
    assert_eq!(&rows[0][16], "correct");
    let rows = records(&analytics);
    assert_eq!(&rows[0][3], "Statement 1");
    assert_eq!(&rows[0][7], "100.0");
    let rows = records(&audit);
    assert!(
        rows.iter().any(|r| r[6].contains("Exported the attempts")),
        "every export is audited: {rows:?}"
    );
    assert!(matches!(refused, Err(Refused { status: 403, .. })));
}

#[tokio::test]
async fn the_periodic_group_sync_enrols_members_who_joined_since() {
    // Arrange: a rule for a group of one; Leo joins; nobody opens the tab.
    let site = Site::new().await;
    site.fake.add_to_group(GROUP, LEA);
    let id = site.publish(&course_json(1, json!({}))).await;
    site.app
        .enrol_group(&token(SAM), &id, GROUP, DueRule::DaysAfter(3))
        .await
        .unwrap();
    site.fake.add_to_group(GROUP, LEO);

    // Act: one run of the server's job.
    let (ok, failed) = server::jobs::sync_groups_once(&site.app.state).await;

    // Assert
    assert_eq!((ok, failed), (1, 0));
    let report = site.report(&id, ReportQuery::default()).await;
    let leo = row(&report, LEO);
    assert_eq!(leo.reasons.groups, [GROUP]);
    assert_eq!(
        leo.due_at_ms,
        Some(leo.enrolled_at_ms.unwrap() + 3 * DAY_MS),
        "the rule's due date applies to late joiners too"
    );
}

#[tokio::test]
async fn every_order_and_filter_pages_the_same_by_index_as_in_one_query() {
    // Arrange: 30 learners in the states a report tells apart. A page with
    // a name search is one query over the people found; without one, it is
    // read along the indexes of its order (migration 0010) with totals from
    // the kept counts. Both must list the same people in the same order.
    let site = Site::new().await;
    let id = site
        .publish(&course_json(1, json!({"certificate_validity_days": 10})))
        .await;
    let sam = token(SAM);
    // The name search that lists them all finds them on one page.
    site.fake.set_page_limit(100);
    let people: Vec<String> = (0..30).map(|i| format!("557058:mix-{i:02}")).collect();
    for (i, p) in people.iter().enumerate() {
        site.fake
            .add_user_with(User::new(p, &format!("Mixed Learner {i:02}")));
        site.fake.allow_read_only(p, PAGE);
    }
    // Every fifth completes now: their certificates expire before the rest.
    for p in people.iter().step_by(5) {
        site.take(p, &id, &[true]).await;
    }
    site.app.clock.advance(11 * DAY_MS);
    let now = site.app.now_ms();
    let all: Vec<&str> = people.iter().map(String::as_str).collect();
    for (range, due) in [
        (0..8, Some(now - DAY_MS)),
        (8..16, Some(now + 5 * DAY_MS)),
        (16..22, None),
        (26..30, Some(now - 2 * DAY_MS)),
    ] {
        site.app
            .enrol(&sam, &id, &all[range], due)
            .await
            .expect("enrolled");
    }
    // 22..26 take part without being enrolled (an open course).
    for (i, p) in people.iter().enumerate() {
        match i % 5 {
            1 => {
                site.take(p, &id, &[true]).await;
            }
            2 => {
                site.take(p, &id, &[false]).await;
            }
            3 => {
                site.app
                    .open_lesson(&token(p), &id, 1, "l1")
                    .await
                    .expect("the lesson opens");
            }
            _ => {}
        }
    }
    let filters: Vec<ReportQuery> = vec![
        ReportQuery::default(),
        ReportQuery {
            state: Some(LearnerState::NotStarted),
            ..ReportQuery::default()
        },
        ReportQuery {
            state: Some(LearnerState::InProgress),
            ..ReportQuery::default()
        },
        ReportQuery {
            state: Some(LearnerState::Completed),
            ..ReportQuery::default()
        },
        ReportQuery {
            state: Some(LearnerState::Expired),
            ..ReportQuery::default()
        },
        ReportQuery {
            overdue_only: true,
            ..ReportQuery::default()
        },
        ReportQuery {
            reason: Some(ReasonFilter::Direct),
            ..ReportQuery::default()
        },
        ReportQuery {
            reason: Some(ReasonFilter::NotEnrolled),
            ..ReportQuery::default()
        },
    ];

    for filter in &filters {
        for sort in ReportSort::ALL {
            for descending in [false, true] {
                let query = ReportQuery {
                    sort,
                    descending,
                    ..filter.clone()
                };
                // Act
                let found = site
                    .report(
                        &id,
                        ReportQuery {
                            search: "mixed".into(),
                            page_size: 200,
                            ..query.clone()
                        },
                    )
                    .await;
                let mut paged = Vec::new();
                let mut totals = Vec::new();
                for page in 0.. {
                    let r = site
                        .report(
                            &id,
                            ReportQuery {
                                page,
                                page_size: 7,
                                ..query.clone()
                            },
                        )
                        .await;
                    totals.push(r.total);
                    let n = r.rows.len();
                    paged.extend(r.rows.into_iter().map(|x| x.account_id));
                    if n < 7 {
                        break;
                    }
                }

                // Assert
                let expected: Vec<String> = found.rows.into_iter().map(|x| x.account_id).collect();
                assert_eq!(paged, expected, "{query:?}");
                assert!(
                    totals.iter().all(|t| *t as usize == expected.len()),
                    "{query:?}: totals {totals:?}, {} rows",
                    expected.len()
                );
            }
        }
    }
    // 29 people (mix-24 never took part), 26 enrolled, 6 certificates
    // expired (every fifth, from before the 11 days), 7 overdue (due dates
    // passed for 0..8 and 26..30, less those who completed).
    let counts = site.report(&id, ReportQuery::default()).await.counts;
    assert_eq!(
        (
            counts.learners,
            counts.enrolled,
            counts.expired,
            counts.overdue
        ),
        (29, 26, 6, 7),
        "{counts:?}"
    );
}

/// A learner Confluence has no user for (deleted, or not visible to the
/// app: 404) is looked up once, not on every report: the report shows the
/// account id, and the next reports answer without asking again; learners
/// Confluence knows keep their names.
#[tokio::test]
async fn a_learner_without_a_name_is_not_looked_up_on_every_report() {
    let site = Site::new().await;
    let gone = "557058:deleted-user";
    site.fake.allow_read_only(gone, PAGE);
    let id = site.publish(&course_json(2, json!({}))).await;
    site.take(LEA, &id, &[true, true]).await;
    site.take(gone, &id, &[true, false]).await;

    let before = site.fake.user_lookups();
    let first = site.report(&id, ReportQuery::default()).await;
    assert_eq!(row(&first, gone).name, None, "no name to show");
    assert_eq!(row(&first, LEA).name.as_deref(), Some("Lea Learner"));
    let asked = site.fake.user_lookups() - before;
    assert!(asked >= 1, "the first report asks Confluence");
    for _ in 0..3 {
        let again = site.report(&id, ReportQuery::default()).await;
        assert_eq!(row(&again, gone).name, None);
        assert_eq!(row(&again, LEA).name.as_deref(), Some("Lea Learner"));
    }
    assert_eq!(
        site.fake.user_lookups() - before,
        asked,
        "later reports do not ask about either learner again"
    );
}

/// The learner's course view is kept between reads (on SQLite) and sent
/// again; what the clock alone changes, and the caller's language, must
/// still show: overdue from one millisecond after the due date, the
/// refusal in the page's language.
#[tokio::test]
async fn a_kept_course_view_turns_overdue_on_time_and_speaks_the_callers_language() {
    // Arrange: Lea is enrolled, due in a day; Leo is not enrolled in the
    // enrolled-only course.
    let site = Site::new().await;
    let id = site
        .publish(&course_json(1, json!({"access": "enrolled_only"})))
        .await;
    let due = site.app.now_ms() + DAY_MS;
    site.app
        .enrol(&token(SAM), &id, &[LEA], Some(due))
        .await
        .expect("enrolled");
    let overdue = || async {
        let view = site.app.learner_course(&token(LEA), &id).await.unwrap();
        view.access.enrolment.expect("her enrolment").overdue
    };
    let refusal_in = |language: &'static str| {
        let (site, id) = (&site, &id);
        async move {
            let view = calls::typed::<Value>(
                site.app
                    .call_fn_in(
                        language,
                        "learning/course",
                        &token(LEO),
                        &[("course_id", id.as_str())],
                    )
                    .await,
            )
            .await
            .expect("an outline");
            view["access"]["message"].as_str().unwrap().to_owned()
        }
    };

    // Act + Assert: read twice (the second read is the kept view), then a
    // minute before the due date, then a minute after it (the test's clock
    // runs in real time besides: no exact millisecond).
    assert!(!overdue().await);
    assert!(!overdue().await);
    site.app.clock.advance(DAY_MS - 60_000);
    assert!(!overdue().await, "a minute before the due date");
    assert!(!overdue().await, "a minute before the due date, kept");
    site.app.clock.advance(120_000);
    assert!(overdue().await, "a minute after the due date: overdue");

    let en = refusal_in("en").await;
    let de = refusal_in("de").await;
    assert_ne!(en, de, "the German page gets its own words: {en} / {de}");
    assert_eq!(refusal_in("en").await, en);
    assert_eq!(refusal_in("de").await, de);
}
