//! Retention and personal data (migration `0008_privacy.sql`).
//!
//! - **Retention purge**: a tenant uninstalled more than `RETENTION_DAYS`
//!   ago loses every row it has, in one transaction per tenant
//!   ([`Db::purge_uninstalled_tenant`]). A reinstall within the period
//!   clears `uninstalled_at` (`Db::upsert_tenant`), so nothing is purged.
//! - **Erasure** of one Atlassian account in one tenant
//!   ([`Db::erase_account`]): the person's learning rows are deleted; where
//!   their id is part of someone else's record (the author of a course or
//!   a version, the creator of a group rule, the audit log) it is blanked
//!   or replaced by [`ERASED`]. The audit log keeps its rows (what was done,
//!   when) but no longer says to or by whom; one `erasure` entry per space
//!   records that an erasure happened (without the id).
//! - **Stored accounts** ([`Db::stored_accounts`]): every account id a
//!   tenant's rows hold, with when they last changed, for Atlassian's
//!   personal-data reporting API.
//!
//! The audit log and published course versions refuse UPDATE and DELETE
//! (triggers). The purge and the erasure mark their own transaction so the
//! triggers let them through — PostgreSQL: `set_config('sc.purge', 'on',
//! true)` (transaction-local); SQLite: the one row of `purge_in_progress`,
//! written first and deleted before commit (SQLite has one writer, and no
//! reader sees uncommitted rows). Nothing else marks a transaction.

use std::collections::BTreeMap;

use connect::TenantKey;
use sqlx::Row;

use super::{Backend, Db, StoreResult, WriteTx};

/// What an erased account id is replaced with where a record stays.
pub const ERASED: &str = "erased";

/// The audit log action recorded for an erasure.
pub const ERASURE_ACTION: &str = "erasure";

/// Every table holding a tenant's rows, in an order that deletes children
/// before the rows their foreign keys point at. The `tenants` row itself
/// is handled on its own (nothing references it).
pub const TENANT_TABLES: &[&str] = &[
    "attempt_answers",
    "attempts",
    "completions",
    "lesson_views",
    "enrolment_groups",
    "enrolments",
    "group_rules",
    "learner_status",
    "reminders_sent",
    "learner_languages",
    "audit_log",
    "course_versions",
    "courses",
];

/// Tables whose rows belong to one learner (`account_id`), deleted on
/// erasure, children first (answers are deleted through their attempts).
const LEARNER_TABLES: &[&str] = &[
    "attempts",
    "completions",
    "lesson_views",
    "enrolment_groups",
    "enrolments",
    "learner_status",
    "reminders_sent",
    "learner_languages",
];

/// What [`Db::erase_account`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// Learner rows deleted (attempts, answers, views, enrolments, …).
    pub deleted: u64,
    /// Rows kept with the id blanked or replaced (authorship, audit log).
    pub pseudonymised: u64,
}

/// An account id a tenant stores, and when its data last changed (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAccount {
    pub account_id: String,
    pub updated_at_ms: i64,
}

