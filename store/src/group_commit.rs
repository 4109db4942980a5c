//! PostgreSQL: quiz submits of many learners committed together.
//!
//! One submit alone is five statements (BEGIN, lock, read, write, COMMIT;
//! [`Db::submit_on_postgres`](crate::Db)), and `perf` put most of
//! PostgreSQL's cost of it in what every statement costs whatever it
//! does — the round trip, the executor's set-up, the commit's WAL flush —
//! rather than in the rows. Here submits queue for a *batcher*, which takes
//! the ones waiting (at most [`MAX_BATCH`], at most one per learner) and
//! runs the same five statements once for all of them, each statement
//! reading its rows from one JSON array parameter (`jsonb_to_recordset`,
//! so each statement's text is fixed and prepared once):
//!
//! 1. [`sql::BATCH_LOCK`](crate::learning) locks the open attempts among
//!    them, in key order;
//! 2. [`sql::BATCH_READ`](crate::learning) reads their stored answers and
//!    their learners' records on the course;
//! 3. each submit's merge, grade and standing are computed here
//!    ([`graded_on_records`]), by the same code as a submit alone;
//! 4. one statement writes every answer, completion, standing and score;
//! 5. COMMIT, and only then is each caller answered.
//!
//! One learner per batch, because a learner's standing is computed from
//! all their records on the course: two of their submits in one batch
//! would each be computed without the other. Two batches run at a time
//! (while one waits for PostgreSQL, the next is being read or computed),
//! never with the same learner in both.
//!
//! When a batch fails (a deadlock with another server process, say), it
//! is rolled back whole and each of its submits runs again on its own, as
//! before batches; a submit whose grade cannot be computed in the batch
//! runs on its own too. A caller is answered only after its submit
//! committed, so an acknowledged submit is as durable as one alone.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc,
    },
};

use course::learning::answers::Merge;
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::{
    learning::{
        attempt_from_row, graded_on_records, push_answer_or_record, sql, AfterSubmit, Grade,
        Graded, LearnerRecords, NewAnswer, StoredAnswer, SubmitOutcome,
    },
    reports::{status_upsert_from_json, StatusJson},
    StoreError, StoreResult,
};

/// Most submits in one batch. 64 is the benchmark's concurrency: with two
/// batches at a time, a batch rarely reaches it.
pub(crate) const MAX_BATCH: usize = 64;

/// Batches in flight at a time, each on a connection of its own.
const BATCHES_AT_ONCE: usize = 2;

/// One submit, as [`crate::Db::submit_attempt`] was given it.
pub(crate) struct Job {
    pub(crate) tenant: String,
    pub(crate) account_id: String,
    pub(crate) attempt_id: String,
    pub(crate) now_ms: i64,
    /// `(question id, response JSON, answered at)`.
    pub(crate) merge_answers: Vec<(String, String, i64)>,
    pub(crate) merge: Merge,
    pub(crate) grade: Grade,
    pub(crate) after: Option<AfterSubmit>,
}

/// What the batcher answers a submit.
pub(crate) enum Reply {
    /// Committed in a batch.
    Submitted(Box<SubmitOutcome>),
    /// The attempt was not open for this learner when the batch locked it.
    NotOpen,
    /// Not done: run it on its own (the batch failed, or this submit could
    /// not be computed in it, or the batcher is gone).
    Alone {
        grade: Grade,
        after: Option<AfterSubmit>,
    },
}

enum Message {
    Submit(Job, oneshot::Sender<Reply>),
    /// A batch finished: its learners may be in the next one.
    Finished(Vec<(String, String)>),
}

/// How submits went through the batches since the start (metrics, tests
/// and the benchmark's "submits per commit").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Batches committed with at least one submit.
    pub batches: u64,
    /// Submits committed in those batches.
    pub submits: u64,
    /// Submits sent back to run on their own (a failed batch, say).
    pub alone: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    submits: AtomicU64,
    alone: AtomicU64,
}

/// The handle submits queue through. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    queue: mpsc::UnboundedSender<Message>,
    counters: Arc<Counters>,
}

impl Batcher {
    /// Starts the batcher on the current tokio runtime. It stops when the
    /// last handle is dropped.
    pub(crate) fn start(pool: AnyPool) -> Self {
        let (queue, inbox) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        tokio::spawn(dispatch(pool, inbox, queue.downgrade(), counters.clone()));
        Self { queue, counters }
    }

