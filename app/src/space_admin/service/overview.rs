//! The space overview: the space's courses, found by their page's title,
//! with the counts an admin scans first (enrolled, in progress, completed,
//! overdue). Opening it syncs the space's group rules (see
//! [`super::enrolment::sync_space`]), so someone who joined a group since
//! the last sync is counted now.

use std::collections::HashMap;

use super::{count, enrolment};
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    space_admin::api::{SpaceCourseRow, SpaceOverview},
};

/// Courses per overview page.
pub const PAGE_SIZE: u32 = 50;

pub async fn overview(admin: &SpaceAdmin, page: u32) -> Result<SpaceOverview, AppError> {
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let sync_failures = enrolment::sync_space(admin).await?;
    let total = state
        .db
        .count_courses_in_space(tenant, &admin.space_key)
        .await?;
    let rows = state
        .db
        .courses_in_space(
            tenant,
            &admin.space_key,
            i64::from(page) * i64::from(PAGE_SIZE),
            i64::from(PAGE_SIZE),
        )
        .await?;
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let page_ids: Vec<String> = rows.iter().map(|c| c.page_id.clone()).collect();
    let counts: HashMap<String, store::reports::CourseCounts> = state
        .db
        .course_counts(tenant, &ids, state.learning.now_ms())
        .await?
        .into_iter()
        .map(|c| (c.course_id.clone(), c))
        .collect();
    let pages = state.space_admin.pages(state, admin.who(), &page_ids).await;
    let mut courses = Vec::with_capacity(rows.len());
    for c in rows {
        // The access mode of the published version (drafts are open until
        // published: nothing to take yet).
        let access = match c.latest_version {
            Some(v) => {
                state
                    .learning
                    .version(tenant, &c.id, v)
                    .await?
                    .content
                    .settings
                    .access
            }
            None => Default::default(),
        };
        let n = counts.get(&c.id).cloned().unwrap_or_default();
        let page = pages.get(&c.page_id);
        courses.push(SpaceCourseRow {
            title: page
                .map(|p| p.title.clone())
                .unwrap_or_else(|| c.title.clone()),
            page_url: page.and_then(|p| p.url.clone()),
            course_title: c.title,
            id: c.id,
            page_id: c.page_id,
            latest_version: c.latest_version,
            access,
            updated_at: c.updated_at,
            enrolled: count(n.enrolled),
            in_progress: count(n.in_progress),
            completed: count(n.completed),
            overdue: count(n.overdue),
        });
    }
    Ok(SpaceOverview {
        space_key: admin.space_key.clone(),
        courses,
        total: count(total),
        page,
        page_size: PAGE_SIZE,
        sync_failures,
    })
}
