//! The learner's course view inside the page: table of contents, progress,
//! "continue where you left off", lessons with previous/next, quizzes graded
//! on the server, answers saved as they are given (and journalled in the
//! iframe's local storage while the network is down), certificate.
//!
//! Access (`LearnerCourse::access`): an enrolled learner sees their due date
//! and, once it has passed, an *Overdue* badge; a learner the course does not
//! admit yet sees the outline only, with the reason, and — for a self-enrol
//! course — an *Enrol* button; a learner unenrolled while the course is open
//! gets the outline back on their next call.

use std::{collections::BTreeMap, time::Duration};

use leptos::{prelude::*, task::spawn_local};

use super::api::{
    self, AttemptQuestion, AttemptResult, AttemptState, AttemptSummary, AttemptView, Certificate,
    LearnerAccess, LearnerCourse, ResumePoint,
};
use crate::{
    ap,
    course::{ids::InvalidId, learner::LearnerKind, model::Response},
    error::AppError,
};

/// The view holds ids as the text the server sent; server functions take
/// validated ids (see `course::ids`). A text the server sent parses, so a
/// failure is reported like any other error.
fn parse<T: TryFrom<String, Error = InvalidId>>(s: impl Into<String>) -> Result<T, AppError> {
    T::try_from(s.into()).map_err(AppError::from)
}

/// What the main area shows.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    Contents,
    Lesson(usize, usize),
    Quiz(usize),
    Certificate,
}

/// Saved state of the answers, announced politely.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SaveState {
    Idle,
    Saving,
    Saved,
    Offline,
}

fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

