//! Space-admin server functions (`/api/space-admin/*`) and their DTOs: the
//! courses of the space, enrolments and due dates, the reports, per-question
//! analytics, the audit log, CSV exports.
//!
//! Only space administrators (a [`SpaceAdmin`](crate::api::guards::SpaceAdmin)
//! guard: checked with Confluence per request, cached briefly); the space
//! comes from the verified token, never from the request, and a course of
//! another space — or of another site — is "not found". Every change is
//! written to the audit log. The functions are thin: a guard, then one call
//! into [`super::service`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use course::learning::analytics::{ChoiceCounts, Flag, OptionCount, QuestionStats};
use course::{
    ids::{AccountId, CourseId, GroupName},
    model::{AccessMode, Correctness},
};

use crate::{client::ApClient, error::AppError};

/// Most learners one enrol, unenrol or due-date call changes.
pub const MAX_BULK: usize = 1_000;

/// Largest report page.
pub const MAX_PAGE_SIZE: u32 = 200;

// ---------------------------------------------------------------------------
// The space overview
// ---------------------------------------------------------------------------

/// One course in the space, as the overview lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceCourseRow {
    pub id: String,
    /// The page's title (from Confluence), else the course's own.
    pub title: String,
    /// The course's title as its author wrote it.
    pub course_title: String,
    /// The page whose macro holds the course.
    pub page_id: String,
    /// The page's address in Confluence, when it could say.
    pub page_url: Option<String>,
    /// `None` while the course is only a draft.
    pub latest_version: Option<i64>,
    pub access: AccessMode,
    /// Seconds since the Unix epoch.
    pub updated_at: i64,
    pub enrolled: u32,
    pub in_progress: u32,
    pub completed: u32,
    pub overdue: u32,
}

/// The courses of the space the tab is open in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceOverview {
    pub space_key: String,
    /// One page of the space's courses, by title.
    pub courses: Vec<SpaceCourseRow>,
    /// Courses in the space, over all pages.
    pub total: u32,
    pub page: u32,
    pub page_size: u32,
    /// Group rules whose members could not be read from Confluence just now
    /// (`course title: group`); their enrolments are as of the last sync.
    pub sync_failures: Vec<String>,
}

// ---------------------------------------------------------------------------
// The course report
// ---------------------------------------------------------------------------

/// Where a learner stands on a course.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LearnerState {
    /// Enrolled; nothing done yet.
    NotStarted,
    /// Started (opened a lesson or began a quiz), not complete.
    InProgress,
    /// Complete in the current re-certification cycle; certificate valid.
    Completed,
    /// Complete, but the certificate's validity has run out.
    Expired,
    /// Passed on a version older than the latest material change and not
    /// complete on the current one.
    RecertificationDue,
}

impl LearnerState {
    pub const ALL: [LearnerState; 5] = [
        LearnerState::NotStarted,
        LearnerState::InProgress,
        LearnerState::Completed,
        LearnerState::Expired,
        LearnerState::RecertificationDue,
    ];

    /// As the report (and the CSV) says it.
    pub fn label(self) -> &'static str {
        match self {
            LearnerState::NotStarted => "Not started",
            LearnerState::InProgress => "In progress",
            LearnerState::Completed => "Completed",
            LearnerState::Expired => "Certificate expired",
            LearnerState::RecertificationDue => "Re-certification due",
        }
    }

    /// The state's name in a language.
    pub fn text(self, loc: crate::locale::Locale) -> &'static str {
        match self {
            LearnerState::NotStarted => leptos_i18n::td_string!(loc, state.not_started),
            LearnerState::InProgress => leptos_i18n::td_string!(loc, state.in_progress),
            LearnerState::Completed => leptos_i18n::td_string!(loc, state.completed),
            LearnerState::Expired => leptos_i18n::td_string!(loc, state.expired),
            LearnerState::RecertificationDue => {
                leptos_i18n::td_string!(loc, state.recertification_due)
            }
        }
    }

    /// A stable code (filters in the page's address, tests).
    pub fn code(self) -> &'static str {
        match self {
            LearnerState::NotStarted => "not_started",
            LearnerState::InProgress => "in_progress",
            LearnerState::Completed => "completed",
            LearnerState::Expired => "expired",
            LearnerState::RecertificationDue => "recertification_due",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Why a learner is in a report (filter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReasonFilter {
    /// Enrolled by an admin.
    Direct,
    /// Enrolled through this group rule.
    Group(GroupName),
    /// Enrolled themselves.
    SelfEnrolled,
    /// Enrolled for any reason.
    Enrolled,
    /// Took part in an open course without an enrolment.
    NotEnrolled,
}

/// The report's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportSort {
    /// Overdue first, then not started, in progress, …, completed; then due date.
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
    pub const ALL: [ReportSort; 7] = [
        ReportSort::Attention,
        ReportSort::Progress,
        ReportSort::DueDate,
        ReportSort::LastActivity,
        ReportSort::CompletedAt,
        ReportSort::BestScore,
        ReportSort::EnrolledAt,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ReportSort::Attention => "Needs attention",
            ReportSort::Progress => "Progress",
            ReportSort::DueDate => "Due date",
            ReportSort::LastActivity => "Last activity",
            ReportSort::CompletedAt => "Completed",
            ReportSort::BestScore => "Best score",
            ReportSort::EnrolledAt => "Enrolled",
        }
    }

    /// The sort's name in a language.
    pub fn text(self, loc: crate::locale::Locale) -> &'static str {
        use leptos_i18n::td_string;
        match self {
            ReportSort::Attention => td_string!(loc, sort.attention),
            ReportSort::Progress => td_string!(loc, sort.progress),
            ReportSort::DueDate => td_string!(loc, sort.due_date),
            ReportSort::LastActivity => td_string!(loc, sort.last_activity),
            ReportSort::CompletedAt => td_string!(loc, sort.completed),
            ReportSort::BestScore => td_string!(loc, sort.best_score),
            ReportSort::EnrolledAt => td_string!(loc, sort.enrolled),
        }
    }
}

