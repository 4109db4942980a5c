//! The quiz panel: the list of questions, adding a question of a chosen
//! kind, and [`QuestionEditor`] for what every question has (prompt, points,
//! feedback, move, delete). The answer editors per kind are in
//! [`super::question_kinds`]; question import is in [`super::import_panel`].
//!
//! Beside each question: how it performed with learners in the latest
//! published version ([`QuestionFigures`], from `authoring/analytics`).

use leptos::prelude::*;

use super::{
    import_panel::ImportPanel,
    question_kinds::{ChoiceEditor, MatchingEditor, OrderingEditor, ShortTextEditor},
    state::{fresh_id, Analytics, Ctx, Sel},
    widgets::{after_delete, MoveButtons},
};
use crate::{
    course::model::{
        ChoiceOption, CourseContent, Item, Pair, Question, QuestionKind, TextAnswer, TextMatch,
    },
    locale::Locale,
    space_admin::api::{Flag, QuestionStats},
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

fn kind_label(loc: Locale, k: &QuestionKind) -> &'static str {
    match k {
        QuestionKind::SingleChoice { .. } => leptos_i18n::td_string!(loc, kind.single_choice),
        QuestionKind::MultipleChoice { .. } => leptos_i18n::td_string!(loc, kind.multiple_choice),
        QuestionKind::TrueFalse { .. } => leptos_i18n::td_string!(loc, kind.true_false),
        QuestionKind::ShortText { .. } => leptos_i18n::td_string!(loc, kind.short_text),
        QuestionKind::Numeric { .. } => leptos_i18n::td_string!(loc, kind.numeric),
        QuestionKind::Ordering { .. } => leptos_i18n::td_string!(loc, kind.ordering),
        QuestionKind::Matching { .. } => leptos_i18n::td_string!(loc, kind.matching),
    }
}

#[component]
pub(super) fn QuizPanel(ctx: Ctx, m: usize) -> impl IntoView {
    let loc = ctx.loc;
    let new_kind = RwSignal::new("single".to_string());
    let add = move |_| {
        let kind = new_kind.get_untracked();
        let question = blank_question(&kind);
        let what = crate::locale::fill(
            leptos_i18n::td_string!(loc, editor.question_added),
            &[&kind_label(loc, &question.kind)],
        );
        let mut n = 0;
        ctx.edit_structure(|c| {
            if let Some(q) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) {
                n = q.questions.len();
                q.questions.push(question);
            }
        });
        ctx.focus_new(format!("sc-q{m}-{n}-prompt"), what);
    };
    let count = ctx.draft.with_untracked(|c| {
        c.modules
            .get(m)
            .and_then(|x| x.quiz.as_ref())
            .map(|q| q.questions.len())
            .unwrap_or(0)
    });
    view! {
        <h2 class="sc-h2">{leptos_i18n::td_string!(loc, editor.quiz)}</h2>
        <p class="sc-muted">{leptos_i18n::td_string!(loc, editor.quiz_help)}</p>
        <QuizFiguresNote ctx m />
        <ol class="sc-questions">
            {(0..count).map(|q| view! { <li><QuestionEditor ctx m q /></li> }).collect_view()}
        </ol>
        <div class="sc-row">
            <label class="sc-label sc-inline">{leptos_i18n::td_string!(loc, editor.new_question)}
                <select id="sc-new-kind" class="sc-input" on:change=move |ev| new_kind.set(event_target_value(&ev))>
                    <option value="single">{leptos_i18n::td_string!(loc, kind.single_choice)}</option>
                    <option value="multiple">{leptos_i18n::td_string!(loc, kind.multiple_choice)}</option>
                    <option value="truefalse">{leptos_i18n::td_string!(loc, kind.true_false)}</option>
                    <option value="short">{leptos_i18n::td_string!(loc, kind.short_text)}</option>
                    <option value="numeric">{leptos_i18n::td_string!(loc, kind.numeric)}</option>
                    <option value="ordering">{leptos_i18n::td_string!(loc, kind.ordering)}</option>
                    <option value="matching">{leptos_i18n::td_string!(loc, kind.matching)}</option>
                </select>
            </label>
            <button id="sc-add-question" data-path=format!("modules[{m}].quiz.questions") class="sc-button" on:click=add>{leptos_i18n::td_string!(loc, editor.add_question)}</button>
            <button id="sc-delete-quiz" class="sc-button sc-button-danger" on:click=move |_| {
                ctx.edit_structure(|c| if let Some(x) = c.modules.get_mut(m) { x.quiz = None });
                ctx.sel.set(Sel::Module(m));
                ctx.focus_after(vec!["sc-add-quiz".into()], leptos_i18n::td_string!(loc, editor.quiz_deleted));
            }>{leptos_i18n::td_string!(loc, editor.delete_quiz)}</button>
        </div>
        <ImportPanel ctx m />
    }
}

