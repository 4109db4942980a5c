//! The findings of the security review (issue "Hardening"), one test group
//! each: timed quizzes, quotas and rate limits, unauthenticated work,
//! lifecycle order, install hygiene, CSP, moved pages and sites without an
//! OAuth client. Each test fails on the code before the fix.

use std::time::Duration;

use app::{
    course::{learning::timing::GRACE_MS, model::Response},
    error::AppError,
    learning::api::AttemptState,
};
use serde_json::{json, Value};
use testkit::{keys, tokens::InstallClaims, KeyServer};

use crate::helpers::{calls::Refused, *};

const SITE: &str = "site-h";
const SECRET: &str = "site-h-shared-secret-0123456789abcd";
const PAGE: &str = "3001";
const AUTHOR: &str = "557058:hardening-author";
const LEA: &str = "557058:hardening-lea";
const SAM: &str = "557058:hardening-sam";

fn token(account: &str) -> String {
    context_token(SITE, SECRET, account, PAGE)
}

/// A course of `n` true/false questions (all true) with `settings`.
fn quiz(n: usize, settings: Value) -> Value {
    let questions: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"id": format!("t{i}"), "prompt_md": format!("Statement {i}"),
                         "points": 1.0, "kind": {"type": "true_false", "answer": true}})
        })
        .collect();
    canonical_course(&json!({
        "title": "Timed", "description_md": "",
        "modules": [{"id": "m1", "title": "M", "lessons": [{"id": "l1", "title": "L", "body_md": "x"}],
                     "quiz": {"questions": questions}}],
        "settings": settings,
    }))
}

fn yes() -> Response {
    Response::Bool(true)
}

struct Site {
    app: TestApp,
    fake: FakeConfluence,
}

impl Site {
    async fn new() -> Self {
        Self::configured(|_| {}).await
    }

    async fn configured(tweak: impl FnOnce(&mut server::Config)) -> Self {
        let fake = FakeConfluence::start().await;
        let token_url = fake.token_url();
        let app = spawn_app_configured(Options::default(), move |c| {
            c.app_key = APP_KEY.into();
            c.oauth_token_url = Some(token_url.parse().unwrap());
            tweak(c);
        })
        .await;
        app.install_on(&fake, SITE, SECRET).await;
        fake.allow_edit(AUTHOR, PAGE);
        fake.allow_read_only(LEA, PAGE);
        fake.allow_edit(SAM, PAGE);
        fake.make_space_admin(SAM, "DEV");
        Site { app, fake }
    }

    async fn publish(&self, content: &Value) -> String {
        let t = token(AUTHOR);
        let saved = self.app.save_draft(&t, None, 0, content).await.unwrap();
        self.app
            .publish(&t, saved.course_id.as_str(), saved.revision, false)
            .await
            .unwrap();
        saved.course_id.into_string()
    }
}

// ---- 1. timed quizzes ----------------------------------------------------------------

/// The bypass: let a 10-minute quiz time out, look everything up for hours,
/// then submit every answer stamped a millisecond before the deadline.
#[tokio::test]
async fn answers_stamped_before_the_deadline_but_sent_hours_later_do_not_count() {
    // Arrange
    let site = Site::new().await;
    let id = site
        .publish(&quiz(
            3,
            json!({"time_limit_secs": 600, "pass_mark_percent": 50}),
        ))
        .await;
    let lea = token(LEA);
    let view = site
        .app
        .start_attempt(&lea, &id, "m1", "5a1e0c3d-7b2f-4e8a-9c61-aaaaaaaaaaaa")
        .await
        .unwrap();
    let deadline = view.deadline_ms.unwrap();
    site.app.clock.advance(2 * 3_600_000);
    let stamped = deadline - 1;

    // Act
    let saved = site
        .app
        .save_answer_with_checkpoint(
            &lea,
            &view.attempt_id,
            "t1",
            &yes(),
            stamped,
            view.checkpoint.as_deref(),
        )
        .await;
    let submitted = site
        .app
        .submit_attempt_with_checkpoint(
            &lea,
            &view.attempt_id,
            &[
                ("t1", yes(), stamped),
                ("t2", yes(), stamped),
                ("t3", yes(), stamped),
            ],
            view.checkpoint.as_deref(),
        )
        .await
        .unwrap();

    // Assert
    assert!(
        matches!(&saved, Err(Refused { status: 409, error: AppError::Conflict(m) }) if m.contains("10 minutes")),
        "{saved:?}"
    );
    assert_eq!(submitted.score, 0.0, "none of the late answers counts");
    assert_eq!(submitted.rejected.len(), 3);
    assert!(!submitted.passed);
}

