//! The space admin's reports (migrations `0006_space_admin.sql` and
//! `0010_report_indexes.sql`): each learner's standing kept in
//! `learner_status` (written by the app's learning service, by the learner
//! view's rules), read back one page at a time — filtered, sorted, counted
//! and paged in the database.
//!
//! The people of a report are the course's enrolled learners and everyone
//! who has a standing (opened a lesson or started a quiz) without being
//! enrolled (an *open* course): one `learner_status` row each, since the
//! enrolment is copied there by triggers and an enrolled learner without a
//! standing has a row of their own (`has_standing` = 0). A learner's state
//! is their row's `stage` (the state without the clock) compared with the
//! time of the report, because certificate expiry and due dates pass
//! without anyone acting.
//!
//! What a page costs does not grow with the course (measured with 10 000
//! learners: `bench/report.sh`):
//!
//! - a page is read along an index in its order: each order has one
//!   (migration 0010), and a page of 50 reads about 50 entries plus those
//!   its filters skip. "Needs attention" is read as up to thirteen ranges
//!   of one index (per stage: overdue, due later, no due date; expired and
//!   completed), only those the page overlaps;
//! - the counts (per state, overdue, enrolled — the totals, the status
//!   chart, the overview) and the completions per day are read once and
//!   kept in memory per course ([`ReportCache`]): until this process writes
//!   a standing or an enrolment of the course, until the clock reaches the
//!   next due date or certificate expiry that changes them, and for at most
//!   [`SUMMARY_TTL`] (another server process may have written meanwhile).
//!   A page filtered by state, "overdue" or enrolment reason takes its
//!   total from them;
//! - a page filtered by a group rule reads that group's members, and one
//!   filtered by a name search the people found: one query with its count.

use std::{fmt::Write as _, sync::Arc, time::Duration};

use cache::{Cache, Weigh};
use connect::TenantKey;
use sqlx::Row;

