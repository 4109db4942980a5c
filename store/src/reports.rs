//! The space admin's reports (migration `0006_space_admin.sql`): each
//! learner's standing kept in `learner_status` (written by the app's
//! learning service, by the learner view's rules), read back one page at a
//! time joined with the enrolments — filtered, sorted, counted and paged in
//! the database, so a course with 10 000 learners costs one indexed query
//! per page, not 10 000 status computations.
//!
//! The people of a report are the course's enrolled learners and everyone
//! who has a standing (opened a lesson or started a quiz) without being
//! enrolled (an *open* course). A learner's state is computed at read time
//! from the stored standing and the clock, because certificate expiry and
//! due dates pass without anyone acting.

use std::fmt::Write as _;

use connect::TenantKey;
use sqlx::Row;

use super::{Db, StoreResult};

/// Stands for "no score yet" in a bound parameter (see `put_statuses`).
const NO_SCORE: f64 = -1.0;

/// One learner's standing on a course, as the learning service computed it.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusRow {
    pub account_id: String,
    /// The latest published version it was computed against.
    pub version: i64,
    pub cycle_start: i64,
    /// Complete in the current re-certification cycle.
    pub complete: bool,
    pub recertification_due: bool,
    pub progress_percent: i64,
    pub lessons_opened: i64,
    pub quizzes_passed: i64,
    /// Attempts in the current cycle.
    pub attempts: i64,
    pub best_percent: Option<f64>,
    pub completed_at_ms: Option<i64>,
    pub completed_version: Option<i64>,
    pub expires_at_ms: Option<i64>,
    pub last_activity_ms: i64,
    /// Opened a lesson or started an attempt.
    pub started: bool,
}

/// A learner's state in a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportState {
    /// Enrolled, nothing done yet.
    NotStarted,
    InProgress,
    Completed,
    /// Complete, but the certificate's validity has run out.
    Expired,
    /// Passed an older version; the latest material change asks for more.
    RecertificationDue,
}

impl ReportState {
    /// The code the SQL computes (see [`STATE_SQL`]).
    pub fn code(self) -> &'static str {
        match self {
            ReportState::NotStarted => "not_started",
            ReportState::InProgress => "in_progress",
            ReportState::Completed => "completed",
            ReportState::Expired => "expired",
            ReportState::RecertificationDue => "recertification_due",
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "in_progress" => ReportState::InProgress,
            "completed" => ReportState::Completed,
            "expired" => ReportState::Expired,
            "recertification_due" => ReportState::RecertificationDue,
            _ => ReportState::NotStarted,
        }
    }

    pub const ALL: [ReportState; 5] = [
        ReportState::NotStarted,
        ReportState::InProgress,
        ReportState::Completed,
        ReportState::Expired,
        ReportState::RecertificationDue,
    ];
}

/// The learner's state from the stored standing (`s`), the enrolment (`e`)
/// and the clock (`$3`). Kept in one place so filters, counts and rows agree.
const STATE_SQL: &str = "CASE \
     WHEN s.account_id IS NULL OR (s.started = 0 AND s.complete = 0 \
                                   AND s.recertification_due = 0) THEN 'not_started' \
     WHEN s.complete = 1 AND s.expires_at_ms IS NOT NULL AND s.expires_at_ms <= $3 THEN 'expired' \
     WHEN s.complete = 1 THEN 'completed' \
     WHEN s.recertification_due = 1 THEN 'recertification_due' \
     ELSE 'in_progress' END";

/// Overdue: a due date passed and not complete in the current cycle.
const OVERDUE_SQL: &str = "CASE WHEN e.due_at_ms IS NOT NULL AND e.due_at_ms < $3 \
     AND (s.account_id IS NULL OR s.complete = 0) THEN 1 ELSE 0 END";

/// Why a learner is in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReasonFilter {
    /// Enrolled by an admin.
    Direct,
    /// Enrolled by this group rule.
    Group(String),
    /// Enrolled themselves.
    SelfEnrolled,
    /// Any enrolment.
    Enrolled,
    /// Took part without being enrolled (an open course).
    NotEnrolled,
}

/// What a report page shows, in what order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportSort {
    /// Overdue first, then by state, then due date.
    #[default]
    Attention,
    Progress,
    DueDate,
    LastActivity,
    CompletedAt,
    BestScore,
    EnrolledAt,
}