/// Offline answers given in time still count when they arrive within the
/// quiz's window with the checkpoint of the open attempt — recorded as late,
/// and shown in the admin report; without a checkpoint they do not count.
#[tokio::test]
async fn journalled_answers_within_the_window_count_as_late_arrivals_and_are_reported() {
    // Arrange: a 5-minute quiz (a 5-minute window). Lea answers t1 online,
    // then the network drops; she answers t2 offline before the deadline.
    let site = Site::new().await;
    let id = site
        .publish(&quiz(
            2,
            json!({"time_limit_secs": 300, "pass_mark_percent": 50}),
        ))
        .await;
    let lea = token(LEA);
    let view = site
        .app
        .start_attempt(&lea, &id, "m1", "5a1e0c3d-7b2f-4e8a-9c61-bbbbbbbbbbbb")
        .await
        .unwrap();
    let saved = site
        .app
        .save_answer_with_checkpoint(
            &lea,
            &view.attempt_id,
            "t1",
            &yes(),
            site.app.now_ms(),
            view.checkpoint.as_deref(),
        )
        .await
        .unwrap();
    let checkpoint = saved
        .checkpoint
        .clone()
        .expect("a checkpoint while the attempt is open");
    site.app.clock.advance(120_000);
    let offline_answer_at = site.app.now_ms();
    site.app.clock.advance(180_000 + GRACE_MS + 60_000); // back online 1.5 min after the time limit

    // Act
    let unmarked = site
        .app
        .save_answer_with_checkpoint(
            &lea,
            &view.attempt_id,
            "t2",
            &yes(),
            offline_answer_at,
            None,
        )
        .await;
    let forged = site
        .app
        .save_answer_with_checkpoint(
            &lea,
            &view.attempt_id,
            "t2",
            &yes(),
            offline_answer_at,
            Some("1.0123456789abcdef0123456789abcdef"),
        )
        .await;
    let late = site
        .app
        .save_answer_with_checkpoint(
            &lea,
            &view.attempt_id,
            "t2",
            &yes(),
            offline_answer_at,
            Some(&checkpoint),
        )
        .await
        .unwrap();
    let result = site
        .app
        .submit_attempt_with_checkpoint(&lea, &view.attempt_id, &[], Some(&checkpoint))
        .await
        .unwrap();
    let report = site.app.course_report(&token(SAM), &id).await.unwrap();

    // Assert
    for refused in [&unmarked, &forged] {
        assert!(
            matches!(refused, Err(Refused { status: 409, error: AppError::Conflict(m) }) if m.contains("without a record")),
            "{refused:?}"
        );
    }
    assert!(late.applied);
    assert_eq!(
        late.checkpoint, None,
        "no new checkpoints once the time is up"
    );
    assert_eq!(result.score, 2.0);
    let row = report.rows.iter().find(|r| r.account_id == LEA).unwrap();
    assert_eq!(row.late_answers, 1, "{row:?}");
    let csv = site
        .app
        .report_csv(&token(SAM), &id, &Default::default())
        .await
        .unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",Late answers"),
        "{csv}"
    );
}