    pub(crate) fn counts(&self) -> BatchCounts {
        BatchCounts {
            batches: self.counters.batches.load(Relaxed),
            submits: self.counters.submits.load(Relaxed),
            alone: self.counters.alone.load(Relaxed),
        }
    }

    /// Queues `job` and waits for its batch to commit (or fail).
    pub(crate) async fn submit(&self, job: Job) -> Reply {
        let (tx, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(Message::Submit(job, _))) =
            self.queue.send(Message::Submit(job, tx))
        {
            return Reply::Alone {
                grade: job.grade,
                after: job.after,
            };
        }
        // A batch that stopped without answering (a panic) may or may not
        // have committed: the caller reads the attempt as it is rather
        // than run the submit again.
        rx.await.unwrap_or(Reply::NotOpen)
    }
}

/// Takes waiting submits into batches, [`BATCHES_AT_ONCE`] at a time.
async fn dispatch(
    pool: AnyPool,
    mut inbox: mpsc::UnboundedReceiver<Message>,
    me: mpsc::WeakUnboundedSender<Message>,
    counters: Arc<Counters>,
) {
    let mut waiting: VecDeque<(Job, oneshot::Sender<Reply>)> = VecDeque::new();
    let mut in_flight: HashSet<(String, String)> = HashSet::new();
    let mut batches = 0usize;
    loop {
        let Some(first) = inbox.recv().await else {
            return;
        };
        let mut take = |m: Message, batches: &mut usize| match m {
            Message::Submit(job, reply) => waiting.push_back((job, reply)),
            Message::Finished(learners) => {
                *batches -= 1;
                for l in learners {
                    in_flight.remove(&l);
                }
            }
        };
        take(first, &mut batches);
        while let Ok(m) = inbox.try_recv() {
            take(m, &mut batches);
        }
        while batches < BATCHES_AT_ONCE && !waiting.is_empty() {
            let mut batch = Vec::new();
            let mut later = VecDeque::new();
            while let Some((job, reply)) = waiting.pop_front() {
                let learner = (job.tenant.clone(), job.account_id.clone());
                if batch.len() < MAX_BATCH && !in_flight.contains(&learner) {
                    in_flight.insert(learner);
                    batch.push((job, reply));
                } else {
                    later.push_back((job, reply));
                }
            }
            waiting = later;
            if batch.is_empty() {
                break;
            }
            batches += 1;
            let (pool, me, counters) = (pool.clone(), me.clone(), counters.clone());
            tokio::spawn(async move {
                let _finished = Finished {
                    learners: batch
                        .iter()
                        .map(|(j, _)| (j.tenant.clone(), j.account_id.clone()))
                        .collect(),
                    me,
                };
                run_batch(&pool, batch, &counters).await;
            });
        }
    }
}

/// Tells the dispatcher that a batch is over when dropped — also when the
/// batch's task panicked, so its learners are never left waiting.
struct Finished {
    learners: Vec<(String, String)>,
    me: mpsc::WeakUnboundedSender<Message>,
}

impl Drop for Finished {
    fn drop(&mut self) {
        if let Some(me) = self.me.upgrade() {
            let _ = me.send(Message::Finished(std::mem::take(&mut self.learners)));
        }
    }
}

/// Runs one batch and answers each of its submits.
async fn run_batch(pool: &AnyPool, batch: Vec<(Job, oneshot::Sender<Reply>)>, counters: &Counters) {
    let (jobs, replies): (Vec<Job>, Vec<oneshot::Sender<Reply>>) = batch.into_iter().unzip();
    match commit_batch(pool, &jobs).await {
        Ok(outcomes) => {
            let submitted = outcomes
                .iter()
                .filter(|o| matches!(o, Done::Submitted(_)))
                .count() as u64;
            let alone = outcomes.iter().filter(|o| matches!(o, Done::Alone)).count() as u64;
            if submitted > 0 {
                counters.batches.fetch_add(1, Relaxed);
                counters.submits.fetch_add(submitted, Relaxed);
            }
            counters.alone.fetch_add(alone, Relaxed);
            for ((job, reply), outcome) in jobs.into_iter().zip(replies).zip(outcomes) {
                let _ = reply.send(match outcome {
                    Done::Submitted(o) => Reply::Submitted(o),
                    Done::NotOpen => Reply::NotOpen,
                    Done::Alone => Reply::Alone {
                        grade: job.grade,
                        after: job.after,
                    },
                });
            }
        }
        Err(e) => {
            counters.alone.fetch_add(jobs.len() as u64, Relaxed);
            tracing::warn!(
                submits = jobs.len(),
                error = %e,
                "a batch of quiz submits could not commit; each runs on its own"
            );
            for (job, reply) in jobs.into_iter().zip(replies) {
                let _ = reply.send(Reply::Alone {
                    grade: job.grade,
                    after: job.after,
                });
            }
        }
    }
}

