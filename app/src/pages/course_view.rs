//! The course macro as learners meet it inside a Confluence page
//! (descriptor module `smart-course`, a `dynamicContentMacros` entry).

use leptos::prelude::*;

use super::{query_param, HydrationMarker};
use crate::{ap, api, learning::view::LearnerView};

/// What the bridge and the server said about the viewer.
#[derive(Clone, Debug, Default, PartialEq)]
struct Identity {
    account_id: String,
    space_key: String,
    server_account: String,
    error: Option<String>,
}

/// The macro: the learner view when the macro holds a course (its `course`
/// parameter, part of the signed iframe URL), else an empty-state card.
#[component]
pub fn CourseView() -> impl IntoView {
    let course = query_param("course").filter(|c| !c.is_empty());
    view! {
        <HydrationMarker />
        {match course {
            Some(id) => view! { <LearnerView course_id=id /> }.into_any(),
            None => view! { <EmptyMacro /> }.into_any(),
        }}
    }
}

/// A macro without a course yet: says how to add one, and offers a
/// connection check (AP bridge and server both report who you are).
#[component]
fn EmptyMacro() -> impl IntoView {
    let identity = RwSignal::new(None::<Identity>);
    let busy = RwSignal::new(false);
    let check = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let mut out = Identity::default();
            match ap::current_user().await {
                Ok(u) => out.account_id = u.atlassian_account_id,
                Err(e) => out.error = Some(e.to_string()),
            }
            match ap::context().await {
                Ok(c) => out.space_key = c.confluence.space.map(|s| s.key).unwrap_or_default(),
                Err(e) => out.error = Some(e.to_string()),
            }
            match api::whoami().await {
                Ok(w) => out.server_account = w.account_id.unwrap_or_default(),
                Err(e) => out.error = Some(e.to_string()),
            }
            identity.set(Some(out));
            busy.set(false);
            ap::resize();
        });
    };
    view! {
        <section class="sc-card" aria-labelledby="sc-course-title">
            <h1 id="sc-course-title" class="sc-h1">"Smart Course"</h1>
            <p class="sc-muted">"This course has no lessons yet. An author can add them with Edit macro."</p>
            <button id="sc-whoami" class="sc-button" on:click=check disabled=move || busy.get()>
                "Check my connection"
            </button>
            {move || identity.get().map(|i| view! {
                <dl class="sc-facts" aria-live="polite">
                    <dt>"Account (AP bridge)"</dt><dd id="sc-account-id">{i.account_id}</dd>
                    <dt>"Space"</dt><dd id="sc-space-key">{i.space_key}</dd>
                    <dt>"Account (verified by server)"</dt><dd id="sc-server-account">{i.server_account}</dd>
                </dl>
                {i.error.map(|e| view! { <p class="sc-error" role="alert">{e}</p> })}
            })}
        </section>
    }
}
