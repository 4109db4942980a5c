//! Enrolments: who must take which course, why, and by when (migration
//! `0006_space_admin.sql`). Every function is scoped by the verified
//! [`TenantKey`]; the course id comes from a server function that has
//! already checked the course is in the caller's space.
//!
//! A learner is enrolled while at least one reason holds: an admin enrolled
//! them (*direct*), they enrolled themselves (*self*), or a group rule
//! covers them (a row in `enrolment_groups`). Removing the last reason
//! removes the enrolment; the learner's records stay.
//!
//! The effective due date of an enrolment is the one an admin set for that
//! learner, else the earliest due date of the group rules that cover them
//! (an absolute date, or N days after the rule enrolled them). It is kept in
//! `enrolments.due_at_ms` so reports filter and sort on it with an index,
//! and computed again here after every change to rules or memberships.
//!
//! Bulk changes run in one write transaction each: they apply completely or
//! not at all.

use std::collections::{BTreeMap, BTreeSet};

use connect::TenantKey;
use sqlx::{Any, Row, Transaction};

use super::{Db, StoreResult};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Rows per multi-row statement (few parameters each; far below both
/// databases' parameter limits).
const ROWS_PER_STATEMENT: usize = 200;

/// One learner's enrolment in a course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub account_id: String,
    pub enrolled_at_ms: i64,
    /// An admin enrolled them.
    pub direct: bool,
    /// They enrolled themselves (self-enrol courses).
    pub self_enrolled: bool,
    /// The group rules that cover them, by name.
    pub groups: Vec<String>,
    /// The effective due date (see the module docs).
    pub due_at_ms: Option<i64>,
    /// The due date was set by an admin for this learner (group rules leave it alone).
    pub due_by_admin: bool,
}

/// A group rule's due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueRule {
    None,
    /// A fixed date (epoch ms).
    At(i64),
    /// This many days after the rule enrolled the learner.
    DaysAfter(u32),
}

impl DueRule {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            DueRule::None => (None, None),
            DueRule::At(at) => (Some(at), None),
            DueRule::DaysAfter(d) => (None, Some(i64::from(d))),
        }
    }

    fn from_columns(at: Option<i64>, days: Option<i64>) -> Self {
        match (at, days) {
            (Some(at), _) => DueRule::At(at),
            (None, Some(d)) => DueRule::DaysAfter(d.clamp(0, i64::from(u32::MAX)) as u32),
            (None, None) => DueRule::None,
        }
    }
}

/// A group rule of a course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRule {
    pub group_name: String,
    pub due: DueRule,
    pub created_at_ms: i64,
    pub created_by: Option<String>,
    /// When its members were last read from Confluence.
    pub synced_at_ms: Option<i64>,
    /// Learners it covers now.
    pub members: i64,
}

/// What a sync of one group rule changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Members the rule did not cover before.
    pub added: Vec<String>,
    /// Former members it no longer covers.
    pub removed: Vec<String>,
}

/// What an unenrol did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unenrolled {
    /// Learners no longer enrolled.
    pub removed: Vec<String>,
    /// Learners who stay enrolled through a group rule.
    pub kept_by_group: Vec<String>,
}

/// `($n, $n+1, …)` groups for a multi-row statement: `rows` groups of
/// `width` numbered placeholders, starting after `first - 1`.
fn placeholders(rows: usize, width: usize, first: usize) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", first + r * width + c));
        }
        sql.push(')');
    }
    sql
}

