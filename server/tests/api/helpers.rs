//! Test harness: the real app on port 0 with its own database, a local
//! install-key server with fixture keys, and token builders that sign real
//! JWTs (no bypass anywhere).

use std::{net::SocketAddr, path::PathBuf};

use axum::{extract::Path, http::StatusCode, response::IntoResponse, routing::get, Router};
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
    let application = Application::build(&config).await.expect("app builds");
    let addr = application.local_addr();
    let state = application.state().clone();
    tokio::spawn(application.run_until(std::future::pending()));
    TestApp {
        addr,
        state,
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
                "qsh": app::connect::qsh::qsh("POST", path, None, ""),
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
        "qsh": app::connect::qsh::qsh("GET", path, Some(query), ""),
    })
}
