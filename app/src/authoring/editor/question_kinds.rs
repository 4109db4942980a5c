//! Answer editors for the question kinds that need more than one field:
//! single/multiple choice options, accepted short-text answers, ordering
//! items and matching pairs. (True/false and numeric are edited inline in
//! [`super::quiz_panel::QuestionEditor`].)

use leptos::prelude::*;

use super::{
    quiz_panel::{question, question_mut, question_path},
    state::{fresh_id, Ctx},
    widgets::{after_delete, MoveButtons},
};
use crate::course::model::{ChoiceOption, Item, Pair, QuestionKind, TextAnswer, TextMatch};

fn choice_options(k: &mut QuestionKind) -> Option<&mut Vec<ChoiceOption>> {
    match k {
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            Some(options)
        }
        _ => None,
    }
}

#[component]
pub(super) fn ChoiceEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
    let (n, multiple) = ctx
        .draft
        .with_untracked(|c| match question(c, m, q).map(|x| &x.kind) {
            Some(QuestionKind::SingleChoice { options }) => (options.len(), false),
            Some(QuestionKind::MultipleChoice { options, .. }) => (options.len(), true),
            _ => (0, false),
        });
    let group = format!("sc-q{m}-{q}-correct");
    let base = format!("sc-q{m}-{q}");
    let opt_id = move |i: usize| format!("sc-q{m}-{q}-opt-{i}");
    let add_id = format!("{base}-add-opt");
    let opt_read = move |i: usize| {
        move || {
            ctx.draft
                .with(|c| match question(c, m, q).map(|x| &x.kind) {
                    Some(
                        QuestionKind::SingleChoice { options }
                        | QuestionKind::MultipleChoice { options, .. },
                    ) => options.get(i).map(|o| (o.text.clone(), o.correct)),
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
            <legend>{if multiple { leptos_i18n::td_string!(loc, editor.options_multiple) } else { leptos_i18n::td_string!(loc, editor.options_single) }}</legend>
            {(0..n).map(|i| {
                let r = opt_read(i);
                view! {
                    <div class="sc-row">
                        <input type=if multiple { "checkbox" } else { "radio" } name=group.clone()
                            aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.option_correct), &[&(i + 1)])}
                            data-path=format!("{}.options[{i}].correct", question_path(m, q))
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
                        <input class="sc-input" id=opt_id(i) aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.option_text), &[&(i + 1)])} data-path=format!("{}.options[{i}].text", question_path(m, q))
                            prop:value=move || r().map(|x| x.0).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)).and_then(|o| o.get_mut(i)) { o.text = v }) } />
                        <MoveButtons ctx label={leptos_i18n::td_string!(loc, editor.item_option)} prefix=format!("sc-q{m}-{q}-opt") idx=i len=Signal::derive(move || n)
                            on_move=Callback::new(move |(a, b): (usize, usize)| ctx.edit_structure(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)) { o.swap(a, b) })) />
                        <button class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.remove_option), &[&(i + 1)])}
                            on:click=move |_| {
                                ctx.edit_structure(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)) { if i < o.len() { o.remove(i); } });
                                ctx.focus_after(after_delete(i, opt_id, &format!("sc-q{m}-{q}-add-opt")), crate::locale::fill(leptos_i18n::td_string!(loc, editor.option_removed), &[&(i + 1)]));
                            }>"✕"</button>
                    </div>
                }
            }).collect_view()}
            <button class="sc-button sc-button-subtle" id=add_id on:click=move |_| {
                let mut n = 0;
                ctx.edit_structure(|c| if let Some(o) = question_mut(c, m, q).and_then(|x| choice_options(&mut x.kind)) { n = o.len(); o.push(ChoiceOption { id: fresh_id(), text: String::new(), correct: false, feedback: String::new() }) });
                ctx.focus_new(opt_id(n), crate::locale::fill(leptos_i18n::td_string!(loc, editor.option_added), &[&(n + 1)]));
            }>{leptos_i18n::td_string!(loc, editor.add_option)}</button>
            {multiple.then(|| view! {
                <label class="sc-check"><input type="checkbox" prop:checked=flag(|k| matches!(k, QuestionKind::MultipleChoice { partial_credit: true, .. }))
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| if let Some(QuestionKind::MultipleChoice { partial_credit, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *partial_credit = v }) } />{leptos_i18n::td_string!(loc, editor.partial_credit)}</label>
                <label class="sc-check"><input type="checkbox" prop:checked=flag(|k| matches!(k, QuestionKind::MultipleChoice { negative_marking: true, .. }))
                    on:change=move |ev| { let v = event_target_checked(&ev); ctx.edit(|c| if let Some(QuestionKind::MultipleChoice { negative_marking, .. }) = question_mut(c, m, q).map(|x| &mut x.kind) { *negative_marking = v }) } />{leptos_i18n::td_string!(loc, editor.negative_marking)}</label>
            })}
        </fieldset>
    }
}

