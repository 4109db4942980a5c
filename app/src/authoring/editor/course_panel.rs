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
    locale::Locale,
};
use leptos_i18n::td_string;

/// The access modes in the order the editor offers them, with the value the
/// select sends.
const ACCESS_MODES: [(AccessMode, &str); 3] = [
    (AccessMode::Open, "open"),
    (AccessMode::EnrolledOnly, "enrolled_only"),
    (AccessMode::SelfEnrol, "self_enrol"),
];

/// An access mode's short name, in the page's language (tables).
pub(crate) fn access_label(loc: Locale, mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Open => td_string!(loc, access.open),
        AccessMode::EnrolledOnly => td_string!(loc, access.enrolled_only),
        AccessMode::SelfEnrol => td_string!(loc, access.self_enrol),
    }
}

/// An access mode's full name, in the page's language (the select, the
/// space tools tab's course header).
pub(crate) fn access_long_label(loc: Locale, mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Open => td_string!(loc, access.open_long),
        AccessMode::EnrolledOnly => td_string!(loc, access.enrolled_only_long),
        AccessMode::SelfEnrol => td_string!(loc, access.self_enrol_long),
    }
}

/// What an access mode means, in one line.
fn access_help(loc: Locale, mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Open => td_string!(loc, access.open_help),
        AccessMode::EnrolledOnly => td_string!(loc, access.enrolled_only_help),
        AccessMode::SelfEnrol => td_string!(loc, access.self_enrol_help),
    }
}

