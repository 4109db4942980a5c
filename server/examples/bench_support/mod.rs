//! Shared set-up for the benchmarks in `server/examples/` (not a test):
//! the real server in this process on loopback with its own database, a
//! tenant installed through the real signed `POST /installed` (the test
//! kit's fixture key and key server), the test kit's fake Confluence
//! granting everyone view and edit on the bench page, and a course saved
//! and published through the real authoring server functions. The measured
//! request paths are the production ones.

// Each benchmark uses a part of this module.
#![allow(dead_code)]

use std::{path::PathBuf, sync::OnceLock};

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use server::{Application, Config};
use testkit::{keys, tokens, FakeConfluence, KeyServer};

/// The bench site's shared secret (the ceiling server verifies with it too).
pub(crate) const SECRET: &str = "bench-shared-secret-0123456789abcdef";
const BASE_URL: &str = "https://bench.example.test";
const PAGE: &str = "98305";

/// The fake Confluence of this process's bench (its permission checks are
/// counted: the app caches answers for 30 s per user and page; a miss is an
/// HTTP round trip).
static CONFLUENCE: OnceLock<FakeConfluence> = OnceLock::new();

/// The fake Confluence of this process's bench (users, groups and space
/// admins the benchmarks add).
pub(crate) fn confluence() -> &'static FakeConfluence {
    CONFLUENCE
        .get()
        .expect("the fake Confluence starts with the bench")
}

/// Permission checks the fake Confluence has answered.
pub(crate) fn permission_checks() -> usize {
    CONFLUENCE.get().map_or(0, |f| f.checks().len())
}

pub(crate) fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Resident set size of this process (server and load generator), KiB.
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

pub(crate) fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running server with one installed tenant.
pub(crate) struct Bench {
    pub base: String,
    pub http: reqwest::Client,
    pub dir: PathBuf,
    pub client_key: String,
    /// The database the server runs on.
    pub database_url: String,
    /// The server's state (its store and the trust core), for benchmarks
    /// that seed records below the HTTP API.
    pub state: app::state::AppState,
}

impl Bench {
    /// Starts the server on `database_url` (`None`: a fresh SQLite file in a
    /// temporary folder) and installs a tenant with a fresh client key (so
    /// runs against a shared PostgreSQL database never collide).
    pub(crate) async fn start(database_url: Option<String>) -> anyhow::Result<Self> {
        // BENCH_TRACE_SQL=1 logs every SQL statement (sqlx's own log) to
        // stderr: how the per-request statement counts in README
        // "Measured" were taken.
        if std::env::var("BENCH_TRACE_SQL").is_ok() {
            tracing_subscriber::fmt()
                .with_env_filter("sqlx::query=debug")
                .with_writer(std::io::stderr)
                .init();
        }
        let (keys_url, confluence) = fakes().await;
        let confluence_url = confluence.base_url();
        let token_url = confluence.token_url();

        let run = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("sc-bench-{run}"));
        let database_url =
            database_url.unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
        let config = bench_config(
            &dir,
            &database_url,
            &keys_url,
            &token_url,
            store::secrets::Keyring::generate("bench")?,
            "127.0.0.1:0".parse()?,
        )?;
        let application = Application::build(&config).await?;
        let addr = application.local_addr();
        let state = application.state().clone();
        tokio::spawn(application.run_until(std::future::pending()));
        let base = format!("http://{addr}");

        let client_key = format!("bench-site-{run}");
        confluence.add_site(&client_key, SECRET);
        let _ = CONFLUENCE.set(confluence);
        let http = http_client()?;
        install(&http, &base, &client_key, &confluence_url).await?;
        Ok(Self {
            base,
            http,
            dir,
            client_key,
            database_url: config.database_url.clone(),
            state,
        })
    }

    /// The bench site's client key (the `iss` of its context JWTs).
    pub(crate) fn client_key(&self) -> &str {
        &self.client_key
    }

    /// `Authorization` header value: a context JWT for `account_id` on the
    /// bench page (98305, space DEV), valid for an hour.
    pub(crate) fn auth(&self, account_id: &str) -> anyhow::Result<String> {
        Ok(auth(&self.client_key, account_id))
    }

    /// Saves and publishes `content` as `author`; the course id.
    pub(crate) async fn publish_course(
        &self,
        author: &str,
        content: Value,
    ) -> anyhow::Result<String> {
        publish_course(&self.http, &self.base, &self.auth(author)?, content).await
    }
}

/// The key server and the fake Confluence of a bench (everyone may view
/// and edit the bench page); the key server's URL.
pub(crate) async fn fakes() -> (String, FakeConfluence) {
    let keys_url = KeyServer::new(&[keys::FIXTURE_A]).start().await;
    let confluence = FakeConfluence::start().await;
    confluence.grant_everyone(PAGE, "read", true);
    confluence.grant_everyone(PAGE, "update", true);
    (keys_url, confluence)
}

