//! The macro editor UI: outline on the left, the selected item on the right,
//! autosave with a visible state, validation, versions, import/export.
//!
//! Rendering rule that keeps typing smooth: panels re-render only when the
//! *selection* or the *structure* (items added, removed, moved) changes;
//! text fields read the draft reactively through `prop:value` and write it
//! back on input, so an input is never re-created while someone types in it.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use serde_json::{Map, Value};

use super::api::{self, EditorState, ImportFormat, Outline, VersionInfo};
use crate::{
    ap,
    course::{
        model::{
            ChoiceOption, CourseContent, FeedbackMode, Item, Lesson, Module, Pair, Question,
            QuestionKind, Quiz, TextAnswer, TextMatch,
        },
        validate::validate_course,
    },
    error::AppError,
};
use course::ids::CourseId;

/// What the right-hand panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sel {
    Course,
    Module(usize),
    Lesson(usize, usize),
    Quiz(usize),
    Versions,
}

/// Autosave state, shown in the header (and announced politely).
#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    Saved,
    Dirty,
    Saving,
    Offline,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Loading,
    Ready,
    Failed(String),
}

/// All editor state, as signals (cheap to copy into closures).
#[derive(Clone, Copy)]
struct Ctx {
    phase: RwSignal<Phase>,
    course_id: RwSignal<Option<CourseId>>,
    can_edit: RwSignal<bool>,
    draft: RwSignal<CourseContent>,
    outline: RwSignal<Outline>,
    revision: RwSignal<i64>,
    latest_version: RwSignal<Option<i64>>,
    versions: RwSignal<Vec<VersionInfo>>,
    other_page: RwSignal<bool>,
    sel: RwSignal<Sel>,
    structure: RwSignal<u64>,
    save: RwSignal<SaveState>,
    edit_gen: RwSignal<u64>,
    notice: RwSignal<Option<(bool, String)>>,
    busy: RwSignal<bool>,
    /// The author marks the change as material (re-certification due).
    material: RwSignal<bool>,
}

/// How long typing must pause before the draft is saved.
const AUTOSAVE_AFTER: Duration = Duration::from_millis(700);
/// Retry interval while the server cannot be reached.
const RETRY_AFTER: Duration = Duration::from_secs(3);

fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "hydrate")]
    let t = js_sys::Date::now() as u64;
    #[cfg(not(feature = "hydrate"))]
    let t = 0u64;
    crate::course::model::new_id(t.wrapping_mul(1_000_003) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl Ctx {
    fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Loading),
            course_id: RwSignal::new(None),
            can_edit: RwSignal::new(false),
            draft: RwSignal::new(CourseContent {
                title: String::new(),
                description_md: String::new(),
                modules: Vec::new(),
                settings: Default::default(),
            }),
            outline: RwSignal::new(Outline::default()),
            revision: RwSignal::new(0),
            latest_version: RwSignal::new(None),
            versions: RwSignal::new(Vec::new()),
            other_page: RwSignal::new(false),
            sel: RwSignal::new(Sel::Course),
            structure: RwSignal::new(0),
            save: RwSignal::new(SaveState::Saved),
            edit_gen: RwSignal::new(0),
            notice: RwSignal::new(None),
            busy: RwSignal::new(false),
            material: RwSignal::new(false),
        }
    }

    fn apply(self, s: EditorState) {
        self.course_id.set(s.course_id);
        self.can_edit.set(s.can_edit);
        if let Some(c) = s.content {
            self.draft.set(c);
        }
        self.outline.set(s.outline);
        self.revision.set(s.revision);
        self.latest_version.set(s.latest_version);
        self.versions.set(s.versions);
        self.other_page.set(s.belongs_to_other_page);
        self.save.set(SaveState::Saved);
        self.structure.update(|n| *n += 1);
        self.phase.set(Phase::Ready);
    }

    /// A text edit: change the draft, mark dirty, schedule an autosave.
    fn edit(self, f: impl FnOnce(&mut CourseContent)) {
        self.draft.update(f);
        self.edit_gen.update(|g| *g += 1);
        if self.save.get_untracked() != SaveState::Saving {
            self.save.set(SaveState::Dirty);
        }
        self.schedule_save(AUTOSAVE_AFTER);
    }

    /// A structural edit (add/remove/move): also re-render the panels.
    fn edit_structure(self, f: impl FnOnce(&mut CourseContent)) {
        self.edit(f);
        self.structure.update(|n| *n += 1);
    }

    fn schedule_save(self, after: Duration) {
        let gen = self.edit_gen.get_untracked();
        set_timeout(
            move || {
                if self.edit_gen.get_untracked() == gen {
                    self.save_now();
                }
            },
            after,
        );
    }

    fn save_now(self) {
        if !self.can_edit.get_untracked() || self.other_page.get_untracked() {
            return;
        }
        match self.save.get_untracked() {
            SaveState::Saving | SaveState::Saved => return,
            SaveState::Failed(_) => return,
            _ => {}
        }
        self.save.set(SaveState::Saving);
        let gen = self.edit_gen.get_untracked();
        spawn_local(async move {
            let result = api::save_draft(
                self.course_id.get_untracked(),
                self.revision.get_untracked(),
                self.draft.get_untracked(),
            )
            .await;
            match result {
                Ok(saved) => {
                    self.course_id.set(Some(saved.course_id));
                    self.revision.set(saved.revision);
                    if self.edit_gen.get_untracked() == gen {
                        self.save.set(SaveState::Saved);
                    } else {
                        self.save.set(SaveState::Dirty);
                        self.schedule_save(Duration::from_millis(50));
                    }
                }
                Err(AppError::Transport(_)) => {
                    self.save.set(SaveState::Offline);
                    self.schedule_save(RETRY_AFTER);
                }
                Err(e) => self.save.set(SaveState::Failed(e.to_string())),
            }
        });
    }

    fn say(self, ok: bool, text: impl Into<String>) {
        self.notice.set(Some((ok, text.into())));
        ap::resize();
    }
}

async fn load(ctx: Ctx) {
    let course = match ap::macro_data().await {
        Ok(params) => params
            .get("course")
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty()),
        Err(e) => {
            ctx.phase.set(Phase::Failed(e.to_string()));
            return;
        }
    };
    let course = match course.map(CourseId::parse).transpose() {
        Ok(c) => c,
        Err(e) => {
            ctx.phase.set(Phase::Failed(e.message().to_string()));
            return;
        }
    };
    match api::editor_open(course).await {
        Ok(s) => ctx.apply(s),
        Err(e) => ctx.phase.set(Phase::Failed(e.to_string())),
    }
    ap::resize();
}

