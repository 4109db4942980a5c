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
