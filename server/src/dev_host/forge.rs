//! The simulator's **Forge mode** (issue #15 item 4): Confluence as a Forge
//! host for the Custom UI resources that `scripts/build-forge.sh` writes to
//! `forge/static/<module>/`.
//!
//! What Forge does, and what plays its part here:
//! - Forge serves a Custom UI resource from its own CDN origin and injects
//!   `window.__bridge` into it before any app script runs. Here
//!   `/forge-ui/<module>/…` serves the files with `/forge-ui/__bridge.js`
//!   put first into `<head>`, under a strict CSP (no inline script, no
//!   connection but the resource's own origin: only `invokeRemote` reaches
//!   the app). The host page opens it as `http://localhost:<port>/…` while
//!   it runs on `http://127.0.0.1:<port>`: another origin, as in Forge.
//! - `__bridge.callBridge(method, payload)` posts to the host page
//!   (`assets/forge-host.js`, at `/sim/forge`), which answers `getContext`,
//!   `submit`, `close`, `navigate`, `enableTheming` itself and sends
//!   `invoke` (what `invokeRemote` becomes) to [`invoke`] here.
//! - Forge signs a **Forge Invocation Token** (RS256, ~25 s) with a key from
//!   its JWKS and calls the app's remote with it. [`invoke`] mints one with
//!   the simulator's own key ([`FORGE_KEY_PEM`], published in this
//!   repository on purpose, like the install key) and calls the app;
//!   `/.well-known/jwks.json` publishes the public half, and
//!   `dev_host::prepare` points the app's `FORGE_JWKS_URL` and
//!   `FORGE_APP_ID` at it ([`APP_ID`]).
//! - The installation is the simulated site's: the Connect install sends
//!   [`INSTALLATION_ID`] (as Connect-on-Forge does), so the app maps a FIT's
//!   `app.installationId` to the same tenant as the Connect pages.
//!
//! - With each call Forge sends the app's system token and the user's token
//!   (`x-forge-oauth-system`, `-user`) for its API gateway
//!   (`https://api.atlassian.com/ex/confluence/<cloudId>`). Here the
//!   simulated site issues them and serves the gateway at
//!   `/ex/confluence/<cloudId>/wiki/…` ([`api_prefix`], the app's
//!   `FORGE_API_BASE_URL` in dev).
//!
//! Not simulated: Forge's CDN, resizing, token lifetimes, and whatever the
//! real bridge does beyond the calls listed above.

use std::{path::PathBuf, sync::Arc, time::Duration};

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use jsonwebtoken::{
    encode,
    jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse},
    Algorithm, EncodingKey, Header,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::sim::{user, Sim, PAGE_ID, SPACE_KEY};

/// The simulator's FIT signing key (RSA-2048, development only).
pub(super) const FORGE_KEY_PEM: &str = include_str!("keys/forge-dev-key.pem");
/// Its `kid` in the JWKS.
pub(super) const FORGE_KID: &str = "dev-host-forge-key-1";
/// The simulated Forge app's id, what `forge register` would print.
pub(super) const APP_ID: &str = "ari:cloud:ecosystem::app/5ca1ab1e-d0c5-4e57-8000-000000000001";
/// The simulated site's Forge installation.
pub(super) const INSTALLATION_ID: &str =
    "ari:cloud:ecosystem::installation/5ca1ab1e-d0c5-4e57-8000-000000000002";
const CLOUD_ID: &str = "5ca1ab1e-d0c5-4e57-8000-000000000003";
/// Forge's example FITs live 25 s.
const FIT_LIFETIME_SECS: u64 = 25;
/// Forge gives a UI call 25 s.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(25);
/// The macro's key in the manifest (`modules.macro[0].key`).
const MACRO_KEY: &str = "smart-course";
const SPACE_SETTINGS_KEY: &str = "smart-courses-admin";
/// Largest request body the simulated bridge passes on.
const MAX_BODY: usize = 1 << 20;

/// The Custom UI resources: what `manifest.yml` calls `learner`, `editor`, `admin`.
const MODULES: [&str; 3] = ["learner", "editor", "admin"];

pub(super) struct ForgeSim {
    sim: Arc<Sim>,
    /// The simulated site: issues the Forge OAuth tokens its API gateway
    /// accepts.
    product: testkit::FakeConfluence,
    key: EncodingKey,
    jwks: JwkSet,
    http: reqwest::Client,
    static_root: PathBuf,
}