/// Flush unsaved edits, publish, store the course id in the macro, close.
async fn publish_and_close(ctx: Ctx, material: bool) {
    ctx.busy.set(true);
    ctx.notice.set(None);
    let needs_save = ctx.course_id.get_untracked().is_none()
        || matches!(
            ctx.save.get_untracked(),
            SaveState::Dirty | SaveState::Offline
        );
    if needs_save {
        ctx.edit_gen.update(|g| *g += 1);
        match api::save_draft(
            ctx.course_id.get_untracked(),
            ctx.revision.get_untracked(),
            ctx.draft.get_untracked(),
        )
        .await
        {
            Ok(saved) => {
                ctx.course_id.set(Some(saved.course_id));
                ctx.revision.set(saved.revision);
                ctx.save.set(SaveState::Saved);
            }
            Err(e) => {
                ctx.busy.set(false);
                ctx.say(false, e.to_string());
                return;
            }
        }
    }
    let Some(id) = ctx.course_id.get_untracked() else {
        ctx.busy.set(false);
        return;
    };
    match api::publish(id.clone(), ctx.revision.get_untracked(), material).await {
        Ok(v) => {
            let mut params = Map::new();
            params.insert("course".into(), Value::String(id.into_string()));
            ctx.latest_version.set(Some(v.version));
            ctx.versions.update(|vs| vs.insert(0, v));
            match ap::save_macro(&params).and_then(|_| ap::close_macro_editor()) {
                Ok(()) => ctx.say(true, "Published. Closing…"),
                Err(e) => ctx.say(
                    false,
                    format!("Published, but Confluence did not take the macro: {e}"),
                ),
            }
        }
        Err(e) => ctx.say(false, e.to_string()),
    }
    ctx.busy.set(false);
}

/// The whole editor.
#[component]
pub fn Editor() -> impl IntoView {
    let ctx = Ctx::new();
    Effect::new(move |_| {
        // Confluence's own Save/Insert button around the editor dialog does
        // what ours does; the dialog stays open until publishing succeeded.
        ap::on_dialog_submit(move || {
            if ctx.phase.get_untracked() == Phase::Ready
                && ctx.can_edit.get_untracked()
                && !ctx.busy.get_untracked()
            {
                spawn_local(publish_and_close(ctx, ctx.material.get_untracked()));
            }
        });
        spawn_local(load(ctx));
    });
    view! {
        <div class="sc-editor">
            {move || match ctx.phase.get() {
                Phase::Loading => view! { <p class="sc-muted" role="status">"Loading the course…"</p> }.into_any(),
                Phase::Failed(msg) => view! { <p class="sc-error" role="alert">{msg}</p> }.into_any(),
                Phase::Ready => {
                    if ctx.can_edit.get() {
                        view! { <EditorReady ctx /> }.into_any()
                    } else {
                        view! { <ReadOnly ctx /> }.into_any()
                    }
                }
            }}
        </div>
    }
}