/// Starting another attempt ends a timed-out one: its feedback cannot be
/// copied back into the first through the journal.
#[tokio::test]
async fn a_new_attempt_closes_the_timed_out_one_to_late_answers() {
    // Arrange: immediate feedback, two attempts allowed, 2 minutes each.
    let site = Site::new().await;
    let id = site
        .publish(&quiz(
            1,
            json!({"time_limit_secs": 120, "attempt_limit": 2, "feedback_mode": "immediate"}),
        ))
        .await;
    let lea = token(LEA);
    let first = site
        .app
        .start_attempt(&lea, &id, "m1", "5a1e0c3d-7b2f-4e8a-9c61-cccccccccccc")
        .await
        .unwrap();
    let journalled_at = site.app.now_ms() + 30_000;
    site.app.clock.advance(120_000 + GRACE_MS + 10_000);

    // Act: a second attempt shows the feedback; then the first's journal.
    let second = site
        .app
        .start_attempt(&lea, &id, "m1", "5a1e0c3d-7b2f-4e8a-9c61-dddddddddddd")
        .await
        .unwrap();
    let copied = site
        .app
        .submit_attempt_with_checkpoint(
            &lea,
            &first.attempt_id,
            &[("t1", yes(), journalled_at)],
            first.checkpoint.as_deref(),
        )
        .await
        .unwrap();
    let history = site.app.attempt_history(&lea, &id, "m1").await.unwrap();

    // Assert
    assert_ne!(second.attempt_id, first.attempt_id);
    assert_eq!(
        copied.score, 0.0,
        "the first attempt was graded when the second started"
    );
    assert!(copied.rejected.is_empty(), "a repeat of the stored result");
    let old = history
        .iter()
        .find(|h| h.attempt_id == first.attempt_id)
        .unwrap();
    assert_eq!(old.state, AttemptState::Submitted);
}

// ---- 2. quotas and rate limits ---------------------------------------------------------

#[tokio::test]
async fn a_site_cannot_create_more_courses_or_versions_than_its_quota() {
    // Arrange
    let site = Site::configured(|c| {
        c.quota_courses_per_site = 2;
        c.quota_versions_per_course = 2;
    })
    .await;
    let t = token(AUTHOR);
    let content = quiz(1, json!({}));
    let id = site.publish(&content).await;
    site.app.save_draft(&t, None, 0, &content).await.unwrap();

    // Act
    let third_course = site.app.save_draft(&t, None, 0, &content).await;
    let second_version = site.app.publish(&t, &id, 1, false).await;
    let third_version = site.app.publish(&t, &id, 1, false).await;
    let copy = site.app.copy_course(&t, &id).await;

    // Assert
    let limit = |m: &str| m.contains("limit of 2");
    assert!(
        matches!(&third_course, Err(Refused { status: 409, error: AppError::LimitReached(m) }) if limit(m)),
        "{third_course:?}"
    );
    assert!(second_version.is_ok(), "{second_version:?}");
    assert!(
        matches!(&third_version, Err(Refused { status: 409, error: AppError::LimitReached(m) }) if limit(m)),
        "{third_version:?}"
    );
    assert!(
        matches!(
            &copy,
            Err(Refused {
                status: 409,
                error: AppError::LimitReached(_)
            })
        ),
        "{copy:?}"
    );
    assert_eq!(site.app.course_and_version_counts(SITE).await, (2, 2));
}

#[tokio::test]
async fn a_site_cannot_store_more_course_content_than_its_quota() {
    // Arrange: 1 MB for the site; each draft is about 400 KB.
    let site = Site::configured(|c| c.quota_megabytes_per_site = 1).await;
    let t = token(AUTHOR);
    let mut big = quiz(1, json!({}));
    big["description_md"] = json!("x".repeat(400 * 1024));

    // Act
    let first = site.app.save_draft(&t, None, 0, &big).await;
    let second = site.app.save_draft(&t, None, 0, &big).await;
    let third = site.app.save_draft(&t, None, 0, &big).await;

    // Assert
    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    assert!(
        matches!(&third, Err(Refused { status: 409, error: AppError::LimitReached(m) }) if m.contains("1 MB")),
        "{third:?}"
    );
    assert_eq!(site.app.course_and_version_counts(SITE).await, (2, 0));
}

