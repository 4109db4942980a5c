//! Reminders sent (migration `0006_space_admin.sql`): each reminder — a
//! learner, a course and a key naming what it is about (its kind and
//! date) — is claimed once, before the mail goes out, so two server
//! processes or two runs of the job never send it twice.

use connect::TenantKey;
use sqlx::Row;

use super::{Db, StoreResult};

impl Db {
    /// Claims a reminder; `true` if it was not claimed before (send it now).
    pub async fn claim_reminder(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        key: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "INSERT INTO reminders_sent (client_key, course_id, account_id, reminder, sent_at_ms) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (client_key, course_id, account_id, reminder) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .bind(key)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Releases a claim whose mail could not be sent (it is tried again on
    /// the next run).
    pub async fn release_reminder(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        key: &str,
    ) -> StoreResult<()> {
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "DELETE FROM reminders_sent \
             WHERE client_key = $1 AND course_id = $2 AND account_id = $3 AND reminder = $4",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .bind(key)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// An enrolled learner a reminder may be due for (see
/// [`Db::reminder_candidates`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderCandidate {
    pub course_id: String,
    pub account_id: String,
    pub due_at_ms: Option<i64>,
    /// Complete in the current cycle (as last computed).
    pub complete: bool,
    pub expires_at_ms: Option<i64>,
}

impl Db {
    /// Enrolled learners of a site with a due date in `[since, due_to]` and
    /// not complete, or complete with a certificate expiring in `[since,
    /// expiry_to]` — the only ones a reminder can be due for. Keyset-paged
    /// by (course, account) after `after`.
    pub async fn reminder_candidates(
        &self,
        tenant: &TenantKey,
        since_ms: i64,
        due_to_ms: i64,
        expiry_to_ms: i64,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<ReminderCandidate>> {
        let (after_course, after_account) = after.unwrap_or(("", ""));
        let rows = sqlx::query(
            "SELECT e.course_id AS course_id, e.account_id AS account_id, \
                    e.due_at_ms AS due_at_ms, s.complete AS complete, \
                    s.expires_at_ms AS expires_at_ms \
             FROM enrolments e \
             LEFT JOIN learner_status s ON s.client_key = e.client_key \
                  AND s.course_id = e.course_id AND s.account_id = e.account_id \
             WHERE e.client_key = $1 \
               AND (e.course_id > $5 OR (e.course_id = $5 AND e.account_id > $6)) \
               AND ((e.due_at_ms IS NOT NULL AND e.due_at_ms >= $2 AND e.due_at_ms <= $3 \
                     AND (s.complete IS NULL OR s.complete = 0)) \
                 OR (s.complete = 1 AND s.expires_at_ms IS NOT NULL AND s.expires_at_ms >= $2 \
                     AND s.expires_at_ms <= $4)) \
             ORDER BY e.course_id, e.account_id LIMIT $7",
        )
        .bind(tenant.as_str())
        .bind(since_ms)
        .bind(due_to_ms)
        .bind(expiry_to_ms)
        .bind(after_course)
        .bind(after_account)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(ReminderCandidate {
                    course_id: r.try_get("course_id")?,
                    account_id: r.try_get("account_id")?,
                    due_at_ms: r.try_get("due_at_ms")?,
                    complete: r.try_get::<Option<i64>, _>("complete")?.unwrap_or(0) != 0,
                    expires_at_ms: r.try_get("expires_at_ms")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }
}