/// The server's configuration for a bench: its site files and database
/// under `dir`, the fakes' URLs, the data key and the address to bind.
pub(crate) fn bench_config(
    dir: &std::path::Path,
    database_url: &str,
    keys_url: &str,
    token_url: &str,
    data_key: secrecy::SecretString,
    addr: std::net::SocketAddr,
) -> anyhow::Result<Config> {
    std::fs::create_dir_all(dir.join("site/pkg"))?;
    std::fs::write(
        dir.join("site/manifest.json"),
        r#"{"bundles":{"learner":"learner-bench","editor":"editor-bench","admin":"admin-bench"},"stylesheet":"/pkg/s.css"}"#,
    )?;
    let mut config = Config::from_env_and_defaults();
    config.base_url = BASE_URL.parse()?;
    // Plain http on loopback, as behind a TLS-terminating proxy.
    config.behind_tls_proxy = true;
    config.site_addr = addr;
    config.database_url = database_url.to_owned();
    config.site_root = dir.join("site");
    config.data_key = Some(data_key);
    config.keys_cdn_url = Some(keys_url.parse()?);
    // The benchmarks measure throughput from one site (and, for reads,
    // one user): the per-site and per-user rate limits are lifted here.
    config.rate_limit_site_per_sec = 10_000_000;
    config.rate_limit_site_burst = 10_000_000;
    config.rate_limit_user_per_sec = 10_000_000;
    config.rate_limit_user_burst = 10_000_000;
    config.tenant_hosts = vec!["http://127.0.0.1:*".into()];
    // Calls made as the user (group members, people search) get their
    // ACT_AS_USER tokens from the fake, which expects its own app key.
    config.app_key = testkit::confluence::DEFAULT_APP_KEY.into();
    config.oauth_token_url = Some(token_url.parse()?);
    Ok(config)
}

/// The benchmarks' HTTP client (many connections kept open).
pub(crate) fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?)
}

/// One keep-alive HTTP/1.1 connection of a measured client, for phases
/// where the load generator's own cost would be most of what shares the
/// cores with the server: requests are built from bytes prepared during
/// set-up and answers come back as bytes. reqwest's pool, its URL parsing
/// and a `serde_json::Value` of every answer were ~10 % of the samples of
/// `bench_submit` (README "Measured", 2026-12-02). Still real HTTP on a
/// real loopback socket to the real server.
pub(crate) struct Conn {
    send: hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    host: http::HeaderValue,
}

impl Conn {
    /// Connects to `base` (`http://127.0.0.1:<port>`).
    pub(crate) async fn open(base: &str) -> anyhow::Result<Self> {
        let addr = base
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("not an http:// base: {base}"))?;
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Self {
            send,
            host: http::HeaderValue::from_str(addr)?,
        })
    }

    /// `POST path` with a JSON `body` and `authorization`: the status and
    /// the answer's bytes.
    pub(crate) async fn post_json(
        &mut self,
        path: &str,
        authorization: &http::HeaderValue,
        body: bytes::Bytes,
    ) -> anyhow::Result<(http::StatusCode, bytes::Bytes)> {
        use http_body_util::BodyExt;
        let request = http::Request::post(path)
            .header(http::header::HOST, self.host.clone())
            .header(http::header::AUTHORIZATION, authorization.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(body))?;
        self.send.ready().await?;
        let response = self.send.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Installs the site `client_key` through the real signed `POST /installed`.
pub(crate) async fn install(
    http: &reqwest::Client,
    base: &str,
    client_key: &str,
    confluence_url: &str,
) -> anyhow::Result<()> {
    // The lifecycle routes are rate-limited per address (30 at once, then
    // a few a second): a bench installing many sites waits as told.
    loop {
        let install =
            tokens::InstallClaims::valid(client_key, "/installed", BASE_URL, keys::FIXTURE_A)
                .sign();
        let resp = http
            .post(format!("{base}/installed"))
            .header("Authorization", format!("JWT {install}"))
            .json(&tokens::install_body(client_key, SECRET, confluence_url))
            .send()
            .await?;
        if resp.status().as_u16() == 429 {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1);
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            continue;
        }
        anyhow::ensure!(
            resp.status().as_u16() == 204,
            "install failed: {}",
            resp.status()
        );
        return Ok(());
    }
}

