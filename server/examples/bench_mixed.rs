//! Memory through a mixed run (not a test; issue #13 item 5): the
//! process's RSS while learners of 100 sites read courses, open lessons,
//! save answers and submit, authors open their editors and space admins
//! read reports, for `BENCH_MIXED_SECS` (default 300) seconds.
//!
//! Run: `cargo run --release -p server --features dev-host --example
//! bench_mixed` (part of `bash bench/run.sh`).
//!
//! The real server runs in this process (as in the other benchmarks) on a
//! SQLite file; `BENCH_MIXED_SITES` sites (default 100) are installed
//! through the real signed `POST /installed`, each with a published
//! two-module course and `BENCH_MIXED_LEARNERS` learners (default 20).
//! 32 clients then pick a site and a learner at random and send one of:
//!
//! | share | request |
//! |---|---|
//! | 45 % | `learning/course` |
//! | 15 % | `learning/open-lesson` |
//! | 15 % | `learning/start-attempt` + `learning/save-answer` |
//! | 10 % | `learning/start-attempt` + `learning/submit` (all ten answers) |
//! | 10 % | `authoring/open` |
//! | 5 % | `space-admin/course-report` |
//!
//! RSS (this process: server and load generator) is sampled every 250 ms.
//! Every request must succeed. Prints `BENCH mixed_rss_max_mib=…`.

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::space_admin::api::ReportQuery;
use bench_support::{
    auth, confluence, course_content, env_or, install, rss_kib, start_attempt, Bench, SECRET,
};
use serde_json::{json, Value};

const CLIENTS: usize = 32;
/// `BENCH_MIXED_ONLY=<n>`: only request kind `n` of [`OPS`] (to find which
/// one memory grows with).
static ONLY: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
const ADMIN: &str = "557058:mixed-admin";
const AUTHOR: &str = "557058:mixed-author";
const OPS: [&str; 6] = [
    "learning/course",
    "learning/open-lesson",
    "save-answer",
    "submit",
    "authoring/open",
    "space-admin/course-report",
];

struct Site {
    course_id: String,
    author: String,
    admin: String,
    learners: Vec<String>,
}

/// A small, seeded generator (the run is the same each time).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
    path: &str,
    body: Body,
) -> anyhow::Result<Value> {
    let req = http
        .post(format!("{base}/api/{path}"))
        .header("Authorization", auth);
    let req = match body {
        Body::Form(f) => req.form(&f),
        Body::Json(j) => req.json(&j),
    };
    let resp = req.send().await?;
    let status = resp.status();
    let bytes = resp.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{path}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes)?)
}

