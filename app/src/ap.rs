//! Typed bridge to Atlassian's `AP` JavaScript API (AP.js), in the csr/ssr
//! twin-module style: the browser build calls the real library through
//! wasm-bindgen; the server build gets same-named functions that report
//! [`ApError::Unavailable`], so components compile on both sides.
//!
//! AP methods come in two shapes (see `@types/atlassian-connect-js`):
//! promise-returning (`context.getToken`, `context.getContext`) and
//! callback-only (`confluence.getMacroData`). Both are
//! exposed here as `async fn`s; callback-only methods are wrapped in a
//! `Promise` on our side so production (CDN `all.js`) and the simulator
//! (npm `iframe.js`) behave the same.
//! Reference: <https://developer.atlassian.com/cloud/confluence/about-the-javascript-api/>

use serde::{Deserialize, Serialize};

/// Opts the page in to Confluence's theme (light or dark), as a script the
/// shell puts in `<head>` right after the AP library: Atlassian asks apps to
/// call `AP.theming.initializeTheming()` as early as possible, and waiting for
/// the WASM bundle would show the light theme for a while in a dark
/// Confluence.
///
/// What the call sets off (atlassian-connect-js, `theming` module): the host
/// answers with its current theme (`theme_initialized`) and sends every later
/// change (`theme_changed`); `AP` then sets `data-color-mode`
/// (`light`/`dark`) and `data-theme` on this page's `<html>`. The stylesheet
/// keys the ADS dark tokens on `html[data-color-mode="dark"]`
/// (scripts/ads-tokens.mjs), so no Rust code runs on a theme change.
/// Confluence sends no theme in the iframe URL; until the host answers (one
/// message round trip) the page shows the light tokens.
///
/// Guarded: outside Confluence `AP.theming` is missing, and the page stays light.
pub const THEMING_BOOTSTRAP: &str =
    "if(window.AP&&AP.theming&&AP.theming.initializeTheming){AP.theming.initializeTheming();}";

/// Why an AP call did not produce a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApError {
    /// No Connect host: the page was opened outside Confluence, or on the server.
    #[error("this page must be opened inside Confluence")]
    Unavailable,
    /// The host answered with an error or an unexpected value.
    #[error("Confluence did not answer: {0}")]
    Host(String),
}

/// The parts of `AP.context.getContext()` Smart Courses reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostContext {
    #[serde(default)]
    pub confluence: ConfluenceContext,
}

/// `context.confluence`: where the module is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfluenceContext {
    #[serde(default)]
    pub content: Option<IdRef>,
    #[serde(default)]
    pub space: Option<SpaceRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceRef {
    pub key: String,
}