/// What a report page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub state: Option<LearnerState>,
    pub overdue_only: bool,
    pub reason: Option<ReasonFilter>,
    /// Part of a learner's name: resolved through Confluence's user search.
    pub search: String,
    pub sort: ReportSort,
    pub descending: bool,
    /// 0-based.
    pub page: u32,
    /// 1..=[`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

impl Default for ReportQuery {
    fn default() -> Self {
        Self {
            state: None,
            overdue_only: false,
            reason: None,
            search: String::new(),
            sort: ReportSort::default(),
            descending: false,
            page: 0,
            page_size: 50,
        }
    }
}

/// Why a learner is enrolled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentReasons {
    /// An admin enrolled them.
    pub direct: bool,
    /// They enrolled themselves.
    pub self_enrolled: bool,
    /// Group rules that cover them.
    pub groups: Vec<String>,
}

/// One learner in a course report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerRow {
    pub account_id: String,
    /// From Confluence; `None` when it could not say (show the account id).
    pub name: Option<String>,
    pub state: LearnerState,
    /// A due date passed and the course is not complete.
    pub overdue: bool,
    /// `None`: not enrolled (took part in an open course).
    pub enrolled_at_ms: Option<i64>,
    pub reasons: EnrolmentReasons,
    pub due_at_ms: Option<i64>,
    /// Lessons opened and quizzes passed, of the latest version, 0..=100.
    pub progress_percent: u8,
    pub lessons_opened: u32,
    pub quizzes_passed: u32,
    /// Quiz attempts in the current cycle.
    pub attempts: u32,
    pub best_percent: Option<f64>,
    /// Of the current cycle's completion (epoch ms).
    pub completed_at_ms: Option<i64>,
    /// The course version the completion was recorded against.
    pub completed_version: Option<i64>,
    pub expires_at_ms: Option<i64>,
    pub last_activity_ms: Option<i64>,
    /// Answers that arrived after their attempt's time limit (kept offline
    /// by the learner's browser) and were counted.
    pub late_answers: u32,
}

/// Counts over all of a course's learners.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    pub learners: u32,
    pub enrolled: u32,
    pub not_started: u32,
    pub in_progress: u32,
    pub completed: u32,
    pub expired: u32,
    pub recertification_due: u32,
    pub overdue: u32,
}

/// A group rule's due date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DueRule {
    #[default]
    None,
    /// A fixed date (epoch ms).
    At(i64),
    /// This many days after the rule enrolled the learner.
    DaysAfter(u32),
}

/// A group rule of a course.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRuleRow {
    pub group: String,
    pub due: DueRule,
    /// Learners it covers now.
    pub members: u32,
    pub synced_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// The course a report is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseHeader {
    pub course_id: String,
    /// The page's title, else the course's.
    pub title: String,
    pub course_title: String,
    pub page_id: String,
    pub page_url: Option<String>,
    /// The latest published version; `None`: never published.
    pub version: Option<i64>,
    /// The version the current re-certification cycle started with.
    pub cycle_start: Option<i64>,
    pub access: AccessMode,
    pub lessons_total: u32,
    pub quizzes_total: u32,
}