impl ReportSort {
    /// The ORDER BY terms (ascending), over the report's derived columns.
    fn order_terms(self) -> &'static str {
        match self {
            ReportSort::Attention => "overdue DESC, state_rank, due_at_ms IS NULL, due_at_ms",
            ReportSort::Progress => "progress_percent",
            ReportSort::DueDate => "due_at_ms IS NULL, due_at_ms",
            ReportSort::LastActivity => "last_activity_ms IS NULL, last_activity_ms",
            ReportSort::CompletedAt => "completed_at_ms IS NULL, completed_at_ms",
            ReportSort::BestScore => "best_percent IS NULL, best_percent",
            ReportSort::EnrolledAt => "enrolled_at_ms IS NULL, enrolled_at_ms",
        }
    }

    /// The same, reversed (NULLs still last).
    fn order_terms_desc(self) -> &'static str {
        match self {
            ReportSort::Attention => "overdue, state_rank DESC, due_at_ms IS NULL, due_at_ms DESC",
            ReportSort::Progress => "progress_percent DESC",
            ReportSort::DueDate => "due_at_ms IS NULL, due_at_ms DESC",
            ReportSort::LastActivity => "last_activity_ms IS NULL, last_activity_ms DESC",
            ReportSort::CompletedAt => "completed_at_ms IS NULL, completed_at_ms DESC",
            ReportSort::BestScore => "best_percent IS NULL, best_percent DESC",
            ReportSort::EnrolledAt => "enrolled_at_ms IS NULL, enrolled_at_ms DESC",
        }
    }
}

/// A report page request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportQuery {
    pub state: Option<ReportState>,
    pub overdue_only: bool,
    pub reason: Option<ReasonFilter>,
    /// Only these learners (a name search resolved through Confluence).
    pub accounts: Option<Vec<String>>,
    pub sort: ReportSort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
    /// The clock (epoch ms) for expiry and due dates.
    pub now_ms: i64,
}

/// One learner in a report page.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    pub account_id: String,
    pub state: ReportState,
    pub overdue: bool,
    /// `None`: not enrolled (took part in an open course).
    pub enrolled_at_ms: Option<i64>,
    pub direct: bool,
    pub self_enrolled: bool,
    pub due_at_ms: Option<i64>,
    /// The stored standing; `None` when they have done nothing yet.
    pub status: Option<StatusRow>,
}

/// A report page and how many rows match in all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportPage {
    pub rows: Vec<ReportRow>,
    pub total: i64,
}

/// Counts over a whole course (the totals and the status chart).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportCounts {
    pub learners: i64,
    pub enrolled: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub completed: i64,
    pub expired: i64,
    pub recertification_due: i64,
    pub overdue: i64,
    /// Of the overdue: not started (the rest are in progress or due for
    /// re-certification; a status chart shows overdue apart from them).
    pub overdue_not_started: i64,
    pub overdue_in_progress: i64,
    pub overdue_recertification_due: i64,
}

/// A course's counts in the space overview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CourseCounts {
    pub course_id: String,
    pub enrolled: i64,
    pub in_progress: i64,
    pub completed: i64,
    pub overdue: i64,
}

/// The people of a course's report (`$1` tenant, `$2` course) with their
/// enrolment, standing and derived columns (`$3` now).
fn people_sql() -> String {
    format!(
        "SELECT p.account_id AS account_id, e.enrolled_at_ms AS enrolled_at_ms, \
                e.direct AS direct, e.self_enrolled AS self_enrolled, e.due_at_ms AS due_at_ms, \
                s.account_id AS s_account, s.version AS version, s.cycle_start AS cycle_start, \
                s.complete AS complete, s.recertification_due AS recertification_due, \
                s.progress_percent AS progress_percent, s.lessons_opened AS lessons_opened, \
                s.quizzes_passed AS quizzes_passed, s.attempts AS attempts, \
                s.best_percent AS best_percent, s.completed_at_ms AS completed_at_ms, \
                s.completed_version AS completed_version, s.expires_at_ms AS expires_at_ms, \
                s.last_activity_ms AS last_activity_ms, s.started AS started, \
                {STATE_SQL} AS state, {OVERDUE_SQL} AS overdue \
         FROM (SELECT account_id FROM enrolments WHERE client_key = $1 AND course_id = $2 \
               UNION \
               SELECT account_id FROM learner_status WHERE client_key = $1 AND course_id = $2) p \
         LEFT JOIN enrolments e ON e.client_key = $1 AND e.course_id = $2 \
                               AND e.account_id = p.account_id \
         LEFT JOIN learner_status s ON s.client_key = $1 AND s.course_id = $2 \
                                   AND s.account_id = p.account_id"
    )
}

fn flag(row: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0) != 0)
}

