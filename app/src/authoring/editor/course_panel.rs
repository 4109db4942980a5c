//! The course panel ("Course & settings"): description, pass mark,
//! attempts, time limit, certificate validity, feedback and shuffling, who
//! can take the course (its access mode), and moving a whole course between
//! pages as JSON (export / import).

use leptos::{prelude::*, task::spawn_local};

use super::{
    state::{Ctx, Sel},
    widgets::MarkdownField,
};
use crate::{
    ap,
    authoring::api,
    course::model::{AccessMode, CourseContent, FeedbackMode},
};

/// The access modes in the order the editor offers them, with the value the
/// select sends and a one-line explanation.
const ACCESS_MODES: [(AccessMode, &str, &str); 3] = [
    (
        AccessMode::Open,
        "open",
        "Anyone who can view this page can take the course; nobody needs to enrol.",
    ),
    (
        AccessMode::EnrolledOnly,
        "enrolled_only",
        "Only people a space admin enrols (in person or through a group); others see the outline and are told to ask a space admin.",
    ),
    (
        AccessMode::SelfEnrol,
        "self_enrol",
        "Anyone who can view this page, after choosing Enrol; space admins see who enrolled and can set due dates.",
    ),
];

#[component]
pub(super) fn CoursePanel(ctx: Ctx) -> impl IntoView {
    let s = move |f: fn(&CourseContent) -> String| Signal::derive(move || ctx.draft.with(f));
    let export_text = RwSignal::new(None::<String>);
    let import_text = RwSignal::new(String::new());
    let exporting = RwSignal::new(false);
    let importing = RwSignal::new(false);
    let export = move |_| {
        let Some(id) = ctx.course_id.get_untracked() else {
            ctx.say(false, "Save the course once before exporting it.");
            return;
        };
        exporting.set(true);
        spawn_local(async move {
            match api::export_course(id).await {
                Ok(json) => {
                    export_text.try_set(Some(json));
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
            exporting.try_set(false);
            ap::resize();
        });
    };
    let import = move |_| {
        let text = import_text.get_untracked();
        importing.set(true);
        spawn_local(async move {
            match api::import_course(text).await {
                Ok(content) => {
                    ctx.edit_structure(|c| *c = content);
                    ctx.sel.set(Sel::Course);
                    ctx.say(true, "Imported. The draft now holds the imported course; publish to make it live.");
                }
                Err(e) => ctx.say(false, e.to_string()),
            }
            importing.try_set(false);
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
                <input id="sc-pass-mark" data-path="settings.pass_mark_percent" class="sc-input" type="number" min="0" max="100"
                    prop:value=move || ctx.draft.with(|c| c.settings.pass_mark_percent.to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<u8>() { ctx.edit(|c| c.settings.pass_mark_percent = v) } } />
            </label>
            <label class="sc-label">"Attempts allowed (empty: unlimited)"
                <input id="sc-attempts" data-path="settings.attempt_limit" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| num(c.settings.attempt_limit))
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0); ctx.edit(|c| c.settings.attempt_limit = v) } />
            </label>
            <label class="sc-label">"Time limit in minutes (empty: none)"
                <input id="sc-time-limit" data-path="settings.time_limit_secs" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| c.settings.time_limit_secs.map(|s| (s / 60).to_string()).unwrap_or_default())
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0).map(|m| m * 60); ctx.edit(|c| c.settings.time_limit_secs = v) } />
            </label>
            <label class="sc-label">"Certificate valid for days (empty: forever)"
                <input id="sc-cert-days" data-path="settings.certificate_validity_days" class="sc-input" type="number" min="1"
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
        <h3 class="sc-h3">"Access"</h3>
        <label class="sc-label">"Who can take this course"
            <select id="sc-access-mode" class="sc-input" aria-describedby="sc-access-help"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some((mode, _, _)) = ACCESS_MODES.iter().find(|(_, value, _)| *value == v) {
                        let mode = *mode;
                        ctx.edit(|c| c.settings.access = mode);
                    }
                }>
                {ACCESS_MODES.iter().map(|(mode, value, _)| {
                    let mode = *mode;
                    view! { <option value=*value selected=move || ctx.draft.with(|c| c.settings.access == mode)>{mode.label()}</option> }
                }).collect_view()}
            </select>
        </label>
        <div id="sc-access-help" class="sc-enrol-help">
            <ul class="sc-enrol-modes">
                {ACCESS_MODES.iter().map(|(mode, _, explanation)| view! {
                    <li><strong>{mode.label()}</strong>": "{*explanation}</li>
                }).collect_view()}
            </ul>
            <p class="sc-muted">"A change takes effect when you publish; the space's admins find it in their audit log."</p>
        </div>
        <h3 class="sc-h3">"Export and import"</h3>
        <p class="sc-muted">"Move a course to another page or site: export it as JSON here, import it there."</p>
        <button class="sc-button sc-button-subtle" id="sc-export" on:click=export
            disabled=move || exporting.get() aria-busy=move || exporting.get().then_some("true")>
            {move || if exporting.get() { "Exporting…" } else { "Export as JSON" }}
        </button>
        {move || export_text.get().map(|t| view! {
            <textarea class="sc-input sc-textarea" id="sc-export-json" rows="6" readonly aria-label="Exported course JSON">{t}</textarea>
        })}
        <label class="sc-label" for="sc-import-json">"Import a course (replaces this draft)"</label>
        <textarea class="sc-input sc-textarea" id="sc-import-json" rows="4" placeholder="Paste exported JSON"
            prop:value=move || import_text.get() on:input=move |ev| import_text.set(event_target_value(&ev))></textarea>
        <button class="sc-button sc-button-subtle" id="sc-import-course" on:click=import
            disabled=move || importing.get() || import_text.with(|t| t.trim().is_empty())
            aria-busy=move || importing.get().then_some("true")>
            {move || if importing.get() { "Importing…" } else { "Import course" }}
        </button>
    }
}