/// Mutable access to question `q` of module `m`'s quiz.
pub(super) fn question_mut(c: &mut CourseContent, m: usize, q: usize) -> Option<&mut Question> {
    c.modules.get_mut(m)?.quiz.as_mut()?.questions.get_mut(q)
}

/// The validation path of question `q` of module `m`'s quiz (its fields
/// carry `data-path`s under it, so a problem can focus them).
pub(super) fn question_path(m: usize, q: usize) -> String {
    format!("modules[{m}].quiz.questions[{q}]")
}

/// Question `q` of module `m`'s quiz.
pub(super) fn question(c: &CourseContent, m: usize, q: usize) -> Option<&Question> {
    c.modules.get(m)?.quiz.as_ref()?.questions.get(q)
}

#[component]
pub(super) fn QuestionEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
    let kind = ctx
        .draft
        .with_untracked(|c| question(c, m, q).map(|x| x.kind.clone()));
    let Some(kind) = kind else {
        return ().into_any();
    };
    let base = format!("sc-q{m}-{q}");
    // Where validation problems about this question point (`data-path`).
    let path = question_path(m, q);
    let label = kind_label(loc, &kind);
    let read = move |f: fn(&Question) -> String| {
        Signal::derive(move || {
            ctx.draft
                .with(|c| question(c, m, q).map(f).unwrap_or_default())
        })
    };
    let body = match kind {
        QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. } => view! { <ChoiceEditor ctx m q /> }.into_any(),
        QuestionKind::TrueFalse { .. } => view! {
            <fieldset class="sc-fieldset"><legend>{leptos_i18n::td_string!(loc, editor.correct_answer)}</legend>
                <label class="sc-check"><input type="radio" name=format!("{base}-tf") prop:checked=move || ctx.draft.with(|c| matches!(question(c, m, q).map(|x| &x.kind), Some(QuestionKind::TrueFalse { answer: true })))
                    on:change=move |_| ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.kind = QuestionKind::TrueFalse { answer: true } }) />{leptos_i18n::td_string!(loc, editor.answer_true)}</label>
                <label class="sc-check"><input type="radio" name=format!("{base}-tf") prop:checked=move || ctx.draft.with(|c| matches!(question(c, m, q).map(|x| &x.kind), Some(QuestionKind::TrueFalse { answer: false })))
                    on:change=move |_| ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.kind = QuestionKind::TrueFalse { answer: false } }) />{leptos_i18n::td_string!(loc, editor.answer_false)}</label>
            </fieldset>
        }.into_any(),
        QuestionKind::ShortText { .. } => view! { <ShortTextEditor ctx m q /> }.into_any(),
        QuestionKind::Numeric { .. } => {
            let num = move |pick: fn(f64, f64) -> f64| move || ctx.draft.with(|c| match question(c, m, q).map(|x| &x.kind) { Some(QuestionKind::Numeric { answer, tolerance }) => pick(*answer, *tolerance).to_string(), _ => String::new() });
            view! {
                <div class="sc-grid">
                    <label class="sc-label">{leptos_i18n::td_string!(loc, editor.correct_answer)}
                        <input class="sc-input" data-path=format!("{path}.answer") type="number" step="any" prop:value=num(|a, _| a)
                            on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { ctx.edit(|c| if let Some(QuestionKind::Numeric { answer, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *answer = v }) } } />
                    </label>
                    <label class="sc-label">{leptos_i18n::td_string!(loc, editor.tolerance)}
                        <input class="sc-input" data-path=format!("{path}.tolerance") type="number" step="any" min="0" prop:value=num(|_, t| t)
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
        <article class="sc-question-editor" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.question_label), &[&(q + 1), &label])}>
            <header class="sc-row">
                <h3 class="sc-h3 sc-q-title">{crate::locale::fill(leptos_i18n::td_string!(loc, editor.question_title), &[&(q + 1), &label])}</h3>
                <label class="sc-label sc-inline">{leptos_i18n::td_string!(loc, editor.points)}
                    <input class="sc-input sc-narrow" data-path=format!("{path}.points") type="number" min="0" step="any"
                        prop:value=move || ctx.draft.with(|c| question(c, m, q).map(|x| x.points.to_string()).unwrap_or_default())
                        on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.points = v }) } } />
                </label>
                <MoveButtons ctx label={leptos_i18n::td_string!(loc, editor.item_question)} prefix=format!("sc-q{m}") idx=q len=count
                    on_move=Callback::new(move |(a, b): (usize, usize)| ctx.edit_structure(|c| if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) { z.questions.swap(a, b) })) />
                <button class="sc-button sc-button-danger" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.delete_question), &[&(q + 1)])}
                    on:click=move |_| {
                        ctx.edit_structure(|c| if let Some(z) = c.modules.get_mut(m).and_then(|x| x.quiz.as_mut()) { if q < z.questions.len() { z.questions.remove(q); } });
                        ctx.focus_after(after_delete(q, |i| format!("sc-q{m}-{i}-prompt"), "sc-add-question"), crate::locale::fill(leptos_i18n::td_string!(loc, editor.question_deleted), &[&(q + 1)]));
                    }>{leptos_i18n::td_string!(loc, editor.delete)}</button>
            </header>
            <QuestionFigures ctx m q />
            <label class="sc-label">{leptos_i18n::td_string!(loc, editor.question_md)}
                <textarea class="sc-input sc-textarea" rows="2" id=format!("{base}-prompt") data-path=format!("{path}.prompt_md")
                    prop:value=move || read(|x| x.prompt_md.clone()).get()
                    on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.prompt_md = v }) }></textarea>
            </label>
            {body}
            <div class="sc-grid">
                <label class="sc-label">{leptos_i18n::td_string!(loc, editor.feedback_correct)}
                    <input class="sc-input" prop:value=move || read(|x| x.feedback_correct_md.clone()).get()
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.feedback_correct_md = v }) } />
                </label>
                <label class="sc-label">{leptos_i18n::td_string!(loc, editor.feedback_incorrect)}
                    <input class="sc-input" prop:value=move || read(|x| x.feedback_incorrect_md.clone()).get()
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(x) = question_mut(c, m, q) { x.feedback_incorrect_md = v }) } />
                </label>
            </div>
        </article>
    }
    .into_any()
}

