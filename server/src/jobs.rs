//! Background jobs of a serving process: the group sync (group rules'
//! members read from Confluence, so someone who joins a group is enrolled
//! within [`Config::group_sync_minutes`](crate::Config), never a day later)
//! and the e-mail reminders.
//!
//! Jobs are started by `smart-courses serve`, not by [`crate::Application`]:
//! tests drive them through the functions here, one run at a time.

use std::time::Duration;

use app::{space_admin::service::enrolment, state::AppState};
use tokio::task::JoinHandle;

use crate::reminders::{send_reminders_once, ReminderSettings};

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

/// Runs `job` every `every`, first after one period (start-up stays quick).
fn every<F, Fut>(every: Duration, name: &'static str, job: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            job().await;
            tracing::debug!(
                job = name,
                took_ms = started.elapsed().as_millis() as u64,
                "job run"
            );
        }
    })
}

/// Starts the jobs the configuration asks for.
pub fn spawn(
    state: AppState,
    group_sync_every: Option<Duration>,
    reminders: Option<(ReminderSettings, Duration)>,
) -> Vec<JoinHandle<()>> {
    let mut jobs = Vec::new();
    if let Some((settings, period)) = reminders {
        let state = state.clone();
        jobs.push(every(period, "reminders", move || {
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
        jobs.push(every(period, "group-sync", move || {
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
