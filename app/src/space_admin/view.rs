//! The space tools tab: what a space administrator sees of Smart Courses.
//!
//! Two levels, each with tabs (WAI-ARIA tabs: arrow keys, Home/End):
//!
//! - the **space**: its courses ([`overview`]: page title with a link, access
//!   mode, version, enrolled / in progress / completed / overdue; paged) and
//!   the space's audit log ([`audit`]);
//! - one **course**, opened from the list: *Learners* ([`report`]: counts,
//!   charts, the filtered, sorted, paged learner table with bulk actions, and
//!   one learner's attempts in [`learner`]), *Enrolments* ([`enrol`]: people,
//!   group rules, sync), *Analytics* ([`analytics`]: per question) and
//!   *Audit log*.
//!
//! The server renders the shell ("Loading…"); every call goes out from the
//! browser (Effects and `spawn_local`) with the AP context token, so the
//! markup hydrates unchanged. Outcomes are announced in `role="status"`
//! regions, failures in `role="alert"`. Only space administrators get data:
//! the server asks Confluence on every call.

// Leptos's `#[component]` expands a `pub(super)` component into items the
// `unreachable_pub` lint reads as `pub`; the parts are private to the tab.
#[allow(unreachable_pub)]
mod analytics;
#[allow(unreachable_pub)]
mod audit;
#[allow(unreachable_pub)]
mod download;
#[allow(unreachable_pub)]
mod enrol;
mod format;
#[allow(unreachable_pub)]
mod learner;
#[allow(unreachable_pub)]
mod overview;
#[allow(unreachable_pub)]
mod report;
#[allow(unreachable_pub)]
mod support;

use course::ids::CourseId;
use leptos::{ev, prelude::*, task::spawn_local};

use super::api::{self, CourseReport, ReportQuery, SpaceCourseRow, SpaceOverview};
use crate::{ap, error::AppError, locale::Locale};

/// An error as a space admin reads it.
pub(crate) fn message(e: AppError) -> String {
    let loc = crate::locale::use_locale();
    match e {
        AppError::Forbidden => leptos_i18n::td_string!(loc, admin.forbidden).to_string(),
        AppError::NotFound => leptos_i18n::td_string!(loc, admin.course_gone).to_string(),
        other => other.text(loc),
    }
}

/// The outcome of something the admin did, shown where they did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Done; announced politely.
    Ok(String),
    /// Failed; announced at once.
    Error(String),
}

impl Notice {
    pub(crate) fn ok(text: impl Into<String>) -> Self {
        Notice::Ok(text.into())
    }

    pub(crate) fn error(text: impl Into<String>) -> Self {
        Notice::Error(text.into())
    }

    /// `Ok(text)` or the error's message.
    pub(crate) fn from_result(r: Result<String, AppError>) -> Self {
        match r {
            Ok(t) => Notice::Ok(t),
            Err(e) => Notice::Error(message(e)),
        }
    }
}

/// A live region for [`Notice`]s: always in the page (so screen readers
/// hear what is put in it), the text replaced on every notice.
#[component]
fn NoticeArea(id: &'static str, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    view! {
        <div id=id class="sc-admin-notice" role="status" aria-live="polite">
            {move || match notice.get() {
                Some(Notice::Ok(text)) => Some(view! { <p class="sc-banner sc-banner-ok">{text}</p> }),
                _ => None,
            }}
        </div>
        {move || match notice.get() {
            Some(Notice::Error(text)) => Some(view! {
                <p class="sc-banner sc-banner-error" role="alert">{text}</p>
            }),
            _ => None,
        }}
    }
}

/// Lets the host resize the iframe once the DOM has the new content.
pub(crate) fn resize_soon() {
    request_animation_frame(ap::resize);
}

/// Moves keyboard focus to the element `id` once it is rendered.
pub(crate) fn focus_soon(id: String) {
    request_animation_frame(move || {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(el) = document()
                .get_element_by_id(&id)
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    });
}

/// One tab of a [`Tabs`] strip.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TabDef<T: 'static> {
    pub key: T,
    /// The tab's name in the page's language.
    pub label: fn(Locale) -> &'static str,
    /// The tab is `sc-tab-{id}`, its panel `sc-panel-{id}`.
    pub id: &'static str,
}

