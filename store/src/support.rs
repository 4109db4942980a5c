//! Support grants (migration `0009_support_grants.sql`): the consent a
//! space admin gives for staff to read their space's data, for a limited
//! time. There is no other way for staff in: the support command checks
//! [`Db::active_support_grant`] before every read.

use connect::TenantKey;
use sqlx::Row;

use super::{Db, StoreResult};

/// One grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportGrant {
    pub id: i64,
    pub space_key: String,
    pub granted_by: String,
    pub reason: String,
    pub granted_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

fn grant_from_row(r: &sqlx::any::AnyRow) -> Result<SupportGrant, sqlx::Error> {
    Ok(SupportGrant {
        id: r.try_get("id")?,
        space_key: r.try_get("space_key")?,
        granted_by: r.try_get("granted_by")?,
        reason: r.try_get("reason")?,
        granted_at_ms: r.try_get("granted_at_ms")?,
        expires_at_ms: r.try_get("expires_at_ms")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
    })
}

impl Db {
    /// Records a grant; its id.
    pub async fn grant_support(
        &self,
        tenant: &TenantKey,
        space_key: &str,
        granted_by: &str,
        reason: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> StoreResult<i64> {
        let _gate = self.sqlite_write_gate().await;
        Ok(sqlx::query_scalar(
            "INSERT INTO support_grants (client_key, space_key, granted_by, reason, \
                                         granted_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .bind(granted_by)
        .bind(reason)
        .bind(now_ms)
        .bind(expires_at_ms)
        .fetch_one(self.pool())
        .await?)
    }

    /// Ends every active grant of a space now; how many.
    pub async fn revoke_support(
        &self,
        tenant: &TenantKey,
        space_key: &str,
        now_ms: i64,
    ) -> StoreResult<u64> {
        let _gate = self.sqlite_write_gate().await;
        Ok(sqlx::query(
            "UPDATE support_grants SET revoked_at_ms = $1 \
             WHERE client_key = $2 AND space_key = $3 AND revoked_at_ms IS NULL \
               AND expires_at_ms > $1",
        )
        .bind(now_ms)
        .bind(tenant.as_str())
        .bind(space_key)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// The grant in force for a space now, if any (the latest to expire).
    pub async fn active_support_grant(
        &self,
        tenant: &TenantKey,
        space_key: &str,
        now_ms: i64,
    ) -> StoreResult<Option<SupportGrant>> {
        let row = sqlx::query(
            "SELECT id, space_key, granted_by, reason, granted_at_ms, expires_at_ms, revoked_at_ms \
             FROM support_grants \
             WHERE client_key = $1 AND space_key = $2 AND revoked_at_ms IS NULL \
               AND granted_at_ms <= $3 AND expires_at_ms > $3 \
             ORDER BY expires_at_ms DESC LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(grant_from_row).transpose()?)
    }

    /// A space's grants, newest first (the admin's list).
    pub async fn support_grants(
        &self,
        tenant: &TenantKey,
        space_key: &str,
    ) -> StoreResult<Vec<SupportGrant>> {
        let rows = sqlx::query(
            "SELECT id, space_key, granted_by, reason, granted_at_ms, expires_at_ms, revoked_at_ms \
             FROM support_grants WHERE client_key = $1 AND space_key = $2 \
             ORDER BY id DESC LIMIT 50",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(grant_from_row).collect::<Result<_, _>>()?)
    }
}