#[component]
fn ReadOnly(ctx: Ctx) -> impl IntoView {
    let o = ctx.outline.get_untracked();
    view! {
        <section class="sc-card" id="sc-readonly">
            <p class="sc-banner sc-banner-info" role="note">
                "You can view this course. Only people who can edit this page can change it."
            </p>
            <h1 class="sc-h1">{o.title.clone()}</h1>
            <ol class="sc-outline-ro">
                {o.modules.into_iter().map(|m| view! {
                    <li>
                        <strong>{m.title}</strong>
                        <ul>
                            {m.lessons.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                            {(m.questions > 0).then(|| view! { <li class="sc-muted">{format!("Quiz: {} questions", m.questions)}</li> })}
                        </ul>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn EditorReady(ctx: Ctx) -> impl IntoView {
    let material = ctx.material;
    let problems = Memo::new(move |_| ctx.draft.with(validate_course));
    let cancel = move |_| {
        if let Err(e) = ap::close_macro_editor() {
            ctx.say(false, e.to_string());
        }
    };
    let copy_here = move |_| {
        let Some(id) = ctx.course_id.get_untracked() else {
            return;
        };
        ctx.busy.set(true);
        spawn_local(async move {
            match api::copy_course(id).await {
                Ok(s) => {
                    ctx.apply(s);
                    ctx.say(true, "This page now has its own copy of the course.");
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
            ctx.busy.set(false);
        });
    };
    view! {
        <header class="sc-editor-bar">
            <input
                id="sc-course-title"
                class="sc-input sc-title-input"
                aria-label="Course title"
                placeholder="Course title"
                prop:value=move || ctx.draft.with(|c| c.title.clone())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| c.title = v) }
            />
            <SaveBadge ctx />
            {move || ctx.latest_version.get().map(|v| view! {
                <label class="sc-check" title="Learners who passed an earlier version will be asked to re-certify">
                    <input type="checkbox" id="sc-material" prop:checked=move || material.get()
                        on:change=move |ev| material.set(event_target_checked(&ev)) />
                    {format!("Questions changed materially since v{v}")}
                </label>
            })}
            <button id="sc-cancel" class="sc-button sc-button-subtle" on:click=cancel>"Cancel"</button>
            <button
                id="sc-publish"
                class="sc-button"
                disabled=move || ctx.busy.get() || !problems.with(|p| p.is_empty()) || ctx.other_page.get()
                on:click=move |_| spawn_local(publish_and_close(ctx, material.get_untracked()))
            >
                "Publish and save"
            </button>
        </header>
        {move || ctx.other_page.get().then(|| view! {
            <div class="sc-banner sc-banner-warn" role="alert" id="sc-copied">
                "This course belongs to another page (this page looks like a copy). Changes here would change the other page's course too."
                <button id="sc-make-copy" class="sc-button" on:click=copy_here disabled=move || ctx.busy.get()>"Make a copy for this page"</button>
            </div>
        })}
        {move || ctx.notice.get().map(|(ok, text)| view! {
            <p class=if ok { "sc-banner sc-banner-ok" } else { "sc-banner sc-banner-error" } role="alert" id="sc-notice">{text}</p>
        })}
        <div class="sc-editor-body">
            <Outline ctx />
            <div class="sc-editor-main">
                <Panel ctx />
                <Problems problems />
            </div>
        </div>
    }
}

#[component]
fn SaveBadge(ctx: Ctx) -> impl IntoView {
    view! {
        <span id="sc-save-state" class="sc-save-state" role="status" aria-live="polite">
            {move || match ctx.save.get() {
                SaveState::Saved if ctx.course_id.get().is_none() => "Not saved yet".to_string(),
                SaveState::Saved => "All changes saved".to_string(),
                SaveState::Dirty => "Unsaved changes".to_string(),
                SaveState::Saving => "Saving…".to_string(),
                SaveState::Offline => "Offline — will retry".to_string(),
                SaveState::Failed(m) => format!("Not saved: {m}"),
            }}
        </span>
    }
}

#[component]
fn Problems(problems: Memo<Vec<crate::course::validate::Problem>>) -> impl IntoView {
    view! {
        {move || {
            let list = problems.get();
            (!list.is_empty()).then(|| view! {
                <section class="sc-problems" aria-labelledby="sc-problems-h" id="sc-problems">
                    <h2 id="sc-problems-h" class="sc-h2">{format!("{} thing{} to fix before publishing", list.len(), if list.len() == 1 { "" } else { "s" })}</h2>
                    <ul>{list.into_iter().map(|p| view! { <li><code>{p.path}</code>" — "{p.message}</li> }).collect_view()}</ul>
                </section>
            })
        }}
    }
}

/// The outline tree: select, add, move, remove.
#[component]
fn Outline(ctx: Ctx) -> impl IntoView {
    let add_module = move |_| {
        let n = ctx.draft.with_untracked(|c| c.modules.len());
        ctx.edit_structure(|c| {
            c.modules.push(Module {
                id: fresh_id(),
                title: format!("Module {}", n + 1),
                lessons: Vec::new(),
                quiz: None,
            })
        });
        ctx.sel.set(Sel::Module(n));
    };
    view! {
        <nav class="sc-outline" aria-label="Course outline">
            <button class=move || sel_class(ctx, Sel::Course) on:click=move |_| ctx.sel.set(Sel::Course)>"Course & settings"</button>
            {move || {
                ctx.structure.get();
                let modules = ctx.draft.with_untracked(|c| c.modules.iter().map(|m| {
                    (m.title.clone(), m.lessons.iter().map(|l| l.title.clone()).collect::<Vec<_>>(), m.quiz.as_ref().map(|q| q.questions.len()))
                }).collect::<Vec<_>>());
                modules.into_iter().enumerate().map(|(mi, (title, lessons, quiz))| {
                    let title = if title.trim().is_empty() { "Untitled module".to_string() } else { title };
                    view! {
                        <div class="sc-outline-module">
                            <button class=move || sel_class(ctx, Sel::Module(mi)) on:click=move |_| ctx.sel.set(Sel::Module(mi))>
                                {title}
                            </button>
                            {lessons.into_iter().enumerate().map(|(li, lt)| {
                                let lt = if lt.trim().is_empty() { "Untitled lesson".to_string() } else { lt };
                                view! {
                                    <button class=move || format!("{} sc-outline-child", sel_class(ctx, Sel::Lesson(mi, li)))
                                        on:click=move |_| ctx.sel.set(Sel::Lesson(mi, li))>{lt}</button>
                                }
                            }).collect_view()}
                            {quiz.map(|n| view! {
                                <button class=move || format!("{} sc-outline-child", sel_class(ctx, Sel::Quiz(mi)))
                                    on:click=move |_| ctx.sel.set(Sel::Quiz(mi))>{format!("Quiz ({n})")}</button>
                            })}
                        </div>
                    }
                }).collect_view()
            }}
            <button id="sc-add-module" class="sc-button sc-button-subtle" on:click=add_module>"+ Module"</button>
            <button class=move || sel_class(ctx, Sel::Versions) id="sc-versions-tab" on:click=move |_| ctx.sel.set(Sel::Versions)>
                {move || format!("Versions ({})", ctx.versions.with(|v| v.len()))}
            </button>
        </nav>
    }
}

fn sel_class(ctx: Ctx, s: Sel) -> &'static str {
    if ctx.sel.get() == s {
        "sc-outline-item sc-selected"
    } else {
        "sc-outline-item"
    }
}

/// The selected item's editor. Re-renders on selection or structure change only.
#[component]
fn Panel(ctx: Ctx) -> impl IntoView {
    view! {
        <section class="sc-panel">
            {move || {
                ctx.structure.get();
                let sel = ctx.sel.get();
                let exists = ctx.draft.with_untracked(|c| match sel {
                    Sel::Module(m) | Sel::Quiz(m) => m < c.modules.len(),
                    Sel::Lesson(m, l) => c.modules.get(m).map(|x| l < x.lessons.len()).unwrap_or(false),
                    _ => true,
                });
                if !exists {
                    return view! { <CoursePanel ctx /> }.into_any();
                }
                match sel {
                    Sel::Course => view! { <CoursePanel ctx /> }.into_any(),
                    Sel::Module(m) => view! { <ModulePanel ctx m /> }.into_any(),
                    Sel::Lesson(m, l) => view! { <LessonPanel ctx m l /> }.into_any(),
                    Sel::Quiz(m) => view! { <QuizPanel ctx m /> }.into_any(),
                    Sel::Versions => view! { <VersionsPanel ctx /> }.into_any(),
                }
            }}
        </section>
    }
}

/// Markdown textarea with a server-rendered, sanitised preview.
#[component]
fn MarkdownField(
    #[prop(into)] label: String,
    id: String,
    read: Signal<String>,
    write: Callback<String>,
) -> impl IntoView {
    let preview = RwSignal::new(String::new());
    let gen = RwSignal::new(0u64);
    let refresh = move |text: String| {
        gen.update(|g| *g += 1);
        let mine = gen.get_untracked();
        // The panel may be gone (another item selected) by the time the timer
        // fires or the answer arrives: `try_*` then does nothing.
        set_timeout(
            move || {
                if gen.try_get_untracked() != Some(mine) {
                    return;
                }
                spawn_local(async move {
                    if let Ok(html) = api::preview_markdown(text).await {
                        if gen.try_get_untracked() == Some(mine) {
                            preview.try_set(html);
                            ap::resize();
                        }
                    }
                });
            },
            Duration::from_millis(400),
        );
    };
    Effect::new(move |_| refresh(read.get_untracked()));
    let preview_id = format!("{id}-preview");
    view! {
        <div class="sc-md">
            <label class="sc-label" for=id.clone()>{label}</label>
            <div class="sc-md-split">
                <textarea
                    id=id
                    class="sc-input sc-textarea"
                    rows="10"
                    prop:value=move || read.get()
                    on:input=move |ev| { let v = event_target_value(&ev); write.run(v.clone()); refresh(v) }
                ></textarea>
                <div class="sc-md-preview sc-lesson-body" id=preview_id aria-label="Preview" inner_html=move || preview.get()></div>
            </div>
        </div>
    }
}

#[component]
fn CoursePanel(ctx: Ctx) -> impl IntoView {
    let s = move |f: fn(&CourseContent) -> String| Signal::derive(move || ctx.draft.with(f));
    let export_text = RwSignal::new(None::<String>);
    let import_text = RwSignal::new(String::new());
    let export = move |_| {
        let Some(id) = ctx.course_id.get_untracked() else {
            ctx.say(false, "Save the course once before exporting it.");
            return;
        };
        spawn_local(async move {
            match api::export_course(id).await {
                Ok(json) => {
                    export_text.try_set(Some(json));
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
            ap::resize();
        });
    };
    let import = move |_| {
        let text = import_text.get_untracked();
        spawn_local(async move {
            match api::import_course(text).await {
                Ok(content) => {
                    ctx.edit_structure(|c| *c = content);
                    ctx.sel.set(Sel::Course);
                    ctx.say(true, "Imported. The draft now holds the imported course; publish to make it live.");
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
        });
    };
    let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    view! {
        <h2 class="sc-h2">"Course"</h2>
        <MarkdownField
            label="Description (Markdown)"
            id="sc-course-description".into()
            read=s(|c| c.description_md.clone())
            write=Callback::new(move |v: String| ctx.edit(|c| c.description_md = v))
        />
        <h3 class="sc-h3">"Settings"</h3>
        <div class="sc-grid">
            <label class="sc-label">"Pass mark (%)"
                <input id="sc-pass-mark" class="sc-input" type="number" min="0" max="100"
                    prop:value=move || ctx.draft.with(|c| c.settings.pass_mark_percent.to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<u8>() { ctx.edit(|c| c.settings.pass_mark_percent = v) } } />
            </label>
            <label class="sc-label">"Attempts allowed (empty: unlimited)"
                <input id="sc-attempts" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| num(c.settings.attempt_limit))
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0); ctx.edit(|c| c.settings.attempt_limit = v) } />
            </label>
            <label class="sc-label">"Time limit in minutes (empty: none)"
                <input id="sc-time-limit" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| c.settings.time_limit_secs.map(|s| (s / 60).to_string()).unwrap_or_default())
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0).map(|m| m * 60); ctx.edit(|c| c.settings.time_limit_secs = v) } />
            </label>
            <label class="sc-label">"Certificate valid for days (empty: forever)"
                <input id="sc-cert-days" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| num(c.settings.certificate_validity_days))
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0); ctx.edit(|c| c.settings.certificate_validity_days = v) } />
            </label>
            <label class="sc-label">"Feedback"
                <select id="sc-feedback-mode" class="sc-input"
                    on:change=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| c.settings.feedback_mode = match v.as_str() { "immediate" => FeedbackMode::Immediate, "never" => FeedbackMode::Never, _ => FeedbackMode::AfterSubmit }) }>
                    <option value="immediate" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::Immediate)>"Immediately, per question"</option>
                    <option value="after" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::AfterSubmit)>"After the quiz is submitted"</option>
                    <option value="never" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::Never)>"Never (score only)"</option>
                </select>
            </label>
            <label class="sc-check">
                <input type="checkbox" id="sc-shuffle-q" prop:checked=move || ctx.draft.with(|c| c.settings.shuffle_questions)
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| c.settings.shuffle_questions = v) } />
                "Shuffle questions"
            </label>
            <label class="sc-check">
                <input type="checkbox" id="sc-shuffle-o" prop:checked=move || ctx.draft.with(|c| c.settings.shuffle_options)
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| c.settings.shuffle_options = v) } />
                "Shuffle answer options"
            </label>
        </div>
        <h3 class="sc-h3">"Export and import"</h3>
        <p class="sc-muted">"Move a course to another page or site: export it as JSON here, import it there."</p>
        <button class="sc-button sc-button-subtle" id="sc-export" on:click=export>"Export as JSON"</button>
        {move || export_text.get().map(|t| view! {
            <textarea class="sc-input sc-textarea" id="sc-export-json" rows="6" readonly aria-label="Exported course JSON">{t}</textarea>
        })}
        <label class="sc-label" for="sc-import-json">"Import a course (replaces this draft)"</label>
        <textarea class="sc-input sc-textarea" id="sc-import-json" rows="4" placeholder="Paste exported JSON"
            prop:value=move || import_text.get() on:input=move |ev| import_text.set(event_target_value(&ev))></textarea>
        <button class="sc-button sc-button-subtle" id="sc-import-course" on:click=import
            disabled=move || import_text.with(|t| t.trim().is_empty())>"Import course"</button>
    }
}