/// The id of module `m` in the draft.
fn module_id(c: &CourseContent, m: usize) -> Option<String> {
    c.modules.get(m).map(|x| x.id.clone())
}

/// Which version the figures beside the questions are for, over how many
/// attempts, and what they mean for an edited question.
#[component]
fn QuizFiguresNote(ctx: Ctx, m: usize) -> impl IntoView {
    let loc = ctx.loc;
    // The panel is rebuilt when modules are added, removed or moved.
    let module = ctx.draft.with_untracked(|c| module_id(c, m));
    let text = move || {
        ctx.analytics.with(|a| match a {
            Analytics::Unpublished => {
                leptos_i18n::td_string!(loc, editor.figures_unpublished).to_string()
            }
            Analytics::Loading => leptos_i18n::td_string!(loc, editor.figures_loading).to_string(),
            Analytics::Failed(e) => {
                crate::locale::fill(leptos_i18n::td_string!(loc, editor.figures_failed), &[e])
            }
            Analytics::Ready { figures, .. } => {
                match figures
                    .quizzes
                    .iter()
                    .find(|z| Some(&z.module_id) == module.as_ref())
                {
                    None => crate::locale::fill(
                        leptos_i18n::td_string!(loc, editor.figures_not_in_version),
                        &[&figures.version],
                    ),
                    Some(z) => crate::locale::fill(
                        if z.attempts == 1 {
                            leptos_i18n::td_string!(loc, editor.figures_note_one)
                        } else {
                            leptos_i18n::td_string!(loc, editor.figures_note)
                        },
                        &[&figures.version, &z.attempts],
                    ),
                }
            }
        })
    };
    view! { <p class="sc-muted sc-qa-note" id="sc-qa-note" role="status">{text}</p> }
}