#[cfg(all(feature = "hydrate", not(feature = "forge")))]
mod imp {
    use super::*;
    use js_sys::{Function, Promise};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = ["AP", "context"], js_name = getToken, catch)]
        fn ap_get_token() -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "context"], js_name = getContext, catch)]
        fn ap_get_context() -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "confluence"], js_name = getMacroData, catch)]
        fn ap_get_macro_data(callback: &Function) -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "confluence"], js_name = saveMacro, catch)]
        fn ap_save_macro(params: &JsValue) -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "confluence"], js_name = closeMacroEditor, catch)]
        fn ap_close_macro_editor() -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = AP, js_name = resize, catch)]
        fn ap_resize() -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "dialog"], js_name = disableCloseOnSubmit, catch)]
        fn ap_disable_close_on_submit() -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = ["AP", "events"], js_name = on, catch)]
        fn ap_events_on(name: &str, callback: &Function) -> Result<(), JsValue>;
    }

    fn host_err(v: JsValue) -> ApError {
        // A missing module (page outside Confluence) surfaces as a TypeError.
        if v.is_instance_of::<js_sys::TypeError>() {
            return ApError::Unavailable;
        }
        ApError::Host(v.as_string().unwrap_or_else(|| format!("{v:?}")))
    }

    fn from_js<T: serde::de::DeserializeOwned>(v: JsValue) -> Result<T, ApError> {
        let text = js_sys::JSON::stringify(&v)
            .map_err(host_err)?
            .as_string()
            .ok_or_else(|| ApError::Host("not JSON".into()))?;
        serde_json::from_str(&text).map_err(|e| ApError::Host(e.to_string()))
    }

    /// Turns a callback-only AP method into a future.
    async fn callback_call(call: fn(&Function) -> Result<(), JsValue>) -> Result<JsValue, ApError> {
        let mut failed = None;
        let promise = Promise::new(&mut |resolve, _reject| {
            if let Err(e) = call(&resolve) {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(host_err(e));
        }
        JsFuture::from(promise).await.map_err(host_err)
    }

    pub async fn context_token() -> Result<String, ApError> {
        let v = JsFuture::from(ap_get_token().map_err(host_err)?)
            .await
            .map_err(host_err)?;
        v.as_string()
            .ok_or_else(|| ApError::Host("token is not a string".into()))
    }

    pub async fn context() -> Result<HostContext, ApError> {
        let v = JsFuture::from(ap_get_context().map_err(host_err)?)
            .await
            .map_err(host_err)?;
        from_js(v)
    }

    pub async fn macro_data() -> Result<serde_json::Map<String, serde_json::Value>, ApError> {
        let v = callback_call(ap_get_macro_data).await?;
        if v.is_undefined() || v.is_null() {
            return Ok(Default::default());
        }
        from_js(v)
    }

    pub fn save_macro(params: &serde_json::Map<String, serde_json::Value>) -> Result<(), ApError> {
        let text = serde_json::to_string(params).map_err(|e| ApError::Host(e.to_string()))?;
        let v = js_sys::JSON::parse(&text).map_err(host_err)?;
        ap_save_macro(&v).map_err(host_err)
    }

    pub fn close_macro_editor() -> Result<(), ApError> {
        ap_close_macro_editor().map_err(host_err)
    }

    pub fn resize() {
        // Best effort: outside a host there is nothing to resize.
        let _ = ap_resize();
    }

    pub fn on_dialog_submit(handler: impl Fn() + 'static) {
        // Keep the dialog open: the handler closes it once the work is done.
        let _ = ap_disable_close_on_submit();
        let cb = Closure::<dyn Fn()>::new(handler);
        if ap_events_on("dialog.submit", cb.as_ref().unchecked_ref()).is_ok() {
            // The host keeps calling it for the page's lifetime.
            cb.forget();
        }
    }
}

/// The same calls in a Forge Custom UI page (feature `forge`): answered by
/// [`crate::forge_bridge`], so the views call `ap::*` in both hosts.
#[cfg(feature = "forge")]
mod imp {
    use super::*;
    use crate::forge_bridge::{self, ForgeError};
    use std::cell::Cell;

    thread_local! {
        /// Set once `view.submit` was sent: Forge closes the config editor
        /// itself on submit, so a following `close_macro_editor` is a no-op.
        static SUBMITTED: Cell<bool> = const { Cell::new(false) };
    }

    fn ap_err(e: ForgeError) -> ApError {
        match e {
            ForgeError::Unavailable => ApError::Unavailable,
            ForgeError::Host(m) => ApError::Host(m),
        }
    }

    /// Forge has no context JWT: server functions go through
    /// `invokeRemote`, which carries a Forge Invocation Token (`crate::client`).
    pub async fn context_token() -> Result<String, ApError> {
        Err(ApError::Unavailable)
    }

    pub async fn context() -> Result<HostContext, ApError> {
        let ctx = forge_bridge::context().ok_or(ApError::Unavailable)?;
        Ok(HostContext {
            confluence: ConfluenceContext {
                content: ctx.content_id().map(|id| IdRef { id }),
                space: ctx.space_key().map(|key| SpaceRef { key }),
            },
        })
    }

    pub async fn macro_data() -> Result<serde_json::Map<String, serde_json::Value>, ApError> {
        let ctx = forge_bridge::context().ok_or(ApError::Unavailable)?;
        Ok(ctx.extension.config.unwrap_or_default())
    }

    /// `view.submit(config)`: saves the macro's config. Sent in the
    /// background (AP's `saveMacro` does not wait either); a refusal is
    /// logged to the console, where AP's would be too.
    pub fn save_macro(params: &serde_json::Map<String, serde_json::Value>) -> Result<(), ApError> {
        forge_bridge::context().ok_or(ApError::Unavailable)?;
        let params = params.clone();
        SUBMITTED.with(|s| s.set(true));
        leptos::task::spawn_local(async move {
            if let Err(e) = forge_bridge::submit(&params).await.map_err(ap_err) {
                leptos::logging::error!("{e}");
            }
        });
        Ok(())
    }

    pub fn close_macro_editor() -> Result<(), ApError> {
        forge_bridge::context().ok_or(ApError::Unavailable)?;
        if !SUBMITTED.with(Cell::get) {
            leptos::task::spawn_local(async {
                let _ = forge_bridge::close().await;
            });
        }
        Ok(())
    }

    /// Forge sizes Custom UI frames itself.
    pub fn resize() {}

    /// A Forge config editor has no host Save button: the editor's own
    /// Publish button is the only way to save.
    pub fn on_dialog_submit(_handler: impl Fn() + 'static) {}
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::*;

    pub async fn context_token() -> Result<String, ApError> {
        Err(ApError::Unavailable)
    }
    pub async fn context() -> Result<HostContext, ApError> {
        Err(ApError::Unavailable)
    }
    pub async fn macro_data() -> Result<serde_json::Map<String, serde_json::Value>, ApError> {
        Err(ApError::Unavailable)
    }
    pub fn save_macro(_: &serde_json::Map<String, serde_json::Value>) -> Result<(), ApError> {
        Err(ApError::Unavailable)
    }
    pub fn close_macro_editor() -> Result<(), ApError> {
        Err(ApError::Unavailable)
    }
    pub fn resize() {}
    pub fn on_dialog_submit(_handler: impl Fn() + 'static) {}
}

pub use imp::{
    close_macro_editor, context, context_token, macro_data, on_dialog_submit, resize, save_macro,
};