impl ForgeSim {
    pub(super) fn new(sim: Arc<Sim>, product: testkit::FakeConfluence) -> anyhow::Result<Self> {
        let key = EncodingKey::from_rsa_pem(FORGE_KEY_PEM.as_bytes())?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)?;
        jwk.common.key_id = Some(FORGE_KID.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        Ok(Self {
            sim,
            product,
            key,
            jwks: JwkSet { keys: vec![jwk] },
            http: reqwest::Client::builder()
                .timeout(INVOKE_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            static_root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../forge/static")),
        })
    }

    fn fit(&self, account_id: &str, module: &str) -> anyhow::Result<String> {
        mint_fit(&self.key, &self.sim.origin, account_id, module)
    }

    /// Forge's OAuth tokens for one call (`x-forge-oauth-system` as the
    /// app, `x-forge-oauth-user` as the user), valid only at the simulated
    /// site's API gateway for its cloud id.
    fn oauth_tokens(&self, account_id: &str) -> (String, String) {
        (
            self.product
                .issue_forge_system_token(super::sim::CLIENT_KEY, CLOUD_ID),
            self.product.issue_forge_user_token(account_id, CLOUD_ID),
        )
    }
}

/// What the simulated FITs' `app.apiBaseUrl` starts with: the simulator's
/// stand-in for `https://api.atlassian.com/ex/confluence/`.
pub(super) fn api_prefix(sim_origin: &str) -> String {
    format!("{sim_origin}{}", testkit::confluence::FORGE_API_PATH)
}

/// A Forge Invocation Token for a UI call by `account_id` from `module` on
/// the site at `site_url`, with the claims Forge documents (forge-ready.md §3).
fn mint_fit(
    key: &EncodingKey,
    site_url: &str,
    account_id: &str,
    module: &str,
) -> anyhow::Result<String> {
    {
        let now = jsonwebtoken::get_current_timestamp();
        // Forge's API gateway for this site: the simulator's (the app's
        // FORGE_API_BASE_URL is `<simulator>/ex/confluence/` in dev).
        let api_base_url = format!("{}{CLOUD_ID}", api_prefix(site_url));
        let (module_key, extension) = if module == "admin" {
            (
                SPACE_SETTINGS_KEY,
                json!({"type": "confluence:spaceSettings", "space": {"key": SPACE_KEY, "id": "65537"}}),
            )
        } else {
            (
                MACRO_KEY,
                json!({
                    "type": "macro",
                    "content": {"id": PAGE_ID, "type": "page"},
                    "space": {"key": SPACE_KEY, "id": "65537"},
                    "isEditing": module == "editor",
                }),
            )
        };
        let claims = json!({
            "iss": connect::forge::FORGE_ISSUER,
            "aud": APP_ID,
            "iat": now,
            "nbf": now,
            "exp": now + FIT_LIFETIME_SECS,
            "jti": uuid::Uuid::new_v4().to_string(),
            "app": {
                "id": APP_ID,
                "appVersion": "1.0.0",
                "installationId": INSTALLATION_ID,
                "apiBaseUrl": api_base_url,
                "environment": {"type": "DEVELOPMENT", "id": "5ca1ab1e-d0c5-4e57-8000-000000000004"},
                "module": {"type": "xen:macro", "key": module_key},
                "installation": {
                    "id": INSTALLATION_ID,
                    "contexts": [{
                        "name": format!("ari:cloud:confluence::site/{CLOUD_ID}"),
                        "apiBaseUrl": api_base_url,
                        "cloudId": CLOUD_ID,
                    }],
                },
            },
            "context": {
                "cloudId": CLOUD_ID,
                "siteUrl": site_url,
                "moduleKey": module_key,
                "localId": "sim-macro-1",
                "extension": extension,
            },
            "principal": account_id,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(FORGE_KID.to_owned());
        Ok(encode(&header, &claims, key)?)
    }
}

/// The Forge mode's routes, merged into the simulator's router.
pub(super) fn routes(forge: Arc<ForgeSim>) -> Router {
    let assets = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/dev_host/assets"));
    Router::new()
        .route_service(
            "/sim/forge",
            tower_http::services::ServeFile::new(assets.join("forge-host.html")),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/sim/forge/invoke", post(invoke))
        .route("/forge-ui/__bridge.js", get(bridge_script))
        .route("/forge-ui/{module}/{file}", get(resource))
        .with_state(forge)
}

async fn jwks(State(forge): State<Arc<ForgeSim>>) -> Json<JwkSet> {
    Json(forge.jwks.clone())
}

/// The page side of `window.__bridge`, injected into every resource: it
/// posts each call to the host page (only to the simulator's origin) and
/// resolves with its answer; the host also sends theme changes this way.
async fn bridge_script(State(forge): State<Arc<ForgeSim>>) -> Response {
    let script = include_str!("assets/forge-bridge-inject.js")
        .replace("__SIM_HOST_ORIGIN__", &forge.sim.origin);
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        script,
    )
        .into_response()
}

/// A file name in a resource directory: no paths, no hidden files.
fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// `GET /forge-ui/<module>/<file>`: a file of a Custom UI resource, the
/// bridge injected into `index.html`, under a CSP like Forge's: scripts
/// only from the resource (plus WASM compilation, which the manifest must
/// allow), connections only to it (so a page that fetched the app
/// directly, not through `invokeRemote`, fails here as on Forge), framed
/// only by the simulator's host page.
async fn resource(
    State(forge): State<Arc<ForgeSim>>,
    Path((module, file)): Path<(String, String)>,
) -> Response {
    if !MODULES.contains(&module.as_str()) || !safe_file_name(&file) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = forge.static_root.join(&module).join(&file);
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let body = if file == "index.html" {
        let html = String::from_utf8_lossy(&bytes);
        let Some(at) = html.find("<head>") else {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "index.html has no <head>",
            )
                .into_response();
        };
        let at = at + "<head>".len();
        format!(
            "{}\n    <script src=\"/forge-ui/__bridge.js\"></script>{}",
            &html[..at],
            &html[at..]
        )
        .into_bytes()
    } else {
        bytes
    };
    let csp = format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
         frame-ancestors {}; base-uri 'none'; form-action 'none'",
        forge.sim.origin
    );
    let mut resp = ([(header::CONTENT_TYPE, content_type(&file))], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(Deserialize)]
struct InvokeReq {
    user: String,
    module: String,
    request: RemoteReq,
}

/// What `invokeRemote` hands the bridge: `{path, method, headers, body}`.
#[derive(Deserialize)]
struct RemoteReq {
    path: String,
    method: String,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
}

/// The request headers an app may set that reach the remote; Forge sets
/// `authorization` itself.
const PASSED_HEADERS: [&str; 3] = ["content-type", "accept", "accept-language"];

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, msg.to_owned()).into_response()
}

