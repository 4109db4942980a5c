//! Retention and personal data (README "Retention and personal data"):
//!
//! - [`purge_uninstalled_once`]: every tenant uninstalled more than
//!   `RETENTION_DAYS` ago loses all its rows (`store::privacy`); a
//!   reinstall within the period keeps everything.
//! - [`report_personal_data_once`]: for every active tenant, the account
//!   ids it stores are reported to Atlassian's personal-data reporting API
//!   ([`connect::personal_data`]), 90 a request; accounts reported
//!   `closed` are erased at once. (`updated` needs nothing: the app stores
//!   no names or e-mail addresses, only account ids, and reads the rest
//!   from Confluence when it shows it.)
//! - [`erase_account`]: one person's data in one site, for an operator
//!   acting on a data subject request (`smart-courses erase-account`).
//!
//! The first two run as scheduled jobs ([`spawn`]), each in one server
//! process at a time ([`crate::jobs::run_exclusive`]).

use std::{sync::Arc, time::Duration};

use app::state::AppState;
use connect::personal_data::{self, Account, Status};
use tokio::task::JoinHandle;

/// Seconds in a day.
const DAY_SECS: i64 = 86_400;

/// How often the retention purge looks for expired tenants.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The `reason` of an erasure made because Atlassian reported the account closed.
pub const REASON_CLOSED: &str = "account closed";

/// The `reason` of an erasure an operator made (`smart-courses erase-account`).
pub const REASON_REQUEST: &str = "data subject request";

/// One purge at `now_secs`: the client keys whose data was deleted.
pub async fn purge_uninstalled_once(state: &AppState, now_secs: i64) -> Vec<String> {
    let cutoff = now_secs - i64::from(state.settings.retention_days) * DAY_SECS;
    let due = match state.db.tenants_uninstalled_before(cutoff).await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::error!(error = %e, "retention purge: cannot list uninstalled sites");
            return Vec::new();
        }
    };
    let mut purged = Vec::new();
    for key in due {
        match state.db.purge_uninstalled_tenant(&key, cutoff).await {
            Ok(Some(rows)) => {
                state.connect.tenants.invalidate(&key);
                tracing::info!(tenant = %key, rows, "retention purge: site data deleted");
                purged.push(key);
            }
            Ok(None) => tracing::info!(tenant = %key, "retention purge: reinstalled meanwhile"),
            Err(e) => tracing::error!(tenant = %key, error = %e, "retention purge failed"),
        }
    }
    purged
}

/// What one personal-data reporting run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportRun {
    /// Sites reported for.
    pub tenants: usize,
    /// Accounts reported.
    pub reported: usize,
    /// Accounts reported closed and erased.
    pub erased: usize,
    /// Sites whose report or erasure failed (tried again next run).
    pub failed: usize,
}

/// One personal-data reporting run over every active site.
pub async fn report_personal_data_once(state: &AppState) -> ReportRun {
    let mut run = ReportRun::default();
    let tenants = match state.connect.tenants.active().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "personal-data report: cannot list sites");
            return run;
        }
    };
    for tenant in tenants {
        let stored = match state.db.stored_accounts(&tenant).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(tenant = %tenant.as_str(), error = %e, "personal-data report: cannot read accounts");
                run.failed += 1;
                continue;
            }
        };
        if stored.is_empty() {
            continue;
        }
        let accounts: Vec<Account> = stored
            .into_iter()
            .map(|a| Account {
                account_id: a.account_id,
                updated_at_ms: a.updated_at_ms,
            })
            .collect();
        run.tenants += 1;
        let answer = match personal_data::report(&state.connect, &tenant, &accounts).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(tenant = %tenant.as_str(), error = %e, "personal-data report failed");
                run.failed += 1;
                continue;
            }
        };
        run.reported += accounts.len();
        for (account, status) in answer {
            if status != Status::Closed || !accounts.iter().any(|a| a.account_id == account) {
                continue;
            }
            match state
                .db
                .erase_account(&tenant, &account, REASON_CLOSED, state.learning.now_ms())
                .await
            {
                Ok(_) => run.erased += 1,
                Err(e) => {
                    tracing::error!(tenant = %tenant.as_str(), error = %e, "erasing a closed account failed");
                    run.failed += 1;
                }
            }
        }
    }
    run
}

/// Erases `account_id` from the site `client_key` (any state) for an
/// operator; `Ok(None)` when no such site is stored.
pub async fn erase_account(
    db: &store::Db,
    client_key: &str,
    account_id: &str,
) -> anyhow::Result<Option<store::privacy::Erased>> {
    anyhow::ensure!(
        !account_id.trim().is_empty() && account_id != store::privacy::ERASED,
        "an account id is required"
    );
    let tenants = connect::Tenants::new(Arc::new(db.clone()));
    let Some(tenant) = tenants
        .stored(client_key)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the site: {e}"))?
    else {
        return Ok(None);
    };
    let now_ms = store::now_epoch() * 1000;
    Ok(Some(
        db.erase_account(&tenant, account_id, REASON_REQUEST, now_ms)
            .await?,
    ))
}

/// Starts the retention purge (hourly) and, unless `report_every` is
/// `None`, the personal-data report.
pub fn spawn(state: AppState, report_every: Option<Duration>) -> Vec<JoinHandle<()>> {
    let mut jobs = Vec::new();
    {
        let state = state.clone();
        jobs.push(crate::jobs::every(
            state.clone(),
            PURGE_EVERY,
            "retention-purge",
            move || {
                let state = state.clone();
                async move {
                    purge_uninstalled_once(&state, store::now_epoch()).await;
                }
            },
        ));
    }
    if let Some(period) = report_every {
        let state = state.clone();
        jobs.push(crate::jobs::every(
            state.clone(),
            period,
            "personal-data",
            move || {
                let state = state.clone();
                async move {
                    let run = report_personal_data_once(&state).await;
                    tracing::info!(
                        tenants = run.tenants,
                        reported = run.reported,
                        erased = run.erased,
                        failed = run.failed,
                        "personal-data report"
                    );
                }
            },
        ));
    }
    jobs
}
