//! Enrolments: people and group rules, due dates, and the group sync.
//!
//! People are found with Confluence's user search and groups with its
//! group picker (`connect::directory`); a group rule's members are read
//! from Confluence and written to the store in one transaction
//! (`Db::sync_group`). Someone who joins a group later is enrolled at the
//! next sync: when an admin opens the space tools tab (rules not synced in
//! the last [`RESYNC_AFTER`]; the tab waits at most [`SYNC_BUDGET`]) and on
//! the server's periodic job ([`sync_tenant`]). A group Confluence cannot
//! list just now keeps its current enrolments — never "everyone left".
//!
//! No caps: enrol calls take up to [`MAX_BULK`] people each, and group
//! rules any number of members.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use connect::{directory, host_client::HostAccess, TenantKey};
use futures::{stream, StreamExt};
use serde_json::json;
use store::enrolments as es;

use super::{audit::action, count, course_in_space, record, record_by};
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    space_admin::api::{
        DueRule, EnrolOutcome, GroupRuleRow, SyncOutcome, UnenrolOutcome, UserHit, MAX_BULK,
    },
    state::AppState,
};

/// Opening the tab syncs rules not synced for this long.
pub const RESYNC_AFTER: Duration = Duration::from_secs(60);
/// How long opening the tab waits for the sync (it goes on in the
/// background; the next look shows the rest).
pub const SYNC_BUDGET: Duration = Duration::from_secs(3);
/// Group rules synced at once.
const SYNCS_IN_FLIGHT: usize = 4;
/// People and groups a search returns.
pub const SEARCH_RESULTS: usize = 25;
/// Longest search text.
const MAX_QUERY_CHARS: usize = 100;
/// Latest "N days after enrolment".
const MAX_DUE_DAYS: u32 = 3_650;
/// Due dates from 2000-01-01 to 2200-01-01 (anything else is a typo).
const DUE_RANGE_MS: std::ops::Range<i64> = 946_684_800_000..7_258_118_400_000;

/// When each group rule was last synced by this process, so opening the
/// tab repeatedly does not ask Confluence every time.
#[derive(Clone, Debug, Default)]
pub struct SyncGate(Arc<Mutex<HashMap<RuleKey, Instant>>>);

/// (tenant, course, group).
type RuleKey = (String, String, String);

impl SyncGate {
    fn due(&self, key: &RuleKey) -> bool {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).is_none_or(|t| t.elapsed() >= RESYNC_AFTER)
    }

    fn mark(&self, key: RuleKey) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, t| t.elapsed() < RESYNC_AFTER);
        }
        map.insert(key, Instant::now());
    }
}

/// A directory failure as the admin reads it: their input was refused
/// (400), or Confluence could not answer (503).
pub(crate) fn directory_error(e: directory::DirectoryError) -> AppError {
    match e {
        directory::DirectoryError::Invalid(m) => AppError::Invalid(m),
        directory::DirectoryError::NoSuchGroup => {
            AppError::invalid("Confluence has no group of that name.")
        }
        other => AppError::Unavailable(format!(
            "Confluence could not answer just now ({other}). Try again."
        )),
    }
}

fn query_text(query: &str) -> Result<&str, AppError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(AppError::invalid("Type part of a name to search for."));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::invalid(format!(
            "Search for at most {MAX_QUERY_CHARS} characters."
        )));
    }
    Ok(q)
}

fn check_bulk(n: usize) -> Result<(), AppError> {
    if n == 0 {
        return Err(AppError::invalid("Choose at least one person."));
    }
    if n > MAX_BULK {
        return Err(AppError::invalid(format!(
            "Change at most {MAX_BULK} people at once (the list is paged: repeat for the next page)."
        )));
    }
    Ok(())
}

fn check_due_at(at: i64) -> Result<(), AppError> {
    if !DUE_RANGE_MS.contains(&at) {
        return Err(AppError::invalid(
            "That due date is not a date between the years 2000 and 2200.",
        ));
    }
    Ok(())
}

