//! Persistence: one store layer over SQLite (default, embedded) and
//! PostgreSQL (scale-out), through sqlx's `Any` driver.
//!
//! Every query is written once with `$n` placeholders, which both backends
//! accept, and values stay within the types both share (text, 64-bit
//! integers, booleans). The schema is kept in two migration folders side by
//! side (`migrations/sqlite`, `migrations/postgres`) because DDL differs.
//!
//! Tenant scoping: every function that reads or writes customer data takes a
//! [`connect::TenantKey`], which only the trust core's verifiers can create.
//! No query takes a client key from a request body, query or path.

pub mod audit;
pub mod backup;
pub mod courses;
#[cfg(feature = "demo")]
pub mod demo;
pub mod enrolments;
mod group_commit;
pub use group_commit::BatchCounts;
pub mod jobs;
pub mod languages;
pub mod learning;
pub mod privacy;
mod read_cache;
pub use read_cache::LearnerView;
pub mod reminders;
pub mod reports;
pub mod secrets;
pub mod support;
pub mod tenants;
mod writer;

/// Whether this build holds the host simulator's demo ([`Db::demo_course`],
/// [`Db::delete_course_data`]); false in release builds, and a server test
/// holds it to that.
pub const DEMO: bool = cfg!(feature = "demo");

/// Proof of when a learner's view began to be made ([`Db::learner_view`]).
#[derive(Debug)]
pub struct ViewTicket(Option<cache::Generation>);

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    Any, AnyPool, Executor, Transaction,
};

/// Which database the pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Store errors. Callers map them to responses; the text is for logs only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL scheme (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not create the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("not found")]
    NotFound,
    #[error("changed concurrently")]
    Conflict,
    #[error("secret at rest: {0}")]
    Secret(#[from] secrets::SecretError),
    #[error("sqlite writer: {0}")]
    Writer(String),
}

/// Convenience alias for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The connection pool and the backend it uses. Cheap to clone: one
/// reference count (every request clones the app state, and `perf` on the
/// read benchmark showed cloning and dropping the store's dozen shared
/// parts one by one at 5 % of the time).
#[derive(Clone, Debug)]
pub struct Db(std::sync::Arc<DbParts>);

/// What a [`Db`] shares (reached through `Deref`, inside this crate only).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct DbParts {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: one writer at a time, queued here (see [`Db::sqlite_write_gate`]).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Encrypts tenants' shared secrets at rest ([`secrets`]); without
    /// one, secrets can be neither stored nor read.
    keyring: Option<std::sync::Arc<secrets::Keyring>>,
    /// This pool's (this server process's) name as a job-lease holder.
    instance: std::sync::Arc<str>,
    /// Learners' records read recently (SQLite only: see [`read_cache`]).
    learner_reads: Option<read_cache::LearnerReads>,
    /// Course rows read recently (SQLite only, as `learner_reads`).
    course_rows: Option<read_cache::CourseRows>,
    /// Report counts kept per course ([`reports::ReportCache`]).
    reports: reports::ReportCache,
    /// SQLite file databases: the one-hop, group-committing writer
    /// ([`writer`]) for the hottest writes (quiz submits).
    writer: Option<writer::Writer>,
    /// PostgreSQL: quiz submits of many learners committed together
    /// ([`group_commit`]).
    group_commit: Option<group_commit::Batcher>,
    /// The language each person was last recorded in by this process
    /// ([`languages`]).
    seen_languages: languages::SeenLanguages,
}