#[component]
fn ModulePanel(ctx: Ctx, m: usize) -> impl IntoView {
    let add_lesson = move |_| {
        let n = ctx
            .draft
            .with_untracked(|c| c.modules.get(m).map(|x| x.lessons.len()).unwrap_or(0));
        ctx.edit_structure(|c| {
            if let Some(module) = c.modules.get_mut(m) {
                module.lessons.push(Lesson {
                    id: fresh_id(),
                    title: format!("Lesson {}", n + 1),
                    body_md: String::new(),
                });
            }
        });
        ctx.sel.set(Sel::Lesson(m, n));
    };
    let add_quiz = move |_| {
        ctx.edit_structure(|c| {
            if let Some(module) = c.modules.get_mut(m) {
                module.quiz.get_or_insert_with(Quiz::default);
            }
        });
        ctx.sel.set(Sel::Quiz(m));
    };
    let has_quiz = ctx
        .draft
        .with_untracked(|c| c.modules.get(m).map(|x| x.quiz.is_some()).unwrap_or(false));
    view! {
        <h2 class="sc-h2">"Module"</h2>
        <label class="sc-label">"Title"
            <input id="sc-module-title" class="sc-input"
                prop:value=move || ctx.draft.with(|c| c.modules.get(m).map(|x| x.title.clone()).unwrap_or_default())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = c.modules.get_mut(m) { x.title = v }) } />
        </label>
        <div class="sc-row">
            <button id="sc-add-lesson" class="sc-button" on:click=add_lesson>"+ Lesson"</button>
            {(!has_quiz).then(|| view! { <button id="sc-add-quiz" class="sc-button" on:click=add_quiz>"+ Quiz"</button> })}
            <MoveButtons ctx label="module" idx=m
                len=Signal::derive(move || ctx.draft.with(|c| c.modules.len()))
                on_move=Callback::new(move |(a, b): (usize, usize)| { ctx.edit_structure(|c| c.modules.swap(a, b)); ctx.sel.set(Sel::Module(b)) }) />
            <button class="sc-button sc-button-danger" on:click=move |_| { ctx.edit_structure(|c| { if m < c.modules.len() { c.modules.remove(m); } }); ctx.sel.set(Sel::Course) }>"Delete module"</button>
        </div>
    }
}

