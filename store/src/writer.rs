//! SQLite: one writer thread that runs each write transaction in one hop
//! and commits the transactions queued behind each other together.
//!
//! Why: through sqlx every SQL statement is a message to the connection's
//! worker thread and a wake-up back on the async side. A graded quiz submit
//! is six statements in a transaction (BEGIN, claim, read, write, update,
//! COMMIT); `perf` on `bench/submit.sh` showed the time in the kernel
//! scheduler, not in SQLite (`sqlite3VdbeExec` ≈ 1 % of the samples). Here a
//! job is a plain function over a connection that this thread owns: its
//! statements run back to back on this thread, so a whole transaction
//! costs one hop there and one back.
//!
//! Group commit: the thread takes every job waiting in its queue (up to
//! [`BATCH`]), runs them in one `BEGIN IMMEDIATE … COMMIT`, each inside a
//! savepoint of its own (a job that fails is rolled back alone), and only
//! then answers each caller: a request is acknowledged after its commit.
//! Under WAL with `synchronous = NORMAL` a commit survives the process
//! being killed (`kill -9`); only an OS crash or power cut can lose the
//! last commits, the same as every other write of ours.
//!
//! The writer takes the store's write gate around each batch, so sqlx
//! writers and this thread queue for SQLite's single write lock in one line
//! instead of sleeping in SQLite's busy handler.
//!
//! Checkpoints (copying the WAL back into the database file, with its two
//! `fsync`s) run on a thread of their own ([`checkpointer`]), not inside
//! the writer's COMMIT where SQLite's automatic checkpoint puts them: there
//! every caller of the batch waited for the disk (the measured phase of
//! `bench/submit.sh` had them at 18 % of the samples and the p99 at ~50 ms).
//!
//! Only file databases get a writer: a second connection to `:memory:`
//! would open another, empty database ([`Writer::open`] returns `None`, and
//! the store keeps writing through sqlx).

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{mpsc, Arc},
    thread,
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

use crate::{StoreError, StoreResult};

/// The most jobs one transaction holds.
const BATCH: usize = 128;

/// A job as the writer thread holds it: run inside the batch's transaction
/// (a second time when the batch is run again, see [`run`]), then answered
/// once the transaction ended.
trait Pending: Send {
    /// Runs the job on `conn`; `true` when it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Its run failed outside the job itself (its savepoint could not be
    /// taken or ended).
    fn fail(&mut self, e: StoreError);
    /// Answers the caller: `commit` is `Ok` when the batch committed.
    fn deliver(self: Box<Self>, commit: Result<(), String>);
}

/// A [`Writer::run_then`] call in the writer's queue.
struct Call<T, F, C> {
    job: F,
    committed: C,
    answer: tokio::sync::oneshot::Sender<StoreResult<T>>,
    /// The last run's result (`None`: not run).
    outcome: Option<StoreResult<T>>,
}

impl<T, F, C> Pending for Call<T, F, C>
where
    T: Send,
    F: FnMut(&Connection) -> StoreResult<T> + Send,
    C: FnOnce(&mut T) + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let r = catch_unwind(AssertUnwindSafe(|| (self.job)(conn)))
            .unwrap_or_else(|_| Err(StoreError::Writer("a write job panicked".into())));
        let ok = r.is_ok();
        self.outcome = Some(r);
        ok
    }

    fn fail(&mut self, e: StoreError) {
        self.outcome = Some(Err(e));
    }

    fn deliver(self: Box<Self>, commit: Result<(), String>) {
        let Call {
            committed,
            answer,
            outcome,
            ..
        } = *self;
        let mut outcome =
            outcome.unwrap_or_else(|| Err(StoreError::Writer("the write was not run".into())));
        let _ = answer.send(match commit {
            Ok(()) => {
                if let Ok(value) = &mut outcome {
                    // A panic here must not take the writer down; the
                    // write itself has committed.
                    if catch_unwind(AssertUnwindSafe(|| committed(value))).is_err() {
                        tracing::error!("sqlite writer: an after-commit hook panicked");
                    }
                }
                outcome
            }
            Err(e) => Err(StoreError::Writer(e)),
        });
    }
}

type Job = Box<dyn Pending>;