/// What became of one submit of a committed batch.
enum Done {
    Submitted(Box<SubmitOutcome>),
    NotOpen,
    Alone,
}

#[derive(serde::Serialize)]
struct LockRow<'a> {
    k: &'a str,
    id: &'a str,
    acc: &'a str,
}

#[derive(serde::Serialize)]
struct ReadRow<'a> {
    k: &'a str,
    c: &'a str,
    acc: &'a str,
    att: &'a str,
}

#[derive(serde::Serialize)]
struct AnswerRow<'a> {
    k: &'a str,
    att: &'a str,
    q: &'a str,
    resp: &'a str,
    at: i64,
    recv: i64,
}

#[derive(serde::Serialize)]
struct CompletionRow<'a> {
    k: &'a str,
    c: &'a str,
    acc: &'a str,
    v: i64,
    at: i64,
    cycle: i64,
}

#[derive(serde::Serialize)]
struct ScoreRow<'a> {
    xk: &'a str,
    xid: &'a str,
    xacc: &'a str,
    xat: i64,
    xscore: f64,
    xmax: f64,
    xpct: f64,
    xpassed: i64,
}

/// The batch's write: [`sql::BATCH_ANSWERS_AND_COMPLETIONS`], the
/// standings (`$3`) and [`sql::BATCH_SCORES`].
fn batch_write() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{}, standings_written AS ({} RETURNING 1){}",
            sql::BATCH_ANSWERS_AND_COMPLETIONS,
            status_upsert_from_json(3),
            sql::BATCH_SCORES
        )
    })
}

fn json<T: serde::Serialize>(rows: &[T]) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Sqlx(sqlx::Error::Encode(Box::new(e))))
}

