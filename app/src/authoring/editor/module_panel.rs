//! The module panel (title; add a lesson or the quiz; move, delete) and the
//! lesson panel (title and Markdown content; move, delete).

use leptos::prelude::*;

use super::{
    state::{fresh_id, Ctx, Sel},
    widgets::{MarkdownField, MoveButtons},
};
use crate::course::model::{CourseContent, Lesson, Quiz};

#[component]
pub(super) fn ModulePanel(ctx: Ctx, m: usize) -> impl IntoView {
    let loc = ctx.loc;
    let add_lesson = move |_| {
        let n = ctx
            .draft
            .with_untracked(|c| c.modules.get(m).map(|x| x.lessons.len()).unwrap_or(0));
        ctx.edit_structure(|c| {
            if let Some(module) = c.modules.get_mut(m) {
                module.lessons.push(Lesson {
                    id: fresh_id(),
                    title: crate::locale::fill(
                        leptos_i18n::td_string!(loc, editor.new_lesson),
                        &[&(n + 1)],
                    ),
                    body_md: String::new(),
                });
            }
        });
        ctx.sel.set(Sel::Lesson(m, n));
        ctx.focus_new(
            "sc-lesson-title".into(),
            crate::locale::fill(
                leptos_i18n::td_string!(loc, editor.lesson_added),
                &[&(n + 1)],
            ),
        );
    };
    let add_quiz = move |_| {
        ctx.edit_structure(|c| {
            if let Some(module) = c.modules.get_mut(m) {
                module.quiz.get_or_insert_with(Quiz::default);
            }
        });
        ctx.sel.set(Sel::Quiz(m));
        ctx.focus_new(
            "sc-new-kind".into(),
            leptos_i18n::td_string!(loc, editor.quiz_added),
        );
    };
    // The next module takes the deleted one's place; else the one before;
    // else the course, with focus on "+ Module".
    let delete = move |_| {
        let mut left = 0;
        ctx.edit_structure(|c| {
            if m < c.modules.len() {
                c.modules.remove(m);
            }
            left = c.modules.len();
        });
        let (sel, focus) = match (m < left, m.checked_sub(1)) {
            (true, _) => (Sel::Module(m), format!("sc-ol-m{m}")),
            (false, Some(p)) => (Sel::Module(p), format!("sc-ol-m{p}")),
            (false, None) => (Sel::Course, "sc-add-module".to_string()),
        };
        ctx.sel.set(sel);
        ctx.focus_after(
            vec![focus],
            leptos_i18n::td_string!(loc, editor.module_deleted),
        );
    };
    let has_quiz = ctx
        .draft
        .with_untracked(|c| c.modules.get(m).map(|x| x.quiz.is_some()).unwrap_or(false));
    view! {
        <h2 class="sc-h2">{leptos_i18n::td_string!(loc, editor.module)}</h2>
        <label class="sc-label">{leptos_i18n::td_string!(loc, editor.title)}
            <input id="sc-module-title" data-path=format!("modules[{m}].title") class="sc-input"
                prop:value=move || ctx.draft.with(|c| c.modules.get(m).map(|x| x.title.clone()).unwrap_or_default())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = c.modules.get_mut(m) { x.title = v }) } />
        </label>
        <div class="sc-row">
            <button id="sc-add-lesson" data-path=format!("modules[{m}]") class="sc-button" on:click=add_lesson>{leptos_i18n::td_string!(loc, editor.add_lesson)}</button>
            {(!has_quiz).then(|| view! { <button id="sc-add-quiz" class="sc-button" on:click=add_quiz>{leptos_i18n::td_string!(loc, editor.add_quiz)}</button> })}
            <MoveButtons ctx label={leptos_i18n::td_string!(loc, editor.item_module)} prefix="sc-module" idx=m
                len=Signal::derive(move || ctx.draft.with(|c| c.modules.len()))
                on_move=Callback::new(move |(a, b): (usize, usize)| { ctx.edit_structure(|c| c.modules.swap(a, b)); ctx.sel.set(Sel::Module(b)) }) />
            <button id="sc-delete-module" class="sc-button sc-button-danger" on:click=delete>{leptos_i18n::td_string!(loc, editor.delete_module)}</button>
        </div>
    }
}

#[component]
pub(super) fn LessonPanel(ctx: Ctx, m: usize, l: usize) -> impl IntoView {
    let loc = ctx.loc;
    let get = move |c: &CourseContent| c.modules.get(m).and_then(|x| x.lessons.get(l)).cloned();
    // The next lesson takes the deleted one's place; else the one before;
    // else the module, with focus on "+ Lesson".
    let delete = move |_| {
        let mut left = 0;
        ctx.edit_structure(|c| {
            if let Some(x) = c.modules.get_mut(m) {
                if l < x.lessons.len() {
                    x.lessons.remove(l);
                }
                left = x.lessons.len();
            }
        });
        let (sel, focus) = match (l < left, l.checked_sub(1)) {
            (true, _) => (Sel::Lesson(m, l), format!("sc-ol-l{m}-{l}")),
            (false, Some(p)) => (Sel::Lesson(m, p), format!("sc-ol-l{m}-{p}")),
            (false, None) => (Sel::Module(m), "sc-add-lesson".to_string()),
        };
        ctx.sel.set(sel);
        ctx.focus_after(
            vec![focus],
            leptos_i18n::td_string!(loc, editor.lesson_deleted),
        );
    };
    view! {
        <h2 class="sc-h2">{leptos_i18n::td_string!(loc, editor.lesson)}</h2>
        <label class="sc-label">{leptos_i18n::td_string!(loc, editor.title)}
            <input id="sc-lesson-title" data-path=format!("modules[{m}].lessons[{l}].title") class="sc-input"
                prop:value=move || ctx.draft.with(|c| get(c).map(|x| x.title).unwrap_or_default())
                on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = c.modules.get_mut(m).and_then(|x| x.lessons.get_mut(l)) { x.title = v }) } />
        </label>
        <MarkdownField
            label={leptos_i18n::td_string!(loc, editor.lesson_content)}
            id="sc-lesson-body".into()
            read=Signal::derive(move || ctx.draft.with(|c| get(c).map(|x| x.body_md).unwrap_or_default()))
            write=Callback::new(move |v: String| ctx.edit(|c| if let Some(x) = c.modules.get_mut(m).and_then(|x| x.lessons.get_mut(l)) { x.body_md = v }))
        />
        <div class="sc-row">
            <MoveButtons ctx label={leptos_i18n::td_string!(loc, editor.item_lesson)} prefix=format!("sc-lesson-{m}") idx=l
                len=Signal::derive(move || ctx.draft.with(|c| c.modules.get(m).map(|x| x.lessons.len()).unwrap_or(0)))
                on_move=Callback::new(move |(a, b): (usize, usize)| { ctx.edit_structure(|c| if let Some(x) = c.modules.get_mut(m) { x.lessons.swap(a, b) }); ctx.sel.set(Sel::Lesson(m, b)) }) />
            <button id="sc-delete-lesson" class="sc-button sc-button-danger" on:click=delete>{leptos_i18n::td_string!(loc, editor.delete_lesson)}</button>
        </div>
    }
}
