//! Space-admin server functions (`/api/space-admin/*`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{client::ApClient, error::AppError};

/// One course in the space, as the admin overview lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceCourseRow {
    pub id: String,
    pub title: String,
    /// The page whose macro holds the course.
    pub page_id: String,
    /// `None` while the course is only a draft.
    pub latest_version: Option<i64>,
    /// Seconds since the Unix epoch.
    pub updated_at: i64,
}

/// The courses of the space the tab is open in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceOverview {
    pub space_key: String,
    pub courses: Vec<SpaceCourseRow>,
}

/// `POST /api/space-admin/overview` — the courses of the caller's space.
/// Only space administrators (checked with Confluence, per request, cached
/// briefly); the space comes from the verified token, never the request.
#[server(name = SpaceOverviewFn, endpoint = "space-admin/overview", client = ApClient)]
pub async fn space_overview() -> Result<SpaceOverview, AppError> {
    ssr::overview().await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::{
        api::ssr::{caller, fail},
        connect::authz,
        state::AppState,
    };

    pub async fn overview() -> Result<SpaceOverview, AppError> {
        let state = AppState::current().map_err(fail)?;
        let who = caller().await?;
        let Some(space_key) = who.space_key.clone() else {
            return Err(fail(AppError::Invalid(
                "Open this from a space's settings.".into(),
            )));
        };
        authz::require_space_admin(&state, &who, &space_key).await?;
        let rows = state
            .db
            .courses_in_space(&who.tenant, &space_key)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "space admin: store error");
                fail(AppError::Internal)
            })?;
        Ok(SpaceOverview {
            space_key,
            courses: rows
                .into_iter()
                .map(|c| SpaceCourseRow {
                    id: c.id,
                    title: c.title,
                    page_id: c.page_id,
                    latest_version: c.latest_version,
                    updated_at: c.updated_at,
                })
                .collect(),
        })
    }
}
