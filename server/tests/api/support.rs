//! Staff access only with the customer's consent: `smart-courses support`
//! reads a space's data only under an active, time-boxed grant that a space
//! admin made, and every read is in the site's audit log.

use app::space_admin::api::SupportGrantRow;
use serde_json::json;
use server::support::{support_read, SupportRead};

use crate::helpers::*;

const SITE: &str = "site-sup";
const SECRET: &str = "site-sup-shared-secret-0123456789";
const PAGE: &str = "6001";
const SAM: &str = "557058:sam-space-admin";
const LEA: &str = "557058:lea-learner";
const HOUR_MS: i64 = 3_600_000;

fn token(account: &str) -> String {
    context_token(SITE, SECRET, account, PAGE)
}

#[tokio::test]
async fn support_reads_only_under_an_active_grant_and_every_read_is_audited() {
    // Arrange: a course in space DEV; Sam administers DEV.
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE, SECRET).await;
    fake.allow_edit(SAM, PAGE);
    fake.allow_read_only(LEA, PAGE);
    fake.make_space_admin(SAM, "DEV");
    let saved = app
        .save_draft(
            &token(SAM),
            None,
            0,
            &json!({"title": "Support-visible course", "modules": [{"id": "m1", "title": "M",
                    "lessons": [{"id": "l1", "title": "L", "body_md": "x"}]}]}),
        )
        .await
        .unwrap();
    app.publish(&token(SAM), &saved.course_id, saved.revision, false)
        .await
        .unwrap();
    let read = |what| support_read(&app.state, SITE, "DEV", "alice", what);

    // Act + Assert: no grant → refused, and nothing recorded as read.
    let refused = read(SupportRead::Courses).await.unwrap_err().to_string();
    assert!(refused.contains("no active support grant"), "{refused}");

    // A learner cannot grant; bad durations are refused.
    let (status, _) = fn_reply(
        app.call_fn(
            "space-admin/support-grant",
            Some(&token(LEA)),
            &[("hours", "1"), ("reason", "x")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = fn_reply(
        app.call_fn(
            "space-admin/support-grant",
            Some(&token(SAM)),
            &[("hours", "0"), ("reason", "x")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);

    // The admin grants one hour: support reads, and the read is audited.
    let (status, body) = fn_reply(
        app.call_fn(
            "space-admin/support-grant",
            Some(&token(SAM)),
            &[
                ("hours", "1"),
                ("reason", "Case 4711: quiz scores look wrong"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let grant: SupportGrantRow = serde_json::from_value(body).unwrap();
    assert!(grant.active);
    let courses = read(SupportRead::Courses)
        .await
        .expect("a grant is in force");
    assert!(courses.contains("Support-visible course"), "{courses}");
    let audit = app.audit_log(&token(SAM), None, None).await.unwrap();
    let access = audit
        .entries
        .iter()
        .find(|e| e.action == "support_access")
        .expect("the read is in the customer's audit log");
    assert_eq!(access.actor_id.as_deref(), Some("support:alice"));
    assert!(access.summary.contains("alice"), "{}", access.summary);
    assert!(audit.entries.iter().any(|e| e.action == "support_grant"));

    // Another space, another site: no grant there.
    assert!(
        support_read(&app.state, SITE, "OPS", "alice", SupportRead::Courses)
            .await
            .is_err()
    );
    assert!(support_read(
        &app.state,
        "site-other",
        "DEV",
        "alice",
        SupportRead::Courses
    )
    .await
    .is_err());

    // Expired: refused.
    app.clock.advance(HOUR_MS + 1);
    assert!(read(SupportRead::Audit).await.is_err());

    // A new grant, revoked by the admin: refused at once.
    let (status, _) = fn_reply(
        app.call_fn(
            "space-admin/support-grant",
            Some(&token(SAM)),
            &[("hours", "24"), ("reason", "Case 4712")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(read(SupportRead::Audit).await.is_ok());
    let (status, body) = fn_reply(
        app.call_fn("space-admin/support-revoke", Some(&token(SAM)), &[])
            .await,
    )
    .await;
    assert_eq!((status, body), (200, json!(1)));
    assert!(read(SupportRead::Audit).await.is_err());
    let (_, grants) = fn_reply(
        app.call_fn("space-admin/support-grants", Some(&token(SAM)), &[])
            .await,
    )
    .await;
    let grants: Vec<SupportGrantRow> = serde_json::from_value(grants).unwrap();
    assert_eq!(grants.len(), 2);
    assert!(grants.iter().all(|g| !g.active));
}

#[tokio::test]
async fn a_refused_grant_is_explained_in_the_language_of_the_page() {
    // Arrange: Sam administers DEV.
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    app.install_on(&fake, SITE, SECRET).await;
    fake.make_space_admin(SAM, "DEV");
    let grant_in = |language: &'static str, hours: &'static str, reason: &'static str| {
        let app = &app;
        async move {
            fn_reply(
                app.call_fn_in(
                    language,
                    "space-admin/support-grant",
                    &token(SAM),
                    &[("hours", hours), ("reason", reason)],
                )
                .await,
            )
            .await
        }
    };

    // Act
    let de_hours = grant_in("de-DE", "0", "Fall 1").await;
    let en_hours = grant_in("en-US", "0", "Case 1").await;
    let de_reason = grant_in("de-CH", "1", "   ").await;

    // Assert: 400s, worded for the page; nothing granted.
    assert_eq!(
        de_hours,
        (
            400,
            json!({"Invalid": "Der Support-Zugriff dauert 1 bis 168 Stunden."})
        )
    );
    assert_eq!(
        en_hours,
        (
            400,
            json!({"Invalid": "Support access lasts 1 to 168 hours."})
        )
    );
    assert_eq!(
        de_reason,
        (
            400,
            json!({"Invalid": "Nenne den Grund (den Supportfall), in höchstens 500 Zeichen."})
        )
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM support_grants").await, 0);
}
