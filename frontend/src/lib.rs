#![recursion_limit = "256"]
//! The WASM entry point. Everything interesting lives in the `app` crate;
//! this crate only exists so the browser bundle is built with `hydrate` and
//! never with `ssr`.

/// Called by the hydration script Leptos puts in every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
