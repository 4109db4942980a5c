//! The real app on a real socket (port 0), its own database per test, and
//! the clock its learning rules tell time by.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use app::course::learning::clock::{Clock, OffsetClock};
use serde_json::Value;
use server::{Application, Config};
use sqlx::Connection;

/// The public base URL the app is configured with (as behind a proxy).
pub(crate) const BASE_URL: &str = "https://courses.example.test";

/// The app key the test app runs with (the `iss` of every app JWT it sends).
pub(crate) const APP_KEY: &str = "smart-courses";

/// Which database a test runs on: SQLite by default, PostgreSQL when
/// `SC_TEST_DB=postgres` (`scripts/test.sh` runs the suite both ways).
pub(crate) fn test_backend_is_postgres() -> bool {
    std::env::var("SC_TEST_DB")
        .map(|v| v == "postgres")
        .unwrap_or(false)
}

/// A fresh, empty database URL for one test.
pub(crate) async fn fresh_database_url() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    if test_backend_is_postgres() {
        let admin = std::env::var("SC_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
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
pub(crate) fn test_site_root() -> PathBuf {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"bundles":{"learner":"learner-test","editor":"editor-test","admin":"admin-test"},"stylesheet":"/pkg/style-test.css"}"#,
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

/// A running app.
pub(crate) struct TestApp {
    pub addr: SocketAddr,
    pub state: app::state::AppState,
    pub http: reqwest::Client,
    /// The test's own database (to check what was or was not written).
    pub database_url: String,
    /// The clock the app's learning rules tell time by: the system's, which
    /// tests move forward instead of waiting or rewriting stored timestamps.
    pub clock: OffsetClock,
}

#[derive(Default)]
pub(crate) struct Options {
    /// Key server URL; `None` spawns the fixture key server.
    pub keys_cdn_url: Option<String>,
}

/// One data key for the whole test run: two instances on one database
/// share it, as two real ones share `DATA_KEY`.
static TEST_DATA_KEY: std::sync::LazyLock<secrecy::SecretString> =
    std::sync::LazyLock::new(|| store::secrets::Keyring::generate("test").unwrap());

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub(crate) async fn spawn_app_with(opts: Options) -> TestApp {
    spawn_app_configured(opts, |_| {}).await
}

/// [`spawn_app_with`], with a last chance to change the configuration
/// (e.g. the OAuth token endpoint) before the app is built.
/// With `SC_TEST_LOG=<file>` (scripts/test.sh sets it), every test's logs
/// go to that file as the server writes them in production (JSON lines),
/// at debug level; `scripts/scan-logs.sh` then checks that no secret, token
/// or e-mail address reached a single line.
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(path) = std::env::var("SC_TEST_LOG") else {
            return;
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("SC_TEST_LOG={path}: {e}"));
        let filter = tracing_subscriber::EnvFilter::new(
            "debug,sqlx=warn,hyper=info,hyper_util=info,reqwest=info,h2=info,tower=info,rustls=info",
        );
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .with_writer(std::sync::Mutex::new(file))
            .try_init()
            .expect("one subscriber per test process");
    });
}

pub(crate) async fn spawn_app_configured(
    opts: Options,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    init_test_log();
    let keys = match opts.keys_cdn_url {
        Some(u) => u,
        None => {
            testkit::KeyServer::new(&[testkit::keys::FIXTURE_A])
                .start()
                .await
        }
    };
    let mut config = Config::from_env_and_defaults();
    config.base_url = BASE_URL.parse().unwrap();
    // Plain http here: TLS is the proxy's job (README "Operations").
    config.behind_tls_proxy = true;
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = fresh_database_url().await;
    config.data_key = Some(TEST_DATA_KEY.clone());
    config.site_root = test_site_root();
    config.keys_cdn_url = Some(keys.parse().unwrap());
    config.jwt_leeway_secs = 30;
    // Atlassian's domains, and the fake Confluence on loopback.
    config.tenant_hosts = vec!["*.atlassian.net".into(), "http://127.0.0.1:*".into()];
    // Tests call much faster than people do; the rate-limit tests set their own.
    config.rate_limit_site_per_sec = 1_000_000;
    config.rate_limit_site_burst = 1_000_000;
    config.rate_limit_user_per_sec = 1_000_000;
    config.rate_limit_user_burst = 1_000_000;
    tweak(&mut config);
    let clock = OffsetClock::new();
    let application = Application::build_with_clock(&config, Arc::new(clock.clone()))
        .await
        .expect("app builds");
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
        clock,
    }
}

/// The app, with ACT_AS_USER tokens coming from `fake`.
pub(crate) async fn spawn_app_with_confluence(fake: &FakeConfluence) -> TestApp {
    let token_url = fake.token_url();
    spawn_app_configured(Options::default(), move |c| {
        c.app_key = APP_KEY.into();
        c.oauth_token_url = Some(token_url.parse().unwrap());
    })
    .await
}

use testkit::FakeConfluence;

impl TestApp {
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// The app's clock now (milliseconds since the epoch).
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// POST a lifecycle callback with an optional `Authorization: JWT` token.
    pub(crate) async fn lifecycle(
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

    /// Calls a server function (URL-encoded form input) with a context JWT.
    pub(crate) async fn call_fn(
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

    /// [`Self::call_fn`] from a page in another language: the browser's
    /// client sends the page's `loc` as `Accept-Language`.
    pub(crate) async fn call_fn_in(
        &self,
        language: &str,
        name: &str,
        token: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/{name}")))
            .form(form)
            .header("Authorization", format!("JWT {token}"))
            .header("Accept-Language", language)
            .send()
            .await
            .unwrap()
    }

    /// [`Self::call_fn_json`] from a page in another language.
    pub(crate) async fn call_fn_json_in(
        &self,
        language: &str,
        name: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/{name}")))
            .json(body)
            .header("Authorization", format!("JWT {token}"))
            .header("Accept-Language", language)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function whose input encoding is JSON.
    pub(crate) async fn call_fn_json(
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
}

/// A server function's answer: the status and the JSON body (a JSON string
/// holding the raw text when the body is not JSON).
pub(crate) async fn fn_reply(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
