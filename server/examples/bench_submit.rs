//! Quiz-submit load benchmark (not a test; issue "Learners inline").
//!
//! Run: `bash bench/submit.sh` (SQLite, then PostgreSQL), or
//! `cargo run --release -p server --features dev-host --example bench_submit`
//! with `BENCH_DB=sqlite|postgres`.
//!
//! The real server runs in this process on loopback (2 tokio workers shared
//! with the load generator, on the machine's 2 cores). A course with a
//! 10-question quiz is published through the real authoring API. Then:
//!
//! 1. **Set-up (not measured):** `BENCH_LEARNERS_PER_CLIENT` × 64 learners
//!    (distinct account ids, each with their own context JWT) start an
//!    attempt through `learning/start-attempt`, `BENCH_WAVE` (50) learners
//!    per client at a time, so that every learner submits within the 30-s
//!    life of the permission decision their start made.
//! 2. **Measured (after each wave's set-up):** 64 concurrent clients, each
//!    on its own keep-alive connection with its requests prepared as bytes
//!    during set-up, working through its wave's learners one after
//!    another, send `learning/submit` with all ten answers in the journal:
//!    context-JWT verification, tenant lookup, view permission (cached),
//!    attempt + pinned version load, answer merge, server-side grading and
//!    the transactional graded write (answers, score, attempt state,
//!    completion).
//! 3. **Checked afterwards:** every submit returned 200 with a score; a
//!    second submit of a sample of attempts returns the same result (the
//!    idempotent path) and `learning/history` shows exactly one submitted
//!    attempt for those learners.
//!
//! Targets on 2 cores (issue #13): ≥ 5 000 submits/s on SQLite and ≥ 2 500/s
//! on PostgreSQL, p99 ≤ 20 ms.

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::time::Instant;

use bench_support::{
    course_content, env_or, percentiles_ms, permission_checks, rss_kib, start_learners, Bench,
    Conn, Learner,
};
use serde::Deserialize;
use serde_json::{json, Value};

const CLIENTS: usize = 64;

/// What the checks compare of a submit's result (the rest of it is read
/// past, not kept).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Scored {
    score: f64,
    submitted_at_ms: i64,
    passed: bool,
}

/// The `learning/submit` body of the learner's attempt with every answer.
fn submit_body(l: &Learner) -> anyhow::Result<bytes::Bytes> {
    Ok(serde_json::to_vec(&json!({"attempt_id": l.attempt_id, "answers": l.answers}))?.into())
}