/// The five statements for `jobs`, one outcome per job in order. An error
/// rolls the whole batch back (the transaction is dropped uncommitted).
async fn commit_batch(pool: &AnyPool, jobs: &[Job]) -> StoreResult<Vec<Done>> {
    // The batch's statements join its rows (a JSON array the planner
    // estimates at 100 rows, whatever it holds) with the learners' tables.
    // Their plans are made once per connection and kept, and a plan made
    // while a table was small joined it by reading all of it: after a
    // `bench_submit` run `pg_stat_user_tables` counted 845 sequential scans
    // of `attempt_answers` reading 66 million rows, and 3,173 of
    // `attempts`, about three per batch. A batch never holds more than
    // `MAX_BATCH` rows, so in its own transaction the planner is told to
    // find them through the keys (nested loops over index scans) whatever
    // the tables' sizes were when it planned.
    let mut tx = pool
        .begin_with(
            "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; \
             SET LOCAL enable_mergejoin = off",
        )
        .await?;
    // 1. Lock.
    let locks: Vec<LockRow<'_>> = jobs
        .iter()
        .map(|j| LockRow {
            k: &j.tenant,
            id: &j.attempt_id,
            acc: &j.account_id,
        })
        .collect();
    let locked: HashMap<(String, String), String> = sqlx::query(sql::BATCH_LOCK)
        .bind(json(&locks)?)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                (r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?),
                r.try_get::<String, _>(2)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let course_of = |j: &Job| locked.get(&(j.tenant.clone(), j.attempt_id.clone()));
    let mut done: Vec<Done> = jobs
        .iter()
        .map(|j| match course_of(j) {
            Some(_) => Done::Alone,
            None => Done::NotOpen,
        })
        .collect();
    if locked.is_empty() {
        tx.commit().await?;
        return Ok(done);
    }
    // 2. Read, grouped by attempt.
    let reads: Vec<ReadRow<'_>> = jobs
        .iter()
        .filter_map(|j| {
            course_of(j).map(|c| ReadRow {
                k: &j.tenant,
                c,
                acc: &j.account_id,
                att: &j.attempt_id,
            })
        })
        .collect();
    let mut read: HashMap<String, (Vec<StoredAnswer>, LearnerRecords)> = HashMap::new();
    for row in sqlx::query(sql::BATCH_READ)
        .bind(json(&reads)?)
        .fetch_all(&mut *tx)
        .await?
    {
        let job: String = row.try_get("job")?;
        push_answer_or_record(&row, read.entry(job).or_default())?;
    }
    // 3. Compute each submit as a submit alone would.
    let merges: Vec<Vec<NewAnswer<'_>>> = jobs
        .iter()
        .map(|j| {
            j.merge_answers
                .iter()
                .map(|(q, r, at)| NewAnswer {
                    question_id: q,
                    response_json: r,
                    answered_at_ms: *at,
                })
                .collect()
        })
        .collect();
    let mut graded: Vec<Option<Graded<'_>>> = Vec::with_capacity(jobs.len());
    for (i, j) in jobs.iter().enumerate() {
        let computed = match (course_of(j), read.remove(&j.attempt_id)) {
            // A computation that fails or panics leaves its submit to run
            // on its own after the batch; the others go on.
            (Some(_), Some((stored, records))) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    graded_on_records(
                        &j.attempt_id,
                        stored,
                        records,
                        &merges[i],
                        j.merge,
                        j.now_ms,
                        &j.grade,
                        j.after.as_ref(),
                    )
                }))
                .ok()
                .and_then(Result::ok)
            }
            _ => None,
        };
        graded.push(computed);
    }
    // 4. Write.
    let (mut answers, mut completions, mut standings, mut scores) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (j, g) in jobs.iter().zip(&graded) {
        let (Some(g), Some(course)) = (g, course_of(j)) else {
            continue;
        };
        answers.extend(g.plan.write.iter().map(|w| AnswerRow {
            k: &j.tenant,
            att: &j.attempt_id,
            q: w.question_id,
            resp: w.response_json,
            at: w.answered_at_ms,
            recv: j.now_ms,
        }));
        if let Some(settle) = &g.settled {
            if let Some(c) = &settle.completion {
                completions.push(CompletionRow {
                    k: &j.tenant,
                    c: course,
                    acc: &j.account_id,
                    v: c.version,
                    at: c.completed_at,
                    cycle: settle.cycle_start,
                });
            }
            standings.push(StatusJson::new(&j.tenant, course, &settle.status));
        }
        scores.push(ScoreRow {
            xk: &j.tenant,
            xid: &j.attempt_id,
            xacc: &j.account_id,
            xat: j.now_ms,
            xscore: g.score.score,
            xmax: g.score.max_score,
            xpct: g.score.percent,
            xpassed: i64::from(g.score.passed),
        });
    }
    // Rows another server process's batch may also write (a learner's
    // standing and completions) in key order, so two batches wait for each
    // other rather than deadlock.
    standings.sort_by_key(StatusJson::key);
    completions.sort_by_key(|c| (c.k, c.c, c.acc, c.v));
    let mut stored: HashMap<(String, String), crate::learning::Attempt> = HashMap::new();
    if !scores.is_empty() {
        for row in sqlx::query(batch_write())
            .bind(json(&answers)?)
            .bind(json(&completions)?)
            .bind(json(&standings)?)
            .bind(json(&scores)?)
            .fetch_all(&mut *tx)
            .await?
        {
            let tenant: String = row.try_get("xtenant")?;
            let attempt = attempt_from_row(&row)?;
            stored.insert((tenant, attempt.id.clone()), attempt);
        }
    }
    // Each graded submit's attempt must have been stored as predicted;
    // anything else rolls the batch back (each then runs on its own).
    for (i, (j, g)) in jobs.iter().zip(graded).enumerate() {
        let Some(g) = g else { continue };
        let attempt = stored
            .remove(&(j.tenant.clone(), j.attempt_id.clone()))
            .ok_or(StoreError::Conflict)?;
        if attempt != g.attempt {
            return Err(StoreError::Conflict);
        }
        done[i] = Done::Submitted(Box::new(SubmitOutcome::Submitted {
            attempt,
            answers: g.answers,
            kept: g.plan.kept,
            settled: g.settled,
        }));
    }
    // 5. Commit; only now is anyone answered.
    tx.commit().await?;
    Ok(done)
}
