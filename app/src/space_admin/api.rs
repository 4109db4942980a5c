//! Space-admin server functions (`/api/space-admin/*`): the courses of the
//! space and, per course, every learner's standing (the report), also as CSV.
//!
//! Only space administrators (a [`SpaceAdmin`](crate::api::guards::SpaceAdmin)
//! guard: checked with Confluence per request, cached briefly); the space
//! comes from the verified token, never from the request, and a course of
//! another space is "not found". The learners' standing comes from the
//! learning service, by the same rules as the learner's own view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use course::ids::CourseId;

use crate::{client::ApClient, error::AppError};

/// One course in the space, as the admin overview lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceCourseRow {
    pub id: String,
    pub title: String,
    /// The page whose macro holds the course.
    pub page_id: String,
    /// `None` while the course is only a draft.
    pub latest_version: Option<i64>,
    /// Seconds since the Unix epoch.
    pub updated_at: i64,
}

/// The courses of the space the tab is open in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceOverview {
    pub space_key: String,
    pub courses: Vec<SpaceCourseRow>,
}

/// Where a learner stands on a course.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LearnerState {
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
    /// As the report (and the CSV) says it.
    pub fn label(self) -> &'static str {
        match self {
            LearnerState::InProgress => "In progress",
            LearnerState::Completed => "Completed",
            LearnerState::Expired => "Certificate expired",
            LearnerState::RecertificationDue => "Re-certification due",
        }
    }
}

/// One learner in a course report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerReportRow {
    pub account_id: String,
    /// From Confluence; `None` when it could not say (show the account id).
    pub name: Option<String>,
    pub state: LearnerState,
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
    pub last_activity_ms: i64,
    /// Answers that arrived after their attempt's time limit (kept offline
    /// by the learner's browser) and were counted.
    pub late_answers: u32,
}

/// Counts over a report's rows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTotals {
    pub learners: u32,
    pub completed: u32,
    pub in_progress: u32,
    pub recertification_due: u32,
    pub expired: u32,
}

/// Every learner's standing on one course (`space-admin/course-report`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseReport {
    pub course_id: String,
    pub title: String,
    pub page_id: String,
    /// The latest published version; `None`: never published (no rows).
    pub version: Option<i64>,
    /// The version the current re-certification cycle started with.
    pub cycle_start: Option<i64>,
    pub lessons_total: u32,
    pub quizzes_total: u32,
    pub totals: ReportTotals,
    /// Sorted by name (account id when there is none).
    pub rows: Vec<LearnerReportRow>,
}

/// `POST /api/space-admin/overview` — the courses of the caller's space.
#[server(name = SpaceOverviewFn, endpoint = "space-admin/overview", client = ApClient)]
pub async fn space_overview() -> Result<SpaceOverview, AppError> {
    ssr::overview().await
}

/// `POST /api/space-admin/course-report` — every learner's standing on a
/// course of the caller's space: progress, attempts, best score, completion,
/// certificate expiry, re-certification due. Reads the same records the
/// learner's view and certificate read.
#[server(name = CourseReportFn, endpoint = "space-admin/course-report", client = ApClient)]
pub async fn course_report(course_id: CourseId) -> Result<CourseReport, AppError> {
    ssr::report(course_id).await
}