#[component]
fn MoveButtons(
    ctx: Ctx,
    #[prop(into)] label: String,
    idx: usize,
    len: Signal<usize>,
    on_move: Callback<(usize, usize)>,
) -> impl IntoView {
    let _ = ctx;
    let up_label = format!("Move {label} up");
    let down_label = format!("Move {label} down");
    view! {
        <button class="sc-button sc-button-subtle" aria-label=up_label disabled=move || { idx == 0 }
            on:click=move |_| { if idx > 0 { on_move.run((idx, idx - 1)) } }>"↑"</button>
        <button class="sc-button sc-button-subtle" aria-label=down_label disabled=move || { idx + 1 >= len.get() }
            on:click=move |_| { if idx + 1 < len.get_untracked() { on_move.run((idx, idx + 1)) } }>"↓"</button>
    }
}

#[component]
fn LessonPanel(ctx: Ctx, m: usize, l: usize) -> impl IntoView {
    let get = move |c: &CourseContent| c.modules.get(m).and_then(|x| x.lessons.get(l)).cloned();
    view! {
        <h2 class="sc-h2">"Lesson"</h2>
        <label class="sc-label">"Title"
            <input id="sc-lesson-title" class="sc-input"
                prop:value=move || ctx.draft.with(|c| get(c).map(|x| x.title).unwrap_or_default())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = c.modules.get_mut(m).and_then(|x| x.lessons.get_mut(l)) { x.title = v }) } />
        </label>
        <MarkdownField
            label="Content (Markdown: headings, lists, links, images, code)"
            id="sc-lesson-body".into()
            read=Signal::derive(move || ctx.draft.with(|c| get(c).map(|x| x.body_md).unwrap_or_default()))
            write=Callback::new(move |v: String| ctx.edit(|c| if let Some(x) = c.modules.get_mut(m).and_then(|x| x.lessons.get_mut(l)) { x.body_md = v }))
        />
        <div class="sc-row">
            <MoveButtons ctx label="lesson" idx=l
                len=Signal::derive(move || ctx.draft.with(|c| c.modules.get(m).map(|x| x.lessons.len()).unwrap_or(0)))
                on_move=Callback::new(move |(a, b): (usize, usize)| { ctx.edit_structure(|c| if let Some(x) = c.modules.get_mut(m) { x.lessons.swap(a, b) }); ctx.sel.set(Sel::Lesson(m, b)) }) />
            <button class="sc-button sc-button-danger" on:click=move |_| { ctx.edit_structure(|c| if let Some(x) = c.modules.get_mut(m) { if l < x.lessons.len() { x.lessons.remove(l); } }); ctx.sel.set(Sel::Module(m)) }>"Delete lesson"</button>
        </div>
    }
}

fn blank_question(kind: &str) -> Question {
    let opt = |text: &str, correct: bool| ChoiceOption {
        id: fresh_id(),
        text: text.into(),
        correct,
        feedback: String::new(),
    };
    let kind = match kind {
        "multiple" => QuestionKind::MultipleChoice {
            options: vec![opt("", true), opt("", true), opt("", false)],
            partial_credit: true,
            negative_marking: false,
        },
        "truefalse" => QuestionKind::TrueFalse { answer: true },
        "short" => QuestionKind::ShortText {
            accepted: vec![TextAnswer {
                text: String::new(),
                mode: TextMatch::CaseInsensitive,
            }],
        },
        "numeric" => QuestionKind::Numeric {
            answer: 0.0,
            tolerance: 0.0,
        },
        "ordering" => QuestionKind::Ordering {
            items: (0..3)
                .map(|_| Item {
                    id: fresh_id(),
                    text: String::new(),
                })
                .collect(),
        },
        "matching" => QuestionKind::Matching {
            pairs: (0..3)
                .map(|_| Pair {
                    id: fresh_id(),
                    prompt: String::new(),
                    answer: String::new(),
                })
                .collect(),
        },
        _ => QuestionKind::SingleChoice {
            options: vec![opt("", true), opt("", false), opt("", false)],
        },
    };
    Question {
        id: fresh_id(),
        kind,
        prompt_md: String::new(),
        points: 1.0,
        feedback_correct_md: String::new(),
        feedback_incorrect_md: String::new(),
    }
}

fn kind_label(k: &QuestionKind) -> &'static str {
    match k {
        QuestionKind::SingleChoice { .. } => "Single choice",
        QuestionKind::MultipleChoice { .. } => "Multiple choice",
        QuestionKind::TrueFalse { .. } => "True / false",
        QuestionKind::ShortText { .. } => "Short text",
        QuestionKind::Numeric { .. } => "Numeric",
        QuestionKind::Ordering { .. } => "Ordering",
        QuestionKind::Matching { .. } => "Matching",
    }
}

#[component]
fn QuizPanel(ctx: Ctx, m: usize) -> impl IntoView {
    let new_kind = RwSignal::new("single".to_string());
    let add = move |_| {
        let kind = new_kind.get_untracked();
        ctx.edit_structure(|c| {
            if let Some(q) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) {
                q.questions.push(blank_question(&kind));
            }
        });
        ap::resize();
    };
    let count = ctx.draft.with_untracked(|c| {
        c.modules
            .get(m)
            .and_then(|x| x.quiz.as_ref())
            .map(|q| q.questions.len())
            .unwrap_or(0)
    });
    view! {
        <h2 class="sc-h2">"Quiz"</h2>
        <p class="sc-muted">"Pass mark, attempts, time limit, shuffling and feedback are set for the whole course under Course & settings."</p>
        <ol class="sc-questions">
            {(0..count).map(|q| view! { <li><QuestionEditor ctx m q /></li> }).collect_view()}
        </ol>
        <div class="sc-row">
            <label class="sc-label sc-inline">"New question"
                <select id="sc-new-kind" class="sc-input" on:change=move |ev| new_kind.set(event_target_value(&ev))>
                    <option value="single">"Single choice"</option>
                    <option value="multiple">"Multiple choice"</option>
                    <option value="truefalse">"True / false"</option>
                    <option value="short">"Short text"</option>
                    <option value="numeric">"Numeric"</option>
                    <option value="ordering">"Ordering"</option>
                    <option value="matching">"Matching"</option>
                </select>
            </label>
            <button id="sc-add-question" class="sc-button" on:click=add>"+ Question"</button>
            <button class="sc-button sc-button-danger" on:click=move |_| { ctx.edit_structure(|c| if let Some(x) = c.modules.get_mut(m) { x.quiz = None }); ctx.sel.set(Sel::Module(m)) }>"Delete quiz"</button>
        </div>
        <ImportPanel ctx m />
    }
}