use super::{enrolments::GroupRule, Db, StoreResult};

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
    /// A stable code (logs, tests).
    pub fn code(self) -> &'static str {
        match self {
            ReportState::NotStarted => "not_started",
            ReportState::InProgress => "in_progress",
            ReportState::Completed => "completed",
            ReportState::Expired => "expired",
            ReportState::RecertificationDue => "recertification_due",
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

/// The `stage` column (migration 0010): the state without the clock.
const STAGE_NOT_STARTED: i64 = 0;
const STAGE_IN_PROGRESS: i64 = 1;
const STAGE_RECERTIFICATION_DUE: i64 = 2;
const STAGE_COMPLETE: i64 = 3;

/// A learner's state: their stage, and whether a completion's certificate
/// has expired by `now_ms`.
fn state_of(stage: i64, expires_at_ms: Option<i64>, now_ms: i64) -> ReportState {
    match stage {
        STAGE_IN_PROGRESS => ReportState::InProgress,
        STAGE_RECERTIFICATION_DUE => ReportState::RecertificationDue,
        STAGE_COMPLETE if expires_at_ms.is_some_and(|e| e <= now_ms) => ReportState::Expired,
        STAGE_COMPLETE => ReportState::Completed,
        _ => ReportState::NotStarted,
    }
}

/// The state of a summary cell or range: a stage, and for a complete one
/// whether its certificate has expired.
fn cell_state(stage: i64, expired: bool) -> ReportState {
    state_of(stage, expired.then_some(i64::MIN), 0)
}

/// Overdue: a due date passed and not complete in the current cycle.
fn overdue_of(stage: i64, due_at_ms: Option<i64>, now_ms: i64) -> bool {
    stage != STAGE_COMPLETE && due_at_ms.is_some_and(|d| d < now_ms)
}

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

/// What a report page shows, in what order. Ties go by account id;
/// descending reverses the whole order (ties too), except that learners
/// without a value (no due date, no score, …) come last either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportSort {
    /// Overdue first (by state, then due date), then the others by state
    /// (not started, in progress, re-certification due, expired, completed),
    /// then due date.
    #[default]
    Attention,
    Progress,
    DueDate,
    LastActivity,
    CompletedAt,
    BestScore,
    EnrolledAt,
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

/// A statement and the values bound to it, numbered as they are added
/// (every value is a bind parameter; the text only holds literals and
/// placeholders).
struct Sql {
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Text(String),
    Int(i64),
}

impl Sql {
    fn new() -> Self {
        Self {
            text: String::new(),
            args: Vec::new(),
        }
    }

    /// The placeholder of a new bound value.
    fn text(&mut self, v: &str) -> String {
        self.args.push(Arg::Text(v.to_owned()));
        format!("${}", self.args.len())
    }

    fn int(&mut self, v: i64) -> String {
        self.args.push(Arg::Int(v));
        format!("${}", self.args.len())
    }

    async fn fetch_all(self, db: &Db) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        // Audited: `text` holds literals, whitelisted fragments and numbered
        // placeholders only; every value is in `args`.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for a in &self.args {
            q = match a {
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q.fetch_all(db.pool()).await
    }
}

/// The columns of a report row (`s`: `learner_status`).
const ROW_COLUMNS: &str = "s.account_id AS account_id, s.enrolled_at_ms AS enrolled_at_ms, \
     s.direct AS direct, s.self_enrolled AS self_enrolled, s.due_at_ms AS due_at_ms, \
     s.has_standing AS has_standing, s.stage AS stage, s.version AS version, \
     s.cycle_start AS cycle_start, s.complete AS complete, \
     s.recertification_due AS recertification_due, s.progress_percent AS progress_percent, \
     s.lessons_opened AS lessons_opened, s.quizzes_passed AS quizzes_passed, \
     s.attempts AS attempts, s.best_percent AS best_percent, \
     s.completed_at_ms AS completed_at_ms, s.completed_version AS completed_version, \
     s.expires_at_ms AS expires_at_ms, s.last_activity_ms AS last_activity_ms, \
     s.started AS started";

/// `SELECT <row columns> FROM learner_status s WHERE <the course>`.
fn select_rows(sql: &mut Sql, tenant: &TenantKey, course_id: &str) {
    let (t, c) = (sql.text(tenant.as_str()), sql.text(course_id));
    let _ = write!(
        sql.text,
        "SELECT {ROW_COLUMNS} FROM learner_status s WHERE s.client_key = {t} AND s.course_id = {c}"
    );
}

/// The SQL condition for a state (`now`: the clock's placeholder). `pin`
/// ("+" or "") keeps a condition from choosing the index: SQLite (without
/// statistics) would otherwise read a state's rows by the attention index
/// and sort them all, rather than walk the index of the page's order.
fn state_sql(s: ReportState, now: &str, pin: &str) -> String {
    match s {
        ReportState::NotStarted => format!("{pin}s.stage = {STAGE_NOT_STARTED}"),
        ReportState::InProgress => format!("{pin}s.stage = {STAGE_IN_PROGRESS}"),
        ReportState::RecertificationDue => format!("{pin}s.stage = {STAGE_RECERTIFICATION_DUE}"),
        ReportState::Completed => format!(
            "{pin}s.stage = {STAGE_COMPLETE} AND (s.expires_at_ms IS NULL OR s.expires_at_ms > {now})"
        ),
        ReportState::Expired => {
            format!("{pin}s.stage = {STAGE_COMPLETE} AND s.expires_at_ms <= {now}")
        }
    }
}

fn overdue_sql(now: &str, pin: &str) -> String {
    format!("{pin}s.stage < {STAGE_COMPLETE} AND {pin}s.due_at_ms < {now}")
}

/// ` AND <condition>` for a reason filter other than a group's (`pin`: see
/// [`state_sql`]); "" without one.
fn reason_sql(reason: Option<&ReasonFilter>, pin: &str) -> String {
    match reason {
        None | Some(ReasonFilter::Group(_)) => String::new(),
        Some(ReasonFilter::Direct) => format!(" AND {pin}s.direct = 1"),
        Some(ReasonFilter::SelfEnrolled) => format!(" AND {pin}s.self_enrolled = 1"),
        Some(ReasonFilter::Enrolled) => format!(" AND {pin}s.enrolled_at_ms IS NOT NULL"),
        Some(ReasonFilter::NotEnrolled) => format!(" AND {pin}s.enrolled_at_ms IS NULL"),
    }
}

/// A column order other than "needs attention": the column, the test for
/// "has a value" (those come first) and its opposite.
struct Column {
    column: &'static str,
    present: &'static str,
    absent: Option<&'static str>,
}

fn column_of(sort: ReportSort) -> Option<Column> {
    let nullable = |column, present, absent| {
        Some(Column {
            column,
            present,
            absent: Some(absent),
        })
    };
    match sort {
        ReportSort::Attention => None,
        // Everyone has a progress (0 until they start).
        ReportSort::Progress => Some(Column {
            column: "s.progress_percent",
            present: "s.progress_percent IS NOT NULL",
            absent: None,
        }),
        ReportSort::DueDate => nullable(
            "s.due_at_ms",
            "s.due_at_ms IS NOT NULL",
            "s.due_at_ms IS NULL",
        ),
        // No activity yet is stored as 0.
        ReportSort::LastActivity => nullable(
            "s.last_activity_ms",
            "s.last_activity_ms > 0",
            "s.last_activity_ms <= 0",
        ),
        ReportSort::CompletedAt => nullable(
            "s.completed_at_ms",
            "s.completed_at_ms IS NOT NULL",
            "s.completed_at_ms IS NULL",
        ),
        ReportSort::BestScore => nullable(
            "s.best_percent",
            "s.best_percent IS NOT NULL",
            "s.best_percent IS NULL",
        ),
        ReportSort::EnrolledAt => nullable(
            "s.enrolled_at_ms",
            "s.enrolled_at_ms IS NOT NULL",
            "s.enrolled_at_ms IS NULL",
        ),
    }
}

/// Whether a due date is none, passed or to come (the counts' cells).
const DUE_NONE: usize = 0;
const DUE_PAST: usize = 1;
const DUE_LATER: usize = 2;

/// A part of the "needs attention" order: the rows of one stage (and, for
/// complete ones, expired or not) and one kind of due date, in due-date
/// order (or by account, without one).
#[derive(Clone, Copy)]
struct Range {
    stage: i64,
    /// Complete rows only: certificate expired (`Some(true)`) or not.
    expired: Option<bool>,
    /// DUE_PAST, DUE_LATER, DUE_NONE; for complete rows DUE_PAST means
    /// "has a due date" (past or not: complete learners are never overdue).
    due: usize,
}

impl Range {
    fn overdue(self) -> bool {
        self.stage != STAGE_COMPLETE && self.due == DUE_PAST
    }

    fn state(self) -> ReportState {
        cell_state(self.stage, self.expired == Some(true))
    }

    /// Whether a summary cell is in the range.
    fn holds(self, c: &Cell) -> bool {
        c.stage == self.stage
            && self.expired.is_none_or(|e| c.lapsed == e)
            && if self.stage == STAGE_COMPLETE && self.due == DUE_PAST {
                c.due != DUE_NONE
            } else {
                c.due == self.due
            }
    }

    /// Its condition (`now`: the clock's placeholder).
    fn condition(self, now: &str) -> String {
        let mut c = format!("s.stage = {}", self.stage);
        match self.expired {
            Some(true) => {
                let _ = write!(c, " AND s.expires_at_ms <= {now}");
            }
            Some(false) => {
                let _ = write!(
                    c,
                    " AND (s.expires_at_ms IS NULL OR s.expires_at_ms > {now})"
                );
            }
            None => {}
        }
        let due = match (self.due, self.stage == STAGE_COMPLETE) {
            (DUE_NONE, _) => " AND s.due_at_ms IS NULL".to_owned(),
            (DUE_PAST, true) => " AND s.due_at_ms IS NOT NULL".to_owned(),
            (DUE_PAST, false) => format!(" AND s.due_at_ms < {now}"),
            _ => format!(" AND s.due_at_ms >= {now}"),
        };
        c.push_str(&due);
        c
    }
}

/// The "needs attention" order, ascending, as groups of ranges: overdue
/// not started, in progress, re-certification due (each by due date); then
/// the others by state, each with a due date (by date) then without.
/// Descending reverses the groups and reads each range backwards, so that
/// rows without a due date stay last in their group.
fn attention_groups() -> Vec<Vec<Range>> {
    let open = [
        STAGE_NOT_STARTED,
        STAGE_IN_PROGRESS,
        STAGE_RECERTIFICATION_DUE,
    ];
    let range = |stage, expired, due| Range {
        stage,
        expired,
        due,
    };
    let mut groups: Vec<Vec<Range>> = open
        .iter()
        .map(|&stage| vec![range(stage, None, DUE_PAST)])
        .collect();
    for &stage in &open {
        groups.push(vec![
            range(stage, None, DUE_LATER),
            range(stage, None, DUE_NONE),
        ]);
    }
    for expired in [true, false] {
        groups.push(vec![
            range(STAGE_COMPLETE, Some(expired), DUE_PAST),
            range(STAGE_COMPLETE, Some(expired), DUE_NONE),
        ]);
    }
    groups
}

/// The "needs attention" order as one ORDER BY (pages that are read in one
/// query): the same order as [`attention_groups`].
fn attention_order(now: &str, descending: bool) -> String {
    let overdue =
        format!("CASE WHEN s.stage < {STAGE_COMPLETE} AND s.due_at_ms < {now} THEN 1 ELSE 0 END");
    let rank = format!(
        "CASE WHEN s.stage = {STAGE_COMPLETE} THEN \
           (CASE WHEN s.expires_at_ms <= {now} THEN 4 ELSE 5 END) \
         ELSE s.stage + 1 END"
    );
    if descending {
        format!("{overdue}, {rank} DESC, s.due_at_ms IS NULL, s.due_at_ms DESC, s.account_id DESC")
    } else {
        format!("{overdue} DESC, {rank}, s.due_at_ms IS NULL, s.due_at_ms, s.account_id")
    }
}

/// Learners of a course alike in everything the counts, the totals of
/// filtered pages and the ranges of "needs attention" tell apart.
#[derive(Clone, Copy, Debug)]
struct Cell {
    stage: i64,
    /// DUE_NONE, DUE_PAST or DUE_LATER.
    due: usize,
    /// A certificate that has expired.
    lapsed: bool,
    enrolled: bool,
    direct: bool,
    self_enrolled: bool,
}

impl Cell {
    fn state(&self) -> ReportState {
        cell_state(self.stage, self.lapsed)
    }

    fn overdue(&self) -> bool {
        self.stage != STAGE_COMPLETE && self.due == DUE_PAST
    }

    /// Whether its learners pass a reason filter (a group's: unknown here).
    fn has(&self, reason: Option<&ReasonFilter>) -> bool {
        match reason {
            None => true,
            Some(ReasonFilter::Direct) => self.direct,
            Some(ReasonFilter::SelfEnrolled) => self.self_enrolled,
            Some(ReasonFilter::Enrolled) => self.enrolled,
            Some(ReasonFilter::NotEnrolled) => !self.enrolled,
            Some(ReasonFilter::Group(_)) => false,
        }
    }
}

/// A course's counts (by cell) and completions per day, as of `now_ms`.
#[derive(Debug)]
struct Summary {
    cells: Vec<(Cell, i64)>,
    per_day: Vec<(i64, i64)>,
    /// The clock they were read at.
    now_ms: i64,
    /// They hold until the clock reaches this (the next due date to pass,
    /// the next certificate to expire).
    until_ms: i64,
}

impl Weigh for Summary {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.cells.capacity() * std::mem::size_of::<(Cell, i64)>()
            + self.per_day.capacity() * 16
    }
}