fn random_token() -> String {
    #[cfg(feature = "hydrate")]
    {
        (0..4)
            .map(|_| format!("{:08x}", (js_sys::Math::random() * u32::MAX as f64) as u32))
            .collect::<Vec<_>>()
            .join("-")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// The offline journal: answers not yet confirmed by the server, per attempt,
/// in the iframe's local storage (survives reloads and network loss).
///
/// Where the browser refuses the frame its storage (third-party storage
/// blocked: the Forge Custom UI frame is cross-site to Confluence, and so
/// is the simulator's Forge mode), the journal lives in memory for the
/// page's lifetime: answers are still saved and submitted, only a reload
/// while offline loses them.
mod journal {
    use super::*;

    pub(super) type Entries = BTreeMap<String, (Response, i64)>;

    fn key(attempt: &str) -> String {
        format!("smart-courses:journal:{attempt}")
    }

    /// Local storage, or memory where the frame may not use it.
    #[cfg(feature = "hydrate")]
    mod kv {
        use std::{cell::RefCell, collections::HashMap};

        thread_local! {
            static MEMORY: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
        }

        fn storage() -> Option<web_sys::Storage> {
            // `Err` (SecurityError) when storage is denied to this frame.
            web_sys::window()?.local_storage().ok()?
        }

        pub(super) fn get(key: &str) -> Option<String> {
            MEMORY
                .with(|m| m.borrow().get(key).cloned())
                .or_else(|| storage()?.get_item(key).ok().flatten())
        }

        pub(super) fn set(key: &str, value: &str) {
            let stored = storage().is_some_and(|s| s.set_item(key, value).is_ok());
            MEMORY.with(|m| {
                let mut m = m.borrow_mut();
                if stored {
                    m.remove(key);
                } else {
                    m.insert(key.to_owned(), value.to_owned());
                }
            });
        }

        pub(super) fn remove(key: &str) {
            if let Some(s) = storage() {
                let _ = s.remove_item(key);
            }
            MEMORY.with(|m| m.borrow_mut().remove(key));
        }
    }

    pub(super) fn load(attempt: &str) -> Entries {
        #[cfg(feature = "hydrate")]
        {
            kv::get(&key(attempt))
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = key(attempt);
            Entries::new()
        }
    }

    pub(super) fn store(attempt: &str, entries: &Entries) {
        #[cfg(feature = "hydrate")]
        if let Ok(text) = serde_json::to_string(entries) {
            kv::set(&key(attempt), &text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (attempt, entries);
    }

    pub(super) fn clear(attempt: &str) {
        #[cfg(feature = "hydrate")]
        {
            kv::remove(&key(attempt));
            kv::remove(&checkpoint_key(attempt));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = attempt;
    }

    fn checkpoint_key(attempt: &str) -> String {
        format!("smart-courses:checkpoint:{attempt}")
    }

    /// The latest checkpoint the server gave for the attempt: sent with
    /// answers from the journal, so those arriving after the time limit can
    /// still count (see `course::learning::timing`).
    pub(super) fn checkpoint(attempt: &str) -> Option<String> {
        #[cfg(feature = "hydrate")]
        {
            kv::get(&checkpoint_key(attempt))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = checkpoint_key(attempt);
            None
        }
    }

    /// Keeps a newer checkpoint (the server only hands them out while the
    /// attempt is open).
    pub(super) fn keep_checkpoint(attempt: &str, checkpoint: Option<&str>) {
        #[cfg(feature = "hydrate")]
        if let Some(c) = checkpoint {
            kv::set(&checkpoint_key(attempt), c);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (attempt, checkpoint);
    }
}

/// Asks for the course again ([`LearnerView`]); `Copy`, owned by the view
/// so it outlives the course bodies it rebuilds.
#[derive(Clone, Copy)]
struct Refresh {
    reload: Callback<()>,
    starts: StoredValue<u64>,
}

impl Refresh {
    fn run(self, (): ()) {
        self.reload.run(());
    }

    /// An attempt starts: course answers asked for before it are stale.
    fn attempt_starts(self) {
        self.starts.try_update_value(|n| *n += 1);
    }
}

/// The course macro for a learner. `course_id` comes from the signed macro URL.
#[component]
pub fn LearnerView(course_id: String) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let course = RwSignal::new(None::<Result<LearnerCourse, String>>);
    let screen = RwSignal::new(Screen::Contents);
    // Lives here, above the course body, so a result stays on screen while
    // the course (and its progress) reloads after a submit.
    let last_result = RwSignal::new(None::<AttemptResult>);
    let id = StoredValue::new(course_id);
    // Bumped when the learner starts (or resumes) an attempt. A course
    // reload asked for before that answers without the attempt; applied, it
    // would rebuild the body and draw the quiz's Start screen over the
    // attempt the learner is answering. Such an answer is dropped and the
    // course is asked for again once the learner leaves the quiz (a submit
    // reloads anyway). Slow answers make the race common (Forge's
    // invokeRemote takes two hops).
    let starts = StoredValue::new(0u64);
    let missed = StoredValue::new(false);
    let reload = move || {
        let asked = starts.get_value();
        missed.set_value(false);
        spawn_local(async move {
            let result = async {
                api::learner_course(parse(id.get_value())?)
                    .await?
                    .into_inner()
            }
            .await
            .map_err(|e| match e {
                AppError::NotFound => {
                    leptos_i18n::td_string!(loc, learner.not_published).to_string()
                }
                other => other.text(loc),
            });
            if starts.try_get_value() != Some(asked) {
                missed.try_set_value(true);
                return;
            }
            course.try_set(Some(result));
            ap::resize();
        });
    };
    Effect::new(move |_| reload());
    Effect::new(move |_| {
        let on_quiz = matches!(screen.get(), Screen::Quiz(_));
        if !on_quiz && missed.get_value() {
            reload();
        }
    });
    // One callback for the view's lifetime, not one per course body: a
    // lesson or quiz call that answers after a reload rebuilt the body
    // still reaches it (a callback owned by the old body would be disposed
    // by then, and running it panics).
    let reload = Refresh {
        reload: Callback::new(move |_| reload()),
        starts,
    };
    // Announced politely; outside the course body, which is rebuilt when
    // the course reloads.
    let announce = RwSignal::new(String::new());
    let enrolled = Callback::new(move |c: LearnerCourse| {
        screen.set(Screen::Contents);
        course.set(Some(Ok(c)));
        announce.set(leptos_i18n::td_string!(loc, learner.enrolled).into());
        // The Enrol button is gone: keep the keyboard where the course starts.
        refocus("sc-continue".into(), "sc-course-title".into());
        ap::resize();
    });
    view! {
        <p class="sc-visually-hidden" role="status" aria-live="polite" id="sc-enrol-status">{move || announce.get()}</p>
        {move || match course.get() {
            None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, learner.loading)}</p> }.into_any(),
            Some(Err(msg)) => view! { <section class="sc-card"><p class="sc-muted" id="sc-course-error">{msg}</p></section> }.into_any(),
            Some(Ok(c)) => view! { <CourseBody course=c screen last_result reload enrolled /> }.into_any(),
        }}
    }
}

/// `YYYY-MM-DD` (UTC) of an instant in epoch milliseconds (`<time datetime>`).
fn day_of(ms: i64) -> String {
    crate::course::charts::format_day(ms.div_euclid(86_400_000))
}

/// The learner's enrolment in words: the due date and, once it has passed,
/// an *Overdue* badge (its text says it; the colour only repeats it).
#[component]
fn EnrolmentStatus(access: LearnerAccess) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let due = access
        .enrolment
        .and_then(|e| Some((e.due_at_ms?, e.overdue)));
    due.map(|(due, overdue)| {
        view! {
            <p class="sc-enrol-status">
                <span id="sc-enrol-due" class="sc-enrol-due">
                    {leptos_i18n::td_string!(loc, learner.due)}<time datetime=day_of(due)>{lang.date(due.div_euclid(1000))}</time>
                </span>
                {overdue.then(|| view! {
                    <span id="sc-enrol-overdue" class="sc-enrol-overdue">
                        <span aria-hidden="true">"! "</span>{leptos_i18n::td_string!(loc, learner.overdue)}
                    </span>
                })}
            </p>
        }
    })
}

/// Why the learner sees the outline only, and — for a self-enrol course —
/// the *Enrol* button, which enrols them and opens the course.
#[component]
fn EnrolBanner(
    course_id: String,
    access: LearnerAccess,
    enrolled: Callback<LearnerCourse>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(course_id);
    let enrol = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match async { api::self_enrol(parse(id.get_value())?).await }.await {
                Ok(c) => enrolled.run(c),
                Err(e) => {
                    error.try_set(Some(e.text(loc)));
                    busy.try_set(false);
                    ap::resize();
                }
            }
        });
    };
    let message = access
        .message
        .unwrap_or_else(|| leptos_i18n::td_string!(loc, learner.not_open).into());
    view! {
        <div class="sc-banner sc-banner-info sc-enrol-banner" role="note" aria-labelledby="sc-enrol-message">
            <p id="sc-enrol-message" class="sc-enrol-message">
                {message}
                {leptos_i18n::td_string!(loc, learner.outline_only)}
            </p>
            {access.can_self_enrol.then(|| view! {
                <button id="sc-enrol-button" class="sc-button" type="button"
                    disabled=move || busy.get() aria-describedby="sc-enrol-message" on:click=enrol>
                    {move || if busy.get() { leptos_i18n::td_string!(loc, learner.enrolling) } else { leptos_i18n::td_string!(loc, learner.enrol) }}
                </button>
            })}
        </div>
        {move || error.get().map(|e| view! { <p class="sc-banner sc-banner-error" role="alert" id="sc-enrol-error">{e}</p> })}
    }
}

