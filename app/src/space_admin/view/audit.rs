//! The audit log: every enrolment, due-date, group-rule and access change
//! and every export, newest first, a page at a time ("Load older"). For
//! the whole space, or one course (then it catches up after each change
//! made in the course's other tabs).

use leptos::{prelude::*, task::spawn_local};

use super::{
    download::{dated, CsvButton},
    format, message, resize_soon, CourseCtx, Notice, NoticeArea,
};
use crate::space_admin::api::{self, AuditRow};

/// Who did it, in words.
fn who(r: &AuditRow) -> String {
    match (&r.actor_name, &r.actor_id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => {
            leptos_i18n::td_string!(crate::locale::use_locale(), audit.automatic).into()
        }
    }
}

#[component]
pub(super) fn AuditLog(course: Option<CourseCtx>) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let entries = RwSignal::new(Vec::<AuditRow>::new());
    let next = RwSignal::new(None::<i64>);
    let state = RwSignal::new(None::<Result<(), String>>);
    let more_busy = RwSignal::new(false);
    let notice = RwSignal::new(None::<Notice>);
    let generation = StoredValue::new(0u64);
    let course_id = move || course.map(|c| c.course_id()).transpose();
    let load = move |before: Option<i64>| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let r = async { api::audit_log(course_id()?, before).await }.await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(page) => {
                    let n = page.entries.len();
                    if before.is_some() {
                        entries.update(|e| e.extend(page.entries));
                        notice.set(Some(Notice::ok(match n {
                            1 => leptos_i18n::td_string!(loc, audit.loaded_one).to_owned(),
                            n => crate::locale::fill(
                                leptos_i18n::td_string!(loc, audit.loaded_many),
                                &[&n],
                            ),
                        })));
                    } else {
                        entries.set(page.entries);
                    }
                    next.set(page.next_before);
                    state.set(Some(Ok(())));
                }
                Err(e) => {
                    if before.is_some() {
                        notice.set(Some(Notice::error(message(e))));
                    } else {
                        state.set(Some(Err(message(e))));
                    }
                }
            }
            more_busy.try_set(false);
            resize_soon();
        });
    };
    Effect::new(move |_| {
        if let Some(c) = course {
            c.changes.track();
        }
        load(None);
    });
    view! {
        <div id="sc-audit">
            <div class="sc-admin-toolbar">
                <p class="sc-muted">
                    {if course.is_some() {
                        leptos_i18n::td_string!(loc, audit.course_intro)
                    } else {
                        leptos_i18n::td_string!(loc, audit.space_intro)
                    }}
                </p>
                <CsvButton
                    id="sc-audit-csv"
                    label=if course.is_some() { leptos_i18n::td_string!(loc, audit.download_space) } else { leptos_i18n::td_string!(loc, audit.download) }
                    fetch=move || async move { api::audit_csv().await }
                    file_name=|| dated("smart courses", "audit-log")
                    notice
                />
            </div>
            <NoticeArea id="sc-audit-status" notice />
            {move || match state.get() {
                None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, audit.loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(())) if entries.with(Vec::is_empty) => view! {
                    <p class="sc-empty" id="sc-audit-empty">{leptos_i18n::td_string!(loc, audit.empty)}</p>
                }.into_any(),
                Some(Ok(())) => view! {
                    <div class="sc-admin-scroll" role="region" aria-labelledby="sc-audit-caption" tabindex="0">
                        <table class="sc-table sc-admin-table" id="sc-audit-rows">
                            <caption id="sc-audit-caption" class="sc-visually-hidden">{leptos_i18n::td_string!(loc, audit.caption)}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">{leptos_i18n::td_string!(loc, audit.when)}</th>
                                    <th scope="col">{leptos_i18n::td_string!(loc, audit.who)}</th>
                                    <th scope="col">{leptos_i18n::td_string!(loc, audit.course)}</th>
                                    <th scope="col">{leptos_i18n::td_string!(loc, audit.what)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For each=move || entries.get() key=|r| r.id let:r>
                                    <tr data-entry=r.id.to_string() data-action=r.action.clone()>
                                        <td class="sc-admin-nowrap">{format::when(r.at_ms)}</td>
                                        <td>{who(&r)}</td>
                                        <td>{r.course_title.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{r.summary.clone()}</td>
                                    </tr>
                                </For>
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            {move || next.get().map(|before| view! {
                <button type="button" class="sc-button sc-button-subtle" id="sc-audit-more"
                    disabled=move || more_busy.get()
                    aria-busy=move || more_busy.get().then_some("true")
                    on:click=move |_| { more_busy.set(true); load(Some(before)); }>
                    {move || if more_busy.get() { leptos_i18n::td_string!(loc, common.loading) } else { leptos_i18n::td_string!(loc, audit.load_older) }}
                </button>
            })}
        </div>
    }
}
