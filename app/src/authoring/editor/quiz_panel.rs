//! The quiz panel: the list of questions, adding a question of a chosen
//! kind, and [`QuestionEditor`] for what every question has (prompt, points,
//! feedback, move, delete). The answer editors per kind are in
//! [`super::question_kinds`]; question import is in [`super::import_panel`].

use leptos::prelude::*;

use super::{
    import_panel::ImportPanel,
    question_kinds::{ChoiceEditor, MatchingEditor, OrderingEditor, ShortTextEditor},
    state::{fresh_id, Ctx, Sel},
    widgets::MoveButtons,
};
use crate::{
    ap,
    course::model::{
        ChoiceOption, CourseContent, Item, Pair, Question, QuestionKind, TextAnswer, TextMatch,
    },
};

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
pub(super) fn QuizPanel(ctx: Ctx, m: usize) -> impl IntoView {
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
pub(super) fn question_mut(c: &mut CourseContent, m: usize, q: usize) -> Option<&mut Question> {
    c.modules.get_mut(m)?.quiz.as_mut()?.questions.get_mut(q)
}

/// Question `q` of module `m`'s quiz.
pub(super) fn question(c: &CourseContent, m: usize, q: usize) -> Option<&Question> {
    c.modules.get(m)?.quiz.as_ref()?.questions.get(q)
}

#[component]
pub(super) fn QuestionEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
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
