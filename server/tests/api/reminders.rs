//! The reminder job end to end: enrolments and standings in the real store,
//! addresses from the fake Confluence (ACCESS_EMAIL_ADDRESSES), mail through
//! a real SMTP server on loopback (`testkit::SmtpSink`).

use std::time::Duration;

use app::space_admin::api::ReportQuery;
use serde_json::json;
use server::{reminders::send_reminders_once, Config};
use testkit::{SmtpSink, User};

use crate::helpers::*;

const SITE: &str = "site-a";
const SECRET: &str = "site-a-shared-secret-0123456789";
const PAGE: &str = "4001";
const AUTHOR: &str = "557058:author";
const SAM: &str = "557058:sam-space-admin";
const LEA: &str = "557058:lea-learner";
const NOA: &str = "557058:noa-no-address";
const DAY_MS: i64 = 86_400_000;

fn token(account: &str) -> String {
    context_token(SITE, SECRET, account, PAGE)
}

fn config_with(smtp: Option<&str>) -> Config {
    let mut c = Config::from_env_and_defaults();
    c.smtp_url = smtp.map(|u| u.to_owned().into());
    c.smtp_from = smtp.map(|_| "Smart Courses <courses@example.com>".to_owned());
    c
}

async fn site() -> (TestApp, FakeConfluence, String) {
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    fake.add_user_with(User::new(LEA, "Lea Learner").with_email("lea@example.com"));
    fake.add_user_with(User::new(NOA, "Noa Private"));
    app.install_on(&fake, SITE, SECRET).await;
    fake.allow_edit(AUTHOR, PAGE);
    fake.add_page(PAGE, "DEV", "Fire safety training");
    for who in [LEA, NOA, SAM] {
        fake.allow_read_only(who, PAGE);
    }
    fake.make_space_admin(SAM, "DEV");
    let content = json!({
        "title": "Fire safety",
        "modules": [{"id": "m1", "title": "Basics",
                     "lessons": [{"id": "l1", "title": "Why", "body_md": "Read."}],
                     "quiz": {"questions": [{"id": "t1", "prompt_md": "True?", "points": 1.0,
                                             "kind": {"type": "true_false", "answer": true}}]}}],
        "settings": {"certificate_validity_days": 30},
    });
    let saved = app
        .save_draft(&token(AUTHOR), None, 0, &content)
        .await
        .unwrap();
    app.publish(&token(AUTHOR), &saved.course_id, saved.revision, false)
        .await
        .unwrap();
    (app, fake, saved.course_id.to_string())
}

async fn pass(app: &TestApp, who: &str, id: &str) {
    let t = token(who);
    app.open_lesson(&t, id, 1, "l1").await.unwrap();
    let view = app
        .start_attempt(&t, id, "m1", &uuid::Uuid::new_v4().to_string())
        .await
        .unwrap();
    let now = app.now_ms();
    let r = app
        .submit_attempt(
            &t,
            &view.attempt_id,
            &[("t1", app::course::model::Response::Bool(true), now)],
        )
        .await
        .unwrap();
    assert!(r.passed);
}

