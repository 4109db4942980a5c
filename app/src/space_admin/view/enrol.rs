//! The *Enrolments* tab: enrol people found with Confluence's user search
//! (several at once, with an optional due date), enrol a group with a due
//! rule, list the course's group rules (remove one, sync them all now).
//! Every change reloads the report and says what it did.

use std::time::Duration;

use course::ids::{AccountId, GroupName};
use leptos::{prelude::*, task::spawn_local};

use leptos_i18n::td_string;

use super::{focus_soon, format, resize_soon, CourseCtx, Notice, NoticeArea};
use crate::{
    error::AppError,
    locale::{fill, use_locale},
    space_admin::api::{self, DueRule, GroupRuleRow, UserHit},
};

/// Wait this long after the last keystroke before searching.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// A search box's results as they come and go.
#[derive(Clone, Debug, PartialEq)]
enum Found<T> {
    Idle,
    Searching,
    Done(Vec<T>),
    Failed(String),
}

/// Runs `search(text)` `DEBOUNCE` after the last change of `text`; only
/// the newest answer is shown.
fn debounced<T, F, Fut>(results: RwSignal<Found<T>>, search: F) -> impl Fn(String) + Copy
where
    T: Send + Sync + 'static,
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<T>, AppError>> + 'static,
{
    let generation = StoredValue::new(0u64);
    move |text: String| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if text.trim().is_empty() {
            results.set(Found::Idle);
            return;
        }
        results.set(Found::Searching);
        set_timeout(
            move || {
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                spawn_local(async move {
                    let r = search(text).await;
                    if generation.try_get_value() == Some(mine) {
                        results.try_set(match r {
                            Ok(v) => Found::Done(v),
                            Err(e) => Found::Failed(super::message(e)),
                        });
                        resize_soon();
                    }
                });
            },
            DEBOUNCE,
        );
    }
}

#[component]
pub(super) fn Enrolments(ctx: CourseCtx) -> impl IntoView {
    let notice = RwSignal::new(None::<Notice>);
    view! {
        <NoticeArea id="sc-enrol-status" notice />
        <div class="sc-admin-columns">
            <EnrolPeople ctx notice />
            <EnrolGroup ctx notice />
        </div>
        <GroupRules ctx notice />
    }
}

