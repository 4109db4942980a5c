//! Each learner's standing kept for the space admin's reports
//! (`store::reports`): computed by the same rules as the learner's own view
//! (`course::learning::status`), written after every lesson opened,
//! attempt started or submitted and completion, and brought up to date
//! before a report reads it (a new version published, an attempt abandoned
//! past its offline window, records from before standings were kept).
//!
//! Keeping it costs one small upsert per learner action; reading a report
//! page then costs one indexed query however many learners a course has.

use std::collections::{BTreeMap, BTreeSet};

use connect::TenantKey;
use course::learning::{
    certificate,
    records::Completion,
    status::{self, Standing},
    timing,
};
use store::{courses::CourseRow, reports::StatusRow};

use super::{LearningService, Published};
use crate::error::AppError;

/// Above this many learners to bring up to date, a report reads the whole
/// course's records at once instead of each learner's.
const BULK_REFRESH_FROM: usize = 200;

/// Most learners' standings recomputed before one report page.
const MAX_REFRESH: i64 = 1_000_000;

/// How often a process looks for a course's records without a standing
/// (see [`LearningService::prepare_report`]).
pub(super) const BACKFILL_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

impl LearningService {
    /// The stored standing for one learner's computed status.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one learner's standing, each computed by the caller once"
    )]
    async fn status_row(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account: &str,
        p: &Published,
        s: &Standing,
        st: &status::LearnerStatus,
        current: Option<&Completion>,
        activity_ms: i64,
    ) -> Result<StatusRow, AppError> {
        let validity_days = match current {
            Some(c) => {
                self.version(tenant, course_id, c.version)
                    .await?
                    .content
                    .settings
                    .certificate_validity_days
            }
            None => None,
        };
        Ok(standing_row(
            account,
            p,
            s,
            st,
            current,
            validity_days,
            activity_ms,
        ))
    }

    /// Stores a learner's standing as just computed by a learning function
    /// (`activity_ms`: when they acted; 0 when they did not, e.g. a report).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn keep_status(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account: &str,
        p: &Published,
        s: &Standing,
        st: &status::LearnerStatus,
        current: Option<&Completion>,
        activity_ms: i64,
    ) -> Result<(), AppError> {
        let row = self
            .status_row(tenant, course_id, account, p, s, st, current, activity_ms)
            .await?;
        self.db
            .put_statuses(tenant, course_id, std::slice::from_ref(&row))
            .await?;
        Ok(())
    }

    /// Computes and stores the standing of one learner from their records.
    pub(super) async fn refresh_status(
        &self,
        tenant: &TenantKey,
        row: &CourseRow,
        p: &Published,
        account: &str,
        activity_ms: i64,
    ) -> Result<(), AppError> {
        let (s, _) = self.standing_of(tenant, &row.id, account).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        let current = self.completion_of(tenant, &row.id, account, p, &st).await?;
        self.keep_status(
            tenant,
            &row.id,
            account,
            p,
            &s,
            &st,
            current.as_ref(),
            activity_ms,
        )
        .await
    }

    /// Brings a course's stored standings up to date before a report reads
    /// them: grades attempts abandoned past their offline window (as the
    /// learner's next visit would), and computes again the standings of
    /// learners affected by that, those computed against an older version,
    /// and those with records but no standing yet. `None` while the course
    /// has never been published. Returns how many learners were refreshed.
    pub async fn prepare_report(
        &self,
        tenant: &TenantKey,
        row: &CourseRow,
    ) -> Result<Option<(Published, usize)>, AppError> {
        if row.latest_version.is_none() {
            return Ok(None);
        }
        let p = self.published(tenant, row).await?;
        let now = self.now_ms();
        let mut due: BTreeSet<String> = BTreeSet::new();
        let mut backfill = None;
        for a in self
            .db
            .open_attempts_past_deadline(tenant, &row.id, now)
            .await?
        {
            if timing::abandoned(&a, now) {
                let account = a.account_id.clone();
                let (_, graded) = self.grade_abandoned(tenant, vec![a]).await?;
                if graded {
                    due.insert(account);
                }
            }
        }
        due.extend(
            self.db
                .stale_statuses(tenant, &row.id, p.version, MAX_REFRESH)
                .await?,
        );
        // Every learning call writes the learner's standing right after
        // their record, so records without one are rare: from before
        // standings were kept, or a standing write that failed. Finding
        // them reads every record of the course, so each process looks
        // once per course every `BACKFILL_EVERY`, not on every report.
        let key = (tenant.as_str().to_owned(), row.id.clone());
        if self.backfilled.get(&key).is_none() {
            let seen = self.backfilled.generation();
            due.extend(
                self.db
                    .learners_without_status(tenant, &row.id, MAX_REFRESH)
                    .await?,
            );
            // Stored once the refresh below has written their standings.
            backfill = Some((key, seen));
        }
        let refreshed = due.len();
        if refreshed >= BULK_REFRESH_FROM {
            self.refresh_course(tenant, row, &p, Some(&due)).await?;
        } else {
            for account in &due {
                self.refresh_status(tenant, row, &p, account, 0).await?;
            }
        }
        if let Some((key, seen)) = backfill {
            self.backfilled.insert_if_current(key, (), seen);
        }
        Ok(Some((p, refreshed)))
    }

    /// Computes the standings of a course's learners (`only` those, or
    /// all) from the whole course's records, read at once, and stores them.
    pub async fn refresh_course(
        &self,
        tenant: &TenantKey,
        row: &CourseRow,
        p: &Published,
        only: Option<&BTreeSet<String>>,
    ) -> Result<(), AppError> {
        let records = self.db.course_records(tenant, &row.id).await?;
        let (attempts, _) = self.grade_abandoned(tenant, records.attempts).await?;
        let wanted = |a: &str| only.is_none_or(|o| o.contains(a));
        let mut by_learner: BTreeMap<String, (Standing, i64)> = BTreeMap::new();
        for (account, lesson, opened_at) in records.lesson_views {
            if wanted(&account) {
                let (s, last) = by_learner.entry(account).or_default();
                s.opened.insert(lesson);
                *last = (*last).max(opened_at * 1000);
            }
        }
        for a in attempts {
            if wanted(&a.account_id) {
                by_learner
                    .entry(a.account_id.clone())
                    .or_default()
                    .0
                    .attempts
                    .push(a);
            }
        }
        for (account, c) in records.completions {
            if wanted(&account) {
                by_learner.entry(account).or_default().0.completions.push(c);
            }
        }
        let mut rows = Vec::with_capacity(by_learner.len());
        for (account, (s, opened_ms)) in by_learner {
            let st = status::status(&p.rendered.content, &s, p.cycle_start);
            let current = self
                .completion_of(tenant, &row.id, &account, p, &st)
                .await?;
            rows.push(
                self.status_row(
                    tenant,
                    &row.id,
                    &account,
                    p,
                    &s,
                    &st,
                    current.as_ref(),
                    opened_ms,
                )
                .await?,
            );
        }
        self.db.put_statuses(tenant, &row.id, &rows).await?;
        Ok(())
    }
}