/// The handle to the writer thread. Cheap to clone; the thread ends when
/// the last handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the writer's connection to the SQLite file at `path` (already
    /// created and migrated through sqlx) and starts its thread. `None` for
    /// an in-memory database.
    pub(crate) fn open(path: &str, gate: Arc<tokio::sync::Mutex<()>>) -> StoreResult<Option<Self>> {
        Self::open_with(path, gate, CHECKPOINT_AFTER, RESTART_AFTER_FRAMES)
    }

    /// [`Self::open`] with the checkpointer's wait and the WAL's length
    /// that restarts it (both shorter in tests).
    fn open_with(
        path: &str,
        gate: Arc<tokio::sync::Mutex<()>>,
        checkpoint_after: Duration,
        restart_after_frames: i64,
    ) -> StoreResult<Option<Self>> {
        if path.is_empty() || path == ":memory:" || path.contains("mode=memory") {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_err)?;
        // The same settings as the sqlx pool (`Db::connect`), but:
        // - no automatic checkpoint: the checkpointer thread does it (the
        //   pool's connections keep theirs: they write rarely, and a WAL
        //   the checkpointer keeps short seldom reaches its 1000 pages);
        // - each job's savepoint journal in memory (`temp_store`): it holds
        //   the pages the job changed, for its rollback, and spilled them
        //   to a temporary file past 64 KiB;
        // - no cache spill: a batch's changed pages stay in memory until
        //   its COMMIT writes each once to the WAL. With the default 2 MB
        //   cache a batch of submits spilled pages to the WAL mid-way and
        //   wrote them again when changed again: the writer wrote ~230 KB
        //   per submit (`/proc/<pid>/task/<tid>/io`).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; \
             PRAGMA cache_spill = OFF;",
        )
        .map_err(sql_err)?;
        // Room for the statements whose text varies with their rows (the
        // answers' insert by count, the standing's update by the columns
        // that changed) beside the fixed ones.
        conn.set_prepared_statement_cache_capacity(64);
        let ckpt = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_err)?;
        ckpt.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;")
            .map_err(sql_err)?;
        let (news, commits) = mpsc::sync_channel::<()>(1);
        let ckpt_gate = gate.clone();
        thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                checkpointer(
                    ckpt,
                    commits,
                    ckpt_gate,
                    checkpoint_after,
                    restart_after_frames,
                )
            })?;
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue, gate, news))?;
        Ok(Some(Self { jobs }))
    }

    /// Runs `job` in the writer's next transaction and returns its result
    /// once that transaction committed. An `Err` from `job` rolls back
    /// what it wrote (and only that); a panic in it is an error, not a
    /// dead writer.
    #[cfg(test)]
    pub(crate) async fn run<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.run_then(job, |_| {}).await
    }

    /// [`Self::run`], and `committed` runs on the writer thread once the
    /// job's transaction committed, before any other write can begin (the
    /// store's write gate is still held): the place to put what the job
    /// read into a cache, which no later write can then be missing from.
    /// It may take what the cache keeps out of the job's value (the caller
    /// gets the rest) rather than copy it on this thread, which every
    /// other write waits for. It does not run when the job failed or the
    /// commit did.
    ///
    /// `job` may run twice: when another job of its batch fails, the
    /// batch is rolled back and run again (see [`run`]). It must leave
    /// nothing behind but its writes, which the rollback takes back.
    pub(crate) async fn run_then<T, F, C>(&self, job: F, committed: C) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        C: FnOnce(&mut T) + Send + 'static,
    {
        let (answer, result) = tokio::sync::oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(Call {
            job,
            committed,
            answer,
            outcome: None,
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Writer("the writer thread stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Writer("the write was not run".into()))?
    }
}

/// The writer thread: batches of jobs, one transaction each. After each
/// commit it tells the checkpointer (`news`) that the WAL grew.
///
/// A batch first runs its jobs back to back with nothing between them.
/// Only when one fails (an error or a panic, both rare: a submit that
/// finds its attempt closed is no failure, it returns before it writes)
/// is the transaction rolled back and the batch run again with each job in a savepoint of its own,
/// so that the failed job's writes are taken back alone. A savepoint per
/// job on every batch made SQLite copy each page a job first touched into
/// the savepoint's journal: `perf` of `bench_submit` had that at a tenth of
/// the writer thread's time.
fn run(
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    gate: Arc<tokio::sync::Mutex<()>>,
    news: mpsc::SyncSender<()>,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let _turn = gate.blocking_lock();
        let committed = run_batch(&conn, &mut batch);
        // Answered (and the after-commit hooks run) while the gate is
        // still held: see [`Writer::run_then`].
        let ok = committed.is_ok();
        for job in batch {
            job.deliver(committed.clone());
        }
        drop(_turn);
        if ok {
            // A full channel already holds the news.
            let _ = news.try_send(());
        }
    }
}

/// Runs `batch` in one transaction (see [`run`]): `Ok` once it committed.
fn run_batch(conn: &Connection, batch: &mut [Job]) -> Result<(), String> {
    begin(conn)?;
    if batch.iter_mut().all(|job| job.run(conn)) {
        return commit(conn);
    }
    // A job failed and its writes cannot be taken out alone: all of it
    // again, each job in a savepoint. (SQLite may have ended the
    // transaction itself on some errors, so ROLLBACK's own error is moot.)
    let _ = conn.execute_batch("ROLLBACK");
    begin(conn)?;
    for job in batch.iter_mut() {
        in_savepoint(conn, job.as_mut());
    }
    commit(conn)
}

fn begin(conn: &Connection) -> Result<(), String> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
        // Nothing ran or all was rolled back: the callers get the error.
        tracing::error!(error = %e, "sqlite writer: could not begin a transaction");
        format!("could not begin a transaction: {e}")
    })
}