/// One page of a course's report (`space-admin/course-report`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseReport {
    pub course: CourseHeader,
    pub counts: ReportCounts,
    /// Server-rendered SVG (no script), with a title and description that
    /// screen readers read.
    pub completion_chart_svg: String,
    pub status_chart_svg: String,
    pub rows: Vec<LearnerRow>,
    /// Rows matching the filters, over all pages.
    pub total: u32,
    pub page: u32,
    pub page_size: u32,
    pub groups: Vec<GroupRuleRow>,
    /// A note about the name search (e.g. how many people it looked at).
    pub search_note: Option<String>,
}

// ---------------------------------------------------------------------------
// One learner
// ---------------------------------------------------------------------------

/// One answer of an attempt, as the admin sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerDetail {
    pub question_id: String,
    /// Rendered and sanitised on the server.
    pub prompt_html: String,
    /// The learner's answer as lines of text; empty: not answered.
    pub answer: Vec<String>,
    /// The correct answer as lines of text.
    pub correct_answer: Vec<String>,
    pub correct: Option<Correctness>,
    pub score: f64,
    pub max: f64,
    pub answered_at_ms: Option<i64>,
    /// Arrived after the time limit (from the offline journal) and counted.
    pub late: bool,
}

/// One attempt of a learner with its answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptDetail {
    pub attempt_id: String,
    pub module_title: String,
    pub number: u32,
    pub course_version: i64,
    pub current_cycle: bool,
    pub started_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub percent: Option<f64>,
    pub passed: Option<bool>,
    pub answers: Vec<AnswerDetail>,
}

/// A learner's standing and every attempt (`space-admin/learner`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerDetail {
    pub course: CourseHeader,
    pub row: LearnerRow,
    /// As Confluence shares it with the app (ACCESS_EMAIL_ADDRESSES).
    pub email: Option<String>,
    /// Newest first.
    pub attempts: Vec<AttemptDetail>,
}

// ---------------------------------------------------------------------------
// Enrolments
// ---------------------------------------------------------------------------

/// A person found in Confluence's user search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserHit {
    pub account_id: String,
    pub name: String,
    /// When Confluence shares it.
    pub email: Option<String>,
}

/// What an enrol call did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolOutcome {
    /// Newly enrolled.
    pub added: u32,
    /// Already enrolled (their reasons and due dates were updated).
    pub already: u32,
    /// Members of a group (group rules only).
    pub members: Option<u32>,
}

/// What an unenrol did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnenrolOutcome {
    pub removed: u32,
    /// Learners who stay enrolled through a group rule (account ids).
    pub kept_by_group: Vec<String>,
}

/// What a group sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub added: u32,
    pub removed: u32,
    /// Groups whose members Confluence could not list (unchanged).
    pub failed: Vec<String>,
}

// ---------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------

/// A flag in words, as the analytics view and its CSV say it.
pub fn flag_text(loc: crate::locale::Locale, f: &Flag) -> String {
    use crate::locale::fill;
    use leptos_i18n::td_string;
    match f {
        Flag::NegativeDiscrimination => td_string!(loc, flag.negative).into(),
        Flag::TooEasy => td_string!(loc, flag.too_easy).into(),
        Flag::TooHard => td_string!(loc, flag.too_hard).into(),
        Flag::UnchosenDistractor { option } => {
            fill(td_string!(loc, flag.unchosen), &[&(option + 1)])
        }
        Flag::CorrectOptionRarelyChosen { option } => {
            fill(td_string!(loc, flag.correct_rare), &[&(option + 1)])
        }
    }
}

/// One question's analysis, with the question as the learners saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionAnalytics {
    pub question_id: String,
    /// Plain text of the prompt (first line, shortened).
    pub prompt: String,
    /// The question kind, as the editor names it.
    pub kind: String,
    pub stats: QuestionStats,
}

/// One quiz's analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuizAnalytics {
    pub module_id: String,
    pub module_title: String,
    /// Submitted attempts analysed.
    pub attempts: u32,
    pub questions: Vec<QuestionAnalytics>,
}

/// Per-question analytics of one course version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseAnalytics {
    pub course_id: String,
    pub version: i64,
    /// Every published version (newest first), to pick another.
    pub versions: Vec<i64>,
    pub quizzes: Vec<QuizAnalytics>,
    /// When the figures were computed (epoch ms): they are reused for a
    /// short while under heavy submitting.
    pub computed_at_ms: i64,
}