/// The stored standing for one learner's computed status, `current` being
/// their completion of the cycle and `validity_days` its version's
/// certificate validity.
pub(super) fn standing_row(
    account: &str,
    p: &Published,
    s: &Standing,
    st: &status::LearnerStatus,
    current: Option<&Completion>,
    validity_days: Option<u32>,
    activity_ms: i64,
) -> StatusRow {
    let expires_at_ms =
        current.and_then(|c| certificate::expires_at_ms(c.completed_at * 1000, validity_days));
    let last_activity_ms = s
        .attempts
        .iter()
        .map(|a| a.last_activity_ms.max(a.submitted_at_ms.unwrap_or(0)))
        .chain(s.completions.iter().map(|c| c.completed_at * 1000))
        .fold(activity_ms, i64::max);
    StatusRow {
        account_id: account.to_owned(),
        version: p.version,
        cycle_start: p.cycle_start,
        complete: current.is_some(),
        recertification_due: st.recertification_due,
        progress_percent: i64::from(st.progress.percent),
        lessons_opened: st.progress.opened_lessons.len() as i64,
        quizzes_passed: st.progress.passed_quizzes.len() as i64,
        attempts: i64::from(st.attempts_in_cycle),
        best_percent: st.best_percent,
        completed_at_ms: current.map(|c| c.completed_at * 1000),
        completed_version: current.map(|c| c.version),
        expires_at_ms,
        last_activity_ms,
        started: !s.opened.is_empty() || !s.attempts.is_empty(),
    }
}
