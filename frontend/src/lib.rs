#![recursion_limit = "256"]
//! The WASM entry points, one per Connect module. Everything interesting
//! lives in the `app` crate; this crate only exists so the browser bundles
//! are built with `hydrate` and never with `ssr`.
//!
//! Each bundle is this crate built with exactly one of the features
//! `learner`, `editor`, `admin` (scripts/build-site.sh builds all three):
//! `hydrate()` then mounts only that module's root, so the linker keeps
//! only that module's code. The server renders the same root on that page
//! (`app::shell`).

#[cfg(any(
    all(feature = "learner", feature = "editor"),
    all(feature = "learner", feature = "admin"),
    all(feature = "editor", feature = "admin"),
))]
compile_error!("build one bundle at a time: enable exactly one of `learner`, `editor`, `admin`");

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