// ---------------------------------------------------------------------------
// The audit log
// ---------------------------------------------------------------------------

/// One audit log entry, as the admin reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at_ms: i64,
    /// The account that acted; `None`: the group sync or another job.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    /// A sentence saying what happened.
    pub summary: String,
    pub course_id: Option<String>,
    pub course_title: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditRow>,
    /// Pass as `before` for the next (older) page; `None`: no more.
    pub next_before: Option<i64>,
}

// ---------------------------------------------------------------------------
// Support access
// ---------------------------------------------------------------------------

/// Longest support access one grant gives (7 days).
pub const MAX_SUPPORT_HOURS: u32 = 168;

/// A grant of support access to the space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportGrantRow {
    pub id: i64,
    /// The space admin who granted it.
    pub granted_by: String,
    pub reason: String,
    pub granted_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// In force now.
    pub active: bool,
}

// ---------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------

/// `POST /api/space-admin/overview` — a page (0-based) of the courses of the
/// caller's space with page titles, links and counts. Group rules are synced first (briefly
/// waited for), so people who joined a group since show up at once.
#[server(name = SpaceOverviewFn, endpoint = "space-admin/overview", client = ApClient)]
pub async fn space_overview(page: u32) -> Result<SpaceOverview, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::overview(&admin, page).await
}

/// `POST /api/space-admin/course-report` (JSON) — one page of a course's
/// learners, filtered and sorted on the server, with counts and charts.
#[server(name = CourseReportFn, endpoint = "space-admin/course-report", client = ApClient, input = server_fn::codec::Json)]
pub async fn course_report(
    course_id: CourseId,
    query: ReportQuery,
) -> Result<CourseReport, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::report(&admin, &course_id, &query).await
}

/// `POST /api/space-admin/learner` — one learner's standing and every
/// attempt with its answers and score.
#[server(name = LearnerDetailFn, endpoint = "space-admin/learner", client = ApClient)]
pub async fn learner_detail(
    course_id: CourseId,
    account_id: AccountId,
) -> Result<LearnerDetail, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::learner(&admin, &course_id, &account_id).await
}

/// `POST /api/space-admin/search-users` — people whose name matches, from
/// Confluence's user search (with e-mail where Confluence shares it).
#[server(name = SearchUsersFn, endpoint = "space-admin/search-users", client = ApClient)]
pub async fn search_users(query: String) -> Result<Vec<UserHit>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::search_users(&admin, &query).await
}

/// `POST /api/space-admin/search-groups` — Confluence groups whose name matches.
#[server(name = SearchGroupsFn, endpoint = "space-admin/search-groups", client = ApClient)]
pub async fn search_groups(query: String) -> Result<Vec<String>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::search_groups(&admin, &query).await
}

/// `POST /api/space-admin/enrol` (JSON) — enrol people directly, with an
/// optional due date (epoch ms) for each of them.
#[server(name = EnrolUsersFn, endpoint = "space-admin/enrol", client = ApClient, input = server_fn::codec::Json)]
pub async fn enrol_users(
    course_id: CourseId,
    account_ids: Vec<AccountId>,
    due_at_ms: Option<i64>,
) -> Result<EnrolOutcome, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::enrol_users(&admin, &course_id, &account_ids, due_at_ms).await
}

/// `POST /api/space-admin/enrol-group` (JSON) — add (or change the due date
/// of) a group rule and enrol its members now.
#[server(name = EnrolGroupFn, endpoint = "space-admin/enrol-group", client = ApClient, input = server_fn::codec::Json)]
pub async fn enrol_group(
    course_id: CourseId,
    group: GroupName,
    due: DueRule,
) -> Result<EnrolOutcome, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::enrol_group(&admin, &course_id, &group, due).await
}

/// `POST /api/space-admin/unenrol` (JSON) — remove people's direct and
/// self enrolments (those a group rule covers stay, and are named).
#[server(name = UnenrolFn, endpoint = "space-admin/unenrol", client = ApClient, input = server_fn::codec::Json)]
pub async fn unenrol(
    course_id: CourseId,
    account_ids: Vec<AccountId>,
) -> Result<UnenrolOutcome, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::unenrol(&admin, &course_id, &account_ids).await
}

/// `POST /api/space-admin/remove-group` — remove a group rule (its members
/// no other reason covers are unenrolled).
#[server(name = RemoveGroupFn, endpoint = "space-admin/remove-group", client = ApClient)]
pub async fn remove_group(
    course_id: CourseId,
    group: GroupName,
) -> Result<UnenrolOutcome, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::remove_group(&admin, &course_id, &group).await
}

