//! Support access: the space admin's consent for Smart Courses' staff to
//! read this space's data, for a limited time and a stated reason. Staff
//! have no other way in; every read they make appears in the audit log
//! below. Grants end by themselves, or at once with *End support access*.

use leptos::{prelude::*, task::spawn_local};

use super::{format, message, resize_soon, Notice, NoticeArea};
use crate::space_admin::api::{self, SupportGrantRow};

/// The durations offered (hours).
const DURATIONS: [(u32, &str); 5] = [
    (1, "1 hour"),
    (4, "4 hours"),
    (24, "1 day"),
    (72, "3 days"),
    (168, "7 days"),
];

#[component]
pub(super) fn SupportAccess() -> impl IntoView {
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
                    Notice::ok(format!(
                        "Support access granted until {}.",
                        format::when(g.expires_at_ms)
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
                Ok(0) => Notice::ok("No support access was in force."),
                Ok(_) => Notice::ok("Support access ended."),
                Err(e) => Notice::error(message(e)),
            }));
            busy.set(false);
            reload();
        });
    };
    let active = move || grants.with(|g| g.iter().find(|g| g.active).cloned());
    view! {
        <section id="sc-support" class="sc-admin-support" aria-labelledby="sc-support-title">
            <h3 class="sc-h3" id="sc-support-title">"Support access"</h3>
            <p class="sc-muted">
                "Smart Courses staff cannot see this space's courses, learners or results unless you let them, "
                "for a limited time. Everything they read is recorded in the audit log below."
            </p>
            {move || match active() {
                Some(g) => view! {
                    <p class="sc-banner sc-banner-info" id="sc-support-active">
                        {format!("Support access is on until {} — {}", format::when(g.expires_at_ms), g.reason)}
                        " "
                        <button type="button" class="sc-button" id="sc-support-revoke"
                            disabled=move || busy.get() on:click=revoke>"End support access"</button>
                    </p>
                }.into_any(),
                None => view! {
                    <form class="sc-admin-toolbar" id="sc-support-form" on:submit=grant>
                        <label>
                            "For "
                            <select id="sc-support-hours"
                                on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(24))>
                                {DURATIONS.iter().map(|(h, label)| view! {
                                    <option value=h.to_string() selected=*h == 24>{*label}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <label>
                            "Reason (the support case) "
                            <input type="text" id="sc-support-reason" required maxlength="500"
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class="sc-button sc-button-primary" id="sc-support-grant"
                            disabled=move || busy.get()>"Grant support access"</button>
                    </form>
                }.into_any(),
            }}
            <NoticeArea id="sc-support-status" notice />
        </section>
    }
}
