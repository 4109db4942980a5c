//! Support access: the space admin's consent for Smart Courses' staff to
//! read this space's data, for a limited time and a stated reason. Staff
//! have no other way in; every read they make appears in the audit log
//! below. Grants end by themselves, or at once with *End support access*.

use leptos::{prelude::*, task::spawn_local};
use leptos_i18n::td_string;

use super::{format, message, resize_soon, Notice, NoticeArea};
use crate::{
    locale::{fill, use_locale, Locale},
    space_admin::api::{self, SupportGrantRow},
};

/// The durations offered (hours).
const DURATIONS: [u32; 5] = [1, 4, 24, 72, 168];

/// A duration as the admin picks it: whole days from a day on.
fn duration_label(loc: Locale, hours: u32) -> String {
    match hours {
        1 => td_string!(loc, support.one_hour).into(),
        24 => td_string!(loc, support.one_day).into(),
        h if h % 24 == 0 => fill(td_string!(loc, support.n_days), &[&(h / 24)]),
        h => fill(td_string!(loc, support.n_hours), &[&h]),
    }
}

#[component]
pub(super) fn SupportAccess() -> impl IntoView {
    let loc = use_locale();
    let grants = RwSignal::new(Vec::<SupportGrantRow>::new());
    let hours = RwSignal::new(24u32);
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let notice = RwSignal::new(None::<Notice>);
    let reload = move || {
        spawn_local(async move {
            match api::support_grants().await {
                Ok(g) => grants.set(g),
                Err(e) => notice.set(Some(Notice::error(message(e)))),
            }
            resize_soon();
        });
    };
    Effect::new(move |_| reload());
    let grant = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let r = api::support_grant(hours.get_untracked(), reason.get_untracked()).await;
            notice.set(Some(match r {
                Ok(g) => {
                    reason.set(String::new());
                    Notice::ok(fill(
                        td_string!(loc, support.granted),
                        &[&format::when(g.expires_at_ms)],
                    ))
                }
                Err(e) => Notice::error(message(e)),
            }));
            busy.set(false);
            reload();
        });
    };
    let revoke = move |_| {
        busy.set(true);
        spawn_local(async move {
            notice.set(Some(match api::support_revoke().await {
                Ok(0) => Notice::ok(td_string!(loc, support.none_in_force)),
                Ok(_) => Notice::ok(td_string!(loc, support.ended)),
                Err(e) => Notice::error(message(e)),
            }));
            busy.set(false);
            reload();
        });
    };
    let active = move || grants.with(|g| g.iter().find(|g| g.active).cloned());
    view! {
        <section id="sc-support" class="sc-admin-support" aria-labelledby="sc-support-title">
            <h3 class="sc-h3" id="sc-support-title">{td_string!(loc, support.title)}</h3>
            <p class="sc-muted">
                {td_string!(loc, support.intro_1)}
                {td_string!(loc, support.intro_2)}
            </p>
            {move || match active() {
                Some(g) => view! {
                    <p class="sc-banner sc-banner-info" id="sc-support-active">
                        {fill(td_string!(loc, support.active), &[&format::when(g.expires_at_ms), &g.reason])}
                        " "
                        <button type="button" class="sc-button" id="sc-support-revoke"
                            disabled=move || busy.get() on:click=revoke>{td_string!(loc, support.end)}</button>
                    </p>
                }.into_any(),
                None => view! {
                    <form class="sc-admin-toolbar" id="sc-support-form" on:submit=grant>
                        <label>
                            {td_string!(loc, support.for_hours)}
                            <select id="sc-support-hours"
                                on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(24))>
                                {DURATIONS.iter().map(|h| view! {
                                    <option value=h.to_string() selected=*h == 24>{duration_label(loc, *h)}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <label>
                            {td_string!(loc, support.reason)}
                            <input type="text" id="sc-support-reason" required maxlength="500"
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class="sc-button sc-button-primary" id="sc-support-grant"
                            disabled=move || busy.get()>{td_string!(loc, support.grant)}</button>
                    </form>
                }.into_any(),
            }}
            <NoticeArea id="sc-support-status" notice />
        </section>
    }
}
