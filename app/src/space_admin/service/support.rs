//! Support access, only with consent: a space admin grants Smart Courses'
//! staff time-boxed access to their space's data (1 hour to 7 days), sees
//! the grants and ends them. Staff read through `smart-courses support`,
//! which refuses without an active grant and writes every read to this
//! audit log.

use serde_json::json;

use super::{audit::action, record_by};
use leptos_i18n::td_string;

use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    locale::{fill, request_locale},
    space_admin::api::{SupportGrantRow, MAX_SUPPORT_HOURS},
};

const HOUR_MS: i64 = 3_600_000;
const MAX_REASON_CHARS: usize = 500;

fn row(g: store::support::SupportGrant, now: i64) -> SupportGrantRow {
    SupportGrantRow {
        id: g.id,
        granted_by: g.granted_by,
        reason: g.reason,
        granted_at_ms: g.granted_at_ms,
        expires_at_ms: g.expires_at_ms,
        revoked_at_ms: g.revoked_at_ms,
        active: g.revoked_at_ms.is_none() && g.expires_at_ms > now,
    }
}

/// `space-admin/support-grant`.
pub async fn grant(
    admin: &SpaceAdmin,
    hours: u32,
    reason: &str,
) -> Result<SupportGrantRow, AppError> {
    if hours == 0 || hours > MAX_SUPPORT_HOURS {
        return Err(AppError::invalid(fill(
            td_string!(request_locale(), admin_srv.support_hours),
            &[&MAX_SUPPORT_HOURS],
        )));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(fill(
            td_string!(request_locale(), admin_srv.support_reason),
            &[&MAX_REASON_CHARS],
        )));
    }
    let state = admin.state();
    let account = admin
        .who()
        .account_id
        .clone()
        .ok_or(AppError::Unauthorized)?;
    let now = state.learning.now_ms();
    let expires = now + i64::from(hours) * HOUR_MS;
    let id = state
        .db
        .grant_support(
            &admin.who().tenant,
            &admin.space_key,
            &account,
            reason,
            now,
            expires,
        )
        .await?;
    record_by(
        admin,
        None,
        action::SUPPORT_GRANT,
        json!({ "grant": id, "reason": reason, "expires_at_ms": expires }),
    )
    .await?;
    Ok(SupportGrantRow {
        id,
        granted_by: account,
        reason: reason.to_owned(),
        granted_at_ms: now,
        expires_at_ms: expires,
        revoked_at_ms: None,
        active: true,
    })
}

/// `space-admin/support-grants`.
pub async fn grants(admin: &SpaceAdmin) -> Result<Vec<SupportGrantRow>, AppError> {
    let state = admin.state();
    let now = state.learning.now_ms();
    Ok(state
        .db
        .support_grants(&admin.who().tenant, &admin.space_key)
        .await?
        .into_iter()
        .map(|g| row(g, now))
        .collect())
}

/// `space-admin/support-revoke`: ends every active grant of the space.
pub async fn revoke(admin: &SpaceAdmin) -> Result<u32, AppError> {
    let state = admin.state();
    let n = state
        .db
        .revoke_support(
            &admin.who().tenant,
            &admin.space_key,
            state.learning.now_ms(),
        )
        .await?;
    if n > 0 {
        record_by(admin, None, action::SUPPORT_REVOKE, json!({ "grants": n })).await?;
    }
    Ok(super::count(n as i64))
}
