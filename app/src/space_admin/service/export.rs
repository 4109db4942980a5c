//! CSV exports of the learner table, the attempts and the analytics (and
//! the audit log), streamed a page at a time so a course of 10 000
//! learners never sits in memory as one string.
//!
//! Written with the `csv` crate (quoting, embedded newlines), UTF-8 with a
//! byte-order mark so spreadsheets read accented names right, dates in ISO
//! 8601 (UTC). Text cells that a spreadsheet would run as a formula (they
//! start with `=`, `+`, `-`, `@`, a tab or a carriage return; see OWASP's
//! "CSV Injection") get a leading `'`: names, answers and titles come from
//! people, and an export must not become a way to run one of them.
//!
//! In German (the `Accept-Language` of the call, i.e. the admin tab's
//! `loc`) a file is written as German spreadsheets read it: German
//! headers and words, `;` between cells (the comma is the decimal sign),
//! dates `30.11.2026 09:05:00` (UTC, as the headers say) and decimal
//! commas; English files are as before.
//!
//! The first page is read before the answer starts, so a bad request is a
//! clear 4xx, not a broken download; every export is written to the audit
//! log.

use futures::{stream, StreamExt};
use serde_json::json;
use server_fn::codec::TextStream;
use store::enrolments::DAY_MS;

use super::{
    analytics::course_analytics,
    audit::{action, page as audit_page},
    course_in_space, record_by,
    report::{learner_rows, reasons_text, store_state},
};
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    learning::service::correct_answer,
    locale::{Lang, Locale},
    space_admin::api::{flag_text, ReasonFilter, ReportQuery},
};

/// Rows read per page while streaming.
const PAGE: i64 = 500;

/// A spreadsheet-safe text cell (see the module docs).
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// `2026-11-30T09:05:00Z`.
pub fn timestamp(ms: i64) -> String {
    let day = ms.div_euclid(DAY_MS);
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        course::charts::format_day(day),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// How one download is written: its language's words, dates, numbers
/// and cell separator (see the module docs). Taken from the call when the
/// export starts, so the pages streamed later are written the same way.
#[derive(Clone, Copy, Debug)]
struct Style {
    lang: Lang,
}

impl Style {
    /// The style for the current server-function call.
    fn of_request() -> Self {
        Self {
            lang: crate::locale::request_lang(),
        }
    }

    fn loc(self) -> Locale {
        crate::locale::locale_of(self.lang)
    }

    /// The cell separator: `,`, or `;` where the comma is the decimal sign.
    fn delimiter(self) -> u8 {
        match self.lang {
            Lang::En => b',',
            Lang::De => b';',
        }
    }

    /// A moment (UTC): `2026-11-30T09:05:00Z` / `30.11.2026 09:05:00`.
    fn ts(self, ms: i64) -> String {
        match self.lang {
            Lang::En => timestamp(ms),
            Lang::De => {
                let secs = ms.rem_euclid(DAY_MS) / 1000;
                format!(
                    "{} {:02}:{:02}:{:02}",
                    self.lang.date(ms.div_euclid(1000)),
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                )
            }
        }
    }

    fn opt_ts(self, ms: Option<i64>) -> String {
        ms.map(|ms| self.ts(ms)).unwrap_or_default()
    }

    /// A number with `decimals` decimals (kept, for a steady column):
    /// `87.5` / `87,5`; no thousands grouping (spreadsheets read it).
    fn num(self, x: f64, decimals: u8) -> String {
        self.lang.fixed(x, decimals)
    }

    fn opt_num(self, x: Option<f64>) -> String {
        x.map(|x| self.num(x, 1)).unwrap_or_default()
    }

    fn yes_no(self, yes: bool) -> String {
        let loc = self.loc();
        if yes {
            leptos_i18n::td_string!(loc, csv.yes)
        } else {
            leptos_i18n::td_string!(loc, csv.no)
        }
        .to_owned()
    }

    /// Writes rows of cells as CSV text.
    fn rows(self, rows: &[Vec<String>]) -> Result<String, AppError> {
        write_rows(rows, self.delimiter())
    }

    /// The header row, with the byte-order mark in front.
    fn header(self, cols: &[&str]) -> Result<String, AppError> {
        header(cols, self.delimiter())
    }
}

/// Writes rows of cells as CSV text.
fn write_rows(rows: &[Vec<String>], delimiter: u8) -> Result<String, AppError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(|e| {
            tracing::error!(error = %e, "csv write failed");
            AppError::Internal
        })?;
    }
    let bytes = w.into_inner().map_err(|_| AppError::Internal)?;
    String::from_utf8(bytes).map_err(|_| AppError::Internal)
}

