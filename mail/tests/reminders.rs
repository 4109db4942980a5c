//! Reminders end to end, short of the server: the rule (`course`), the
//! store's once-only claims (`reminders_sent` on SQLite), this crate's
//! mailer and a real SMTP server (testkit's sink). `run_job` below is the
//! loop the server's reminder job runs for each course — the reference for
//! wiring it.

use std::time::Duration;

use connect::{TenantInstall, TenantKey, Tenants};
use course::{
    learning::reminders::{
        compose, due_reminders, ReminderFacts, ReminderSchedule, ReminderText, ReminderWords,
    },
    locale::Lang,
};
use mail::{Mailer, SmtpSettings};
use store::Db;
use testkit::SmtpSink;

/// The English reminder texts of the app's locale file (the server words
/// them through `app::learning::service::reminder_words`).
fn english() -> ReminderWords {
    let all: serde_json::Value =
        serde_json::from_str(include_str!("../../app/locales/en.json")).expect("en.json");
    serde_json::from_value(all["reminder"].clone()).expect("the reminder texts")
}

/// 2026-01-01T00:00:00Z.
const JAN_1: i64 = 1_767_225_600_000;
const DAY_MS: i64 = 86_400_000;
const COURSE: &str = "course-1";

/// One learner as the job sees them: the facts for the rule, and the
/// address Confluence shares (`None`: the user hides it).
struct Learner {
    account_id: &'static str,
    email: Option<&'static str>,
    facts: ReminderFacts,
}

/// One run of the reminder job over one course, as the server runs it.
/// Returns the number of mails sent.
///
/// - No mailer (SMTP unconfigured): nothing is claimed or sent, so the
///   reminders still go out once SMTP is configured.
/// - Each reminder is claimed before it is sent; a claim taken by an
///   earlier run (or another server process) means it went out already.
/// - A send that may succeed later (network, 4xx) releases the claim for
///   the next run; a permanent refusal keeps it, so a dead mailbox is not
///   retried forever.
async fn run_job(
    db: &Db,
    tenant: &TenantKey,
    mailer: Option<&Mailer>,
    learners: &[Learner],
    now_ms: i64,
) -> usize {
    let Some(mailer) = mailer else {
        return 0;
    };
    let schedule = ReminderSchedule::default();
    let mut sent = 0;
    for learner in learners {
        let Some(email) = learner.email else {
            continue;
        };
        for reminder in due_reminders(&learner.facts, &schedule, now_ms) {
            let key = reminder.key();
            let fresh = db
                .claim_reminder(tenant, COURSE, learner.account_id, &key, now_ms)
                .await
                .expect("claim");
            if !fresh {
                continue;
            }
            let text = ReminderText {
                course_title: "Fire safety".into(),
                page_url: Some("https://acme.atlassian.net/wiki/spaces/HR/pages/42".into()),
                learner_name: learner.account_id.into(),
            };
            let (subject, body) = compose(&reminder, &text, Lang::En, &english());
            match mailer.send(email, &subject, &body).await {
                Ok(()) => sent += 1,
                Err(e) if e.is_permanent() => {}
                Err(_) => db
                    .release_reminder(tenant, COURSE, learner.account_id, &key)
                    .await
                    .expect("release"),
            }
        }
    }
    sent
}

/// A migrated SQLite store in its own folder, and a verified tenant key
/// (from the store's active tenants, as the server's jobs get theirs).
async fn store() -> (Db, TenantKey, std::path::PathBuf) {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("reminders-{}", uuid::Uuid::new_v4().simple()));
    let db = Db::connect(&format!("sqlite://{}/db.sqlite", dir.display()))
        .await
        .expect("open the store")
        .with_keyring(
            store::secrets::Keyring::new(&store::secrets::Keyring::generate("test").unwrap(), None)
                .unwrap(),
        );
    db.migrate().await.expect("migrate");
    db.upsert_tenant(&TenantInstall {
        client_key: "acme".into(),
        shared_secret: "secret".to_owned().into(),
        base_url: "https://acme.atlassian.net/wiki".into(),
        display_url: None,
        product_type: Some("confluence".into()),
        oauth_client_id: None,
        installation_id: None,
    })
    .await
    .expect("install");
    let tenant = Tenants::new(std::sync::Arc::new(db.clone()))
        .active()
        .await
        .expect("tenants")
        .pop()
        .expect("the installed tenant");
    (db, tenant, dir)
}

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&SmtpSettings {
        url: sink.url().into(),
        from: "Smart Courses <courses@example.com>".into(),
    })
    .unwrap()
}