/// `POST /api/space-admin/set-due` (JSON) — set or clear (`None`: follow the
/// group rules again) the due date of people's enrolments.
#[server(name = SetDueFn, endpoint = "space-admin/set-due", client = ApClient, input = server_fn::codec::Json)]
pub async fn set_due(
    course_id: CourseId,
    account_ids: Vec<AccountId>,
    due_at_ms: Option<i64>,
) -> Result<u32, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::set_due(&admin, &course_id, &account_ids, due_at_ms).await
}

/// `POST /api/space-admin/sync-groups` — read every group rule's members
/// from Confluence now.
#[server(name = SyncGroupsFn, endpoint = "space-admin/sync-groups", client = ApClient)]
pub async fn sync_groups(course_id: CourseId) -> Result<SyncOutcome, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::sync_course_groups(&admin, &course_id).await
}

/// `POST /api/space-admin/analytics` — per-question analytics of a course
/// version (the latest when `version` is `None`).
#[server(name = SpaceAnalyticsFn, endpoint = "space-admin/analytics", client = ApClient)]
pub async fn course_analytics(
    course_id: CourseId,
    version: Option<i64>,
) -> Result<CourseAnalytics, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::analytics(&admin, &course_id, version).await
}

/// `POST /api/space-admin/audit` — the space's audit log (or one course's),
/// newest first, a page of entries older than `before`.
#[server(name = AuditFn, endpoint = "space-admin/audit", client = ApClient)]
pub async fn audit_log(
    course_id: Option<CourseId>,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::audit(&admin, course_id.as_ref(), before).await
}

/// `POST /api/space-admin/report-csv` (JSON; streamed) — the learner table
/// with the report's filters, every page, as CSV (UTF-8 with a byte-order
/// mark so spreadsheets read names right; formulas defused).
#[server(name = ReportCsvFn, endpoint = "space-admin/report-csv", client = ApClient, input = server_fn::codec::Json, output = server_fn::codec::StreamingText)]
pub async fn report_csv(
    course_id: CourseId,
    query: ReportQuery,
) -> Result<server_fn::codec::TextStream<AppError>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::report_csv(admin, course_id, query).await
}

/// `POST /api/space-admin/attempts-csv` (streamed) — every attempt of the
/// course with every answer, as CSV.
#[server(name = AttemptsCsvFn, endpoint = "space-admin/attempts-csv", client = ApClient, output = server_fn::codec::StreamingText)]
pub async fn attempts_csv(
    course_id: CourseId,
) -> Result<server_fn::codec::TextStream<AppError>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::attempts_csv(admin, course_id).await
}

/// `POST /api/space-admin/analytics-csv` (streamed) — the per-question
/// analytics of a version, as CSV.
#[server(name = AnalyticsCsvFn, endpoint = "space-admin/analytics-csv", client = ApClient, output = server_fn::codec::StreamingText)]
pub async fn analytics_csv(
    course_id: CourseId,
    version: Option<i64>,
) -> Result<server_fn::codec::TextStream<AppError>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::analytics_csv(admin, course_id, version).await
}

/// `POST /api/space-admin/audit-csv` (streamed) — the space's audit log as CSV.
#[server(name = AuditCsvFn, endpoint = "space-admin/audit-csv", client = ApClient, output = server_fn::codec::StreamingText)]
pub async fn audit_csv() -> Result<server_fn::codec::TextStream<AppError>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::audit_csv(admin).await
}

/// `POST /api/space-admin/support-grant` — let Smart Courses support read
/// this space's data for `hours` (1..=168), for the reason given (audited).
#[server(name = SupportGrantFn, endpoint = "space-admin/support-grant", client = ApClient)]
pub async fn support_grant(hours: u32, reason: String) -> Result<SupportGrantRow, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::support::grant(&admin, hours, &reason).await
}

/// `POST /api/space-admin/support-grants` — the space's grants, newest first.
#[server(name = SupportGrantsFn, endpoint = "space-admin/support-grants", client = ApClient)]
pub async fn support_grants() -> Result<Vec<SupportGrantRow>, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::support::grants(&admin).await
}

/// `POST /api/space-admin/support-revoke` — end support access now (audited).
#[server(name = SupportRevokeFn, endpoint = "space-admin/support-revoke", client = ApClient)]
pub async fn support_revoke() -> Result<u32, AppError> {
    let admin = SpaceAdmin::verify().await?;
    service::support::revoke(&admin).await
}

#[cfg(feature = "ssr")]
use {super::service, crate::api::guards::SpaceAdmin};