/// The header row, with the byte-order mark in front.
fn header(cols: &[&str], delimiter: u8) -> Result<String, AppError> {
    let row: Vec<String> = cols.iter().map(|c| (*c).to_owned()).collect();
    Ok(format!("\u{feff}{}", write_rows(&[row], delimiter)?))
}

/// A stream of `first`, then what `next` yields until it says `None`.
fn paged<S, F, Fut>(first: String, state: S, next: F) -> TextStream<AppError>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Option<(String, S)>, AppError>> + Send + 'static,
{
    let rest = stream::unfold(Some(state), move |s| {
        let fut = s.map(&next);
        async move {
            match fut?.await {
                Ok(Some((chunk, s))) => Some((Ok(chunk), Some(s))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    TextStream::new(stream::once(async move { Ok(first) }).chain(rest))
}

// ---------------------------------------------------------------------------
// The learner table
// ---------------------------------------------------------------------------

/// The learner table's columns.
fn report_columns(loc: Locale) -> [&'static str; 17] {
    [
        leptos_i18n::td_string!(loc, csv.report.name),
        leptos_i18n::td_string!(loc, csv.report.account_id),
        leptos_i18n::td_string!(loc, csv.report.status),
        leptos_i18n::td_string!(loc, csv.report.overdue),
        leptos_i18n::td_string!(loc, csv.report.enrolled),
        leptos_i18n::td_string!(loc, csv.report.enrolled_because),
        leptos_i18n::td_string!(loc, csv.report.due),
        leptos_i18n::td_string!(loc, csv.report.progress),
        leptos_i18n::td_string!(loc, csv.report.lessons_opened),
        leptos_i18n::td_string!(loc, csv.report.quizzes_passed),
        leptos_i18n::td_string!(loc, csv.report.attempts),
        leptos_i18n::td_string!(loc, csv.report.best_score),
        leptos_i18n::td_string!(loc, csv.report.completed),
        leptos_i18n::td_string!(loc, csv.report.completed_version),
        leptos_i18n::td_string!(loc, csv.report.cert_expires),
        leptos_i18n::td_string!(loc, csv.report.last_activity),
        leptos_i18n::td_string!(loc, csv.report.late_answers),
    ]
}

/// `space-admin/report-csv`: the learner table with the report's filters.
pub async fn report_csv(
    admin: SpaceAdmin,
    course_id: course::ids::CourseId,
    query: ReportQuery,
) -> Result<TextStream<AppError>, AppError> {
    let style = Style::of_request();
    let row = course_in_space(&admin, &course_id).await?;
    let state = admin.state().clone();
    let tenant = admin.who().tenant.clone();
    state.learning.prepare_report(&tenant, &row).await?;
    let accounts = if query.search.trim().is_empty() {
        None
    } else {
        Some(
            connect::directory::search_users(
                &state.connect,
                admin.who(),
                query.search.trim(),
                super::report::SEARCH_LIMIT,
            )
            .await
            .map_err(super::enrolment::directory_error)?
            .into_iter()
            .map(|u| u.account_id)
            .collect(),
        )
    };
    let sq = store::reports::ReportQuery {
        state: query.state.map(store_state),
        overdue_only: query.overdue_only,
        reason: query.reason.clone().map(|r| match r {
            ReasonFilter::Direct => store::reports::ReasonFilter::Direct,
            ReasonFilter::Group(g) => store::reports::ReasonFilter::Group(g.to_string()),
            ReasonFilter::SelfEnrolled => store::reports::ReasonFilter::SelfEnrolled,
            ReasonFilter::Enrolled => store::reports::ReasonFilter::Enrolled,
            ReasonFilter::NotEnrolled => store::reports::ReasonFilter::NotEnrolled,
        }),
        accounts,
        sort: store::reports::ReportSort::default(),
        descending: false,
        offset: 0,
        limit: PAGE,
        now_ms: state.learning.now_ms(),
    };
    record_by(
        &admin,
        Some(&row.id),
        action::EXPORT,
        json!({ "what": "the learner table" }),
    )
    .await?;
    let first = style.header(&report_columns(style.loc()))?;
    let course = row.id.clone();
    // The caller goes with the stream: through Forge, the names of each
    // page are asked with this request's tokens (which the stream drops
    // when the download ends).
    let who = admin.who().clone();
    Ok(paged(first, sq, move |mut sq| {
        let state = state.clone();
        let tenant = tenant.clone();
        let who = who.clone();
        let course = course.clone();
        async move {
            let page = state.db.report_page(&tenant, &course, &sq).await?;
            if page.rows.is_empty() {
                return Ok(None);
            }
            sq.offset += page.rows.len() as i64;
            let rows = learner_rows(&state, (&who).into(), &course, page.rows).await?;
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        text_cell(r.name.as_deref().unwrap_or("")),
                        text_cell(&r.account_id),
                        r.state.text(style.loc()).to_owned(),
                        style.yes_no(r.overdue),
                        style.opt_ts(r.enrolled_at_ms),
                        text_cell(&reasons_text(&r.reasons)),
                        style.opt_ts(r.due_at_ms),
                        r.progress_percent.to_string(),
                        r.lessons_opened.to_string(),
                        r.quizzes_passed.to_string(),
                        r.attempts.to_string(),
                        style.opt_num(r.best_percent),
                        style.opt_ts(r.completed_at_ms),
                        r.completed_version
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                        style.opt_ts(r.expires_at_ms),
                        style.opt_ts(r.last_activity_ms),
                        r.late_answers.to_string(),
                    ]
                })
                .collect();
            Ok(Some((style.rows(&cells)?, sq)))
        }
    }))
}

// ---------------------------------------------------------------------------
// Attempts
// ---------------------------------------------------------------------------

/// The attempts' columns.
fn attempt_columns(loc: Locale) -> [&'static str; 20] {
    [
        leptos_i18n::td_string!(loc, csv.attempts.attempt_id),
        leptos_i18n::td_string!(loc, csv.attempts.name),
        leptos_i18n::td_string!(loc, csv.attempts.account_id),
        leptos_i18n::td_string!(loc, csv.attempts.quiz),
        leptos_i18n::td_string!(loc, csv.attempts.attempt),
        leptos_i18n::td_string!(loc, csv.attempts.course_version),
        leptos_i18n::td_string!(loc, csv.attempts.started),
        leptos_i18n::td_string!(loc, csv.attempts.submitted),
        leptos_i18n::td_string!(loc, csv.attempts.score),
        leptos_i18n::td_string!(loc, csv.attempts.max_score),
        leptos_i18n::td_string!(loc, csv.attempts.percent),
        leptos_i18n::td_string!(loc, csv.attempts.passed),
        leptos_i18n::td_string!(loc, csv.attempts.question),
        leptos_i18n::td_string!(loc, csv.attempts.question_text),
        leptos_i18n::td_string!(loc, csv.attempts.answer),
        leptos_i18n::td_string!(loc, csv.attempts.correct_answer),
        leptos_i18n::td_string!(loc, csv.attempts.result),
        leptos_i18n::td_string!(loc, csv.attempts.points),
        leptos_i18n::td_string!(loc, csv.attempts.answered_at),
        leptos_i18n::td_string!(loc, csv.attempts.late),
    ]
}

/// `space-admin/attempts-csv`: every submitted attempt, one row per question.
pub async fn attempts_csv(
    admin: SpaceAdmin,
    course_id: course::ids::CourseId,
) -> Result<TextStream<AppError>, AppError> {
    let style = Style::of_request();
    let loc = style.loc();
    let row = course_in_space(&admin, &course_id).await?;
    let state = admin.state().clone();
    let tenant = admin.who().tenant.clone();
    state.learning.prepare_report(&tenant, &row).await?;
    record_by(
        &admin,
        Some(&row.id),
        action::EXPORT,
        json!({ "what": "the attempts" }),
    )
    .await?;
    let first = style.header(&attempt_columns(loc))?;
    let course = row.id.clone();
    let who = admin.who().clone();
    Ok(paged(first, None::<String>, move |after| {
        let state = state.clone();
        let tenant = tenant.clone();
        let who = who.clone();
        let course = course.clone();
        async move {
            let page = state
                .db
                .submitted_attempts(&tenant, &course, None, after.as_deref(), PAGE)
                .await?;
            let Some(last) = page.last().map(|a| a.attempt.id.clone()) else {
                return Ok(None);
            };
            let accounts: Vec<String> = page.iter().map(|a| a.attempt.account_id.clone()).collect();
            let names = connect::users::display_names(&state.connect, &who, &accounts).await;
            let mut cells = Vec::new();
            for s in &page {
                let a = &s.attempt;
                let rendered = state
                    .learning
                    .version(&tenant, &course, a.course_version)
                    .await?;
                let Some(module) = rendered
                    .content
                    .modules
                    .iter()
                    .find(|m| m.id == a.module_id)
                else {
                    continue;
                };
                let Some(quiz) = module.quiz.as_ref() else {
                    continue;
                };
                for (n, q) in quiz.questions.iter().enumerate() {
                    let given = s.answers.iter().find(|x| x.question_id == q.id);
                    let response: Option<course::model::Response> =
                        given.and_then(|g| serde_json::from_str(&g.response_json).ok());
                    let grade = response
                        .as_ref()
                        .map(|r| rendered.grade(q, r))
                        .unwrap_or_else(|| course::grading::grade_missing(q));
                    cells.push(vec![
                        a.id.clone(),
                        text_cell(names.get(&a.account_id).map_or("", String::as_str)),
                        text_cell(&a.account_id),
                        text_cell(&module.title),
                        a.number.to_string(),
                        a.course_version.to_string(),
                        style.ts(a.started_at_ms),
                        style.opt_ts(a.submitted_at_ms),
                        style.opt_num(a.score),
                        style.opt_num(a.max_score),
                        style.opt_num(a.percent),
                        a.passed.map(|p| style.yes_no(p)).unwrap_or_default(),
                        (n + 1).to_string(),
                        text_cell(&super::analytics::prompt_text(&q.prompt_md)),
                        text_cell(
                            &response
                                .as_ref()
                                .map(|r| course::grading::response_lines(q, r).join("\n"))
                                .unwrap_or_default(),
                        ),
                        text_cell(&correct_answer(q).join("\n")),
                        match grade.correct {
                            course::model::Correctness::Correct => {
                                leptos_i18n::td_string!(loc, csv.correct)
                            }
                            course::model::Correctness::Partial => {
                                leptos_i18n::td_string!(loc, csv.partly_correct)
                            }
                            course::model::Correctness::Incorrect if given.is_none() => {
                                leptos_i18n::td_string!(loc, csv.not_answered)
                            }
                            course::model::Correctness::Incorrect => {
                                leptos_i18n::td_string!(loc, csv.incorrect)
                            }
                        }
                        .to_owned(),
                        match style.lang {
                            // As before: Rust's shortest form (`1`, `0.5`).
                            Lang::En => format!("{}", grade.score),
                            Lang::De => format!("{}", grade.score).replace('.', ","),
                        },
                        style.opt_ts(given.map(|g| g.answered_at_ms)),
                        style.yes_no(matches!((given, a.deadline_ms),
                            (Some(g), Some(d)) if g.received_at_ms > d + course::learning::timing::GRACE_MS)),
                    ]);
                }
            }
            Ok(Some((style.rows(&cells)?, Some(last))))
        }
    }))
}

// ---------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------

/// The analytics' columns.
fn analytics_columns(loc: Locale) -> [&'static str; 14] {
    [
        leptos_i18n::td_string!(loc, csv.analytics.course_version),
        leptos_i18n::td_string!(loc, csv.analytics.quiz),
        leptos_i18n::td_string!(loc, csv.analytics.question),
        leptos_i18n::td_string!(loc, csv.analytics.question_text),
        leptos_i18n::td_string!(loc, csv.analytics.kind),
        leptos_i18n::td_string!(loc, csv.analytics.attempts),
        leptos_i18n::td_string!(loc, csv.analytics.answered),
        leptos_i18n::td_string!(loc, csv.analytics.facility),
        leptos_i18n::td_string!(loc, csv.analytics.discrimination),
        leptos_i18n::td_string!(loc, csv.analytics.avg_seconds),
        leptos_i18n::td_string!(loc, csv.analytics.flags),
        leptos_i18n::td_string!(loc, csv.analytics.option),
        leptos_i18n::td_string!(loc, csv.analytics.correct_option),
        leptos_i18n::td_string!(loc, csv.analytics.chosen),
    ]
}

/// `space-admin/analytics-csv`: a row per question, then a row per option.
pub async fn analytics_csv(
    admin: SpaceAdmin,
    course_id: course::ids::CourseId,
    version: Option<i64>,
) -> Result<TextStream<AppError>, AppError> {
    let style = Style::of_request();
    let row = course_in_space(&admin, &course_id).await?;
    let a = course_analytics(admin.state(), &admin.who().tenant, &row, version).await?;
    record_by(
        &admin,
        Some(&row.id),
        action::EXPORT,
        json!({ "what": format!("the analytics of version {}", a.version) }),
    )
    .await?;
    let mut cells = Vec::new();
    for quiz in &a.quizzes {
        for (n, q) in quiz.questions.iter().enumerate() {
            let s = &q.stats;
            let base = |option: String, correct: String, chosen: String| {
                vec![
                    a.version.to_string(),
                    text_cell(&quiz.module_title),
                    (n + 1).to_string(),
                    text_cell(&q.prompt),
                    q.kind.clone(),
                    s.attempts.to_string(),
                    s.answered.to_string(),
                    s.facility
                        .map(|f| style.num(f * 100.0, 1))
                        .unwrap_or_default(),
                    s.discrimination
                        .map(|d| style.num(d, 2))
                        .unwrap_or_default(),
                    style.opt_num(s.avg_seconds),
                    text_cell(
                        &s.flags
                            .iter()
                            .map(|f| flag_text(style.loc(), f))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    option,
                    correct,
                    chosen,
                ]
            };
            cells.push(base(String::new(), String::new(), String::new()));
            if let Some(c) = &s.choices {
                for o in &c.options {
                    cells.push(base(
                        text_cell(&o.text),
                        style.yes_no(o.correct),
                        o.chosen.to_string(),
                    ));
                }
            }
        }
    }
    let body = format!(
        "{}{}",
        style.header(&analytics_columns(style.loc()))?,
        style.rows(&cells)?
    );
    Ok(TextStream::new(stream::once(async move { Ok(body) })))
}

// ---------------------------------------------------------------------------
// The audit log
// ---------------------------------------------------------------------------

/// The audit log's columns.
fn audit_columns(loc: Locale) -> [&'static str; 7] {
    [
        leptos_i18n::td_string!(loc, csv.audit.when),
        leptos_i18n::td_string!(loc, csv.audit.who),
        leptos_i18n::td_string!(loc, csv.audit.account_id),
        leptos_i18n::td_string!(loc, csv.audit.action),
        leptos_i18n::td_string!(loc, csv.audit.course),
        leptos_i18n::td_string!(loc, csv.audit.course_id),
        leptos_i18n::td_string!(loc, csv.audit.what_happened),
    ]
}

/// `space-admin/audit-csv`: the space's whole audit log, newest first.
pub async fn audit_csv(admin: SpaceAdmin) -> Result<TextStream<AppError>, AppError> {
    let style = Style::of_request();
    let loc = style.loc();
    record_by(
        &admin,
        None,
        action::EXPORT,
        json!({ "what": "the audit log" }),
    )
    .await?;
    let first = style.header(&audit_columns(loc))?;
    Ok(paged(first, Some(None::<i64>), move |before| {
        let admin = admin.clone();
        async move {
            let Some(before) = before else {
                return Ok(None);
            };
            let (rows, next) = audit_page(&admin, None, before).await?;
            if rows.is_empty() {
                return Ok(None);
            }
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        style.ts(r.at_ms),
                        text_cell(r.actor_name.as_deref().unwrap_or(if r.actor_id.is_none() {
                            leptos_i18n::td_string!(loc, csv.automatic)
                        } else {
                            ""
                        })),
                        text_cell(r.actor_id.as_deref().unwrap_or("")),
                        r.action.clone(),
                        text_cell(r.course_title.as_deref().unwrap_or("")),
                        r.course_id.clone().unwrap_or_default(),
                        text_cell(&r.summary),
                    ]
                })
                .collect();
            Ok(Some((style.rows(&cells)?, next.map(Some))))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_kept() {
        for bad in ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(bad), format!("'{bad}"));
        }
        assert_eq!(text_cell("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn timestamps_are_iso_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_796_036_700_000), "2026-11-30T11:05:00Z");
    }

    #[test]
    fn german_files_are_written_for_german_spreadsheets() {
        let de = Style { lang: Lang::De };
        assert_eq!(de.ts(1_796_036_700_000), "30.11.2026 11:05:00");
        assert_eq!(de.num(87.45, 1), "87,5");
        assert_eq!(de.opt_num(Some(2.0)), "2,0");
        assert_eq!(de.yes_no(true), "ja");
        assert_eq!(report_columns(de.loc())[4], "Eingeschrieben (UTC)");
        let body = format!(
            "{}{}",
            de.header(&["Name", "Prozent"]).unwrap(),
            de.rows(&[vec!["Müller; Anna".into(), de.num(87.5, 1)]])
                .unwrap()
        );
        let body = body.strip_prefix('\u{feff}').unwrap();
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(body.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "Müller; Anna");
        assert_eq!(&rec[1], "87,5");
        let en = Style { lang: Lang::En };
        assert_eq!(en.ts(1_796_036_700_000), "2026-11-30T11:05:00Z");
        assert_eq!(en.num(87.45, 1), "87.5");
        assert_eq!(report_columns(en.loc())[4], "Enrolled");
    }

    #[test]
    fn csv_round_trips_quotes_newlines_and_formulas() {
        let body = format!(
            "{}{}",
            header(&["a", "b"], b',').unwrap(),
            write_rows(
                &[vec![
                    text_cell("=HYPERLINK(\"x\")"),
                    "two\nlines, \"q\"".into()
                ]],
                b','
            )
            .unwrap()
        );
        let body = body.strip_prefix('\u{feff}').unwrap();
        let mut r = csv::Reader::from_reader(body.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "'=HYPERLINK(\"x\")");
        assert_eq!(&rec[1], "two\nlines, \"q\"");
    }
}
