//! Retention and personal data (#12 item 5), through the real server, its
//! database and a fake Confluence: an uninstalled site's data survives a
//! reinstall within `RETENTION_DAYS` and is purged after it (and nothing
//! of another site); one account's data can be erased; the personal-data
//! job reports stored account ids 90 a request and erases those Atlassian
//! reports closed. The append-only and immutability triggers keep refusing
//! every other change.

use app::course::model::Response;
use serde_json::{json, Value};
use testkit::User;

use crate::helpers::*;

const SITE_A: &str = "site-a";
const SECRET_A: &str = "site-a-shared-secret-0123456789";
const SITE_B: &str = "site-b";
const SECRET_B: &str = "site-b-shared-secret-0123456789";
const PAGE: &str = "3001";
const AUTHOR: &str = "557058:author";
const SAM: &str = "557058:sam-space-admin";
const LEA: &str = "557058:lea-learner";
const LEO: &str = "557058:leo-learner";
const DAY_SECS: i64 = 86_400;
const REPORT_PATH: &str = "/wiki/rest/atlassian-connect/latest/report-accounts";

fn course_json() -> Value {
    json!({
        "title": "Fire safety",
        "description_md": "Learn fire safety.",
        "modules": [{"id": "m1", "title": "Basics",
                     "lessons": [{"id": "l1", "title": "Why", "body_md": "Read this."}],
                     "quiz": {"questions": [{"id": "t1", "prompt_md": "Statement", "points": 1.0,
                                             "kind": {"type": "true_false", "answer": true}}]}}],
        "settings": {},
    })
}

struct Sites {
    app: TestApp,
    fake: FakeConfluence,
}

impl Sites {
    async fn new() -> Self {
        let fake = FakeConfluence::start().await;
        let app = spawn_app_with_confluence(&fake).await;
        fake.add_user_with(User::new(LEA, "Lea Learner"));
        fake.add_user_with(User::new(LEO, "Leo Learner"));
        app.install_on(&fake, SITE_A, SECRET_A).await;
        app.install_on(&fake, SITE_B, SECRET_B).await;
        fake.allow_edit(AUTHOR, PAGE);
        fake.allow_read_only(LEA, PAGE);
        fake.allow_read_only(LEO, PAGE);
        fake.allow_read_only(SAM, PAGE);
        fake.make_space_admin(SAM, "DEV");
        Sites { app, fake }
    }

    /// A published course on `site`, taken by Lea and Leo (lesson, submitted
    /// attempt, completion), Lea enrolled by Sam (audit log): every table
    /// has rows. Returns the course id.
    async fn seed(&self, site: &str, secret: &str) -> String {
        let author = context_token(site, secret, AUTHOR, PAGE);
        let saved = self
            .app
            .save_draft(&author, None, 0, &course_json())
            .await
            .expect("the draft is saved");
        let id = saved.course_id.to_string();
        self.app
            .publish(&author, &saved.course_id, saved.revision, false)
            .await
            .expect("the course is published");
        for who in [LEA, LEO] {
            let t = context_token(site, secret, who, PAGE);
            // From a German page: the app records the language (for mail).
            let said = self.app.call_fn_in("de-DE", "whoami", &t, &[]).await;
            assert_eq!(said.status(), 200);
            self.app.open_lesson(&t, &id, 1, "l1").await.expect("opens");
            let view = self
                .app
                .start_attempt(&t, &id, "m1", &uuid::Uuid::new_v4().to_string())
                .await
                .expect("the attempt starts");
            let now = self.app.now_ms();
            self.app
                .submit_attempt(&t, &view.attempt_id, &[("t1", Response::Bool(true), now)])
                .await
                .expect("the attempt is graded");
        }
        let sam = context_token(site, secret, SAM, PAGE);
        self.app
            .enrol(&sam, &id, &[LEA], Some(2_000_000_000_000))
            .await
            .expect("Lea is enrolled");
        id
    }

    async fn tenant(&self, site: &str) -> connect::TenantKey {
        self.app
            .state
            .connect
            .tenants
            .stored(site)
            .await
            .unwrap()
            .expect("the site is stored")
    }
}

/// Every table with a `client_key` column, read from the schema (a table
/// added later is covered without editing this test).
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    let sql = if test_backend_is_postgres() {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'client_key' ORDER BY 1"
    } else {
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'client_key' ORDER BY 1"
    };
    let mut conn = app.db_connection().await;
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

