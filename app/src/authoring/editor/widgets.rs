//! Small pieces shared by the editor's header and panels: the autosave
//! badge, the list of problems that block publishing (each opens its field), the ↑/↓ move buttons
//! and the Markdown field with its live preview.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use super::state::{Ctx, SaveState, Sel};
use crate::{
    ap,
    authoring::api,
    authoring::problems::in_authors_words,
    course::validate::{place_of, Place, Problem},
};

#[component]
pub(super) fn SaveBadge(ctx: Ctx) -> impl IntoView {
    let loc = ctx.loc;
    view! {
        <span id="sc-save-state" class="sc-save-state" role="status" aria-live="polite">
            {move || match ctx.save.get() {
                SaveState::Saved if ctx.course_id.get().is_none() => leptos_i18n::td_string!(loc, editor.not_saved_yet).to_string(),
                SaveState::Saved => leptos_i18n::td_string!(loc, editor.all_saved).to_string(),
                SaveState::Dirty => leptos_i18n::td_string!(loc, editor.unsaved).to_string(),
                SaveState::Saving => leptos_i18n::td_string!(loc, editor.saving).to_string(),
                SaveState::Offline => leptos_i18n::td_string!(loc, editor.offline).to_string(),
                SaveState::Failed(m) => crate::locale::fill(leptos_i18n::td_string!(loc, editor.not_saved), &[&m]),
            }}
        </span>
    }
}

/// What must be fixed before publishing, in the author's words and the
/// page's language ([`in_authors_words`], the wording the server's refusal
/// uses too); each
/// problem is a button that opens its item and focuses the field.
#[component]
pub(super) fn Problems(ctx: Ctx, problems: Memo<Vec<Problem>>) -> impl IntoView {
    let loc = ctx.loc;
    view! {
        {move || {
            let list = problems.get();
            (!list.is_empty()).then(|| {
                let items = ctx.draft.with(|c| {
                    list.iter()
                        .map(|p| (p.path.clone(), in_authors_words(loc, c, p)))
                        .collect::<Vec<_>>()
                });
                view! {
                    <section class="sc-problems" aria-labelledby="sc-problems-h" id="sc-problems">
                        <h2 id="sc-problems-h" class="sc-h2">{if list.len() == 1 { leptos_i18n::td_string!(loc, editor.problems_one).to_string() } else { crate::locale::fill(leptos_i18n::td_string!(loc, editor.problems_many), &[&list.len()]) }}</h2>
                        <ul>
                            {items.into_iter().map(|(path, words)| {
                                let target = path.clone();
                                view! {
                                    <li>
                                        <button type="button" class="sc-problem" data-problem=path
                                            on:click=move |_| go_to_problem(ctx, target.clone())>
                                            {words}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }
            })
        }}
    }
}

/// Opens the item a problem's `path` is about and focuses its field (the
/// element whose `data-path` is the path, or the nearest one above it).
pub(super) fn go_to_problem(ctx: Ctx, path: String) {
    ctx.sel.set(match place_of(&path) {
        Place::Course | Place::Settings => Sel::Course,
        Place::Module(m) => Sel::Module(m),
        Place::Lesson(m, l) => Sel::Lesson(m, l),
        Place::Quiz(m) | Place::Question(m, _) => Sel::Quiz(m),
    });
    // After the panel for the new selection has rendered.
    set_timeout(move || focus_path(&path), Duration::ZERO);
}

/// Focuses the field for `path`: the element with that `data-path`, else
/// the first one under it (`….options` → its first option), else the same
/// for the path one level up.
fn focus_path(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let mut prefix = path;
        loop {
            let selector = format!(
                r#"[data-path="{prefix}"], [data-path^="{prefix}."], [data-path^="{prefix}["]"#
            );
            // Exact first, then the first one under it in document order.
            let exact = document
                .query_selector(&format!(r#"[data-path="{prefix}"]"#))
                .ok()
                .flatten();
            let found = exact.or_else(|| document.query_selector(&selector).ok().flatten());
            if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = el.focus();
                return;
            }
            match prefix.rfind(['.', '[']) {
                Some(i) if i > 0 => prefix = &prefix[..i],
                _ => return,
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// ↑/↓ for item `idx` of a list of `len`: buttons with names ("Move
/// lesson up") and ids (`{prefix}-{idx}-up`, `-down`), so that after the
/// move focus stays on the same button at the item's new place (or on the
/// other one when the item reached an end of the list).
#[component]
pub(super) fn MoveButtons(
    ctx: Ctx,
    #[prop(into)] label: String,
    #[prop(into)] prefix: String,
    idx: usize,
    len: Signal<usize>,
    on_move: Callback<(usize, usize)>,
) -> impl IntoView {
    let loc = ctx.loc;
    let up_label = crate::locale::fill(leptos_i18n::td_string!(loc, editor.move_up), &[&label]);
    let down_label = crate::locale::fill(leptos_i18n::td_string!(loc, editor.move_down), &[&label]);
    let go = {
        let prefix = prefix.clone();
        move |to: usize, dir: &str| {
            let n = len.get_untracked();
            on_move.run((idx, to));
            let other = if dir == "up" { "down" } else { "up" };
            ctx.focus_after(
                vec![
                    format!("{prefix}-{to}-{dir}"),
                    format!("{prefix}-{to}-{other}"),
                ],
                crate::locale::fill(
                    leptos_i18n::td_string!(loc, editor.moved),
                    &[&label, &(to + 1), &n],
                ),
            );
        }
    };
    let go2 = go.clone();
    view! {
        <button id=format!("{prefix}-{idx}-up") class="sc-button sc-button-subtle" aria-label=up_label disabled=move || { idx == 0 }
            on:click=move |_| { if idx > 0 { go(idx - 1, "up") } }>"↑"</button>
        <button id=format!("{prefix}-{idx}-down") class="sc-button sc-button-subtle" aria-label=down_label disabled=move || { idx + 1 >= len.get() }
            on:click=move |_| { if idx + 1 < len.get_untracked() { go2(idx + 1, "down") } }>"↓"</button>
    }
}

/// Where focus goes after item `i` of a list was deleted: the item that
/// took its place (the next one), else the one before, else `add`.
pub(super) fn after_delete(i: usize, id: impl Fn(usize) -> String, add: &str) -> Vec<String> {
    let mut ids = vec![id(i)];
    ids.extend(i.checked_sub(1).map(&id));
    ids.push(add.to_string());
    ids
}

/// Markdown textarea with a server-rendered, sanitised preview.
#[component]
pub(super) fn MarkdownField(
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
    let loc = crate::locale::use_locale();
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
                <div class="sc-md-preview sc-lesson-body" id=preview_id role="region" aria-label={leptos_i18n::td_string!(loc, editor.preview)} inner_html=move || preview.get()></div>
            </div>
        </div>
    }
}
