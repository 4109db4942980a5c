//! Typed bridge to Forge's `@forge/bridge` (Custom UI), the twin of
//! [`crate::ap`] for pages that Forge hosts instead of Connect.
//!
//! Same csr/ssr twin-module shape as `ap.rs`: with the feature `forge` (the
//! Custom UI bundles, `frontend` features `forge-*`) the functions call
//! the real library through wasm-bindgen; everywhere else (the server, the
//! Connect hydrate bundles) same-named functions report
//! [`ForgeError::Unavailable`], so no Forge code lands in a Connect bundle.
//!
//! The JavaScript side is `frontend/js/forge-bridge.mjs`, bundled by
//! `scripts/build-forge.sh` into the page's `forge-bridge.js`: one global
//! `scForge` forwarding to `@forge/bridge` (`view.getContext`,
//! `invokeRemote`, `view.submit`, `view.close`, `router.navigate`,
//! `view.theme.enable`). `@forge/bridge` reaches the host through
//! `window.__bridge`, which Forge injects into the page (and the host
//! simulator's Forge mode does the same).
//!
//! What a Connect page reads synchronously from its iframe URL (the macro's
//! parameters, `loc`) Forge gives only through the asynchronous
//! `view.getContext()`. The Custom UI entry ([`init`], called by
//! `frontend`'s `start()`) awaits it once before mounting, keeps it, and
//! [`page_param`] answers from it: the views keep reading
//! [`crate::pages::query_param`] and never know which host they run in.
//! Reference: <https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/bridge/>

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a Forge bridge call did not produce a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    /// No Forge host: a Connect page, the server, or a page opened outside
    /// Confluence (then `@forge/bridge` finds no `window.__bridge`).
    #[error("this page must be opened inside Confluence")]
    Unavailable,
    /// The host answered with an error or an unexpected value.
    #[error("Confluence did not answer: {0}")]
    Host(String),
}

/// The parts of `view.getContext()` Smart Courses reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForgeContext {
    /// The user's locale, `en-US` style (Connect's `loc`).
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub module_key: Option<String>,
    #[serde(default)]
    pub extension: Extension,
}

/// `context.extension`: where the module is shown, and the macro's config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The macro's saved config (what the editor's `view.submit` stored):
    /// the Forge form of Connect's macro parameters.
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    /// `{id, type}` of the page; ids may come as strings or numbers.
    #[serde(default)]
    pub content: Option<Map<String, Value>>,
    /// `{id, key}` of the space.
    #[serde(default)]
    pub space: Option<Map<String, Value>>,
}

/// A JSON scalar as text (Forge writes some ids as numbers).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ForgeContext {
    /// What a Connect page would find as the query parameter `name`: `loc`
    /// is the user's locale, everything else a macro config entry (the
    /// editor saves the same keys, e.g. `course`, in both hosts).
    pub fn param(&self, name: &str) -> Option<String> {
        if name == "loc" {
            return self.locale.clone();
        }
        self.extension.config.as_ref()?.get(name).and_then(scalar)
    }

    pub fn content_id(&self) -> Option<String> {
        self.extension.content.as_ref()?.get("id").and_then(scalar)
    }

    pub fn space_key(&self) -> Option<String> {
        self.extension.space.as_ref()?.get("key").and_then(scalar)
    }
}

/// A request `invokeRemote` sends to the app's remote (Forge adds the
/// Forge Invocation Token on the way).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteRequest {
    /// Path on the remote, with its query: the server function's URL.
    pub path: String,
    pub method: String,
    pub headers: Map<String, Value>,
    pub body: String,
}

