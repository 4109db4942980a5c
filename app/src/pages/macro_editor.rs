//! The macro editor: Confluence opens it in a dialog when an author inserts
//! or edits the Smart Course macro (descriptor `editor` of `smart-course`).

use leptos::prelude::*;

use super::HydrationMarker;
use crate::ap;

#[component]
pub fn MacroEditor() -> impl IntoView {
    let params = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let text = match ap::macro_data().await {
                Ok(p) if p.is_empty() => "new macro".to_string(),
                Ok(p) => serde_json::Value::Object(p).to_string(),
                Err(e) => e.to_string(),
            };
            params.set(Some(text));
        });
    });
    view! {
        <HydrationMarker />
        <section class="sc-card">
            <h1 class="sc-h1">"Smart Course editor"</h1>
            <p class="sc-muted">"Macro parameters: "
                <code id="sc-macro-params">{move || params.get().unwrap_or_else(|| "loading…".into())}</code>
            </p>
        </section>
    }
}