#[tokio::test]
async fn one_mail_per_due_date_none_after_completion_and_certificate_expiry_reminded() {
    // Arrange: Lea due in two days; Noa too, but Confluence shares no address.
    let sink = SmtpSink::start().await;
    let settings = config_with(Some(&sink.url()))
        .reminders()
        .expect("valid settings")
        .expect("configured");
    let (app, _fake, id) = site().await;
    let sam = token(SAM);
    let due = app.now_ms() + 2 * DAY_MS;
    app.enrol(&sam, &id, &[LEA, NOA], Some(due)).await.unwrap();
    // Lea uses Confluence in German: her calls say so (the page's `loc` as
    // Accept-Language), the app records it once, and her mail is German.
    for _ in 0..3 {
        let (status, _) = fn_reply(app.call_fn_in("de-DE", "whoami", &token(LEA), &[]).await).await;
        assert_eq!(status, 200);
    }
    let lea_langs = format!(
        "SELECT COUNT(*) FROM learner_languages WHERE client_key = '{SITE}' \
         AND account_id = '{LEA}' AND lang = 'de'"
    );
    assert_eq!(app.count(&lea_langs).await, 1);

    // Act + Assert: the first run sends "due soon" to Lea only.
    let run = send_reminders_once(&app.state, &settings).await;
    assert_eq!((run.sent, run.no_address, run.failed), (1, 1, 0), "{run:?}");
    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails[0].to, vec!["lea@example.com".to_owned()]);
    let subject = mails[0].subject().unwrap_or_default();
    assert!(
        subject.starts_with("Erinnerung: „Fire safety“ ist am "),
        "{subject}"
    );
    assert!(subject.ends_with(" fällig"), "{subject}");
    let text = mails[0].text().unwrap_or_default();
    assert!(text.starts_with("Hallo Lea Learner,"), "{text}");
    assert!(
        text.contains("Zum Kurs: ") && text.contains("/pages/4001"),
        "{text}"
    );

    // The same date again: nothing.
    let again = send_reminders_once(&app.state, &settings).await;
    assert_eq!(again.sent, 0);
    // Lea switches Confluence to English; calls without a language (as
    // from scripts) change nothing. A new due date: one new reminder, in
    // English.
    let (status, _) = fn_reply(app.call_fn_in("en-GB", "whoami", &token(LEA), &[]).await).await;
    assert_eq!(status, 200);
    let (status, _) = fn_reply(app.call_fn("whoami", Some(&token(LEA)), &[]).await).await;
    assert_eq!(status, 200);
    app.set_due(&sam, &id, &[LEA], Some(due + DAY_MS))
        .await
        .unwrap();
    assert_eq!(send_reminders_once(&app.state, &settings).await.sent, 1);
    let subject = sink.messages()[1].subject().unwrap_or_default();
    assert!(
        subject.starts_with("Reminder: \"Fire safety\" is due on "),
        "{subject}"
    );
    // Past the date: "overdue", once.
    app.clock.advance(4 * DAY_MS);
    assert_eq!(send_reminders_once(&app.state, &settings).await.sent, 1);
    assert_eq!(send_reminders_once(&app.state, &settings).await.sent, 0);
    assert_eq!(sink.messages().len(), 3);

    // Lea completes: no due-date reminder any more, whatever the date.
    pass(&app, LEA, &id).await;
    app.set_due(&sam, &id, &[LEA], Some(app.now_ms() + DAY_MS))
        .await
        .unwrap();
    assert_eq!(send_reminders_once(&app.state, &settings).await.sent, 0);
    let report = app
        .course_report_with(&sam, &id, &ReportQuery::default())
        .await
        .unwrap();
    assert!(report
        .rows
        .iter()
        .any(|r| r.account_id == LEA && r.completed_at_ms.is_some()));

    // Her certificate (30 days) nears expiry: one reminder about it.
    app.clock.advance(20 * DAY_MS);
    let run = send_reminders_once(&app.state, &settings).await;
    assert_eq!(run.sent, 1, "{run:?}");
    let last = sink.messages().pop().unwrap();
    assert!(
        last.text()
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate"),
        "{:?}",
        last.text()
    );
}

#[tokio::test]
async fn no_smtp_no_reminders_and_a_half_configuration_refuses_to_start() {
    assert!(config_with(None).reminders().unwrap().is_none());
    let mut half = config_with(None);
    half.smtp_from = Some("courses@example.com".into());
    assert!(half.reminders().is_err());
    let mut bad = config_with(Some("smtp://127.0.0.1:2525"));
    bad.smtp_from = Some("not an address".into());
    let err = bad.reminders().unwrap_err();
    assert!(
        !format!("{err:#}").contains("2525"),
        "no URL in the error: {err:#}"
    );
}

#[tokio::test]
async fn a_failed_send_is_tried_again_on_the_next_run() {
    let sink = SmtpSink::start().await;
    let settings = config_with(Some(&sink.url())).reminders().unwrap().unwrap();
    let (app, _fake, id) = site().await;
    app.enrol(&token(SAM), &id, &[LEA], Some(app.now_ms() + DAY_MS))
        .await
        .unwrap();
    sink.fail_deliveries(true);
    let failed = send_reminders_once(&app.state, &settings).await;
    sink.fail_deliveries(false);
    let retried = send_reminders_once(&app.state, &settings).await;
    assert_eq!((failed.sent, failed.failed), (0, 1));
    assert_eq!(retried.sent, 1);
    assert_eq!(sink.messages().len(), 1);
}
