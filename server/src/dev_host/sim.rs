//! The simulator's server side: key server, install, token minting, the
//! simulated page's macro storage, the demo's routes (`demo.rs` does the
//! work), and static files for the host page.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use jsonwebtoken::{encode, EncodingKey, Header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tower_http::services::{ServeDir, ServeFile};

use app::state::AppState;
use connect::qsh;

use super::demo::DemoState;
use crate::Config;

/// The simulator's signing key for install tokens: a development key,
/// published in this repository on purpose (the test kit's); only the
/// simulator's own key server hands out its public half, and release builds
/// contain neither.
const DEV_KEY: testkit::InstallKey = testkit::keys::DEV;
pub(super) const CLIENT_KEY: &str = "dev-host-simulated-confluence";

/// `http://<addr>`: the simulator's origin.
pub fn origin(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// A simulated Confluence user.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SimUser {
    pub account_id: &'static str,
    pub display_name: &'static str,
    pub role: &'static str,
    pub email: &'static str,
}

/// The dev users: author, learner, space admin, and a reader who may view
/// the page but not edit it (see `confluence.rs` for the permission model).
pub(super) const USERS: [SimUser; 4] = [
    SimUser {
        account_id: "557058:ada-author-0001",
        display_name: "Ada Author",
        role: "author",
        email: "ada.author@example.com",
    },
    SimUser {
        account_id: "557058:leo-learner-0002",
        display_name: "Leo Learner",
        role: "learner",
        email: "leo.learner@example.com",
    },
    SimUser {
        account_id: "557058:sam-spaceadmin-0003",
        display_name: "Sam Spaceadmin",
        role: "space-admin",
        email: "sam.spaceadmin@example.com",
    },
    SimUser {
        account_id: "557058:rita-reader-0004",
        display_name: "Rita Reader",
        role: "viewer",
        email: "rita.reader@example.com",
    },
];

pub(super) const SPACE_KEY: &str = "DEV";
pub(super) const PAGE_ID: &str = "98305";
const PAGE_VERSION: u32 = 3;

pub(super) struct Sim {
    pub(super) origin: String,
    pub(super) app_base: String,
    app_base_path: String,
    app_key: String,
    shared_secret: String,
    descriptor: Value,
    install_key: EncodingKey,
    pub(super) macro_params: Mutex<Map<String, Value>>,
    installed: Mutex<bool>,
    node_modules: PathBuf,
    /// The app's database, for what no API offers (see `demo.rs`).
    pub(super) db: store::Db,
    pub(super) demo: Mutex<DemoState>,
    /// Seeding and resetting take turns.
    pub(super) demo_lock: tokio::sync::Mutex<()>,
}

impl Sim {
    fn site_base(&self) -> String {
        format!("{}/wiki", self.origin)
    }

    fn module_url_template(&self, module: &str) -> Option<(String, String)> {
        let modules = &self.descriptor["modules"];
        match module {
            "macro" => {
                let m = &modules["dynamicContentMacros"][0];
                Some((m["key"].as_str()?.to_owned(), m["url"].as_str()?.to_owned()))
            }
            "editor" => {
                let m = &modules["dynamicContentMacros"][0];
                Some((
                    format!("{}-editor", m["key"].as_str()?),
                    m["editor"]["url"].as_str()?.to_owned(),
                ))
            }
            "spaceTools" => {
                let m = &modules["spaceToolsTabs"][0];
                Some((m["key"].as_str()?.to_owned(), m["url"].as_str()?.to_owned()))
            }
            _ => None,
        }
    }

    fn confluence_context() -> Value {
        json!({
            "confluence": {
                "content": {"id": PAGE_ID, "version": PAGE_VERSION.to_string(), "type": "page"},
                "space": {"key": SPACE_KEY, "id": "65537"}
            }
        })
    }