#[tokio::test]
async fn server_functions_are_rate_limited_per_user_and_per_site_with_retry_after() {
    // Arrange: 3 requests at once per user, 6 per site, slowly refilled.
    let site = Site::configured(|c| {
        c.rate_limit_user_per_sec = 1;
        c.rate_limit_user_burst = 3;
        c.rate_limit_site_per_sec = 1;
        c.rate_limit_site_burst = 6;
    })
    .await;

    // Act
    let mut lea = Vec::new();
    for _ in 0..4 {
        lea.push(site.app.whoami(&token(LEA)).await);
    }
    let sam = site.app.whoami(&token(SAM)).await;
    let sam_again = site.app.whoami(&token(SAM)).await;
    let raw = site.app.call_fn("whoami", Some(&token(AUTHOR)), &[]).await;
    // The same refusal, read from a German page.
    let raw_de = site
        .app
        .call_fn_in("de-DE", "whoami", &token(AUTHOR), &[])
        .await;

    // Assert
    assert!(lea[..3].iter().all(Result::is_ok), "{lea:?}");
    assert!(
        matches!(&lea[3], Err(Refused { status: 429, error: AppError::RateLimited { retry_after_secs, .. } }) if *retry_after_secs >= 1),
        "{:?}",
        lea[3]
    );
    assert!(
        sam.is_ok(),
        "another user has a bucket of their own: {sam:?}"
    );
    assert!(sam_again.is_ok(), "the site's sixth request: {sam_again:?}");
    assert_eq!(raw.status(), 429, "the site's seventh request");
    let retry: u64 = raw.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Worded for the page's language; English unchanged.
    let (_, body) = fn_reply(raw).await;
    let english = body["RateLimited"]["message"].as_str().unwrap_or_default();
    assert_eq!(
        english,
        format!("Too many requests from this site right now. Please wait {retry} s and try again.")
    );
    let (status, body) = fn_reply(raw_de).await;
    assert_eq!(status, 429);
    let german = body["RateLimited"]["message"].as_str().unwrap_or_default();
    assert!(
        german.starts_with("Gerade kommen zu viele Anfragen von dieser Site. Bitte warte ")
            && german.ends_with(" s und versuche es noch einmal."),
        "{body}"
    );
}

#[tokio::test]
async fn lessons_of_versions_before_the_current_cycle_cannot_be_opened() {
    // Arrange: version 2 is a material change (a new cycle).
    let site = Site::new().await;
    let t = token(AUTHOR);
    let id = site.publish(&quiz(1, json!({}))).await;
    site.app.publish(&t, &id, 1, true).await.unwrap();

    // Act
    let old = site.app.open_lesson(&token(LEA), &id, 1, "l1").await;
    let current = site.app.open_lesson(&token(LEA), &id, 2, "l1").await;

    // Assert
    assert_eq!(old.unwrap_err().status, 404);
    assert!(current.is_ok(), "{current:?}");
}

// ---- 3. unauthenticated requests cause little work ---------------------------------

fn unknown_kid_install(kid: &str, client_key: &str) -> String {
    let mut c = install_claims(client_key, "/installed");
    c.kid = Some(kid.into());
    c.sign()
}

#[tokio::test]
async fn an_unknown_kid_is_fetched_once_and_remembered() {
    // Arrange
    let keys = KeyServer::new(&[keys::FIXTURE_A]);
    let url = keys.start().await;
    let app = spawn_app_with(Options {
        keys_cdn_url: Some(url),
    })
    .await;
    let body = install_body("site-k", "secret-k-0123456789");

    // Act
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let t = unknown_kid_install("22222222-3333-4444-8555-666666666666", "site-k");
        statuses.push(
            app.lifecycle("installed", Some(&t), &body)
                .await
                .status()
                .as_u16(),
        );
    }

    // Assert
    assert_eq!(statuses, [401; 5]);
    assert_eq!(keys.requests(), 1, "one fetch; the miss is remembered");
}

