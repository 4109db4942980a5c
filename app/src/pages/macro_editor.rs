//! The macro editor: Confluence opens it in a dialog when an author inserts
//! or edits the Smart Course macro (descriptor `editor` of `smart-course`).
//! The editor itself lives in [`crate::authoring::editor`].

use leptos::prelude::*;

use super::HydrationMarker;
use crate::authoring::editor::Editor;

#[component]
pub fn MacroEditor() -> impl IntoView {
    view! {
        <HydrationMarker />
        <Editor />
    }
}
