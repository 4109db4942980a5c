#![recursion_limit = "256"]
//! The WASM entry points, one per module and host. Everything interesting
//! lives in the `app` crate; this crate only exists so the browser bundles
//! are built with `hydrate` and never with `ssr`.
//!
//! Each bundle is this crate built with exactly one feature:
//! - `learner`, `editor`, `admin` (scripts/build-site.sh): the Connect
//!   bundles. `hydrate()` mounts only that module's root, so the linker
//!   keeps only that module's code. The server renders the same root on
//!   that page (`app::shell`).
//! - `forge-learner`, `forge-editor`, `forge-admin` (scripts/build-forge.sh):
//!   the Forge Custom UI bundles. Forge serves static files, so there is
//!   no server render: `start()` asks Forge for the context first (what
//!   Connect puts into the iframe URL) and then renders the same root in
//!   the browser.

#[cfg(any(
    all(feature = "learner", feature = "editor"),
    all(feature = "learner", feature = "admin"),
    all(feature = "editor", feature = "admin"),
))]
compile_error!("build one bundle at a time: enable exactly one of `learner`, `editor`, `admin`");

#[cfg(all(
    any(feature = "learner", feature = "editor", feature = "admin"),
    any(
        feature = "forge-learner",
        feature = "forge-editor",
        feature = "forge-admin"
    ),
))]
compile_error!("a bundle is either for Connect (`learner`, …) or for Forge (`forge-learner`, …)");

#[cfg(any(
    all(feature = "forge-learner", feature = "forge-editor"),
    all(feature = "forge-learner", feature = "forge-admin"),
    all(feature = "forge-editor", feature = "forge-admin"),
))]
compile_error!("build one Forge bundle at a time: enable exactly one of `forge-learner`, `forge-editor`, `forge-admin`");

/// Called by the hydration script Leptos puts in the module's page.
#[cfg(any(feature = "learner", feature = "editor", feature = "admin"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "learner")]
    leptos::mount::hydrate_body(app::LearnerApp);
    #[cfg(feature = "editor")]
    leptos::mount::hydrate_body(app::EditorApp);
    #[cfg(feature = "admin")]
    leptos::mount::hydrate_body(app::AdminApp);
}

/// Called by the Custom UI page (`forge/static/<module>/index.html`) once
/// the module is loaded. Client-side rendering: the `hydrate` code paths of
/// `app` (browser APIs, the server-function client) with Leptos mounting a
/// fresh tree instead of adopting server-rendered HTML.
#[cfg(any(
    feature = "forge-learner",
    feature = "forge-editor",
    feature = "forge-admin"
))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start() {
    use leptos::prelude::*;
    console_error_panic_hook::set_once();
    // Follow Confluence's light/dark theme (the host sets data-color-mode
    // on <html>, which the stylesheet keys on, as under Connect).
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = app::forge_bridge::enable_theme().await {
            leptos::logging::warn!("theming: {e}");
        }
    });
    wasm_bindgen_futures::spawn_local(async {
        match app::forge_bridge::init().await {
            Ok(_) => {
                #[cfg(feature = "forge-learner")]
                leptos::mount::mount_to_body(app::LearnerApp);
                #[cfg(feature = "forge-editor")]
                leptos::mount::mount_to_body(app::EditorApp);
                #[cfg(feature = "forge-admin")]
                leptos::mount::mount_to_body(app::AdminApp);
            }
            Err(e) => {
                // Without the context the page cannot know its course or
                // language: say so instead of rendering an empty module.
                let message = e.to_string();
                leptos::mount::mount_to_body(move || {
                    view! {
                        <main class="ac-content sc-app">
                            <p class="sc-error" role="alert" id="sc-forge-error">{message}</p>
                        </main>
                    }
                });
            }
        }
    });
}