/// The remote's answer as the bridge hands it back.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteResponse {
    pub status: u16,
    /// Lower-case names; repeated headers joined with `,` (as @forge/bridge does).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RemoteResponse {
    /// Reads the bridge's `{status, headers, body}`. `body` arrives as text
    /// or, when the remote answered JSON, possibly already parsed: then it
    /// is written back as JSON text, which is what server_fn decodes.
    pub fn from_bridge(v: &Value) -> Result<Self, ForgeError> {
        let status = v
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| ForgeError::Host("the remote's answer has no status".into()))?;
        let mut headers = Vec::new();
        if let Some(map) = v.get("headers").and_then(Value::as_object) {
            for (k, val) in map {
                let text = match val {
                    Value::Array(parts) => parts
                        .iter()
                        .filter_map(scalar)
                        .collect::<Vec<_>>()
                        .join(","),
                    other => scalar(other).unwrap_or_default(),
                };
                headers.push((k.to_ascii_lowercase(), text));
            }
        }
        let body = match v.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(feature = "forge")]
mod imp {
    use super::*;
    use js_sys::Promise;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = scForge, js_name = getContext, catch)]
        fn js_get_context() -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = scForge, js_name = invokeRemote, catch)]
        fn js_invoke_remote(input: &JsValue) -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = scForge, js_name = submit, catch)]
        fn js_submit(config: &JsValue) -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = scForge, js_name = close, catch)]
        fn js_close() -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = scForge, js_name = navigate, catch)]
        fn js_navigate(url: &str) -> Result<Promise, JsValue>;
        #[wasm_bindgen(js_namespace = scForge, js_name = enableTheme, catch)]
        fn js_enable_theme() -> Result<Promise, JsValue>;
    }

    thread_local! {
        /// `view.getContext()`, read once by [`init`] before the app mounts.
        static CONTEXT: RefCell<Option<ForgeContext>> = const { RefCell::new(None) };
    }

    fn host_err(v: JsValue) -> ForgeError {
        // No `scForge` (script missing) surfaces as a TypeError/ReferenceError.
        if v.is_instance_of::<js_sys::TypeError>() || v.is_instance_of::<js_sys::ReferenceError>() {
            return ForgeError::Unavailable;
        }
        if let Some(s) = v.as_string() {
            return ForgeError::Host(s);
        }
        let message = js_sys::Reflect::get(&v, &"message".into())
            .ok()
            .and_then(|m| m.as_string());
        ForgeError::Host(message.unwrap_or_else(|| format!("{v:?}")))
    }

    fn to_value(v: &JsValue) -> Result<Value, ForgeError> {
        if v.is_undefined() {
            return Ok(Value::Null);
        }
        let text = js_sys::JSON::stringify(v)
            .map_err(host_err)?
            .as_string()
            .ok_or_else(|| ForgeError::Host("not JSON".into()))?;
        serde_json::from_str(&text).map_err(|e| ForgeError::Host(e.to_string()))
    }

    fn to_js<T: Serialize>(v: &T) -> Result<JsValue, ForgeError> {
        let text = serde_json::to_string(v).map_err(|e| ForgeError::Host(e.to_string()))?;
        js_sys::JSON::parse(&text).map_err(host_err)
    }

    async fn call(p: Result<Promise, JsValue>) -> Result<JsValue, ForgeError> {
        JsFuture::from(p.map_err(host_err)?).await.map_err(host_err)
    }

    pub async fn init() -> Result<ForgeContext, ForgeError> {
        let v = to_value(&call(js_get_context()).await?)?;
        let ctx: ForgeContext =
            serde_json::from_value(v).map_err(|e| ForgeError::Host(e.to_string()))?;
        CONTEXT.with(|c| *c.borrow_mut() = Some(ctx.clone()));
        Ok(ctx)
    }

    pub fn context() -> Option<ForgeContext> {
        CONTEXT.with(|c| c.borrow().clone())
    }

    pub fn page_param(name: &str) -> Option<String> {
        CONTEXT.with(|c| c.borrow().as_ref()?.param(name))
    }

    pub async fn invoke_remote(req: &RemoteRequest) -> Result<RemoteResponse, ForgeError> {
        let v = to_value(&call(js_invoke_remote(&to_js(req)?)).await?)?;
        RemoteResponse::from_bridge(&v)
    }

    pub async fn submit(config: &Map<String, Value>) -> Result<(), ForgeError> {
        call(js_submit(&to_js(config)?)).await.map(|_| ())
    }

    pub async fn close() -> Result<(), ForgeError> {
        call(js_close()).await.map(|_| ())
    }

    pub async fn navigate(url: &str) -> Result<(), ForgeError> {
        call(js_navigate(url)).await.map(|_| ())
    }

    pub async fn enable_theme() -> Result<(), ForgeError> {
        call(js_enable_theme()).await.map(|_| ())
    }
}

