//! The macro editor UI: outline on the left, the selected item on the right,
//! autosave with a visible state, validation, versions, import/export.
//!
//! Rendering rule that keeps typing smooth: panels re-render only when the
//! *selection* or the *structure* (items added, removed, moved) changes;
//! text fields read the draft reactively through `prop:value` and write it
//! back on input, so an input is never re-created while someone types in it.
//!
//! Files, by panel:
//!
//! - `mod.rs` (this file): the entry point [`Editor`] (loads the course,
//!   then shows the editor or, for people who may not edit, a read-only
//!   outline), the header bar (title, save state, publish, cancel), the
//!   "this course belongs to another page" banner, and publishing.
//! - `state.rs`: `Ctx`, the signals every panel shares, the edit and
//!   autosave logic, and loading the questions' analytics.
//! - `outline.rs`: the outline on the left, and `Panel`, which shows the
//!   selected item's panel on the right.
//! - `course_panel.rs`: course description, settings (including who can
//!   take the course), JSON export/import.
//! - `module_panel.rs`: a module (title, add a lesson or the quiz) and a
//!   lesson (title, Markdown content).
//! - `quiz_panel.rs`: a quiz and its questions (`QuestionEditor`), each
//!   with how learners did on it in the latest published version.
//! - `question_kinds.rs`: the answer editors per question kind (choice,
//!   short text, ordering, matching).
//! - `import_panel.rs`: GIFT / Aiken question import into a quiz.
//! - `versions_panel.rs`: published versions; restoring one as the draft.
//! - `widgets.rs`: pieces shared by the above (save badge, problem list,
//!   move buttons, Markdown field with preview).

// Leptos's `#[component]` expands a `pub(super)` component into items the
// `unreachable_pub` lint reads as `pub`; the panels are private to the editor.
#[allow(unreachable_pub)]
mod course_panel;
#[allow(unreachable_pub)]
mod import_panel;
#[allow(unreachable_pub)]
mod module_panel;
#[allow(unreachable_pub)]
mod outline;
#[allow(unreachable_pub)]
mod question_kinds;
#[allow(unreachable_pub)]
mod quiz_panel;
mod state;
#[allow(unreachable_pub)]
mod versions_panel;
#[allow(unreachable_pub)]
mod widgets;

use leptos::{prelude::*, task::spawn_local};
use serde_json::{Map, Value};

/// An access mode's name in a language (the space tools tab shows it too).
pub(crate) use course_panel::{access_label, access_long_label};

use super::api;
use crate::{ap, course::validate::validate_course};
use course::ids::CourseId;
use outline::{Outline, Panel};
use state::{Ctx, Phase, SaveState};
use widgets::{Problems, SaveBadge};

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
        Err(e) => ctx.phase.set(Phase::Failed(e.text(ctx.loc))),
    }
    ap::resize();
}

/// Flush unsaved edits, publish, store the course id in the macro, close.
async fn publish_and_close(ctx: Ctx, material: bool) {
    ctx.busy.set(true);
    ctx.publishing.set(true);
    publish(ctx, material).await;
    ctx.publishing.try_set(false);
    ctx.busy.try_set(false);
}

async fn publish(ctx: Ctx, material: bool) {
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
                ctx.say(false, e.text(ctx.loc));
                return;
            }
        }
    }
    let Some(id) = ctx.course_id.get_untracked() else {
        return;
    };
    match api::publish(id.clone(), ctx.revision.get_untracked(), material).await {
        Ok(v) => {
            let mut params = Map::new();
            params.insert("course".into(), Value::String(id.into_string()));
            ctx.latest_version.set(Some(v.version));
            ctx.versions.update(|vs| vs.insert(0, v));
            // Should the dialog stay open, the figures are for the new version.
            ctx.load_analytics();
            match ap::save_macro(&params).and_then(|_| ap::close_macro_editor()) {
                Ok(()) => ctx.say(
                    true,
                    leptos_i18n::td_string!(ctx.loc, editor.published_closing),
                ),
                Err(e) => ctx.say(
                    false,
                    crate::locale::fill(
                        leptos_i18n::td_string!(ctx.loc, editor.published_macro_refused),
                        &[&e],
                    ),
                ),
            }
        }
        Err(e) => ctx.say(false, e.text(ctx.loc)),
    }
}

