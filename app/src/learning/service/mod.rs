//! The learning service (server only): reads a learner's records from the
//! store, applies the rules of [`course::learning`], writes what they
//! decide, and builds the DTOs of [`super::api`]. Server functions are thin
//! calls into it; the space admin's report uses it too, so the learner, the
//! certificate and the report always agree.
//!
//! It owns its caches (no process statics):
//! - **published versions**, parsed and rendered once — versions are
//!   immutable — in a byte-bounded cache keyed by (tenant, course, version);
//! - the **re-certification cycle start** per (tenant, course, latest
//!   version), a function of versions that never change.
//!
//! Time comes from the injected [`Clock`], never from the system directly.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use cache::{Cache, Weigh};
use connect::TenantKey;
use course::{
    grading,
    ids::{AttemptId, ClientToken, CourseId, LessonId, ModuleId, QuestionId},
    learner::{in_attempt_order, quiz_for_learner},
    learning::{
        answers::Merge,
        certificate, checkpoint,
        clock::Clock,
        cycle::{self, in_cycle},
        progress::{self, current_completion},
        records::{Attempt, Completion, NewAnswer, ScoreRecord, StoredAnswer},
        status::{self, Standing},
        timing::{self, check_answer_time, is_open, state_of, Refusal},
    },
    markdown::render_markdown,
    model::{
        AccessMode, CourseContent, FeedbackMode, Question, QuestionKind, Quiz, Response, TextMatch,
    },
};
use store::{
    courses::CourseRow,
    learning::{AfterSubmit, AnswerWrite, LearnerRecords, NewAttempt, Settle, SubmitOutcome},
    Db,
};

mod access;
mod standing;
pub(crate) mod words;

pub use access::Access;
pub use words::reminder_words;

use super::api::*;
use crate::{api::guards::Learner, codec::Encoded, error::AppError, locale::Lang};

/// Largest stored response (its JSON), bytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Most answers one submit may carry.
pub const MAX_SUBMITTED_ANSWERS: usize = 1_000;

/// Bytes of parsed and rendered published versions kept.
const VERSION_CACHE_BYTES: usize = 6 << 20;

/// Bytes of cycle starts kept (an entry is about 150 bytes).
const CYCLE_CACHE_BYTES: usize = 256 << 10;
/// Courses recently looked through for records without a standing.
const BACKFILLED_CACHE_BYTES: usize = 256 << 10;

/// Rendered feedback texts kept per version (combinations of option and
/// question feedback); beyond this they are rendered every time.
const FEEDBACK_MEMO_MAX: usize = 512;

/// (tenant, course, version).
type VersionKey = (String, String, i64);

/// A published version, parsed, with its Markdown rendered.
#[derive(Debug)]
pub struct Rendered {
    pub content: CourseContent,
    title: SharedText,
    description_html: SharedText,
    /// Each module as every allowed learner gets it, and as the outline
    /// (lesson bodies empty) for those who may not take the course yet.
    modules: Vec<ModuleParts>,
    prompts_html: HashMap<String, String>,
    feedback_html: Mutex<HashMap<String, String>>,
    /// The short-text answer patterns, compiled once.
    patterns: grading::Patterns,
    /// What the entry weighs in the cache (JSON size and rendered HTML,
    /// plus the feedback memo's worst case).
    weight: usize,
}

impl Rendered {
    fn new(content: CourseContent, json_bytes: usize) -> Self {
        let description_html = SharedText::encoded(&render_markdown(&content.description_md));
        let modules: Vec<ModuleParts> = content.modules.iter().map(ModuleParts::of).collect();
        let prompts_html: HashMap<String, String> = content
            .modules
            .iter()
            .filter_map(|m| m.quiz.as_ref())
            .flat_map(|q| &q.questions)
            .map(|q| (q.id.clone(), render_markdown(&q.prompt_md)))
            .collect();
        let title = SharedText::encoded(&content.title);
        let html_bytes: usize = title.weight()
            + description_html.weight()
            + modules.iter().map(ModuleParts::weight).sum::<usize>()
            + prompts_html.values().map(String::len).sum::<usize>();
        let patterns = grading::Patterns::of(
            content
                .modules
                .iter()
                .filter_map(|m| m.quiz.as_ref())
                .flat_map(|q| &q.questions),
        );
        Self {
            // Compiled patterns are bounded (each at most 1 MiB, see
            // `grading`); count them at 64 KiB each.
            weight: 2 * json_bytes
                + html_bytes
                + FEEDBACK_MEMO_MAX * 256
                + patterns.len() * (64 << 10),
            patterns,
            content,
            title,
            description_html,
            modules,
            prompts_html,
            feedback_html: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn prompt_html(&self, q: &Question) -> String {
        self.prompts_html
            .get(&q.id)
            .cloned()
            .unwrap_or_else(|| render_markdown(&q.prompt_md))
    }

    fn feedback(&self, md: &str) -> String {
        let mut memo = self.feedback_html.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(html) = memo.get(md) {
            return html.clone();
        }
        let html = render_markdown(md);
        if memo.len() < FEEDBACK_MEMO_MAX {
            memo.insert(md.to_string(), html.clone());
        }
        html
    }

    /// Grades a response with the version's compiled patterns.
    pub(crate) fn grade(&self, q: &Question, r: &Response) -> course::model::Grade {
        grading::grade_with(q, r, &self.patterns)
    }

    fn quiz(&self, module_id: &str) -> Option<&Quiz> {
        quiz_of(&self.content, module_id)
    }
}

/// A module's parts that a published version fixes, encoded once
/// (see [`SharedText`]).
#[derive(Debug)]
struct ModuleParts {
    id: SharedText,
    title: SharedText,
    lessons: SharedList<LearnerLesson>,
    outline: SharedList<LearnerLesson>,
}

impl ModuleParts {
    fn of(m: &course::model::Module) -> Self {
        let lesson = |l: &course::model::Lesson, html: SharedText| LearnerLesson {
            id: l.id.clone(),
            title: l.title.clone(),
            html,
        };
        Self {
            id: SharedText::encoded(&m.id),
            title: SharedText::encoded(&m.title),
            lessons: SharedList::encoded(
                m.lessons
                    .iter()
                    .map(|l| lesson(l, render_markdown(&l.body_md).into()))
                    .collect(),
            ),
            // Not allowed yet: the outline only.
            outline: SharedList::encoded(
                m.lessons
                    .iter()
                    .map(|l| lesson(l, SharedText::default()))
                    .collect(),
            ),
        }
    }

    /// Bytes held: both lists' lessons (each list has its own ids and
    /// titles) and both lists' JSON.
    fn weight(&self) -> usize {
        let texts: usize = self
            .lessons
            .iter()
            .chain(self.outline.iter())
            .map(|l| l.id.len() + l.title.len() + l.html.weight())
            .sum();
        self.id.weight()
            + self.title.weight()
            + texts
            + self.lessons.json_weight()
            + self.outline.json_weight()
    }
}

impl Weigh for Rendered {
    fn weigh(&self) -> usize {
        self.weight
    }
}

/// The latest published version and the current re-certification cycle.
#[derive(Clone, Debug)]
pub struct Published {
    pub version: i64,
    pub rendered: Arc<Rendered>,
    /// The latest version published with `material = true` (1 if none).
    pub cycle_start: i64,
}

/// See the module documentation.
#[derive(Clone)]
pub struct LearningService {
    db: Db,
    clock: Arc<dyn Clock>,
    versions: Cache<VersionKey, Arc<Rendered>>,
    cycles: Cache<VersionKey, i64>,
    /// Courses (tenant, course id) this process recently looked through
    /// for records without a standing (see `standing::BACKFILL_EVERY`).
    backfilled: Cache<(String, String), ()>,
}

impl std::fmt::Debug for LearningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearningService")
            .field("versions", &self.versions)
            .field("cycles", &self.cycles)
            .finish_non_exhaustive()
    }
}