#[component]
fn EnrolPeople(ctx: CourseCtx, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let loc = use_locale();
    let text = RwSignal::new(String::new());
    let found = RwSignal::new(Found::<UserHit>::Idle);
    let picked = RwSignal::new(Vec::<UserHit>::new());
    let due = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let search = debounced(found, |q| async move { api::search_users(q).await });
    let toggle = move |hit: UserHit, on: bool| {
        picked.update(|p| {
            p.retain(|x| x.account_id != hit.account_id);
            if on {
                p.push(hit);
            }
        });
        resize_soon();
    };
    let enrol = move |_| {
        let people = picked.get_untracked();
        if people.is_empty() {
            return;
        }
        let due_text = due.get_untracked();
        let due_ms = format::due_from_input(&due_text);
        if !due_text.is_empty() && due_ms.is_none() {
            notice.set(Some(Notice::error(td_string!(loc, enrol.bad_date))));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = async {
                let ids = people
                    .iter()
                    .map(|p| Ok(AccountId::parse(p.account_id.clone())?))
                    .collect::<Result<Vec<_>, AppError>>()?;
                let o = api::enrol_users(ctx.course_id()?, ids, due_ms).await?;
                let mut t = fill(td_string!(loc, enrol.enrolled), &[&format::people(o.added)]);
                if o.already > 0 {
                    let words = if due_ms.is_some() {
                        td_string!(loc, enrol.already_due)
                    } else {
                        td_string!(loc, enrol.already)
                    };
                    t.push_str(&fill(words, &[&o.already]));
                }
                if let Some(at) = due_ms {
                    t.push_str(&fill(td_string!(loc, enrol.due_by), &[&format::day(at)]));
                }
                t.push('.');
                Ok(t)
            }
            .await;
            let ok = r.is_ok();
            notice.try_set(Some(Notice::from_result(r)));
            busy.try_set(false);
            if ok {
                picked.try_set(Vec::new());
                ctx.reload();
            }
        });
    };
    view! {
        <section class="sc-admin-box" aria-labelledby="sc-enrol-people-title">
            <h3 class="sc-h3" id="sc-enrol-people-title">{td_string!(loc, enrol.people_title)}</h3>
            <label class="sc-label" for="sc-user-search">{td_string!(loc, enrol.find_people)}</label>
            <input class="sc-input sc-admin-wide" type="search" id="sc-user-search" autocomplete="off"
                aria-describedby="sc-user-search-state" aria-controls="sc-user-results"
                prop:value=move || text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    search(v);
                } />
            <p class="sc-muted sc-admin-search-state" id="sc-user-search-state" role="status">
                {move || match found.get() {
                    Found::Idle => td_string!(loc, enrol.people_idle).to_owned(),
                    Found::Searching => td_string!(loc, enrol.searching).to_owned(),
                    Found::Done(v) if v.is_empty() => td_string!(loc, enrol.nobody).to_owned(),
                    Found::Done(v) => fill(td_string!(loc, enrol.found), &[&format::people(v.len() as u32)]),
                    Found::Failed(e) => e,
                }}
            </p>
            <ul class="sc-admin-picklist" id="sc-user-results" aria-label=td_string!(loc, enrol.people_found)>
                {move || match found.get() {
                    Found::Done(v) => v.into_iter().map(|hit| {
                        let id = hit.account_id.clone();
                        let is_on = move || picked.with(|p| p.iter().any(|x| x.account_id == id));
                        let h = hit.clone();
                        view! {
                            <li>
                                <label class="sc-check sc-admin-pick" data-account=hit.account_id.clone()>
                                    <input type="checkbox" prop:checked=is_on
                                        on:change=move |ev| toggle(h.clone(), event_target_checked(&ev)) />
                                    <span>
                                        <span class="sc-admin-pick-name">{hit.name.clone()}</span>
                                        {hit.email.clone().map(|e| view! { <span class="sc-admin-sub">{e}</span> })}
                                    </span>
                                </label>
                            </li>
                        }
                    }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </ul>
            {move || {
                let p = picked.get();
                (!p.is_empty()).then(|| view! {
                    <div class="sc-admin-chips-wrap">
                        <p class="sc-admin-chips-label" id="sc-user-picked-label">{td_string!(loc, enrol.to_enrol)}</p>
                        <ul class="sc-admin-chips" id="sc-user-picked" aria-labelledby="sc-user-picked-label">
                            {p.into_iter().map(|hit| {
                                let h = hit.clone();
                                view! {
                                    <li class="sc-admin-chip">
                                        {hit.name.clone()}
                                        <button type="button" class="sc-admin-chip-remove"
                                            aria-label=fill(td_string!(loc, enrol.remove_person), &[&hit.name])
                                            on:click=move |_| toggle(h.clone(), false)>"×"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
            <div class="sc-row">
                <label class="sc-label sc-admin-compact">
                    {td_string!(loc, enrol.due_optional)}
                    <input type="date" class="sc-input" id="sc-enrol-due"
                        prop:value=move || due.get() on:input=move |ev| due.set(event_target_value(&ev)) />
                </label>
            </div>
            <button type="button" class="sc-button" id="sc-enrol-submit"
                disabled=move || picked.with(Vec::is_empty) || busy.get()
                aria-busy=move || busy.get().then_some("true")
                on:click=enrol>
                {move || match picked.with(Vec::len) {
                    0 => td_string!(loc, enrol.enrol).to_owned(),
                    n => fill(td_string!(loc, enrol.enrol_n), &[&format::people(n as u32)]),
                }}
            </button>
        </section>
    }
}

/// How a group's due date is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DueKind {
    None,
    At,
    DaysAfter,
}

#[component]
fn EnrolGroup(ctx: CourseCtx, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let loc = use_locale();
    let text = RwSignal::new(String::new());
    let found = RwSignal::new(Found::<String>::Idle);
    let picked = RwSignal::new(None::<String>);
    let due_kind = RwSignal::new(DueKind::None);
    let due_date = RwSignal::new(String::new());
    let due_days = RwSignal::new("14".to_owned());
    let busy = RwSignal::new(false);
    let search = debounced(found, |q| async move { api::search_groups(q).await });
    let rule = move || -> Result<DueRule, String> {
        match due_kind.get() {
            DueKind::None => Ok(DueRule::None),
            DueKind::At => format::due_from_input(&due_date.get())
                .map(DueRule::At)
                .ok_or_else(|| td_string!(loc, enrol.choose_due).to_owned()),
            DueKind::DaysAfter => match due_days.get().trim().parse::<u32>() {
                Ok(n @ 1..=3650) => Ok(DueRule::DaysAfter(n)),
                _ => Err(td_string!(loc, enrol.days_range).to_owned()),
            },
        }
    };
    let enrol = move |_| {
        let Some(group) = picked.get_untracked() else {
            return;
        };
        let due = match rule() {
            Ok(d) => d,
            Err(e) => {
                notice.set(Some(Notice::error(e)));
                return;
            }
        };
        busy.set(true);
        spawn_local(async move {
            let r = async {
                let name = GroupName::parse(group.clone())?;
                let o = api::enrol_group(ctx.course_id()?, name, due).await?;
                let members = o.members.unwrap_or(o.added + o.already);
                let (people, due) = (format::people(members), format::due_rule_phrase(due));
                Ok(if o.already > 0 {
                    fill(
                        td_string!(loc, enrol.group_enrolled_already),
                        &[&group, &people, &due, &o.added, &o.already],
                    )
                } else {
                    fill(
                        td_string!(loc, enrol.group_enrolled),
                        &[&group, &people, &due, &o.added],
                    )
                })
            }
            .await;
            let ok = r.is_ok();
            notice.try_set(Some(Notice::from_result(r)));
            busy.try_set(false);
            if ok {
                picked.try_set(None);
                ctx.reload();
            }
        });
    };
    view! {
        <section class="sc-admin-box" aria-labelledby="sc-enrol-group-title">
            <h3 class="sc-h3" id="sc-enrol-group-title">{td_string!(loc, enrol.group_title)}</h3>
            <label class="sc-label" for="sc-group-search">{td_string!(loc, enrol.find_group)}</label>
            <input class="sc-input sc-admin-wide" type="search" id="sc-group-search" autocomplete="off"
                aria-describedby="sc-group-search-state" aria-controls="sc-group-results"
                prop:value=move || text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    search(v);
                } />
            <p class="sc-muted sc-admin-search-state" id="sc-group-search-state" role="status">
                {move || match found.get() {
                    Found::Idle => td_string!(loc, enrol.group_idle).to_owned(),
                    Found::Searching => td_string!(loc, enrol.searching).to_owned(),
                    Found::Done(v) if v.is_empty() => td_string!(loc, enrol.no_group).to_owned(),
                    Found::Done(v) if v.len() == 1 => td_string!(loc, enrol.one_group).to_owned(),
                    Found::Done(v) => fill(td_string!(loc, enrol.n_groups), &[&v.len()]),
                    Found::Failed(e) => e,
                }}
            </p>
            <div role="radiogroup" aria-label=td_string!(loc, enrol.groups_found) id="sc-group-results" class="sc-admin-picklist">
                {move || match found.get() {
                    Found::Done(v) => v.into_iter().map(|g| {
                        let on = {
                            let g = g.clone();
                            move || picked.with(|p| p.as_deref() == Some(g.as_str()))
                        };
                        let pick = g.clone();
                        view! {
                            <label class="sc-check sc-admin-pick" data-group=g.clone()>
                                <input type="radio" name="sc-group-pick" prop:checked=on
                                    on:change=move |_| picked.set(Some(pick.clone())) />
                                <span class="sc-admin-pick-name">{g.clone()}</span>
                            </label>
                        }
                    }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </div>
            <fieldset class="sc-fieldset sc-admin-due">
                <legend>{td_string!(loc, enrol.group_due)}</legend>
                <label class="sc-check">
                    <input type="radio" name="sc-group-due" id="sc-group-due-none"
                        prop:checked=move || due_kind.get() == DueKind::None
                        on:change=move |_| due_kind.set(DueKind::None) />
                    {td_string!(loc, enrol.no_due)}
                </label>
                <span class="sc-admin-due-choice">
                    <label class="sc-check">
                        <input type="radio" name="sc-group-due" id="sc-group-due-at"
                            prop:checked=move || due_kind.get() == DueKind::At
                            on:change=move |_| due_kind.set(DueKind::At) />
                        {td_string!(loc, enrol.by_date)}
                    </label>
                    <input type="date" class="sc-input" id="sc-group-due-date" aria-label=td_string!(loc, enrol.due_date)
                        prop:value=move || due_date.get()
                        on:input=move |ev| { due_date.set(event_target_value(&ev)); due_kind.set(DueKind::At); } />
                </span>
                <span class="sc-admin-due-choice">
                    <label class="sc-check">
                        <input type="radio" name="sc-group-due" id="sc-group-due-days-choice"
                            prop:checked=move || due_kind.get() == DueKind::DaysAfter
                            on:change=move |_| due_kind.set(DueKind::DaysAfter) />
                        {td_string!(loc, enrol.days_after_each)}
                    </label>
                    <input type="number" class="sc-input sc-narrow" id="sc-group-due-days" min="1" max="3650"
                        aria-label=td_string!(loc, enrol.days_after)
                        prop:value=move || due_days.get()
                        on:input=move |ev| { due_days.set(event_target_value(&ev)); due_kind.set(DueKind::DaysAfter); } />
                </span>
            </fieldset>
            <button type="button" class="sc-button" id="sc-enrol-group"
                disabled=move || picked.with(Option::is_none) || busy.get() || rule().is_err()
                aria-busy=move || busy.get().then_some("true")
                on:click=enrol>
                {move || match picked.get() {
                    Some(g) => fill(td_string!(loc, enrol.enrol_group_named), &[&g]),
                    None => td_string!(loc, enrol.enrol_group).to_owned(),
                }}
            </button>
        </section>
    }
}

#[component]
fn GroupRules(ctx: CourseCtx, notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let loc = use_locale();
    let rules = Memo::new(move |_| {
        ctx.report.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| r.groups.clone())
        })
    });
    let confirming = RwSignal::new(None::<String>);
    let syncing = RwSignal::new(false);
    let sync = move |_| {
        syncing.set(true);
        spawn_local(async move {
            let r = async {
                let o = api::sync_groups(ctx.course_id()?).await?;
                let mut t = fill(
                    td_string!(loc, enrol.synced),
                    &[&format::people(o.added), &format::people(o.removed)],
                );
                if !o.failed.is_empty() {
                    t.push_str(&fill(
                        td_string!(loc, enrol.sync_failed),
                        &[&o.failed.join(", ")],
                    ));
                }
                Ok(t)
            }
            .await;
            notice.try_set(Some(Notice::from_result(r)));
            syncing.try_set(false);
            ctx.reload();
        });
    };
    let remove = move |group: String| {
        confirming.set(None);
        spawn_local(async move {
            let r = async {
                let o =
                    api::remove_group(ctx.course_id()?, GroupName::parse(group.clone())?).await?;
                Ok(fill(
                    td_string!(loc, enrol.removed),
                    &[&group, &format::people(o.removed)],
                ))
            }
            .await;
            notice.try_set(Some(Notice::from_result(r)));
            ctx.reload();
            focus_soon("sc-sync-groups".into());
        });
    };
    view! {
        <section class="sc-admin-box" aria-labelledby="sc-group-rules-title">
            <div class="sc-admin-box-head">
                <h3 class="sc-h3" id="sc-group-rules-title">{td_string!(loc, enrol.rules_title)}</h3>
                <button type="button" class="sc-button sc-button-subtle" id="sc-sync-groups"
                    disabled=move || syncing.get() on:click=sync
                    aria-busy=move || syncing.get().then_some("true")>
                    {move || if syncing.get() { td_string!(loc, enrol.syncing) } else { td_string!(loc, enrol.sync_now) }}
                </button>
            </div>
            {move || match rules.get() {
                None => view! { <p class="sc-muted">{td_string!(loc, common.loading)}</p> }.into_any(),
                Some(v) if v.is_empty() => view! {
                    <p class="sc-empty" id="sc-group-rules-empty">{td_string!(loc, enrol.no_rules)}</p>
                }.into_any(),
                Some(v) => view! {
                    <table class="sc-table sc-admin-table" id="sc-group-rules">
                        <caption class="sc-visually-hidden">{td_string!(loc, enrol.rules_caption)}</caption>
                        <thead>
                            <tr>
                                <th scope="col">{td_string!(loc, enrol.group)}</th>
                                <th scope="col">{td_string!(loc, enrol.due_date)}</th>
                                <th scope="col" class="sc-admin-num">{td_string!(loc, enrol.members)}</th>
                                <th scope="col">{td_string!(loc, enrol.last_synced)}</th>
                                <th scope="col"><span class="sc-visually-hidden">{td_string!(loc, enrol.actions)}</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {v.into_iter().map(|g| view! { <RuleRow g confirming remove /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn RuleRow(
    g: GroupRuleRow,
    confirming: RwSignal<Option<String>>,
    remove: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let loc = use_locale();
    let name = StoredValue::new(g.group.clone());
    let asking = move || confirming.with(|c| c.as_deref() == Some(name.get_value().as_str()));
    view! {
        <tr data-group=g.group.clone()>
            <th scope="row">{g.group.clone()}</th>
            <td>{format::due_rule_text(g.due)}</td>
            <td class="sc-admin-num">{crate::locale::use_lang().integer(i64::from(g.members))}</td>
            <td>{g.synced_at_ms.map(format::when).unwrap_or_else(|| td_string!(loc, enrol.not_yet).into())}</td>
            <td class="sc-admin-actions">
                {move || if asking() {
                    view! {
                        <span class="sc-admin-confirm-inline" role="group" aria-label=fill(td_string!(loc, enrol.remove_rule_q), &[&name.get_value()])>
                            <span>{fill(td_string!(loc, enrol.remove_q), &[&name.get_value()])}</span>
                            <button type="button" class="sc-button sc-admin-danger" id="sc-remove-group-confirm"
                                on:click=move |_| remove(name.get_value())>{td_string!(loc, enrol.remove)}</button>
                            <button type="button" class="sc-button sc-button-subtle"
                                on:click=move |_| confirming.set(None)>{td_string!(loc, enrol.cancel)}</button>
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="sc-button sc-button-danger"
                            aria-label=fill(td_string!(loc, enrol.remove_rule), &[&name.get_value()])
                            on:click=move |_| {
                                confirming.set(Some(name.get_value()));
                                focus_soon("sc-remove-group-confirm".into());
                            }>{td_string!(loc, enrol.remove_dots)}</button>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