impl Db {
    /// Lets this transaction's statements past the append-only and
    /// immutability triggers (see the module docs).
    pub(crate) async fn mark_privileged(&self, tx: &mut WriteTx) -> StoreResult<()> {
        match self.backend() {
            Backend::Sqlite => {
                sqlx::query("INSERT INTO purge_in_progress (flag) VALUES (1)")
                    .execute(&mut ***tx)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::query("SELECT set_config('sc.purge', 'on', true)")
                    .execute(&mut ***tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Undoes [`Db::mark_privileged`] before the commit (SQLite; on
    /// PostgreSQL the setting ends with the transaction).
    pub(crate) async fn unmark_privileged(&self, tx: &mut WriteTx) -> StoreResult<()> {
        if self.backend() == Backend::Sqlite {
            sqlx::query("DELETE FROM purge_in_progress")
                .execute(&mut ***tx)
                .await?;
        }
        Ok(())
    }

    /// Client keys of tenants uninstalled at or before `cutoff` (seconds).
    pub async fn tenants_uninstalled_before(&self, cutoff: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT client_key FROM tenants WHERE state = 'uninstalled' \
             AND uninstalled_at IS NOT NULL AND uninstalled_at <= $1 ORDER BY client_key",
        )
        .bind(cutoff)
        .fetch_all(self.pool())
        .await?)
    }

    /// Deletes every row of `client_key` if it is (still) uninstalled since
    /// `cutoff` or earlier, in one transaction; `None` when it no longer
    /// qualifies (reinstalled meanwhile), else the rows deleted.
    ///
    /// The tenant row is deleted first, as the claim: a reinstall racing
    /// the purge either came first (nothing is purged) or waits for the
    /// commit and installs afresh.
    pub async fn purge_uninstalled_tenant(
        &self,
        client_key: &str,
        cutoff: i64,
    ) -> StoreResult<Option<u64>> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "DELETE FROM tenants WHERE client_key = $1 AND state = 'uninstalled' \
             AND uninstalled_at IS NOT NULL AND uninstalled_at <= $2",
        )
        .bind(client_key)
        .bind(cutoff)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let deleted = claimed + self.delete_tenant_rows(&mut tx, client_key).await?;
        tx.commit().await?;
        // Standings and enrolments of any course may be gone.
        self.reports_changed();
        self.seen_languages.clear();
        Ok(Some(deleted))
    }

    /// Deletes every row of `client_key` in [`TENANT_TABLES`] inside `tx`
    /// (privileged: the append-only and immutability triggers let these
    /// deletes through); the rows deleted. The tenant row stays.
    pub(crate) async fn delete_tenant_rows(
        &self,
        tx: &mut WriteTx,
        client_key: &str,
    ) -> StoreResult<u64> {
        self.mark_privileged(tx).await?;
        let mut deleted = 0;
        for table in TENANT_TABLES {
            deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_key = $1"
            )))
            .bind(client_key)
            .execute(&mut ***tx)
            .await?
            .rows_affected();
        }
        self.unmark_privileged(tx).await?;
        Ok(deleted)
    }

    /// Erases `account_id` from `tenant` (see the module docs) and records
    /// an `erasure` entry (with `reason`, never the id) in the audit log of
    /// every space the tenant has courses in (or one site-wide entry, space
    /// `""`, when it has none). One transaction.
    pub async fn erase_account(
        &self,
        tenant: &TenantKey,
        account_id: &str,
        reason: &str,
        now_ms: i64,
    ) -> StoreResult<Erased> {
        let _changed = self.learners_changed_on_exit();
        let key = tenant.as_str();
        let mut tx = self.begin_write().await?;
        self.mark_privileged(&mut tx).await?;
        let mut done = Erased::default();
        done.deleted += sqlx::query(
            "DELETE FROM attempt_answers WHERE client_key = $1 AND attempt_id IN \
             (SELECT id FROM attempts WHERE client_key = $1 AND account_id = $2)",
        )
        .bind(key)
        .bind(account_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        for table in LEARNER_TABLES {
            done.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_key = $1 AND account_id = $2"
            )))
            .bind(key)
            .bind(account_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        }
        for (table, column) in [
            ("courses", "created_by"),
            ("course_versions", "published_by"),
            ("group_rules", "created_by"),
        ] {
            done.pseudonymised += sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET {column} = NULL WHERE client_key = $1 AND {column} = $2"
            )))
            .bind(key)
            .bind(account_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        }
        // The audit log: the id as actor, and as a JSON string anywhere in
        // the details (`"accounts": ["…"]`), becomes "erased".
        let quoted = serde_json::Value::String(account_id.to_owned()).to_string();
        let replacement = serde_json::Value::String(ERASED.to_owned()).to_string();
        done.pseudonymised += sqlx::query(
            "UPDATE audit_log SET \
                actor = CASE WHEN actor = $2 THEN $3 ELSE actor END, \
                detail = REPLACE(detail, $4, $5) \
             WHERE client_key = $1 AND (actor = $2 OR REPLACE(detail, $4, $5) <> detail)",
        )
        .bind(key)
        .bind(account_id)
        .bind(ERASED)
        .bind(&quoted)
        .bind(&replacement)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        self.unmark_privileged(&mut tx).await?;
        let mut spaces: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT space_key FROM courses WHERE client_key = $1 ORDER BY space_key",
        )
        .bind(key)
        .fetch_all(&mut **tx)
        .await?;
        if spaces.is_empty() {
            spaces.push(String::new());
        }
        let detail = serde_json::json!({
            "reason": reason,
            "deleted": done.deleted,
            "pseudonymised": done.pseudonymised,
        })
        .to_string();
        for space in &spaces {
            sqlx::query(
                "INSERT INTO audit_log (client_key, space_key, course_id, actor, action, detail, at_ms) \
                 VALUES ($1, $2, NULL, NULL, $3, $4, $5)",
            )
            .bind(key)
            .bind(space)
            .bind(ERASURE_ACTION)
            .bind(&detail)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        }
        tx.commit().await?;
        // Standings and enrolments of any course may be gone.
        self.reports_changed();
        self.seen_languages.clear();
        Ok(done)
    }

    /// Every account id `tenant` stores (learners, authors, audit actors
    /// and the people audit details name), each with the latest time its
    /// data changed (ms), sorted by id.
    pub async fn stored_accounts(&self, tenant: &TenantKey) -> StoreResult<Vec<StoredAccount>> {
        let rows = sqlx::query(
            "SELECT account_id, MAX(at_ms) AS at_ms FROM ( \
                SELECT account_id, opened_at * 1000 AS at_ms FROM lesson_views WHERE client_key = $1 \
                UNION ALL SELECT account_id, last_activity_ms FROM attempts WHERE client_key = $1 \
                UNION ALL SELECT account_id, completed_at * 1000 FROM completions WHERE client_key = $1 \
                UNION ALL SELECT account_id, enrolled_at_ms FROM enrolments WHERE client_key = $1 \
                UNION ALL SELECT account_id, added_at_ms FROM enrolment_groups WHERE client_key = $1 \
                UNION ALL SELECT account_id, last_activity_ms FROM learner_status WHERE client_key = $1 \
                UNION ALL SELECT account_id, sent_at_ms FROM reminders_sent WHERE client_key = $1 \
                UNION ALL SELECT account_id, updated_at_ms FROM learner_languages WHERE client_key = $1 \
                UNION ALL SELECT created_by, updated_at * 1000 FROM courses \
                    WHERE client_key = $1 AND created_by IS NOT NULL \
                UNION ALL SELECT published_by, published_at * 1000 FROM course_versions \
                    WHERE client_key = $1 AND published_by IS NOT NULL \
                UNION ALL SELECT created_by, created_at_ms FROM group_rules \
                    WHERE client_key = $1 AND created_by IS NOT NULL \
                UNION ALL SELECT actor, at_ms FROM audit_log \
                    WHERE client_key = $1 AND actor IS NOT NULL \
             ) AS stored GROUP BY account_id",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut accounts: BTreeMap<String, i64> = BTreeMap::new();
        let mut note = |id: &str, at: i64| {
            if id.is_empty() || id == ERASED {
                return;
            }
            let e = accounts.entry(id.to_owned()).or_insert(at);
            *e = (*e).max(at);
        };
        for r in &rows {
            let id: String = r.try_get("account_id")?;
            note(&id, r.try_get("at_ms")?);
        }
        // People an audit entry is about (e.g. unenrolled since).
        let details = sqlx::query("SELECT detail, at_ms FROM audit_log WHERE client_key = $1")
            .bind(tenant.as_str())
            .fetch_all(self.pool())
            .await?;
        for r in &details {
            let detail: String = r.try_get("detail")?;
            let at: i64 = r.try_get("at_ms")?;
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&detail) {
                for id in audit_accounts(&v) {
                    note(id, at);
                }
            }
        }
        Ok(accounts
            .into_iter()
            .map(|(account_id, updated_at_ms)| StoredAccount {
                account_id,
                updated_at_ms,
            })
            .collect())
    }
}

/// The account ids an audit entry's details name (`accounts: [...]`,
/// `account: "…"`).
fn audit_accounts(v: &serde_json::Value) -> Vec<&str> {
    let mut ids: Vec<&str> = v
        .get("accounts")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if let Some(a) = v.get("account").and_then(serde_json::Value::as_str) {
        ids.push(a);
    }
    ids
}
