//! Space-admin report benchmark (not a test; issue #11).
//!
//! Run: `bash bench/report.sh` (SQLite, then PostgreSQL), or
//! `cargo run --release -p server --features dev-host --example bench_report`
//! with `BENCH_DB=sqlite|postgres`.
//!
//! The real server runs in this process on loopback (2 tokio workers shared
//! with the load generator, on the machine's 2 cores). A course of two
//! modules (three lessons and a five-question quiz each) is published
//! through the real authoring API. Then:
//!
//! 1. **Enrolments (real API):** 10 000 learners, known to the fake
//!    Confluence by name. 2 500 come in through two group rules
//!    (`space-admin/enrol-group`: "30 days after enrolment", and a fixed
//!    date three days ago), 7 800 directly (`space-admin/enrol`, 1 000 per
//!    call) with no due date, one in the past or one in the future — 300 of
//!    them are also covered by a group rule.
//! 2. **Records (bulk SQL, one transaction):** 50 000 quiz attempts with
//!    their answers, lessons opened and completions, written row for row
//!    as the learning service writes them (an attempt is inserted open,
//!    its answers are added, then it is submitted with the score the real
//!    grading code gives), but without 100 000 HTTP round trips. Learners
//!    have a skill and a persistence drawn from a fixed-seed generator:
//!    some never start, some open lessons only, most retry a quiz until
//!    they pass or give up, some leave their last attempt open.
//! 3. **Standings:** the first report computes every learner's standing
//!    from those records with the real code (the path for records from
//!    before standings were kept); its time is printed, not measured.
//! 4. **Measured:** `BENCH_CLIENTS` (default 8) concurrent clients, each
//!    sending `BENCH_REQUESTS_PER_CLIENT` (default 100) requests one after
//!    another with a space admin's context JWT, per endpoint: the space
//!    overview, the report's first page (default order), two filtered pages
//!    (in progress by best score; overdue direct enrolments by due date),
//!    and the per-question analytics of the version.
//! 5. **Checked:** every answer against what was seeded, counted here
//!    independently of the app's SQL: 10 000 learners in all, the counts
//!    per state, the filtered totals, attempts and option counts per
//!    question in the analytics.
//!
//! Target on 2 cores: p99 ≤ 50 ms for every endpoint, on SQLite and
//! PostgreSQL (`BENCH_PG_URL`, default the local server's `postgres`
//! database: the bench makes a database of its own there and drops it).

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use app::space_admin::api::{
    CourseAnalytics, CourseReport, DueRule, LearnerState, ReasonFilter, ReportQuery, ReportSort,
    SpaceOverview,
};
use bench_support::{confluence, course_content, env_or, percentiles_ms, rss_kib, Bench};
use course::model::{CourseContent, Response};
use serde_json::{json, Value};
use sqlx::Connection;

const LEARNERS: usize = 10_000;
const ATTEMPTS: usize = 50_000;
const MODULES: usize = 2;
const QUESTIONS: usize = 5;
const PASS_MARK: u8 = 80;
const ADMIN: &str = "557058:bench-space-admin";
const AUTHOR: &str = "557058:bench-author";
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// Group rule A ("30 days after enrolment") covers learners 0..2 000.
const GROUP_A: (&str, std::ops::Range<usize>) = ("bench-new-starters", 0..2_000);
/// Group rule B (a fixed date three days ago) covers learners 1 500..2 500.
const GROUP_B: (&str, std::ops::Range<usize>) = ("bench-late-joiners", 1_500..2_500);
/// Learners 0..300 are also enrolled directly, without a due date (the
/// group rule's date stays theirs).
const DIRECT_TOO: std::ops::Range<usize> = 0..300;
/// Learners from 2 500 on are enrolled directly, 1 000 per call, each call
/// with this due date (days from now; `None`: no due date).
const DIRECT_FROM: usize = 2_500;
const DIRECT_DUE_DAYS: [Option<i64>; 8] = [
    None,
    Some(-10),
    Some(20),
    None,
    Some(-1),
    None,
    Some(45),
    Some(-30),
];

