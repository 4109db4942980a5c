//! Per-question analytics of a course version (`course::learning::analytics`
//! does the maths): for the space admin's report and, through
//! [`course_analytics`], beside each question in the macro editor.
//!
//! Figures are per published version — a question edited in a later
//! version is a different question to the learners who saw it. Computing
//! them reads every submitted attempt of the version, so the result is kept
//! in memory and reused while no attempt was submitted since; under heavy
//! submitting it is reused for [`FRESH_FOR`] at most, and the answer says
//! when it was computed. Whether attempts were submitted is itself a count
//! over the version's attempts, so it is asked at most once per
//! [`FRESH_FOR`]: in between, the figures are reused without looking.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use cache::{Cache, Weigh};
use connect::TenantKey;
use course::{
    learning::analytics::{analyse, AnswerRecord, AttemptAnswers},
    model::Response,
};
use store::courses::CourseRow;

use super::course_in_space;
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    space_admin::api::{CourseAnalytics, QuestionAnalytics, QuizAnalytics},
    state::AppState,
};

/// Attempts read per statement while computing.
const READ_PAGE: i64 = 5_000;
/// A result is reused this long after it was computed or last found exact,
/// without counting (even if attempts were submitted since).
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// How long an unused result is kept.
const KEEP_FOR: Duration = Duration::from_secs(3_600);
const CACHE_BYTES: usize = 1 << 20;
/// Characters of a prompt shown as the question's name.
const PROMPT_CHARS: usize = 120;

#[derive(Debug)]
struct Computed {
    analytics: CourseAnalytics,
    /// Submitted attempts of the version when last counted.
    submitted: i64,
    /// When they were last counted (or the figures computed).
    checked: Instant,
    weight: usize,
}

impl Weigh for Computed {
    fn weigh(&self) -> usize {
        self.weight
    }
}

/// Computed analytics per (tenant, course, version).
#[derive(Clone, Debug)]
pub struct AnalyticsCache(Cache<(String, String, i64), Arc<Computed>>);

impl Default for AnalyticsCache {
    fn default() -> Self {
        Self(Cache::new("analytics", CACHE_BYTES, KEEP_FOR))
    }
}

/// `space-admin/analytics`: a course of the admin's space.
pub async fn analytics(
    admin: &SpaceAdmin,
    course_id: &str,
    version: Option<i64>,
) -> Result<CourseAnalytics, AppError> {
    let row = course_in_space(admin, course_id).await?;
    course_analytics(admin.state(), &admin.who().tenant, &row, version).await
}

/// The analytics of `version` (default: the latest) of a course the caller
/// was allowed to see; "not found" for a version never published.
pub async fn course_analytics(
    state: &AppState,
    tenant: &TenantKey,
    row: &CourseRow,
    version: Option<i64>,
) -> Result<CourseAnalytics, AppError> {
    let Some(latest) = row.latest_version else {
        return Err(AppError::NotFound);
    };
    let version = version.unwrap_or(latest);
    if version < 1 || version > latest {
        return Err(AppError::NotFound);
    }
    let versions: Vec<i64> = (1..=latest).rev().collect();
    let key = (tenant.as_str().to_owned(), row.id.clone(), version);
    let cache = &state.space_admin.analytics.0;
    let reuse = |c: &Computed| {
        let mut a = c.analytics.clone();
        a.versions = versions.clone();
        a
    };
    let cached = cache.get(&key);
    if let Some(c) = cached
        .as_deref()
        .filter(|c| c.checked.elapsed() < FRESH_FOR)
    {
        return Ok(reuse(c));
    }
    let submitted = state.db.count_submitted(tenant, &row.id, version).await?;
    if let Some(c) = cached.filter(|c| c.submitted == submitted) {
        // Still exact: not counted again for another FRESH_FOR.
        cache.insert(
            key,
            Arc::new(Computed {
                analytics: c.analytics.clone(),
                submitted,
                checked: Instant::now(),
                weight: c.weight,
            }),
        );
        return Ok(reuse(&c));
    }
    let rendered = state.learning.version(tenant, &row.id, version).await?;
    let mut by_quiz: HashMap<String, Vec<AttemptAnswers>> = HashMap::new();
    let mut after: Option<String> = None;
    let mut read = 0i64;
    loop {
        let page = state
            .db
            .submitted_attempts(tenant, &row.id, Some(version), after.as_deref(), READ_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.attempt.id.clone());
        let n = page.len() as i64;
        read += n;
        for s in page {
            let answers = s
                .answers
                .into_iter()
                .filter_map(|a| {
                    // An answer that no longer parses (it never should) is
                    // left out of the figures rather than failing them all.
                    let response: Response = serde_json::from_str(&a.response_json).ok()?;
                    Some(AnswerRecord {
                        question_id: a.question_id,
                        response,
                        answered_at_ms: a.answered_at_ms,
                    })
                })
                .collect();
            by_quiz
                .entry(s.attempt.module_id)
                .or_default()
                .push(AttemptAnswers {
                    percent: s.attempt.percent.unwrap_or(0.0),
                    started_at_ms: s.attempt.started_at_ms,
                    answers,
                });
        }
        if n < READ_PAGE {
            break;
        }
    }
    let quizzes = rendered
        .content
        .modules
        .iter()
        .filter_map(|m| Some((m, m.quiz.as_ref()?)))
        .map(|(m, quiz)| {
            let attempts = by_quiz.remove(&m.id).unwrap_or_default();
            let stats = analyse(&quiz.questions, &attempts);
            QuizAnalytics {
                module_id: m.id.clone(),
                module_title: m.title.clone(),
                attempts: super::count(attempts.len() as i64),
                questions: quiz
                    .questions
                    .iter()
                    .zip(stats)
                    .map(|(q, stats)| QuestionAnalytics {
                        question_id: q.id.clone(),
                        prompt: prompt_text(&q.prompt_md),
                        kind: q.kind.name().to_owned(),
                        stats,
                    })
                    .collect(),
            }
        })
        .collect();
    let analytics = CourseAnalytics {
        course_id: row.id.clone(),
        version,
        versions,
        quizzes,
        computed_at_ms: state.learning.now_ms(),
    };
    tracing::debug!(course = %row.id, version, attempts = read, "analytics computed");
    let weight = serde_json::to_string(&analytics).map_or(1 << 20, |s| s.len() * 2);
    cache.insert(
        key,
        Arc::new(Computed {
            analytics: analytics.clone(),
            submitted,
            checked: Instant::now(),
            weight,
        }),
    );
    Ok(analytics)
}

/// The first line of a Markdown prompt as plain text, shortened.
pub(crate) fn prompt_text(md: &str) -> String {
    let line = md
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let plain: String = line
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '#' | '>'))
        .collect();
    let plain = plain.trim();
    if plain.chars().count() > PROMPT_CHARS {
        let cut: String = plain.chars().take(PROMPT_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        plain.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::prompt_text;

    #[test]
    fn prompt_text_takes_the_first_line_without_markup() {
        assert_eq!(prompt_text("\n  **What** is `2+2`?\nmore"), "What is 2+2?");
        let long = "x".repeat(300);
        let short = prompt_text(&long);
        assert_eq!(short.chars().count(), 120);
        assert!(short.ends_with('…'));
    }
}