    /// A context JWT for `account_id` (what `AP.context.getToken()` gives):
    /// qsh `context-qsh`, the page's Confluence context, 15 minutes.
    pub(super) fn context_jwt(&self, account_id: &str) -> anyhow::Result<String> {
        self.sign_hs256(&json!({
            "iss": CLIENT_KEY,
            "sub": account_id,
            "iat": now(),
            "exp": now() + 900,
            "qsh": qsh::CONTEXT_QSH,
            "context": Sim::confluence_context(),
        }))
    }

    fn sign_hs256(&self, claims: &Value) -> anyhow::Result<String> {
        Ok(encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(self.shared_secret.as_bytes())?,
        )?)
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

pub(super) fn user(account_id: &str) -> Option<&'static SimUser> {
    USERS.iter().find(|u| u.account_id == account_id)
}

/// Expands `{var}` placeholders of a descriptor URL template; values are
/// percent-encoded as Confluence does.
fn expand(template: &str, vars: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 1..start + end];
        let value = match vars.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        out.extend(
            url::form_urlencoded::byte_serialize(value.as_bytes()).map(|s| s.replace('+', "%20")),
        );
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Starts the simulator on `config.dev_host_addr` and installs its tenant
/// into the app in the background (the app is about to start serving).
pub async fn start(
    config: &Config,
    state: AppState,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(config.dev_host_addr)
        .await
        .with_context(|| format!("could not bind the simulator on {}", config.dev_host_addr))?;
    let addr = listener.local_addr()?;
    let (settings, _) = config.settings()?;
    let descriptor: Value = serde_json::from_str(&crate::descriptor::render(
        &settings.base_url_str(),
        &settings.app_key,
    )?)?;
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let sim = Arc::new(Sim {
        origin: origin(addr),
        app_base: settings.base_url_str(),
        app_base_path: settings.base_path().to_owned(),
        app_key: settings.app_key.clone(),
        // A fresh secret per start, as Confluence gives on every (re)install.
        shared_secret: secret.iter().map(|b| format!("{b:02x}")).collect(),
        descriptor,
        install_key: EncodingKey::from_rsa_pem(DEV_KEY.private_pem.as_bytes())?,
        macro_params: Mutex::new(Map::new()),
        installed: Mutex::new(false),
        node_modules: config.node_modules_dir.clone(),
        db: state.db.clone(),
        demo: Mutex::new(DemoState::default()),
        demo_lock: tokio::sync::Mutex::new(()),
    });
    // The product REST API of the simulated site (the test kit's fake
    // Confluence with the site's tables), also behind the Forge mode's API
    // gateway (`/ex/confluence/<cloudId>/wiki/…`).
    let product = super::site::simulated_site(&sim.origin, &sim.app_key, &sim.shared_secret);
    let forge = Arc::new(super::forge::ForgeSim::new(sim.clone(), product.clone())?);
    let router = router(sim.clone(), &product).merge(super::forge::routes(forge));
    tracing::info!(url = %format!("{}/", sim.origin), "Confluence host simulator: open this URL");
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    tokio::spawn(install_loop(sim));
    Ok(server)
}

fn router(sim: Arc<Sim>, product: &testkit::FakeConfluence) -> Router {
    let assets = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/dev_host/assets"));
    let acjs = sim.node_modules.join("atlassian-connect-js/dist");
    // The install-key server.
    let keys = testkit::KeyServer::new(&[DEV_KEY]);
    Router::new()
        .route_service("/", ServeFile::new(assets.join("host.html")))
        .nest_service("/assets", ServeDir::new(&assets))
        .route_service(
            "/vendor/connect-host.js",
            ServeFile::new(acjs.join("connect-host.js")),
        )
        .route_service(
            "/vendor/connect-host.css",
            ServeFile::new(acjs.join("connect-host.css")),
        )
        .route_service(
            "/vendor/jquery.js",
            ServeFile::new(sim.node_modules.join("jquery/dist/jquery.js")),
        )
        .route("/sim/config", get(sim_config))
        .route("/sim/state", get(sim_state))
        .route("/sim/iframe-url", post(iframe_url))
        .route("/sim/context-token", post(context_token))
        .route("/sim/macro", get(get_macro).put(put_macro))
        .route("/sim/demo/reset", post(reset_demo))
        .with_state(sim)
        .nest("/keys", keys.router())
        .merge(product.router())
}

