//! Test harness: the real app on port 0 with its own database, a local
//! install-key server with fixture keys, and token builders that sign real
//! JWTs (no bypass anywhere).

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use server::{Application, Config};
use sqlx::Connection;

pub const KEY_A: &str = include_str!("../fixtures/install-key-a.pem");
pub const KEY_A_PUB: &str = include_str!("../fixtures/install-key-a.pub.pem");
pub const KEY_B: &str = include_str!("../fixtures/install-key-b.pem");
pub const KID_A: &str = "0f9e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
/// A kid the key server does not know.
pub const KID_UNKNOWN: &str = "11111111-2222-4333-8444-555555555555";
/// The public base URL the app is configured with (as behind a proxy).
pub const BASE_URL: &str = "https://courses.example.test";

/// Which database a test runs on: SQLite by default, PostgreSQL when
/// `SC_TEST_DB=postgres` (`scripts/test.sh` runs the suite both ways).
pub fn test_backend_is_postgres() -> bool {
    std::env::var("SC_TEST_DB")
        .map(|v| v == "postgres")
        .unwrap_or(false)
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database_url() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    if test_backend_is_postgres() {
        let admin = std::env::var("SC_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL suite: cannot connect to SC_TEST_PG_URL");
        // Once per test process: drop the databases earlier runs left behind.
        static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        CLEANED
            .get_or_init(|| async {
                let mut admin_conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                let old: Vec<String> = sqlx::query_scalar(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'sc_test_%'",
                )
                .fetch_all(&mut admin_conn)
                .await
                .unwrap();
                for name in old {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin_conn)
                    .await;
                }
            })
            .await;
        let name = format!("sc_test_{id}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
        format!("{base}/{name}")
    } else {
        let dir = std::env::temp_dir().join("smart-courses-tests");
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}/{id}.db", dir.display())
    }
}

/// A site root with a manifest (the browser bundle is not needed here).
pub fn test_site_root() -> PathBuf {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"output_name":"frontend-test","stylesheet":"/pkg/style-test.css"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("pkg/style-test.css"),
        "body{color:red}".repeat(200),
    )
    .unwrap();
    std::fs::write(dir.join("pkg/style-test.css.gz"), b"fake-gzip").unwrap();
    dir
}