#[component]
fn CourseBody(
    course: LearnerCourse,
    screen: RwSignal<Screen>,
    last_result: RwSignal<Option<AttemptResult>>,
    reload: Refresh,
    enrolled: Callback<LearnerCourse>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let c = StoredValue::new(course);
    let progress = c.with_value(|c| c.progress.clone());
    let access = c.with_value(|c| c.access.clone());
    // Not admitted: the outline only (the server sent no lesson bodies), so
    // nothing here may lead to a lesson, a quiz or a certificate.
    let allowed = access.allowed;
    let complete = allowed && c.with_value(|c| c.completed_at_ms.is_some());
    let resume = move |_| {
        let target = c.with_value(|c| match &c.resume {
            Some(ResumePoint::Attempt { module_id, .. } | ResumePoint::Quiz { module_id }) => c
                .modules
                .iter()
                .position(|m| &m.id == module_id)
                .map(Screen::Quiz),
            Some(ResumePoint::Lesson {
                module_id,
                lesson_id,
            }) => c
                .modules
                .iter()
                .position(|m| &m.id == module_id)
                .and_then(|mi| {
                    c.modules[mi]
                        .lessons
                        .iter()
                        .position(|l| &l.id == lesson_id)
                        .map(|li| Screen::Lesson(mi, li))
                }),
            None => None,
        });
        if let Some(s) = target {
            screen.set(s);
        }
    };
    view! {
        <section class="sc-card sc-course" aria-labelledby="sc-course-title">
            <header class="sc-course-head">
                <h1 id="sc-course-title" class="sc-h1" tabindex="-1">{c.with_value(|c| c.title.to_string())}</h1>
                <div class="sc-progress" role="progressbar" aria-label={leptos_i18n::td_string!(loc, learner.course_progress)}
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow=progress.percent.to_string()>
                    <div class="sc-progress-bar" style=format!("width: {}%", progress.percent)></div>
                </div>
                <p class="sc-muted" id="sc-progress-text">
                    {crate::locale::fill(leptos_i18n::td_string!(loc, learner.progress), &[
                        &lang.percent(f64::from(progress.percent)), &progress.opened_lessons.len(), &progress.lessons_total,
                        &progress.passed_quizzes.len(), &progress.quizzes_total])}
                </p>
                <EnrolmentStatus access=access.clone() />
                {(!allowed).then(|| view! {
                    <EnrolBanner course_id=c.with_value(|c| c.course_id.to_string()) access=access.clone() enrolled />
                })}
                {(allowed && c.with_value(|c| c.recertification_due)).then(|| view! {
                    <p class="sc-banner sc-banner-warn" role="note">{leptos_i18n::td_string!(loc, learner.recertify)}</p>
                })}
                <div class="sc-row">
                    {allowed.then(|| view! {
                        <button class="sc-button sc-button-subtle" on:click=move |_| screen.set(Screen::Contents)>{leptos_i18n::td_string!(loc, learner.contents)}</button>
                    })}
                    {(allowed && c.with_value(|c| c.resume.is_some())).then(|| view! {
                        <button id="sc-continue" class="sc-button" on:click=resume>{leptos_i18n::td_string!(loc, learner.continue_where)}</button>
                    })}
                    {complete.then(|| view! {
                        <button id="sc-show-certificate" class="sc-button" on:click=move |_| screen.set(Screen::Certificate)>{leptos_i18n::td_string!(loc, learner.view_certificate)}</button>
                    })}
                </div>
            </header>
            {move || match screen.get() {
                _ if !allowed => view! { <Contents c screen /> }.into_any(),
                Screen::Contents => view! { <Contents c screen /> }.into_any(),
                Screen::Lesson(m, l) => view! { <LessonScreen c m l screen reload /> }.into_any(),
                // Loaded on first use (`#[lazy]`: their own WASM chunks, see
                // README "One bundle per Connect module").
                Screen::Quiz(m) => view! {
                    <Suspense fallback=loading>{move || Suspend::new(lazy_quiz(c, m, last_result, reload))}</Suspense>
                }.into_any(),
                Screen::Certificate => view! {
                    <Suspense fallback=loading>{move || Suspend::new(lazy_certificate(c.with_value(|c| c.course_id.to_string())))}</Suspense>
                }.into_any(),
            }}
        </section>
    }
}

/// Shown while a lazily loaded screen's code arrives.
fn loading() -> impl IntoView {
    let loc = crate::locale::use_locale();
    view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, common.loading)}</p> }
}

/// The quiz screen and everything below it (the attempt form, results,
/// history): with the feature `split-learner` (the learner bundle) a WASM chunk of
/// its own, fetched when a learner first opens a quiz. Never rendered on the
/// server (the course arrives after hydration). Without it a plain
/// async function: a `#[lazy]` function is exported from every bundle that
/// links `app`, so it would pull the quiz into the editor and admin bundles.
#[cfg_attr(feature = "split-learner", leptos::prelude::lazy)]
async fn lazy_quiz(
    c: StoredValue<LearnerCourse>,
    m: usize,
    result: RwSignal<Option<AttemptResult>>,
    reload: Refresh,
) -> AnyView {
    view! { <QuizScreen c m result reload /> }.into_any()
}

/// The certificate screen, a WASM chunk of its own like [`lazy_quiz`].
#[cfg_attr(feature = "split-learner", leptos::prelude::lazy)]
async fn lazy_certificate(course_id: String) -> AnyView {
    view! { <CertificateScreen course_id /> }.into_any()
}