fn store_due(due: DueRule) -> Result<es::DueRule, AppError> {
    Ok(match due {
        DueRule::None => es::DueRule::None,
        DueRule::At(at) => {
            check_due_at(at)?;
            es::DueRule::At(at)
        }
        DueRule::DaysAfter(d) => {
            if d == 0 || d > MAX_DUE_DAYS {
                return Err(AppError::invalid(format!(
                    "A due date is 1 to {MAX_DUE_DAYS} days after enrolment."
                )));
            }
            es::DueRule::DaysAfter(d)
        }
    })
}

fn due_json(due: es::DueRule) -> serde_json::Value {
    match due {
        es::DueRule::None => json!({}),
        es::DueRule::At(at) => json!({ "due_at_ms": at }),
        es::DueRule::DaysAfter(d) => json!({ "due_days": d }),
    }
}

/// A group rule as the report lists it.
pub(crate) fn group_row(r: es::GroupRule) -> GroupRuleRow {
    GroupRuleRow {
        group: r.group_name,
        due: match r.due {
            es::DueRule::None => DueRule::None,
            es::DueRule::At(at) => DueRule::At(at),
            es::DueRule::DaysAfter(d) => DueRule::DaysAfter(d),
        },
        members: count(r.members),
        synced_at_ms: r.synced_at_ms,
        created_at_ms: r.created_at_ms,
    }
}

