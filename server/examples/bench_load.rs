//! Load benchmark (not a test): the real server, in release mode, on
//! loopback with its own SQLite database, driven by `wrk` (Debian package).
//!
//! Run: `bash bench/load.sh` (builds in release, then runs this).
//!
//! It installs a tenant through the real signed `POST /installed` (fixture
//! key served by a local key server), mints a real context JWT, creates and
//! publishes a course through the real authoring server functions, and
//! measures a context-JWT-authenticated course read (`authoring/open`: JWT
//! verification, tenant lookup, permission check (cached, answered by an
//! in-process fake Confluence), course + version queries) next to
//! `/health`: requests/s, p50, p99, and the process RSS. Targets (issue
//! "Connect trust core"): ≥ 20 000 req/s and p99 ≤ 5 ms at 32 connections on
//! 2 cores.
//!
//! Built with the `dev-host` feature only so the tenant's Confluence may be a
//! plain-http loopback fake; the measured request path is the production one.

use std::{process::Command, time::Duration};

use axum::{
    extract::Path,
    routing::{get, post},
    Json, Router,
};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use server::{Application, Config};

const KEY: &str = include_str!("../tests/fixtures/install-key-a.pem");
const KEY_PUB: &str = include_str!("../tests/fixtures/install-key-a.pub.pem");
const KID: &str = "bench-key-1";
const CLIENT_KEY: &str = "bench-site";
const SECRET: &str = "bench-shared-secret-0123456789abcdef";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Runs wrk and returns (req/s, p50 ms, p99 ms).
fn wrk(
    url: &str,
    script: Option<&std::path::Path>,
    connections: u32,
    secs: u32,
) -> anyhow::Result<(f64, f64, f64)> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output()?;
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let ms = |label: &str| -> f64 {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(|v| {
                if let Some(x) = v.strip_suffix("us") {
                    x.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
                } else if let Some(x) = v.strip_suffix("ms") {
                    x.parse().unwrap_or(f64::NAN)
                } else if let Some(x) = v.strip_suffix('s') {
                    x.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
                } else {
                    f64::NAN
                }
            })
            .unwrap_or(f64::NAN)
    };
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let non2xx = text.lines().find(|l| l.contains("Non-2xx"));
    anyhow::ensure!(non2xx.is_none(), "errors during the run: {text}");
    Ok((rps, ms("50%"), ms("99%")))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let secs: u32 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let connections: u32 = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);

    // Local install-key server.
    let keys = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let keys_url = format!("http://{}", keys.local_addr()?);
    tokio::spawn(async move {
        let r = Router::new().route(
            "/{kid}",
            get(|Path(k): Path<String>| async move {
                if k == KID {
                    KEY_PUB
                } else {
                    ""
                }
            }),
        );
        let _ = axum::serve(keys, r).await;
    });

    // Fake Confluence: every permission check says yes.
    let confluence = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let confluence_url = format!("http://{}/wiki", confluence.local_addr()?);
    tokio::spawn(async move {
        let r = Router::new().route(
            "/wiki/rest/api/content/{id}/permission/check",
            post(|| async { Json(json!({"hasPermission": true})) }),
        );
        let _ = axum::serve(confluence, r).await;
    });

    let dir = std::env::temp_dir().join(format!("sc-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("site/pkg"))?;
    std::fs::write(
        dir.join("site/manifest.json"),
        r#"{"output_name":"frontend-bench","stylesheet":"/pkg/s.css"}"#,
    )?;
    let mut config = Config::from_env_and_defaults();
    config.base_url = "https://bench.example.test".parse()?;
    config.site_addr = "127.0.0.1:0".parse()?;
    config.database_url = format!("sqlite://{}/bench.db", dir.display());
    config.site_root = dir.join("site");
    config.keys_cdn_url = Some(keys_url.parse()?);
    let application = Application::build(&config).await?;
    let addr = application.local_addr();
    tokio::spawn(application.run_until(std::future::pending()));
    let base = format!("http://{addr}");

    // Signed install.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    let install = encode(
        &header,
        &json!({"iss": CLIENT_KEY, "aud": ["https://bench.example.test"], "iat": now(), "exp": now() + 180,
                "qsh": app::connect::qsh::qsh("POST", "/installed", None, "")}),
        &EncodingKey::from_rsa_pem(KEY.as_bytes())?,
    )?;
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}/installed"))
        .header("Authorization", format!("JWT {install}"))
        .json(&json!({"clientKey": CLIENT_KEY, "sharedSecret": SECRET, "baseUrl": confluence_url, "key": "smart-courses"}))
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().as_u16() == 204,
        "install failed: {}",
        resp.status()
    );

    let token = encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": CLIENT_KEY, "sub": "557058:bench-user", "iat": now(), "exp": now() + 3600, "qsh": "context-qsh",
                "context": {"confluence": {"content": {"id": "98305"}, "space": {"key": "DEV"}}}}),
        &EncodingKey::from_secret(SECRET.as_bytes())?,
    )?;
    // A course with a few modules, saved and published through the API.
    let auth = format!("JWT {token}");
    let lesson = |i: usize| {
        json!({"id": format!("l{i}"), "title": format!("Lesson {i}"),
               "body_md": "Some **text** with a [link](https://example.com).\n\n".repeat(20)})
    };
    let question = |i: usize| {
        json!({"id": format!("q{i}"), "prompt_md": format!("Question {i}?"), "points": 1.0,
               "kind": {"type": "single_choice", "options": [
                   {"id": "a", "text": "Right", "correct": true},
                   {"id": "b", "text": "Wrong", "correct": false}]}})
    };
    let modules: Vec<_> = (0..4)
        .map(|m| {
            json!({"id": format!("m{m}"), "title": format!("Module {m}"),
                   "lessons": (0..3).map(|l| lesson(m * 10 + l)).collect::<Vec<_>>(),
                   "quiz": {"questions": (0..5).map(|q| question(m * 10 + q)).collect::<Vec<_>>()}})
        })
        .collect();
    let content =
        json!({"title": "Bench course", "description_md": "A course.", "modules": modules});
    let saved: serde_json::Value = http
        .post(format!("{base}/api/authoring/save-draft"))
        .header("Authorization", &auth)
        .json(&json!({"course_id": null, "revision": 0, "content": content}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let course_id = saved["course_id"].as_str().unwrap_or_default().to_string();
    http.post(format!("{base}/api/authoring/publish"))
        .header("Authorization", &auth)
        .form(&[
            ("course_id", course_id.as_str()),
            ("revision", "1"),
            ("material", "false"),
        ])
        .send()
        .await?
        .error_for_status()?;

    let lua = dir.join("post.lua");
    std::fs::write(
        &lua,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"course_id={course_id}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.headers[\"Authorization\"] = \"{auth}\"\n"
        ),
    )?;
    let check = http
        .post(format!("{base}/api/authoring/open"))
        .header("Authorization", &auth)
        .form(&[("course_id", course_id.as_str())])
        .send()
        .await?;
    anyhow::ensure!(
        check.status().is_success(),
        "authenticated course read failed: {}",
        check.status()
    );

    let rss_before = rss_kib();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = {
        let base = base.clone();
        tokio::task::spawn_blocking(move || wrk(&format!("{base}/health"), None, connections, secs))
            .await??
    };
    let authed = {
        let base = base.clone();
        let lua = lua.clone();
        tokio::task::spawn_blocking(move || {
            wrk(
                &format!("{base}/api/authoring/open"),
                Some(&lua),
                connections,
                secs,
            )
        })
        .await??
    };
    let rss_after = rss_kib();
    println!("| endpoint | req/s | p50 | p99 |");
    println!("|---|---|---|---|");
    println!(
        "| GET /health (DB round trip) | {:.0} | {:.2} ms | {:.2} ms |",
        health.0, health.1, health.2
    );
    println!(
        "| POST /api/authoring/open (context JWT, tenant, permission (cached), course read) | {:.0} | {:.2} ms | {:.2} ms |",
        authed.0, authed.1, authed.2
    );
    println!("\n{connections} connections, {secs} s each, wrk -t2 on the same 2 cores; RSS {} MiB before, {} MiB after.",
        rss_before / 1024, rss_after / 1024);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