/// Serves fixture public keys at `/<kid>`, like Atlassian's install-key CDN.
pub async fn spawn_key_server() -> String {
    let router = Router::new().route(
        "/{kid}",
        get(|Path(kid): Path<String>| async move {
            if kid == KID_A {
                KEY_A_PUB.into_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A running app.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: app::state::AppState,
    pub http: reqwest::Client,
    /// The test's own database (to check what was or was not written).
    pub database_url: String,
}

#[derive(Default)]
pub struct Options {
    /// Key server URL; `None` spawns the fixture key server.
    pub keys_cdn_url: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    spawn_app_configured(opts, |_| {}).await
}

/// [`spawn_app_with`], with a last chance to change the configuration
/// (e.g. the OAuth token endpoint) before the app is built.
pub async fn spawn_app_configured(opts: Options, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let keys = match opts.keys_cdn_url {
        Some(u) => u,
        None => spawn_key_server().await,
    };
    let mut config = Config::from_env_and_defaults();
    config.base_url = BASE_URL.parse().unwrap();
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = fresh_database_url().await;
    config.site_root = test_site_root();
    config.keys_cdn_url = Some(keys.parse().unwrap());
    config.jwt_leeway_secs = 30;
    #[cfg(feature = "dev-host")]
    {
        // Tests run in server/; the npm packages live at the repository root.
        config.node_modules_dir = "../node_modules".into();
    }
    tweak(&mut config);
    let application = Application::build(&config).await.expect("app builds");
    let addr = application.local_addr();
    let state = application.state().clone();
    tokio::spawn(application.run_until(std::future::pending()));
    TestApp {
        addr,
        state,
        database_url: config.database_url.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl TestApp {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// POST a lifecycle callback with an optional `Authorization: JWT` token.
    pub async fn lifecycle(
        &self,
        event: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(&format!("/{event}"))).json(body);
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        req.send().await.unwrap()
    }

    /// Installs `client_key` with `secret` through the real signed install.
    pub async fn install(&self, client_key: &str, secret: &str) {
        let token = install_token(InstallClaims::valid(client_key, "/installed"));
        let resp = self
            .lifecycle("installed", Some(&token), &install_body(client_key, secret))
            .await;
        assert_eq!(
            resp.status(),
            204,
            "install of {client_key} refused: {}",
            resp.text().await.unwrap()
        );
    }

    /// Calls a server function with a context JWT.
    pub async fn call_fn(
        &self,
        name: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(&format!("/api/{name}"))).form(form);
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        req.send().await.unwrap()
    }

    /// The stored shared secret of a tenant (to prove what was or was not written).
    pub async fn stored_secret(&self, client_key: &str) -> Option<String> {
        use secrecy::ExposeSecret;
        self.state
            .db
            .tenant(client_key)
            .await
            .unwrap()
            .map(|t| t.shared_secret.expose_secret().to_string())
    }
}

pub fn install_body(client_key: &str, secret: &str) -> Value {
    json!({
        "key": "smart-courses",
        "clientKey": client_key,
        "sharedSecret": secret,
        "baseUrl": format!("https://{client_key}.atlassian.net/wiki"),
        "displayUrl": format!("https://{client_key}.atlassian.net/wiki"),
        "productType": "confluence",
        "description": "test site",
        "eventType": "installed",
        "oauthClientId": format!("oauth-{client_key}"),
    })
}

pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims of a signed-install token, valid unless a test changes a field.
pub struct InstallClaims {
    pub claims: Value,
    pub kid: Option<String>,
    pub key: &'static str,
}

impl InstallClaims {
    pub fn valid(client_key: &str, path: &str) -> Self {
        Self {
            claims: json!({
                "iss": client_key,
                "aud": [BASE_URL],
                "iat": now(),
                "exp": now() + 180,
                "qsh": connect::qsh::qsh("POST", path, None, ""),
            }),
            kid: Some(KID_A.to_string()),
            key: KEY_A,
        }
    }
}

pub fn install_token(c: InstallClaims) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = c.kid;
    encode(
        &header,
        &c.claims,
        &EncodingKey::from_rsa_pem(c.key.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn hs_token(alg: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn rs_token(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(KEY_B.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A token with `alg: none` and no signature.
pub fn unsigned_token(claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}

/// Replaces the payload of a signed token, keeping its signature.
pub fn tampered(token: &str, claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = b64.encode(claims.to_string());
    parts.join(".")
}

/// Claims of a context JWT as `AP.context.getToken()` returns it.
pub fn context_claims(client_key: &str, account: &str) -> Value {
    json!({
        "iss": client_key,
        "sub": account,
        "iat": now(),
        "exp": now() + 900,
        "qsh": "context-qsh",
        "context": {"confluence": {"content": {"id": "98305"}, "space": {"key": "DEV"}}},
    })
}

/// Claims of a page JWT for `GET path?query`.
pub fn page_claims(client_key: &str, account: &str, path: &str, query: &str) -> Value {
    json!({
        "iss": client_key,
        "sub": account,
        "iat": now(),
        "exp": now() + 180,
        "qsh": connect::qsh::qsh("GET", path, Some(query), ""),
    })
}

// ---------------------------------------------------------------------------
// Server functions with a Confluence behind them: a fake Confluence that
// answers permission checks from a table, tenants installed against it, and
// direct database access to prove what was (not) written.
// ---------------------------------------------------------------------------

/// The app key the test app runs with (the `iss` of every app JWT it sends).
pub const APP_KEY: &str = "smart-courses";

/// One permission check as the fake Confluence answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenCheck {
    pub client_key: String,
    pub account_id: String,
    pub content_id: String,
    pub operation: String,
}

/// (account id, content id, operation) → allowed.
type Grants = HashMap<(String, String, String), bool>;
/// Space key → (space id, administrators).
type Spaces = HashMap<String, (u64, HashSet<String>)>;

#[derive(Clone, Default)]
struct FakeState {
    /// Client key → shared secret (to verify the app's JWTs).
    secrets: Arc<Mutex<HashMap<String, String>>>,
    /// (account id, content id, operation) → allowed. Missing → false.
    grants: Arc<Mutex<Grants>>,
    /// Space key → (space id, administrators).
    spaces: Arc<Mutex<Spaces>>,
    /// ACT_AS_USER access token → account id.
    user_tokens: Arc<Mutex<HashMap<String, String>>>,
    /// Answer 503 to everything (Confluence is having a bad day).
    outage: Arc<AtomicBool>,
    checks: Arc<Mutex<Vec<SeenCheck>>>,
    /// Requests refused because the app JWT did not verify.
    refused: Arc<AtomicUsize>,
    /// Account id → display name (`GET /wiki/rest/api/user?accountId=`).
    users: Arc<Mutex<HashMap<String, String>>>,
    /// User lookups answered (to see the app's name cache at work).
    user_lookups: Arc<AtomicUsize>,
}

/// A fake Confluence on `127.0.0.1:0`: `POST /wiki/rest/api/content/{id}/permission/check`
/// (app JWT verified: HS256 with the tenant's secret, `iss` = [`APP_KEY`],
/// `aud` = the client key, `qsh` of the site-relative request) answered from
/// a table, plus what the space-admin check uses (`/oauth2/token`,
/// `GET /wiki/api/v2/spaces`, `GET /wiki/api/v2/spaces/{id}/operations`).
#[derive(Clone)]
pub struct FakeConfluence {
    origin: String,
    state: FakeState,
}

impl FakeConfluence {
    pub async fn start() -> Self {
        let state = FakeState::default();
        let router = Router::new()
            .route(
                "/wiki/rest/api/content/{id}/permission/check",
                post(fake_permission_check),
            )
            .route("/oauth2/token", post(fake_token))
            .route("/wiki/api/v2/spaces", get(fake_spaces))
            .route("/wiki/api/v2/spaces/{id}/operations", get(fake_operations))
            .route("/wiki/rest/api/user", get(fake_user))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { origin, state }
    }

    /// The tenant `baseUrl` to install with (`http://127.0.0.1:<port>/wiki`).
    pub fn base_url(&self) -> String {
        format!("{}/wiki", self.origin)
    }

    /// The ACT_AS_USER token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.origin)
    }

    /// Lets the fake verify app JWTs of `client_key`.
    pub fn add_tenant(&self, client_key: &str, secret: &str) {
        self.state
            .secrets
            .lock()
            .unwrap()
            .insert(client_key.into(), secret.into());
    }

    /// Sets the answer for (account, content, `read`/`update`).
    pub fn grant(&self, account: &str, content_id: &str, operation: &str, allowed: bool) {
        self.state.grants.lock().unwrap().insert(
            (account.into(), content_id.into(), operation.into()),
            allowed,
        );
    }

    /// `account` may view and edit the page.
    pub fn allow_edit(&self, account: &str, content_id: &str) {
        self.grant(account, content_id, "read", true);
        self.grant(account, content_id, "update", true);
    }

    /// `account` may view the page but not edit it.
    pub fn allow_read_only(&self, account: &str, content_id: &str) {
        self.grant(account, content_id, "read", true);
        self.grant(account, content_id, "update", false);
    }

    /// Confluence knows `account` by `name`.
    pub fn add_user(&self, account: &str, name: &str) {
        self.state
            .users
            .lock()
            .unwrap()
            .insert(account.to_string(), name.to_string());
    }

    /// User lookups answered so far.
    pub fn user_lookups(&self) -> usize {
        self.state.user_lookups.load(Ordering::SeqCst)
    }

    /// `account` administers the space `space_key`.
    pub fn make_space_admin(&self, account: &str, space_key: &str) {
        let mut spaces = self.state.spaces.lock().unwrap();
        let next_id = 65537 + spaces.len() as u64;
        spaces
            .entry(space_key.into())
            .or_insert_with(|| (next_id, HashSet::new()))
            .1
            .insert(account.into());
    }

    /// From now on every request is answered with 503.
    pub fn set_outage(&self, down: bool) {
        self.state.outage.store(down, Ordering::SeqCst);
    }

    /// Every permission check answered so far.
    pub fn checks(&self) -> Vec<SeenCheck> {
        self.state.checks.lock().unwrap().clone()
    }

    /// How many requests were refused because the app JWT did not verify.
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }
}

/// Verifies the app JWT of a request to the fake; `Some(client key)` if good.
fn fake_verify_app_jwt(
    state: &FakeState,
    headers: &axum::http::HeaderMap,
    method: &str,
    uri: &axum::http::Uri,
) -> Option<String> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("JWT ")?;
    if jsonwebtoken::decode_header(token).ok()?.alg != Algorithm::HS256 {
        return None;
    }
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let client_key = match &unverified["aud"] {
        Value::Array(a) => a.first()?.as_str()?.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let secret = state.secrets.lock().unwrap().get(&client_key)?.clone();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_issuer(&[APP_KEY]);
    validation.set_audience(&[client_key.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()).ok()?,
        &validation,
    )
    .ok()?
    .claims;
    let relative = uri.path().strip_prefix("/wiki")?;
    let expected = connect::qsh::qsh(method, relative, uri.query(), "");
    (claims["qsh"] == expected).then_some(client_key)
}

async fn fake_permission_check(
    State(state): State<FakeState>,
    Path(content_id): Path<String>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    body: String,
) -> axum::response::Response {
    if state.outage.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(client_key) = fake_verify_app_jwt(&state, &headers, "POST", &uri) else {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let (Some(account), Some(operation)) = (
        req["subject"]["identifier"].as_str(),
        req["operation"].as_str(),
    ) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state.checks.lock().unwrap().push(SeenCheck {
        client_key,
        account_id: account.into(),
        content_id: content_id.clone(),
        operation: operation.into(),
    });
    let allowed = state
        .grants
        .lock()
        .unwrap()
        .get(&(account.into(), content_id, operation.into()))
        .copied()
        .unwrap_or(false);
    axum::Json(json!({"hasPermission": allowed, "errors": []})).into_response()
}

async fn fake_token(State(state): State<FakeState>, body: String) -> axum::response::Response {
    if state.outage.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let account = form
        .get("assertion")
        .and_then(|a| jsonwebtoken::dangerous::insecure_decode_claims::<Value>(a).ok())
        .and_then(|c| {
            c["sub"]
                .as_str()?
                .strip_prefix("urn:atlassian:connect:useraccountid:")
                .map(str::to_string)
        });
    let Some(account) = account else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let token = format!("user-token-{}", uuid::Uuid::new_v4().simple());
    state
        .user_tokens
        .lock()
        .unwrap()
        .insert(token.clone(), account);
    axum::Json(json!({"access_token": token, "expires_in": 900, "token_type": "Bearer"}))
        .into_response()
}

fn fake_bearer_user(state: &FakeState, headers: &axum::http::HeaderMap) -> Option<String> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    state.user_tokens.lock().unwrap().get(token).cloned()
}

async fn fake_spaces(
    State(state): State<FakeState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> axum::response::Response {
    if state.outage.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if fake_bearer_user(&state, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let keys: Vec<String> = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "keys")
        .map(|(_, v)| v.into_owned())
        .collect();
    let spaces = state.spaces.lock().unwrap();
    let results: Vec<Value> = keys
        .iter()
        .filter_map(|k| {
            spaces
                .get(k)
                .map(|(id, _)| json!({"id": id.to_string(), "key": k}))
        })
        .collect();
    axum::Json(json!({ "results": results })).into_response()
}

async fn fake_operations(
    State(state): State<FakeState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if state.outage.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(user) = fake_bearer_user(&state, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let spaces = state.spaces.lock().unwrap();
    let Some((_, admins)) = spaces.values().find(|(sid, _)| sid.to_string() == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut ops = vec![json!({"operation": "read", "targetType": "space"})];
    if admins.contains(&user) {
        ops.push(json!({"operation": "administer", "targetType": "space"}));
    }
    axum::Json(json!({ "operations": ops })).into_response()
}

/// The app, with ACT_AS_USER tokens coming from `fake`.
pub async fn spawn_app_with_confluence(fake: &FakeConfluence) -> TestApp {
    let token_url = fake.token_url();
    spawn_app_configured(Options::default(), move |c| {
        c.app_key = APP_KEY.into();
        c.oauth_token_url = Some(token_url.parse().unwrap());
    })
    .await
}

/// A base URL nothing listens on (Confluence down: connection refused).
/// Port 1 on loopback, as in `install.rs`: unlike a freed ephemeral port, no
/// concurrently running test can bind it meanwhile.
pub fn closed_port_base_url() -> String {
    "http://127.0.0.1:1/wiki".to_string()
}

/// Claims of a context JWT for the macro on page `page_id` in space `space_key`.
pub fn context_claims_on(client_key: &str, account: &str, page_id: &str, space_key: &str) -> Value {
    let mut c = context_claims(client_key, account);
    c["context"] = json!({"confluence": {"content": {"id": page_id}, "space": {"key": space_key}}});
    c
}

/// A signed context JWT for `account` on page `page_id` (space `DEV`).
pub fn context_token(client_key: &str, secret: &str, account: &str, page_id: &str) -> String {
    hs_token(
        Algorithm::HS256,
        secret,
        &context_claims_on(client_key, account, page_id, "DEV"),
    )
}

impl TestApp {
    /// Installs `client_key` (real signed install) with `baseUrl` = `base_url`.
    pub async fn install_at(&self, client_key: &str, secret: &str, base_url: &str) {
        let token = install_token(InstallClaims::valid(client_key, "/installed"));
        let mut body = install_body(client_key, secret);
        body["baseUrl"] = json!(base_url);
        body["displayUrl"] = json!(base_url);
        let resp = self.lifecycle("installed", Some(&token), &body).await;
        assert_eq!(
            resp.status(),
            204,
            "install of {client_key} at {base_url} refused: {}",
            resp.text().await.unwrap()
        );
    }

    /// Installs `client_key` against the fake Confluence (which learns the secret).
    pub async fn install_on(&self, fake: &FakeConfluence, client_key: &str, secret: &str) {
        fake.add_tenant(client_key, secret);
        self.install_at(client_key, secret, &fake.base_url()).await;
    }

    /// Uninstalls `client_key` through the real signed `/uninstalled`.
    pub async fn uninstall(&self, client_key: &str) {
        let token = install_token(InstallClaims::valid(client_key, "/uninstalled"));
        let mut body = install_body(client_key, "ignored");
        body["eventType"] = json!("uninstalled");
        let resp = self.lifecycle("uninstalled", Some(&token), &body).await;
        assert_eq!(resp.status(), 204, "uninstall of {client_key} refused");
    }

    /// Calls a server function whose input encoding is JSON.
    pub async fn call_fn_json(
        &self,
        name: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(&format!("/api/{name}"))).json(body);
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        req.send().await.unwrap()
    }

    /// A connection of its own to the test's database (not the app's pool).
    pub async fn db_connection(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect to the test database")
    }

    /// `SELECT COUNT(*) …` (or any single integer) against the test's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.db_connection().await;
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A publishable course with two lessons and one question of every kind,
/// in its canonical JSON form (every defaulted field spelled out, as the
/// server stores and returns it). Every answer-bearing text contains
/// `hidden-`, so a test can prove no answer reached someone who must not see it.
pub fn valid_course(title: &str) -> Value {
    canonical_course(&json!({
        "title": title,
        "description_md": "Learn **fire** safety.",
        "modules": [{
            "id": "m1",
            "title": "Basics",
            "lessons": [
                {"id": "l1", "title": "Why it matters", "body_md": "hidden-body Fires spread fast."},
                {"id": "l2", "title": "Extinguishers", "body_md": "Use the *right* one."}
            ],
            "quiz": {"questions": [
                {"id": "q1", "prompt_md": "hidden-prompt Electrical fire?", "points": 1.0,
                 "kind": {"type": "single_choice", "options": [
                    {"id": "a", "text": "hidden-water", "correct": false},
                    {"id": "b", "text": "hidden-co2", "correct": true}]}},
                {"id": "q2", "prompt_md": "Which are exits?", "points": 2.0,
                 "kind": {"type": "multiple_choice", "partial_credit": true, "options": [
                    {"id": "a", "text": "hidden-door", "correct": true},
                    {"id": "b", "text": "hidden-window", "correct": true},
                    {"id": "c", "text": "hidden-lift", "correct": false}]}},
                {"id": "q3", "prompt_md": "Smoke rises.", "points": 1.0,
                 "kind": {"type": "true_false", "answer": true}},
                {"id": "q4", "prompt_md": "Minutes to evacuate?", "points": 1.0,
                 "kind": {"type": "numeric", "answer": 4242.5, "tolerance": 0.5}},
                {"id": "q5", "prompt_md": "Assembly point?", "points": 1.0,
                 "kind": {"type": "short_text", "accepted": [
                    {"text": "hidden-car park", "mode": "case_insensitive"}]}},
                {"id": "q6", "prompt_md": "Order the steps.", "points": 1.0,
                 "kind": {"type": "ordering", "items": [
                    {"id": "i1", "text": "hidden-raise the alarm"},
                    {"id": "i2", "text": "hidden-leave"}]}},
                {"id": "q7", "prompt_md": "Match the class.", "points": 1.0,
                 "kind": {"type": "matching", "pairs": [
                    {"id": "p1", "prompt": "Class A", "answer": "hidden-wood"},
                    {"id": "p2", "prompt": "Class B", "answer": "hidden-petrol"}]}}
            ]}
        }],
        "settings": {"pass_mark_percent": 80}
    }))
}

/// `content` as the server stores it: parsed as a course and written back.
pub fn canonical_course(content: &Value) -> Value {
    let parsed: app::course::model::CourseContent =
        serde_json::from_value(content.clone()).expect("a course");
    serde_json::to_value(parsed).unwrap()
}

/// A course row as stored, read straight from the database.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCourse {
    pub page_id: String,
    pub title: String,
    pub draft: Value,
    pub draft_revision: i64,
    pub latest_version: Option<i64>,
    pub copied_from: Option<String>,
}

impl TestApp {
    /// The course `id` of tenant `client_key`, straight from the database.
    pub async fn stored_course(&self, client_key: &str, id: &str) -> Option<StoredCourse> {
        use sqlx::Row;
        let mut conn = self.db_connection().await;
        let row = sqlx::query(
            "SELECT page_id, title, draft_json, draft_revision, latest_version, copied_from \
             FROM courses WHERE client_key = $1 AND id = $2",
        )
        .bind(client_key)
        .bind(id)
        .fetch_optional(&mut conn)
        .await
        .unwrap()?;
        Some(StoredCourse {
            page_id: row.get("page_id"),
            title: row.get("title"),
            draft: serde_json::from_str(&row.get::<String, _>("draft_json")).unwrap(),
            draft_revision: row.get("draft_revision"),
            latest_version: row.get("latest_version"),
            copied_from: row.get("copied_from"),
        })
    }

    /// The published versions of a course, oldest first: (version, content).
    pub async fn stored_versions(&self, client_key: &str, id: &str) -> Vec<(i64, Value)> {
        use sqlx::Row;
        let mut conn = self.db_connection().await;
        sqlx::query(
            "SELECT version, content_json FROM course_versions \
             WHERE client_key = $1 AND course_id = $2 ORDER BY version",
        )
        .bind(client_key)
        .bind(id)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get::<i64, _>("version"),
                serde_json::from_str(&r.get::<String, _>("content_json")).unwrap(),
            )
        })
        .collect()
    }

    /// How many courses and versions tenant `client_key` has.
    pub async fn course_and_version_counts(&self, client_key: &str) -> (i64, i64) {
        let k = client_key.replace('\'', "''");
        (
            self.count(&format!(
                "SELECT COUNT(*) FROM courses WHERE client_key = '{k}'"
            ))
            .await,
            self.count(&format!(
                "SELECT COUNT(*) FROM course_versions WHERE client_key = '{k}'"
            ))
            .await,
        )
    }
}

/// A server function's answer: the status and the JSON body (a JSON string
/// holding the raw text when the body is not JSON).
pub async fn fn_reply(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

// ---------------------------------------------------------------------------
// Learner names for certificates: the fake Confluence with a user directory.
// ---------------------------------------------------------------------------

/// Gives `fake` a user directory: `GET /wiki/rest/api/user?accountId=` (the
/// app JWT verified like every other call to the fake) answers with the
/// display name from `users` (account id, display name); unknown accounts
/// get 404, and [`FakeConfluence::set_outage`] applies. Adds the tenant
/// (`SITE`-style: call `install_at` with the returned base URL).
pub async fn start_confluence_with_users(fake: &FakeConfluence, users: &[(&str, &str)]) -> String {
    for (id, name) in users {
        fake.add_user(id, name);
    }
    fake.base_url()
}

async fn fake_user(
    State(state): State<FakeState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> axum::response::Response {
    if state.outage.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if fake_verify_app_jwt(&state, &headers, "GET", &uri).is_none() {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED.into_response();
    }
    state.user_lookups.fetch_add(1, Ordering::SeqCst);
    let account = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "accountId")
        .map(|(_, v)| v.into_owned());
    let name = account.and_then(|a| {
        let users = state.users.lock().unwrap();
        users.get(&a).map(|n| (a.clone(), n.clone()))
    });
    match name {
        Some((id, name)) => axum::Json(json!({
            "type": "known",
            "accountId": id,
            "accountType": "atlassian",
            "displayName": name,
            "publicName": name,
        }))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl TestApp {
    /// Every learning record of tenant `client_key` — lesson views, attempts
    /// (every column), answers and completions — one line each, sorted: to
    /// prove that a call changed none of them.
    pub async fn learning_records(&self, client_key: &str) -> Vec<String> {
        const QUERIES: [&str; 4] = [
            "SELECT 'lesson_view ' || course_id || ' ' || account_id || ' ' || lesson_id \
                 || ' v' || CAST(version AS TEXT) || ' at ' || CAST(opened_at AS TEXT) \
             FROM lesson_views WHERE client_key = $1",
            "SELECT 'attempt ' || id || ' ' || course_id || ' ' || module_id || ' ' \
                 || account_id || ' token ' || client_token \
                 || ' v' || CAST(course_version AS TEXT) \
                 || ' page ' || COALESCE(CAST(page_version AS TEXT), '-') \
                 || ' cycle ' || CAST(cycle_version AS TEXT) \
                 || ' #' || CAST(number AS TEXT) || ' seed ' || seed \
                 || ' started ' || CAST(started_at_ms AS TEXT) \
                 || ' deadline ' || COALESCE(CAST(deadline_ms AS TEXT), '-') \
                 || ' active ' || CAST(last_activity_ms AS TEXT) \
                 || ' submitted ' || COALESCE(CAST(submitted_at_ms AS TEXT), '-') \
                 || ' score ' || COALESCE(CAST(score AS TEXT), '-') \
                 || '/' || COALESCE(CAST(max_score AS TEXT), '-') \
                 || ' ' || COALESCE(CAST(percent AS TEXT), '-') \
                 || '% passed ' || COALESCE(CAST(passed AS TEXT), '-') \
             FROM attempts WHERE client_key = $1",
            "SELECT 'answer ' || attempt_id || ' ' || question_id || ' ' || response_json \
                 || ' answered ' || CAST(answered_at_ms AS TEXT) \
                 || ' received ' || CAST(received_at_ms AS TEXT) \
             FROM attempt_answers WHERE client_key = $1",
            "SELECT 'completion ' || course_id || ' ' || account_id \
                 || ' v' || CAST(version AS TEXT) || ' at ' || CAST(completed_at AS TEXT) \
             FROM completions WHERE client_key = $1",
        ];
        let mut conn = self.db_connection().await;
        let mut out = Vec::new();
        for sql in QUERIES {
            let rows: Vec<String> = sqlx::query_scalar(sql)
                .bind(client_key)
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            out.extend(rows);
        }
        out.sort();
        out
    }
}