#[tokio::test]
async fn key_fetches_in_flight_are_limited() {
    // Arrange: a key server that takes half a second per answer.
    let keys = KeyServer::with_delay(&[keys::FIXTURE_A], Duration::from_millis(500));
    let url = keys.start().await;
    let app = spawn_app_with(Options {
        keys_cdn_url: Some(url),
    })
    .await;

    // Act: twelve installs with twelve different unknown kids at once.
    let posts = (0..12).map(|i| {
        let app = &app;
        async move {
            let t =
                unknown_kid_install(&format!("kid-{i:02}-7777-4444-8555-666666666666"), "site-f");
            app.lifecycle(
                "installed",
                Some(&t),
                &install_body("site-f", "s-0123456789abcdef"),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = futures::future::join_all(posts).await;

    // Assert
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        keys.max_in_flight() <= 4,
        "{} fetches at once",
        keys.max_in_flight()
    );
}

#[tokio::test]
async fn lifecycle_routes_are_rate_limited_per_address() {
    // Arrange
    let app = spawn_app().await;
    let body = install_body("site-r", "secret-r-0123456789");

    // Act: garbage tokens, fast.
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(app.lifecycle("installed", Some("x.y.z"), &body).await);
    }

    // Assert
    let last = statuses.pop().unwrap();
    assert_eq!(last.status(), 429);
    assert!(last.headers().contains_key("retry-after"));
    assert!(statuses.iter().take(30).all(|r| r.status() == 401));
}

// ---- 4. lifecycle order ------------------------------------------------------------

#[tokio::test]
async fn a_signed_enabled_or_disabled_after_uninstalled_does_not_revive_the_tenant() {
    // Arrange
    let app = spawn_app().await;
    app.install("site-u", "secret-u-0123456789abcdef").await;
    app.uninstall("site-u").await;
    let ctx = hs_token(
        jsonwebtoken::Algorithm::HS256,
        "secret-u-0123456789abcdef",
        &context_claims("site-u", LEA),
    );

    // Act: Atlassian-signed callbacks arriving after the uninstall.
    let mut body = install_body("site-u", "ignored");
    let mut answers = Vec::new();
    // `enabled` last: without the fix it would leave the tenant active.
    for event in ["disabled", "enabled"] {
        body["eventType"] = json!(event);
        let t = install_claims("site-u", &format!("/{event}")).sign();
        answers.push(
            app.lifecycle(event, Some(&t), &body)
                .await
                .status()
                .as_u16(),
        );
    }
    let refused = app.whoami(&ctx).await;
    app.install("site-u", "secret-u-0123456789abcdef").await;
    let revived = app.whoami(&ctx).await;

    // Assert
    assert_eq!(answers, [204, 204], "acknowledged, changed nothing");
    assert_eq!(refused.unwrap_err().status, 401);
    assert!(revived.is_ok(), "/installed revives it: {revived:?}");
}

// ---- 5. stale tenant rows across instances ---------------------------------------------

/// Another instance's cached tenant row is used for at most the cache's
/// five seconds after an uninstall (README "Security").
#[tokio::test]
async fn another_instance_stops_accepting_an_uninstalled_tenant_within_five_seconds() {
    // Arrange: two instances on one database.
    let a = spawn_app().await;
    let database_url = a.database_url.clone();
    let b = spawn_app_configured(Options::default(), |c| c.database_url = database_url).await;
    a.install("site-s", "secret-s-0123456789abcdef").await;
    let ctx = hs_token(
        jsonwebtoken::Algorithm::HS256,
        "secret-s-0123456789abcdef",
        &context_claims("site-s", LEA),
    );
    assert!(b.whoami(&ctx).await.is_ok(), "B has the row cached now");

    // Act
    a.uninstall("site-s").await;
    let at_once_a = a.whoami(&ctx).await;
    tokio::time::sleep(connect::tenants::TENANT_CACHE_TTL + Duration::from_millis(200)).await;
    let later_b = b.whoami(&ctx).await;

    // Assert
    assert_eq!(
        at_once_a.unwrap_err().status,
        401,
        "the instance that saw it: at once"
    );
    assert_eq!(
        later_b.unwrap_err().status,
        401,
        "the other one: within the TTL"
    );
}

// ---- 7. CSP -------------------------------------------------------------------------

#[tokio::test]
async fn pages_run_only_scripts_carrying_the_responses_nonce() {
    // Arrange
    let app = spawn_app().await;
    app.install("site-c", "secret-c-0123456789abcdef").await;
    let query = "course=&page.id=98305&space.key=DEV&xdm_e=https%3A%2F%2Fsite-c.atlassian.net";
    let claims = page_claims("site-c", LEA, "/macro/course", query);
    let t = hs_token(
        jsonwebtoken::Algorithm::HS256,
        "secret-c-0123456789abcdef",
        &claims,
    );

    // Act
    let resp = app
        .http
        .get(app.url(&format!("/macro/course?{query}&jwt={t}")))
        .send()
        .await
        .unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = resp.text().await.unwrap();

    // Assert
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a script nonce");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("img-src 'self' https: data:"), "{csp}");
    assert!(
        csp.contains("frame-ancestors https://site-c.atlassian.net"),
        "{csp}"
    );
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    let scripts = html.matches("<script").count();
    assert!(scripts >= 2, "{html}");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script carries this response's nonce: {html}"
    );
}

// ---- 8. install hygiene -----------------------------------------------------------------

#[tokio::test]
async fn only_atlassian_sites_may_install_and_a_replayed_install_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let token = install_claims("site-i", "/installed").sign();
    let mut evil = install_body("site-i", "secret-i-0123456789abcdef");
    evil["baseUrl"] = json!("https://confluence.evil.example/wiki");

    // Act
    let foreign = app.lifecycle("installed", Some(&token), &evil).await;
    let foreign_text = foreign.text().await.unwrap();
    let fresh = install_claims("site-i", "/installed").sign();
    let body = install_body("site-i", "secret-i-0123456789abcdef");
    let first = app
        .lifecycle("installed", Some(&fresh), &body)
        .await
        .status();
    let mut hijack = install_body("site-i", "attacker-chosen-secret-0123456789");
    hijack["baseUrl"] = body["baseUrl"].clone();
    let replay = app
        .lifecycle("installed", Some(&fresh), &hijack)
        .await
        .status();

    // Assert
    assert!(foreign_text.contains("baseUrl"), "{foreign_text}");
    assert_eq!(first, 204);
    assert_eq!(replay, 401, "the same signed token a second time");
    assert_eq!(
        app.stored_secret("site-i").await.as_deref(),
        Some("secret-i-0123456789abcdef")
    );
}