#[cfg(not(feature = "forge"))]
mod imp {
    use super::*;

    pub async fn init() -> Result<ForgeContext, ForgeError> {
        Err(ForgeError::Unavailable)
    }
    pub fn context() -> Option<ForgeContext> {
        None
    }
    pub fn page_param(_name: &str) -> Option<String> {
        None
    }
    pub async fn invoke_remote(_req: &RemoteRequest) -> Result<RemoteResponse, ForgeError> {
        Err(ForgeError::Unavailable)
    }
    pub async fn submit(_config: &Map<String, Value>) -> Result<(), ForgeError> {
        Err(ForgeError::Unavailable)
    }
    pub async fn close() -> Result<(), ForgeError> {
        Err(ForgeError::Unavailable)
    }
    pub async fn navigate(_url: &str) -> Result<(), ForgeError> {
        Err(ForgeError::Unavailable)
    }
    pub async fn enable_theme() -> Result<(), ForgeError> {
        Err(ForgeError::Unavailable)
    }
}

pub use imp::{close, context, enable_theme, init, invoke_remote, navigate, page_param, submit};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn macro_config_and_locale_answer_like_query_parameters() {
        let ctx: ForgeContext = serde_json::from_value(json!({
            "locale": "de-DE",
            "moduleKey": "smart-course",
            "extension": {
                "type": "macro",
                "config": {"course": "c-1", "n": 3, "nested": {"x": 1}},
                "content": {"id": 98305, "type": "page"},
                "space": {"id": "65537", "key": "DEV"}
            },
            "theme": {"colorMode": "dark"}
        }))
        .unwrap();
        assert_eq!(ctx.param("loc").as_deref(), Some("de-DE"));
        assert_eq!(ctx.param("course").as_deref(), Some("c-1"));
        assert_eq!(ctx.param("n").as_deref(), Some("3"));
        assert_eq!(ctx.param("nested"), None);
        assert_eq!(ctx.param("missing"), None);
        assert_eq!(ctx.content_id().as_deref(), Some("98305"));
        assert_eq!(ctx.space_key().as_deref(), Some("DEV"));
    }

    #[test]
    fn a_context_without_extension_or_config_has_no_parameters() {
        let ctx: ForgeContext = serde_json::from_value(json!({})).unwrap();
        assert_eq!(ctx.param("course"), None);
        assert_eq!(ctx.param("loc"), None);
        assert_eq!(ctx.space_key(), None);
    }

    #[test]
    fn remote_answers_keep_text_and_rewrite_parsed_json() {
        let text = RemoteResponse::from_bridge(&json!({
            "status": 200,
            "headers": {"Content-Type": ["application/json"], "X-Two": ["a", "b"]},
            "body": "{\"a\":1}"
        }))
        .unwrap();
        assert_eq!(text.body, "{\"a\":1}");
        assert_eq!(text.header("content-type"), Some("application/json"));
        assert_eq!(text.header("x-two"), Some("a,b"));
        let parsed = RemoteResponse::from_bridge(&json!({
            "status": 403, "headers": {"content-type": "application/json"}, "body": {"a": [1, 2]}
        }))
        .unwrap();
        assert_eq!(parsed.status, 403);
        assert_eq!(
            serde_json::from_str::<Value>(&parsed.body).unwrap(),
            json!({"a": [1, 2]})
        );
        let empty = RemoteResponse::from_bridge(&json!({"status": 204, "headers": {}})).unwrap();
        assert_eq!(empty.body, "");
    }

    #[test]
    fn an_answer_without_a_valid_status_is_refused() {
        for bad in [
            json!({}),
            json!({"status": "200"}),
            json!({"status": 42}),
            json!({"status": 70000}),
        ] {
            assert!(RemoteResponse::from_bridge(&bad).is_err(), "{bad}");
        }
    }
}