fn due(account_id: &'static str, due_at_ms: i64) -> Learner {
    Learner {
        account_id,
        email: Some("ada@example.com"),
        facts: ReminderFacts {
            due_at_ms: Some(due_at_ms),
            complete: false,
            expires_at_ms: None,
        },
    }
}

#[tokio::test]
async fn one_mail_per_due_date_however_often_the_job_runs() {
    let (db, tenant, dir) = store().await;
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink);
    let mut learners = [due("ada", JAN_1)];

    // Two days before: "due soon", once.
    let now = JAN_1 - 2 * DAY_MS;
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        1
    );
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now + 3_600_000).await,
        0,
        "the next run sends nothing"
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["ada@example.com"]);
    assert_eq!(
        mails[0].subject().as_deref(),
        Some("Reminder: \"Fire safety\" is due on 2026-01-01")
    );

    // After the due date: "overdue", once.
    let now = JAN_1 + DAY_MS;
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        1
    );
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        0
    );
    assert_eq!(
        sink.messages()[1].subject().as_deref(),
        Some("Overdue: \"Fire safety\" was due on 2026-01-01")
    );

    // An admin moves the due date: a new date, a new reminder.
    learners[0].facts.due_at_ms = Some(JAN_1 + 3 * DAY_MS);
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        1
    );
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        0
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 3);
    assert_eq!(
        mails[2].subject().as_deref(),
        Some("Reminder: \"Fire safety\" is due on 2026-01-04")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn no_mail_after_completion() {
    let (db, tenant, dir) = store().await;
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink);
    let mut learners = [due("ada", JAN_1)];
    let before = JAN_1 - 2 * DAY_MS;
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, before).await,
        1
    );

    // Ada completes the course before the due date: no "overdue" follows,
    // nor anything else, whenever the job runs.
    learners[0].facts.complete = true;
    for now in [before, JAN_1, JAN_1 + DAY_MS, JAN_1 + 90 * DAY_MS] {
        assert_eq!(
            run_job(&db, &tenant, Some(&mailer), &learners, now).await,
            0
        );
    }
    assert_eq!(
        sink.messages().len(),
        1,
        "only the reminder before completion"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn no_mail_when_smtp_is_unconfigured_and_nothing_is_used_up() {
    let (db, tenant, dir) = store().await;
    let learners = [due("ada", JAN_1)];
    let now = JAN_1 - DAY_MS;

    assert_eq!(run_job(&db, &tenant, None, &learners, now).await, 0);

    // Configured later, the reminder still goes out (it was not claimed).
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink);
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        1
    );
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_failed_send_is_tried_again_on_the_next_run_and_then_only_once() {
    let (db, tenant, dir) = store().await;
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink);
    let learners = [due("ada", JAN_1), due("bob", JAN_1)];
    let now = JAN_1 + DAY_MS;

    sink.fail_deliveries(true);
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        0
    );
    sink.fail_deliveries(false);
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        2
    );
    assert_eq!(
        run_job(&db, &tenant, Some(&mailer), &learners, now).await,
        0
    );
    assert_eq!(sink.messages().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn certificate_reminders_go_to_those_who_completed() {
    let (db, tenant, dir) = store().await;
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink);
    let expiry = JAN_1 + 30 * DAY_MS;
    let learners = [Learner {
        account_id: "ada",
        email: Some("ada@example.com"),
        facts: ReminderFacts {
            due_at_ms: Some(JAN_1),
            complete: true,
            expires_at_ms: Some(expiry),
        },
    }];

    for now in [
        expiry - 10 * DAY_MS,
        expiry - DAY_MS,
        expiry,
        expiry + DAY_MS,
    ] {
        run_job(&db, &tenant, Some(&mailer), &learners, now).await;
    }

    let subjects: Vec<_> = sink
        .messages()
        .iter()
        .map(|m| m.subject().unwrap_or_default())
        .collect();
    assert_eq!(
        subjects,
        [
            "Your certificate for \"Fire safety\" expires on 2026-01-31",
            "Your certificate for \"Fire safety\" has expired",
        ]
    );
    let _ = std::fs::remove_dir_all(dir);
}