fn commit(conn: &Connection) -> Result<(), String> {
    conn.execute_batch("COMMIT").map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        tracing::error!(error = %e, "sqlite writer: commit failed");
        format!("commit failed: {e}")
    })
}

/// Runs `job` in a savepoint: a failed job is rolled back alone.
fn in_savepoint(conn: &Connection, job: &mut dyn Pending) {
    if let Err(e) = conn
        .prepare_cached("SAVEPOINT job")
        .and_then(|mut s| s.execute([]))
    {
        job.fail(sql_err(e));
        return;
    }
    let end = if job.run(conn) {
        conn.prepare_cached("RELEASE job")
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
    } else {
        conn.execute_batch("ROLLBACK TO job; RELEASE job")
    };
    if let Err(e) = end {
        job.fail(sql_err(e));
    }
}

/// How long the checkpointer lets commits gather after the first one it
/// hears of: a page written by many commits is copied once.
const CHECKPOINT_AFTER: Duration = Duration::from_millis(200);

/// WAL frames (pages; 4 KiB each by default) past which the checkpointer
/// takes the write gate to let the WAL start again from its beginning:
/// 64 MiB of WAL at most, plus what one wait adds.
const RESTART_AFTER_FRAMES: i64 = 16_384;

/// The checkpointer thread: once commits arrived, waits `after`, then
/// copies the WAL into the database file in two steps.
///
/// 1. A PASSIVE checkpoint beside the writer (it takes no write lock): the
///    bulk of the copying and both `fsync`s, while submits go on.
/// 2. Only once the WAL holds [`RESTART_AFTER_FRAMES`]: under the store's
///    write gate (no write running), a PASSIVE checkpoint again for the
///    frames committed meanwhile (few). With the whole WAL copied, the
///    next write starts it again from its beginning; without this step a
///    WAL written to without pause is never wholly copied, and SQLite lets
///    it grow without end. Every write waits for this step and its `fsync`
///    of the database file (`strace -T` during `bench_submit`: 2–30 ms,
///    once 200 ms), so it runs once per tens of MiB of WAL, not after
///    every wait. When writes pause, step 1 alone copies the whole WAL
///    and the next write starts it again without the gate.
///
/// Ends with the writer thread (its sender dropped). A failed checkpoint is
/// logged and tried again after the next commit: the data is safe in the
/// WAL meanwhile.
fn checkpointer(
    conn: Connection,
    commits: mpsc::Receiver<()>,
    gate: Arc<tokio::sync::Mutex<()>>,
    after: Duration,
    restart_after: i64,
) {
    // The frames in the WAL (`log` of the pragma's answer), `None` when
    // the checkpoint failed.
    let checkpoint = |step: &str| match conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
    {
        Ok(frames) => Some(frames),
        Err(e) => {
            tracing::warn!(error = %e, step, "sqlite checkpoint failed");
            None
        }
    };
    while commits.recv().is_ok() {
        thread::sleep(after);
        let frames = checkpoint("beside the writer");
        if frames.is_none_or(|f| f >= restart_after) {
            let _turn = gate.blocking_lock();
            checkpoint("between writes");
        }
    }
}

