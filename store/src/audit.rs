//! The audit log (migration `0006_space_admin.sql`): every enrolment,
//! due-date and access-mode change and every export, by whom and when.
//!
//! Append-only by construction: this module only inserts and reads, and the
//! database itself refuses to update or delete a row (a trigger on both
//! backends), so not even a bug here or a hand-typed statement can rewrite
//! history. Rows are scoped by tenant and space; a course's rows stay after
//! the course is gone.

use connect::TenantKey;
use sqlx::Row;

use super::{Db, StoreResult};

/// One audit log row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub course_id: Option<String>,
    /// The account that acted; `None` for the group sync and other jobs.
    pub actor: Option<String>,
    /// What happened, e.g. `enrol`, `unenrol`, `due_date`, `group_rule_add`.
    pub action: String,
    /// Its details as JSON (who was affected, old and new values).
    pub detail_json: String,
    pub at_ms: i64,
}

/// What to append.
#[derive(Clone, Debug)]
pub struct NewAuditEntry<'a> {
    pub space_key: &'a str,
    pub course_id: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub detail_json: &'a str,
    pub at_ms: i64,
}

impl Db {
    /// Appends an entry.
    pub async fn append_audit(&self, tenant: &TenantKey, e: &NewAuditEntry<'_>) -> StoreResult<()> {
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO audit_log (client_key, space_key, course_id, actor, action, detail, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.as_str())
        .bind(e.space_key)
        .bind(e.course_id)
        .bind(e.actor)
        .bind(e.action)
        .bind(e.detail_json)
        .bind(e.at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A space's entries, newest first, optionally of one course: those
    /// with an id below `before` (keyset paging: stable while rows are
    /// appended), at most `limit`.
    pub async fn audit_page(
        &self,
        tenant: &TenantKey,
        space_key: &str,
        course_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, course_id, actor, action, detail, at_ms FROM audit_log \
             WHERE client_key = $1 AND space_key = $2 AND ($3 IS NULL OR course_id = $3) \
               AND ($4 IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .bind(course_id)
        .bind(before)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    course_id: r.try_get("course_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    detail_json: r.try_get("detail")?,
                    at_ms: r.try_get("at_ms")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }
}
