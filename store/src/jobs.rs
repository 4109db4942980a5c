//! Job leases (migration `0007_job_locks.sql`): with several server
//! processes on one database, a scheduled job runs in one of them at a
//! time. A process takes the job's lease (an upsert that only succeeds when
//! nobody holds an unexpired one), runs the job, and gives it back; a lease
//! whose holder died expires and is taken over. Works the same on SQLite
//! and PostgreSQL (no session-bound advisory lock to lose with a pooled
//! connection).

use super::{Db, StoreResult};

impl Db {
    /// Takes the lease of job `name` for `holder` until `now_ms + lease_ms`;
    /// `false` if another holder has an unexpired one. The holder may renew
    /// its own lease.
    pub async fn try_lock_job(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "INSERT INTO job_locks (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at_ms = excluded.expires_at_ms \
             WHERE job_locks.expires_at_ms <= $4 OR job_locks.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back (only `holder`'s).
    pub async fn unlock_job(&self, name: &str, holder: &str) -> StoreResult<()> {
        let _gate = self.sqlite_write_gate().await;
        sqlx::query("DELETE FROM job_locks WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
