//! Two server processes on one database: scheduled jobs never run in both
//! at the same time (job leases in the database).

use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn a_job_runs_in_one_instance_at_a_time_and_a_dead_holders_lease_expires() {
    // Arrange: two instances on one database.
    let a = spawn_app().await;
    let url = a.database_url.clone();
    let b = spawn_app_configured(Options::default(), |c| c.database_url = url).await;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
    let lease = Duration::from_secs(600);

    // Act: A runs the job and holds it open while B tries.
    let a_state = a.state.clone();
    let a_run = tokio::spawn(async move {
        server::jobs::run_exclusive(&a_state, "backup", lease, || async move {
            started_tx.send(()).unwrap();
            finish_rx.await.unwrap();
        })
        .await
    });
    started_rx.await.unwrap();
    let mut b_ran = false;
    let b_while_a_runs =
        server::jobs::run_exclusive(&b.state, "backup", lease, || async { b_ran = true }).await;
    let other_job = server::jobs::run_exclusive(&b.state, "reminders", lease, || async {}).await;
    finish_tx.send(()).unwrap();
    let a_ran = a_run.await.unwrap();
    let b_after = server::jobs::run_exclusive(&b.state, "backup", lease, || async {}).await;

    // Assert
    assert!(a_ran);
    assert!(
        !b_while_a_runs && !b_ran,
        "the job ran twice at the same time"
    );
    assert!(other_job, "leases are per job");
    assert!(b_after, "A gave the lease back");

    // A holder that died: its lease is taken once it has expired.
    let db = &a.state.db;
    let now = a.now_ms();
    assert!(db
        .try_lock_job("purge", "dead-process", now, 1_000)
        .await
        .unwrap());
    assert!(!db
        .try_lock_job("purge", "live-process", now + 500, 1_000)
        .await
        .unwrap());
    assert!(db
        .try_lock_job("purge", "live-process", now + 1_000, 1_000)
        .await
        .unwrap());
}

/// Writes through one instance are read through the other, and an
/// uninstall handled by one is refused by the other at once on PostgreSQL
/// (the scale-out database: a change is announced with NOTIFY and every
/// instance drops its cached row), within the cache's five seconds on
/// SQLite (one process per file in production).
#[tokio::test]
async fn two_instances_serve_one_tenant_consistently() {
    use serde_json::json;
    // Arrange
    let fake = FakeConfluence::start().await;
    let a = spawn_app_with_confluence(&fake).await;
    let url = a.database_url.clone();
    let token_url = fake.token_url();
    let b = spawn_app_configured(Options::default(), |c| {
        c.database_url = url;
        c.app_key = APP_KEY.into();
        c.oauth_token_url = Some(token_url.parse().unwrap());
    })
    .await;
    a.install_on(&fake, "site-two", "site-two-secret-0123456789")
        .await;
    fake.allow_edit("557058:author", "5001");
    fake.allow_read_only("557058:lea", "5001");
    let author = context_token(
        "site-two",
        "site-two-secret-0123456789",
        "557058:author",
        "5001",
    );
    let lea = context_token(
        "site-two",
        "site-two-secret-0123456789",
        "557058:lea",
        "5001",
    );
    let content = json!({"title": "Written through A", "modules": [{"id": "m1", "title": "M",
        "lessons": [{"id": "l1", "title": "L", "body_md": "x"}]}]});

    // Act: write through A, read through B.
    let saved = a.save_draft(&author, None, 0, &content).await.unwrap();
    a.publish(&author, &saved.course_id, saved.revision, false)
        .await
        .unwrap();
    let seen = b.learner_course(&lea, saved.course_id.as_ref()).await;
    assert!(b.whoami(&lea).await.is_ok(), "B caches the tenant row now");
    a.uninstall("site-two").await;
    let started = std::time::Instant::now();
    let limit = if test_backend_is_postgres() {
        Duration::from_secs(1)
    } else {
        connect::tenants::TENANT_CACHE_TTL + Duration::from_millis(500)
    };
    let mut refused_after = None;
    while started.elapsed() < limit {
        if b.whoami(&lea).await.is_err() {
            refused_after = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Assert
    assert_eq!(seen.unwrap().title, "Written through A");
    let after = refused_after.unwrap_or_else(|| panic!("B still accepts after {limit:?}"));
    if test_backend_is_postgres() {
        assert!(after < Duration::from_secs(1), "{after:?}");
    }
}