fn quiz_of<'a>(content: &'a CourseContent, module_id: &str) -> Option<&'a Quiz> {
    content
        .modules
        .iter()
        .find(|m| m.id == module_id)
        .and_then(|m| m.quiz.as_ref())
}

/// A refusal as the learner reads it (in the caller's language).
fn refused(r: Refusal, a: &Attempt) -> AppError {
    let text = words::refusal_text(&r, a);
    match r {
        Refusal::Invalid(_) => AppError::Invalid(text),
        Refusal::Conflict(_) => AppError::Conflict(text),
    }
}

fn response_json(r: &Response) -> Result<String, Refusal> {
    let json =
        serde_json::to_string(r).map_err(|_| Refusal::Invalid(words::answer_unreadable()))?;
    if json.len() > MAX_RESPONSE_BYTES {
        return Err(Refusal::Invalid(words::answer_too_long()));
    }
    Ok(json)
}

fn parse_answers(rows: &[StoredAnswer]) -> HashMap<String, Response> {
    rows.iter()
        .filter_map(|r| match serde_json::from_str::<Response>(&r.response_json) {
            Ok(resp) => Some((r.question_id.clone(), resp)),
            Err(e) => {
                tracing::error!(error = %e, question = %r.question_id, "stored response does not parse");
                None
            }
        })
        .collect()
}

fn score_of(
    quiz: &Quiz,
    patterns: &grading::Patterns,
    pass_mark: u8,
    rows: &[StoredAnswer],
) -> (grading::AttemptScore, ScoreRecord) {
    let s = grading::score_attempt_with(&quiz.questions, &parse_answers(rows), patterns);
    let record = ScoreRecord {
        score: s.score,
        max_score: s.max,
        percent: s.percent,
        passed: s.passes(pass_mark),
    };
    (s, record)
}

/// A random 64-bit shuffle seed (from the OS RNG through UUID v4: two
/// UUIDs' halves mixed so the fixed version/variant bits vanish).
fn random_seed() -> u64 {
    let (a, _) = uuid::Uuid::new_v4().as_u64_pair();
    let (_, b) = uuid::Uuid::new_v4().as_u64_pair();
    a ^ b.rotate_left(32)
}

/// A fresh checkpoint key (32 random bytes from the OS RNG through UUID v4s).
fn random_key() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    checkpoint::key_from_random(bytes)
}

/// A checkpoint for `a` now, while it is open (see `course::learning::checkpoint`).
fn checkpoint_for(a: &Attempt, now: i64) -> Option<String> {
    let key = a.checkpoint_key.as_deref()?;
    (is_open(a, now) && a.deadline_ms.is_none_or(|d| now <= d))
        .then(|| checkpoint::issue(key, &a.id, now))
}

/// The issue time of the checkpoint an answer carries, if it is one of `a`'s.
fn checkpoint_time(a: &Attempt, given: Option<&str>) -> Option<i64> {
    checkpoint::verify(a.checkpoint_key.as_deref()?, &a.id, given?)
}

/// "True" / "False" in `lang` (the learner's buttons' words).
pub(crate) fn truth(lang: Lang, b: bool) -> String {
    let loc = crate::locale::locale_of(lang);
    if b {
        leptos_i18n::td_string!(loc, learner.answer_true)
    } else {
        leptos_i18n::td_string!(loc, learner.answer_false)
    }
    .to_owned()
}

/// A number as a learner typed it, with `lang`'s decimal sign (no
/// rounding, no grouping: the answer as given).
fn plain_number(lang: Lang, x: f64) -> String {
    match lang {
        Lang::En => x.to_string(),
        Lang::De => x.to_string().replace('.', ","),
    }
}

/// A learner's response as lines of plain text in `lang`
/// ([`course::grading::response_lines`], whose words are English, with
/// true/false and numbers in `lang`).
pub(crate) fn response_lines(lang: Lang, q: &Question, r: &Response) -> Vec<String> {
    match r {
        Response::Bool(b) => vec![truth(lang, *b)],
        Response::Number(x) => vec![plain_number(lang, *x)],
        _ => grading::response_lines(q, r),
    }
}