impl Summary {
    /// Learners in the cells that `keep`.
    fn count(&self, keep: impl Fn(&Cell) -> bool) -> i64 {
        self.cells
            .iter()
            .filter(|(c, _)| keep(c))
            .map(|(_, n)| n)
            .sum()
    }

    fn counts(&self) -> ReportCounts {
        let state = |s: ReportState| self.count(|c| c.state() == s);
        let overdue = |s: ReportState| self.count(|c| c.overdue() && c.state() == s);
        ReportCounts {
            learners: self.count(|_| true),
            enrolled: self.count(|c| c.enrolled),
            not_started: state(ReportState::NotStarted),
            in_progress: state(ReportState::InProgress),
            completed: state(ReportState::Completed),
            expired: state(ReportState::Expired),
            recertification_due: state(ReportState::RecertificationDue),
            overdue: self.count(Cell::overdue),
            overdue_not_started: overdue(ReportState::NotStarted),
            overdue_in_progress: overdue(ReportState::InProgress),
            overdue_recertification_due: overdue(ReportState::RecertificationDue),
        }
    }

    /// Rows a page with these filters (no group, no name search) has in all.
    fn total(&self, q: &ReportQuery) -> i64 {
        self.count(|c| {
            q.state.is_none_or(|s| c.state() == s)
                && (!q.overdue_only || c.overdue())
                && c.has(q.reason.as_ref())
        })
    }
}

/// How long a summary is kept at most: another server process on the same
/// database may have written standings or enrolments since (this process's
/// own writes drop it at once).
pub const SUMMARY_TTL: Duration = Duration::from_secs(10);
const SUMMARY_CACHE_BYTES: usize = 2 << 20;
const RULES_CACHE_BYTES: usize = 512 << 10;

/// Summaries and group rules (with their member counts) per (tenant,
/// course), dropped by every write of a standing, an enrolment or a group
/// rule through this store ([`Db::report_changed`]), and kept for at most
/// [`SUMMARY_TTL`].
#[derive(Clone, Debug)]
pub struct ReportCache {
    summaries: Cache<(String, String), Arc<Summary>>,
    rules: Cache<(String, String), Arc<Rules>>,
}

impl Default for ReportCache {
    fn default() -> Self {
        Self {
            summaries: Cache::new("report-summaries", SUMMARY_CACHE_BYTES, SUMMARY_TTL),
            rules: Cache::new("report-group-rules", RULES_CACHE_BYTES, SUMMARY_TTL),
        }
    }
}

impl Weigh for GroupRule {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.group_name.capacity()
            + self.created_by.as_ref().map_or(0, String::capacity)
    }
}

/// Group rules as a report keeps them.
#[derive(Clone, Debug)]
pub struct Rules(pub Vec<GroupRule>);

impl Weigh for Rules {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.0.iter().map(Weigh::weigh).sum::<usize>()
    }
}