/// Mutable access to question `q` of module `m`'s quiz.
fn question_mut(c: &mut CourseContent, m: usize, q: usize) -> Option<&mut Question> {
    c.modules.get_mut(m)?.quiz.as_mut()?.questions.get_mut(q)
}

fn question(c: &CourseContent, m: usize, q: usize) -> Option<&Question> {
    c.modules.get(m)?.quiz.as_ref()?.questions.get(q)
}

#[component]
fn QuestionEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let kind = ctx
        .draft
        .with_untracked(|c| question(c, m, q).map(|x| x.kind.clone()));
    let Some(kind) = kind else {
        return ().into_any();
    };
    let base = format!("sc-q{m}-{q}");
    let label = kind_label(&kind);
    let read = move |f: fn(&Question) -> String| {
        Signal::derive(move || {
            ctx.draft
                .with(|c| question(c, m, q).map(f).unwrap_or_default())
        })
    };
    let body = match kind {
        QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. } => view! { <ChoiceEditor ctx m q /> }.into_any(),
        QuestionKind::TrueFalse { .. } => view! {
            <fieldset class="sc-fieldset"><legend>"Correct answer"</legend>
                <label class="sc-check"><input type="radio" name=format!("{base}-tf") prop:checked=move || ctx.draft.with(|c| matches!(question(c, m, q).map(|x| &x.kind), Some(QuestionKind::TrueFalse { answer: true })))
                    on:change=move |_| ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.kind = QuestionKind::TrueFalse { answer: true } }) />"True"</label>
                <label class="sc-check"><input type="radio" name=format!("{base}-tf") prop:checked=move || ctx.draft.with(|c| matches!(question(c, m, q).map(|x| &x.kind), Some(QuestionKind::TrueFalse { answer: false })))
                    on:change=move |_| ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.kind = QuestionKind::TrueFalse { answer: false } }) />"False"</label>
            </fieldset>
        }.into_any(),
        QuestionKind::ShortText { .. } => view! { <ShortTextEditor ctx m q /> }.into_any(),
        QuestionKind::Numeric { .. } => {
            let num = move |pick: fn(f64, f64) -> f64| move || ctx.draft.with(|c| match question(c, m, q).map(|x| &x.kind) { Some(QuestionKind::Numeric { answer, tolerance }) => pick(*answer, *tolerance).to_string(), _ => String::new() });
            view! {
                <div class="sc-grid">
                    <label class="sc-label">"Correct answer"
                        <input class="sc-input" type="number" step="any" prop:value=num(|a, _| a)
                            on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { ctx.edit(|c| if let Some(QuestionKind::Numeric { answer, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *answer = v }) } } />
                    </label>
                    <label class="sc-label">"Tolerance (±)"
                        <input class="sc-input" type="number" step="any" min="0" prop:value=num(|_, t| t)
                            on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { ctx.edit(|c| if let Some(QuestionKind::Numeric { tolerance, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *tolerance = v }) } } />
                    </label>
                </div>
            }.into_any()
        }
        QuestionKind::Ordering { .. } => view! { <OrderingEditor ctx m q /> }.into_any(),
        QuestionKind::Matching { .. } => view! { <MatchingEditor ctx m q /> }.into_any(),
    };
    let count = Signal::derive(move || {
        ctx.draft.with(|c| {
            c.modules
                .get(m)
                .and_then(|x| x.quiz.as_ref())
                .map(|z| z.questions.len())
                .unwrap_or(0)
        })
    });
    view! {
        <article class="sc-question-editor" aria-label=format!("Question {} ({label})", q + 1)>
            <header class="sc-row">
                <strong>{format!("Question {} · {label}", q + 1)}</strong>
                <label class="sc-label sc-inline">"Points"
                    <input class="sc-input sc-narrow" type="number" min="0" step="any"
                        prop:value=move || ctx.draft.with(|c| question(c, m, q).map(|x| x.points.to_string()).unwrap_or_default())
                        on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.points = v }) } } />
                </label>
                <MoveButtons ctx label="question" idx=q len=count
                    on_move=Callback::new(move |(a, b): (usize, usize)| ctx.edit_structure(|c| if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) { z.questions.swap(a, b) })) />
                <button class="sc-button sc-button-danger" aria-label=format!("Delete question {}", q + 1)
                    on:click=move |_| ctx.edit_structure(|c| if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) { if q < z.questions.len() { z.questions.remove(q); } })>"Delete"</button>
            </header>
            <label class="sc-label">"Question (Markdown)"
                <textarea class="sc-input sc-textarea" rows="2" id=format!("{base}-prompt")
                    prop:value=move || read(|x| x.prompt_md.clone()).get()
                    on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.prompt_md = v }) }></textarea>
            </label>
            {body}
            <div class="sc-grid">
                <label class="sc-label">"Feedback when correct"
                    <input class="sc-input" prop:value=move || read(|x| x.feedback_correct_md.clone()).get()
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.feedback_correct_md = v }) } />
                </label>
                <label class="sc-label">"Feedback when not correct"
                    <input class="sc-input" prop:value=move || read(|x| x.feedback_incorrect_md.clone()).get()
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.feedback_incorrect_md = v }) } />
                </label>
            </div>
        </article>
    }
    .into_any()
}

fn choice_options(k: &mut QuestionKind) -> Option<&mut Vec<ChoiceOption>> {
    match k {
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            Some(options)
        }
        _ => None,
    }
}

