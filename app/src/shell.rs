//! The HTML shell and the three Connect modules: which path renders which
//! root component, and which hydrate bundle that page loads.
//!
//! Each module has its own root ([`LearnerApp`], [`EditorApp`],
//! [`AdminApp`]) and its own WASM bundle (the `frontend` crate built with
//! one of its features `learner`, `editor`, `admin`), so the learner's
//! iframe never downloads the editor or the admin report. The server renders
//! exactly the root the page's bundle hydrates: [`Module::root`] on both
//! sides.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::pages::{course_view::CourseView, macro_editor::MacroEditor, space_admin::SpaceAdmin};

/// The Connect modules the app exposes, one page and one bundle each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Module {
    /// The course macro in a Confluence page (`/macro/course`).
    Learner,
    /// The macro editor dialog (`/macro/editor`).
    Editor,
    /// The space tools tab (`/space/admin`).
    Admin,
}

impl Module {
    /// Every module, in descriptor order.
    pub const ALL: [Module; 3] = [Module::Learner, Module::Editor, Module::Admin];

    /// The page path; matches the module URLs in `atlassian-connect.json`.
    pub fn path(self) -> &'static str {
        match self {
            Module::Learner => "/macro/course",
            Module::Editor => "/macro/editor",
            Module::Admin => "/space/admin",
        }
    }

    /// The bundle's key in `target/site/manifest.json` and the `frontend`
    /// feature that builds it.
    pub fn key(self) -> &'static str {
        match self {
            Module::Learner => "learner",
            Module::Editor => "editor",
            Module::Admin => "admin",
        }
    }
}

/// The hashed base name (`<name>.js`, `<name>_bg.wasm` under `/pkg`) of
/// each module's hydrate bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundles {
    pub learner: String,
    pub editor: String,
    pub admin: String,
}

impl Bundles {
    pub fn get(&self, module: Module) -> &str {
        match module {
            Module::Learner => &self.learner,
            Module::Editor => &self.editor,
            Module::Admin => &self.admin,
        }
    }
}

/// Hashed asset names and the AP script URL, decided by the server at start-up
/// (from the build manifest and the configuration) and handed to the shell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteAssets {
    /// Stylesheet URL under `/pkg`, content-hashed so it can be cached forever.
    pub stylesheet: String,
    /// Where the page loads Atlassian's AP iframe library from: the CDN in
    /// production, a local copy of the npm build under the host simulator.
    pub ap_script: String,
    /// Each module's hydrate bundle.
    pub bundles: Bundles,
}

/// The document around a module's page. Rendered on the server only: it
/// links that module's bundle (and no other) and renders its root.
pub fn shell(mut options: LeptosOptions, assets: SiteAssets, module: Module) -> impl IntoView {
    // `HydrationScripts` links `/pkg/<output_name>.js` and `<output_name>_bg.wasm`.
    options.output_name = assets.bundles.get(module).into();
    // The language Confluence asked for (`loc`); the root below reads the
    // same parameter, on the server and when the browser hydrates.
    let lang = crate::locale::page_lang().tag();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Written here, not by leptos_meta's <Title>/<Meta> in the
                // page: the server renders the head, so no bundle carries
                // the code (or does the work) for it.
                <meta name="referrer" content="no-referrer" />
                <title>"Smart Courses"</title>
                // Connect's AP library must load before the WASM so `AP` exists
                // when the app starts. `data-options` is read while it loads.
                <script src=assets.ap_script.clone() nonce=leptos::nonce::use_nonce() data-options="sizeToParent:false;margin:false"></script>
                // Follow Confluence's light/dark theme from the first moment AP exists.
                <script nonce=leptos::nonce::use_nonce() inner_html=crate::ap::THEMING_BOOTSTRAP></script>
                <link rel="stylesheet" href=assets.stylesheet.clone() />
                <HydrationScripts options />
            </head>
            <body>
                {module.root()}
            </body>
        </html>
    }
}

impl Module {
    /// The module's root component: what the server renders into `<body>`
    /// and what the module's bundle hydrates.
    pub fn root(self) -> AnyView {
        match self {
            Module::Learner => view! { <LearnerApp /> }.into_any(),
            Module::Editor => view! { <EditorApp /> }.into_any(),
            Module::Admin => view! { <AdminApp /> }.into_any(),
        }
    }
}

/// What every module's page has around its content: `<main
/// class="ac-content">`, where AP.resize() measures the content height.
#[component]
fn Frame(children: Children) -> impl IntoView {
    view! { <main class="ac-content sc-app">{children()}</main> }
}

/// The course macro (learners). Hydrated by the `learner` bundle.
#[component]
pub fn LearnerApp() -> impl IntoView {
    crate::locale::provide_page_lang();
    view! { <Frame><CourseView /></Frame> }
}

/// The macro editor dialog (authors). Hydrated by the `editor` bundle.
#[component]
pub fn EditorApp() -> impl IntoView {
    crate::locale::provide_page_lang();
    view! { <Frame><MacroEditor /></Frame> }
}

/// The space tools tab (space admins). Hydrated by the `admin` bundle.
#[component]
pub fn AdminApp() -> impl IntoView {
    crate::locale::provide_page_lang();
    view! { <Frame><SpaceAdmin /></Frame> }
}
