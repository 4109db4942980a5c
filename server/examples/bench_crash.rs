//! Crash check for quiz submits (not a test; issue #13 item 3): `kill -9`
//! of the server in the middle of a submit load loses no acknowledged
//! submit.
//!
//! Run: `cargo run --release -p server --features dev-host --example
//! bench_crash` (part of `bash bench/run.sh`).
//!
//! The server runs in a process of its own (this program again, with
//! `BENCH_ROLE=server`) on a SQLite file; the key server and the fake
//! Confluence run here. Then:
//!
//! 1. the site is installed through the real signed `POST /installed`, a
//!    10-question course published, and `BENCH_CRASH_LEARNERS` learners
//!    (default 4,096) start an attempt each;
//! 2. 64 concurrent clients submit them; once half of the submits have
//!    been acknowledged (a 200 with a score), the server gets `SIGKILL`
//!    while the other submits are in flight;
//! 3. the server is started again on the same file, and every
//!    acknowledged submit must be there: `learning/history` of that
//!    learner shows the attempt submitted, with the score and the
//!    submission time of the acknowledgement. Submits cut off by the kill
//!    may or may not have committed (no one was told either way); they
//!    must be either absent or whole, and a retry must succeed.
//!
//! Prints `BENCH crash_acknowledged=…` and `BENCH crash_lost=…` (must be 0).

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::{
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bench_support::{
    auth, bench_config, course_content, env_or, fakes, http_client, install, publish_course,
    start_learners, Learner, SECRET,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

const CLIENTS: usize = 64;

/// The child's settings, passed in its environment.
const ENV: [&str; 5] = [
    "BENCH_DIR",
    "BENCH_DB_URL",
    "BENCH_KEYS_URL",
    "BENCH_TOKEN_URL",
    "BENCH_ADDR",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("server") {
        return serve().await;
    }
    check().await
}

/// `BENCH_ROLE=server`: the server alone, until it is killed.
async fn serve() -> anyhow::Result<()> {
    let var = |k: &str| std::env::var(k).map_err(|_| anyhow::anyhow!("{k} is not set"));
    let data_key = secrecy::SecretString::from(var("DATA_KEY")?);
    let config = bench_config(
        std::path::Path::new(&var("BENCH_DIR")?),
        &var("BENCH_DB_URL")?,
        &var("BENCH_KEYS_URL")?,
        &var("BENCH_TOKEN_URL")?,
        data_key,
        var("BENCH_ADDR")?.parse()?,
    )?;
    let application = server::Application::build(&config).await?;
    application.run_until(std::future::pending()).await
}

struct Server {
    env: Vec<(String, String)>,
    base: String,
}

impl Server {
    /// Starts the server process and waits until it answers.
    async fn spawn(&self, http: &reqwest::Client) -> anyhow::Result<Child> {
        let mut child = Command::new(std::env::current_exe()?)
            .env("BENCH_ROLE", "server")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?;
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/ready", self.base)).send().await {
                if r.status().is_success() {
                    return Ok(child);
                }
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("the server process ended: {status}");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What an acknowledged submit answered.
#[derive(Clone, Debug, PartialEq)]
struct Ack {
    score: Value,
    submitted_at_ms: Value,
}

async fn submit(http: &reqwest::Client, base: &str, l: &Learner) -> anyhow::Result<Value> {
    Ok(http
        .post(format!("{base}/api/learning/submit"))
        .header("Authorization", &l.auth)
        .json(&json!({"attempt_id": l.attempt_id, "answers": l.answers}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The learner's attempts on the bench quiz.
async fn history(
    http: &reqwest::Client,
    base: &str,
    l: &Learner,
    course_id: &str,
) -> anyhow::Result<Vec<Value>> {
    let h: Value = http
        .post(format!("{base}/api/learning/history"))
        .header("Authorization", &l.auth)
        .form(&[("course_id", course_id), ("module_id", "m0")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(h.as_array().cloned().unwrap_or_default())
}

async fn check() -> anyhow::Result<()> {
    let learners: usize = env_or("BENCH_CRASH_LEARNERS", 4096);
    let (keys_url, confluence) = fakes().await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("sc-bench-crash-{run}"));
    std::fs::create_dir_all(&dir)?;
    let _cleanup = RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let data_key = store::secrets::Keyring::generate("bench")?;
    let values = [
        dir.display().to_string(),
        format!("sqlite://{}/bench.db", dir.display()),
        keys_url.clone(),
        confluence.token_url(),
        format!("127.0.0.1:{port}"),
    ];
    let mut env: Vec<(String, String)> = ENV
        .iter()
        .zip(values)
        .map(|(k, v)| ((*k).to_owned(), v))
        .collect();
    env.push(("DATA_KEY".into(), data_key.expose_secret().to_owned()));
    env.push(("RUST_LOG".into(), "error".into()));
    let server = Server {
        env,
        base: format!("http://127.0.0.1:{port}"),
    };
    let base = server.base.clone();
    let http = http_client()?;
    let child = Arc::new(Mutex::new(Some(server.spawn(&http).await?)));
    let _kill = KillOnDrop(child.clone());

    let client_key = format!("bench-site-{run}");
    confluence.add_site(&client_key, SECRET);
    install(&http, &base, &client_key, &confluence.base_url()).await?;
    let settings = json!({"pass_mark_percent": 50, "attempt_limit": null,
                          "feedback_mode": "after_submit"});
    let course_id = publish_course(
        &http,
        &base,
        &auth(&client_key, "557058:bench-author"),
        course_content(1, 10, settings),
    )
    .await?;

    // 1. One started attempt per learner.
    let mut per_client: Vec<Vec<Learner>> = (0..CLIENTS).map(|_| Vec::new()).collect();
    let mut setups = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, course_id) = (http.clone(), base.clone(), course_id.clone());
        let auths: Vec<String> = (c..learners)
            .step_by(CLIENTS)
            .map(|i| auth(&client_key, &format!("557058:crash-{i}")))
            .collect();
        setups.push(tokio::spawn(start_learners(http, base, course_id, auths)));
    }
    for (c, s) in setups.into_iter().enumerate() {
        per_client[c] = s.await??;
    }

    // 2. Submits, and SIGKILL once half are acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let kill_at = learners / 2;
    let mut runs = Vec::new();
    for list in per_client {
        let (http, base, acked, child) = (http.clone(), base.clone(), acked.clone(), child.clone());
        runs.push(tokio::spawn(async move {
            let mut done: Vec<(Learner, Option<Ack>)> = Vec::with_capacity(list.len());
            let mut cut = false;
            for l in list {
                if cut {
                    done.push((l, None));
                    continue;
                }
                match submit(&http, &base, &l).await {
                    Ok(r) => {
                        anyhow::ensure!(r["score"].is_number(), "submit without a score: {r}");
                        let ack = Ack {
                            score: r["score"].clone(),
                            submitted_at_ms: r["submitted_at_ms"].clone(),
                        };
                        done.push((l, Some(ack)));
                        if acked.fetch_add(1, Ordering::SeqCst) + 1 == kill_at {
                            // kill -9, with the other clients' submits in flight.
                            if let Some(mut c) = child.lock().expect("not poisoned").take() {
                                c.kill()?;
                                c.wait()?;
                            }
                        }
                    }
                    Err(_) => {
                        // The server is gone: this one and the rest of the
                        // list were never acknowledged.
                        cut = true;
                        done.push((l, None));
                    }
                }
            }
            anyhow::Ok(done)
        }));
    }
    let mut all = Vec::new();
    for r in runs {
        all.extend(r.await??);
    }
    let acknowledged = all.iter().filter(|(_, a)| a.is_some()).count();
    anyhow::ensure!(
        child.lock().expect("not poisoned").is_none(),
        "the load ended before the server was killed ({acknowledged} acknowledged)"
    );

    // 3. Restart on the same file; every acknowledgement must hold.
    *child.lock().expect("not poisoned") = Some(server.spawn(&http).await?);
    let mut lost = 0usize;
    let mut committed_unacked = 0usize;
    for (l, ack) in &all {
        let h = history(&http, &base, l, &course_id).await?;
        anyhow::ensure!(h.len() == 1, "{} attempts for one learner", h.len());
        let a = &h[0];
        match ack {
            Some(ack) => {
                if a["score"] != ack.score || a["submitted_at_ms"] != ack.submitted_at_ms {
                    lost += 1;
                    eprintln!(
                        "LOST: attempt {} acknowledged with {ack:?}, after the restart {a}",
                        l.attempt_id
                    );
                }
            }
            None => {
                if a["submitted_at_ms"].is_number() {
                    anyhow::ensure!(
                        a["score"].is_number(),
                        "a submitted attempt without a score"
                    );
                    committed_unacked += 1;
                }
                // Not acknowledged: the learner's retry must succeed (and
                // return the stored result if it had committed).
                let r = submit(&http, &base, l).await?;
                anyhow::ensure!(r["score"].is_number(), "the retry has no score: {r}");
            }
        }
    }
    println!(
        "{learners} learners, 64 concurrent clients; server killed (SIGKILL) after {kill_at} \
         acknowledgements: {acknowledged} submits acknowledged before the kill, {} cut off \
         ({committed_unacked} of them had committed without an answer); after the restart \
         {lost} acknowledged submits missing or changed.",
        learners - acknowledged
    );
    println!("BENCH crash_acknowledged={acknowledged}");
    println!("BENCH crash_lost={lost}");
    anyhow::ensure!(lost == 0, "{lost} acknowledged submits were lost");
    Ok(())
}

struct KillOnDrop(Arc<Mutex<Option<Child>>>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.lock().ok().and_then(|mut c| c.take()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