#[component]
pub(super) fn ShortTextEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
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
    let ans_id = move |i: usize| format!("sc-q{m}-{q}-ans-{i}");
    view! {
        <fieldset class="sc-fieldset"><legend>{leptos_i18n::td_string!(loc, editor.accepted_answers)}</legend>
            {(0..n).map(|i| {
                let r = read(i);
                let r2 = read(i);
                view! {
                    <div class="sc-row">
                        <input class="sc-input" id=ans_id(i) aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.accepted_n), &[&(i + 1)])} data-path=format!("{}.accepted[{i}].text", question_path(m, q)) prop:value=move || r().map(|x| x.0).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)).and_then(|a| a.get_mut(i)) { a.text = v }) } />
                        <select class="sc-input" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.compare_n), &[&(i + 1)])}
                            on:change=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)).and_then(|a| a.get_mut(i)) { a.mode = match v.as_str() { "exact" => TextMatch::Exact, "regex" => TextMatch::Regex, _ => TextMatch::CaseInsensitive } }) }>
                            <option value="ci" selected=move || r2().map(|x| x.1 == TextMatch::CaseInsensitive).unwrap_or(false)>{leptos_i18n::td_string!(loc, editor.ignore_case)}</option>
                            <option value="exact" selected=move || r2().map(|x| x.1 == TextMatch::Exact).unwrap_or(false)>{leptos_i18n::td_string!(loc, editor.exact)}</option>
                            <option value="regex" selected=move || r2().map(|x| x.1 == TextMatch::Regex).unwrap_or(false)>{leptos_i18n::td_string!(loc, editor.regex)}</option>
                        </select>
                        <button class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.remove_answer), &[&(i + 1)])}
                            on:click=move |_| {
                                ctx.edit_structure(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)) { if i < a.len() { a.remove(i); } });
                                ctx.focus_after(after_delete(i, ans_id, &format!("sc-q{m}-{q}-add-ans")), crate::locale::fill(leptos_i18n::td_string!(loc, editor.answer_removed), &[&(i + 1)]));
                            }>"✕"</button>
                    </div>
                }
            }).collect_view()}
            <button class="sc-button sc-button-subtle" data-path=format!("{}.accepted", question_path(m, q)) id=format!("sc-q{m}-{q}-add-ans") on:click=move |_| {
                let mut n = 0;
                ctx.edit_structure(|c| if let Some(a) = question_mut(c, m, q).and_then(|x| accepted(&mut x.kind)) { n = a.len(); a.push(TextAnswer { text: String::new(), mode: TextMatch::CaseInsensitive }) });
                ctx.focus_new(ans_id(n), crate::locale::fill(leptos_i18n::td_string!(loc, editor.answer_added), &[&(n + 1)]));
            }>{leptos_i18n::td_string!(loc, editor.add_answer)}</button>
        </fieldset>
    }
}