fn status_from_row(row: &sqlx::any::AnyRow) -> Result<Option<StatusRow>, sqlx::Error> {
    let Some(account_id) = row.try_get::<Option<String>, _>("s_account")? else {
        return Ok(None);
    };
    Ok(Some(StatusRow {
        account_id,
        version: row.try_get("version")?,
        cycle_start: row.try_get("cycle_start")?,
        complete: flag(row, "complete")?,
        recertification_due: flag(row, "recertification_due")?,
        progress_percent: row.try_get("progress_percent")?,
        lessons_opened: row.try_get("lessons_opened")?,
        quizzes_passed: row.try_get("quizzes_passed")?,
        attempts: row.try_get("attempts")?,
        best_percent: row.try_get("best_percent")?,
        completed_at_ms: row.try_get("completed_at_ms")?,
        completed_version: row.try_get("completed_version")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        last_activity_ms: row.try_get("last_activity_ms")?,
        started: flag(row, "started")?,
    }))
}

impl Db {
    /// Stores learners' standings (insert or replace), in one transaction.
    /// The last activity never goes back (a refresh computed from fewer
    /// records keeps the later time stored).
    pub async fn put_statuses(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        rows: &[StatusRow],
    ) -> StoreResult<()> {
        const WIDTH: usize = 17;
        // `best_percent` goes in as a number, never a NULL parameter:
        // sqlx's Any driver declares a NULL double as float4 on
        // PostgreSQL, and the cached statement then refuses the next
        // row's float8 ("incorrect binary data format").
        const BEST_PERCENT_COLUMN: usize = 11;
        const PER_STATEMENT: usize = 50;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in rows.chunks(PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO learner_status (client_key, course_id, account_id, version, \
                    cycle_start, complete, recertification_due, progress_percent, lessons_opened, \
                    quizzes_passed, attempts, best_percent, completed_at_ms, completed_version, \
                    expires_at_ms, last_activity_ms, started) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..WIDTH {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    if c == BEST_PERCENT_COLUMN {
                        let _ = write!(sql, "NULLIF(${}, {NO_SCORE:.1})", i * WIDTH + c + 1);
                    } else {
                        let _ = write!(sql, "${}", i * WIDTH + c + 1);
                    }
                }
                sql.push(')');
            }
            sql.push_str(
                " ON CONFLICT (client_key, course_id, account_id) DO UPDATE SET \
                   version = excluded.version, cycle_start = excluded.cycle_start, \
                   complete = excluded.complete, \
                   recertification_due = excluded.recertification_due, \
                   progress_percent = excluded.progress_percent, \
                   lessons_opened = excluded.lessons_opened, \
                   quizzes_passed = excluded.quizzes_passed, attempts = excluded.attempts, \
                   best_percent = excluded.best_percent, \
                   completed_at_ms = excluded.completed_at_ms, \
                   completed_version = excluded.completed_version, \
                   expires_at_ms = excluded.expires_at_ms, \
                   last_activity_ms = CASE \
                       WHEN excluded.last_activity_ms > learner_status.last_activity_ms \
                       THEN excluded.last_activity_ms ELSE learner_status.last_activity_ms END, \
                   started = excluded.started",
            );
            // Audited: literals and numbered placeholders only.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(tenant.as_str())
                    .bind(course_id)
                    .bind(&r.account_id)
                    .bind(r.version)
                    .bind(r.cycle_start)
                    .bind(i64::from(r.complete))
                    .bind(i64::from(r.recertification_due))
                    .bind(r.progress_percent)
                    .bind(r.lessons_opened)
                    .bind(r.quizzes_passed)
                    .bind(r.attempts)
                    .bind(r.best_percent.unwrap_or(NO_SCORE))
                    .bind(r.completed_at_ms)
                    .bind(r.completed_version)
                    .bind(r.expires_at_ms)
                    .bind(r.last_activity_ms)
                    .bind(i64::from(r.started));
            }
            q.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Learners whose stored standing was computed against another version
    /// than `latest` (it is computed again before a report reads it).
    pub async fn stale_statuses(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        latest: i64,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            // Two ranges rather than `<>`: both databases then read only
            // the stale entries of `learner_status_version`.
            "SELECT account_id FROM learner_status \
             WHERE client_key = $1 AND course_id = $2 AND (version < $3 OR version > $3) \
             ORDER BY account_id LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(latest)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Learners with records on the course (a lesson opened or an attempt)
    /// but no stored standing: records from before standings were kept.
    pub async fn learners_without_status(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT account_id FROM ( \
                SELECT account_id FROM lesson_views WHERE client_key = $1 AND course_id = $2 \
                UNION \
                SELECT account_id FROM attempts WHERE client_key = $1 AND course_id = $2) r \
             WHERE NOT EXISTS (SELECT 1 FROM learner_status s \
                               WHERE s.client_key = $1 AND s.course_id = $2 \
                                 AND s.account_id = r.account_id) \
             ORDER BY account_id LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// One learner's report row (their detail page); `None` if they are
    /// neither enrolled nor have a standing.
    pub async fn report_row(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<ReportRow>> {
        let sql = format!("SELECT * FROM ({}) t WHERE t.account_id = $4", people_sql());
        // Audited: built from constants only; every value is a bind parameter.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(now_ms)
            .bind(account_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref()
            .map(report_row_from)
            .transpose()
            .map_err(Into::into)
    }

    /// One page of a course's report (see the module docs).
    pub async fn report_page(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        q: &ReportQuery,
    ) -> StoreResult<ReportPage> {
        // $1 tenant, $2 course, $3 now, $4 state, $5 overdue only, $6 group,
        // $7 limit, $8 offset, then the accounts of a name search.
        let mut filters = String::from(
            "($4 IS NULL OR t.state = $4) AND ($5 = 0 OR t.overdue = 1) \
             AND ($6 IS NULL OR EXISTS (SELECT 1 FROM enrolment_groups g \
                   WHERE g.client_key = $1 AND g.course_id = $2 \
                     AND g.account_id = t.account_id AND g.group_name = $6))",
        );
        let mut group: Option<&str> = None;
        match &q.reason {
            None => {}
            Some(ReasonFilter::Direct) => filters.push_str(" AND t.direct = 1"),
            Some(ReasonFilter::SelfEnrolled) => filters.push_str(" AND t.self_enrolled = 1"),
            Some(ReasonFilter::Enrolled) => filters.push_str(" AND t.enrolled_at_ms IS NOT NULL"),
            Some(ReasonFilter::NotEnrolled) => filters.push_str(" AND t.enrolled_at_ms IS NULL"),
            Some(ReasonFilter::Group(g)) => group = Some(g),
        }
        if let Some(accounts) = &q.accounts {
            if accounts.is_empty() {
                return Ok(ReportPage::default());
            }
            let list = (0..accounts.len())
                .map(|i| format!("${}", 9 + i))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = write!(filters, " AND t.account_id IN ({list})");
        }
        let order = if q.descending {
            q.sort.order_terms_desc()
        } else {
            q.sort.order_terms()
        };
        let sql = format!(
            "SELECT t.*, COUNT(*) OVER () AS total_rows FROM ( \
                SELECT x.*, CASE x.state WHEN 'not_started' THEN 1 WHEN 'in_progress' THEN 2 \
                    WHEN 'recertification_due' THEN 3 WHEN 'expired' THEN 4 ELSE 5 END \
                    AS state_rank \
                FROM ({people}) x) t \
             WHERE {filters} \
             ORDER BY {order}, t.account_id \
             LIMIT $7 OFFSET $8",
            people = people_sql(),
        );
        // Audited: built from constants and whitelisted fragments (the sort
        // is an enum, the IN list numbered placeholders); every value is a
        // bind parameter.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(q.now_ms)
            .bind(q.state.map(ReportState::code))
            .bind(i64::from(q.overdue_only))
            .bind(group)
            .bind(q.limit.clamp(1, 1000))
            .bind(q.offset.max(0));
        for a in q.accounts.iter().flatten() {
            query = query.bind(a);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let total = match rows.first() {
            Some(r) => r.try_get::<i64, _>("total_rows")?,
            // Past the last page: count without the window.
            None if q.offset > 0 => {
                let mut probe = q.clone();
                probe.offset = 0;
                probe.limit = 1;
                return Ok(ReportPage {
                    rows: Vec::new(),
                    total: Box::pin(self.report_page(tenant, course_id, &probe))
                        .await?
                        .total,
                });
            }
            None => 0,
        };
        Ok(ReportPage {
            rows: rows.iter().map(report_row_from).collect::<Result<_, _>>()?,
            total,
        })
    }

    /// Counts over all of a course's learners (totals and status chart).
    pub async fn report_counts(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        now_ms: i64,
    ) -> StoreResult<ReportCounts> {
        let sql = format!(
            "SELECT t.state AS state, t.overdue AS overdue, \
                    CASE WHEN t.enrolled_at_ms IS NULL THEN 0 ELSE 1 END AS enrolled, \
                    COUNT(*) AS n \
             FROM ({}) t GROUP BY t.state, t.overdue, \
                CASE WHEN t.enrolled_at_ms IS NULL THEN 0 ELSE 1 END",
            people_sql()
        );
        // Audited: built from constants only; every value is a bind parameter.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(course_id)
            .bind(now_ms)
            .fetch_all(self.pool())
            .await?;
        let mut c = ReportCounts::default();
        for r in &rows {
            let n: i64 = r.try_get("n")?;
            let state: String = r.try_get("state")?;
            c.learners += n;
            if r.try_get::<i64, _>("enrolled")? != 0 {
                c.enrolled += n;
            }
            let overdue = r.try_get::<i64, _>("overdue")? != 0;
            let state = ReportState::from_code(&state);
            if overdue {
                c.overdue += n;
                match state {
                    ReportState::NotStarted => c.overdue_not_started += n,
                    ReportState::InProgress => c.overdue_in_progress += n,
                    ReportState::RecertificationDue => c.overdue_recertification_due += n,
                    ReportState::Completed | ReportState::Expired => {}
                }
            }
            match state {
                ReportState::NotStarted => c.not_started += n,
                ReportState::InProgress => c.in_progress += n,
                ReportState::Completed => c.completed += n,
                ReportState::Expired => c.expired += n,
                ReportState::RecertificationDue => c.recertification_due += n,
            }
        }
        Ok(c)
    }

    /// Completions of the current cycle per UTC day: `(day start (epoch ms), count)`.
    pub async fn completions_per_day(
        &self,
        tenant: &TenantKey,
        course_id: &str,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT (completed_at_ms / $3) * $3 AS day, COUNT(*) AS n FROM learner_status \
             WHERE client_key = $1 AND course_id = $2 AND complete = 1 \
               AND completed_at_ms IS NOT NULL \
             GROUP BY (completed_at_ms / $3) * $3 ORDER BY day",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(crate::enrolments::DAY_MS)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("day")?, r.try_get("n")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Enrolments per UTC day (`(day start (epoch ms), count)`), for the
    /// completion chart's "enrolled" line.
    pub async fn enrolments_per_day(
        &self,
        tenant: &TenantKey,
        course_id: &str,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT (enrolled_at_ms / $3) * $3 AS day, COUNT(*) AS n FROM enrolments \
             WHERE client_key = $1 AND course_id = $2 \
             GROUP BY (enrolled_at_ms / $3) * $3 ORDER BY day",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(crate::enrolments::DAY_MS)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("day")?, r.try_get("n")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Per course (of `course_ids`): enrolled, in progress, completed, overdue.
    pub async fn course_counts(
        &self,
        tenant: &TenantKey,
        course_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Vec<CourseCounts>> {
        if course_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (0..course_ids.len())
            .map(|i| format!("${}", 3 + i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT c.id AS course_id, \
               (SELECT COUNT(*) FROM enrolments e \
                 WHERE e.client_key = c.client_key AND e.course_id = c.id) AS enrolled, \
               (SELECT COUNT(*) FROM learner_status s \
                 WHERE s.client_key = c.client_key AND s.course_id = c.id AND s.complete = 1) \
                 AS completed, \
               (SELECT COUNT(*) FROM learner_status s \
                 WHERE s.client_key = c.client_key AND s.course_id = c.id AND s.complete = 0 \
                   AND (s.started = 1 OR s.recertification_due = 1)) AS in_progress, \
               (SELECT COUNT(*) FROM enrolments e LEFT JOIN learner_status s \
                   ON s.client_key = e.client_key AND s.course_id = e.course_id \
                  AND s.account_id = e.account_id \
                 WHERE e.client_key = c.client_key AND e.course_id = c.id \
                   AND e.due_at_ms IS NOT NULL AND e.due_at_ms < $2 \
                   AND (s.account_id IS NULL OR s.complete = 0)) AS overdue \
             FROM courses c WHERE c.client_key = $1 AND c.id IN ({list})"
        );
        // Audited: literals and numbered placeholders only.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(now_ms);
        for id in course_ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(CourseCounts {
                    course_id: r.try_get("course_id")?,
                    enrolled: r.try_get("enrolled")?,
                    in_progress: r.try_get("in_progress")?,
                    completed: r.try_get("completed")?,
                    overdue: r.try_get("overdue")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }
}

fn report_row_from(r: &sqlx::any::AnyRow) -> Result<ReportRow, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(ReportRow {
        account_id: r.try_get("account_id")?,
        state: ReportState::from_code(&state),
        overdue: flag(r, "overdue")?,
        enrolled_at_ms: r.try_get("enrolled_at_ms")?,
        direct: flag(r, "direct")?,
        self_enrolled: flag(r, "self_enrolled")?,
        due_at_ms: r.try_get("due_at_ms")?,
        status: status_from_row(r)?,
    })
}