#[component]
fn Contents(c: StoredValue<LearnerCourse>, screen: RwSignal<Screen>) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let course = c.get_value();
    let allowed = course.access.allowed;
    let opened = course.progress.opened_lessons.clone();
    let passed = course.progress.passed_quizzes.clone();
    view! {
        <div class="sc-lesson-body" inner_html=course.description_html.to_string()></div>
        <nav aria-label={leptos_i18n::td_string!(loc, learner.toc)}>
            <ol class="sc-toc" id="sc-toc">
                {course.modules.into_iter().enumerate().map(|(mi, m)| {
                    let done = passed.iter().any(|p| m.id == *p);
                    view! {
                        <li>
                            <strong>{m.title.to_string()}</strong>
                            <ul>
                                {m.lessons.iter().cloned().enumerate().map(|(li, l)| {
                                    let seen = opened.contains(&l.id);
                                    // Not admitted: titles only (there is nothing to open).
                                    let entry = if allowed {
                                        view! { <button class="sc-link" on:click=move |_| screen.set(Screen::Lesson(mi, li))>{l.title}</button> }.into_any()
                                    } else {
                                        view! { <span class="sc-enrol-outline-item">{l.title}</span> }.into_any()
                                    };
                                    view! {
                                        <li>
                                            {entry}
                                            {seen.then(|| view! { <span class="sc-tag" aria-label={leptos_i18n::td_string!(loc, learner.opened)}>" ✓"</span> })}
                                        </li>
                                    }
                                }).collect_view()}
                                {m.quiz.map(|q| {
                                    let label = crate::locale::fill(leptos_i18n::td_string!(loc, learner.quiz_entry), &[&q.question_count]);
                                    let entry = if allowed {
                                        view! { <button class="sc-link" on:click=move |_| screen.set(Screen::Quiz(mi))>{label}</button> }.into_any()
                                    } else {
                                        view! { <span class="sc-enrol-outline-item">{label}</span> }.into_any()
                                    };
                                    view! {
                                        <li>
                                            {entry}
                                            {done.then(|| view! { <span class="sc-tag">{leptos_i18n::td_string!(loc, learner.passed_tag)}</span> })}
                                        </li>
                                    }
                                })}
                            </ul>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

#[component]
fn LessonScreen(
    c: StoredValue<LearnerCourse>,
    m: usize,
    l: usize,
    screen: RwSignal<Screen>,
    reload: Refresh,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let (course_id, version, lesson, title, count, prev, next) = c.with_value(|c| {
        let module = &c.modules[m];
        let lesson = module.lessons[l].clone();
        // Flatten lessons (and quizzes) in course order for previous/next.
        let mut flat = Vec::new();
        for (mi, x) in c.modules.iter().enumerate() {
            for li in 0..x.lessons.len() {
                flat.push(Screen::Lesson(mi, li));
            }
            if x.quiz.is_some() {
                flat.push(Screen::Quiz(mi));
            }
        }
        let pos = flat
            .iter()
            .position(|s| *s == Screen::Lesson(m, l))
            .unwrap_or(0);
        (
            c.course_id.to_string(),
            c.version,
            lesson,
            module.title.to_string(),
            flat.len(),
            pos.checked_sub(1).and_then(|p| flat.get(p).cloned()),
            flat.get(pos + 1).cloned(),
        )
    });
    let _ = count;
    let already = c.with_value(|c| c.progress.opened_lessons.contains(&lesson.id));
    let lesson_id = lesson.id.clone();
    Effect::new(move |_| {
        if already {
            ap::resize();
            return;
        }
        let (course_id, lesson_id) = (course_id.clone(), lesson_id.clone());
        spawn_local(async move {
            let opened =
                async { api::open_lesson(parse(course_id)?, version, parse(lesson_id)?).await };
            // Refused for want of an enrolment (unenrolled meanwhile): the
            // reload shows the outline and says why.
            if let Ok(_) | Err(AppError::NotEnrolled(_)) = opened.await {
                reload.run(());
            }
            ap::resize();
        });
    });
    view! {
        <article class="sc-lesson" aria-labelledby="sc-lesson-title">
            <p class="sc-muted">{title}</p>
            <h2 id="sc-lesson-title" class="sc-h2">{lesson.title}</h2>
            <div class="sc-lesson-body" inner_html=lesson.html.as_str().to_owned()></div>
            <div class="sc-row sc-pager">
                {prev.map(|s| view! { <button class="sc-button sc-button-subtle" id="sc-prev" on:click=move |_| screen.set(s.clone())>{leptos_i18n::td_string!(loc, learner.previous)}</button> })}
                {next.map(|s| view! { <button class="sc-button" id="sc-next" on:click=move |_| screen.set(s.clone())>{leptos_i18n::td_string!(loc, learner.next)}</button> })}
            </div>
        </article>
    }
}

/// Quiz flow: summary → attempt (answers saved as given) → result.
#[component]
fn QuizScreen(
    c: StoredValue<LearnerCourse>,
    m: usize,
    result: RwSignal<Option<AttemptResult>>,
    reload: Refresh,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let (course_id, module_id, summary) = c.with_value(|c| {
        (
            c.course_id.to_string(),
            c.modules[m].id.to_string(),
            c.modules[m].quiz.clone(),
        )
    });
    let settings = c.with_value(|c| c.settings.clone());
    let attempt = RwSignal::new(None::<AttemptView>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let (cid, mid) = (StoredValue::new(course_id), StoredValue::new(module_id));
    let start = move || {
        busy.set(true);
        error.set(None);
        result.set(None);
        reload.attempt_starts();
        spawn_local(async move {
            let started = async {
                api::start_attempt(
                    parse(cid.get_value())?,
                    parse(mid.get_value())?,
                    parse(random_token())?,
                )
                .await
            };
            match started.await {
                // try_: the screen may be gone by the time the answer comes.
                Ok(a) => {
                    attempt.try_set(Some(a));
                }
                // Unenrolled meanwhile: the reload shows the outline and why.
                Err(AppError::NotEnrolled(_)) => reload.run(()),
                Err(e) => {
                    error.try_set(Some(e.text(loc)));
                }
            }
            busy.try_set(false);
            ap::resize();
        });
    };
    // An attempt in progress is resumed straight away ("continue where you left off").
    if summary
        .as_ref()
        .and_then(|s| s.open_attempt_id.as_ref())
        .is_some()
    {
        Effect::new(move |_| start());
    }
    let Some(summary) = summary else {
        return view! { <p>{leptos_i18n::td_string!(loc, learner.no_quiz)}</p> }.into_any();
    };
    view! {
        <section class="sc-quiz" aria-labelledby="sc-quiz-title">
            <h2 id="sc-quiz-title" class="sc-h2">{leptos_i18n::td_string!(loc, learner.quiz)}</h2>
            {move || error.get().map(|e| view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> })}
            {move || {
                if let Some(r) = result.get().filter(|r| mid.with_value(|m| *m == r.module_id)) {
                    return view! {
                        <ResultView r />
                        <AttemptHistory course_id=cid.get_value() module_id=mid.get_value() result />
                    }.into_any();
                }
                if let Some(a) = attempt.get() {
                    return view! { <AttemptForm a result reload /> }.into_any();
                }
                let limit = summary.attempts_allowed.map(|n| crate::locale::fill(leptos_i18n::td_string!(loc, learner.attempts_used), &[&summary.attempts_used, &n])).unwrap_or_else(|| crate::locale::fill(leptos_i18n::td_string!(loc, learner.attempts_so_far), &[&summary.attempts_used]));
                view! {
                    <p>{crate::locale::fill(leptos_i18n::td_string!(loc, learner.quiz_summary), &[&summary.question_count, &lang.percent(f64::from(settings.pass_mark_percent))])}</p>
                    <p class="sc-muted">{limit}
                        {settings.time_limit_secs.map(|s| crate::locale::fill(leptos_i18n::td_string!(loc, learner.time_limit), &[&(s / 60)]))}
                        {summary.best_percent.map(|p| crate::locale::fill(leptos_i18n::td_string!(loc, learner.best), &[&lang.percent(p)]))}
                    </p>
                    {summary.passed.then(|| view! { <p class="sc-banner sc-banner-ok">{leptos_i18n::td_string!(loc, learner.quiz_passed)}</p> })}
                    <button id="sc-start-quiz" class="sc-button" disabled=move || busy.get() on:click=move |_| start()>
                        {if summary.attempts_used > 0 { leptos_i18n::td_string!(loc, learner.try_again) } else { leptos_i18n::td_string!(loc, learner.start_quiz) }}
                    </button>
                    <AttemptHistory course_id=cid.get_value() module_id=mid.get_value() result />
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn AttemptForm(
    a: AttemptView,
    result: RwSignal<Option<AttemptResult>>,
    reload: Refresh,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let attempt_id = StoredValue::new(a.attempt_id.clone());
    journal::keep_checkpoint(&a.attempt_id, a.checkpoint.as_deref());
    // Server time = browser time + offset (the deadline is the server's).
    let offset = a.server_now_ms - now_ms();
    let answers = RwSignal::new({
        let mut map: BTreeMap<String, Response> = a.answers.clone();
        for (q, (r, _)) in journal::load(&a.attempt_id) {
            map.insert(q, r);
        }
        map
    });
    let save_state = RwSignal::new(if journal::load(&a.attempt_id).is_empty() {
        SaveState::Idle
    } else {
        SaveState::Offline
    });
    let feedback = RwSignal::new(a.feedback.clone());
    let submitting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let remaining = RwSignal::new(a.deadline_ms.map(|d| (d - (now_ms() + offset)) / 1000));

    // One flush at a time; an answer given meanwhile is picked up by the
    // next tick (`again`), so two flushes never race on the journal.
    let in_flight = StoredValue::new(false);
    let again = StoredValue::new(false);
    // A submit that could not reach the server: retried every tick until it
    // lands (the attempt id makes a repeat harmless).
    let submit_pending = RwSignal::new(false);

    // Pushes the journal to the server. An entry leaves the journal only
    // when the server took exactly that answer (a newer answer to the same
    // question, given meanwhile, stays for the next flush).
    let flush = move || {
        if in_flight.get_value() {
            again.set_value(true);
            return;
        }
        let id = attempt_id.get_value();
        let pending = journal::load(&id);
        if pending.is_empty() {
            // Nothing left to send: another view of this attempt (one this
            // form replaced, or another tab) saved what the journal held
            // when this form read it as "offline". Say so, or the form
            // would show "Offline" until the next answer.
            if save_state.get_untracked() == SaveState::Offline
                && !submitting.get_untracked()
                && !submit_pending.get_untracked()
            {
                save_state.set(SaveState::Saved);
            }
            return;
        }
        in_flight.set_value(true);
        save_state.set(SaveState::Saving);
        spawn_local(async move {
            let mut done = Vec::new();
            let mut offline = false;
            for (q, (r, at)) in pending {
                // A submit carries the whole journal; saving beside it would
                // only race it (and be refused once it lands).
                if submitting.try_get_untracked() != Some(false)
                    || submit_pending.try_get_untracked() != Some(false)
                {
                    break;
                }
                let saved = async {
                    api::save_answer(
                        parse(id.clone())?,
                        parse(q.clone())?,
                        r.clone(),
                        at,
                        journal::checkpoint(&id),
                    )
                    .await
                };
                match saved.await {
                    Ok(saved) => {
                        journal::keep_checkpoint(&id, saved.checkpoint.as_deref());
                        if let Some(g) = saved.grade {
                            feedback.try_update(|f| {
                                f.insert(q.clone(), g);
                            });
                        }
                        done.push((q, (r, at)));
                    }
                    // Network down, or the server could not store it this
                    // time: keep it and retry.
                    Err(
                        AppError::Transport(_)
                        | AppError::Internal
                        | AppError::Unavailable(_)
                        | AppError::RateLimited { .. },
                    ) => {
                        offline = true;
                        break;
                    }
                    Err(e) => {
                        // Refused for good (e.g. time is up): the submit will
                        // send the journal again and the server says which
                        // answers it could not count.
                        error.try_set(Some(e.text(loc)));
                        done.push((q, (r, at)));
                    }
                }
            }
            let mut left = journal::load(&id);
            for (q, entry) in done {
                if left.get(&q) == Some(&entry) {
                    left.remove(&q);
                }
            }
            journal::store(&id, &left);
            in_flight.set_value(false);
            save_state.try_set(if offline {
                SaveState::Offline
            } else if left.is_empty() {
                SaveState::Saved
            } else {
                again.set_value(true);
                SaveState::Saving
            });
        });
    };
    let answer = move |q: String, r: Response| {
        answers.update(|m| {
            m.insert(q.clone(), r.clone());
        });
        let id = attempt_id.get_value();
        let mut j = journal::load(&id);
        j.insert(q, (r, now_ms() + offset));
        journal::store(&id, &j);
        flush();
    };
    // An ordering question left as shown is answered with the order shown
    // (the learner was told so); sent with the submit.
    let shown_orders = StoredValue::new(
        a.questions
            .iter()
            .filter_map(|q| match &q.question.kind {
                LearnerKind::Ordering { items } => Some((
                    q.question.id.clone(),
                    items.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
                )),
                _ => None,
            })
            .collect::<Vec<_>>(),
    );
    let do_submit = move || {
        if submitting.get_untracked() {
            return;
        }
        submitting.set(true);
        error.set(None);
        let id = attempt_id.get_value();
        let mut journal_entries: Vec<(String, Response, i64)> = journal::load(&id)
            .into_iter()
            .map(|(q, (r, at))| (q, r, at))
            .collect();
        for (q, ids) in shown_orders.get_value() {
            if !answers.with_untracked(|m| m.contains_key(&q)) {
                journal_entries.push((q, Response::Order(ids), now_ms() + offset));
            }
        }
        spawn_local(async move {
            let submitted = async {
                let entries = journal_entries
                    .into_iter()
                    .map(|(q, r, at)| Ok((parse(q)?, r, at)))
                    .collect::<Result<Vec<_>, AppError>>()?;
                api::submit_attempt(parse(id.clone())?, entries, journal::checkpoint(&id)).await
            };
            match submitted.await {
                Ok(r) => {
                    journal::clear(&id);
                    submit_pending.try_set(false);
                    result.try_set(Some(r));
                    reload.run(());
                }
                Err(
                    AppError::Transport(_)
                    | AppError::Internal
                    | AppError::Unavailable(_)
                    | AppError::RateLimited { .. },
                ) => {
                    submit_pending.try_set(true);
                    save_state.try_set(SaveState::Offline);
                }
                Err(e) => {
                    submit_pending.try_set(false);
                    error.try_set(Some(e.text(loc)));
                }
            }
            submitting.try_set(false);
            ap::resize();
        });
    };
    // Retry while offline (answers, then a pending submit); count the timer down.
    let ticker = set_interval_with_handle(
        move || {
            let retry = save_state.try_get_untracked() == Some(SaveState::Offline)
                || again.try_get_value() == Some(true);
            let pending_submit = submit_pending.try_get_untracked() == Some(true);
            if retry && !pending_submit && in_flight.try_get_value() == Some(false) {
                again.try_set_value(false);
                flush();
            }
            if pending_submit {
                do_submit();
            }
            if let Some(Some(r)) = remaining.try_get_untracked() {
                remaining.try_set(Some(r - 1));
            }
        },
        Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = ticker {
            h.clear();
        }
    });
    let submit = move |_| do_submit();
    let questions = a.questions.clone();
    let total = questions.len();
    view! {
        <form class="sc-attempt" on:submit=|ev| ev.prevent_default()>
            <div class="sc-row">
                <span class="sc-muted">{crate::locale::fill(leptos_i18n::td_string!(loc, learner.attempt_n), &[&a.number])}</span>
                {move || remaining.get().map(|s| {
                    let s = s.max(0);
                    view! { <span id="sc-timer" class="sc-tag" role="timer" aria-live="off">{crate::locale::fill(leptos_i18n::td_string!(loc, learner.time_left), &[&format!("{}:{:02}", s / 60, s % 60)])}</span> }
                })}
                <span id="sc-answer-state" class="sc-save-state" role="status" aria-live="polite">
                    {move || match save_state.get() {
                        SaveState::Idle => "",
                        SaveState::Saving => leptos_i18n::td_string!(loc, learner.saving),
                        SaveState::Saved => leptos_i18n::td_string!(loc, learner.answers_saved),
                        SaveState::Offline => leptos_i18n::td_string!(loc, learner.offline_kept),
                    }}
                </span>
            </div>
            <ol class="sc-questions">
                {questions.into_iter().enumerate().map(|(i, q)| view! {
                    <li><QuestionField i total q answers feedback on_answer=Callback::new(move |(q, r)| answer(q, r)) /></li>
                }).collect_view()}
            </ol>
            {move || error.get().map(|e| view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> })}
            {move || submit_pending.get().then(|| view! {
                <p id="sc-submit-pending" class="sc-banner sc-banner-warn" role="status">
                    {leptos_i18n::td_string!(loc, learner.submit_pending)}
                </p>
            })}
            <button id="sc-submit-quiz" class="sc-button" type="button"
                disabled=move || submitting.get() || submit_pending.get() on:click=submit>{leptos_i18n::td_string!(loc, learner.submit)}</button>
        </form>
    }
}

/// How an answer was graded, in words.
fn correctness(loc: crate::locale::Locale, c: crate::course::model::Correctness) -> &'static str {
    use crate::course::model::Correctness;
    match c {
        Correctness::Correct => leptos_i18n::td_string!(loc, learner.correct),
        Correctness::Partial => leptos_i18n::td_string!(loc, learner.partial),
        Correctness::Incorrect => leptos_i18n::td_string!(loc, learner.incorrect),
    }
}

/// After the DOM has been rebuilt, focuses the element `id`, or `fallback`
/// when `id` is disabled (an item moved to either end of the list).
fn refocus(id: String, fallback: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let usable = |id: &str| {
            doc.get_element_by_id(id)
                .filter(|e| !e.has_attribute("disabled"))
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        };
        if let Some(el) = usable(&id).or_else(|| usable(&fallback)) {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, fallback);
}

#[component]
fn QuestionField(
    i: usize,
    total: usize,
    q: AttemptQuestion,
    answers: RwSignal<BTreeMap<String, Response>>,
    feedback: RwSignal<BTreeMap<String, api::QuestionGrade>>,
    on_answer: Callback<(String, Response)>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let qid = q.question.id.clone();
    let qid_s = StoredValue::new(qid.clone());
    let current = move || answers.with(|a| a.get(&qid_s.get_value()).cloned());
    let name = format!("sc-q-{i}");
    let legend_id = format!("sc-q-{i}-legend");
    let prompt_id = format!("sc-q-{i}-prompt");
    // Inputs without their own label are named by the question number and its prompt.
    let labelled_by = format!("{legend_id} {prompt_id}");
    let labelled_by_fieldset = legend_id.clone();
    let control = match q.question.kind.clone() {
        LearnerKind::SingleChoice { options } | LearnerKind::MultipleChoice { options, .. } => {
            let multiple = matches!(q.question.kind, LearnerKind::MultipleChoice { .. });
            options.into_iter().map(|o| {
                let oid = StoredValue::new(o.id.clone());
                view! {
                    <label class="sc-check sc-option">
                        <input type=if multiple { "checkbox" } else { "radio" } name=name.clone()
                            prop:checked=move || matches!(current(), Some(Response::Choice(ids)) if ids.contains(&oid.get_value()))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let mut ids = match current() { Some(Response::Choice(ids)) if multiple => ids, _ => Vec::new() };
                                ids.retain(|x| *x != oid.get_value());
                                if on { ids.push(oid.get_value()) }
                                on_answer.run((qid_s.get_value(), Response::Choice(ids)));
                            } />
                        {o.text}
                    </label>
                }
            }).collect_view().into_any()
        }
        LearnerKind::TrueFalse => view! {
            <label class="sc-check sc-option"><input type="radio" name=name.clone() prop:checked=move || current() == Some(Response::Bool(true))
                on:change=move |_| on_answer.run((qid_s.get_value(), Response::Bool(true))) />{leptos_i18n::td_string!(loc, learner.answer_true)}</label>
            <label class="sc-check sc-option"><input type="radio" name=name.clone() prop:checked=move || current() == Some(Response::Bool(false))
                on:change=move |_| on_answer.run((qid_s.get_value(), Response::Bool(false))) />{leptos_i18n::td_string!(loc, learner.answer_false)}</label>
        }.into_any(),
        LearnerKind::ShortText => view! {
            <input class="sc-input" aria-labelledby=labelled_by.clone()
                prop:value=move || match current() { Some(Response::Text(t)) => t, _ => String::new() }
                on:change=move |ev| on_answer.run((qid_s.get_value(), Response::Text(event_target_value(&ev)))) />
        }.into_any(),
        LearnerKind::Numeric => view! {
            <input class="sc-input" type="number" step="any" aria-labelledby=labelled_by.clone()
                prop:value=move || match current() { Some(Response::Number(n)) => n.to_string(), _ => String::new() }
                on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<f64>() { on_answer.run((qid_s.get_value(), Response::Number(n))) } } />
        }.into_any(),
        LearnerKind::Ordering { items } => {
            let texts: BTreeMap<String, String> = items.iter().map(|x| (x.id.clone(), x.text.clone())).collect();
            let initial: Vec<String> = items.iter().map(|x| x.id.clone()).collect();
            let texts = StoredValue::new(texts);
            let initial = StoredValue::new(initial);
            let order = move || match current() { Some(Response::Order(ids)) => ids, _ => initial.get_value() };
            view! {
                <p class="sc-muted">{leptos_i18n::td_string!(loc, learner.reorder_help)}</p>
                <ol class="sc-order">
                    {move || {
                        let ids = order();
                        let n = ids.len();
                        ids.clone().into_iter().enumerate().map(|(pos, id)| {
                            let text = texts.with_value(|t| t.get(&id).cloned().unwrap_or_default());
                            let ids_up = ids.clone();
                            let ids_down = ids.clone();
                            // The list is rebuilt after a move: keep the keyboard focus on
                            // the moved item's button (or its other one at either end).
                            let up_id = format!("sc-q-{i}-{id}-up");
                            let down_id = format!("sc-q-{i}-{id}-down");
                            let (up_again, down_again) = (up_id.clone(), down_id.clone());
                            let (up_other, down_other) = (down_id.clone(), up_id.clone());
                            view! {
                                <li class="sc-row">
                                    <span>{text.clone()}</span>
                                    <button type="button" id=up_id class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, learner.move_up), &[&text])} disabled=pos == 0
                                        on:click=move |_| { let mut v = ids_up.clone(); if pos > 0 { v.swap(pos, pos - 1); on_answer.run((qid_s.get_value(), Response::Order(v))); refocus(up_again.clone(), up_other.clone()) } }>"↑"</button>
                                    <button type="button" id=down_id class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, learner.move_down), &[&text])} disabled={ pos + 1 >= n }
                                        on:click=move |_| { let mut v = ids_down.clone(); if pos + 1 < v.len() { v.swap(pos, pos + 1); on_answer.run((qid_s.get_value(), Response::Order(v))); refocus(down_again.clone(), down_other.clone()) } }>"↓"</button>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ol>
            }.into_any()
        }
        LearnerKind::Matching { prompts, answers: choices } => {
            let choices = StoredValue::new(choices);
            prompts.into_iter().map(|p| {
                let pid = StoredValue::new(p.id.clone());
                let picked = move || match current() {
                    Some(Response::Match(pairs)) => pairs.into_iter().find(|(x, _)| *x == pid.get_value()).map(|(_, a)| a),
                    _ => None,
                };
                view! {
                    <label class="sc-label sc-inline sc-match">
                        <span>{p.text}</span>
                        <select class="sc-input" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let mut pairs = match current() { Some(Response::Match(p)) => p, _ => Vec::new() };
                            pairs.retain(|(x, _)| *x != pid.get_value());
                            if !v.is_empty() { pairs.push((pid.get_value(), v)) }
                            on_answer.run((qid_s.get_value(), Response::Match(pairs)));
                        }>
                            <option value="" selected=move || picked().is_none()>{leptos_i18n::td_string!(loc, learner.choose)}</option>
                            {choices.get_value().into_iter().map(|c| {
                                let cid = c.id.clone();
                                view! { <option value=c.id.clone() selected=move || picked().as_deref() == Some(cid.as_str())>{c.text}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                }
            }).collect_view().into_any()
        }
    };
    view! {
        <fieldset class="sc-fieldset sc-question" aria-labelledby=labelled_by_fieldset>
            <legend id=legend_id>{crate::locale::fill(if q.question.points == 1.0 { leptos_i18n::td_string!(loc, learner.question_of_one) } else { leptos_i18n::td_string!(loc, learner.question_of_many) }, &[&(i + 1), &total, &lang.decimal(q.question.points, 2)])}</legend>
            <div class="sc-lesson-body" id=prompt_id inner_html=q.prompt_html></div>
            {control}
            {move || feedback.with(|f| f.get(&qid).cloned()).map(|g| view! {
                <div class="sc-feedback" role="status">
                    <strong>{format!("{} · {} / {}", correctness(loc, g.correct), lang.decimal(g.score, 2), lang.decimal(g.max, 2))}</strong>
                    {g.feedback_html.map(|h| view! { <div inner_html=h></div> })}
                </div>
            })}
        </fieldset>
    }
}

#[component]
fn ResultView(r: AttemptResult) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    view! {
        <div id="sc-result" role="status" class=if r.passed { "sc-banner sc-banner-ok" } else { "sc-banner sc-banner-warn" }>
            <strong id="sc-score">{lang.percent(r.percent)}</strong>
            {crate::locale::fill(leptos_i18n::td_string!(loc, learner.result_points), &[&lang.decimal(r.score, 2), &lang.decimal(r.max_score, 2)])}
            {if r.passed { leptos_i18n::td_string!(loc, learner.you_passed) } else { leptos_i18n::td_string!(loc, learner.not_passed_yet) }}
            {crate::locale::fill(leptos_i18n::td_string!(loc, learner.result_pass_mark), &[&lang.percent(f64::from(r.pass_mark_percent))])}
        </div>
        <ol class="sc-questions">
            {r.questions.into_iter().map(|q| view! {
                <li class="sc-question">
                    <div class="sc-lesson-body" inner_html=q.prompt_html></div>
                    <p><strong>{correctness(loc, q.correct)}</strong>{format!(" · {} / {}", lang.decimal(q.score, 2), lang.decimal(q.max, 2))}</p>
                    {(!q.correct_answer.is_empty()).then(|| view! {
                        <p class="sc-muted">{leptos_i18n::td_string!(loc, learner.correct_answer)}{q.correct_answer.join("; ")}</p>
                    })}
                    {q.feedback_html.map(|h| view! { <div class="sc-feedback" inner_html=h></div> })}
                </li>
            }).collect_view()}
        </ol>
    }
}

/// The learner's attempts at one quiz, newest first, with scores (fetched
/// again after each submit).
#[component]
fn AttemptHistory(
    course_id: String,
    module_id: String,
    result: RwSignal<Option<AttemptResult>>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let rows = RwSignal::new(None::<Vec<AttemptSummary>>);
    let ids = StoredValue::new((course_id, module_id));
    Effect::new(move |_| {
        result.track();
        let (cid, mid) = ids.get_value();
        spawn_local(async move {
            let history = async { api::attempt_history(parse(cid)?, parse(mid)?).await };
            if let Ok(h) = history.await {
                rows.set(Some(h));
                ap::resize();
            }
        });
    });
    let when = move |ms: i64| lang.date_time(ms.div_euclid(1000));
    move || {
        rows.get().filter(|r| !r.is_empty()).map(|r| {
            view! {
                <section class="sc-history" aria-labelledby="sc-history-title">
                    <h3 id="sc-history-title" class="sc-h3">{leptos_i18n::td_string!(loc, learner.your_attempts)}</h3>
                    <table class="sc-table" id="sc-history">
                        <caption class="sc-visually-hidden">{leptos_i18n::td_string!(loc, learner.attempts_caption)}</caption>
                        <thead><tr>
                            <th scope="col">{leptos_i18n::td_string!(loc, learner.attempt)}</th><th scope="col">{leptos_i18n::td_string!(loc, learner.started)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, learner.submitted)}</th><th scope="col">{leptos_i18n::td_string!(loc, learner.score)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, learner.result)}</th>
                        </tr></thead>
                        <tbody>
                            {r.into_iter().map(|a| {
                                let label = if a.current_cycle {
                                    crate::locale::fill(leptos_i18n::td_string!(loc, learner.attempt_label), &[&a.number, &a.course_version])
                                } else {
                                    crate::locale::fill(leptos_i18n::td_string!(loc, learner.attempt_label_old), &[&a.number, &a.course_version])
                                };
                                let submitted = match (a.state, a.submitted_at_ms) {
                                    (_, Some(ms)) => when(ms),
                                    (AttemptState::InProgress, None) => leptos_i18n::td_string!(loc, learner.in_progress).to_string(),
                                    (_, None) => leptos_i18n::td_string!(loc, learner.time_up).to_string(),
                                };
                                let score = match (a.percent, a.score, a.max_score) {
                                    (Some(p), Some(s), Some(m)) => crate::locale::fill(leptos_i18n::td_string!(loc, learner.score_of), &[&lang.percent(p), &lang.decimal(s, 2), &lang.decimal(m, 2)]),
                                    _ => "—".to_string(),
                                };
                                let outcome = match a.passed {
                                    Some(true) => leptos_i18n::td_string!(loc, learner.passed),
                                    Some(false) => leptos_i18n::td_string!(loc, learner.not_passed),
                                    None => "—",
                                };
                                view! {
                                    <tr class="sc-history-row">
                                        <th scope="row">{label}</th>
                                        <td>{when(a.started_at_ms)}</td>
                                        <td>{submitted}</td>
                                        <td>{score}</td>
                                        <td>{outcome}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}

#[component]
fn CertificateScreen(course_id: String) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let cert = RwSignal::new(None::<Result<Certificate, String>>);
    let id = StoredValue::new(course_id);
    Effect::new(move |_| {
        spawn_local(async move {
            let r = async { api::certificate(parse(id.get_value())?).await }
                .await
                .map_err(|e| e.text(loc));
            cert.try_set(Some(r));
            ap::resize();
        });
    });
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        {move || match cert.get() {
            None => view! { <p class="sc-muted">{leptos_i18n::td_string!(loc, common.loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="sc-error">{e}</p> }.into_any(),
            Some(Ok(c)) => view! {
                <article class="sc-certificate" id="sc-certificate" aria-label={leptos_i18n::td_string!(loc, certificate.title)}>
                    <p class="sc-muted">{leptos_i18n::td_string!(loc, certificate.title)}</p>
                    <h2 class="sc-cert-name" id="sc-cert-name">{c.learner_name}</h2>
                    <p>{leptos_i18n::td_string!(loc, certificate.has_completed)}</p>
                    <h3 class="sc-h2" id="sc-cert-course">{c.course_title}</h3>
                    <p>{crate::locale::fill(leptos_i18n::td_string!(loc, certificate.completed), &[&c.version, &lang.date(c.completed_at_ms.div_euclid(1000))])}</p>
                    {c.expires_at_ms.map(|e| view! { <p>{crate::locale::fill(if c.expired { leptos_i18n::td_string!(loc, certificate.valid_until_expired) } else { leptos_i18n::td_string!(loc, certificate.valid_until) }, &[&lang.date(e.div_euclid(1000))])}</p> })}
                    <p class="sc-muted">{crate::locale::fill(leptos_i18n::td_string!(loc, certificate.number), &[&c.certificate_id])}</p>
                    <button class="sc-button sc-no-print" on:click=print>{leptos_i18n::td_string!(loc, certificate.print)}</button>
                </article>
            }.into_any(),
        }}
    }
}
