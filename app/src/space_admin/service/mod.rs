//! The space admin's service (server only): what the server functions of
//! [`super::api`] do, over the store (`store::enrolments`, `store::reports`,
//! `store::audit`), the learning service (standings by the learner's rules)
//! and Confluence (page titles, people, groups, e-mail addresses).
//!
//! - [`overview`]: the courses of the space with their counts;
//! - [`report`]: a course's learners (one page at a time), one learner's attempts;
//! - [`enrolment`]: enrol, unenrol, due dates, group rules and their sync;
//! - [`analytics`]: per-question analytics (also for the editor);
//! - [`audit`]: the audit log;
//! - [`export`]: CSV exports, streamed.
//!
//! Every course is looked up through [`course_in_space`]: of this site, in
//! the caller's space *now* (pages move), and a page the caller can view —
//! anything else is "not found", never "forbidden", so ids of other spaces
//! and sites reveal nothing.

pub mod analytics;
pub mod audit;
pub mod enrolment;
pub mod export;
pub mod overview;
pub mod report;
pub mod support;

pub use analytics::analytics;
pub use audit::audit;
pub use enrolment::{
    enrol_group, enrol_users, remove_group, search_groups, search_users, set_due,
    sync_course_groups, unenrol,
};
pub use export::{analytics_csv, attempts_csv, audit_csv, report_csv};
pub use overview::overview;
pub use report::{learner, report};

use std::{collections::HashMap, time::Duration};

use cache::Cache;
use connect::{content::PageSummary, TenantKey};
use course::learning::progress;
use serde_json::Value;
use store::{audit::NewAuditEntry, courses::CourseRow};

use super::api::CourseHeader;
use crate::{
    api::guards::SpaceAdmin, error::AppError, learning::service::Published, state::AppState,
};

/// How long a page's title and link are reused.
const PAGE_TTL: Duration = Duration::from_secs(300);
const PAGE_CACHE_BYTES: usize = 4 << 20;

/// The space admin's caches (page titles; analytics, see [`analytics`]).
#[derive(Clone, Debug)]
pub struct SpaceAdminService {
    pages: Cache<(String, String), (String, Option<String>)>,
    analytics: analytics::AnalyticsCache,
    sync: enrolment::SyncGate,
}

impl Default for SpaceAdminService {
    fn default() -> Self {
        Self {
            pages: Cache::new("page-titles", PAGE_CACHE_BYTES, PAGE_TTL),
            analytics: analytics::AnalyticsCache::default(),
            sync: enrolment::SyncGate::default(),
        }
    }
}

impl SpaceAdminService {
    /// Titles and links of pages (cached briefly; see `connect::content`).
    pub async fn pages<'a>(
        &self,
        state: &AppState,
        access: impl Into<connect::host_client::HostAccess<'a>>,
        ids: &[String],
    ) -> HashMap<String, PageSummary> {
        let access = access.into();
        let tenant = access.tenant;
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.pages.get(&(tenant.as_str().to_owned(), id.clone())) {
                Some((title, url)) => {
                    out.insert(id.clone(), PageSummary { title, url });
                }
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            let found = connect::content::page_summaries(&state.connect, access, &missing).await;
            for (id, p) in found {
                self.pages.insert(
                    (tenant.as_str().to_owned(), id.clone()),
                    (p.title.clone(), p.url.clone()),
                );
                out.insert(id, p);
            }
        }
        out
    }
}

/// The course `course_id` if it is in the admin's space now and on a page
/// they can view; otherwise "not found". A course whose page moved to
/// another space is recorded there (so that space's admins list it).
pub(crate) async fn course_in_space(
    admin: &SpaceAdmin,
    course_id: &str,
) -> Result<CourseRow, AppError> {
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let row = state
        .db
        .course(tenant, course_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.space_key != admin.space_key {
        return Err(AppError::NotFound);
    }
    // The page may have moved since the course was made: its *current*
    // space decides whose admins see its learners.
    let current = connect::authz::page_space(&state.connect, admin.who(), &row.page_id).await?;
    if current.as_deref() != Some(admin.space_key.as_str()) {
        if let Some(space) = current.filter(|s| *s != row.space_key) {
            state
                .db
                .set_course_space(tenant, &row.id, &row.page_id, &space)
                .await?;
        }
        return Err(AppError::NotFound);
    }
    if !admin.caller.can_view(&row.page_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// The header of a report about `row`.
pub(crate) async fn header(
    admin: &SpaceAdmin,
    row: &CourseRow,
    published: Option<&Published>,
) -> CourseHeader {
    let state = admin.state();
    let page = state
        .space_admin
        .pages(state, admin.who(), std::slice::from_ref(&row.page_id))
        .await
        .remove(&row.page_id);
    let (lessons_total, quizzes_total) = published
        .map(|p| progress::totals(&p.rendered.content))
        .unwrap_or((0, 0));
    CourseHeader {
        course_id: row.id.clone(),
        title: page
            .as_ref()
            .map(|p| p.title.clone())
            .unwrap_or_else(|| row.title.clone()),
        course_title: row.title.clone(),
        page_id: row.page_id.clone(),
        page_url: page.and_then(|p| p.url),
        version: published.map(|p| p.version),
        cycle_start: published.map(|p| p.cycle_start),
        access: published
            .map(|p| p.rendered.content.settings.access)
            .unwrap_or_default(),
        lessons_total,
        quizzes_total,
    }
}

/// Appends an audit entry for the admin's space (who: `actor`; `None` for jobs).
pub async fn record(
    state: &AppState,
    tenant: &TenantKey,
    space_key: &str,
    course_id: Option<&str>,
    actor: Option<&str>,
    action: &str,
    detail: Value,
) -> Result<(), AppError> {
    let detail = detail.to_string();
    state
        .db
        .append_audit(
            tenant,
            &NewAuditEntry {
                space_key,
                course_id,
                actor,
                action,
                detail_json: &detail,
                at_ms: state.learning.now_ms(),
            },
        )
        .await?;
    Ok(())
}

/// [`record`] for the admin's own action.
pub(crate) async fn record_by(
    admin: &SpaceAdmin,
    course_id: Option<&str>,
    action: &str,
    detail: Value,
) -> Result<(), AppError> {
    record(
        admin.state(),
        &admin.who().tenant,
        &admin.space_key,
        course_id,
        admin.who().account_id.as_deref(),
        action,
        detail,
    )
    .await
}

/// A count from the store as the DTOs carry it.
pub(crate) fn count(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}