fn account(i: usize) -> String {
    format!("557058:bench-learner-{i:05}")
}

/// Whether learner `i` is enrolled directly, and whether their effective
/// due date has passed (as the enrolments above make it).
fn enrolment_of(i: usize) -> (bool, bool) {
    let direct = DIRECT_TOO.contains(&i) || i >= DIRECT_FROM;
    let past = if i >= DIRECT_FROM {
        DIRECT_DUE_DAYS[(i - DIRECT_FROM) / 1_000].is_some_and(|d| d < 0)
    } else {
        // B's date is earlier than A's, and wins where both cover someone.
        GROUP_B.1.contains(&i)
    };
    (direct, past)
}

// ---------------------------------------------------------------------------
// The seeded records
// ---------------------------------------------------------------------------

/// SplitMix64: a fixed seed gives the same records on every run and both
/// databases, so their figures compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

struct Graded {
    at_ms: i64,
    score: f64,
    max: f64,
    percent: f64,
    passed: bool,
}

struct PlannedAttempt {
    id: String,
    module: usize,
    number: i64,
    started_ms: i64,
    /// `(question index, option index, answered at)`.
    answers: Vec<(usize, usize, i64)>,
    /// `None`: still open.
    graded: Option<Graded>,
}

#[derive(Default)]
struct PlannedLearner {
    /// `(lesson id, opened at (seconds))`.
    lessons: Vec<(String, i64)>,
    attempts: Vec<PlannedAttempt>,
    completed_at: Option<i64>,
}

impl PlannedLearner {
    fn passed(&self, module: usize) -> bool {
        self.attempts
            .iter()
            .any(|a| a.module == module && a.graded.as_ref().is_some_and(|g| g.passed))
    }
}

/// What the seeded records must show, counted here (not by the app).
#[derive(Debug, Default)]
struct Expected {
    completed: u32,
    in_progress: u32,
    not_started: u32,
    overdue: u32,
    overdue_direct: u32,
    /// Submitted attempts per quiz.
    submitted: [u32; MODULES],
    open: u32,
    answers: u32,
    lesson_views: u32,
    /// Per quiz, question and option: submitted answers choosing it.
    chosen: [[[u32; 3]; QUESTIONS]; MODULES],
}