/// (table, rows of `site`) for every tenant table.
async fn rows_per_table(app: &TestApp, site: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in tenant_tables(app).await {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM {t} WHERE client_key = '{site}'"
            ))
            .await;
        out.push((t, n));
    }
    out
}

/// Rows of `account` in `site`'s learner tables (answers through attempts).
async fn learner_rows(app: &TestApp, site: &str, account: &str) -> i64 {
    let mut n = app
        .count(&format!(
            "SELECT COUNT(*) FROM attempt_answers a JOIN attempts t \
             ON t.client_key = a.client_key AND t.id = a.attempt_id \
             WHERE a.client_key = '{site}' AND t.account_id = '{account}'"
        ))
        .await;
    for table in [
        "attempts",
        "completions",
        "lesson_views",
        "enrolment_groups",
        "enrolments",
        "learner_status",
        "reminders_sent",
        "learner_languages",
    ] {
        n += app
            .count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE client_key = '{site}' AND account_id = '{account}'"
            ))
            .await;
    }
    n
}

/// Audit rows of `site` naming `account` as actor or in the details.
async fn audit_mentions(app: &TestApp, site: &str, account: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE client_key = '{site}' \
         AND (actor = '{account}' OR detail LIKE '%{account}%')"
    ))
    .await
}

async fn triggers_still_refuse(app: &TestApp) {
    let mut db = app.db_connection().await;
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut db)
            .await
            .is_err(),
        "the audit log must still refuse DELETE"
    );
    assert!(
        sqlx::query("UPDATE audit_log SET action = 'x'")
            .execute(&mut db)
            .await
            .is_err(),
        "the audit log must still refuse UPDATE"
    );
    assert!(
        sqlx::query("UPDATE course_versions SET title = 'x'")
            .execute(&mut db)
            .await
            .is_err(),
        "course versions must still be immutable"
    );
    assert!(
        sqlx::query("UPDATE attempts SET score = 0 WHERE submitted_at_ms IS NOT NULL")
            .execute(&mut db)
            .await
            .is_err(),
        "submitted attempts must still be immutable"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM purge_in_progress").await,
        0,
        "no transaction left the purge mark behind"
    );
}

#[tokio::test]
async fn an_uninstalled_site_is_kept_through_a_reinstall_and_purged_after_the_retention_period() {
    // Arrange: two sites with data in every table.
    let sites = Sites::new().await;
    let app = &sites.app;
    let course_a = sites.seed(SITE_A, SECRET_A).await;
    sites.seed(SITE_B, SECRET_B).await;
    let before_a = rows_per_table(app, SITE_A).await;
    let before_b = rows_per_table(app, SITE_B).await;
    for table in [
        "audit_log",
        "attempts",
        "attempt_answers",
        "courses",
        "enrolments",
    ] {
        let n = before_a.iter().find(|(t, _)| t == table).unwrap().1;
        assert!(n > 0, "seeded {table}: {before_a:?}");
    }
    let now = store::now_epoch();

    // Act 1: uninstalled; the purge runs on day 29; the site reinstalls.
    app.uninstall(SITE_A).await;
    let day_29 = server::privacy::purge_uninstalled_once(&app.state, now + 29 * DAY_SECS).await;
    app.install_on(&sites.fake, SITE_A, SECRET_A).await;
    let after_reinstall =
        server::privacy::purge_uninstalled_once(&app.state, now + 60 * DAY_SECS).await;

    // Assert 1: nothing purged, data and service back.
    assert!(day_29.is_empty(), "{day_29:?}");
    assert!(after_reinstall.is_empty(), "{after_reinstall:?}");
    assert_eq!(rows_per_table(app, SITE_A).await, before_a);
    let lea = context_token(SITE_A, SECRET_A, LEA, PAGE);
    let course = app
        .learner_course(&lea, &course_a)
        .await
        .expect("the reinstalled site serves its learners again");
    assert!(format!("{course:?}").contains("Fire safety"), "{course:?}");

    // Act 2: uninstalled again; 31 days later the purge job runs.
    app.uninstall(SITE_A).await;
    let day_30 =
        server::privacy::purge_uninstalled_once(&app.state, now + 30 * DAY_SECS - 60).await;
    let day_31 = server::privacy::purge_uninstalled_once(&app.state, now + 31 * DAY_SECS).await;

    // Assert 2: every row of site A is gone, site B is untouched, and the
    // triggers still refuse ordinary changes.
    assert!(day_30.is_empty(), "not before the period ends: {day_30:?}");
    assert_eq!(day_31, vec![SITE_A.to_owned()]);
    for (table, n) in rows_per_table(app, SITE_A).await {
        assert_eq!(n, 0, "{table} still holds rows of the purged site");
    }
    assert_eq!(rows_per_table(app, SITE_B).await, before_b);
    assert!(app.state.db.tenant(SITE_A).await.unwrap().is_none());
    assert_eq!(
        app.learner_course(&lea, &course_a)
            .await
            .err()
            .map(|e| e.status),
        Some(401),
        "the purged site is unknown"
    );
    triggers_still_refuse(app).await;
}