#[component]
fn ChoiceEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let (n, multiple) = ctx
        .draft
        .with_untracked(|c| match question(c, m, q).map(|x| &x.kind) {
            Some(QuestionKind::SingleChoice { options }) => (options.len(), false),
            Some(QuestionKind::MultipleChoice { options, .. }) => (options.len(), true),
            _ => (0, false),
        });
    let group = format!("sc-q{m}-{q}-correct");
    let opt_read = move |i: usize| {
        move || {
            ctx.draft
                .with(|c| match question(c, m, q).map(|x| &x.kind) {
                    Some(QuestionKind::SingleChoice { options })
                    | Some(QuestionKind::MultipleChoice { options, .. }) => {
                        options.get(i).map(|o| (o.text.clone(), o.correct))
                    }
                    _ => None,
                })
        }
    };
    let flag = move |pick: fn(&QuestionKind) -> bool| {
        move || {
            ctx.draft
                .with(|c| question(c, m, q).map(|x| pick(&x.kind)).unwrap_or(false))
        }
    };
    view! {
        <fieldset class="sc-fieldset">
            <legend>{if multiple { "Options (tick every correct one)" } else { "Options (choose the correct one)" }}</legend>
            {(0..n).map(|i| {
                let r = opt_read(i);
                view! {
                    <div class="sc-row">
                        <input type=if multiple { "checkbox" } else { "radio" } name=group.clone()
                            aria-label=format!("Option {} is correct", i + 1)
                            prop:checked=move || r().map(|x| x.1).unwrap_or(false)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                ctx.edit(|c| if let Some(x) = question_mut(c, m, q) {
                                    let single = matches!(x.kind, QuestionKind::SingleChoice { .. });
                                    if let Some(opts) = choice_options(&mut x.kind) {
                                        for (j, o) in opts.iter_mut().enumerate() {
                                            if j == i { o.correct = on } else if single && on { o.correct = false }
                                        }
                                    }
                                })
                            } />
                        <input class="sc-input" aria-label=format!("Option {} text", i + 1)
                            prop:value=move || r().map(|x| x.0).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)).and_then(|o| o.get_mut(i)) { o.text = v }) } />
                        <button class="sc-button sc-button-subtle" aria-label=format!("Remove option {}", i + 1)
                            on:click=move |_| ctx.edit_structure(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)) { if i < o.len() { o.remove(i); } })>"✕"</button>
                    </div>
                }
            }).collect_view()}
            <button class="sc-button sc-button-subtle" on:click=move |_| ctx.edit_structure(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)) { o.push(ChoiceOption { id: fresh_id(), text: String::new(), correct: false, feedback: String::new() }) })>"+ Option"</button>
            {multiple.then(|| view! {
                <label class="sc-check"><input type="checkbox" prop:checked=flag(|k| matches!(k, QuestionKind::MultipleChoice { partial_credit: true, .. }))
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| if let Some(QuestionKind::MultipleChoice { partial_credit, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *partial_credit = v }) } />"Partial credit"</label>
                <label class="sc-check"><input type="checkbox" prop:checked=flag(|k| matches!(k, QuestionKind::MultipleChoice { negative_marking: true, .. }))
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| if let Some(QuestionKind::MultipleChoice { negative_marking, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *negative_marking = v }) } />"Wrong choices cost points"</label>
            })}
        </fieldset>
    }
}

#[component]
fn ShortTextEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    fn accepted(k: &mut QuestionKind) -> Option<&mut Vec<TextAnswer>> {
        match k {
            QuestionKind::ShortText { accepted } => Some(accepted),
            _ => None,
        }
    }
    let n = ctx
        .draft
        .with_untracked(|c| match question(c, m, q).map(|x| &x.kind) {
            Some(QuestionKind::ShortText { accepted }) => accepted.len(),
            _ => 0,
        });
    let read = move |i: usize| {
        move || {
            ctx.draft
                .with(|c| match question(c, m, q).map(|x| &x.kind) {
                    Some(QuestionKind::ShortText { accepted }) => {
                        accepted.get(i).map(|a| (a.text.clone(), a.mode))
                    }
                    _ => None,
                })
        }
    };
    view! {
        <fieldset class="sc-fieldset"><legend>"Accepted answers (any one is correct)"</legend>
            {(0..n).map(|i| {
                let r = read(i);
                let r2 = read(i);
                view! {
                    <div class="sc-row">
                        <input class="sc-input" aria-label=format!("Accepted answer {}", i + 1) prop:value=move || r().map(|x| x.0).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)).and_then(|a| a.get_mut(i)) { a.text = v }) } />
                        <select class="sc-input" aria-label=format!("How answer {} is compared", i + 1)
                            on:change=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)).and_then(|a| a.get_mut(i)) { a.mode = match v.as_str() { "exact" => TextMatch::Exact, "regex" => TextMatch::Regex, _ => TextMatch::CaseInsensitive } }) }>
                            <option value="ci" selected=move || r2().map(|x| x.1 == TextMatch::CaseInsensitive).unwrap_or(false)>"Ignore case"</option>
                            <option value="exact" selected=move || r2().map(|x| x.1 == TextMatch::Exact).unwrap_or(false)>"Exact"</option>
                            <option value="regex" selected=move || r2().map(|x| x.1 == TextMatch::Regex).unwrap_or(false)>"Regular expression"</option>
                        </select>
                        <button class="sc-button sc-button-subtle" aria-label=format!("Remove answer {}", i + 1)
                            on:click=move |_| ctx.edit_structure(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)) { if i < a.len() { a.remove(i); } })>"✕"</button>
                    </div>
                }
            }).collect_view()}
            <button class="sc-button sc-button-subtle" on:click=move |_| ctx.edit_structure(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)) { a.push(TextAnswer { text: String::new(), mode: TextMatch::CaseInsensitive }) })>"+ Answer"</button>
        </fieldset>
    }
}

#[component]
fn OrderingEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    fn items(k: &mut QuestionKind) -> Option<&mut Vec<Item>> {
        match k {
            QuestionKind::Ordering { items } => Some(items),
            _ => None,
        }
    }
    let n = ctx
        .draft
        .with_untracked(|c| match question(c, m, q).map(|x| &x.kind) {
            Some(QuestionKind::Ordering { items }) => items.len(),
            _ => 0,
        });
    view! {
        <fieldset class="sc-fieldset"><legend>"Items in the correct order (learners see them shuffled)"</legend>
            {(0..n).map(|i| view! {
                <div class="sc-row">
                    <span class="sc-muted">{format!("{}.", i + 1)}</span>
                    <input class="sc-input" aria-label=format!("Item {}", i + 1)
                        prop:value=move || ctx.draft.with(|c| match question(c, m, q).map(|x| &x.kind) { Some(QuestionKind::Ordering { items }) => items.get(i).map(|x| x.text.clone()).unwrap_or_default(), _ => String::new() })
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(it) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)).and_then(|v2| v2.get_mut(i)) { it.text = v }) } />
                    <MoveButtons ctx label="item" idx=i len=Signal::derive(move || n)
                        on_move=Callback::new(move |(a, b): (usize, usize)| ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { v.swap(a, b) })) />
                    <button class="sc-button sc-button-subtle" aria-label=format!("Remove item {}", i + 1)
                        on:click=move |_| ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { if i < v.len() { v.remove(i); } })>"✕"</button>
                </div>
            }).collect_view()}
            <button class="sc-button sc-button-subtle" on:click=move |_| ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { v.push(Item { id: fresh_id(), text: String::new() }) })>"+ Item"</button>
        </fieldset>
    }
}