#[component]
pub(super) fn OrderingEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
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
    let item_id = move |i: usize| format!("sc-q{m}-{q}-item-{i}");
    view! {
        <fieldset class="sc-fieldset"><legend>{leptos_i18n::td_string!(loc, editor.items_order)}</legend>
            {(0..n).map(|i| view! {
                <div class="sc-row">
                    <span class="sc-muted">{format!("{}.", i + 1)}</span>
                    <input class="sc-input" id=item_id(i) aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.item_n), &[&(i + 1)])} data-path=format!("{}.items[{i}].text", question_path(m, q))
                        prop:value=move || ctx.draft.with(|c| match question(c, m, q).map(|x| &x.kind) { Some(QuestionKind::Ordering { items }) => items.get(i).map(|x| x.text.clone()).unwrap_or_default(), _ => String::new() })
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(it) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)).and_then(|v2| v2.get_mut(i)) { it.text = v }) } />
                    <MoveButtons ctx label={leptos_i18n::td_string!(loc, editor.item_item)} prefix=format!("sc-q{m}-{q}-item") idx=i len=Signal::derive(move || n)
                        on_move=Callback::new(move |(a, b): (usize, usize)| ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { v.swap(a, b) })) />
                    <button class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.remove_item), &[&(i + 1)])}
                        on:click=move |_| {
                            ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { if i < v.len() { v.remove(i); } });
                            ctx.focus_after(after_delete(i, item_id, &format!("sc-q{m}-{q}-add-item")), crate::locale::fill(leptos_i18n::td_string!(loc, editor.item_removed), &[&(i + 1)]));
                        }>"✕"</button>
                </div>
            }).collect_view()}
            <button class="sc-button sc-button-subtle" data-path=format!("{}.items", question_path(m, q)) id=format!("sc-q{m}-{q}-add-item") on:click=move |_| {
                let mut n = 0;
                ctx.edit_structure(|c| if let Some(v) = question_mut(c, m, q).and_then(|x| items(&mut x.kind)) { n = v.len(); v.push(Item { id: fresh_id(), text: String::new() }) });
                ctx.focus_new(item_id(n), crate::locale::fill(leptos_i18n::td_string!(loc, editor.item_added), &[&(n + 1)]));
            }>{leptos_i18n::td_string!(loc, editor.add_item)}</button>
        </fieldset>
    }
}

#[component]
pub(super) fn MatchingEditor(ctx: Ctx, m: usize, q: usize) -> impl IntoView {
    let loc = ctx.loc;
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
    let pair_id = move |i: usize| format!("sc-q{m}-{q}-pair-{i}");
    view! {
        <fieldset class="sc-fieldset"><legend>{leptos_i18n::td_string!(loc, editor.pairs)}</legend>
            {(0..n).map(|i| view! {
                <div class="sc-row">
                    <input class="sc-input" id=pair_id(i) aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.prompt_n), &[&(i + 1)])} data-path=format!("{}.pairs[{i}].prompt", question_path(m, q)) prop:value=read(i, true)
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)).and_then(|p| p.get_mut(i)) { p.prompt = v }) } />
                    <span aria-hidden="true">"→"</span>
                    <input class="sc-input" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.answer_n), &[&(i + 1)])} data-path=format!("{}.pairs[{i}].answer", question_path(m, q)) prop:value=read(i, false)
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.edit(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)).and_then(|p| p.get_mut(i)) { p.answer = v }) } />
                    <button class="sc-button sc-button-subtle" aria-label={crate::locale::fill(leptos_i18n::td_string!(loc, editor.remove_pair), &[&(i + 1)])}
                        on:click=move |_| {
                            ctx.edit_structure(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)) { if i < p.len() { p.remove(i); } });
                            ctx.focus_after(after_delete(i, pair_id, &format!("sc-q{m}-{q}-add-pair")), crate::locale::fill(leptos_i18n::td_string!(loc, editor.pair_removed), &[&(i + 1)]));
                        }>"✕"</button>
                </div>
            }).collect_view()}
            <button class="sc-button sc-button-subtle" data-path=format!("{}.pairs", question_path(m, q)) id=format!("sc-q{m}-{q}-add-pair") on:click=move |_| {
                let mut n = 0;
                ctx.edit_structure(|c| if let Some(p) = question_mut(c, m, q).and_then(|x| pairs(&mut x.kind)) { n = p.len(); p.push(Pair { id: fresh_id(), prompt: String::new(), answer: String::new() }) });
                ctx.focus_new(pair_id(n), crate::locale::fill(leptos_i18n::td_string!(loc, editor.pair_added), &[&(n + 1)]));
            }>{leptos_i18n::td_string!(loc, editor.add_pair)}</button>
        </fieldset>
    }
}