#[component]
pub(super) fn CoursePanel(ctx: Ctx) -> impl IntoView {
    let loc = ctx.loc;
    let s = move |f: fn(&CourseContent) -> String| Signal::derive(move || ctx.draft.with(f));
    let export_text = RwSignal::new(None::<String>);
    let import_text = RwSignal::new(String::new());
    let exporting = RwSignal::new(false);
    let importing = RwSignal::new(false);
    let export = move |_| {
        let Some(id) = ctx.course_id.get_untracked() else {
            ctx.say(
                false,
                leptos_i18n::td_string!(loc, editor.save_before_export),
            );
            return;
        };
        exporting.set(true);
        spawn_local(async move {
            match api::export_course(id).await {
                Ok(json) => {
                    export_text.try_set(Some(json));
                }
                Err(e) => ctx.say(false, e.text(loc)),
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
                    ctx.say(true, leptos_i18n::td_string!(loc, editor.imported));
                }
                Err(e) => ctx.say(false, e.text(loc)),
            }
            importing.try_set(false);
        });
    };
    let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    view! {
        <h2 class="sc-h2">{leptos_i18n::td_string!(loc, editor.course)}</h2>
        <MarkdownField
            label={leptos_i18n::td_string!(loc, editor.description)}
            id="sc-course-description".into()
            read=s(|c| c.description_md.clone())
            write=Callback::new(move |v: String| ctx.edit(|c| c.description_md = v))
        />
        <h3 class="sc-h3">{leptos_i18n::td_string!(loc, editor.settings)}</h3>
        <div class="sc-grid">
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.pass_mark)}
                <input id="sc-pass-mark" data-path="settings.pass_mark_percent" class="sc-input" type="number" min="0" max="100"
                    prop:value=move || ctx.draft.with(|c| c.settings.pass_mark_percent.to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<u8>() { ctx.edit(|c| c.settings.pass_mark_percent = v) } } />
            </label>
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.attempts)}
                <input id="sc-attempts" data-path="settings.attempt_limit" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| num(c.settings.attempt_limit))
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0); ctx.edit(|c| c.settings.attempt_limit = v) } />
            </label>
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.time_limit)}
                <input id="sc-time-limit" data-path="settings.time_limit_secs" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| c.settings.time_limit_secs.map(|s| (s / 60).to_string()).unwrap_or_default())
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0).map(|m| m * 60); ctx.edit(|c| c.settings.time_limit_secs = v) } />
            </label>
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.cert_days)}
                <input id="sc-cert-days" data-path="settings.certificate_validity_days" class="sc-input" type="number" min="1"
                    prop:value=move || ctx.draft.with(|c| num(c.settings.certificate_validity_days))
                    on:input=move |ev| { let v = event_target_value(&ev).parse::<u32>().ok().filter(|n| *n > 0); ctx.edit(|c| c.settings.certificate_validity_days = v) } />
            </label>
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.feedback)}
                <select id="sc-feedback-mode" class="sc-input"
                    on:change=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| c.settings.feedback_mode = match v.as_str() { "immediate" => FeedbackMode::Immediate, "never" => FeedbackMode::Never, _ => FeedbackMode::AfterSubmit }) }>
                    <option value="immediate" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::Immediate)>{leptos_i18n::td_string!(loc, editor.feedback_immediate)}</option>
                    <option value="after" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::AfterSubmit)>{leptos_i18n::td_string!(loc, editor.feedback_after)}</option>
                    <option value="never" selected=move || ctx.draft.with(|c| c.settings.feedback_mode == FeedbackMode::Never)>{leptos_i18n::td_string!(loc, editor.feedback_never)}</option>
                </select>
            </label>
            <label class="sc-check">
                <input type="checkbox" id="sc-shuffle-q" prop:checked=move || ctx.draft.with(|c| c.settings.shuffle_questions)
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| c.settings.shuffle_questions = v) } />
                {leptos_i18n::td_string!(loc, editor.shuffle_questions)}
            </label>
            <label class="sc-check">
                <input type="checkbox" id="sc-shuffle-o" prop:checked=move || ctx.draft.with(|c| c.settings.shuffle_options)
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| c.settings.shuffle_options = v) } />
                {leptos_i18n::td_string!(loc, editor.shuffle_options)}
            </label>
        </div>
        <h3 class="sc-h3">{leptos_i18n::td_string!(loc, editor.access)}</h3>
        <label class="sc-label">{leptos_i18n::td_string!(loc, editor.who_can_take)}
            <select id="sc-access-mode" class="sc-input" aria-describedby="sc-access-help"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some((mode, _)) = ACCESS_MODES.iter().find(|(_, value)| *value == v) {
                        let mode = *mode;
                        ctx.edit(|c| c.settings.access = mode);
                    }
                }>
                {ACCESS_MODES.iter().map(|(mode, value)| {
                    let mode = *mode;
                    view! { <option value=*value selected=move || ctx.draft.with(|c| c.settings.access == mode)>{access_long_label(loc, mode)}</option> }
                }).collect_view()}
            </select>
        </label>
        <div id="sc-access-help" class="sc-enrol-help">
            <ul class="sc-enrol-modes">
                {ACCESS_MODES.iter().map(|(mode, _)| view! {
                    <li><strong>{access_long_label(loc, *mode)}</strong>": "{access_help(loc, *mode)}</li>
                }).collect_view()}
            </ul>
            <p class="sc-muted">{leptos_i18n::td_string!(loc, editor.access_takes_effect)}</p>
        </div>
        <h3 class="sc-h3">{leptos_i18n::td_string!(loc, editor.export_import)}</h3>
        <p class="sc-muted">{leptos_i18n::td_string!(loc, editor.export_help)}</p>
        <button class="sc-button sc-button-subtle" id="sc-export" on:click=export
            disabled=move || exporting.get() aria-busy=move || exporting.get().then_some("true")>
            {move || if exporting.get() { leptos_i18n::td_string!(loc, editor.exporting) } else { leptos_i18n::td_string!(loc, editor.export) }}
        </button>
        {move || export_text.get().map(|t| view! {
            <textarea class="sc-input sc-textarea" id="sc-export-json" rows="6" readonly aria-label={leptos_i18n::td_string!(loc, editor.exported_json)}>{t}</textarea>
        })}
        <label class="sc-label" for="sc-import-json">{leptos_i18n::td_string!(loc, editor.import_course_label)}</label>
        <textarea class="sc-input sc-textarea" id="sc-import-json" rows="4" placeholder={leptos_i18n::td_string!(loc, editor.paste_json)}
            prop:value=move || import_text.get() on:input=move |ev| import_text.set(event_target_value(&ev))></textarea>
        <button class="sc-button sc-button-subtle" id="sc-import-course" on:click=import
            disabled=move || importing.get() || import_text.with(|t| t.trim().is_empty())
            aria-busy=move || importing.get().then_some("true")>
            {move || if importing.get() { leptos_i18n::td_string!(loc, editor.importing) } else { leptos_i18n::td_string!(loc, editor.import_course) }}
        </button>
    }
}