/// `$first, $first+1, …` (`n` of them) for an `IN (…)` list.
fn in_list(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn enrolment_from_row(row: &sqlx::any::AnyRow) -> Result<Enrolment, sqlx::Error> {
    Ok(Enrolment {
        account_id: row.try_get("account_id")?,
        enrolled_at_ms: row.try_get("enrolled_at_ms")?,
        direct: row.try_get::<i64, _>("direct")? != 0,
        self_enrolled: row.try_get::<i64, _>("self_enrolled")? != 0,
        groups: Vec::new(),
        due_at_ms: row.try_get("due_at_ms")?,
        due_by_admin: row.try_get::<i64, _>("due_by_admin")? != 0,
    })
}

impl Db {
    /// The learner's enrolment in the course, with the group rules that cover them.
    pub async fn enrolment(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<Enrolment>> {
        use crate::read_cache::{Records, What};
        let read = || async {
            Ok(Records::Enrolment(
                self.enrolment_from_db(tenant, course_id, account_id)
                    .await?,
            ))
        };
        match self
            .learner_read(tenant, account_id, course_id, What::Enrolment, read)
            .await?
        {
            Records::Enrolment(e) => Ok(e),
            _ => unreachable!("the cache keys entries by what they hold"),
        }
    }

    async fn enrolment_from_db(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<Enrolment>> {
        let row = sqlx::query(
            "SELECT account_id, enrolled_at_ms, direct, self_enrolled, due_at_ms, due_by_admin \
             FROM enrolments WHERE client_key = $1 AND course_id = $2 AND account_id = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut e = enrolment_from_row(&row)?;
        e.groups = sqlx::query_scalar(
            "SELECT group_name FROM enrolment_groups \
             WHERE client_key = $1 AND course_id = $2 AND account_id = $3 ORDER BY group_name",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(e))
    }

    /// Whether the learner is enrolled (one primary-key read: the access
    /// check of *enrolled only* courses on every learning call).
    pub async fn is_enrolled(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
    ) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM enrolments WHERE client_key = $1 AND course_id = $2 AND account_id = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// The group names that cover each of `accounts` (for a report page).
    pub async fn groups_of(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        accounts: &[String],
    ) -> StoreResult<BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT account_id, group_name FROM enrolment_groups \
                 WHERE client_key = $1 AND course_id = $2 AND account_id IN ({}) \
                 ORDER BY account_id, group_name",
                in_list(chunk.len(), 3)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(course_id);
            for a in chunk {
                q = q.bind(a);
            }
            for row in q.fetch_all(self.pool()).await? {
                out.entry(row.try_get("account_id")?)
                    .or_default()
                    .push(row.try_get("group_name")?);
            }
        }
        Ok(out)
    }

    /// Enrols `accounts` directly (an admin's choice). Learners already
    /// enrolled for another reason gain the direct reason. With `due`, the
    /// due date of each is set to it (and no longer follows group rules).
    /// Returns the learners who were not enrolled before.
    pub async fn enrol_users(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        accounts: &[String],
        due: Option<i64>,
        now_ms: i64,
    ) -> StoreResult<Vec<String>> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let before = enrolled_among(&mut tx, tenant, course_id, accounts).await?;
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO enrolments (client_key, course_id, account_id, enrolled_at_ms, direct, \
                                         self_enrolled, due_at_ms, due_by_admin) \
                 VALUES {} \
                 ON CONFLICT (client_key, course_id, account_id) DO UPDATE SET direct = 1, \
                    due_at_ms = CASE WHEN excluded.due_by_admin = 1 THEN excluded.due_at_ms \
                                     ELSE enrolments.due_at_ms END, \
                    due_by_admin = CASE WHEN excluded.due_by_admin = 1 THEN 1 \
                                        ELSE enrolments.due_by_admin END",
                placeholders(chunk.len(), 8, 1)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(tenant.as_str())
                    .bind(course_id)
                    .bind(a)
                    .bind(now_ms)
                    .bind(1_i64)
                    .bind(0_i64)
                    .bind(due)
                    .bind(i64::from(due.is_some()));
            }
            q.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(accounts
            .iter()
            .filter(|a| !before.contains(*a))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect())
    }

    /// The learner enrols themselves; `true` if they were not enrolled before.
    pub async fn self_enrol(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let _changed = self.learner_changed_on_exit(tenant, account_id);
        let mut tx = self.begin_write().await?;
        let before = enrolled_among(&mut tx, tenant, course_id, &[account_id.to_owned()]).await?;
        sqlx::query(
            "INSERT INTO enrolments (client_key, course_id, account_id, enrolled_at_ms, direct, \
                                     self_enrolled, due_at_ms, due_by_admin) \
             VALUES ($1, $2, $3, $4, 0, 1, NULL, 0) \
             ON CONFLICT (client_key, course_id, account_id) DO UPDATE SET self_enrolled = 1",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(account_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(before.is_empty())
    }

    /// Removes the direct and self reasons of `accounts`. Learners a group
    /// rule still covers stay enrolled (the rule would enrol them again at
    /// the next sync); the others are no longer enrolled.
    pub async fn unenrol(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        accounts: &[String],
    ) -> StoreResult<Unenrolled> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let enrolled = enrolled_among(&mut tx, tenant, course_id, accounts).await?;
        let grouped = grouped_among(&mut tx, tenant, course_id, accounts).await?;
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE enrolments SET direct = 0, self_enrolled = 0 \
                 WHERE client_key = $1 AND course_id = $2 AND account_id IN ({})",
                in_list(chunk.len(), 3)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(course_id);
            for a in chunk {
                q = q.bind(a);
            }
            q.execute(&mut **tx).await?;
        }
        delete_unreasoned(&mut tx, tenant, course_id).await?;
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        let (kept_by_group, removed) = enrolled.into_iter().partition(|a| grouped.contains(a));
        Ok(Unenrolled {
            removed,
            kept_by_group,
        })
    }

    /// Sets (or, with `None`, clears) the due date of `accounts`' enrolments.
    /// A cleared date follows the group rules again. Returns how many
    /// enrolments there were to change.
    pub async fn set_due(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        accounts: &[String],
        due: Option<i64>,
    ) -> StoreResult<u64> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE enrolments SET due_at_ms = $3, due_by_admin = $4 \
                 WHERE client_key = $1 AND course_id = $2 AND account_id IN ({})",
                in_list(chunk.len(), 5)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(course_id)
                .bind(due)
                .bind(i64::from(due.is_some()));
            for a in chunk {
                q = q.bind(a);
            }
            changed += q.execute(&mut **tx).await?.rows_affected();
        }
        if due.is_none() {
            recompute_due(&mut tx, tenant, course_id).await?;
        }
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(changed)
    }

    /// The group rules of a course, by name, with how many learners each covers.
    pub async fn group_rules(
        &self,
        tenant: &TenantKey,
        course_id: &str,
    ) -> StoreResult<Vec<GroupRule>> {
        let rows = sqlx::query(
            "SELECT r.group_name AS group_name, r.due_at_ms AS due_at_ms, r.due_days AS due_days, \
                    r.created_at_ms AS created_at_ms, r.created_by AS created_by, \
                    r.synced_at_ms AS synced_at_ms, \
                    (SELECT COUNT(*) FROM enrolment_groups g \
                      WHERE g.client_key = r.client_key AND g.course_id = r.course_id \
                        AND g.group_name = r.group_name) AS members \
             FROM group_rules r WHERE r.client_key = $1 AND r.course_id = $2 \
             ORDER BY r.group_name",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(GroupRule {
                    group_name: r.try_get("group_name")?,
                    due: DueRule::from_columns(r.try_get("due_at_ms")?, r.try_get("due_days")?),
                    created_at_ms: r.try_get("created_at_ms")?,
                    created_by: r.try_get("created_by")?,
                    synced_at_ms: r.try_get("synced_at_ms")?,
                    members: r.try_get("members")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Every group rule of the tenant as `(course id, group name)`, for the
    /// periodic sync.
    pub async fn all_group_rules(&self, tenant: &TenantKey) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT course_id, group_name FROM group_rules WHERE client_key = $1 \
             ORDER BY course_id, group_name",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("course_id")?, r.try_get("group_name")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// The group rules of a space's courses as `(course id, group name)`,
    /// for the sync when its admin tab opens.
    pub async fn group_rules_in_space(
        &self,
        tenant: &TenantKey,
        space_key: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT r.course_id AS course_id, r.group_name AS group_name FROM group_rules r \
             JOIN courses c ON c.client_key = r.client_key AND c.id = r.course_id \
             WHERE r.client_key = $1 AND c.space_key = $2 ORDER BY r.course_id, r.group_name",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("course_id")?, r.try_get("group_name")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Creates a group rule, or changes its due date; `true` if it is new.
    /// Its members are enrolled by [`Db::sync_group`].
    pub async fn put_group_rule(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        group: &str,
        due: DueRule,
        actor: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let _changed = self.learners_changed_on_exit();
        let (due_at, due_days) = due.columns();
        let mut tx = self.begin_write().await?;
        let existed: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM group_rules WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .fetch_optional(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO group_rules (client_key, course_id, group_name, due_at_ms, due_days, \
                                      created_at_ms, created_by, synced_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) \
             ON CONFLICT (client_key, course_id, group_name) DO UPDATE SET \
                due_at_ms = excluded.due_at_ms, due_days = excluded.due_days",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .bind(due_at)
        .bind(due_days)
        .bind(now_ms)
        .bind(actor)
        .execute(&mut **tx)
        .await?;
        recompute_due(&mut tx, tenant, course_id).await?;
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(existed.is_none())
    }

    /// Removes a group rule: the learners only it covered are no longer
    /// enrolled. Returns them, or `None` when there was no such rule.
    pub async fn remove_group_rule(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        group: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query(
            "DELETE FROM group_rules WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .execute(&mut **tx)
        .await?;
        if gone.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query(
            "DELETE FROM enrolment_groups \
             WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .execute(&mut **tx)
        .await?;
        let removed = delete_unreasoned(&mut tx, tenant, course_id).await?;
        recompute_due(&mut tx, tenant, course_id).await?;
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(Some(removed))
    }

    /// Makes a group rule cover exactly `members` (the group's members as
    /// Confluence listed them just now): new members are enrolled, with the
    /// rule's due date; former members lose this reason (and their
    /// enrolment, if it was the last). `None` when the rule was removed
    /// meanwhile (nothing changes).
    pub async fn sync_group(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        group: &str,
        members: &[String],
        now_ms: i64,
    ) -> StoreResult<Option<SyncOutcome>> {
        let _changed = self.learners_changed_on_exit();
        let mut tx = self.begin_write().await?;
        let rule: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM group_rules WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .fetch_optional(&mut **tx)
        .await?;
        if rule.is_none() {
            return Ok(None);
        }
        let current: BTreeSet<String> = sqlx::query_scalar(
            "SELECT account_id FROM enrolment_groups \
             WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
        let wanted: BTreeSet<String> = members.iter().cloned().collect();
        let added: Vec<String> = wanted.difference(&current).cloned().collect();
        let removed: Vec<String> = current.difference(&wanted).cloned().collect();
        for chunk in added.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO enrolments (client_key, course_id, account_id, enrolled_at_ms, direct, \
                                         self_enrolled, due_at_ms, due_by_admin) \
                 VALUES {} ON CONFLICT (client_key, course_id, account_id) DO NOTHING",
                placeholders(chunk.len(), 8, 1)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(tenant.as_str())
                    .bind(course_id)
                    .bind(a)
                    .bind(now_ms)
                    .bind(0_i64)
                    .bind(0_i64)
                    .bind(None::<i64>)
                    .bind(0_i64);
            }
            q.execute(&mut **tx).await?;
            let sql = format!(
                "INSERT INTO enrolment_groups (client_key, course_id, account_id, group_name, \
                                               added_at_ms) \
                 VALUES {} ON CONFLICT (client_key, course_id, account_id, group_name) DO NOTHING",
                placeholders(chunk.len(), 5, 1)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(tenant.as_str())
                    .bind(course_id)
                    .bind(a)
                    .bind(group)
                    .bind(now_ms);
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in removed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM enrolment_groups \
                 WHERE client_key = $1 AND course_id = $2 AND group_name = $3 \
                   AND account_id IN ({})",
                in_list(chunk.len(), 4)
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(course_id)
                .bind(group);
            for a in chunk {
                q = q.bind(a);
            }
            q.execute(&mut **tx).await?;
        }
        if !removed.is_empty() {
            delete_unreasoned(&mut tx, tenant, course_id).await?;
        }
        sqlx::query(
            "UPDATE group_rules SET synced_at_ms = $4 \
             WHERE client_key = $1 AND course_id = $2 AND group_name = $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(group)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        if !added.is_empty() || !removed.is_empty() {
            recompute_due(&mut tx, tenant, course_id).await?;
        }
        tx.commit().await?;
        self.report_changed(tenant, course_id);
        Ok(Some(SyncOutcome { added, removed }))
    }

    /// Enrolled learners whose due date is in `[from_ms, to_ms)`, with the
    /// date (for reminders). Paged by account id after `after`.
    pub async fn enrolments_due_between(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        from_ms: i64,
        to_ms: i64,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT account_id, due_at_ms FROM enrolments \
             WHERE client_key = $1 AND course_id = $2 AND due_at_ms >= $3 AND due_at_ms < $4 \
               AND account_id > $5 \
             ORDER BY account_id LIMIT $6",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("account_id")?, r.try_get("due_at_ms")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }
}

/// Which of `accounts` are enrolled.
async fn enrolled_among(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    course_id: &str,
    accounts: &[String],
) -> StoreResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT account_id FROM enrolments \
             WHERE client_key = $1 AND course_id = $2 AND account_id IN ({})",
            in_list(chunk.len(), 3)
        );
        // Audited: literals and numbered placeholders only.
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id);
        for a in chunk {
            q = q.bind(a);
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// Which of `accounts` a group rule covers.
async fn grouped_among(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    course_id: &str,
    accounts: &[String],
) -> StoreResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT DISTINCT account_id FROM enrolment_groups \
             WHERE client_key = $1 AND course_id = $2 AND account_id IN ({})",
            in_list(chunk.len(), 3)
        );
        // Audited: literals and numbered placeholders only.
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id);
        for a in chunk {
            q = q.bind(a);
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// Deletes the course's enrolments that no reason holds any more; returns
/// their learners.
async fn delete_unreasoned(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    course_id: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM enrolments \
         WHERE client_key = $1 AND course_id = $2 AND direct = 0 AND self_enrolled = 0 \
           AND NOT EXISTS (SELECT 1 FROM enrolment_groups g \
                           WHERE g.client_key = enrolments.client_key \
                             AND g.course_id = enrolments.course_id \
                             AND g.account_id = enrolments.account_id) \
         RETURNING account_id",
    )
    .bind(tenant.as_str())
    .bind(course_id)
    .fetch_all(&mut **tx)
    .await?)
}

/// Computes the due date of the course's enrolments that follow their
/// group rules: the earliest over the rules that cover them.
async fn recompute_due(
    tx: &mut Transaction<'static, Any>,
    tenant: &TenantKey,
    course_id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE enrolments SET due_at_ms = \
            (SELECT MIN(COALESCE(r.due_at_ms, g.added_at_ms + r.due_days * $3)) \
             FROM enrolment_groups g JOIN group_rules r \
               ON r.client_key = g.client_key AND r.course_id = g.course_id \
              AND r.group_name = g.group_name \
             WHERE g.client_key = enrolments.client_key AND g.course_id = enrolments.course_id \
               AND g.account_id = enrolments.account_id) \
         WHERE client_key = $1 AND course_id = $2 AND due_by_admin = 0",
    )
    .bind(tenant.as_str())
    .bind(course_id)
    .bind(DAY_MS)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(placeholders(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(in_list(3, 4), "$4, $5, $6");
    }

    #[test]
    fn due_rules_round_trip_through_their_columns() {
        for rule in [
            DueRule::None,
            DueRule::At(1_700_000_000_000),
            DueRule::DaysAfter(14),
        ] {
            let (at, days) = rule.columns();
            assert_eq!(DueRule::from_columns(at, days), rule);
        }
    }
}