fn flag(row: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0) != 0)
}

fn status_from_row(row: &sqlx::any::AnyRow) -> Result<Option<StatusRow>, sqlx::Error> {
    if !flag(row, "has_standing")? {
        return Ok(None);
    }
    Ok(Some(StatusRow {
        account_id: row.try_get("account_id")?,
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

fn report_row_from(r: &sqlx::any::AnyRow, now_ms: i64) -> Result<ReportRow, sqlx::Error> {
    let stage: i64 = r.try_get("stage")?;
    let due_at_ms: Option<i64> = r.try_get("due_at_ms")?;
    let expires_at_ms: Option<i64> = r.try_get("expires_at_ms")?;
    Ok(ReportRow {
        account_id: r.try_get("account_id")?,
        state: state_of(stage, expires_at_ms, now_ms),
        overdue: overdue_of(stage, due_at_ms, now_ms),
        enrolled_at_ms: r.try_get("enrolled_at_ms")?,
        direct: flag(r, "direct")?,
        self_enrolled: flag(r, "self_enrolled")?,
        due_at_ms,
        status: status_from_row(r)?,
    })
}

/// Columns of one standing in [`status_upsert_sql`].
const STATUS_WIDTH: usize = 17;
/// `best_percent` goes in as a number, never a NULL parameter: sqlx's Any
/// driver declares a NULL double as float4 on PostgreSQL, and the cached
/// statement then refuses the next row's float8 ("incorrect binary data
/// format"). [`NO_SCORE`] stands for none.
const BEST_PERCENT_COLUMN: usize = 11;
/// `last_activity_ms` in [`STATUS_COLUMNS`].
const LAST_ACTIVITY_COLUMN: usize = 15;
/// Standings per statement.
const STATUSES_PER_STATEMENT: usize = 50;

/// The upsert of `n` standings; the last activity never goes back (a
/// refresh computed from fewer records keeps the later time stored). Bind
/// each row with [`status_values`].
/// The upsert of `n` standings, its parameters numbered from `first`
/// (`1` alone; more inside a larger statement).
pub(crate) fn status_upsert_sql(n: usize, first: usize) -> String {
    let mut sql = format!(
        "INSERT INTO learner_status ({}) VALUES ",
        status_column_list()
    );
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..STATUS_WIDTH {
            if c > 0 {
                sql.push_str(", ");
            }
            let n = i * STATUS_WIDTH + c + first;
            if c == BEST_PERCENT_COLUMN {
                let _ = write!(sql, "NULLIF(${n}, {NO_SCORE:.1})");
            } else {
                let _ = write!(sql, "${n}");
            }
        }
        sql.push(')');
    }
    sql.push_str(STATUS_ON_CONFLICT);
    sql
}

/// A standing's columns, in [`status_values`] order, with their types
/// (PostgreSQL's names, for [`status_upsert_from_json`]).
const STATUS_COLUMNS: [(&str, &str); STATUS_WIDTH] = [
    ("client_key", "TEXT"),
    ("course_id", "TEXT"),
    ("account_id", "TEXT"),
    ("version", "BIGINT"),
    ("cycle_start", "BIGINT"),
    ("complete", "BIGINT"),
    ("recertification_due", "BIGINT"),
    ("progress_percent", "BIGINT"),
    ("lessons_opened", "BIGINT"),
    ("quizzes_passed", "BIGINT"),
    ("attempts", "BIGINT"),
    ("best_percent", "DOUBLE PRECISION"),
    ("completed_at_ms", "BIGINT"),
    ("completed_version", "BIGINT"),
    ("expires_at_ms", "BIGINT"),
    ("last_activity_ms", "BIGINT"),
    ("started", "BIGINT"),
];

/// `client_key, course_id, …`: the column list of an upsert.
fn status_column_list() -> String {
    STATUS_COLUMNS.map(|(name, _)| name).join(", ")
}

/// How a standing replaces the stored one (the last activity only moves
/// forward).
const STATUS_ON_CONFLICT: &str = " ON CONFLICT (client_key, course_id, account_id) DO UPDATE SET \
       version = excluded.version, cycle_start = excluded.cycle_start, \
       complete = excluded.complete, \
       recertification_due = excluded.recertification_due, \
       progress_percent = excluded.progress_percent, \
       lessons_opened = excluded.lessons_opened, \
       quizzes_passed = excluded.quizzes_passed, attempts = excluded.attempts, \
       best_percent = excluded.best_percent, \
       completed_at_ms = excluded.completed_at_ms, \
       completed_version = excluded.completed_version, \
       expires_at_ms = excluded.expires_at_ms, has_standing = 1, \
       last_activity_ms = CASE \
           WHEN excluded.last_activity_ms > learner_status.last_activity_ms \
           THEN excluded.last_activity_ms ELSE learner_status.last_activity_ms END, \
       started = excluded.started";

/// PostgreSQL: the standings of `$<param>`, a JSON array of
/// [`StatusJson`], upserted as [`status_upsert_sql`] does (a batch of
/// submits, [`crate::group_commit`]).
pub(crate) fn status_upsert_from_json(param: usize) -> String {
    let select: Vec<String> = STATUS_COLUMNS
        .iter()
        .enumerate()
        .map(|(c, (name, _))| {
            if c == BEST_PERCENT_COLUMN {
                format!("NULLIF({name}, {NO_SCORE:.1})")
            } else {
                (*name).to_owned()
            }
        })
        .collect();
    let record: Vec<String> = STATUS_COLUMNS
        .iter()
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect();
    format!(
        "INSERT INTO learner_status ({}) SELECT {} \
         FROM jsonb_to_recordset(${param}::jsonb) AS s({}){STATUS_ON_CONFLICT}",
        status_column_list(),
        select.join(", "),
        record.join(", "),
    )
}

/// One standing as a row of [`status_upsert_from_json`]: its
/// [`status_values`] as a JSON object keyed by [`STATUS_COLUMNS`].
pub(crate) struct StatusJson<'a>([StatusValue<'a>; STATUS_WIDTH]);

impl<'a> StatusJson<'a> {
    pub(crate) fn new(tenant: &'a str, course_id: &'a str, r: &'a StatusRow) -> Self {
        Self(status_values(tenant, course_id, r))
    }

    /// The standing's primary key (tenant, course, learner).
    pub(crate) fn key(&self) -> [&'a str; 3] {
        [0, 1, 2].map(|c| match self.0[c] {
            StatusValue::Text(t) => t,
            _ => "",
        })
    }
}

impl serde::Serialize for StatusJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(STATUS_WIDTH))?;
        for ((name, _), v) in STATUS_COLUMNS.iter().zip(&self.0) {
            match v {
                StatusValue::Text(t) => map.serialize_entry(name, t)?,
                StatusValue::Int(i) => map.serialize_entry(name, i)?,
                StatusValue::OptInt(i) => map.serialize_entry(name, i)?,
                StatusValue::Real(f) => map.serialize_entry(name, f)?,
            }
        }
        map.end()
    }
}