/// A question's figures in the latest published version, in words.
fn stats_line(loc: Locale, s: &QuestionStats) -> String {
    let lang = crate::locale::lang_of(loc);
    if s.attempts == 0 {
        return leptos_i18n::td_string!(loc, editor.no_attempts).to_string();
    }
    let mut parts = Vec::new();
    if let Some(f) = s.facility {
        parts.push(crate::locale::fill(
            leptos_i18n::td_string!(loc, editor.facility),
            &[&lang.percent(f * 100.0)],
        ));
    }
    parts.push(match s.discrimination {
        Some(d) => crate::locale::fill(
            leptos_i18n::td_string!(loc, editor.discrimination),
            &[&lang.fixed(d, 2)],
        ),
        None => leptos_i18n::td_string!(loc, editor.discrimination_needs).to_string(),
    });
    parts.push(crate::locale::fill(
        if s.attempts == 1 {
            leptos_i18n::td_string!(loc, editor.attempt_answered_one)
        } else {
            leptos_i18n::td_string!(loc, editor.attempts_answered)
        },
        &[&s.attempts, &s.answered],
    ));
    parts.join(" · ")
}

/// What a flag means, for the author.
fn flag_text(loc: Locale, flag: &Flag, s: &QuestionStats) -> String {
    let option = |i: usize| {
        s.choices
            .as_ref()
            .and_then(|c| c.options.get(i))
            .map(|o| format!("\u{201c}{}\u{201d}", o.text))
            .unwrap_or_else(|| {
                crate::locale::fill(leptos_i18n::td_string!(loc, editor.option_n), &[&(i + 1)])
            })
    };
    match flag {
        Flag::NegativeDiscrimination => {
            leptos_i18n::td_string!(loc, editor.flag_negative).to_string()
        }
        Flag::TooEasy => leptos_i18n::td_string!(loc, editor.flag_too_easy).to_string(),
        Flag::TooHard => leptos_i18n::td_string!(loc, editor.flag_too_hard).to_string(),
        Flag::UnchosenDistractor { option: i } => crate::locale::fill(
            leptos_i18n::td_string!(loc, editor.flag_unchosen),
            &[&option(*i)],
        ),
        Flag::CorrectOptionRarelyChosen { option: i } => crate::locale::fill(
            leptos_i18n::td_string!(loc, editor.flag_correct_rare),
            &[&option(*i)],
        ),
    }
}

/// Beside question `q` of module `m`'s quiz: facility, discrimination,
/// attempts and warnings from the latest published version; whether the
/// draft changed the question since.
#[component]
fn QuestionFigures(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
    let id = format!("sc-qa-{m}-{q}");
    move || {
        let id = id.clone();
        ctx.analytics.with(|a| {
            let Analytics::Ready { figures, published } = a else {
                return ().into_any();
            };
            let (module, draft) = ctx
                .draft
                .with(|c| (module_id(c, m), question(c, m, q).cloned()));
            let (Some(module), Some(draft)) = (module, draft) else {
                return ().into_any();
            };
            let version = figures.version;
            let stats = figures
                .quizzes
                .iter()
                .find(|z| z.module_id == module)
                .and_then(|z| z.questions.iter().find(|x| x.question_id == draft.id))
                .map(|x| x.stats.clone());
            let Some(stats) = stats else {
                return view! {
                    <p class="sc-qa-line sc-qa-new" id=id>
                        {crate::locale::fill(leptos_i18n::td_string!(loc, editor.new_since), &[&version])}
                    </p>
                }
                .into_any();
            };
            let edited = published
                .get(&(module, draft.id.clone()))
                .is_some_and(|p| *p != draft);
            let flags: Vec<String> = stats.flags.iter().map(|f| flag_text(loc, f, &stats)).collect();
            view! {
                <div class="sc-qa" id=id>
                    <p class="sc-qa-line">
                        <span class="sc-qa-version">{crate::locale::fill(leptos_i18n::td_string!(loc, editor.version_prefix), &[&version])}</span>
                        {stats_line(loc, &stats)}
                    </p>
                    {(!flags.is_empty()).then(|| view! {
                        <ul class="sc-qa-flags" aria-label={leptos_i18n::td_string!(loc, editor.warnings)}>
                            {flags.into_iter().map(|f| view! {
                                <li class="sc-qa-flag"><strong>{leptos_i18n::td_string!(loc, editor.check_prefix)}</strong>{f}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {edited.then(|| view! {
                        <p class="sc-qa-edited">
                            {crate::locale::fill(leptos_i18n::td_string!(loc, editor.edited_since), &[&version])}
                        </p>
                    })}
                </div>
            }
            .into_any()
        })
    }
}