#[tokio::test]
async fn erasing_an_account_removes_exactly_that_persons_data() {
    // Arrange
    let sites = Sites::new().await;
    let app = &sites.app;
    sites.seed(SITE_A, SECRET_A).await;
    sites.seed(SITE_B, SECRET_B).await;
    let leo_a = learner_rows(app, SITE_A, LEO).await;
    let lea_b = learner_rows(app, SITE_B, LEA).await;
    let audit_a = app
        .count("SELECT COUNT(*) FROM audit_log WHERE client_key = 'site-a'")
        .await;
    assert!(learner_rows(app, SITE_A, LEA).await > 0);
    assert!(audit_mentions(app, SITE_A, LEA).await > 0);
    let lea_lang = format!(
        "SELECT COUNT(*) FROM learner_languages WHERE client_key = '{SITE_A}' AND account_id = '{LEA}'"
    );
    assert_eq!(app.count(&lea_lang).await, 1, "her language is recorded");

    // Act
    let erased = server::privacy::erase_account(&app.state.db, SITE_A, LEA)
        .await
        .unwrap()
        .expect("site A is stored");
    let unknown = server::privacy::erase_account(&app.state.db, "no-such-site", LEA)
        .await
        .unwrap();

    // Assert
    assert!(erased.deleted > 0 && erased.pseudonymised > 0, "{erased:?}");
    assert!(unknown.is_none());
    assert_eq!(learner_rows(app, SITE_A, LEA).await, 0);
    assert_eq!(app.count(&lea_lang).await, 0, "her language is gone too");
    assert_eq!(audit_mentions(app, SITE_A, LEA).await, 0);
    assert_eq!(learner_rows(app, SITE_A, LEO).await, leo_a, "Leo keeps his");
    assert_eq!(
        learner_rows(app, SITE_B, LEA).await,
        lea_b,
        "site B keeps Lea's"
    );
    assert!(audit_mentions(app, SITE_B, LEA).await > 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE client_key = 'site-a'")
            .await,
        audit_a + 1,
        "the audit log keeps its rows and records the erasure"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE client_key = 'site-a' AND action = 'erasure' \
             AND actor IS NULL AND detail LIKE '%data subject request%'"
        )
        .await,
        1
    );
    let stored = app
        .state
        .db
        .stored_accounts(&sites.tenant(SITE_A).await)
        .await
        .unwrap();
    assert!(stored.iter().all(|a| a.account_id != LEA), "{stored:?}");
    assert!(stored.iter().any(|a| a.account_id == LEO), "{stored:?}");
    triggers_still_refuse(app).await;
}