/// A path on the app's remote: absolute, no authority, no `..`, no
/// fragment, printable ASCII only.
fn valid_remote_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2048
        && !path.contains('#')
        && !path.contains('\\')
        && path.chars().all(|c| c.is_ascii_graphic())
        && !path
            .split(['/', '?'])
            .any(|seg| seg == ".." || seg == "." || seg.eq_ignore_ascii_case("%2e%2e"))
}

/// `POST /sim/forge/invoke` (from the host page): Forge's side of
/// `invokeRemote`. Mints a FIT for the user and module, calls the app's
/// remote with it, and answers `{status, headers, body}` as the bridge
/// returns it (`body` parsed when the app answered JSON).
async fn invoke(State(forge): State<Arc<ForgeSim>>, Json(req): Json<InvokeReq>) -> Response {
    let Some(u) = user(&req.user) else {
        return bad("unknown user");
    };
    if !MODULES.contains(&req.module.as_str()) {
        return bad("unknown module");
    }
    let r = req.request;
    let method = match r.method.as_str() {
        "GET" => reqwest::Method::GET,
        "POST" => reqwest::Method::POST,
        "PUT" => reqwest::Method::PUT,
        "PATCH" => reqwest::Method::PATCH,
        "DELETE" => reqwest::Method::DELETE,
        _ => return bad("method must be GET, POST, PUT, PATCH or DELETE"),
    };
    if !valid_remote_path(&r.path) {
        return bad("path must be an absolute path on the remote");
    }
    let mut content_type = None;
    let mut call = forge
        .http
        .request(method, format!("{}{}", forge.sim.app_base, r.path));
    for (name, value) in &r.headers {
        let name = name.to_ascii_lowercase();
        let Some(value) = value.as_str() else {
            return bad("header values must be strings");
        };
        if !PASSED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        if HeaderValue::from_str(value).is_err() || value.len() > 1024 {
            return bad("bad header value");
        }
        if name == "content-type" {
            content_type = Some(value.to_owned());
        }
        call = call.header(name, value);
    }
    let body = match r.body {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            // Forge sends an object body as JSON.
            if content_type.is_none() {
                call = call.header(header::CONTENT_TYPE, "application/json");
            }
            Some(other.to_string())
        }
    };
    if let Some(b) = body {
        if b.len() > MAX_BODY {
            return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
        }
        call = call.body(b);
    }
    let token = match forge.fit(u.account_id, &req.module) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "simulator: FIT signing failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let (system_token, user_token) = forge.oauth_tokens(u.account_id);
    let trace: [u8; 16] = rand::random();
    let span: [u8; 8] = rand::random();
    let answer = call
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-b3-traceid", hex(&trace))
        .header("x-b3-spanid", hex(&span))
        .header("x-forge-oauth-system", system_token)
        .header("x-forge-oauth-user", user_token)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "simulator: the remote did not answer");
            return (StatusCode::BAD_GATEWAY, "the remote did not answer").into_response();
        }
    };
    let status = answer.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in answer.headers() {
        if let Ok(v) = value.to_str() {
            let entry = headers
                .entry(name.as_str().to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(vs) = entry {
                vs.push(Value::String(v.to_owned()));
            }
        }
    }
    let is_json = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(text) = answer.text().await else {
        return (StatusCode::BAD_GATEWAY, "the remote's answer broke off").into_response();
    };
    let body = match is_json
        .then(|| serde_json::from_str::<Value>(&text).ok())
        .flatten()
    {
        Some(parsed) => parsed,
        None => Value::String(text),
    };
    Json(json!({"status": status, "headers": headers, "body": body})).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, DecodingKey, Validation};

    #[test]
    fn remote_paths_stay_on_the_remote() {
        for ok in ["/api/learning/course", "/api/x?a=1&b=%20", "/forge/invoke"] {
            assert!(valid_remote_path(ok), "{ok}");
        }
        for bad in [
            "",
            "api/x",
            "//evil.example/x",
            "/a/../b",
            "/a/%2E%2E/b",
            "/a b",
            "/a#b",
            "/a\\b",
            "/ä",
        ] {
            assert!(!valid_remote_path(bad), "{bad}");
        }
    }

    #[test]
    fn resource_file_names_are_plain() {
        for ok in ["index.html", "app_bg.wasm", "forge-bridge.js"] {
            assert!(safe_file_name(ok), "{ok}");
        }
        for bad in ["", ".env", "../x", "a/b", "a%2fb"] {
            assert!(!safe_file_name(bad), "{bad}");
        }
    }

    /// The published JWKS verifies the tokens the simulator mints, and they
    /// carry what the app's Forge verifier checks (forge-ready.md §3.2).
    #[test]
    fn the_jwks_verifies_the_minted_tokens() {
        let key = EncodingKey::from_rsa_pem(FORGE_KEY_PEM.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(FORGE_KID.to_owned());
        let set = JwkSet { keys: vec![jwk] };
        let token = mint_fit(&key, "http://127.0.0.1:3101", "557058:leo", "learner").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let found = set
            .find(header.kid.as_deref().unwrap())
            .expect("kid in the JWKS");
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[APP_ID]);
        v.set_issuer(&[connect::forge::FORGE_ISSUER]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "nbf"]);
        let c = decode::<Value>(&token, &DecodingKey::from_jwk(found).unwrap(), &v)
            .unwrap()
            .claims;
        assert_eq!(c["app"]["id"], APP_ID);
        assert_eq!(c["app"]["installationId"], INSTALLATION_ID);
        assert_eq!(
            c["app"]["apiBaseUrl"],
            format!("http://127.0.0.1:3101/ex/confluence/{CLOUD_ID}")
        );
        assert_eq!(c["principal"], "557058:leo");
        assert_eq!(c["context"]["extension"]["type"], "macro");
        assert!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap() <= 30);
        let admin = mint_fit(&key, "http://x", "557058:sam", "admin").unwrap();
        let c = decode::<Value>(&admin, &DecodingKey::from_jwk(found).unwrap(), &v)
            .unwrap()
            .claims;
        assert_eq!(c["context"]["extension"]["space"]["key"], SPACE_KEY);
        // Another key's token does not verify against the JWKS.
        let other =
            EncodingKey::from_rsa_pem(testkit::keys::FIXTURE_B.private_pem.as_bytes()).unwrap();
        let forged = mint_fit(&other, "http://x", "557058:leo", "learner").unwrap();
        assert!(decode::<Value>(&forged, &DecodingKey::from_jwk(found).unwrap(), &v).is_err());
    }
}