/// A request that failed does not use up its token: Atlassian may retry it.
#[tokio::test]
async fn a_refused_install_can_be_retried_with_the_same_token() {
    let app = spawn_app().await;
    let t = InstallClaims::valid("site-t", "/installed", BASE_URL, keys::FIXTURE_A).sign();
    let mut bad = install_body("site-t", "secret-t-0123456789abcdef");
    bad["sharedSecret"] = json!("");
    assert_eq!(
        app.lifecycle("installed", Some(&t), &bad).await.status(),
        400
    );
    let good = install_body("site-t", "secret-t-0123456789abcdef");
    assert_eq!(
        app.lifecycle("installed", Some(&t), &good).await.status(),
        204
    );
}

// ---- 9. a course whose page moved --------------------------------------------------------

#[tokio::test]
async fn after_a_page_moves_the_old_spaces_admins_no_longer_see_its_learners() {
    // Arrange: the course's page moves from DEV to OPS.
    let site = Site::new().await;
    let id = site.publish(&quiz(1, json!({}))).await;
    site.app
        .open_lesson(&token(LEA), &id, 1, "l1")
        .await
        .unwrap();
    assert!(site.app.course_report(&token(SAM), &id).await.is_ok());
    site.fake.add_page(PAGE, "OPS", "Moved page");
    site.fake.make_space_admin("557058:ops-admin", "OPS");
    site.fake.allow_read_only("557058:ops-admin", PAGE);
    let ops_admin = context_claims_on(SITE, "557058:ops-admin", "9999", "OPS");
    let ops_admin = hs_token(jsonwebtoken::Algorithm::HS256, SECRET, &ops_admin);

    // Act
    let old_space = site.app.course_report(&token(SAM), &id).await;
    let new_space = site.app.course_report(&ops_admin, &id).await;

    // Assert
    assert_eq!(old_space.unwrap_err().status, 404);
    let report = new_space.unwrap();
    assert_eq!(report.rows.len(), 1);
}

// ---- 10. a site without an OAuth client id -------------------------------------------

#[tokio::test]
async fn a_site_without_an_oauth_client_gets_a_clear_503_not_a_crash() {
    // Arrange: the install carried no oauthClientId.
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    fake.add_site(SITE, SECRET);
    let mut body = testkit::tokens::install_body(SITE, SECRET, &fake.base_url());
    body.as_object_mut().unwrap().remove("oauthClientId");
    let t = install_claims(SITE, "/installed").sign();
    assert_eq!(
        app.lifecycle("installed", Some(&t), &body).await.status(),
        204
    );
    fake.make_space_admin(SAM, "DEV");

    // Act
    let overview = app.space_overview(&token(SAM)).await;

    // Assert
    assert!(
        matches!(&overview, Err(Refused { status: 503, error: AppError::Unavailable(m) }) if m.contains("OAuth client")),
        "{overview:?}"
    );
}