/// A WAI-ARIA tab strip: the current tab is the one in the tab order;
/// arrow keys, Home and End move between tabs and show them.
#[component]
fn Tabs<T>(label: &'static str, tabs: &'static [TabDef<T>], current: RwSignal<T>) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    let loc = crate::locale::use_locale();
    let keydown = move |ev: ev::KeyboardEvent| {
        let at = tabs
            .iter()
            .position(|t| t.key == current.get_untracked())
            .unwrap_or(0);
        let to = match ev.key().as_str() {
            "ArrowRight" => (at + 1) % tabs.len(),
            "ArrowLeft" => (at + tabs.len() - 1) % tabs.len(),
            "Home" => 0,
            "End" => tabs.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        current.set(tabs[to].key);
        focus_soon(format!("sc-tab-{}", tabs[to].id));
    };
    view! {
        <div class="sc-admin-tabs" role="tablist" aria-label=label on:keydown=keydown>
            {tabs.iter().map(|t| {
                let key = t.key;
                let on = move || current.get() == key;
                view! {
                    <button
                        type="button"
                        role="tab"
                        class="sc-admin-tab"
                        id=format!("sc-tab-{}", t.id)
                        aria-controls=format!("sc-panel-{}", t.id)
                        aria-selected=move || if on() { "true" } else { "false" }
                        tabindex=move || if on() { "0" } else { "-1" }
                        on:click=move |_| current.set(key)
                    >
                        {(t.label)(loc)}
                    </button>
                }
            }).collect_view()}
        </div>
    }
}

/// A tab's panel. Its content is made the first time the tab is shown and
/// kept (hidden) afterwards, so what the admin typed survives switching.
#[component]
fn TabPanel<T>(tab: TabDef<T>, current: RwSignal<T>, children: ChildrenFn) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    let key = tab.key;
    let shown = move || current.get() == key;
    let visited = RwSignal::new(false);
    Effect::new(move |_| {
        if shown() {
            visited.set(true);
            resize_soon();
        }
    });
    view! {
        <div
            role="tabpanel"
            class="sc-admin-panel"
            id=format!("sc-panel-{}", tab.id)
            aria-labelledby=format!("sc-tab-{}", tab.id)
            hidden=move || !shown()
        >
            {move || (visited.get() || shown()).then(|| children())}
        </div>
    }
}

/// What the open course's tabs share: its id, the report on show and the
/// query that produced it. `reload` fetches the report again (after every
/// change) and tells the audit log to catch up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CourseCtx {
    pub id: StoredValue<String>,
    pub row: StoredValue<SpaceCourseRow>,
    pub report: RwSignal<Option<Result<CourseReport, String>>>,
    /// A request is out.
    pub loading: RwSignal<bool>,
    pub query: RwSignal<ReportQuery>,
    /// Bumped to reload.
    pub changes: RwSignal<u64>,
}

impl CourseCtx {
    pub(crate) fn course_id(&self) -> Result<CourseId, AppError> {
        Ok(CourseId::parse(self.id.get_value())?)
    }

    pub(crate) fn reload(&self) {
        self.changes.update(|n| *n += 1);
    }

    /// The page's title (for file names and headings).
    pub(crate) fn title(&self) -> String {
        self.row.with_value(|r| r.title.clone())
    }

    /// A learner's name as the report shows it (account id if unknown).
    pub(crate) fn name_of(&self, account_id: &str) -> String {
        self.report
            .with_untracked(|r| {
                r.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .and_then(|r| r.rows.iter().find(|row| row.account_id == account_id))
                    .and_then(|row| row.name.clone())
            })
            .unwrap_or_else(|| account_id.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpaceTab {
    Courses,
    Audit,
}

const SPACE_TABS: &[TabDef<SpaceTab>] = &[
    TabDef {
        key: SpaceTab::Courses,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_courses),
        id: "courses",
    },
    TabDef {
        key: SpaceTab::Audit,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_audit),
        id: "space-audit",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CourseTab {
    Learners,
    Enrolments,
    Analytics,
    Audit,
}

const COURSE_TABS: &[TabDef<CourseTab>] = &[
    TabDef {
        key: CourseTab::Learners,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_learners),
        id: "learners",
    },
    TabDef {
        key: CourseTab::Enrolments,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_enrolments),
        id: "enrolments",
    },
    TabDef {
        key: CourseTab::Analytics,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_analytics),
        id: "analytics",
    },
    TabDef {
        key: CourseTab::Audit,
        label: |loc| leptos_i18n::td_string!(loc, admin.tab_audit),
        id: "course-audit",
    },
];