impl std::ops::Deref for Db {
    type Target = DbParts;
    fn deref(&self) -> &DbParts {
        &self.0
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Opens a pool for `url`. For SQLite the file (and its folder) is
    /// created on first start.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url_with_create(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        // SQLite's pool does not ping a connection before handing it out
        // (sqlx's default does): the ping is a hop to the connection's thread
        // and back before every statement outside a transaction — `perf` of
        // `bench_submit` had it at 6 % of the request side — and a
        // connection to a file has no server that could have dropped it.
        // sqlx still pings each connection when it comes back (which also
        // flushes a dropped transaction's rollback). PostgreSQL's pool keeps
        // the ping: it replaces a connection the server closed while it was
        // idle (a restart, say) before a request fails on it, and removing
        // it bought no measurable rate (README "2026-12-02, midday").
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // SQLite allows one writer at a time (queued in-process,
                    // see `sqlite_write_gate`); two more connections serve
                    // readers under WAL. Each connection is a thread that every
                    // statement hops to and back: on 2 cores, 3 connections
                    // gave ~15% more quiz submits/s than 8 (bench/submit.sh).
                    .max_connections(3)
                    .acquire_timeout(Duration::from_secs(10))
                    // No ping before each use (see above).
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        let write_gate: std::sync::Arc<tokio::sync::Mutex<()>> = Default::default();
        let writer = match backend {
            Backend::Sqlite => writer::Writer::open(sqlite_path(&url), write_gate.clone())?,
            Backend::Postgres => None,
        };
        Ok(Self(std::sync::Arc::new(DbParts {
            group_commit: (backend == Backend::Postgres)
                .then(|| group_commit::Batcher::start(pool.clone())),
            pool,
            backend,
            write_gate,
            writer,
            keyring: None,
            seen_languages: languages::SeenLanguages::new(),
            learner_reads: (backend == Backend::Sqlite).then(read_cache::LearnerReads::new),
            course_rows: (backend == Backend::Sqlite).then(read_cache::CourseRows::new),
            instance: {
                use rand::RngCore;
                let mut id = [0u8; 8];
                rand::rngs::OsRng.fill_bytes(&mut id);
                let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                format!("{}-{hex}", std::process::id()).into()
            },
            reports: Default::default(),
        })))
    }

    /// PostgreSQL: how quiz submits went through [`group_commit`]'s
    /// batches since the start; `None` on SQLite (whose writer commits
    /// every kind of write together, [`writer`]).
    pub fn submit_batches(&self) -> Option<BatchCounts> {
        self.group_commit
            .as_ref()
            .map(group_commit::Batcher::counts)
    }

    /// The store with its data keys (see [`secrets`]).
    pub fn with_keyring(mut self, keyring: secrets::Keyring) -> Self {
        std::sync::Arc::make_mut(&mut self.0).keyring = Some(std::sync::Arc::new(keyring));
        self
    }

    pub(crate) fn keyring(&self) -> Result<&secrets::Keyring, secrets::SecretError> {
        self.keyring.as_deref().ok_or(secrets::SecretError::NoKey)
    }

    /// Applies pending migrations. The server refuses to serve when this fails.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On SQLite, waits for this process's turn to write and holds it until
    /// the guard is dropped; `None` on PostgreSQL (row locks order writers).
    ///
    /// SQLite admits one writer at a time. Without this queue, concurrent
    /// writers find the database locked and retry inside SQLite's busy
    /// handler, which sleeps with growing back-off (1 ms up to 100 ms): under
    /// load that, not the work, makes the slow tail. A FIFO queue in front of
    /// `BEGIN IMMEDIATE` hands the lock straight to the next writer.
    pub(crate) async fn sqlite_write_gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// One learner's records changed (call after the write committed).
    pub(crate) fn learner_changed(&self, tenant: &connect::TenantKey, account: &str) {
        if let Some(c) = &self.learner_reads {
            c.learner_changed(tenant.as_str(), account);
        }
    }

    /// Many learners' records (or anything else cached) changed (after
    /// the write committed).
    pub(crate) fn learners_changed(&self) {
        if let Some(c) = &self.learner_reads {
            c.all_changed();
        }
        self.courses_changed();
    }

    /// Course rows changed (after the write committed).
    pub(crate) fn courses_changed(&self) {
        if let Some(c) = &self.course_rows {
            c.changed();
        }
    }