fn ids(accounts: &[course::ids::AccountId]) -> Vec<String> {
    let mut v: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

// ---- searches ------------------------------------------------------------

/// `space-admin/search-users`.
pub async fn search_users(admin: &SpaceAdmin, query: &str) -> Result<Vec<UserHit>, AppError> {
    let q = query_text(query)?;
    let state = admin.state();
    let found = directory::search_users(&state.connect, admin.who(), q, SEARCH_RESULTS)
        .await
        .map_err(directory_error)?;
    Ok(found
        .into_iter()
        .map(|u| UserHit {
            account_id: u.account_id,
            name: u.display_name,
            email: u.email,
        })
        .collect())
}

/// `space-admin/search-groups`.
pub async fn search_groups(admin: &SpaceAdmin, query: &str) -> Result<Vec<String>, AppError> {
    let q = query_text(query)?;
    let state = admin.state();
    directory::search_groups(&state.connect, admin.who(), q, SEARCH_RESULTS)
        .await
        .map_err(directory_error)
}

// ---- people --------------------------------------------------------------

/// `space-admin/enrol`.
pub async fn enrol_users(
    admin: &SpaceAdmin,
    course_id: &str,
    accounts: &[course::ids::AccountId],
    due_at_ms: Option<i64>,
) -> Result<EnrolOutcome, AppError> {
    check_bulk(accounts.len())?;
    if let Some(at) = due_at_ms {
        check_due_at(at)?;
    }
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let accounts = ids(accounts);
    let added = state
        .db
        .enrol_users(
            &admin.who().tenant,
            &row.id,
            &accounts,
            due_at_ms,
            state.learning.now_ms(),
        )
        .await?;
    let mut detail = json!({ "accounts": accounts, "added": added.len() });
    if let Some(at) = due_at_ms {
        detail["due_at_ms"] = json!(at);
    }
    record_by(admin, Some(&row.id), action::ENROL, detail).await?;
    Ok(EnrolOutcome {
        added: count(added.len() as i64),
        already: count((accounts.len() - added.len()) as i64),
        members: None,
    })
}

/// `space-admin/unenrol`.
pub async fn unenrol(
    admin: &SpaceAdmin,
    course_id: &str,
    accounts: &[course::ids::AccountId],
) -> Result<UnenrolOutcome, AppError> {
    check_bulk(accounts.len())?;
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let accounts = ids(accounts);
    let done = state
        .db
        .unenrol(&admin.who().tenant, &row.id, &accounts)
        .await?;
    record_by(
        admin,
        Some(&row.id),
        action::UNENROL,
        json!({ "accounts": done.removed, "kept_by_group": done.kept_by_group }),
    )
    .await?;
    Ok(UnenrolOutcome {
        removed: count(done.removed.len() as i64),
        kept_by_group: done.kept_by_group,
    })
}

/// `space-admin/set-due`.
pub async fn set_due(
    admin: &SpaceAdmin,
    course_id: &str,
    accounts: &[course::ids::AccountId],
    due_at_ms: Option<i64>,
) -> Result<u32, AppError> {
    check_bulk(accounts.len())?;
    if let Some(at) = due_at_ms {
        check_due_at(at)?;
    }
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let accounts = ids(accounts);
    let changed = state
        .db
        .set_due(&admin.who().tenant, &row.id, &accounts, due_at_ms)
        .await?;
    let mut detail = json!({ "accounts": accounts, "changed": changed });
    if let Some(at) = due_at_ms {
        detail["due_at_ms"] = json!(at);
    }
    record_by(admin, Some(&row.id), action::DUE_DATE, detail).await?;
    Ok(count(changed as i64))
}

// ---- group rules ---------------------------------------------------------

/// `space-admin/enrol-group`: add a group rule (or change its due date) and
/// enrol its members now.
pub async fn enrol_group(
    admin: &SpaceAdmin,
    course_id: &str,
    group: &course::ids::GroupName,
    due: DueRule,
) -> Result<EnrolOutcome, AppError> {
    let due = store_due(due)?;
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let group: &str = group.as_ref();
    // Read the members first: a group Confluence does not know is refused
    // before anything is written.
    let members = directory::group_members(&state.connect, admin.who(), group)
        .await
        .map_err(|e| match e {
            directory::DirectoryError::NoSuchGroup => AppError::invalid(format!(
                "Confluence has no group named \u{201c}{group}\u{201d}."
            )),
            other => directory_error(other),
        })?;
    let members: Vec<String> = members.into_iter().map(|m| m.account_id).collect();
    let now = state.learning.now_ms();
    let is_new = state
        .db
        .put_group_rule(
            tenant,
            &row.id,
            group,
            due,
            admin.who().account_id.as_deref(),
            now,
        )
        .await?;
    let outcome = state
        .db
        .sync_group(tenant, &row.id, group, &members, now)
        .await?
        .unwrap_or_default();
    let mut detail = due_json(due);
    detail["group"] = json!(group);
    detail["members"] = json!(members.len());
    detail["added"] = json!(outcome.added.len());
    record_by(
        admin,
        Some(&row.id),
        if is_new {
            action::GROUP_RULE_ADD
        } else {
            action::GROUP_RULE_CHANGE
        },
        detail,
    )
    .await?;
    Ok(EnrolOutcome {
        added: count(outcome.added.len() as i64),
        already: count((members.len() - outcome.added.len().min(members.len())) as i64),
        members: Some(count(members.len() as i64)),
    })
}

/// `space-admin/remove-group`.
pub async fn remove_group(
    admin: &SpaceAdmin,
    course_id: &str,
    group: &course::ids::GroupName,
) -> Result<UnenrolOutcome, AppError> {
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let group: &str = group.as_ref();
    let Some(removed) = state
        .db
        .remove_group_rule(&admin.who().tenant, &row.id, group)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    record_by(
        admin,
        Some(&row.id),
        action::GROUP_RULE_REMOVE,
        json!({ "group": group, "removed": removed.len(), "accounts": removed }),
    )
    .await?;
    Ok(UnenrolOutcome {
        removed: count(removed.len() as i64),
        kept_by_group: Vec::new(),
    })
}

// ---- the sync --------------------------------------------------------------

/// Syncs one group rule; the audit log records who joined and left.
///
/// `access`: the request's caller (a space admin's sync, in the caller's
/// transport) or the bare tenant (the periodic job, Connect credentials).
async fn sync_rule(
    state: &AppState,
    access: HostAccess<'_>,
    space_key: &str,
    course_id: &str,
    group: &str,
) -> Result<es::SyncOutcome, String> {
    let tenant = access.tenant;
    let members = directory::group_members(&state.connect, access, group)
        .await
        .map_err(|e| e.to_string())?;
    let members: Vec<String> = members.into_iter().map(|m| m.account_id).collect();
    let outcome = state
        .db
        .sync_group(tenant, course_id, group, &members, state.learning.now_ms())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "group sync could not be stored");
            "could not be stored".to_owned()
        })?
        .unwrap_or_default();
    state.space_admin.sync.mark((
        tenant.as_str().to_owned(),
        course_id.to_owned(),
        group.to_owned(),
    ));
    if !outcome.added.is_empty() || !outcome.removed.is_empty() {
        let detail = json!({
            "group": group,
            "added": outcome.added.len(),
            "removed": outcome.removed.len(),
            "accounts": outcome.added.iter().chain(&outcome.removed).take(100).collect::<Vec<_>>(),
        });
        if let Err(e) = record(
            state,
            tenant,
            space_key,
            Some(course_id),
            None,
            action::GROUP_SYNC,
            detail,
        )
        .await
        {
            tracing::error!(error = %e, "group sync audit entry failed");
        }
    }
    Ok(outcome)
}