/// The space tools tab.
#[component]
pub fn SpaceAdminView() -> impl IntoView {
    let loc = crate::locale::use_locale();
    let space = RwSignal::new(None::<String>);
    let overview = RwSignal::new(None::<Result<SpaceOverview, String>>);
    let page = RwSignal::new(0u32);
    let open = RwSignal::new(None::<SpaceCourseRow>);
    let tab = RwSignal::new(SpaceTab::Courses);
    let refresh = RwSignal::new(0u64);
    Effect::new(move |_| {
        spawn_local(async move {
            let key = match ap::context().await {
                Ok(c) => c.confluence.space.map(|s| s.key),
                Err(_) => None,
            };
            space.try_set(key);
        });
    });
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let p = page.get();
        refresh.track();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let r = api::space_overview(p).await.map_err(message);
            if generation.try_get_value() == Some(mine) {
                if let Ok(o) = &r {
                    if space.get_untracked().is_none() {
                        space.try_set(Some(o.space_key.clone()));
                    }
                }
                overview.try_set(Some(r));
                resize_soon();
            }
        });
    });
    let open_course = Callback::new(move |row: SpaceCourseRow| {
        open.set(Some(row));
        focus_soon("sc-report-title".into());
        resize_soon();
    });
    let close_course = Callback::new(move |()| {
        let back_to = open.get_untracked().map(|r| format!("sc-open-{}", r.id));
        open.set(None);
        refresh.update(|n| *n += 1);
        if let Some(id) = back_to {
            focus_soon(id);
        }
        resize_soon();
    });
    let course_id = Memo::new(move |_| open.with(|o| o.as_ref().map(|r| r.id.clone())));
    view! {
            <div class="sc-admin">
                <header class="sc-admin-head">
                    <h1 class="sc-h1">"Smart Courses"</h1>
                    <p class="sc-muted">
    {leptos_i18n::td_string!(loc, admin.intro)}
                        <strong id="sc-admin-space">{move || space.get().unwrap_or_default()}</strong>
                    </p>
                </header>
                {move || match overview.get() {
                    None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, common.loading)}</p> }.into_any(),
                    Some(Err(e)) => view! {
                        <p class="sc-banner sc-banner-error" id="sc-admin-error" role="alert">{e}</p>
                    }.into_any(),
                    Some(Ok(_)) => ().into_any(),
                }}
                <Show when=move || matches!(overview.get(), Some(Ok(_))) && course_id.get().is_none()>
                    <section class="sc-card" aria-label={leptos_i18n::td_string!(loc, admin.space_administration)}>
                        <Tabs label=leptos_i18n::td_string!(loc, admin.space_administration) tabs=SPACE_TABS current=tab />
                        <TabPanel tab=SPACE_TABS[0] current=tab>
                            <overview::Overview overview page open_course />
                        </TabPanel>
                        <TabPanel tab=SPACE_TABS[1] current=tab>
                            // Loaded on first use (see `lazy_space_tools`).
                            <Suspense fallback=loading>{move || Suspend::new(lazy_space_tools())}</Suspense>
                        </TabPanel>
                    </section>
                </Show>
                {move || course_id.get().and_then(|_| open.get_untracked()).map(|row| view! {
                    <Suspense fallback=loading>{move || Suspend::new(lazy_course_panel(row.clone(), close_course))}</Suspense>
                })}
            </div>
        }
}

/// Shown while a lazily loaded panel's code arrives.
fn loading() -> impl IntoView {
    let loc = crate::locale::use_locale();
    view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, common.loading)}</p> }
}

/// A course's panel (report, enrolments, analytics, audit, a learner's
/// attempts, downloads): with the feature `split-admin` (the admin bundle) a
/// WASM chunk of its own, fetched when an admin first opens a course; without
/// it a plain async function (a `#[lazy]` function is exported from every
/// bundle that links `app`). Never rendered on the server: the overview
/// arrives after hydration.
#[cfg_attr(feature = "split-admin", leptos::prelude::lazy)]
async fn lazy_course_panel(row: SpaceCourseRow, close: Callback<()>) -> AnyView {
    view! { <CoursePanel row close /> }.into_any()
}

