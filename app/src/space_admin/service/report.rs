//! A course's report: one page of its learners (filtered, sorted and paged
//! in the database: see `store::reports`), the counts, the charts, and one
//! learner's every attempt with its answers.
//!
//! Before reading, the learning service brings stored standings up to date
//! (`prepare_report`): what a learner's next visit would grade or record is
//! graded and recorded now, so the report and the learner's own view agree.

use std::collections::{BTreeMap, HashMap};

use course::{
    charts::{self, ChartLabels, DayCount, Segment, SegmentKind},
    grading,
    learning::timing::GRACE_MS,
    model::Response,
};
use store::{enrolments::DAY_MS, reports as rs};

use super::{count, course_in_space, enrolment::group_row, header};
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    learning::service::correct_answer,
    space_admin::api::{
        AnswerDetail, AttemptDetail, CourseReport, EnrolmentReasons, LearnerDetail, LearnerRow,
        LearnerState, ReasonFilter, ReportCounts, ReportQuery, ReportSort, MAX_PAGE_SIZE,
    },
    state::AppState,
};

/// People a name search looks at (Confluence's user search, by name).
pub const SEARCH_LIMIT: usize = 200;
/// Longest name search.
pub const MAX_SEARCH_CHARS: usize = 100;

/// `space-admin/course-report`.
pub async fn report(
    admin: &SpaceAdmin,
    course_id: &str,
    q: &ReportQuery,
) -> Result<CourseReport, AppError> {
    if q.page_size == 0 || q.page_size > MAX_PAGE_SIZE {
        return Err(AppError::invalid(format!(
            "A report page shows 1 to {MAX_PAGE_SIZE} learners."
        )));
    }
    let search = q.search.trim();
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::invalid(format!(
            "Search for at most {MAX_SEARCH_CHARS} characters of a name."
        )));
    }
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let prepared = state.learning.prepare_report(tenant, &row).await?;
    let published = prepared.as_ref().map(|(p, _)| p);
    let now = state.learning.now_ms();
    let (accounts, search_note) = if search.is_empty() {
        (None, None)
    } else {
        let found =
            connect::directory::search_users(&state.connect, admin.who(), search, SEARCH_LIMIT)
                .await
                .map_err(super::enrolment::directory_error)?;
        let note = format!(
            "Confluence found {} {} named like \u{201c}{search}\u{201d}{}.",
            found.len(),
            if found.len() == 1 { "person" } else { "people" },
            if found.len() >= SEARCH_LIMIT {
                " (the first ones only: type more of the name)"
            } else {
                ""
            }
        );
        (
            Some(found.into_iter().map(|u| u.account_id).collect::<Vec<_>>()),
            Some(note),
        )
    };
    let sq = rs::ReportQuery {
        state: q.state.map(store_state),
        overdue_only: q.overdue_only,
        reason: q.reason.clone().map(|r| match r {
            ReasonFilter::Direct => rs::ReasonFilter::Direct,
            ReasonFilter::Group(g) => rs::ReasonFilter::Group(g.to_string()),
            ReasonFilter::SelfEnrolled => rs::ReasonFilter::SelfEnrolled,
            ReasonFilter::Enrolled => rs::ReasonFilter::Enrolled,
            ReasonFilter::NotEnrolled => rs::ReasonFilter::NotEnrolled,
        }),
        accounts,
        sort: store_sort(q.sort),
        descending: q.descending,
        offset: i64::from(q.page) * i64::from(q.page_size),
        limit: i64::from(q.page_size),
        now_ms: now,
    };
    let page = state.db.report_page(tenant, &row.id, &sq).await?;
    let counts = state.db.report_counts(tenant, &row.id, now).await?;
    let rows = learner_rows(state, admin.who().into(), &row.id, page.rows).await?;
    let groups = state
        .db
        .report_group_rules(tenant, &row.id)
        .await?
        .0
        .iter()
        .cloned()
        .map(group_row)
        .collect();
    let per_day = state.db.completions_per_day(tenant, &row.id, now).await?;
    let course = header(admin, &row, published).await;
    Ok(CourseReport {
        completion_chart_svg: completion_chart(&per_day, &counts, &row.id),
        status_chart_svg: status_chart(&counts, &row.id),
        counts: counts_dto(&counts),
        course,
        rows,
        total: count(page.total),
        page: q.page,
        page_size: q.page_size,
        groups,
        search_note,
    })
}

/// The completion chart: cumulative completions per day.
fn completion_chart(per_day: &[(i64, i64)], c: &rs::ReportCounts, course_id: &str) -> String {
    let mut total = 0i64;
    let points: Vec<DayCount> = per_day
        .iter()
        .map(|(day_ms, n)| {
            total += n;
            DayCount {
                day: day_ms.div_euclid(DAY_MS),
                completed: count(total),
            }
        })
        .collect();
    let labels = ChartLabels::english(&format!("completion-{}", chart_id(course_id)));
    charts::completion_over_time(&points, count(c.enrolled.max(c.learners)), &labels)
}