pub(crate) fn sql_err(e: rusqlite::Error) -> StoreError {
    StoreError::Writer(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("sc-writer-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let _ = std::fs::remove_file(&path);
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        )
        .unwrap();
        path.to_string_lossy().into_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_commit_together_and_a_failed_job_writes_nothing() {
        let path = temp_db("batch");
        let w = Writer::open(&path, Default::default()).unwrap().unwrap();
        let mut runs = Vec::new();
        for k in 0..200i64 {
            let w = w.clone();
            runs.push(tokio::spawn(async move {
                w.run(move |c| {
                    c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
                        .map_err(sql_err)?;
                    if k % 10 == 3 {
                        // Written, then refused: the savepoint takes it back.
                        return Err(StoreError::Conflict);
                    }
                    Ok(k)
                })
                .await
            }));
        }
        let mut ok = 0;
        for r in runs {
            match r.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(ok, 180);
        let c = Connection::open(&path).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        let bad: i64 = c
            .query_row("SELECT COUNT(*) FROM t WHERE k % 10 = 3", [], |r| r.get(0))
            .unwrap();
        assert_eq!((n, bad), (180, 0));
    }

    /// One batch for sure: a first job holds the writer thread while ten
    /// more queue behind it. The fourth of them writes and then fails, so
    /// the batch runs again with savepoints: every other job's row is there
    /// once (a second run on top of the first would hit the primary key),
    /// and the failed job's row is not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_job_in_a_batch_leaves_the_others_written_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let path = temp_db("rerun");
        let w = Writer::open(&path, Default::default()).unwrap().unwrap();
        let (started, wait_started) = std::sync::mpsc::channel::<()>();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Mutex::new(held);
        let blocker = {
            let w = w.clone();
            tokio::spawn(async move {
                w.run(move |c| {
                    let _ = started.send(());
                    let _ = held.lock().unwrap().recv();
                    c.execute("INSERT INTO t (k, v) VALUES (100, 'first')", [])
                        .map_err(sql_err)
                })
                .await
            })
        };
        wait_started.recv().unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        // `join_all` polls them in order on its first poll, and a call
        // enters the writer's queue on its first poll: queued k = 0..10.
        let (w2, runs2) = (w.clone(), runs.clone());
        let queued = tokio::spawn(async move {
            futures::future::join_all((0..10i64).map(|k| {
                let runs = runs2.clone();
                w2.run(move |c| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
                        .map_err(sql_err)?;
                    if k == 3 {
                        return Err(StoreError::Conflict);
                    }
                    Ok(k)
                })
            }))
            .await
        });
        // Let all ten reach the writer's queue, then free the writer.
        tokio::time::sleep(Duration::from_millis(200)).await;
        release.send(()).unwrap();
        assert_eq!(blocker.await.unwrap().unwrap(), 1);
        let answers = queued.await.unwrap();
        for (k, a) in answers.iter().enumerate() {
            match (k, a) {
                (3, Err(StoreError::Conflict)) => {}
                (3, other) => panic!("the failed job answered {other:?}"),
                (k, Ok(v)) => assert_eq!(*v, k as i64),
                (k, Err(e)) => panic!("job {k} failed: {e}"),
            }
        }
        // The batch ran twice: the first pass up to the failure (four
        // jobs), then all ten in savepoints.
        assert_eq!(
            runs.load(Ordering::SeqCst),
            14,
            "the ten were not one batch"
        );
        let c = Connection::open(&path).unwrap();
        let keys: Vec<i64> = c
            .prepare("SELECT k FROM t ORDER BY k")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, vec![0, 1, 2, 4, 5, 6, 7, 8, 9, 100]);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_writer_goes_on() {
        let path = temp_db("panic");
        let w = Writer::open(&path, Default::default()).unwrap().unwrap();
        let r: StoreResult<()> = w
            .run(|c| {
                c.execute("INSERT INTO t (k, v) VALUES (1, 'a')", [])
                    .map_err(sql_err)?;
                panic!("boom")
            })
            .await;
        assert!(matches!(r, Err(StoreError::Writer(_))));
        let n = w
            .run(|c| {
                c.execute("INSERT INTO t (k, v) VALUES (2, 'b')", [])
                    .map_err(sql_err)?;
                c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
                    .map_err(sql_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 1, "the panicking job's row was rolled back");
    }

    #[tokio::test]
    async fn the_after_commit_hook_runs_only_for_a_committed_job() {
        use std::sync::atomic::{AtomicI64, Ordering};
        let path = temp_db("hook");
        let w = Writer::open(&path, Default::default()).unwrap().unwrap();
        let seen = Arc::new(AtomicI64::new(0));
        let s = seen.clone();
        let n = w
            .run_then(
                |c| {
                    c.execute("INSERT INTO t (k, v) VALUES (5, 'a')", [])
                        .map_err(sql_err)?;
                    Ok(5i64)
                },
                move |v: &mut i64| s.store(*v, Ordering::SeqCst),
            )
            .await
            .unwrap();
        assert_eq!((n, seen.load(Ordering::SeqCst)), (5, 5));
        let s = seen.clone();
        let r = w
            .run_then(
                |_| Err::<i64, _>(StoreError::Conflict),
                move |_: &mut i64| s.store(-1, Ordering::SeqCst),
            )
            .await;
        assert!(matches!(r, Err(StoreError::Conflict)));
        assert_eq!(seen.load(Ordering::SeqCst), 5, "no hook for a failed job");
        // A panicking hook: the write stays committed, the writer goes on.
        let r = w
            .run_then(
                |c| {
                    c.execute("INSERT INTO t (k, v) VALUES (6, 'b')", [])
                        .map_err(sql_err)?;
                    Ok(())
                },
                |_: &mut ()| panic!("hook"),
            )
            .await;
        assert!(r.is_ok());
        let n = w
            .run(|c| {
                c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
                    .map_err(sql_err)
            })
            .await
            .unwrap();
        assert_eq!(n, 2);
    }

    /// Frames in the WAL now (a PASSIVE checkpoint reports them).
    fn wal_frames(path: &str) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap()
    }

    /// Written to without pause, the WAL is still copied back and started
    /// again once it is long: it holds about what the last checkpoint
    /// intervals wrote, not everything since the start (SQLite's own
    /// automatic checkpoint is off on the writer's connection).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_keeps_a_busy_wal_short() {
        let path = temp_db("checkpoint");
        let w = Writer::open_with(&path, Default::default(), Duration::from_millis(50), 64)
            .unwrap()
            .unwrap();
        let stop = std::time::Instant::now() + Duration::from_millis(1500);
        let mut runs = Vec::new();
        for client in 0..4i64 {
            let w = w.clone();
            runs.push(tokio::spawn(async move {
                let mut n = 0i64;
                while std::time::Instant::now() < stop {
                    let k = client * 1_000_000 + n;
                    w.run(move |c| {
                        // Two pages per row at least.
                        c.execute(
                            "INSERT INTO t (k, v) VALUES (?1, ?2)",
                            (k, "x".repeat(8000)),
                        )
                        .map_err(sql_err)
                    })
                    .await
                    .unwrap();
                    n += 1;
                }
                n
            }));
        }
        let mut rows = 0;
        for r in runs {
            rows += r.await.unwrap();
        }
        let frames = wal_frames(&path);
        assert!(
            rows > 200,
            "the writer was too slow to test this: {rows} rows"
        );
        assert!(
            frames < rows,
            "{frames} frames in the WAL after {rows} rows of two pages or more each"
        );
    }

    #[test]
    fn memory_databases_get_no_writer() {
        assert!(Writer::open(":memory:", Default::default())
            .unwrap()
            .is_none());
    }
}