/// The records of every learner: `ATTEMPTS` attempts exactly.
fn plan(content: &CourseContent, now_ms: i64) -> anyhow::Result<Vec<PlannedLearner>> {
    let mut rng = Rng(0x5eed_2026_1130);
    let lessons: Vec<String> = content
        .modules
        .iter()
        .flat_map(|m| m.lessons.iter().map(|l| l.id.clone()))
        .collect();
    let quizzes: Vec<_> = content
        .modules
        .iter()
        .map(|m| {
            m.quiz
                .as_ref()
                .map(|q| q.questions.clone())
                .unwrap_or_default()
        })
        .collect();
    anyhow::ensure!(
        quizzes.len() == MODULES && quizzes.iter().all(|q| q.len() == QUESTIONS),
        "the bench course has {MODULES} quizzes of {QUESTIONS} questions"
    );
    let grade = |module: usize, answers: &[(usize, usize, i64)], at_ms: i64| {
        let questions = &quizzes[module];
        let responses: HashMap<String, Response> = answers
            .iter()
            .map(|(q, o, _)| {
                (
                    questions[*q].id.clone(),
                    Response::Choice(vec![option_id(*o).to_owned()]),
                )
            })
            .collect();
        let s = course::grading::score_attempt(questions, &responses);
        Graded {
            at_ms,
            score: s.score,
            max: s.max,
            percent: s.percent,
            passed: s.passes(PASS_MARK),
        }
    };
    let mut learners = Vec::with_capacity(LEARNERS);
    for _ in 0..LEARNERS {
        let mut l = PlannedLearner::default();
        if rng.unit() < 0.12 {
            learners.push(l);
            continue;
        }
        let mut t = now_ms - rng.between(8, 60) * DAY_MS - rng.between(0, DAY_MS);
        let opened = if rng.unit() < 0.8 {
            lessons.len()
        } else {
            rng.between(1, lessons.len() as i64 - 1) as usize
        };
        for id in &lessons[..opened] {
            t += rng.between(1, 30) * MINUTE_MS;
            l.lessons.push((id.clone(), t / 1000));
        }
        // Some only read.
        if rng.unit() < 0.05 {
            learners.push(l);
            continue;
        }
        let skill = 0.75f64.mul_add(rng.unit(), 0.15);
        for module in 0..MODULES {
            if module == 1 && !l.passed(0) && rng.unit() < 0.5 {
                break;
            }
            let persistence = rng.between(2, 12);
            for number in 1..=persistence {
                t += rng.between(10, 8 * 60) * MINUTE_MS;
                let started_ms = t;
                let answers: Vec<(usize, usize, i64)> = (0..QUESTIONS)
                    .map(|q| {
                        t += rng.between(10, 90) * 1000;
                        // Right with the learner's skill; of the wrong
                        // options, the second distracts more than the third.
                        let option = if rng.unit() < skill {
                            0
                        } else if rng.unit() < 0.7 {
                            1
                        } else {
                            2
                        };
                        (q, option, t)
                    })
                    .collect();
                t += 30_000;
                let graded = grade(module, &answers, t);
                let passed = graded.passed;
                l.attempts.push(PlannedAttempt {
                    id: uuid::Uuid::new_v4().to_string(),
                    module,
                    number,
                    started_ms,
                    answers,
                    graded: Some(graded),
                });
                if passed {
                    break;
                }
            }
        }
        // Some who gave up left their last attempt open, part answered.
        if let Some(last) = l.attempts.last_mut() {
            if last.graded.as_ref().is_some_and(|g| !g.passed) && rng.unit() < 0.4 {
                last.answers
                    .truncate(rng.between(0, QUESTIONS as i64 - 1) as usize);
                last.graded = None;
            }
        }
        learners.push(l);
    }
    // Exactly ATTEMPTS: the generator overshoots; learners picked at random
    // lose their latest attempts (as if they had stopped earlier).
    let mut total: usize = learners.iter().map(|l| l.attempts.len()).sum();
    anyhow::ensure!(
        total >= ATTEMPTS,
        "the generator made only {total} attempts; it must make at least {ATTEMPTS}"
    );
    while total > ATTEMPTS {
        let i = rng.between(0, LEARNERS as i64 - 1) as usize;
        if learners[i].attempts.len() >= 2 {
            learners[i].attempts.pop();
            total -= 1;
        }
    }
    // A completion is recorded when the last requirement is met: here the
    // pass of the later quiz (lessons come first).
    for l in &mut learners {
        if l.lessons.len() == lessons.len() && (0..MODULES).all(|m| l.passed(m)) {
            let at_ms = (0..MODULES)
                .filter_map(|m| {
                    l.attempts
                        .iter()
                        .filter(|a| a.module == m)
                        .find_map(|a| a.graded.as_ref().filter(|g| g.passed).map(|g| g.at_ms))
                })
                .max()
                .unwrap_or_default();
            l.completed_at = Some(at_ms / 1000);
        }
    }
    Ok(learners)
}

fn option_id(o: usize) -> &'static str {
    ["a", "b", "c"][o]
}

fn expected(learners: &[PlannedLearner]) -> Expected {
    let mut e = Expected::default();
    for (i, l) in learners.iter().enumerate() {
        let (direct, past) = enrolment_of(i);
        let complete = l.completed_at.is_some();
        if complete {
            e.completed += 1;
        } else if l.lessons.is_empty() && l.attempts.is_empty() {
            e.not_started += 1;
        } else {
            e.in_progress += 1;
        }
        if past && !complete {
            e.overdue += 1;
            if direct {
                e.overdue_direct += 1;
            }
        }
        e.lesson_views += l.lessons.len() as u32;
        for a in &l.attempts {
            e.answers += a.answers.len() as u32;
            if a.graded.is_none() {
                e.open += 1;
                continue;
            }
            e.submitted[a.module] += 1;
            for (q, o, _) in &a.answers {
                e.chosen[a.module][*q][*o] += 1;
            }
        }
    }
    e
}