/// The status chart: every learner in exactly one segment (overdue apart).
fn status_chart(c: &rs::ReportCounts, course_id: &str) -> String {
    let seg = |kind: SegmentKind, label: &str, n: i64| Segment {
        label: label.to_owned(),
        count: count(n),
        kind,
    };
    let segments = [
        seg(
            SegmentKind::Completed,
            LearnerState::Completed.label(),
            c.completed,
        ),
        seg(
            SegmentKind::InProgress,
            LearnerState::InProgress.label(),
            c.in_progress - c.overdue_in_progress,
        ),
        seg(
            SegmentKind::NotStarted,
            LearnerState::NotStarted.label(),
            c.not_started - c.overdue_not_started,
        ),
        seg(SegmentKind::Overdue, "Overdue", c.overdue),
        seg(
            SegmentKind::RecertificationDue,
            LearnerState::RecertificationDue.label(),
            c.recertification_due - c.overdue_recertification_due,
        ),
        seg(
            SegmentKind::Expired,
            LearnerState::Expired.label(),
            c.expired,
        ),
    ];
    let labels = ChartLabels::english(&format!("status-{}", chart_id(course_id)));
    charts::status_breakdown(&segments, &labels)
}

/// Ids inside SVG must be unique on the page and plain.
fn chart_id(course_id: &str) -> String {
    course_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect()
}

fn counts_dto(c: &rs::ReportCounts) -> ReportCounts {
    ReportCounts {
        learners: count(c.learners),
        enrolled: count(c.enrolled),
        not_started: count(c.not_started),
        in_progress: count(c.in_progress),
        completed: count(c.completed),
        expired: count(c.expired),
        recertification_due: count(c.recertification_due),
        overdue: count(c.overdue),
    }
}

pub(crate) fn store_state(s: LearnerState) -> rs::ReportState {
    match s {
        LearnerState::NotStarted => rs::ReportState::NotStarted,
        LearnerState::InProgress => rs::ReportState::InProgress,
        LearnerState::Completed => rs::ReportState::Completed,
        LearnerState::Expired => rs::ReportState::Expired,
        LearnerState::RecertificationDue => rs::ReportState::RecertificationDue,
    }
}

fn dto_state(s: rs::ReportState) -> LearnerState {
    match s {
        rs::ReportState::NotStarted => LearnerState::NotStarted,
        rs::ReportState::InProgress => LearnerState::InProgress,
        rs::ReportState::Completed => LearnerState::Completed,
        rs::ReportState::Expired => LearnerState::Expired,
        rs::ReportState::RecertificationDue => LearnerState::RecertificationDue,
    }
}

fn store_sort(s: ReportSort) -> rs::ReportSort {
    match s {
        ReportSort::Attention => rs::ReportSort::Attention,
        ReportSort::Progress => rs::ReportSort::Progress,
        ReportSort::DueDate => rs::ReportSort::DueDate,
        ReportSort::LastActivity => rs::ReportSort::LastActivity,
        ReportSort::CompletedAt => rs::ReportSort::CompletedAt,
        ReportSort::BestScore => rs::ReportSort::BestScore,
        ReportSort::EnrolledAt => rs::ReportSort::EnrolledAt,
    }
}

/// Report rows as the admin sees them: names from Confluence, the group
/// rules that cover each learner, late answers counted.
pub(crate) async fn learner_rows(
    state: &AppState,
    access: connect::host_client::HostAccess<'_>,
    course_id: &str,
    rows: Vec<rs::ReportRow>,
) -> Result<Vec<LearnerRow>, AppError> {
    let tenant = access.tenant;
    let accounts: Vec<String> = rows.iter().map(|r| r.account_id.clone()).collect();
    let names = connect::users::display_names(&state.connect, access, &accounts).await;
    let mut groups: BTreeMap<String, Vec<String>> =
        state.db.groups_of(tenant, course_id, &accounts).await?;
    let late: HashMap<String, i64> = state
        .db
        .late_answers_of(tenant, course_id, &accounts, GRACE_MS)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = r.status.as_ref();
            LearnerRow {
                name: names.get(&r.account_id).cloned(),
                state: dto_state(r.state),
                overdue: r.overdue,
                enrolled_at_ms: r.enrolled_at_ms,
                reasons: EnrolmentReasons {
                    direct: r.direct,
                    self_enrolled: r.self_enrolled,
                    groups: groups.remove(&r.account_id).unwrap_or_default(),
                },
                due_at_ms: r.due_at_ms,
                progress_percent: s.map_or(0, |s| s.progress_percent.clamp(0, 100) as u8),
                lessons_opened: s.map_or(0, |s| count(s.lessons_opened)),
                quizzes_passed: s.map_or(0, |s| count(s.quizzes_passed)),
                attempts: s.map_or(0, |s| count(s.attempts)),
                best_percent: s.and_then(|s| s.best_percent),
                completed_at_ms: s.and_then(|s| s.completed_at_ms.filter(|_| s.complete)),
                completed_version: s.and_then(|s| s.completed_version.filter(|_| s.complete)),
                expires_at_ms: s.and_then(|s| s.expires_at_ms.filter(|_| s.complete)),
                last_activity_ms: s.map(|s| s.last_activity_ms).filter(|t| *t > 0),
                late_answers: count(late.get(&r.account_id).copied().unwrap_or(0)),
                account_id: r.account_id,
            }
        })
        .collect())
}

