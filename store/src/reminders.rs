//! Reminders sent (migration `0006_space_admin.sql`): each reminder — a
//! learner, a course and a key naming what it is about (its kind and
//! date) — is claimed once, before the mail goes out, so two server
//! processes or two runs of the job never send it twice.

use connect::TenantKey;

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
