//! The HTML shell and the router: which path renders which page.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};
use serde::{Deserialize, Serialize};

use crate::pages::{course_view::CourseView, macro_editor::MacroEditor, space_admin::SpaceAdmin};

/// Hashed asset names and the AP script URL, decided by the server at start-up
/// (from the build manifest and the configuration) and handed to the shell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteAssets {
    /// Stylesheet URL under `/pkg`, content-hashed so it can be cached forever.
    pub stylesheet: String,
    /// Where the page loads Atlassian's AP iframe library from: the CDN in
    /// production, a local copy of the npm build under the host simulator.
    pub ap_script: String,
}

/// The document around every page. Rendered on the server only.
pub fn shell(options: LeptosOptions, assets: SiteAssets) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Connect's AP library must load before the WASM so `AP` exists
                // when the app starts. `data-options` is read while it loads.
                <script src=assets.ap_script.clone() nonce=leptos::nonce::use_nonce() data-options="sizeToParent:false;margin:false"></script>
                <link rel="stylesheet" href=assets.stylesheet.clone() />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routed application. Paths match the module URLs in
/// `atlassian-connect.json`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Smart Courses" />
        <Meta name="referrer" content="no-referrer" />
        <Router>
            // `.ac-content` is where AP.resize() measures the content height.
            <main class="ac-content sc-app">
                <Routes fallback=|| view! { <p class="sc-empty">"Nothing here."</p> }>
                    <Route path=path!("/macro/course") view=CourseView />
                    <Route path=path!("/macro/editor") view=MacroEditor />
                    <Route path=path!("/space/admin") view=SpaceAdmin />
                </Routes>
            </main>
        </Router>
    }
}
