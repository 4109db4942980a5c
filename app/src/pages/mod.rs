//! One module per Connect module the app exposes.

pub mod course_view;
pub mod macro_editor;
pub mod space_admin;

use leptos::prelude::*;

/// Shows "yes" once the WASM has hydrated the page. Browser tests wait for it;
/// people never notice it.
#[component]
pub fn HydrationMarker() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <span id="sc-hydrated" class="sc-visually-hidden" aria-hidden="true">
            {move || if hydrated.get() { "yes" } else { "no" }}
        </span>
    }
}
