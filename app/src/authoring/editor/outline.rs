//! Navigation: the outline on the left (select an item, add a module, open
//! the versions) and [`Panel`], which shows the selected item's panel on the
//! right.

use leptos::prelude::*;

use super::{
    course_panel::CoursePanel,
    module_panel::{LessonPanel, ModulePanel},
    quiz_panel::QuizPanel,
    state::{fresh_id, Ctx, Sel},
    versions_panel::VersionsPanel,
};
use crate::course::model::Module;

/// The outline tree: select, add, move, remove.
#[component]
pub(super) fn Outline(ctx: Ctx) -> impl IntoView {
    let loc = ctx.loc;
    let add_module = move |_| {
        let n = ctx.draft.with_untracked(|c| c.modules.len());
        ctx.edit_structure(|c| {
            c.modules.push(Module {
                id: fresh_id(),
                title: crate::locale::fill(
                    leptos_i18n::td_string!(loc, editor.new_module),
                    &[&(n + 1)],
                ),
                lessons: Vec::new(),
                quiz: None,
            })
        });
        ctx.sel.set(Sel::Module(n));
        ctx.focus_new(
            "sc-module-title".into(),
            crate::locale::fill(
                leptos_i18n::td_string!(loc, editor.module_added),
                &[&(n + 1)],
            ),
        );
    };
    view! {
        <nav class="sc-outline" aria-label={leptos_i18n::td_string!(loc, editor.outline)}>
            <button id="sc-ol-course" class=move || sel_class(ctx, Sel::Course) aria-current=move || current(ctx, Sel::Course) on:click=move |_| ctx.sel.set(Sel::Course)>{leptos_i18n::td_string!(loc, editor.course_and_settings)}</button>
            {move || {
                ctx.structure.get();
                let modules = ctx.draft.with_untracked(|c| c.modules.iter().map(|m| {
                    (m.title.clone(), m.lessons.iter().map(|l| l.title.clone()).collect::<Vec<_>>(), m.quiz.as_ref().map(|q| q.questions.len()))
                }).collect::<Vec<_>>());
                modules.into_iter().enumerate().map(|(mi, (title, lessons, quiz))| {
                    let title = if title.trim().is_empty() { leptos_i18n::td_string!(loc, editor.untitled_module).to_string() } else { title };
                    view! {
                        <div class="sc-outline-module">
                            <button id=format!("sc-ol-m{mi}") class=move || sel_class(ctx, Sel::Module(mi)) aria-current=move || current(ctx, Sel::Module(mi)) on:click=move |_| ctx.sel.set(Sel::Module(mi))>
                                {title}
                            </button>
                            {lessons.into_iter().enumerate().map(|(li, lt)| {
                                let lt = if lt.trim().is_empty() { leptos_i18n::td_string!(loc, editor.untitled_lesson).to_string() } else { lt };
                                view! {
                                    <button id=format!("sc-ol-l{mi}-{li}") class=move || format!("{} sc-outline-child", sel_class(ctx, Sel::Lesson(mi, li)))
                                        aria-current=move || current(ctx, Sel::Lesson(mi, li)) on:click=move |_| ctx.sel.set(Sel::Lesson(mi, li))>{lt}</button>
                                }
                            }).collect_view()}
                            {quiz.map(|n| view! {
                                <button id=format!("sc-ol-q{mi}") class=move || format!("{} sc-outline-child", sel_class(ctx, Sel::Quiz(mi)))
                                    aria-current=move || current(ctx, Sel::Quiz(mi)) on:click=move |_| ctx.sel.set(Sel::Quiz(mi))>{crate::locale::fill(leptos_i18n::td_string!(loc, editor.quiz_count), &[&n])}</button>
                            })}
                        </div>
                    }
                }).collect_view()
            }}
            <button id="sc-add-module" data-path="modules" class="sc-button sc-button-subtle" on:click=add_module>{leptos_i18n::td_string!(loc, editor.add_module)}</button>
            <button class=move || sel_class(ctx, Sel::Versions) id="sc-versions-tab" aria-current=move || current(ctx, Sel::Versions) on:click=move |_| ctx.sel.set(Sel::Versions)>
                {move || crate::locale::fill(leptos_i18n::td_string!(loc, editor.versions_count), &[&ctx.versions.with(|v| v.len())])}
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

/// `aria-current` on the outline entry whose panel is open.
fn current(ctx: Ctx, s: Sel) -> Option<&'static str> {
    (ctx.sel.get() == s).then_some("true")
}

/// The selected item's editor. Re-renders on selection or structure change only.
#[component]
pub(super) fn Panel(ctx: Ctx) -> impl IntoView {
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