/// One standing's parameters, in [`status_upsert_sql`] order.
pub(crate) enum StatusValue<'a> {
    Text(&'a str),
    Int(i64),
    OptInt(Option<i64>),
    Real(f64),
}

pub(crate) fn status_values<'a>(
    tenant: &'a str,
    course_id: &'a str,
    r: &'a StatusRow,
) -> [StatusValue<'a>; STATUS_WIDTH] {
    use StatusValue::{Int, OptInt, Real, Text};
    [
        Text(tenant),
        Text(course_id),
        Text(&r.account_id),
        Int(r.version),
        Int(r.cycle_start),
        Int(i64::from(r.complete)),
        Int(i64::from(r.recertification_due)),
        Int(r.progress_percent),
        Int(r.lessons_opened),
        Int(r.quizzes_passed),
        Int(r.attempts),
        Real(r.best_percent.unwrap_or(NO_SCORE)),
        OptInt(r.completed_at_ms),
        OptInt(r.completed_version),
        OptInt(r.expires_at_ms),
        Int(r.last_activity_ms),
        Int(i64::from(r.started)),
    ]
}

/// Stores standings (insert or replace) in the caller's transaction.
pub(crate) async fn write_statuses(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    course_id: &str,
    rows: &[StatusRow],
) -> StoreResult<()> {
    for chunk in rows.chunks(STATUSES_PER_STATEMENT) {
        // Audited: literals and numbered placeholders only.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(status_upsert_sql(chunk.len(), 1)));
        for r in chunk {
            for v in status_values(tenant, course_id, r) {
                q = match v {
                    StatusValue::Text(t) => q.bind(t),
                    StatusValue::Int(i) => q.bind(i),
                    StatusValue::OptInt(i) => q.bind(i),
                    StatusValue::Real(f) => q.bind(f),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// [`write_statuses`] of one standing on the SQLite writer's connection
/// (see `crate::writer`), writing only the columns that changed.
///
/// SQLite rewrites the entry of every index that holds a column named in
/// an `UPDATE`'s `SET`, changed or not, and the upsert names them all: a
/// submit rewrote six report indexes of `learner_status`, each a page of
/// its own written to the WAL at the commit (`perf` of `bench_submit`: the
/// upsert a sixth of the writer thread, the commit's WAL writes a quarter).
/// A submit changes the score and the last activity, sometimes the
/// progress or the completion; the rest stays as it was. The writer holds
/// the write lock for its whole batch, so the row read here is the row
/// the `UPDATE` changes.
pub(crate) fn write_status_one_hop(
    c: &rusqlite::Connection,
    tenant: &str,
    course_id: &str,
    row: &StatusRow,
) -> StoreResult<()> {
    use rusqlite::{types::Value, OptionalExtension};
    let sql_err = crate::writer::sql_err;
    let values: Vec<Value> = status_values(tenant, course_id, row)
        .into_iter()
        .enumerate()
        .map(|(col, v)| match v {
            StatusValue::Text(t) => Value::Text(t.to_owned()),
            StatusValue::Int(i) => Value::Integer(i),
            StatusValue::OptInt(i) => i.map_or(Value::Null, Value::Integer),
            // What the upsert's `NULLIF` stores.
            StatusValue::Real(f) if col == BEST_PERCENT_COLUMN && f == NO_SCORE => Value::Null,
            StatusValue::Real(f) => Value::Real(f),
        })
        .collect();
    // The statements' texts are the keys of the connection's statement
    // cache: made once per process, not per submit.
    static READ: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, has_standing FROM learner_status \
             WHERE client_key = ?1 AND course_id = ?2 AND account_id = ?3",
            STATUS_COLUMNS[3..]
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    static INSERT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| status_upsert_sql(1, 1));
    let stored: Option<Vec<Value>> = c
        .prepare_cached(&READ)
        .and_then(|mut st| {
            st.query_row((&values[0], &values[1], &values[2]), |r| {
                (0..=STATUS_WIDTH - 3)
                    .map(|i| r.get::<_, Value>(i))
                    .collect()
            })
            .optional()
        })
        .map_err(sql_err)?;
    let Some(stored) = stored else {
        c.prepare_cached(&INSERT)
            .and_then(|mut st| st.execute(rusqlite::params_from_iter(&values)))
            .map_err(sql_err)?;
        return Ok(());
    };
    let mut set = Vec::new();
    let mut binds: Vec<&Value> = values[..3].iter().collect();
    for (col, new) in values.iter().enumerate().skip(3) {
        let old = &stored[col - 3];
        let new = match (col == LAST_ACTIVITY_COLUMN, old, new) {
            // The last activity only moves forward.
            (true, Value::Integer(o), Value::Integer(n)) if o >= n => old,
            _ => new,
        };
        if new != old {
            binds.push(new);
            set.push(format!("{} = ?{}", STATUS_COLUMNS[col].0, binds.len()));
        }
    }
    if stored[STATUS_WIDTH - 3] != Value::Integer(1) {
        set.push("has_standing = 1".to_owned());
    }
    if set.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE learner_status SET {} \
         WHERE client_key = ?1 AND course_id = ?2 AND account_id = ?3",
        set.join(", ")
    );
    c.prepare_cached(&sql)
        .and_then(|mut st| st.execute(rusqlite::params_from_iter(binds)))
        .map_err(sql_err)?;
    Ok(())
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
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        write_statuses(&mut tx, tenant.as_str(), course_id, rows).await?;
        tx.commit().await?;
        self.report_changed(tenant, course_id);
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
            // Two ranges rather than `<>` (or an OR of both, which SQLite
            // reads through the primary key): both databases then read only
            // the stale entries of `learner_status_stale`.
            "SELECT account_id FROM ( \
                SELECT account_id FROM learner_status \
                WHERE client_key = $1 AND course_id = $2 AND has_standing = 1 AND version < $3 \
                UNION ALL \
                SELECT account_id FROM learner_status \
                WHERE client_key = $1 AND course_id = $2 AND has_standing = 1 AND version > $3) v \
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
                                 AND s.account_id = r.account_id AND s.has_standing = 1) \
             ORDER BY account_id LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Forgets what is kept in memory about a course's report: called after
    /// every committed write of its standings or enrolments.
    pub(crate) fn report_changed(&self, tenant: &TenantKey, course_id: &str) {
        let key = (tenant.as_str().to_owned(), course_id.to_owned());
        self.reports.summaries.invalidate(&key);
        self.reports.rules.invalidate(&key);
    }

    /// [`Db::report_changed`] for every course (erasure and purge, which
    /// span courses).
    pub(crate) fn reports_changed(&self) {
        self.reports.summaries.clear();
        self.reports.rules.clear();
    }

    /// [`Db::group_rules`] for a report: kept like the counts (see
    /// [`ReportCache`]), since counting each rule's members reads them all.
    pub async fn report_group_rules(
        &self,
        tenant: &TenantKey,
        course_id: &str,
    ) -> StoreResult<Arc<Rules>> {
        let key = (tenant.as_str().to_owned(), course_id.to_owned());
        if let Some(rules) = self.reports.rules.get(&key) {
            return Ok(rules);
        }
        let seen = self.reports.rules.generation();
        let rules = Arc::new(Rules(self.group_rules(tenant, course_id).await?));
        self.reports
            .rules
            .insert_if_current(key, rules.clone(), seen);
        Ok(rules)
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
        let mut sql = Sql::new();
        select_rows(&mut sql, tenant, course_id);
        let a = sql.text(account_id);
        let _ = write!(sql.text, " AND s.account_id = {a}");
        let rows = sql.fetch_all(self).await?;
        rows.first()
            .map(|r| report_row_from(r, now_ms))
            .transpose()
            .map_err(Into::into)
    }

    /// The course's summary as of `now_ms`: kept, or read now.
    async fn summary(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        now_ms: i64,
    ) -> StoreResult<Arc<Summary>> {
        let key = (tenant.as_str().to_owned(), course_id.to_owned());
        if let Some(s) = self.reports.summaries.get(&key) {
            if s.now_ms <= now_ms && now_ms < s.until_ms {
                return Ok(s);
            }
        }
        // Taken before reading: a write committed meanwhile keeps what is
        // read now out of the cache.
        let seen = self.reports.summaries.generation();
        let rows = sqlx::query(
            "SELECT s.stage AS g_stage, \
                    CASE WHEN s.due_at_ms IS NULL THEN 0 WHEN s.due_at_ms < $3 THEN 1 ELSE 2 END \
                      AS g_due, \
                    CASE WHEN s.expires_at_ms <= $3 THEN 1 ELSE 0 END AS g_lapsed, \
                    CASE WHEN s.enrolled_at_ms IS NULL THEN 0 ELSE 1 END AS g_enrolled, \
                    s.direct AS g_direct, s.self_enrolled AS g_self, COUNT(*) AS n, \
                    MIN(CASE WHEN s.stage < 3 AND s.due_at_ms >= $3 THEN s.due_at_ms END) \
                      AS next_due, \
                    MIN(CASE WHEN s.stage = 3 AND s.expires_at_ms > $3 THEN s.expires_at_ms END) \
                      AS next_expiry \
             FROM learner_status s WHERE s.client_key = $1 AND s.course_id = $2 \
             GROUP BY g_stage, g_due, g_lapsed, g_enrolled, g_direct, g_self",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        let mut cells = Vec::with_capacity(rows.len());
        // A due date at `d` makes its learner overdue once the clock is past
        // it; a certificate expiring at `e` has expired once it reaches it.
        let mut until_ms = i64::MAX;
        for r in &rows {
            let cell = Cell {
                stage: r.try_get("g_stage")?,
                due: r.try_get::<i64, _>("g_due")?.clamp(0, 2) as usize,
                lapsed: flag(r, "g_lapsed")?,
                enrolled: flag(r, "g_enrolled")?,
                direct: flag(r, "g_direct")?,
                self_enrolled: flag(r, "g_self")?,
            };
            cells.push((cell, r.try_get::<i64, _>("n")?));
            if let Some(d) = r.try_get::<Option<i64>, _>("next_due")? {
                until_ms = until_ms.min(d.saturating_add(1));
            }
            if let Some(e) = r.try_get::<Option<i64>, _>("next_expiry")? {
                until_ms = until_ms.min(e);
            }
        }
        let per_day = sqlx::query(
            "SELECT (completed_at_ms / $3) * $3 AS day, COUNT(*) AS n FROM learner_status \
             WHERE client_key = $1 AND course_id = $2 AND completed_at_ms IS NOT NULL \
               AND complete = 1 \
             GROUP BY (completed_at_ms / $3) * $3 ORDER BY day",
        )
        .bind(tenant.as_str())
        .bind(course_id)
        .bind(crate::enrolments::DAY_MS)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("day")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?;
        let summary = Arc::new(Summary {
            cells,
            per_day,
            now_ms,
            until_ms,
        });
        self.reports
            .summaries
            .insert_if_current(key, summary.clone(), seen);
        Ok(summary)
    }

    /// One page of a course's report (see the module docs).
    pub async fn report_page(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        q: &ReportQuery,
    ) -> StoreResult<ReportPage> {
        let limit = q.limit.clamp(1, 1000);
        let offset = q.offset.max(0);
        if matches!(q.reason, Some(ReasonFilter::Group(_))) || q.accounts.is_some() {
            return self.report_page_scan(tenant, course_id, q).await;
        }
        let summary = self.summary(tenant, course_id, q.now_ms).await?;
        let total = summary.total(q);
        let mut rows = Vec::new();
        if offset < total {
            match column_of(q.sort) {
                None => {
                    self.attention_page(tenant, course_id, q, &summary, &mut rows)
                        .await?
                }
                Some(col) => {
                    self.column_page(tenant, course_id, q, &col, limit, offset, &mut rows)
                        .await?
                }
            }
        }
        Ok(ReportPage { rows, total })
    }

    /// "Needs attention", filtered by state and/or "overdue" at most: the
    /// ranges the page overlaps, each read along `learner_status_attention`
    /// (sizes from the summary).
    async fn attention_page(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        q: &ReportQuery,
        summary: &Summary,
        out: &mut Vec<ReportRow>,
    ) -> StoreResult<()> {
        let mut groups = attention_groups();
        if q.descending {
            groups.reverse();
        }
        let ranges = groups
            .into_iter()
            .flatten()
            .filter(|r| q.state.is_none_or(|s| r.state() == s))
            .filter(|r| !q.overdue_only || r.overdue());
        let limit = q.limit.clamp(1, 1000);
        let mut skip = q.offset.max(0);
        for range in ranges {
            let want = limit - out.len() as i64;
            if want <= 0 {
                break;
            }
            let size = summary.count(|c| range.holds(c) && c.has(q.reason.as_ref()));
            if skip >= size {
                skip -= size;
                continue;
            }
            let mut sql = Sql::new();
            select_rows(&mut sql, tenant, course_id);
            let now = sql.int(q.now_ms);
            let dir = if q.descending { " DESC" } else { "" };
            let order = if range.due == DUE_NONE {
                format!("s.account_id{dir}")
            } else {
                format!("s.due_at_ms{dir}, s.account_id{dir}")
            };
            let (lim, off) = (sql.int(want), sql.int(skip));
            let reason = reason_sql(q.reason.as_ref(), "");
            let _ = write!(
                sql.text,
                " AND {}{reason} ORDER BY {order} LIMIT {lim} OFFSET {off}",
                range.condition(&now)
            );
            for r in sql.fetch_all(self).await? {
                out.push(report_row_from(&r, q.now_ms)?);
            }
            skip = 0;
        }
        Ok(())
    }

    /// Any other order, filtered by state and/or "overdue" at most: the
    /// column's index, first the rows with a value, then (if the page gets
    /// there) those without.
    #[allow(clippy::too_many_arguments)]
    async fn column_page(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        q: &ReportQuery,
        col: &Column,
        limit: i64,
        offset: i64,
        out: &mut Vec<ReportRow>,
    ) -> StoreResult<()> {
        let dir = if q.descending { " DESC" } else { "" };
        let filtered = |sql: &mut Sql| {
            select_rows(sql, tenant, course_id);
            let now = sql.int(q.now_ms);
            if let Some(s) = q.state {
                let _ = write!(sql.text, " AND {}", state_sql(s, &now, "+"));
            }
            if q.overdue_only {
                let _ = write!(sql.text, " AND {}", overdue_sql(&now, "+"));
            }
            sql.text.push_str(&reason_sql(q.reason.as_ref(), "+"));
        };
        let mut sql = Sql::new();
        filtered(&mut sql);
        let (lim, off) = (sql.int(limit), sql.int(offset));
        let _ = write!(
            sql.text,
            " AND {} ORDER BY {}{dir}, s.account_id{dir} LIMIT {lim} OFFSET {off}",
            col.present, col.column
        );
        for r in sql.fetch_all(self).await? {
            out.push(report_row_from(&r, q.now_ms)?);
        }
        let Some(absent) = col.absent else {
            return Ok(());
        };
        if out.len() as i64 >= limit {
            return Ok(());
        }
        // The page reaches the rows without a value: how many come before?
        let mut count = Sql::new();
        filtered(&mut count);
        count.text = format!(
            "SELECT COUNT(*) AS n FROM ({} AND {}) c",
            count.text, col.present
        );
        let with_value: i64 = count
            .fetch_all(self)
            .await?
            .first()
            .map(|r| r.try_get("n"))
            .transpose()?
            .unwrap_or(0);
        let mut sql = Sql::new();
        filtered(&mut sql);
        let (lim, off) = (
            sql.int(limit - out.len() as i64),
            sql.int((offset - with_value).max(0)),
        );
        let _ = write!(
            sql.text,
            " AND {absent} ORDER BY s.account_id{dir} LIMIT {lim} OFFSET {off}"
        );
        for r in sql.fetch_all(self).await? {
            out.push(report_row_from(&r, q.now_ms)?);
        }
        Ok(())
    }

    /// A page filtered by reason or by a name search: one query over the
    /// course's rows (or the people found), with its count.
    async fn report_page_scan(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        q: &ReportQuery,
    ) -> StoreResult<ReportPage> {
        if q.accounts.as_ref().is_some_and(Vec::is_empty) {
            return Ok(ReportPage::default());
        }
        let filtered = |sql: &mut Sql| {
            select_rows(sql, tenant, course_id);
            let now = sql.int(q.now_ms);
            if let Some(s) = q.state {
                let _ = write!(sql.text, " AND {}", state_sql(s, &now, ""));
            }
            if q.overdue_only {
                let _ = write!(sql.text, " AND {}", overdue_sql(&now, ""));
            }
            match &q.reason {
                // Read from the group's members, not the whole course.
                Some(ReasonFilter::Group(g)) => {
                    let (t, c, g) = (sql.text(tenant.as_str()), sql.text(course_id), sql.text(g));
                    let _ = write!(
                        sql.text,
                        " AND s.account_id IN (SELECT g.account_id FROM enrolment_groups g \
                           WHERE g.client_key = {t} AND g.course_id = {c} AND g.group_name = {g})"
                    );
                }
                other => sql.text.push_str(&reason_sql(other.as_ref(), "")),
            }
            if let Some(accounts) = &q.accounts {
                let list: Vec<String> = accounts.iter().map(|a| sql.text(a)).collect();
                let _ = write!(sql.text, " AND s.account_id IN ({})", list.join(", "));
            }
            now
        };
        let mut count = Sql::new();
        filtered(&mut count);
        count.text = format!("SELECT COUNT(*) AS n FROM ({}) c", count.text);
        let total: i64 = count
            .fetch_all(self)
            .await?
            .first()
            .map(|r| r.try_get("n"))
            .transpose()?
            .unwrap_or(0);
        let mut sql = Sql::new();
        let now = filtered(&mut sql);
        let order = match column_of(q.sort) {
            None => attention_order(&now, q.descending),
            Some(col) => {
                let dir = if q.descending { " DESC" } else { "" };
                match col.absent {
                    Some(absent) => format!(
                        "CASE WHEN {absent} THEN 1 ELSE 0 END, {}{dir}, s.account_id{dir}",
                        col.column
                    ),
                    None => format!("{}{dir}, s.account_id{dir}", col.column),
                }
            }
        };
        let (lim, off) = (sql.int(q.limit.clamp(1, 1000)), sql.int(q.offset.max(0)));
        let _ = write!(sql.text, " ORDER BY {order} LIMIT {lim} OFFSET {off}");
        let rows = sql
            .fetch_all(self)
            .await?
            .iter()
            .map(|r| report_row_from(r, q.now_ms))
            .collect::<Result<_, _>>()?;
        Ok(ReportPage { rows, total })
    }

    /// Counts over all of a course's learners (totals and status chart).
    pub async fn report_counts(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        now_ms: i64,
    ) -> StoreResult<ReportCounts> {
        Ok(self.summary(tenant, course_id, now_ms).await?.counts())
    }

    /// Completions of the current cycle per UTC day: `(day start (epoch
    /// ms), count)` (kept with the counts, see [`Db::report_counts`]).
    pub async fn completions_per_day(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        now_ms: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        Ok(self
            .summary(tenant, course_id, now_ms)
            .await?
            .per_day
            .clone())
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

    /// Per course (of `course_ids`): enrolled, in progress, completed,
    /// overdue (from each course's summary).
    pub async fn course_counts(
        &self,
        tenant: &TenantKey,
        course_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Vec<CourseCounts>> {
        let mut out = Vec::with_capacity(course_ids.len());
        for id in course_ids {
            let c = self.summary(tenant, id, now_ms).await?.counts();
            out.push(CourseCounts {
                course_id: id.clone(),
                enrolled: c.enrolled,
                in_progress: c.in_progress + c.recertification_due,
                completed: c.completed + c.expired,
                overdue: c.overdue,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod one_hop_tests {
    use rusqlite::{types::Value, Connection};

    use super::*;

    /// A database with the schema the migrations make.
    fn schema() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for f in files {
            c.execute_batch(&std::fs::read_to_string(f).unwrap())
                .unwrap();
        }
        c
    }

    /// The stored row, every column (the generated stage too).
    fn stored(c: &Connection) -> Vec<Value> {
        c.query_row(
            "SELECT * FROM learner_status WHERE account_id = 'a'",
            [],
            |r| (0..r.as_ref().column_count()).map(|i| r.get(i)).collect(),
        )
        .unwrap()
    }

    /// The full upsert, as `write_statuses` runs it.
    fn upsert(c: &Connection, row: &StatusRow) {
        let values = status_values("t", "c", row).map(|v| match v {
            StatusValue::Text(t) => Value::Text(t.to_owned()),
            StatusValue::Int(i) => Value::Integer(i),
            StatusValue::OptInt(i) => i.map_or(Value::Null, Value::Integer),
            StatusValue::Real(f) => Value::Real(f),
        });
        c.execute(&status_upsert_sql(1, 1), rusqlite::params_from_iter(values))
            .unwrap();
    }

    /// Writing only what changed leaves the row the full upsert leaves,
    /// step by step: the first standing, a submit's changes, a standing
    /// computed from fewer records (the last activity stays), the same
    /// standing again, and a row an enrolment made (`has_standing` 0).
    #[test]
    fn the_changed_columns_alone_give_the_upserts_row() {
        assert_eq!(STATUS_COLUMNS[LAST_ACTIVITY_COLUMN].0, "last_activity_ms");
        assert_eq!(STATUS_COLUMNS[BEST_PERCENT_COLUMN].0, "best_percent");
        let first = StatusRow {
            account_id: "a".into(),
            version: 1,
            cycle_start: 0,
            complete: false,
            recertification_due: false,
            progress_percent: 0,
            lessons_opened: 0,
            quizzes_passed: 0,
            attempts: 1,
            best_percent: None,
            completed_at_ms: None,
            completed_version: None,
            expires_at_ms: None,
            last_activity_ms: 1_000,
            started: true,
        };
        let submitted = StatusRow {
            complete: true,
            progress_percent: 100,
            quizzes_passed: 1,
            best_percent: Some(80.0),
            completed_at_ms: Some(2_000),
            completed_version: Some(1),
            expires_at_ms: Some(9_000),
            last_activity_ms: 2_000,
            ..first.clone()
        };
        let older = StatusRow {
            last_activity_ms: 1_500,
            best_percent: Some(60.0),
            ..submitted.clone()
        };
        let (full, changed) = (schema(), schema());
        for c in [&full, &changed] {
            c.execute_batch(
                "INSERT INTO learner_status (client_key, course_id, account_id, version, \
                 cycle_start, complete, recertification_due, progress_percent, \
                 lessons_opened, quizzes_passed, attempts, last_activity_ms, started, \
                 has_standing, enrolled_at_ms) \
                 VALUES ('t', 'c', 'other', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5)",
            )
            .unwrap();
        }
        for row in [&first, &submitted, &older, &older, &first] {
            upsert(&full, row);
            write_status_one_hop(&changed, "t", "c", row).unwrap();
            assert_eq!(stored(&changed), stored(&full), "after {row:?}");
        }
        assert_eq!(stored(&changed)[15], Value::Integer(2_000));
        // An enrolled learner's row without a standing yet.
        let enrolled = StatusRow {
            account_id: "other".into(),
            ..submitted.clone()
        };
        upsert(&full, &enrolled);
        write_status_one_hop(&changed, "t", "c", &enrolled).unwrap();
        let other = |c: &Connection| -> Vec<Value> {
            c.query_row(
                "SELECT * FROM learner_status WHERE account_id = 'other'",
                [],
                |r| (0..r.as_ref().column_count()).map(|i| r.get(i)).collect(),
            )
            .unwrap()
        };
        assert_eq!(other(&changed), other(&full));
    }
}