/// Installs the dev tenant through the app's real `/installed`, retrying
/// while the app finishes starting.
async fn install_loop(sim: Arc<Sim>) {
    let http = reqwest::Client::new();
    for attempt in 1..=40 {
        match install_once(&sim, &http).await {
            Ok(()) => {
                *sim.installed.lock().expect("lock") = true;
                tracing::info!("simulator: tenant installed through POST /installed");
                super::demo::ensure(&sim).await;
                return;
            }
            Err(e) => {
                if attempt % 10 == 0 {
                    tracing::warn!(error = %e, attempt, "simulator: install not accepted yet");
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    tracing::error!("simulator: the app never accepted the install");
}

async fn install_once(sim: &Sim, http: &reqwest::Client) -> anyhow::Result<()> {
    let path = format!("{}/installed", sim.app_base_path);
    let claims = json!({
        "iss": CLIENT_KEY,
        "sub": "557058:system-installer",
        "aud": [sim.app_base],
        "iat": now(),
        "exp": now() + 180,
        "qsh": qsh::qsh("POST", &path, None, &sim.app_base_path),
        "jti": testkit::tokens::unique_id(),
    });
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(DEV_KEY.kid.to_owned());
    let token = encode(&header, &claims, &sim.install_key)?;
    let body = json!({
        "key": sim.app_key,
        "clientKey": CLIENT_KEY,
        "sharedSecret": sim.shared_secret,
        "baseUrl": sim.site_base(),
        "displayUrl": sim.site_base(),
        "productType": "confluence",
        "description": "Simulated Confluence (dev-host)",
        "eventType": "installed",
        "oauthClientId": super::site::OAUTH_CLIENT_ID,
        // Connect on Forge adds the Forge installation: the app maps the
        // Forge mode's invocation tokens to this tenant through it.
        "installationId": super::forge::INSTALLATION_ID,
    });
    let resp = http
        .post(format!("{}/installed", sim.app_base))
        .header(header::AUTHORIZATION, format!("JWT {token}"))
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "status {}", resp.status());
    Ok(())
}

async fn sim_config(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({
        "appKey": sim.app_key,
        "appBaseUrl": sim.app_base,
        "site": {"baseUrl": sim.site_base(), "title": "Acme Confluence (simulated)"},
        "space": {"key": SPACE_KEY, "name": "Developer Space"},
        "page": {"id": PAGE_ID, "title": "Onboarding course", "version": PAGE_VERSION},
        "users": USERS,
        "modules": {"macro": "smart-course", "editor": "smart-course-editor", "spaceTools": "smart-courses-admin"},
    }))
}

async fn sim_state(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({
        "installed": *sim.installed.lock().expect("lock"),
        "clientKey": CLIENT_KEY,
        "demo": sim.demo.lock().expect("lock").to_json(),
    }))
}

/// `POST /sim/demo/reset` with the JSON body `{}`: *Reset demo* (see
/// `demo.rs`). A JSON body, so a page on another origin cannot send it
/// without the browser asking first (and the simulator does not answer
/// CORS preflights): no other site can wipe the simulated site's courses.
async fn reset_demo(State(sim): State<Arc<Sim>>, Json(_): Json<Map<String, Value>>) -> Response {
    match super::demo::reset(&sim).await {
        state @ DemoState::Ready { .. } => Json(state.to_json()).into_response(),
        state => (StatusCode::INTERNAL_SERVER_ERROR, Json(state.to_json())).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IframeReq {
    module: String,
    user: String,
    #[serde(default)]
    macro_params: Map<String, Value>,
    /// The user's locale as Confluence writes it (`de-DE`): the iframe
    /// URL's `loc`. The host page's *Language* switch; `en-US` without one.
    #[serde(default)]
    locale: Option<String>,
}

/// A locale as Confluence puts it into `loc`: letters, one `-` or `_`
/// between parts, at most 16 characters.
fn valid_locale(loc: &str) -> bool {
    !loc.is_empty()
        && loc.len() <= 16
        && loc
            .split(['-', '_'])
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, msg.to_owned()).into_response()
}

/// Builds the iframe URL Confluence would: the module's URL template from the
/// app's descriptor, Connect's standard parameters, and a page JWT whose qsh
/// covers all of it.
async fn iframe_url(State(sim): State<Arc<Sim>>, Json(req): Json<IframeReq>) -> Response {
    let Some(u) = user(&req.user) else {
        return bad("unknown user");
    };
    let Some((module_key, template)) = sim.module_url_template(&req.module) else {
        return bad("unknown module");
    };
    let locale = req.locale.clone().unwrap_or_else(|| "en-US".to_owned());
    if !valid_locale(&locale) {
        return bad("bad locale");
    }
    let mut vars = req.macro_params.clone();
    vars.insert("page.id".into(), json!(PAGE_ID));
    vars.insert("page.version".into(), json!(PAGE_VERSION.to_string()));
    vars.insert("space.key".into(), json!(SPACE_KEY));
    vars.insert("macro.id".into(), json!("sim-macro-1"));
    vars.insert("output.type".into(), json!("display"));
    let expanded = expand(&template, &vars);
    let (path, query) = expanded.split_once('?').unwrap_or((&expanded, ""));
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut query = query.to_owned();
    for (k, v) in [
        ("xdm_e", sim.origin.clone()),
        ("xdm_c", format!("channel-{}__{}", sim.app_key, module_key)),
        ("cp", "/wiki".to_owned()),
        ("xdm_deprecated_addon_key_do_not_use", sim.app_key.clone()),
        ("lic", "none".to_owned()),
        ("cv", "1.0.0".to_owned()),
        // The user's language, as Confluence sends it to every iframe.
        ("loc", locale),
    ] {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!("{k}={}", enc(&v)));
    }
    let full_path = format!("{}{}", sim.app_base_path, path);
    let claims = json!({
        "iss": CLIENT_KEY,
        "sub": u.account_id,
        "iat": now(),
        // > 60 s, or connect-host refuses to create the iframe.
        "exp": now() + 180,
        "qsh": qsh::qsh("GET", &full_path, Some(&query), &sim.app_base_path),
        "context": Sim::confluence_context(),
    });
    match sim.sign_hs256(&claims) {
        Ok(token) => Json(json!({
            "url": format!("{}{}?{}&jwt={}", sim.app_base, path, query, token),
            "moduleKey": module_key,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulator: signing failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
struct TokenReq {
    user: String,
}

/// `AP.context.getToken()`: a context JWT (qsh `context-qsh`) for the user,
/// carrying the page's Confluence context.
async fn context_token(State(sim): State<Arc<Sim>>, Json(req): Json<TokenReq>) -> Response {
    let Some(u) = user(&req.user) else {
        return bad("unknown user");
    };
    // Confluence's context tokens live 15 minutes.
    match sim.context_jwt(u.account_id) {
        Ok(token) => Json(json!({"token": token})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulator: signing failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn get_macro(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"params": *sim.macro_params.lock().expect("lock")}))
}

#[derive(Deserialize)]
struct MacroPut {
    params: Map<String, Value>,
}

async fn put_macro(State(sim): State<Arc<Sim>>, Json(req): Json<MacroPut>) -> StatusCode {
    *sim.macro_params.lock().expect("lock") = req.params;
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_templates_expand_and_encode() {
        let mut vars = Map::new();
        vars.insert("course".into(), json!("c 1&x"));
        vars.insert("page.id".into(), json!("98305"));
        assert_eq!(
            expand(
                "/macro/course?course={course}&page.id={page.id}&m={missing}",
                &vars
            ),
            "/macro/course?course=c%201%26x&page.id=98305&m="
        );
    }

    #[test]
    fn only_locale_shaped_values_become_loc() {
        for ok in ["en-US", "de-DE", "de", "de_CH", "zh-Hant-TW"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["", "de-", "-DE", "de DE", "de&x=1", "de-DE-x-very-long-tag"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }
}