/// `Authorization` header value: a context JWT of site `client_key` for
/// `account_id` on the bench page (98305, space DEV), valid for an hour.
pub(crate) fn auth(client_key: &str, account_id: &str) -> String {
    let token = tokens::hs_token(
        Algorithm::HS256,
        SECRET,
        &json!({"iss": client_key, "sub": account_id, "iat": now(), "exp": now() + 3600,
                "qsh": "context-qsh",
                "context": {"confluence": {"content": {"id": PAGE, "version": "3"},
                                           "space": {"key": "DEV"}}}}),
    );
    format!("JWT {token}")
}

/// Saves and publishes `content` with the author's `auth`; the course id.
pub(crate) async fn publish_course(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
    content: Value,
) -> anyhow::Result<String> {
    let saved: Value = http
        .post(format!("{base}/api/authoring/save-draft"))
        .header("Authorization", auth)
        .json(&json!({"course_id": null, "revision": 0, "content": content}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let course_id = saved["course_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!course_id.is_empty(), "save-draft returned no course id");
    http.post(format!("{base}/api/authoring/publish"))
        .header("Authorization", auth)
        .form(&[
            ("course_id", course_id.as_str()),
            ("revision", "1"),
            ("material", "false"),
        ])
        .send()
        .await?
        .error_for_status()?;
    Ok(course_id)
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A course of `modules` modules, each with three lessons and a quiz of
/// `questions` single-choice questions.
pub(crate) fn course_content(modules: usize, questions: usize, settings: Value) -> Value {
    let lesson = |i: usize| {
        json!({"id": format!("l{i}"), "title": format!("Lesson {i}"),
               "body_md": "Some **text** with a [link](https://example.com).\n\n".repeat(20)})
    };
    let question = |i: usize| {
        json!({"id": format!("q{i}"), "prompt_md": format!("Question {i}?"), "points": 1.0,
               "kind": {"type": "single_choice", "options": [
                   {"id": "a", "text": "Right", "correct": true},
                   {"id": "b", "text": "Wrong", "correct": false},
                   {"id": "c", "text": "Also wrong", "correct": false}]}})
    };
    let modules: Vec<_> = (0..modules)
        .map(|m| {
            json!({"id": format!("m{m}"), "title": format!("Module {m}"),
                   "lessons": (0..3).map(|l| lesson(m * 10 + l)).collect::<Vec<_>>(),
                   "quiz": {"questions": (0..questions).map(|q| question(m * 100 + q)).collect::<Vec<_>>()}})
        })
        .collect();
    json!({"title": "Bench course", "description_md": "A course.", "modules": modules,
           "settings": settings})
}

/// `(p50, p99)` in ms of `samples` (µs), sorted in place.
pub(crate) fn percentiles_ms(samples: &mut [u64]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i] as f64 / 1000.0
    };
    (at(0.50), at(0.99))
}

/// A learner with a started attempt and the answers they will submit.
pub(crate) struct Learner {
    pub(crate) auth: String,
    pub(crate) attempt_id: String,
    pub(crate) answers: Value,
}

/// Starts one attempt for each of `auths`, one after another; every other
/// learner answers right, so half pass (and complete the quiz) and half
/// fail.
pub(crate) async fn start_learners(
    http: reqwest::Client,
    base: String,
    course_id: String,
    auths: Vec<String>,
) -> anyhow::Result<Vec<Learner>> {
    let mut out = Vec::with_capacity(auths.len());
    for (i, auth) in auths.into_iter().enumerate() {
        let (attempt_id, answers) =
            start_attempt(&http, &base, &auth, &course_id, i % 2 == 0).await?;
        out.push(Learner {
            auth,
            attempt_id,
            answers: Value::Array(answers),
        });
    }
    Ok(out)
}

/// Starts (or resumes) `auth`'s attempt at module `m0` of the bench course
/// through `learning/start-attempt`: the attempt id and its ten answers,
/// each the right option (the first: options are not shuffled) or, with
/// `right = false`, the second.
pub(crate) async fn start_attempt(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
    course_id: &str,
    right: bool,
) -> anyhow::Result<(String, Vec<Value>)> {
    let view: Value = http
        .post(format!("{base}/api/learning/start-attempt"))
        .header("Authorization", auth)
        .form(&[
            ("course_id", course_id),
            ("module_id", "m0"),
            ("client_token", &uuid::Uuid::new_v4().to_string()),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let now = view["server_now_ms"].as_i64().unwrap_or_default();
    let answers: Vec<Value> = view["questions"]
        .as_array()
        .map(|qs| {
            qs.iter()
                .map(|q| {
                    let opt = &q["question"]["kind"]["options"][usize::from(!right)]["id"];
                    json!([q["question"]["id"], {"type": "choice", "value": [opt]}, now])
                })
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(answers.len() == 10, "attempt view without 10 questions");
    Ok((
        view["attempt_id"].as_str().unwrap_or_default().to_owned(),
        answers,
    ))
}