#[tokio::test]
async fn the_personal_data_job_reports_accounts_and_erases_the_closed_ones() {
    // Arrange: Leo closed his account, Lea's changed.
    let sites = Sites::new().await;
    let app = &sites.app;
    sites.seed(SITE_A, SECRET_A).await;
    sites.fake.close_account(LEO);
    sites.fake.mark_account_updated(LEA);
    let lea_a = learner_rows(app, SITE_A, LEA).await;
    assert!(learner_rows(app, SITE_A, LEO).await > 0);
    sites.fake.clear_log();

    // Act
    let run = server::privacy::report_personal_data_once(&app.state).await;

    // Assert
    assert_eq!(run.erased, 1, "{run:?}");
    assert_eq!(run.failed, 0, "{run:?}");
    assert_eq!(run.reported, 4, "author, Sam, Lea and Leo: {run:?}");
    assert_eq!(
        learner_rows(app, SITE_A, LEO).await,
        0,
        "Leo's data is erased"
    );
    assert_eq!(audit_mentions(app, SITE_A, LEO).await, 0);
    assert_eq!(learner_rows(app, SITE_A, LEA).await, lea_a, "Lea's is kept");
    let reports: Vec<_> = sites
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == REPORT_PATH)
        .collect();
    assert_eq!(reports.len(), 1, "site B stores nobody: {reports:?}");
    assert_eq!(reports[0].method, "POST");
    assert!(
        reports[0]
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("JWT ")),
        "reported as the app"
    );
    let body: Value = serde_json::from_str(&reports[0].body).unwrap();
    let first = &body["accounts"][0];
    assert!(
        first["accountId"].is_string() && first["updatedAt"].is_string(),
        "{body}"
    );
    assert_eq!(sites.fake.refused(), 0, "every report was authenticated");
}

#[tokio::test]
async fn the_personal_data_job_reports_ninety_accounts_a_request() {
    // Arrange: 200 more learners have opened the lesson on site A.
    let sites = Sites::new().await;
    let app = &sites.app;
    let course = sites.seed(SITE_A, SECRET_A).await;
    {
        let mut db = app.db_connection().await;
        for i in 0..200 {
            sqlx::query(
                "INSERT INTO lesson_views (client_key, course_id, account_id, lesson_id, version, opened_at) \
                 VALUES ($1, $2, $3, 'l1', 1, $4)",
            )
            .bind(SITE_A)
            .bind(&course)
            .bind(format!("557058:learner-{i:03}"))
            .bind(store::now_epoch())
            .execute(&mut db)
            .await
            .unwrap();
        }
    }
    sites.fake.clear_log();

    // Act
    let run = server::privacy::report_personal_data_once(&app.state).await;

    // Assert: 204 accounts (200 + author, Sam, Lea, Leo) in 90 + 90 + 24.
    assert_eq!(run.reported, 204, "{run:?}");
    assert_eq!(run.failed, 0, "{run:?}");
    let sizes: Vec<usize> = sites
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == REPORT_PATH)
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["accounts"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [90, 90, 24]);
}

/// The simulator's *Reset demo* (`dev-host` builds only; the store's `demo`
/// feature): every course row of one site goes with everything hanging off
/// it, the site stays installed and serving, another site is untouched,
/// and the triggers still refuse ordinary changes.
#[cfg(feature = "dev-host")]
#[tokio::test]
async fn the_demo_reset_deletes_one_sites_courses_and_keeps_it_installed() {
    // Arrange: two sites with data in every table.
    let sites = Sites::new().await;
    let app = &sites.app;
    let course_a = sites.seed(SITE_A, SECRET_A).await;
    sites.seed(SITE_B, SECRET_B).await;
    let before_b = rows_per_table(app, SITE_B).await;
    let db = &app.state.db;
    assert_eq!(
        db.demo_course(SITE_A, PAGE, "Fire safety").await.unwrap(),
        Some(course_a.clone()),
        "the demo course is found by page and title"
    );
    assert_eq!(
        db.demo_course(SITE_A, "9999", "Fire safety").await.unwrap(),
        None
    );
    assert_eq!(db.demo_course(SITE_A, PAGE, "Other").await.unwrap(), None);

    // Act
    let deleted = db.delete_course_data(SITE_A).await.unwrap();

    // Assert
    assert!(deleted > 0);
    for (table, n) in rows_per_table(app, SITE_A).await {
        if store::privacy::TENANT_TABLES.contains(&table.as_str()) {
            assert_eq!(n, 0, "{table} still holds rows of the reset site");
        }
    }
    assert_eq!(rows_per_table(app, SITE_B).await, before_b);
    assert_eq!(
        db.demo_course(SITE_A, PAGE, "Fire safety").await.unwrap(),
        None
    );
    let lea = context_token(SITE_A, SECRET_A, LEA, PAGE);
    assert_eq!(
        app.learner_course(&lea, &course_a)
            .await
            .err()
            .map(|e| e.status),
        Some(404),
        "the site is still installed; its course is gone"
    );
    triggers_still_refuse(app).await;
}