/// The space-wide tab (support access, the space's audit log), loaded on
/// first use like [`lazy_course_panel`].
#[cfg_attr(feature = "split-admin", leptos::prelude::lazy)]
async fn lazy_space_tools() -> AnyView {
    view! {
        <support::SupportAccess />
        <audit::AuditLog course=None />
    }
    .into_any()
}

/// One course: header and its four tabs.
#[component]
fn CoursePanel(row: SpaceCourseRow, close: Callback<()>) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let ctx = CourseCtx {
        id: StoredValue::new(row.id.clone()),
        row: StoredValue::new(row),
        report: RwSignal::new(None),
        loading: RwSignal::new(false),
        query: RwSignal::new(ReportQuery::default()),
        changes: RwSignal::new(0),
    };
    let tab = RwSignal::new(CourseTab::Learners);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let q = ctx.query.get();
        ctx.changes.track();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        ctx.loading.set(true);
        spawn_local(async move {
            let r = async { api::course_report(ctx.course_id()?, q).await }
                .await
                .map_err(message);
            if generation.try_get_value() == Some(mine) {
                ctx.report.try_set(Some(r));
                ctx.loading.try_set(false);
                resize_soon();
            }
        });
    });
    let header = move || {
        let fallback = ctx.row.get_value();
        let fresh = ctx.report.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| r.course.clone())
        });
        match fresh {
            Some(h) => (
                h.title,
                h.course_title,
                h.page_url,
                h.version,
                h.access,
                Some((h.lessons_total, h.quizzes_total)),
            ),
            None => (
                fallback.title,
                fallback.course_title,
                fallback.page_url,
                fallback.latest_version,
                fallback.access,
                None,
            ),
        }
    };
    view! {
        <section class="sc-card sc-admin-course" aria-labelledby="sc-report-title" id="sc-course">
            <button type="button" class="sc-link sc-admin-back" id="sc-admin-back" on:click=move |_| close.run(())>
                <span aria-hidden="true">"← "</span>{leptos_i18n::td_string!(loc, admin.all_courses)}
            </button>
            {move || {
                let (title, course_title, url, version, access, totals) = header();
                let sub = (course_title != title).then_some(course_title);
                view! {
                    <h2 class="sc-h1 sc-admin-course-title" id="sc-report-title" tabindex="-1">
                        {match url {
                            Some(href) => view! {
                                <a href=href target="_top" class="sc-admin-page-link">{title}</a>
                            }.into_any(),
                            None => view! { <span>{title}</span> }.into_any(),
                        }}
                        {sub.map(|s| view! { <span class="sc-admin-sub">{s}</span> })}
                    </h2>
                    <p class="sc-admin-meta" id="sc-course-meta">
                        <span>{match version {
                            Some(v) => crate::locale::fill(leptos_i18n::td_string!(loc, admin.published_version), &[&v]),
                            None => leptos_i18n::td_string!(loc, admin.draft_only).into(),
                        }}</span>
                        <span>{crate::authoring::editor::access_long_label(loc, access)}</span>
                        {totals.map(|(l, q)| view! {
                            <span>{crate::locale::fill(match (l == 1, q == 1) {
                                (false, false) => leptos_i18n::td_string!(loc, admin.lessons_quizzes),
                                (true, false) => leptos_i18n::td_string!(loc, admin.lesson_quizzes),
                                (false, true) => leptos_i18n::td_string!(loc, admin.lessons_quiz),
                                (true, true) => leptos_i18n::td_string!(loc, admin.lesson_quiz),
                            }, &[&l, &q])}</span>
                        })}
                    </p>
                }
            }}
            <Tabs label=leptos_i18n::td_string!(loc, admin.course_administration) tabs=COURSE_TABS current=tab />
            <TabPanel tab=COURSE_TABS[0] current=tab>
                <report::Learners ctx />
            </TabPanel>
            <TabPanel tab=COURSE_TABS[1] current=tab>
                <enrol::Enrolments ctx />
            </TabPanel>
            <TabPanel tab=COURSE_TABS[2] current=tab>
                <analytics::Analytics ctx />
            </TabPanel>
            <TabPanel tab=COURSE_TABS[3] current=tab>
                <audit::AuditLog course=Some(ctx) />
            </TabPanel>
        </section>
    }
}