/// `learning/submit` through reqwest (the checks after the measurement).
async fn submit(http: &reqwest::Client, base: &str, l: &Learner) -> anyhow::Result<Scored> {
    Ok(http
        .post(format!("{base}/api/learning/submit"))
        .header("Authorization", &l.auth)
        .header("Content-Type", "application/json")
        .body(submit_body(l)?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// A measured client's learners with their requests prepared.
struct Prepared {
    learner: Learner,
    authorization: http::HeaderValue,
    body: bytes::Bytes,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let per_client: usize = env_or("BENCH_LEARNERS_PER_CLIENT", 250);
    let db = std::env::var("BENCH_DB").unwrap_or_else(|_| "sqlite".into());
    let database_url = match db.as_str() {
        "sqlite" => None,
        "postgres" => Some(env_or(
            "BENCH_PG_URL",
            "postgres://postgres@127.0.0.1:5432/test".to_owned(),
        )),
        other => anyhow::bail!("BENCH_DB must be sqlite or postgres, not {other}"),
    };
    let bench = Bench::start(database_url).await?;
    let settings = json!({"pass_mark_percent": 50, "attempt_limit": null,
                          "feedback_mode": "after_submit"});
    let course_id = bench
        .publish_course("557058:bench-author", course_content(1, 10, settings))
        .await?;

    // Set-up and measurement alternate in waves of at most `wave` learners
    // per client: a learner's view permission, checked when the attempt
    // starts, is remembered for 30 s (`connect::authz::DECISION_TTL`), and
    // a set-up longer than that made every measured submit ask Confluence
    // again (one HTTP round trip each, which is not what this measures).
    let wave: usize = env_or("BENCH_WAVE", 50).clamp(1, per_client.max(1));
    let mut setup_secs = 0.0;
    let mut secs = 0.0;
    let mut latencies = Vec::new();
    let mut results = Vec::new();
    let mut checks = 0;
    let mut rss_before = 0;
    let mut first_wave = true;
    let mut done = 0;
    while done < per_client {
        let n = wave.min(per_client - done);
        // 1. Set-up (not measured): one started attempt per learner.
        let started = Instant::now();
        let mut setups = Vec::new();
        for c in 0..CLIENTS {
            let http = bench.http.clone();
            let base = bench.base.clone();
            let course_id = course_id.clone();
            let auths: Vec<String> = (done..done + n)
                .map(|i| bench.auth(&format!("557058:learner-{c}-{i}")))
                .collect::<Result<_, _>>()?;
            setups.push(tokio::spawn(start_learners(http, base, course_id, auths)));
        }
        let mut per_client_learners = Vec::new();
        for s in setups {
            per_client_learners.push(s.await??);
        }
        setup_secs += started.elapsed().as_secs_f64();
        if first_wave {
            // The moment to attach a profiler to the measured phases
            // (`perf record -p`): README "Measured" profiles were taken so.
            eprintln!(
                "bench_submit: first set-up done, pid {}; measuring in waves of {wave} learners per client",
                std::process::id()
            );
            rss_before = rss_kib();
            first_wave = false;
            // The planner's statistics once the tables hold a wave of
            // learners, as autovacuum would give a real server (these
            // machines run PostgreSQL without it). Without them, plans made
            // on near-empty tables stay in use: the same build ran at a third
            // of its rate on a new database (README "Measured").
            if bench.database_url.starts_with("postgres") {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&bench.database_url).await?;
                sqlx::query("ANALYZE").execute(&mut conn).await?;
                conn.close().await?;
            }
        }

        // 2. Measured: 64 concurrent clients submitting.
        // Each client's requests as bytes and its own connection, ready
        // before the clock starts (what any load generator prepares).
        let mut clients = Vec::with_capacity(per_client_learners.len());
        for learners in per_client_learners {
            let prepared = learners
                .into_iter()
                .map(|learner| {
                    Ok(Prepared {
                        authorization: http::HeaderValue::from_str(&learner.auth)?,
                        body: submit_body(&learner)?,
                        learner,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            clients.push((Conn::open(&bench.base).await?, prepared));
        }
        let checks_before = permission_checks();
        let started = Instant::now();
        let mut runs = Vec::new();
        for (mut conn, learners) in clients {
            runs.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(learners.len());
                let mut results = Vec::with_capacity(learners.len());
                for p in learners {
                    let t = Instant::now();
                    let (status, body) = conn
                        .post_json("/api/learning/submit", &p.authorization, p.body)
                        .await?;
                    latencies.push(t.elapsed().as_micros() as u64);
                    anyhow::ensure!(
                        status == http::StatusCode::OK,
                        "submit answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                    // Every answer must carry a graded score.
                    let scored: Scored = serde_json::from_slice(&body)?;
                    results.push((p.learner, scored));
                }
                anyhow::Ok((latencies, results))
            }));
        }
        for r in runs {
            let (l, res) = r.await??;
            latencies.extend(l);
            results.extend(res);
        }
        secs += started.elapsed().as_secs_f64();
        checks += permission_checks() - checks_before;
        done += n;
    }
    let rss_after = rss_kib();
    let submits = latencies.len();
    let (p50, p99) = percentiles_ms(&mut latencies);

    // 3. Checks: repeats are idempotent; one submitted attempt per learner.
    let mut passed = 0usize;
    for (l, first) in results.iter().step_by(97) {
        let again = submit(&bench.http, &bench.base, l).await?;
        anyhow::ensure!(
            &again == first,
            "a repeated submit changed the result: {first:?}, then {again:?}"
        );
        let history: Value = bench
            .http
            .post(format!("{}/api/learning/history", bench.base))
            .header("Authorization", &l.auth)
            .form(&[("course_id", course_id.as_str()), ("module_id", "m0")])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let n = history.as_array().map(Vec::len).unwrap_or_default();
        anyhow::ensure!(n == 1, "expected one attempt in the history, found {n}");
    }
    for (_, r) in &results {
        if r.passed {
            passed += 1;
        }
    }

    println!("| database | submits | submits/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    println!(
        "| {db} | {submits} | {:.0} | {p50:.2} ms | {p99:.2} ms |",
        submits as f64 / secs
    );
    println!(
        "\n{CLIENTS} concurrent clients, {per_client} learners each; set-up (start-attempt) {setup_secs:.1} s; \
         measured in waves of {wave} learners per client; \
         {passed} of {submits} attempts passed; {checks} permission checks sent to Confluence during the \
         measured phases (cache misses); RSS {} MiB before, {} MiB after.",
        rss_before / 1024,
        rss_after / 1024
    );
    if let Some(b) = bench.state.db.submit_batches() {
        println!(
            "PostgreSQL group commit: {} submits in {} batches ({:.1} per commit), {} run alone.",
            b.submits,
            b.batches,
            b.submits as f64 / b.batches.max(1) as f64,
            b.alone
        );
    }
    // For bench/run.sh.
    println!("BENCH submit_{db}_per_s={:.0}", submits as f64 / secs);
    println!("BENCH submit_{db}_p99_ms={p99:.2}");
    Ok(())
}
