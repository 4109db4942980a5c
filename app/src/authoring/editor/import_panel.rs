//! Question import into a quiz from GIFT or Aiken text: check first (a dry
//! run that reports problems by line), then add. Whole-course JSON
//! export/import is in [`super::course_panel`].

use leptos::{prelude::*, task::spawn_local};

use super::state::{fresh_id, Ctx};
use crate::{
    ap,
    authoring::api::{self, ImportFormat},
};

/// GIFT / Aiken import into this quiz: check first (dry run), then add.
#[component]
pub(super) fn ImportPanel(ctx: Ctx, m: usize) -> impl IntoView {
    let loc = ctx.loc;
    let format = RwSignal::new(ImportFormat::Gift);
    let text = RwSignal::new(String::new());
    let report = RwSignal::new(None::<crate::course::model::ImportReport>);
    let checking = RwSignal::new(false);
    let check = move |_| {
        let (f, t) = (format.get_untracked(), text.get_untracked());
        checking.set(true);
        spawn_local(async move {
            match api::import_questions(f, t).await {
                Ok(r) => {
                    report.try_set(Some(r));
                }
                Err(e) => ctx.say(false, e.text(loc)),
            }
            checking.try_set(false);
            ap::resize();
        });
    };
    let add = move |_| {
        let Some(r) = report.get_untracked() else {
            return;
        };
        let n = r.questions.len();
        let mut first = 0;
        ctx.edit_structure(|c| {
            if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) {
                first = z.questions.len();
                z.questions.extend(r.questions.into_iter().map(|mut q| {
                    q.id = fresh_id();
                    q
                }));
            }
        });
        report.set(None);
        text.set(String::new());
        let what = if n == 1 {
            leptos_i18n::td_string!(loc, editor.imported_one).to_string()
        } else {
            crate::locale::fill(leptos_i18n::td_string!(loc, editor.imported_many), &[&n])
        };
        // The notice is an alert already: nothing more to announce.
        ctx.focus_after(vec![format!("sc-q{m}-{first}-prompt")], "");
        ctx.say(true, what);
    };
    view! {
        <details class="sc-import">
            <summary>{leptos_i18n::td_string!(loc, editor.import_questions)}</summary>
            <div class="sc-row">
                <label class="sc-check"><input type="radio" name="sc-import-format" prop:checked=move || format.get() == ImportFormat::Gift on:change=move |_| format.set(ImportFormat::Gift) />"GIFT"</label>
                <label class="sc-check"><input type="radio" name="sc-import-format" prop:checked=move || format.get() == ImportFormat::Aiken on:change=move |_| format.set(ImportFormat::Aiken) />"Aiken"</label>
            </div>
            <textarea id="sc-import-text" class="sc-input sc-textarea" rows="8" aria-label={leptos_i18n::td_string!(loc, editor.questions_to_import)}
                prop:value=move || text.get() on:input=move |ev| { text.set(event_target_value(&ev)); report.set(None) }></textarea>
            <button id="sc-import-check" class="sc-button sc-button-subtle" on:click=check
                disabled=move || checking.get() || text.with(|t| t.trim().is_empty())
                aria-busy=move || checking.get().then_some("true")>
                {move || if checking.get() { leptos_i18n::td_string!(loc, editor.checking) } else { leptos_i18n::td_string!(loc, editor.check) }}
            </button>
            {move || report.get().map(|r| {
                let clean = r.problems.is_empty();
                let n = r.questions.len();
                view! {
                    <div id="sc-import-report" role="status">
                        <p>{if n == 1 { leptos_i18n::td_string!(loc, editor.ready_one).to_string() } else { crate::locale::fill(leptos_i18n::td_string!(loc, editor.ready_many), &[&n]) }}</p>
                        {(!clean).then(|| view! {
                            <ul class="sc-error">{r.problems.iter().map(|p| view! { <li>{crate::locale::fill(leptos_i18n::td_string!(loc, editor.import_line), &[&p.line, &p.message])}</li> }).collect_view()}</ul>
                            <p class="sc-muted">{leptos_i18n::td_string!(loc, editor.nothing_added)}</p>
                        })}
                        {(clean && n > 0).then(|| view! { <button id="sc-import-add" class="sc-button" on:click=add>{if n == 1 { leptos_i18n::td_string!(loc, editor.add_one).to_string() } else { crate::locale::fill(leptos_i18n::td_string!(loc, editor.add_many), &[&n]) }}</button> })}
                    </div>
                }
            })}
        </details>
    }
}