/// The whole editor.
#[component]
pub fn Editor() -> impl IntoView {
    let ctx = Ctx::new();
    let loc = ctx.loc;
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
                Phase::Loading => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, editor.loading)}</p> }.into_any(),
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
    let loc = ctx.loc;
    let o = ctx.outline.get_untracked();
    view! {
        <section class="sc-card" id="sc-readonly">
            <p class="sc-banner sc-banner-info" role="note">
                {leptos_i18n::td_string!(loc, editor.read_only)}
            </p>
            <h1 class="sc-h1">{o.title.clone()}</h1>
            <ol class="sc-outline-ro">
                {o.modules.into_iter().map(|m| view! {
                    <li>
                        <strong>{m.title}</strong>
                        <ul>
                            {m.lessons.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                            {(m.questions > 0).then(|| view! { <li class="sc-muted">{crate::locale::fill(leptos_i18n::td_string!(loc, editor.quiz_questions), &[&m.questions])}</li> })}
                        </ul>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn EditorReady(ctx: Ctx) -> impl IntoView {
    let loc = ctx.loc;
    let material = ctx.material;
    let problems = Memo::new(move |_| ctx.draft.with(validate_course));
    let cancel = move |_| {
        if let Err(e) = ap::close_macro_editor() {
            ctx.say(false, e.to_string());
        }
    };
    let copying = RwSignal::new(false);
    let copy_here = move |_| {
        let Some(id) = ctx.course_id.get_untracked() else {
            return;
        };
        ctx.busy.set(true);
        copying.set(true);
        spawn_local(async move {
            match api::copy_course(id).await {
                Ok(s) => {
                    ctx.apply(s);
                    ctx.say(true, leptos_i18n::td_string!(loc, editor.own_copy_made));
                }
                Err(e) => ctx.say(false, e.text(loc)),
            }
            copying.try_set(false);
            ctx.busy.try_set(false);
        });
    };
    view! {
        <h1 class="sc-visually-hidden">{leptos_i18n::td_string!(loc, editor.heading)}</h1>
        // Adding, moving and deleting items move focus silently; this says what happened.
        <p id="sc-live" class="sc-visually-hidden" role="status" aria-live="polite">{move || ctx.live.get()}</p>
        <header class="sc-editor-bar">
            <input
                id="sc-course-title"
                data-path="title"
                class="sc-input sc-title-input"
                aria-label={leptos_i18n::td_string!(loc, editor.course_title)}
                placeholder={leptos_i18n::td_string!(loc, editor.course_title)}
                prop:value=move || ctx.draft.with(|c| c.title.clone())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| c.title = v) }
            />
            <SaveBadge ctx />
            {move || ctx.latest_version.get().map(|v| view! {
                <label class="sc-check" title={leptos_i18n::td_string!(loc, editor.material_hint)}>
                    <input type="checkbox" id="sc-material" prop:checked=move || material.get()
                        on:change=move |ev| material.set(event_target_checked(&ev)) />
                    {crate::locale::fill(leptos_i18n::td_string!(loc, editor.material), &[&v])}
                </label>
            })}
            <button id="sc-cancel" class="sc-button sc-button-subtle" on:click=cancel>{leptos_i18n::td_string!(loc, editor.cancel)}</button>
            <button
                id="sc-publish"
                class="sc-button"
                aria-busy=move || ctx.publishing.get().then_some("true")
                disabled=move || ctx.busy.get() || !problems.with(|p| p.is_empty()) || ctx.other_page.get()
                on:click=move |_| spawn_local(publish_and_close(ctx, material.get_untracked()))
            >
                {move || if ctx.publishing.get() { leptos_i18n::td_string!(loc, editor.publishing) } else { leptos_i18n::td_string!(loc, editor.publish) }}
            </button>
        </header>
        {move || ctx.other_page.get().then(|| view! {
            <div class="sc-banner sc-banner-warn" role="alert" id="sc-copied">
                {leptos_i18n::td_string!(loc, editor.other_page)}
                <button id="sc-make-copy" class="sc-button" on:click=copy_here disabled=move || ctx.busy.get()
                    aria-busy=move || copying.get().then_some("true")>
                    {move || if copying.get() { leptos_i18n::td_string!(loc, editor.copying) } else { leptos_i18n::td_string!(loc, editor.make_copy) }}
                </button>
            </div>
        })}
        {move || ctx.notice.get().map(|(ok, text)| view! {
            <p class=if ok { "sc-banner sc-banner-ok" } else { "sc-banner sc-banner-error" } role="alert" id="sc-notice">{text}</p>
        })}
        <div class="sc-editor-body">
            <Outline ctx />
            <div class="sc-editor-main">
                <Panel ctx />
                <Problems ctx problems />
            </div>
        </div>
    }
}
