//! What the host simulator's demo needs beyond the store's ordinary paths
//! (cargo feature `demo`, turned on only by the server's `dev-host`
//! feature; release builds do not contain this module).
//!
//! The demo course itself is written through the app's real API (the
//! simulator calls it as its simulated users); here are only the two things
//! no API offers: finding the demo course again after a restart, and
//! deleting a tenant's course data for *Reset demo*.

use super::{Db, StoreResult};

impl Db {
    /// The id of the oldest published course titled `title` on `page_id`
    /// of `client_key`, if there is one.
    pub async fn demo_course(
        &self,
        client_key: &str,
        page_id: &str,
        title: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM courses WHERE client_key = $1 AND page_id = $2 AND title = $3 \
             AND latest_version IS NOT NULL ORDER BY created_at, id LIMIT 1",
        )
        .bind(client_key)
        .bind(page_id)
        .bind(title)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Deletes every course of `client_key` with everything that hangs off
    /// them (versions, enrolments, attempts, the audit log, …): the rows
    /// the retention purge deletes, but the tenant stays installed. One
    /// transaction; the rows deleted.
    pub async fn delete_course_data(&self, client_key: &str) -> StoreResult<u64> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let deleted = self.delete_tenant_rows(&mut tx, client_key).await?;
        tx.commit().await?;
        self.reports_changed();
        Ok(deleted)
    }
}
