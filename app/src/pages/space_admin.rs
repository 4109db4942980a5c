//! The space admin page (a `spaceToolsTabs` module): enrolments, due dates
//! and reports for space administrators.

use leptos::prelude::*;

use super::HydrationMarker;
use crate::ap;

#[component]
pub fn SpaceAdmin() -> impl IntoView {
    let space = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let key = match ap::context().await {
                Ok(c) => c.confluence.space.map(|s| s.key).unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            space.set(Some(key));
            ap::resize();
        });
    });
    view! {
        <HydrationMarker />
        <section class="sc-card">
            <h1 class="sc-h1">"Smart Courses — space administration"</h1>
            <p class="sc-muted">"Space: "<strong id="sc-admin-space">{move || space.get().unwrap_or_default()}</strong></p>
        </section>
    }
}