/// Rows per multi-row statement. Not more: sqlx binds SQLite parameters
/// looking each up by name, which costs the square of a statement's
/// parameters (500 rows of 6 took longer than 5 statements of 100).
const ROWS_PER_INSERT: usize = 100;

/// `($1, …, $width), (…), …` for `rows` rows.
fn values(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the planned records in one transaction, statement for statement
/// what the learning service writes: `open_lesson`'s row, `create_attempt`'s
/// row, the answers `save_answer`/`submit_attempt` store (each claim of the
/// attempt moves its `last_activity_ms`), then `submit_attempt`'s graded
/// update, and `record_completion`'s row.
async fn seed(
    database_url: &str,
    client_key: &str,
    course_id: &str,
    learners: &[PlannedLearner],
) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url).await?;
    let mut tx = conn.begin().await?;

    let views: Vec<(usize, &str, i64)> = learners
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.lessons.iter().map(move |(id, at)| (i, id.as_str(), *at)))
        .collect();
    for chunk in views.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO lesson_views (client_key, course_id, account_id, lesson_id, version, \
                                       opened_at) VALUES {}",
            values(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, lesson, at) in chunk {
            q = q
                .bind(client_key)
                .bind(course_id)
                .bind(account(*i))
                .bind(*lesson)
                .bind(1_i64)
                .bind(*at);
        }
        q.execute(&mut *tx).await?;
    }

    let attempts: Vec<(usize, &PlannedAttempt)> = learners
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.attempts.iter().map(move |a| (i, a)))
        .collect();
    for chunk in attempts.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO attempts (client_key, id, course_id, module_id, account_id, \
                                   client_token, course_version, page_version, cycle_version, \
                                   number, seed, started_at_ms, deadline_ms, last_activity_ms, \
                                   checkpoint_key) VALUES {}",
            values(chunk.len(), 15)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, a) in chunk {
            let mut key = [0u8; 32];
            key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            let (hi, lo) = uuid::Uuid::new_v4().as_u64_pair();
            q = q
                .bind(client_key)
                .bind(a.id.as_str())
                .bind(course_id)
                .bind(format!("m{}", a.module))
                .bind(account(*i))
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(1_i64)
                .bind(Some(3_i64))
                .bind(1_i64)
                .bind(a.number)
                .bind((hi ^ lo).to_string())
                .bind(a.started_ms)
                .bind(None::<i64>)
                .bind(a.started_ms)
                .bind(course::learning::checkpoint::key_from_random(key));
        }
        q.execute(&mut *tx).await?;
    }

    let answers: Vec<(&PlannedAttempt, &(usize, usize, i64))> = attempts
        .iter()
        .flat_map(|(_, a)| a.answers.iter().map(move |x| (*a, x)))
        .collect();
    for chunk in answers.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO attempt_answers (client_key, attempt_id, question_id, response_json, \
                                          answered_at_ms, received_at_ms) VALUES {}",
            values(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (a, (question, option, at)) in chunk {
            let response = Response::Choice(vec![option_id(*option).to_owned()]);
            q = q
                .bind(client_key)
                .bind(a.id.as_str())
                .bind(format!("q{}", a.module * 100 + question))
                .bind(serde_json::to_string(&response)?)
                .bind(*at)
                .bind(*at);
        }
        q.execute(&mut *tx).await?;
    }

    // Each attempt's claims move `last_activity_ms` (to its last answer, and
    // to the submit); the submit stores the grade. Many rows a statement
    // (`UPDATE … FROM (VALUES …)`, columns `column1…`: both databases name
    // them so): one UPDATE per attempt would make PostgreSQL plan 50 000
    // updates of a table it has no statistics for yet.
    let last_answers: Vec<(&str, i64)> = attempts
        .iter()
        .filter(|(_, a)| a.graded.is_none())
        .filter_map(|(_, a)| a.answers.last().map(|(_, _, at)| (a.id.as_str(), *at)))
        .collect();
    for chunk in last_answers.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "UPDATE attempts SET last_activity_ms = v.column2 FROM (VALUES {}) AS v \
             WHERE attempts.client_key = ${} AND attempts.id = v.column1 \
               AND attempts.submitted_at_ms IS NULL",
            values(chunk.len(), 2),
            chunk.len() * 2 + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, at) in chunk {
            q = q.bind(*id).bind(*at);
        }
        q.bind(client_key).execute(&mut *tx).await?;
    }
    let graded: Vec<(&str, &Graded)> = attempts
        .iter()
        .filter_map(|(_, a)| a.graded.as_ref().map(|g| (a.id.as_str(), g)))
        .collect();
    for chunk in graded.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "UPDATE attempts SET last_activity_ms = v.column2, submitted_at_ms = v.column2, \
                                 score = v.column3, max_score = v.column4, percent = v.column5, \
                                 passed = v.column6 \
             FROM (VALUES {}) AS v \
             WHERE attempts.client_key = ${} AND attempts.id = v.column1 \
               AND attempts.submitted_at_ms IS NULL",
            values(chunk.len(), 6),
            chunk.len() * 6 + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, g) in chunk {
            q = q
                .bind(*id)
                .bind(g.at_ms)
                .bind(g.score)
                .bind(g.max)
                .bind(g.percent)
                .bind(i64::from(g.passed));
        }
        q.bind(client_key).execute(&mut *tx).await?;
    }

    let completions: Vec<(usize, i64)> = learners
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.completed_at.map(|at| (i, at)))
        .collect();
    for chunk in completions.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO completions (client_key, course_id, account_id, version, completed_at) \
             VALUES {}",
            values(chunk.len(), 5)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, at) in chunk {
            q = q
                .bind(client_key)
                .bind(course_id)
                .bind(account(*i))
                .bind(1_i64)
                .bind(*at);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // The planner's statistics after a bulk load (autovacuum would get
    // there too, a little later).
    if database_url.starts_with("postgres") {
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// A server-function call: a form or a JSON body.
#[derive(Clone)]
enum Call {
    Form(&'static str, Vec<(&'static str, String)>),
    Json(&'static str, Value),
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
    call: &Call,
) -> anyhow::Result<Vec<u8>> {
    let (path, req) = match call {
        Call::Form(path, form) => (path, http.post(format!("{base}/api/{path}")).form(form)),
        Call::Json(path, body) => (path, http.post(format!("{base}/api/{path}")).json(body)),
    };
    let resp = req.header("Authorization", auth).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{path}: {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(body.to_vec())
}

type Check = Arc<dyn Fn(&[u8]) -> anyhow::Result<()> + Send + Sync>;

struct Measured {
    endpoint: &'static str,
    requests: usize,
    per_sec: f64,
    p50: f64,
    p99: f64,
}

/// `clients` concurrent clients, `per_client` requests each, one after
/// another; every answer checked (after its latency is taken).
async fn measure(
    bench: &Bench,
    auth: &str,
    endpoint: &'static str,
    clients: usize,
    per_client: usize,
    call: Call,
    check: Check,
) -> anyhow::Result<Measured> {
    eprintln!("measuring {endpoint} …");
    // Warm-up (unmeasured): caches of names and permissions.
    check(&send(&bench.http, &bench.base, auth, &call).await?)?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, base, auth, call, check) = (
            bench.http.clone(),
            bench.base.clone(),
            auth.to_owned(),
            call.clone(),
            check.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                let body = send(&http, &base, &auth, &call).await?;
                latencies.push(t.elapsed().as_micros() as u64);
                check(&body)?;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    let requests = latencies.len();
    let (p50, p99) = percentiles_ms(&mut latencies);
    Ok(Measured {
        endpoint,
        requests,
        per_sec: requests as f64 / secs,
        p50,
        p99,
    })
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/// A database of the bench's own on the PostgreSQL server at `admin_url`
/// (dropped afterwards: 50 000 attempts per run would pile up otherwise).
async fn create_pg_database(admin_url: &str) -> anyhow::Result<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    let name = format!("sc_bench_report_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("BENCH_PG_URL has no database path"))?;
    Ok((format!("{base}/{name}"), name))
}

async fn drop_pg_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // The server's logs, when asked for (`RUST_LOG=warn`).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let db = std::env::var("BENCH_DB").unwrap_or_else(|_| "sqlite".into());
    let admin_url: String = env_or(
        "BENCH_PG_URL",
        "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
    );
    let pg = match db.as_str() {
        "sqlite" => None,
        "postgres" => Some(create_pg_database(&admin_url).await?),
        other => anyhow::bail!("BENCH_DB must be sqlite or postgres, not {other}"),
    };
    // Whatever happens, the bench stops: one overall limit.
    let limit = Duration::from_secs(env_or("BENCH_TIMEOUT_SECS", 1_800));
    let outcome = tokio::time::timeout(limit, run(&db, pg.as_ref().map(|(url, _)| url.clone())))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the bench did not finish in {limit:?}")));
    if let Some((_, name)) = &pg {
        if std::env::var("BENCH_KEEP_DB").is_ok() {
            println!("kept {name}");
            return outcome;
        }
        drop_pg_database(&admin_url, name).await?;
    }
    outcome
}

async fn run(db: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let clients: usize = env_or("BENCH_CLIENTS", 8);
    let per_client: usize = env_or("BENCH_REQUESTS_PER_CLIENT", 100);
    let bench = Bench::start(database_url).await?;
    let fake = confluence();
    fake.make_space_admin(ADMIN, "DEV");
    for i in 0..LEARNERS {
        fake.add_user(&account(i), &format!("Learner {i:05}"));
    }
    for (group, members) in [GROUP_A, GROUP_B] {
        for i in members {
            fake.add_to_group(group, &account(i));
        }
    }
    let settings = json!({"pass_mark_percent": PASS_MARK, "attempt_limit": null,
                          "feedback_mode": "after_submit"});
    let content_json = course_content(MODULES, QUESTIONS, settings);
    let content: CourseContent = serde_json::from_value(content_json.clone())?;
    let course_id = bench.publish_course(AUTHOR, content_json).await?;
    let admin = bench.auth(ADMIN)?;

    // 1. Enrolments through the real API.
    let started = Instant::now();
    let now = bench.state.learning.now_ms();
    let enrol = |accounts: Vec<String>, due: Option<i64>| {
        Call::Json(
            "space-admin/enrol",
            json!({"course_id": course_id, "account_ids": accounts, "due_at_ms": due}),
        )
    };
    for (group, due) in [
        (GROUP_A.0, DueRule::DaysAfter(30)),
        (GROUP_B.0, DueRule::At(now - 3 * DAY_MS)),
    ] {
        let call = Call::Json(
            "space-admin/enrol-group",
            json!({"course_id": course_id, "group": group, "due": due}),
        );
        send(&bench.http, &bench.base, &admin, &call).await?;
    }
    send(
        &bench.http,
        &bench.base,
        &admin,
        &enrol(DIRECT_TOO.map(account).collect(), None),
    )
    .await?;
    for (k, days) in DIRECT_DUE_DAYS.iter().enumerate() {
        let from = DIRECT_FROM + k * 1_000;
        let accounts = (from..(from + 1_000).min(LEARNERS)).map(account).collect();
        let due = days.map(|d| now + d * DAY_MS);
        send(&bench.http, &bench.base, &admin, &enrol(accounts, due)).await?;
    }
    let enrol_secs = started.elapsed().as_secs_f64();
    eprintln!("enrolled {LEARNERS} learners in {enrol_secs:.1} s; seeding records …");

    // 2. Records, in one transaction.
    let started = Instant::now();
    let learners = plan(&content, now)?;
    let want = expected(&learners);
    seed(
        &bench.database_url,
        &bench.client_key,
        &course_id,
        &learners,
    )
    .await?;
    drop(learners);
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_secs:.1} s; first report …");

    // 3. The first report computes the standings (not measured).
    let started = Instant::now();
    let default_page = Call::Json(
        "space-admin/course-report",
        json!({"course_id": course_id, "query": ReportQuery::default()}),
    );
    send(&bench.http, &bench.base, &admin, &default_page).await?;
    let standings_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let analytics_call = Call::Form(
        "space-admin/analytics",
        vec![("course_id", course_id.clone())],
    );
    send(&bench.http, &bench.base, &admin, &analytics_call).await?;
    let analytics_cold_ms = started.elapsed().as_secs_f64() * 1000.0;

    // 4. Measured, 5. checked.
    let want = Arc::new(want);
    let mut results = Vec::new();
    let w = want.clone();
    let overview_check: Check = Arc::new(move |body| {
        let o: SpaceOverview = serde_json::from_slice(body)?;
        let c = o
            .courses
            .first()
            .ok_or_else(|| anyhow::anyhow!("the overview lists no course"))?;
        anyhow::ensure!(
            (c.enrolled, c.in_progress, c.completed, c.overdue)
                == (LEARNERS as u32, w.in_progress, w.completed, w.overdue),
            "overview counts {:?}, seeded {:?}",
            (c.enrolled, c.in_progress, c.completed, c.overdue),
            (LEARNERS, w.in_progress, w.completed, w.overdue)
        );
        Ok(())
    });
    results.push(
        measure(
            &bench,
            &admin,
            "space-admin/overview",
            clients,
            per_client,
            Call::Form("space-admin/overview", vec![("page", "0".into())]),
            overview_check,
        )
        .await?,
    );

    let w = want.clone();
    let first_page_check: Check = Arc::new(move |body| {
        let r: CourseReport = serde_json::from_slice(body)?;
        let c = &r.counts;
        anyhow::ensure!(
            r.total == LEARNERS as u32 && r.rows.len() == 50,
            "first page: {} rows of {} (seeded {LEARNERS})",
            r.rows.len(),
            r.total
        );
        anyhow::ensure!(
            (
                c.learners,
                c.enrolled,
                c.not_started,
                c.in_progress,
                c.completed,
                c.overdue
            ) == (
                LEARNERS as u32,
                LEARNERS as u32,
                w.not_started,
                w.in_progress,
                w.completed,
                w.overdue
            ),
            "report counts {c:?}, seeded {w:?}"
        );
        // "Needs attention" first: the overdue.
        anyhow::ensure!(
            r.rows.iter().all(|x| x.overdue),
            "first page not all overdue"
        );
        Ok(())
    });
    results.push(
        measure(
            &bench,
            &admin,
            "course-report, first page",
            clients,
            per_client,
            default_page,
            first_page_check,
        )
        .await?,
    );

    let w = want.clone();
    let by_score_check: Check = Arc::new(move |body| {
        let r: CourseReport = serde_json::from_slice(body)?;
        anyhow::ensure!(
            r.total == w.in_progress,
            "in progress: {} learners, seeded {}",
            r.total,
            w.in_progress
        );
        anyhow::ensure!(
            r.rows.iter().all(|x| x.state == LearnerState::InProgress)
                && r.rows
                    .windows(2)
                    .all(|p| p[0].best_percent.unwrap_or(-1.0) >= p[1].best_percent.unwrap_or(-1.0)),
            "not in progress by best score, descending"
        );
        Ok(())
    });
    let by_score = ReportQuery {
        state: Some(LearnerState::InProgress),
        sort: ReportSort::BestScore,
        descending: true,
        ..ReportQuery::default()
    };
    results.push(
        measure(
            &bench,
            &admin,
            "course-report, in progress by best score",
            clients,
            per_client,
            Call::Json(
                "space-admin/course-report",
                json!({"course_id": course_id, "query": by_score}),
            ),
            by_score_check,
        )
        .await?,
    );

    let w = want.clone();
    let overdue_check: Check = Arc::new(move |body| {
        let r: CourseReport = serde_json::from_slice(body)?;
        anyhow::ensure!(
            r.total == w.overdue_direct,
            "overdue direct: {} learners, seeded {}",
            r.total,
            w.overdue_direct
        );
        anyhow::ensure!(
            r.rows.iter().all(|x| x.overdue && x.reasons.direct)
                && r.rows.windows(2).all(|p| p[0].due_at_ms <= p[1].due_at_ms),
            "not overdue direct enrolments by due date"
        );
        Ok(())
    });
    let overdue = ReportQuery {
        overdue_only: true,
        reason: Some(ReasonFilter::Direct),
        sort: ReportSort::DueDate,
        page: 2,
        ..ReportQuery::default()
    };
    results.push(
        measure(
            &bench,
            &admin,
            "course-report, overdue direct by due date, page 3",
            clients,
            per_client,
            Call::Json(
                "space-admin/course-report",
                json!({"course_id": course_id, "query": overdue}),
            ),
            overdue_check,
        )
        .await?,
    );

    let w = want.clone();
    let analytics_check: Check = Arc::new(move |body| {
        let a: CourseAnalytics = serde_json::from_slice(body)?;
        anyhow::ensure!(a.quizzes.len() == MODULES, "{} quizzes", a.quizzes.len());
        for (m, quiz) in a.quizzes.iter().enumerate() {
            anyhow::ensure!(
                quiz.attempts == w.submitted[m],
                "quiz {m}: {} attempts analysed, {} submitted",
                quiz.attempts,
                w.submitted[m]
            );
            for (q, question) in quiz.questions.iter().enumerate() {
                let chosen: Vec<u32> = question
                    .stats
                    .choices
                    .as_ref()
                    .map(|c| c.options.iter().map(|o| o.chosen).collect())
                    .unwrap_or_default();
                anyhow::ensure!(
                    chosen == w.chosen[m][q],
                    "quiz {m} question {q}: options chosen {chosen:?}, seeded {:?}",
                    w.chosen[m][q]
                );
            }
        }
        Ok(())
    });
    results.push(
        measure(
            &bench,
            &admin,
            "space-admin/analytics",
            clients,
            per_client,
            analytics_call,
            analytics_check,
        )
        .await?,
    );

    if let Ok(keep) = std::env::var("BENCH_KEEP_DB") {
        if db == "sqlite" {
            std::fs::copy(bench.dir.join("bench.db"), &keep)?;
            let _ = std::fs::copy(bench.dir.join("bench.db-wal"), format!("{keep}-wal"));
        }
    }
    println!("| database | endpoint | requests | req/s | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for m in &results {
        println!(
            "| {db} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            m.endpoint, m.requests, m.per_sec, m.p50, m.p99
        );
    }
    let worst = results.iter().map(|m| m.p99).fold(0.0, f64::max);
    println!(
        "\nSeeded {LEARNERS} enrolled learners ({} completed, {} in progress, {} not started, \
         {} overdue) and {ATTEMPTS} attempts ({} submitted, {} open) with {} answers and {} \
         lessons opened: enrolments through the API {enrol_secs:.1} s, records {seed_secs:.1} s; \
         first report (standings computed) {standings_secs:.1} s; first analytics \
         {analytics_cold_ms:.0} ms. {clients} concurrent clients × {per_client} requests per \
         endpoint; every answer checked. RSS {} MiB. Worst p99 {worst:.2} ms: target ≤ 50 ms {}.",
        want.completed,
        want.in_progress,
        want.not_started,
        want.overdue,
        want.submitted.iter().sum::<u32>(),
        want.open,
        want.answers,
        want.lesson_views,
        rss_kib() / 1024,
        if worst <= 50.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
