//! Load benchmark (not a test): the real server, in release mode, on
//! loopback with its own SQLite database, driven by `wrk` (Debian package).
//!
//! Run: `bash bench/load.sh` (builds in release, then runs this).
//!
//! Set-up (see `bench_support`): a tenant installed through the real signed
//! `POST /installed`, a real context JWT, a course published through the
//! real authoring server functions. It measures a context-JWT-authenticated
//! course read (`authoring/open`: JWT verification, tenant lookup,
//! permission check (cached, answered by an in-process fake Confluence),
//! course + version queries) next to `/health`: requests/s, p50, p99, and
//! the process RSS. Targets (issue "Connect trust core"): ≥ 20 000 req/s and
//! p99 ≤ 5 ms at 32 connections on 2 cores.

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::{process::Command, time::Duration};

use bench_support::{course_content, env_or, rss_kib, Bench};
use serde_json::json;

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
    let secs: u32 = env_or("BENCH_SECS", 10);
    let connections: u32 = env_or("BENCH_CONNECTIONS", 32);
    let bench = Bench::start(None).await?;
    let base = bench.base.clone();
    let content = course_content(4, 5, json!({}));
    let course_id = bench.publish_course("557058:bench-user", content).await?;
    let auth = bench.auth("557058:bench-user")?;
    let dir = bench.dir.clone();
    let lua = dir.join("post.lua");
    std::fs::write(
        &lua,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"course_id={course_id}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.headers[\"Authorization\"] = \"{auth}\"\n"
        ),
    )?;
    let check = bench
        .http
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
    Ok(())
}