enum Body {
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

/// One request (or two) of a learner that only this client acts for (two
/// clients submitting and saving the same attempt at once would be a
/// conflict, answered 409 as it should).
async fn one(
    http: &reqwest::Client,
    base: &str,
    site: &Site,
    learner: &str,
    rng: &mut Rng,
) -> anyhow::Result<usize> {
    let course = site.course_id.clone();
    let roll = rng.below(100);
    let op = match ONLY.get().copied().flatten() {
        Some(op) => op,
        None => match roll {
            0..45 => 0,
            45..60 => 1,
            60..75 => 2,
            75..85 => 3,
            85..95 => 4,
            _ => 5,
        },
    };
    match op {
        0 => {
            post(
                http,
                base,
                learner,
                OPS[0],
                Body::Form(vec![("course_id", course)]),
            )
            .await?;
        }
        1 => {
            let lesson = format!("l{}", [0, 1, 2, 10, 11, 12][rng.below(6)]);
            post(
                http,
                base,
                learner,
                OPS[1],
                Body::Form(vec![
                    ("course_id", course),
                    ("version", "1".into()),
                    ("lesson_id", lesson),
                ]),
            )
            .await?;
        }
        2 => {
            let (attempt, answers) = start_attempt(http, base, learner, &course, true).await?;
            let a = &answers[rng.below(answers.len())];
            post(
                http,
                base,
                learner,
                "learning/save-answer",
                Body::Json(json!({"attempt_id": attempt, "question_id": a[0],
                                  "response": a[1], "answered_at_ms": a[2]})),
            )
            .await?;
        }
        3 => {
            let (attempt, answers) =
                start_attempt(http, base, learner, &course, rng.below(2) == 0).await?;
            let r = post(
                http,
                base,
                learner,
                "learning/submit",
                Body::Json(json!({"attempt_id": attempt, "answers": answers})),
            )
            .await?;
            anyhow::ensure!(r["score"].is_number(), "submit without a score: {r}");
        }
        4 => {
            post(
                http,
                base,
                &site.author,
                OPS[4],
                Body::Form(vec![("course_id", course)]),
            )
            .await?;
        }
        _ => {
            post(
                http,
                base,
                &site.admin,
                OPS[5],
                Body::Json(json!({"course_id": course, "query": ReportQuery::default()})),
            )
            .await?;
        }
    }
    Ok(op)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let sites_n: usize = env_or("BENCH_MIXED_SITES", 100);
    let learners_n: usize = env_or("BENCH_MIXED_LEARNERS", 20);
    let secs: u64 = env_or("BENCH_MIXED_SECS", 300);
    let _ = ONLY.set(
        std::env::var("BENCH_MIXED_ONLY")
            .ok()
            .and_then(|v| v.parse().ok()),
    );
    let bench = Bench::start(None).await?;
    let fake = confluence();
    fake.make_space_admin(ADMIN, "DEV");
    let settings = json!({"pass_mark_percent": 50, "attempt_limit": null,
                          "feedback_mode": "after_submit"});
    let started = Instant::now();
    let mut sites = Vec::with_capacity(sites_n);
    for s in 0..sites_n {
        let key = if s == 0 {
            bench.client_key().to_owned()
        } else {
            let key = format!("{}-{s}", bench.client_key());
            fake.add_site(&key, SECRET);
            install(&bench.http, &bench.base, &key, &fake.base_url()).await?;
            key
        };
        let author = auth(&key, AUTHOR);
        let course_id = bench_support::publish_course(
            &bench.http,
            &bench.base,
            &author,
            course_content(2, 10, settings.clone()),
        )
        .await?;
        sites.push(Site {
            course_id,
            admin: auth(&key, ADMIN),
            author,
            learners: (0..learners_n)
                .map(|l| auth(&key, &format!("557058:mixed-{s}-{l}")))
                .collect(),
        });
    }
    let setup_secs = started.elapsed().as_secs_f64();
    let sites = Arc::new(sites);

    let rss_start = rss_kib();
    let rss_max = Arc::new(AtomicU64::new(rss_start));
    let stop = Arc::new(AtomicBool::new(false));
    // The fake Confluence (in this process) keeps a log of every request
    // it answers; every report asks it for the page's current space (a
    // page may have moved), so the log is emptied as the run goes: what is
    // measured is the server's memory, not the fake's.
    let confluence_calls = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (rss_max, stop, calls) = (rss_max.clone(), stop.clone(), confluence_calls.clone());
        tokio::spawn(async move {
            let t0 = Instant::now();
            let mut next_report = 30;
            while !stop.load(Ordering::Relaxed) {
                calls.fetch_add(confluence().requests().len() as u64, Ordering::Relaxed);
                confluence().clear_log();
                let now = rss_kib();
                rss_max.fetch_max(now, Ordering::Relaxed);
                if t0.elapsed().as_secs() >= next_report {
                    eprintln!("{next_report:>4} s: RSS {} MiB", now / 1024);
                    next_report += 30;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, sites) = (bench.http.clone(), bench.base.clone(), sites.clone());
        runs.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
            let mut counts = [0usize; OPS.len()];
            // This client's learners: every CLIENTS-th of all sites' learners.
            let per_site = sites[0].learners.len();
            let mine: Vec<(usize, usize)> = (c..sites.len() * per_site)
                .step_by(CLIENTS)
                .map(|g| (g / per_site, g % per_site))
                .collect();
            while Instant::now() < deadline {
                let (s, l) = mine[rng.below(mine.len())];
                let site = &sites[s];
                counts[one(&http, &base, site, &site.learners[l], &mut rng).await?] += 1;
            }
            anyhow::Ok(counts)
        }));
    }
    let mut counts = [0usize; OPS.len()];
    for r in runs {
        for (all, n) in counts.iter_mut().zip(r.await??) {
            *all += n;
        }
    }
    stop.store(true, Ordering::Relaxed);
    sampler.await?;
    let rss_end = rss_kib();
    let max = rss_max.load(Ordering::Relaxed).max(rss_end);
    let total: usize = counts.iter().sum();

    println!("| request | count |");
    println!("|---|---|");
    for (op, n) in OPS.iter().zip(counts) {
        println!("| {op} | {n} |");
    }
    println!(
        "\n{sites_n} sites × {learners_n} learners, {CLIENTS} clients, {secs} s: {total} requests \
         ({:.0}/s), all succeeded, {} calls to Confluence; set-up {setup_secs:.1} s. RSS {} MiB \
         at the start, **{} MiB at most**, {} MiB at the end.",
        total as f64 / secs as f64,
        confluence_calls.load(Ordering::Relaxed),
        rss_start / 1024,
        max / 1024,
        rss_end / 1024
    );
    println!("BENCH mixed_rss_max_mib={}", max.div_ceil(1024));
    Ok(())
}