/// `space-admin/learner`: one learner's standing and every attempt.
pub async fn learner(
    admin: &SpaceAdmin,
    course_id: &str,
    account_id: &str,
) -> Result<LearnerDetail, AppError> {
    let row = course_in_space(admin, course_id).await?;
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let prepared = state.learning.prepare_report(tenant, &row).await?;
    let published = prepared.as_ref().map(|(p, _)| p);
    let now = state.learning.now_ms();
    let Some(found) = state
        .db
        .report_row(tenant, &row.id, account_id, now)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let learner_row = learner_rows(state, admin.who().into(), &row.id, vec![found])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    // E-mail only where Confluence shares it; a failure just leaves it out.
    let email = match connect::directory::emails(
        &state.connect,
        admin.who(),
        std::slice::from_ref(&learner_row.account_id),
    )
    .await
    {
        Ok(mut m) => m.remove(&learner_row.account_id),
        Err(e) => {
            tracing::warn!(error = %e, "e-mail address lookup failed");
            None
        }
    };
    let mut attempts = Vec::new();
    for a in state
        .db
        .attempts(tenant, account_id, &row.id, None)
        .await?
        .into_iter()
        .rev()
    {
        let rendered = state
            .learning
            .version(tenant, &row.id, a.course_version)
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
        let stored: HashMap<String, store::learning::StoredAnswer> = state
            .db
            .answers(tenant, &a.id)
            .await?
            .into_iter()
            .map(|x| (x.question_id.clone(), x))
            .collect();
        let submitted = a.submitted_at_ms.is_some();
        let answers = quiz
            .questions
            .iter()
            .map(|q| {
                let given = stored.get(&q.id);
                let response: Option<Response> =
                    given.and_then(|g| serde_json::from_str(&g.response_json).ok());
                let grade = response
                    .as_ref()
                    .map(|r| rendered.grade(q, r))
                    .unwrap_or_else(|| grading::grade_missing(q));
                AnswerDetail {
                    question_id: q.id.clone(),
                    prompt_html: rendered.prompt_html(q),
                    answer: response
                        .as_ref()
                        .map(|r| grading::response_lines(q, r))
                        .unwrap_or_default(),
                    correct_answer: correct_answer(q),
                    correct: submitted.then_some(grade.correct),
                    score: if submitted { grade.score } else { 0.0 },
                    max: grade.max,
                    answered_at_ms: given.map(|g| g.answered_at_ms),
                    late: match (given, a.deadline_ms) {
                        (Some(g), Some(d)) => g.received_at_ms > d + GRACE_MS,
                        _ => false,
                    },
                }
            })
            .collect();
        attempts.push(AttemptDetail {
            attempt_id: a.id.clone(),
            module_title: module.title.clone(),
            number: count(a.number),
            course_version: a.course_version,
            current_cycle: published.is_some_and(|p| a.cycle_version == p.cycle_start),
            started_at_ms: a.started_at_ms,
            submitted_at_ms: a.submitted_at_ms,
            score: a.score,
            max_score: a.max_score,
            percent: a.percent,
            passed: a.passed,
            answers,
        });
    }
    Ok(LearnerDetail {
        course: header(admin, &row, published).await,
        row: learner_row,
        email,
        attempts,
    })
}

/// Every enrolment reason said in words (CSV).
pub(crate) fn reasons_text(r: &EnrolmentReasons) -> String {
    let mut parts = Vec::new();
    if r.direct {
        parts.push("enrolled by an admin".to_owned());
    }
    if r.self_enrolled {
        parts.push("self-enrolled".to_owned());
    }
    for g in &r.groups {
        parts.push(format!("group {g}"));
    }
    if parts.is_empty() {
        "not enrolled".to_owned()
    } else {
        parts.join("; ")
    }
}