/// The correct answer of a question as lines of plain text, in `lang`.
pub(crate) fn correct_answer(lang: Lang, q: &Question) -> Vec<String> {
    match &q.kind {
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            options
                .iter()
                .filter(|o| o.correct)
                .map(|o| o.text.clone())
                .collect()
        }
        QuestionKind::TrueFalse { answer } => vec![truth(lang, *answer)],
        QuestionKind::ShortText { accepted } => accepted
            .iter()
            .filter(|t| t.mode != TextMatch::Regex)
            .map(|t| t.text.clone())
            .collect(),
        QuestionKind::Numeric { answer, tolerance } => {
            let answer = plain_number(lang, *answer);
            if *tolerance > 0.0 {
                vec![format!("{answer} (± {})", plain_number(lang, *tolerance))]
            } else {
                vec![answer]
            }
        }
        QuestionKind::Ordering { items } => items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}. {}", i + 1, item.text))
            .collect(),
        QuestionKind::Matching { pairs } => pairs
            .iter()
            .map(|p| format!("{} → {}", p.prompt, p.answer))
            .collect(),
    }
}

fn settings_dto(c: &CourseContent) -> LearnerSettings {
    let s = &c.settings;
    LearnerSettings {
        pass_mark_percent: s.pass_mark_percent,
        attempt_limit: s.attempt_limit,
        time_limit_secs: s.time_limit_secs,
        feedback_mode: s.feedback_mode,
        certificate_validity_days: s.certificate_validity_days,
    }
}