#[component]
fn MatchingEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    fn pairs(k: &mut QuestionKind) -> Option<&mut Vec<Pair>> {
        match k {
            QuestionKind::Matching { pairs } => Some(pairs),
            _ => None,
        }
    }
    let n = ctx
        .draft
        .with_untracked(|c| match question(c, m, q).map(|x| &x.kind) {
            Some(QuestionKind::Matching { pairs }) => pairs.len(),
            _ => 0,
        });
    let read = move |i: usize, left: bool| {
        move || {
            ctx.draft
                .with(|c| match question(c, m, q).map(|x| &x.kind) {
                    Some(QuestionKind::Matching { pairs }) => pairs
                        .get(i)
                        .map(|p| {
                            if left {
                                p.prompt.clone()
                            } else {
                                p.answer.clone()
                            }
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                })
        }
    };
    view! {
        <fieldset class="sc-fieldset"><legend>"Pairs (learners match each prompt to its answer)"</legend>
            {(0..n).map(|i| view! {
                <div class="sc-row">
                    <input class="sc-input" aria-label=format!("Prompt {}", i + 1) prop:value=read(i, true)
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)).and_then(|p| p.get_mut(i)) { p.prompt = v }) } />
                    <span aria-hidden="true">"→"</span>
                    <input class="sc-input" aria-label=format!("Answer {}", i + 1) prop:value=read(i, false)
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)).and_then(|p| p.get_mut(i)) { p.answer = v }) } />
                    <button class="sc-button sc-button-subtle" aria-label=format!("Remove pair {}", i + 1)
                        on:click=move |_| ctx.edit_structure(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)) { if i < p.len() { p.remove(i); } })>"✕"</button>
                </div>
            }).collect_view()}
            <button class="sc-button sc-button-subtle" on:click=move |_| ctx.edit_structure(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)) { p.push(Pair { id: fresh_id(), prompt: String::new(), answer: String::new() }) })>"+ Pair"</button>
        </fieldset>
    }
}

/// GIFT / Aiken import into this quiz: check first (dry run), then add.
#[component]
fn ImportPanel(ctx: Ctx, m: usize) -> impl IntoView {
    let format = RwSignal::new(ImportFormat::Gift);
    let text = RwSignal::new(String::new());
    let report = RwSignal::new(None::<crate::course::model::ImportReport>);
    let check = move |_| {
        let (f, t) = (format.get_untracked(), text.get_untracked());
        spawn_local(async move {
            match api::import_questions(f, t).await {
                Ok(r) => {
                    report.try_set(Some(r));
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
            ap::resize();
        });
    };
    let add = move |_| {
        let Some(r) = report.get_untracked() else {
            return;
        };
        let n = r.questions.len();
        ctx.edit_structure(|c| {
            if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) {
                z.questions.extend(r.questions.into_iter().map(|mut q| {
                    q.id = fresh_id();
                    q
                }));
            }
        });
        report.set(None);
        text.set(String::new());
        ctx.say(
            true,
            format!(
                "Added {n} imported question{}.",
                if n == 1 { "" } else { "s" }
            ),
        );
    };
    view! {
        <details class="sc-import">
            <summary>"Import questions (GIFT or Aiken)"</summary>
            <div class="sc-row">
                <label class="sc-check"><input type="radio" name="sc-import-format" prop:checked=move || format.get() == ImportFormat::Gift on:change=move |_| format.set(ImportFormat::Gift) />"GIFT"</label>
                <label class="sc-check"><input type="radio" name="sc-import-format" prop:checked=move || format.get() == ImportFormat::Aiken on:change=move |_| format.set(ImportFormat::Aiken) />"Aiken"</label>
            </div>
            <textarea id="sc-import-text" class="sc-input sc-textarea" rows="8" aria-label="Questions to import"
                prop:value=move || text.get() on:input=move |ev| { text.set(event_target_value(&ev)); report.set(None) }></textarea>
            <button id="sc-import-check" class="sc-button sc-button-subtle" on:click=check disabled=move || text.with(|t| t.trim().is_empty())>"Check"</button>
            {move || report.get().map(|r| {
                let clean = r.problems.is_empty();
                let n = r.questions.len();
                view! {
                    <div id="sc-import-report" role="status">
                        <p>{format!("{n} question{} ready to add.", if n == 1 { "" } else { "s" })}</p>
                        {(!clean).then(|| view! {
                            <ul class="sc-error">{r.problems.iter().map(|p| view! { <li>{format!("Line {}: {}", p.line, p.message)}</li> }).collect_view()}</ul>
                            <p class="sc-muted">"Nothing was added. Fix these lines and check again."</p>
                        })}
                        {(clean && n > 0).then(|| view! { <button id="sc-import-add" class="sc-button" on:click=add>{format!("Add {n} question{}", if n == 1 { "" } else { "s" })}</button> })}
                    </div>
                }
            })}
        </details>
    }
}

#[component]
fn VersionsPanel(ctx: Ctx) -> impl IntoView {
    let restore = move |v: i64| {
        let Some(id) = ctx.course_id.get_untracked() else {
            return;
        };
        ctx.busy.set(true);
        spawn_local(async move {
            match api::restore_version(id.clone(), v, ctx.revision.get_untracked()).await {
                Ok(_) => match api::editor_open(Some(id)).await {
                    Ok(s) => {
                        ctx.apply(s);
                        ctx.sel.set(Sel::Versions);
                        ctx.say(
                            true,
                            format!("Version {v} is the draft again. Publish to make it live."),
                        );
                    }
                    Err(e) => ctx.say(false, e.to_string()),
                },
                Err(e) => ctx.say(false, e.to_string()),
            }
            ctx.busy.set(false);
        });
    };
    view! {
        <h2 class="sc-h2">"Versions"</h2>
        <p class="sc-muted">"Publishing creates a version that never changes. Learners take the latest; attempts on older versions keep them."</p>
        {move || {
            let vs = ctx.versions.get();
            if vs.is_empty() {
                return view! { <p class="sc-empty">"Not published yet."</p> }.into_any();
            }
            view! {
                <table class="sc-table" id="sc-versions">
                    <thead><tr><th>"Version"</th><th>"Title"</th><th>"Published"</th><th>"Re-certify"</th><th></th></tr></thead>
                    <tbody>
                        {vs.into_iter().map(|v| {
                            let n = v.version;
                            view! {
                                <tr>
                                    <td>{format!("v{n}")}</td>
                                    <td>{v.title}</td>
                                    <td><time>{crate::pages::format_epoch(v.published_at)}</time></td>
                                    <td>{if v.material { "yes" } else { "—" }}</td>
                                    <td><button class="sc-button sc-button-subtle" disabled=move || ctx.busy.get() on:click=move |_| restore(n)>"Restore as draft"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