/// `POST /api/space-admin/course-report-csv` — the same report as CSV text
/// (UTF-8, header row, RFC 4180 quoting; cells that a spreadsheet would run
/// as a formula are prefixed with `'`).
#[server(name = CourseReportCsvFn, endpoint = "space-admin/course-report-csv", client = ApClient)]
pub async fn course_report_csv(course_id: CourseId) -> Result<String, AppError> {
    let report = ssr::report(course_id).await?;
    ssr::to_csv(&report)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::api::guards::SpaceAdmin;

    pub(super) async fn overview() -> Result<SpaceOverview, AppError> {
        let admin = SpaceAdmin::verify().await?;
        let rows = admin
            .state()
            .db
            .courses_in_space(&admin.who().tenant, &admin.space_key)
            .await?;
        Ok(SpaceOverview {
            space_key: admin.space_key,
            courses: rows
                .into_iter()
                .map(|c| SpaceCourseRow {
                    id: c.id,
                    title: c.title,
                    page_id: c.page_id,
                    latest_version: c.latest_version,
                    updated_at: c.updated_at,
                })
                .collect(),
        })
    }

    pub(super) async fn report(course_id: CourseId) -> Result<CourseReport, AppError> {
        let admin = SpaceAdmin::verify().await?;
        let state = admin.state();
        let tenant = &admin.who().tenant;
        let row = state
            .db
            .course(tenant, &course_id)
            .await?
            .ok_or(AppError::NotFound)?;
        // The course's page may have moved since the course was made: the
        // page's *current* space decides whose admins see its learners, and
        // the admin must be able to view the page. Anything else: not found.
        let current = connect::authz::page_space(&state.connect, admin.who(), &row.page_id).await?;
        if current.as_deref() != Some(admin.space_key.as_str()) {
            if let Some(space) = current.filter(|s| *s != row.space_key) {
                state
                    .db
                    .set_course_space(tenant, &row.id, &row.page_id, &space)
                    .await?;
            }
            return Err(AppError::NotFound);
        }
        if !admin.caller.can_view(&row.page_id).await? {
            return Err(AppError::NotFound);
        }
        let Some(statuses) = state.learning.course_statuses(tenant, &row).await? else {
            return Ok(CourseReport {
                course_id: row.id,
                title: row.title,
                page_id: row.page_id,
                version: None,
                cycle_start: None,
                lessons_total: 0,
                quizzes_total: 0,
                totals: ReportTotals::default(),
                rows: Vec::new(),
            });
        };
        let accounts: Vec<String> = statuses
            .learners
            .iter()
            .map(|l| l.account_id.clone())
            .collect();
        let names = connect::users::display_names(&state.connect, tenant, &accounts).await;
        let now = state.learning.now_ms();
        let mut totals = ReportTotals::default();
        let mut rows: Vec<LearnerReportRow> = statuses
            .learners
            .into_iter()
            .map(|l| {
                let state = if course::learning::certificate::expired(l.expires_at_ms, now) {
                    LearnerState::Expired
                } else if l.completion.is_some() {
                    LearnerState::Completed
                } else if l.recertification_due {
                    LearnerState::RecertificationDue
                } else {
                    LearnerState::InProgress
                };
                totals.learners += 1;
                match state {
                    LearnerState::InProgress => totals.in_progress += 1,
                    LearnerState::Completed => totals.completed += 1,
                    LearnerState::Expired => totals.expired += 1,
                    LearnerState::RecertificationDue => totals.recertification_due += 1,
                }
                LearnerReportRow {
                    name: names.get(&l.account_id).cloned(),
                    account_id: l.account_id,
                    state,
                    progress_percent: l.progress.percent,
                    lessons_opened: l.progress.opened_lessons.len() as u32,
                    quizzes_passed: l.progress.passed_quizzes.len() as u32,
                    attempts: l.attempts,
                    best_percent: l.best_percent,
                    completed_at_ms: l.completion.as_ref().map(|c| c.completed_at * 1000),
                    completed_version: l.completion.as_ref().map(|c| c.version),
                    expires_at_ms: l.expires_at_ms,
                    last_activity_ms: l.last_activity_ms,
                    late_answers: l.late_answers,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let key =
                |r: &LearnerReportRow| r.name.as_deref().unwrap_or(&r.account_id).to_lowercase();
            key(a)
                .cmp(&key(b))
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        Ok(CourseReport {
            course_id: row.id,
            title: row.title,
            page_id: row.page_id,
            version: Some(statuses.version),
            cycle_start: Some(statuses.cycle_start),
            lessons_total: statuses.lessons_total,
            quizzes_total: statuses.quizzes_total,
            totals,
            rows,
        })
    }

    /// A spreadsheet runs a cell starting with one of these as a formula
    /// (CSV injection); such cells get a leading `'`.
    fn cell(text: &str) -> String {
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.to_string()
        }
    }

    /// ISO 8601 date-time (UTC) of epoch milliseconds.
    fn iso(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    pub(super) fn to_csv(r: &CourseReport) -> Result<String, AppError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "Learner",
            "Account ID",
            "Status",
            "Progress %",
            "Lessons opened",
            "Lessons total",
            "Quizzes passed",
            "Quizzes total",
            "Attempts",
            "Best score %",
            "Completed at (UTC)",
            "Completed on version",
            "Certificate expires (UTC)",
            "Last activity (UTC)",
            "Late answers",
        ];
        let out = (|| -> Result<Vec<u8>, csv::Error> {
            w.write_record(header)?;
            for row in &r.rows {
                w.write_record([
                    cell(row.name.as_deref().unwrap_or("")),
                    cell(&row.account_id),
                    row.state.label().to_string(),
                    row.progress_percent.to_string(),
                    row.lessons_opened.to_string(),
                    r.lessons_total.to_string(),
                    row.quizzes_passed.to_string(),
                    r.quizzes_total.to_string(),
                    row.attempts.to_string(),
                    row.best_percent
                        .map(|p| format!("{p:.1}"))
                        .unwrap_or_default(),
                    row.completed_at_ms.map(iso).unwrap_or_default(),
                    row.completed_version
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    row.expires_at_ms.map(iso).unwrap_or_default(),
                    iso(row.last_activity_ms),
                    row.late_answers.to_string(),
                ])?;
            }
            w.flush()?;
            w.into_inner().map_err(|e| e.into_error().into())
        })();
        let bytes = out.map_err(|e| {
            tracing::error!(error = %e, "space admin: CSV");
            AppError::Internal
        })?;
        String::from_utf8(bytes).map_err(|_| AppError::Internal)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn formula_cells_are_defused_and_plain_cells_kept() {
            assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
            assert_eq!(cell("+1"), "'+1");
            assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
            assert_eq!(cell("Ada Lovelace"), "Ada Lovelace");
            assert_eq!(cell("557058:abc"), "557058:abc");
        }

        #[test]
        fn csv_quotes_commas_and_quotes() {
            let report = CourseReport {
                course_id: "c".into(),
                title: "T".into(),
                page_id: "1".into(),
                version: Some(2),
                cycle_start: Some(1),
                lessons_total: 3,
                quizzes_total: 1,
                totals: ReportTotals::default(),
                rows: vec![LearnerReportRow {
                    account_id: "acc-1".into(),
                    name: Some("Lovelace, \"Ada\"".into()),
                    state: LearnerState::Completed,
                    progress_percent: 100,
                    lessons_opened: 3,
                    quizzes_passed: 1,
                    attempts: 2,
                    best_percent: Some(90.0),
                    completed_at_ms: Some(0),
                    completed_version: Some(2),
                    expires_at_ms: None,
                    last_activity_ms: 86_400_000,
                    late_answers: 1,
                }],
            };
            let text = to_csv(&report).unwrap();
            let mut lines = text.lines();
            assert!(lines
                .next()
                .unwrap()
                .starts_with("Learner,Account ID,Status"));
            assert_eq!(
                lines.next().unwrap(),
                "\"Lovelace, \"\"Ada\"\"\",acc-1,Completed,100,3,3,1,1,2,90.0,\
                 1970-01-01T00:00:00Z,2,,1970-01-02T00:00:00Z,1"
            );
            assert_eq!(lines.next(), None);
        }
    }
}