impl LearningService {
    /// A service over `db`, telling time by `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            versions: Cache::new("published-versions", VERSION_CACHE_BYTES, Duration::MAX),
            cycles: Cache::new("cycle-starts", CYCLE_CACHE_BYTES, Duration::MAX),
            backfilled: Cache::new(
                "standings-backfilled",
                BACKFILLED_CACHE_BYTES,
                standing::BACKFILL_EVERY,
            ),
        }
    }

    /// The service's clock (milliseconds since the epoch).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    // ---- published versions --------------------------------------------------

    /// A published version, parsed and rendered (once per process).
    pub async fn version(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        version: i64,
    ) -> Result<Arc<Rendered>, AppError> {
        let key = (tenant.as_str().to_string(), course_id.to_string(), version);
        self.version_at(tenant, course_id, version, key).await
    }

    /// [`Self::version`] with its cache key made by the caller (who may
    /// need the same key for another cache).
    async fn version_at(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        version: i64,
        key: VersionKey,
    ) -> Result<Arc<Rendered>, AppError> {
        if let Some(r) = self.versions.get(&key) {
            return Ok(r);
        }
        let row = self
            .db
            .version(tenant, course_id, version)
            .await?
            .ok_or(AppError::NotFound)?;
        let parsed: CourseContent = serde_json::from_str(&row.content_json).map_err(|e| {
            tracing::error!(error = %e, course = %course_id, version, "published version does not parse");
            AppError::Internal
        })?;
        let rendered = Arc::new(Rendered::new(parsed, row.content_json.len()));
        self.versions.insert(key, rendered.clone());
        Ok(rendered)
    }

    /// The latest published version and the current cycle; 404 while the
    /// course has never been published.
    pub async fn published(
        &self,
        tenant: &TenantKey,
        row: &CourseRow,
    ) -> Result<Published, AppError> {
        let Some(version) = row.latest_version else {
            return Err(AppError::NotFound);
        };
        // Versions up to the latest never change (nor does their `material`
        // flag), so the cycle start is a function of the latest version.
        let key = (tenant.as_str().to_string(), row.id.clone(), version);
        let cycle_start = match self.cycles.get(&key) {
            Some(c) => c,
            None => {
                let metas = self.db.versions(tenant, &row.id).await?;
                let c = cycle::cycle_start(metas.iter().map(|m| (m.version, m.material)), version);
                self.cycles.insert(key.clone(), c);
                c
            }
        };
        let rendered = self.version_at(tenant, &row.id, version, key).await?;
        Ok(Published {
            version,
            rendered,
            cycle_start,
        })
    }

    // ---- the learner's records -----------------------------------------------

    /// The course of this site; when it belongs to another page (the page
    /// was copied), the learner must be able to view that page too.
    async fn course_row(&self, l: &Learner, course_id: &str) -> Result<Arc<CourseRow>, AppError> {
        let row = self
            .db
            .course(&l.who().tenant, course_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if row.page_id != l.page {
            l.caller.require_view(&row.page_id).await?;
        } else if let Some(space) = l.who().space_key.as_deref().filter(|s| *s != row.space_key) {
            // The page moved to another space (its token says where it is
            // now): the course follows, so that space's admins list it.
            self.db
                .set_course_space(&l.who().tenant, &row.id, &row.page_id, space)
                .await?;
        }
        Ok(row)
    }

    /// Everything the learner did on a course; attempts whose offline
    /// window closed without a submit are graded first.
    async fn standing(&self, l: &Learner, course_id: &str) -> Result<Standing, AppError> {
        Ok(self
            .standing_of(&l.who().tenant, course_id, &l.account)
            .await?
            .0)
    }

    /// [`Self::standing`] of any learner of `tenant`, and whether an
    /// abandoned attempt was graded just now.
    pub(super) async fn standing_of(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account: &str,
    ) -> Result<(Standing, bool), AppError> {
        let opened = self
            .db
            .opened_lessons(tenant, course_id, account)
            .await?
            .into_iter()
            .collect();
        let attempts = self.db.attempts(tenant, account, course_id, None).await?;
        let (attempts, graded) = self.grade_abandoned(tenant, attempts).await?;
        let completions = self.db.completions(tenant, course_id, account).await?;
        Ok((
            Standing {
                opened,
                attempts,
                completions,
            },
            graded,
        ))
    }

    /// Grades the attempts whose offline window closed without a submit
    /// (with the answers saved in time); the others pass through unchanged.
    pub(super) async fn grade_abandoned(
        &self,
        tenant: &TenantKey,
        attempts: Vec<Attempt>,
    ) -> Result<(Vec<Attempt>, bool), AppError> {
        let now = self.now_ms();
        let mut graded = false;
        let mut out = Vec::with_capacity(attempts.len());
        for a in attempts {
            if !timing::abandoned(&a, now) {
                out.push(a);
                continue;
            }
            let rendered = self.version(tenant, &a.course_id, a.course_version).await?;
            match self
                .submit_in_store(tenant, &a, &rendered, &[], now, None)
                .await?
            {
                SubmitOutcome::Submitted { attempt, .. }
                | SubmitOutcome::AlreadySubmitted(attempt) => {
                    tracing::info!(attempt = %attempt.id, "graded an attempt left unsubmitted after its time limit");
                    graded = true;
                    out.push(attempt)
                }
                SubmitOutcome::Missing => {}
            }
        }
        Ok((out, graded))
    }

    /// Grades the attempts that timed out without a submit (with the answers
    /// the server holds); the others pass through unchanged.
    async fn grade_timed_out(
        &self,
        tenant: &TenantKey,
        attempts: Vec<Attempt>,
        now: i64,
    ) -> Result<Vec<Attempt>, AppError> {
        let mut out = Vec::with_capacity(attempts.len());
        for a in attempts {
            if !timing::timed_out(&a, now) {
                out.push(a);
                continue;
            }
            let rendered = self.version(tenant, &a.course_id, a.course_version).await?;
            match self
                .submit_in_store(tenant, &a, &rendered, &[], now, None)
                .await?
            {
                SubmitOutcome::Submitted { attempt, .. }
                | SubmitOutcome::AlreadySubmitted(attempt) => {
                    tracing::info!(attempt = %attempt.id, "graded a timed-out attempt: the learner started another");
                    out.push(attempt)
                }
                SubmitOutcome::Missing => {}
            }
        }
        Ok(out)
    }

    /// The completion of the current cycle, recording it now if the learner
    /// is complete and has none yet.
    async fn completion(
        &self,
        l: &Learner,
        course_id: &str,
        p: &Published,
        st: &status::LearnerStatus,
    ) -> Result<Option<Completion>, AppError> {
        self.completion_of(&l.who().tenant, course_id, &l.account, p, st)
            .await
    }

    /// [`Self::completion`] of any learner of `tenant`.
    pub(super) async fn completion_of(
        &self,
        tenant: &TenantKey,
        course_id: &str,
        account: &str,
        p: &Published,
        st: &status::LearnerStatus,
    ) -> Result<Option<Completion>, AppError> {
        if !st.completion_due {
            return Ok(st.completion.clone());
        }
        self.db
            .record_completion(
                tenant,
                course_id,
                account,
                p.version,
                p.cycle_start,
                self.clock.now_secs(),
            )
            .await?;
        let all = self.db.completions(tenant, course_id, account).await?;
        Ok(current_completion(&all, p.cycle_start))
    }

    // ---- learning/course -----------------------------------------------------

    /// The learner's view of the course, encoded. On SQLite the encoded view
    /// is kept beside the learner's cached records and sent again while
    /// nothing it was made from changed: the records (any write of theirs
    /// drops it), the published version, the caller's language, and what
    /// the clock decides (an attempt's time limit, a due date:
    /// `timing::unchanged_until`). A visit that writes (grades an abandoned
    /// attempt, records a completion) is not kept.
    pub async fn course(
        &self,
        l: &Learner,
        course_id: &CourseId,
    ) -> Result<Encoded<LearnerCourse>, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let p = self.published(tenant, &row).await?;
        let variant = crate::locale::request_lang() as u64;
        let (kept, ticket) = self.db.learner_view(tenant, &l.account, course_id);
        let now = self.now_ms();
        if let Some(v) = kept
            .filter(|v| v.version == p.version && v.variant == variant && now < v.valid_until_ms)
        {
            return Ok(Encoded::from_bytes(v.body.clone()));
        }
        let (view, unchanged_until) = self.course_view(l, &row, &p).await?;
        let encoded = Encoded::new(&view).map_err(|e| {
            tracing::error!(error = %e, "the learner's view does not encode");
            AppError::Internal
        })?;
        if let Some(valid_until_ms) = unchanged_until {
            self.db.keep_learner_view(
                tenant,
                &l.account,
                store::LearnerView {
                    course: row.id.clone(),
                    version: p.version,
                    variant,
                    valid_until_ms,
                    body: encoded.body().clone(),
                },
                ticket,
            );
        }
        Ok(encoded)
    }

    /// The learner's view of the latest published version `p` of `row`,
    /// and until when it may be served again unchanged (`None`: this visit
    /// wrote to the learner's records).
    async fn course_view(
        &self,
        l: &Learner,
        row: &CourseRow,
        p: &Published,
    ) -> Result<(LearnerCourse, Option<i64>), AppError> {
        let tenant = &l.who().tenant;
        let course_id = row.id.as_str();
        let access = self.access(tenant, course_id, &l.account, p).await?;
        let (s, graded) = self.standing_of(tenant, course_id, &l.account).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        let current = self.completion(l, course_id, p, &st).await?;
        let now = self.now_ms();
        let wrote = graded || st.completion_due;
        if wrote {
            // The visit changed the learner's records (an abandoned attempt
            // graded, a completion recorded): the reports must see it.
            self.keep_status(
                tenant,
                course_id,
                &l.account,
                p,
                &s,
                &st,
                current.as_ref(),
                0,
            )
            .await?;
        }
        let allowed = access.allowed();
        let r = &p.rendered;
        let c = &r.content;
        let cycle_attempts: Vec<&Attempt> = in_cycle(&s.attempts, p.cycle_start).collect();
        let modules = c
            .modules
            .iter()
            .zip(&r.modules)
            .map(|(m, parts)| LearnerModule {
                id: parts.id.clone(),
                title: parts.title.clone(),
                lessons: if allowed {
                    parts.lessons.clone()
                } else {
                    parts.outline.clone()
                },
                quiz: m.quiz.as_ref().map(|q| {
                    let mine: Vec<&Attempt> = cycle_attempts
                        .iter()
                        .copied()
                        .filter(|a| a.module_id == m.id)
                        .collect();
                    QuizSummary {
                        question_count: q.questions.len() as u32,
                        total_points: q.questions.iter().map(|q| q.points).sum(),
                        attempts_used: mine.len() as u32,
                        attempts_allowed: c.settings.attempt_limit,
                        best_percent: cycle::best_percent(mine.iter().copied()),
                        passed: st.passed.contains(&m.id),
                        open_attempt_id: mine
                            .iter()
                            .find(|a| is_open(a, now))
                            .map(|a| a.id.clone()),
                    }
                }),
            })
            .collect();
        let resume = progress::resume_point(
            c,
            cycle_attempts.iter().copied().filter(|a| is_open(a, now)),
            &s.opened,
            &st.passed,
        )
        .filter(|_| allowed);
        let complete = current.is_some();
        let unchanged_until = (!wrote).then(|| {
            let due = match &access {
                Access::Enrolled(e) => e.due_at_ms,
                _ => None,
            };
            timing::unchanged_until(&s.attempts, due, complete, now)
        });
        let learner_access = LearnerAccess {
            mode: c.settings.access,
            allowed,
            message: access.refusal().map(|e| e.to_string()),
            can_self_enrol: access == Access::NotEnrolled(AccessMode::SelfEnrol),
            enrolment: match &access {
                Access::Enrolled(e) => Some(LearnerEnrolment {
                    enrolled_at_ms: e.enrolled_at_ms,
                    due_at_ms: e.due_at_ms,
                    overdue: !complete && e.due_at_ms.is_some_and(|d| d < now),
                    self_only: e.self_enrolled && !e.direct && e.groups.is_empty(),
                }),
                _ => None,
            },
        };
        let view = LearnerCourse {
            course_id: row.id.as_str().into(),
            version: p.version,
            title: r.title.clone(),
            description_html: r.description_html.clone(),
            modules,
            settings: settings_dto(c),
            recertification_due: st.recertification_due,
            completed_at_ms: current.map(|c| c.completed_at * 1000),
            progress: st.progress,
            resume,
            access: learner_access,
        };
        Ok((view, unchanged_until))
    }

    // ---- learning/enrol --------------------------------------------------------

    pub async fn self_enrol(
        &self,
        l: &Learner,
        course_id: &CourseId,
    ) -> Result<LearnerCourse, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let p = self.published(tenant, &row).await?;
        match p.rendered.content.settings.access {
            AccessMode::Open => return Err(AppError::invalid(words::open_nothing_to_enrol())),
            AccessMode::EnrolledOnly => {
                return Err(AppError::NotEnrolled(words::ask_space_admin()))
            }
            AccessMode::SelfEnrol => {}
        }
        let now = self.now_ms();
        if self
            .db
            .self_enrol(tenant, course_id, &l.account, now)
            .await?
        {
            let detail = serde_json::json!({ "accounts": [l.account.as_str()] }).to_string();
            self.db
                .append_audit(
                    tenant,
                    &store::audit::NewAuditEntry {
                        space_key: &row.space_key,
                        course_id: Some(course_id),
                        actor: Some(&l.account),
                        action: "self_enrol",
                        detail_json: &detail,
                        at_ms: now,
                    },
                )
                .await?;
        }
        Ok(self.course_view(l, &row, &p).await?.0)
    }

    // ---- learning/open-lesson ------------------------------------------------

    pub async fn open_lesson(
        &self,
        l: &Learner,
        course_id: &CourseId,
        version: i64,
        lesson_id: &LessonId,
    ) -> Result<ProgressDto, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let p = self.published(tenant, &row).await?;
        self.require_access(l, course_id, &p).await?;
        // A version of the current re-certification cycle (the one on
        // screen, or one published since): older ones cannot count, and
        // loading them would only fill the version cache.
        if version < p.cycle_start || version > p.version {
            return Err(AppError::NotFound);
        }
        let at = self.version(tenant, course_id, version).await?;
        if !at
            .content
            .modules
            .iter()
            .flat_map(|m| &m.lessons)
            .any(|les| les.id == lesson_id.as_str())
        {
            return Err(AppError::NotFound);
        }
        self.db
            .open_lesson(
                tenant,
                course_id,
                &l.account,
                lesson_id,
                version,
                self.clock.now_secs(),
            )
            .await?;
        let s = self.standing(l, course_id).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        let current = self.completion(l, course_id, &p, &st).await?;
        self.keep_status(
            tenant,
            course_id,
            &l.account,
            &p,
            &s,
            &st,
            current.as_ref(),
            self.now_ms(),
        )
        .await?;
        Ok(st.progress)
    }

    // ---- learning/start-attempt ----------------------------------------------

    pub async fn start(
        &self,
        l: &Learner,
        course_id: &CourseId,
        module_id: &ModuleId,
        client_token: &ClientToken,
    ) -> Result<AttemptView, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let p = self.published(tenant, &row).await?;
        if p.rendered.quiz(module_id).is_none() {
            return Err(AppError::NotFound);
        }
        self.require_access(l, course_id, &p).await?;
        // A lost race (same token, or the same attempt number taken by a
        // concurrent start) is read back on the next round.
        for _ in 0..3 {
            if let Some(a) = self
                .db
                .attempt_by_token(tenant, &l.account, client_token)
                .await?
            {
                if a.course_id != course_id.as_str() || a.module_id != module_id.as_str() {
                    return Err(AppError::conflict(words::token_other_quiz()));
                }
                return self.view_of(tenant, &a).await;
            }
            let attempts = self
                .db
                .attempts(tenant, &l.account, course_id, Some(module_id))
                .await?;
            let (attempts, _) = self.grade_abandoned(tenant, attempts).await?;
            let now = self.now_ms();
            if let Some(open) = in_cycle(&attempts, p.cycle_start).find(|a| is_open(a, now)) {
                return self.view_of(tenant, open).await;
            }
            // A new attempt ends the timed-out ones: they are graded now with
            // what the server holds, so no late answer can reach them once
            // the learner has seen this quiz again (with immediate feedback,
            // answers could otherwise be copied across).
            let attempts = self.grade_timed_out(tenant, attempts, now).await?;
            let cycle: Vec<&Attempt> = in_cycle(&attempts, p.cycle_start).collect();
            let settings = &p.rendered.content.settings;
            let number = cycle::next_attempt_number(cycle.iter().copied(), settings.attempt_limit)
                .map_err(|limit| AppError::Conflict(words::limit_reached(limit)))?;
            // Time-ordered (UUIDv7, 74 random bits): attempts started
            // near each other sit side by side in the indexes that begin
            // with the id (the attempt, its answers, a version's attempts),
            // so the submits the writer commits together share B-tree
            // pages instead of each dirtying pages of their own. Who may
            // read an attempt never depends on its id being unguessable:
            // every lookup is scoped by tenant and learner.
            let id = uuid::Uuid::now_v7().to_string();
            let deadline = settings.time_limit_secs.map(|s| now + i64::from(s) * 1000);
            let created = self
                .db
                .create_attempt(
                    tenant,
                    &NewAttempt {
                        id: &id,
                        course_id,
                        module_id,
                        account_id: &l.account,
                        client_token,
                        course_version: p.version,
                        page_version: l.who().content_version,
                        cycle_version: p.cycle_start,
                        number,
                        seed: random_seed(),
                        started_at_ms: now,
                        deadline_ms: deadline,
                        checkpoint_key: &random_key(),
                    },
                )
                .await;
            match created {
                Ok(()) => {
                    let a = self
                        .db
                        .attempt(tenant, &l.account, &id)
                        .await?
                        .ok_or_else(|| AppError::inconsistent("attempt just created"))?;
                    self.refresh_status(tenant, &row, &p, &l.account, now)
                        .await?;
                    return self.view_of(tenant, &a).await;
                }
                Err(store::StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::conflict(words::started_elsewhere()))
    }

    fn question_grade(r: &Rendered, q: &Question, resp: &Response) -> QuestionGrade {
        let g = grading::grade_with(q, resp, &r.patterns);
        QuestionGrade {
            score: g.score,
            max: g.max,
            correct: g.correct,
            feedback_html: g.feedback_md.as_deref().map(|md| r.feedback(md)),
        }
    }

    async fn view_of(&self, tenant: &TenantKey, a: &Attempt) -> Result<AttemptView, AppError> {
        let r = self.version(tenant, &a.course_id, a.course_version).await?;
        let quiz = r
            .quiz(&a.module_id)
            .ok_or_else(|| AppError::inconsistent("quiz of attempt"))?;
        let settings = &r.content.settings;
        let rows = self.db.answers(tenant, &a.id).await?;
        let answers = parse_answers(&rows);
        let feedback = if settings.feedback_mode == FeedbackMode::Immediate {
            quiz.questions
                .iter()
                .filter_map(|q| {
                    answers
                        .get(&q.id)
                        .map(|resp| (q.id.clone(), Self::question_grade(&r, q, resp)))
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let now = self.now_ms();
        let prompts: HashMap<&str, &Question> =
            quiz.questions.iter().map(|q| (q.id.as_str(), q)).collect();
        Ok(AttemptView {
            attempt_id: a.id.clone(),
            course_id: a.course_id.clone(),
            module_id: a.module_id.clone(),
            number: a.number as u32,
            attempts_allowed: settings.attempt_limit,
            course_version: a.course_version,
            page_version: a.page_version,
            questions: quiz_for_learner(quiz, settings, a.seed)
                .into_iter()
                .map(|q| AttemptQuestion {
                    prompt_html: prompts
                        .get(q.id.as_str())
                        .map(|full| r.prompt_html(full))
                        .unwrap_or_else(|| render_markdown(&q.prompt_md)),
                    question: q,
                })
                .collect(),
            answers: answers.into_iter().collect(),
            feedback,
            started_at_ms: a.started_at_ms,
            deadline_ms: a.deadline_ms,
            server_now_ms: now,
            grace_ms: timing::GRACE_MS,
            feedback_mode: settings.feedback_mode,
            pass_mark_percent: settings.pass_mark_percent,
            state: state_of(a, now),
            checkpoint: checkpoint_for(a, now),
        })
    }

    // ---- answers -------------------------------------------------------------

    /// The learner's attempt (404 for anyone else's), with its pinned
    /// version and its course.
    async fn my_attempt(
        &self,
        l: &Learner,
        attempt_id: &AttemptId,
    ) -> Result<(Attempt, Arc<Rendered>, Arc<CourseRow>, Published), AppError> {
        let tenant = &l.who().tenant;
        let a = self
            .db
            .attempt(tenant, &l.account, attempt_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let row = self.course_row(l, &a.course_id).await?;
        let p = self.published(tenant, &row).await?;
        self.require_access(l, &row.id, &p).await?;
        let r = self.version(tenant, &a.course_id, a.course_version).await?;
        Ok((a, r, row, p))
    }

    pub async fn save(
        &self,
        l: &Learner,
        attempt_id: &AttemptId,
        question_id: &QuestionId,
        response: &Response,
        answered_at_ms: i64,
        checkpoint: Option<&str>,
    ) -> Result<SavedAnswer, AppError> {
        let (a, r, _, _) = self.my_attempt(l, attempt_id).await?;
        let quiz = r
            .quiz(&a.module_id)
            .ok_or_else(|| AppError::inconsistent("quiz of attempt"))?;
        let question = quiz
            .questions
            .iter()
            .find(|q| q.id == question_id.as_str())
            .ok_or_else(|| AppError::invalid(words::not_in_attempt()))?;
        if a.submitted_at_ms.is_some() {
            return Err(AppError::conflict(words::already_submitted()));
        }
        let json = response_json(response).map_err(|r| refused(r, &a))?;
        let now = self.now_ms();
        let accepted = check_answer_time(&a, answered_at_ms, now, checkpoint_time(&a, checkpoint))
            .map_err(|r| refused(r, &a))?;
        let at = accepted.answered_at_ms;
        if accepted.late {
            tracing::info!(attempt = %a.id, question = %question.id, "late answer from the offline journal accepted");
        }
        let merge = Merge::for_feedback(r.content.settings.feedback_mode);
        let written = self
            .db
            .save_answer(
                &l.who().tenant,
                &l.account,
                &a.id,
                &NewAnswer {
                    question_id: &question.id,
                    response_json: &json,
                    answered_at_ms: at,
                },
                now,
                merge,
            )
            .await?;
        let (applied, stored) = match written {
            AnswerWrite::Stored(row) => (true, row),
            AnswerWrite::Kept(_) if merge == Merge::FirstWins => {
                return Err(AppError::conflict(words::already_answered()))
            }
            AnswerWrite::Kept(row) => (false, row),
            AnswerWrite::Closed => return Err(AppError::conflict(words::already_submitted())),
        };
        let grade = if r.content.settings.feedback_mode == FeedbackMode::Immediate {
            serde_json::from_str::<Response>(&stored.response_json)
                .ok()
                .map(|resp| Self::question_grade(&r, question, &resp))
        } else {
            None
        };
        Ok(SavedAnswer {
            checkpoint: checkpoint_for(&a, now),
            attempt_id: a.id,
            question_id: stored.question_id,
            applied,
            answered_at_ms: stored.answered_at_ms,
            received_at_ms: stored.received_at_ms,
            grade,
        })
    }

    // ---- submit --------------------------------------------------------------

    /// Grades and stores attempt `a` (of `a.account_id`) in one transaction.
    async fn submit_in_store(
        &self,
        tenant: &TenantKey,
        a: &Attempt,
        r: &Arc<Rendered>,
        merge_answers: &[NewAnswer<'_>],
        now: i64,
        after: Option<AfterSubmit>,
    ) -> Result<SubmitOutcome, AppError> {
        if r.quiz(&a.module_id).is_none() {
            return Err(AppError::inconsistent("quiz of attempt"));
        }
        let pass_mark = r.content.settings.pass_mark_percent;
        // The grading runs where the store writes (on SQLite, the writer
        // thread), so it owns what it needs.
        let (graded, module_id) = (r.clone(), a.module_id.clone());
        Ok(self
            .db
            .submit_attempt(
                tenant,
                &a.account_id,
                &a.id,
                now,
                merge_answers,
                Merge::for_feedback(r.content.settings.feedback_mode),
                move |rows| {
                    let quiz = graded.quiz(&module_id).expect("checked above");
                    score_of(quiz, &graded.patterns, pass_mark, rows).1
                },
                after,
            )
            .await?)
    }

    fn result_of(
        a: &Attempt,
        r: &Rendered,
        rows: &[StoredAnswer],
        rejected: Vec<RejectedAnswer>,
        course_complete: bool,
    ) -> Result<AttemptResult, AppError> {
        let quiz = r
            .quiz(&a.module_id)
            .ok_or_else(|| AppError::inconsistent("quiz of attempt"))?;
        let settings = &r.content.settings;
        let (Some(submitted_at_ms), Some(score), Some(max_score), Some(percent), Some(passed)) =
            (a.submitted_at_ms, a.score, a.max_score, a.percent, a.passed)
        else {
            return Err(AppError::inconsistent("submitted attempt without a score"));
        };
        let questions = if settings.feedback_mode == FeedbackMode::Never {
            Vec::new()
        } else {
            let answered = parse_answers(rows);
            let scored = grading::score_attempt_with(&quiz.questions, &answered, &r.patterns);
            let graded = quiz.questions.iter().zip(&scored.grades).collect();
            in_attempt_order(graded, settings, a.seed)
                .into_iter()
                .map(|(q, g)| QuestionResult {
                    question_id: q.id.clone(),
                    prompt_html: r.prompt_html(q),
                    answered: answered.contains_key(&q.id),
                    score: g.score,
                    max: g.max,
                    correct: g.correct,
                    feedback_html: g.feedback_md.as_deref().map(|md| r.feedback(md)),
                    correct_answer: correct_answer(crate::locale::request_lang(), q),
                })
                .collect()
        };
        Ok(AttemptResult {
            attempt_id: a.id.clone(),
            course_id: a.course_id.clone(),
            module_id: a.module_id.clone(),
            number: a.number as u32,
            course_version: a.course_version,
            score,
            max_score,
            percent,
            passed,
            pass_mark_percent: settings.pass_mark_percent,
            started_at_ms: a.started_at_ms,
            submitted_at_ms,
            feedback_mode: settings.feedback_mode,
            questions,
            rejected,
            course_complete,
        })
    }

    /// What a submit settles in its own transaction ([`Db::submit_attempt`]):
    /// the same as [`Self::after_submit`] — the learner's standing, and the
    /// completion a pass earns — computed by the same rules from the
    /// records the transaction read. `None` (and so [`Self::after_submit`]
    /// afterwards) when those records hold an attempt abandoned past its
    /// offline window (grading it is a write of its own), or when the
    /// current completion is of another version than the latest (its
    /// certificate validity is that version's, not at hand here).
    fn settle_in_submit(&self, p: &Published, account: &str, now: i64) -> AfterSubmit {
        let p = p.clone();
        let account = account.to_owned();
        let now_secs = self.clock.now_secs();
        Box::new(move |records: &LearnerRecords, submitted: &Attempt| {
            if records
                .attempts
                .iter()
                .any(|a| a.id != submitted.id && timing::abandoned(a, now))
            {
                return None;
            }
            let s = Standing {
                opened: records.opened.iter().cloned().collect(),
                attempts: records.attempts.clone(),
                completions: records.completions.clone(),
            };
            let st = status::status(&p.rendered.content, &s, p.cycle_start);
            let earned =
                (submitted.passed == Some(true) && st.completion_due).then_some(Completion {
                    version: p.version,
                    completed_at: now_secs,
                });
            let current = match &earned {
                Some(c) => {
                    let mut all = s.completions.clone();
                    all.push(c.clone());
                    current_completion(&all, p.cycle_start)
                }
                None => st.completion.clone(),
            };
            let validity_days = match &current {
                Some(c) if c.version != p.version => return None,
                Some(_) => p.rendered.content.settings.certificate_validity_days,
                None => None,
            };
            let status =
                standing::standing_row(&account, &p, &s, &st, current.as_ref(), validity_days, now);
            Some(Settle {
                completion: earned,
                cycle_start: p.cycle_start,
                status,
            })
        })
    }

    /// After this call submitted `a`: the learner's standing is kept for the
    /// reports, and a pass may complete the course (recorded now).
    async fn after_submit(
        &self,
        l: &Learner,
        row: &CourseRow,
        p: &Published,
        a: &Attempt,
    ) -> Result<bool, AppError> {
        let tenant = &l.who().tenant;
        let s = self.standing(l, &a.course_id).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        let current = if a.passed == Some(true) {
            self.completion(l, &a.course_id, p, &st).await?
        } else {
            st.completion.clone()
        };
        self.keep_status(
            tenant,
            &row.id,
            &l.account,
            p,
            &s,
            &st,
            current.as_ref(),
            self.now_ms(),
        )
        .await?;
        Ok(a.passed == Some(true) && current.is_some())
    }

    /// After a passed attempt: is the course complete (recording it if so)?
    async fn complete_after_pass(
        &self,
        l: &Learner,
        row: &CourseRow,
        a: &Attempt,
    ) -> Result<bool, AppError> {
        if a.passed != Some(true) {
            return Ok(false);
        }
        let p = self.published(&l.who().tenant, row).await?;
        let s = self.standing(l, &a.course_id).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        Ok(self.completion(l, &a.course_id, &p, &st).await?.is_some())
    }

    pub async fn submit(
        &self,
        l: &Learner,
        attempt_id: &AttemptId,
        answers: Vec<(QuestionId, Response, i64)>,
        checkpoint: Option<&str>,
    ) -> Result<AttemptResult, AppError> {
        if answers.len() > MAX_SUBMITTED_ANSWERS {
            return Err(AppError::invalid(words::too_many_answers()));
        }
        let (a, r, row, p) = self.my_attempt(l, attempt_id).await?;
        let quiz = r
            .quiz(&a.module_id)
            .ok_or_else(|| AppError::inconsistent("quiz of attempt"))?;
        let tenant = &l.who().tenant;
        if a.submitted_at_ms.is_some() {
            let rows = self.db.answers(tenant, &a.id).await?;
            let complete = self.complete_after_pass(l, &row, &a).await?;
            return Self::result_of(&a, &r, &rows, Vec::new(), complete);
        }
        let now = self.now_ms();
        let issued = checkpoint_time(&a, checkpoint);
        let merge = Merge::for_feedback(r.content.settings.feedback_mode);
        let mut rejected = Vec::new();
        let mut checked: Vec<(String, String, i64)> = Vec::with_capacity(answers.len());
        for (question_id, response, answered_at) in answers {
            let outcome = if !quiz.questions.iter().any(|q| q.id == question_id.as_str()) {
                Err(Refusal::Invalid(words::not_in_attempt()))
            } else {
                response_json(&response).and_then(|json| {
                    check_answer_time(&a, answered_at, now, issued)
                        .map(|acc| (json, acc.answered_at_ms))
                })
            };
            match outcome {
                Err(refusal) => rejected.push(RejectedAnswer {
                    question_id: question_id.into_string(),
                    reason: words::refusal_text(&refusal, &a),
                }),
                Ok((json, at)) => checked.push((question_id.into_string(), json, at)),
            }
        }
        // One answer per question (the merge rule within the journal), in
        // question order.
        let journal: Vec<NewAnswer<'_>> = checked
            .iter()
            .map(|(q, json, at)| NewAnswer {
                question_id: q,
                response_json: json,
                answered_at_ms: *at,
            })
            .collect();
        let mut merged: Vec<NewAnswer<'_>> =
            course::learning::answers::winners_in_batch(merge, &journal)
                .into_iter()
                .cloned()
                .collect();
        merged.sort_by(|x, y| x.question_id.cmp(y.question_id));
        let after = self.settle_in_submit(&p, &l.account, now);
        match self
            .submit_in_store(tenant, &a, &r, &merged, now, Some(after))
            .await?
        {
            SubmitOutcome::Missing => Err(AppError::NotFound),
            SubmitOutcome::AlreadySubmitted(done) => {
                // A concurrent submit won; answer with its stored result.
                let rows = self.db.answers(tenant, &done.id).await?;
                let complete = self.complete_after_pass(l, &row, &done).await?;
                Self::result_of(&done, &r, &rows, Vec::new(), complete)
            }
            SubmitOutcome::Submitted {
                attempt,
                answers,
                kept,
                settled,
            } => {
                if merge == Merge::FirstWins {
                    rejected.extend(kept.into_iter().map(|question_id| RejectedAnswer {
                        question_id,
                        reason: words::already_answered(),
                    }));
                }
                let complete = match settled {
                    Some(settle) => attempt.passed == Some(true) && settle.status.complete,
                    None => self.after_submit(l, &row, &p, &attempt).await?,
                };
                Self::result_of(&attempt, &r, &answers, rejected, complete)
            }
        }
    }

    // ---- history -------------------------------------------------------------

    pub async fn history(
        &self,
        l: &Learner,
        course_id: &CourseId,
        module_id: &ModuleId,
    ) -> Result<Vec<AttemptSummary>, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let cycle_start = match row.latest_version {
            Some(_) => {
                let p = self.published(tenant, &row).await?;
                self.require_access(l, course_id, &p).await?;
                p.cycle_start
            }
            None => return Ok(Vec::new()),
        };
        let attempts = self
            .db
            .attempts(tenant, &l.account, course_id, Some(module_id))
            .await?;
        let (attempts, _) = self.grade_abandoned(tenant, attempts).await?;
        let now = self.now_ms();
        let mut out: Vec<AttemptSummary> = attempts
            .iter()
            .map(|a| AttemptSummary {
                attempt_id: a.id.clone(),
                number: a.number as u32,
                course_version: a.course_version,
                current_cycle: a.cycle_version == cycle_start,
                state: state_of(a, now),
                started_at_ms: a.started_at_ms,
                deadline_ms: a.deadline_ms,
                submitted_at_ms: a.submitted_at_ms,
                score: a.score,
                max_score: a.max_score,
                percent: a.percent,
                passed: a.passed,
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    // ---- certificate ---------------------------------------------------------

    pub async fn certificate(
        &self,
        l: &Learner,
        course_id: &CourseId,
        learner_name: impl std::future::Future<Output = Option<String>>,
    ) -> Result<Certificate, AppError> {
        let row = self.course_row(l, course_id).await?;
        let tenant = &l.who().tenant;
        let p = self.published(tenant, &row).await?;
        self.require_access(l, course_id, &p).await?;
        let s = self.standing(l, course_id).await?;
        let st = status::status(&p.rendered.content, &s, p.cycle_start);
        let Some(done) = self.completion(l, course_id, &p, &st).await? else {
            return Err(AppError::NotFound);
        };
        let at = self.version(tenant, course_id, done.version).await?;
        let completed_at_ms = done.completed_at * 1000;
        let expires_at_ms = certificate::expires_at_ms(
            completed_at_ms,
            at.content.settings.certificate_validity_days,
        );
        let (learner_name, name_from_confluence) = match learner_name.await {
            Some(name) => (name, true),
            None => (l.account.clone(), false),
        };
        Ok(Certificate {
            certificate_id: certificate::certificate_id(
                tenant.as_str(),
                course_id,
                &l.account,
                done.version,
                done.completed_at,
            ),
            course_id: course_id.to_string(),
            course_title: at.content.title.clone(),
            version: done.version,
            learner_name,
            learner_account_id: l.account.clone(),
            name_from_confluence,
            completed_at_ms,
            expires_at_ms,
            expired: certificate::expired(expires_at_ms, self.now_ms()),
        })
    }
}
