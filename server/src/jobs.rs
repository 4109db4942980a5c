//! Background jobs of a serving process: the group sync (group rules'
//! members read from Confluence, so someone who joins a group is enrolled
//! within [`Config::group_sync_minutes`](crate::Config), never a day later)
//! the e-mail reminders and the encrypted backups.
//!
//! Jobs are started by `smart-courses serve`, not by [`crate::Application`]:
//! tests drive them through the functions here, one run at a time.

use std::time::Duration;

use app::{space_admin::service::enrolment, state::AppState};
use tokio::task::JoinHandle;

use crate::{
    backup::BackupSettings,
    reminders::{send_reminders_once, ReminderSettings},
};

/// One group-sync run over every active site: `(rules synced, rules failed)`.
pub async fn sync_groups_once(state: &AppState) -> (usize, usize) {
    let tenants = match state.connect.tenants.active().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "group sync: cannot list sites");
            return (0, 0);
        }
    };
    let (mut ok, mut failed) = (0, 0);
    for tenant in tenants {
        let (o, f) = enrolment::sync_tenant(state, &tenant).await;
        ok += o;
        failed += f;
    }
    (ok, failed)
}

/// Runs `job` under its lease (`store::jobs`): `false` when another
/// process holds it (the job is running there). The lease outlives a
/// normal run; a process that dies mid-run loses it when it expires.
pub async fn run_exclusive<F, Fut>(state: &AppState, name: &str, lease: Duration, job: F) -> bool
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let now = state.learning.now_ms();
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    match state
        .db
        .try_lock_job(name, state.db.instance_id(), now, lease_ms)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(job = name, "job runs in another process");
            return false;
        }
        Err(e) => {
            tracing::error!(error = %e, job = name, "job lease unavailable");
            return false;
        }
    }
    job().await;
    if let Err(e) = state.db.unlock_job(name, state.db.instance_id()).await {
        tracing::warn!(error = %e, job = name, "job lease not released (it expires)");
    }
    true
}

/// Runs `job` every `every`, first after one period (start-up stays
/// quick), in one process at a time.
pub(crate) fn every<F, Fut>(
    state: AppState,
    every: Duration,
    name: &'static str,
    job: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        // Longer than any run should take; short enough after a crash.
        let lease = (every * 2).max(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            if run_exclusive(&state, name, lease, &job).await {
                tracing::debug!(
                    job = name,
                    took_ms = started.elapsed().as_millis() as u64,
                    "job run"
                );
            }
        }
    })
}

/// Starts the jobs the configuration asks for.
pub fn spawn(
    state: AppState,
    group_sync_every: Option<Duration>,
    reminders: Option<(ReminderSettings, Duration)>,
    backups: Option<BackupSettings>,
) -> Vec<JoinHandle<()>> {
    let mut jobs = Vec::new();
    if let Some(settings) = backups.filter(|b| !b.every.is_zero()) {
        // Checked often, written when the newest backup is older than
        // `every`: restarts never postpone a due backup.
        let check = settings.every.min(Duration::from_secs(300));
        let state2 = state.clone();
        jobs.push(every(state.clone(), check, "backup", move || {
            let (state, settings) = (state2.clone(), settings.clone());
            async move {
                if let Err(e) = crate::backup::run_if_due(&state.db, &settings).await {
                    tracing::error!(error = %format!("{e:#}"), "backup failed");
                }
            }
        }));
    }
    if let Some((settings, period)) = reminders {
        let state = state.clone();
        jobs.push(every(state.clone(), period, "reminders", move || {
            let (state, settings) = (state.clone(), settings.clone());
            async move {
                let run = send_reminders_once(&state, &settings).await;
                tracing::info!(
                    sent = run.sent,
                    no_address = run.no_address,
                    failed = run.failed,
                    "reminders sent"
                );
            }
        }));
    }
    if let Some(period) = group_sync_every {
        let state = state.clone();
        jobs.push(every(state.clone(), period, "group-sync", move || {
            let state = state.clone();
            async move {
                let (ok, failed) = sync_groups_once(&state).await;
                if failed > 0 {
                    tracing::warn!(ok, failed, "group sync: some rules could not be read");
                }
            }
        }));
    }
    jobs
}