    /// A guard that reports course rows changed when the write function
    /// holding it returns.
    pub(crate) fn courses_changed_on_exit(&self) -> CoursesChangedOnExit<'_> {
        CoursesChangedOnExit(self)
    }

    /// A guard that reports one learner's records changed when the write
    /// function holding it returns (after its commit, or its failure —
    /// also when the request is dropped half-way).
    pub(crate) fn learner_changed_on_exit<'a>(
        &'a self,
        tenant: &connect::TenantKey,
        account: &str,
    ) -> ChangedOnExit<'a> {
        ChangedOnExit {
            db: self,
            learner: self
                .learner_reads
                .is_some()
                .then(|| (tenant.clone(), account.to_owned())),
        }
    }

    /// A guard that reports many learners' records changed when the write
    /// function holding it returns.
    pub(crate) fn learners_changed_on_exit(&self) -> ChangedOnExit<'_> {
        ChangedOnExit {
            db: self,
            learner: None,
        }
    }

    /// The learner's course view as the app last encoded it from their
    /// records (SQLite only, like the records it is made from; see
    /// [`read_cache`]), and the ticket to keep a new one with
    /// ([`Self::keep_learner_view`]): take it *before* reading the records
    /// the new view is made from.
    pub fn learner_view(
        &self,
        tenant: &connect::TenantKey,
        account: &str,
        course: &str,
    ) -> (Option<std::sync::Arc<LearnerView>>, ViewTicket) {
        match &self.learner_reads {
            Some(c) => {
                let (hit, seen) = c.view(tenant.as_str(), account, course);
                (hit, ViewTicket(Some(seen)))
            }
            None => (None, ViewTicket(None)),
        }
    }

    /// Keeps `view` for the learner's next read, unless any of their records
    /// changed since `ticket` was taken (then it was made from what may be
    /// old records, and is dropped). Nothing on PostgreSQL.
    pub fn keep_learner_view(
        &self,
        tenant: &connect::TenantKey,
        account: &str,
        view: LearnerView,
        ticket: ViewTicket,
    ) {
        if let (Some(c), ViewTicket(Some(seen))) = (&self.learner_reads, ticket) {
            c.put_view(tenant.as_str(), account, std::sync::Arc::new(view), seen);
        }
    }

    /// `read` through the learner cache (see [`read_cache`]).
    async fn learner_read<F, Fut>(
        &self,
        tenant: &connect::TenantKey,
        account: &str,
        course: &str,
        what: read_cache::What,
        read: F,
    ) -> StoreResult<read_cache::Records>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = StoreResult<read_cache::Records>>,
    {
        let Some(c) = &self.learner_reads else {
            return read().await;
        };
        match c.get(tenant.as_str(), account, course, what) {
            Ok(hit) => Ok(hit),
            Err(seen) => {
                let fresh = read().await?;
                c.put(tenant.as_str(), account, course, what, fresh.clone(), seen);
                Ok(fresh)
            }
        }
    }

    /// This store's name as a job-lease holder (unique per process and pool).
    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    /// Connections open and idle (`/metrics`).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The raw pool, for the store modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Cheap liveness check for `/health`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool (tests and graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// See [`Db::courses_changed_on_exit`].
pub(crate) struct CoursesChangedOnExit<'a>(&'a Db);

impl Drop for CoursesChangedOnExit<'_> {
    fn drop(&mut self) {
        self.0.courses_changed();
    }
}

/// See [`Db::learner_changed_on_exit`].
pub(crate) struct ChangedOnExit<'a> {
    db: &'a Db,
    learner: Option<(connect::TenantKey, String)>,
}

impl Drop for ChangedOnExit<'_> {
    fn drop(&mut self) {
        match &self.learner {
            Some((tenant, account)) => self.db.learner_changed(tenant, account),
            None => self.db.learners_changed(),
        }
    }
}

/// A write transaction; on SQLite it also holds the process's writer gate
/// (see [`Db::sqlite_write_gate`]) until it is committed or dropped.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Db {
    /// A transaction that will write: `BEGIN IMMEDIATE` on SQLite (see the
    /// module docs), a plain `BEGIN` on PostgreSQL (row locks come from the
    /// first UPDATE).
    pub(crate) async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(match self.backend() {
            Backend::Sqlite => {
                let gate = self.sqlite_write_gate().await;
                WriteTx {
                    tx: self.pool().begin_with("BEGIN IMMEDIATE").await?,
                    _gate: gate,
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool().begin().await?,
                _gate: None,
            },
        })
    }
}

/// The file of a `sqlite://path?query` URL (`:memory:` for an in-memory
/// database; a shared in-memory one keeps its `mode=memory` in the query).
fn sqlite_path(url: &str) -> &str {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if query.split('&').any(|kv| kv == "mode=memory") {
        ":memory:"
    } else {
        path
    }
}

/// `sqlite://data/x.db` → ensure `data/` exists and ask SQLite to create the
/// file (`mode=rwc`) if it does not.
fn sqlite_url_with_create(url: &str) -> StoreResult<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Seconds since the Unix epoch: the one time representation both backends share.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_gain_create_mode() {
        assert_eq!(
            sqlite_url_with_create("sqlite::memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://target/x-test/a.db?cache=shared").unwrap(),
            "sqlite://target/x-test/a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://target/x-test/b.db?mode=ro").unwrap(),
            "sqlite://target/x-test/b.db?mode=ro"
        );
    }
}