/// `space-admin/sync-groups`: every rule of one course, now.
pub async fn sync_course_groups(
    admin: &SpaceAdmin,
    course_id: &str,
) -> Result<SyncOutcome, AppError> {
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let mut out = SyncOutcome::default();
    for rule in state.db.group_rules(tenant, &row.id).await? {
        match sync_rule(
            state,
            admin.who().into(),
            &admin.space_key,
            &row.id,
            &rule.group_name,
        )
        .await
        {
            Ok(o) => {
                out.added += count(o.added.len() as i64);
                out.removed += count(o.removed.len() as i64);
            }
            Err(e) => {
                tracing::warn!(error = %e, group = %rule.group_name, "group sync failed");
                out.failed.push(rule.group_name);
            }
        }
    }
    Ok(out)
}

/// Syncs the space's rules not synced lately, waiting at most
/// [`SYNC_BUDGET`]; returns the rules that failed (`course title: group`).
pub async fn sync_space(admin: &SpaceAdmin) -> Result<Vec<String>, AppError> {
    let state = admin.state().clone();
    let tenant = admin.who().tenant.clone();
    // The caller (and, through Forge, this request's tokens) goes into the
    // task: it only runs on while this request waits for it (plus what
    // finishes after the budget), and drops them when done.
    let who = admin.who().clone();
    let space = admin.space_key.clone();
    let gate = state.space_admin.sync.clone();
    let rules: Vec<(String, String)> = state
        .db
        .group_rules_in_space(&tenant, &space)
        .await?
        .into_iter()
        .filter(|(c, g)| gate.due(&(tenant.as_str().to_owned(), c.clone(), g.clone())))
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    // Spawned: what the budget does not wait for still finishes.
    let task = tokio::spawn(async move {
        let results: Vec<(String, String, Result<es::SyncOutcome, String>)> = stream::iter(rules)
            .map(|(course, group)| {
                let (state, who, space) = (&state, &who, &space);
                async move {
                    let r = sync_rule(state, who.into(), space, &course, &group).await;
                    (course, group, r)
                }
            })
            .buffer_unordered(SYNCS_IN_FLIGHT)
            .collect()
            .await;
        let mut failed = Vec::new();
        for (course, group, r) in results {
            if let Err(e) = r {
                tracing::warn!(error = %e, %group, "group sync failed");
                let title = state
                    .db
                    .course(&tenant, &course)
                    .await
                    .ok()
                    .flatten()
                    .map_or(course, |c| c.title);
                failed.push(format!("{title}: {group}"));
            }
        }
        failed.sort();
        failed
    });
    match tokio::time::timeout(SYNC_BUDGET, task).await {
        Ok(Ok(failed)) => Ok(failed),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "group sync task failed");
            Ok(Vec::new())
        }
        Err(_) => Ok(Vec::new()),
    }
}

/// The periodic job: every group rule of a site. Returns (synced, failed).
pub async fn sync_tenant(state: &AppState, tenant: &TenantKey) -> (usize, usize) {
    let rules = match state.db.all_group_rules(tenant).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot list group rules");
            return (0, 0);
        }
    };
    let mut spaces: HashMap<String, Option<String>> = HashMap::new();
    let (mut ok, mut failed) = (0, 0);
    for (course, group) in rules {
        if !spaces.contains_key(&course) {
            let space = state
                .db
                .course(tenant, &course)
                .await
                .ok()
                .flatten()
                .map(|c| c.space_key);
            spaces.insert(course.clone(), space);
        }
        let Some(Some(space)) = spaces.get(&course) else {
            continue;
        };
        match sync_rule(state, tenant.into(), space, &course, &group).await {
            Ok(_) => ok += 1,
            Err(e) => {
                tracing::warn!(error = %e, %group, "group sync failed");
                failed += 1;
            }
        }
    }
    (ok, failed)
}
