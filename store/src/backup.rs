//! Logical backups: a consistent snapshot of every table, and its restore
//! into an empty database (issue #12 item 3; the encryption, files and
//! schedule are in `server/src/backup.rs`).
//!
//! **Consistency.** The snapshot is read in one transaction: on PostgreSQL
//! `REPEATABLE READ, READ ONLY` (every statement sees the same snapshot); on
//! SQLite one read transaction under WAL, which sees the database as of its
//! first read while writers go on. So a backup taken under load never holds
//! an answer without its attempt, or an attempt without its course version.
//!
//! **Format.** JSON lines (the server gzips and encrypts them): a header
//! (format, schema version, source backend), then per table a `table` line,
//! one `row` line per row and an `end` line with the row count, and a final
//! `done` line. Values are typed cells; reals are written as their shortest
//! exact decimal (Rust's `Display`), so a restored score is bit-identical.
//! The format is the same for both backends, and restore binds each value
//! as its destination column's type, so a backup is meant to move between
//! them (the tests restore within each backend; across them only an empty
//! schema was tried).
//!
//! **Restore** refuses a database that holds data or whose schema is newer
//! than the backup's; it migrates an empty database to the backup's schema
//! version, loads every row in one transaction (all or nothing: a truncated
//! or corrupt file writes nothing), and leaves the newer migrations to the
//! caller's [`Db::migrate`]. Triggers are suspended inside that transaction
//! only: the rows were checked when first written, and the immutability
//! triggers would otherwise refuse answers of submitted attempts.
//!
//! Tenant shared secrets stay sealed under the data key ([`crate::secrets`]):
//! the restored server needs the same `DATA_KEY` (or it in
//! `DATA_KEY_PREVIOUS`).

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Column, Row, TypeInfo, ValueRef};
use tokio::sync::mpsc;

use crate::{Backend, Db, StoreError};

/// The header's `format` value.
pub const FORMAT: &str = "smart-courses-backup";
/// The line format's version (not the database schema's).
pub const FORMAT_VERSION: u32 = 1;

/// Every table that holds data, parents before children: restoring in this
/// order satisfies every foreign key. A table in the database that is
/// neither here nor in [`NOT_BACKED_UP`] makes the backup fail (a backup
/// that silently misses a new table is worse than none); the backup tests
/// check the two lists against the migrated schema.
pub const TABLES: &[&str] = &[
    "tenants",
    "courses",
    "course_versions",
    "lesson_views",
    "attempts",
    "attempt_answers",
    "completions",
    "seen_lifecycle_tokens",
    "enrolments",
    "group_rules",
    "enrolment_groups",
    "learner_status",
    "reminders_sent",
    "audit_log",
    "support_grants",
    "learner_languages",
];

/// Tables that are not data: job leases belong to running processes, and
/// the purge marker never holds a committed row.
pub const NOT_BACKED_UP: &[&str] = &["job_locks", "purge_in_progress"];

/// Rows sent to the writer in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;
/// Bound parameters per INSERT (SQLite's limit is 32 766, PostgreSQL's 65 535).
const PARAMS_PER_INSERT: usize = 900;

/// Why a backup or restore did not happen. Restores that fail write nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not a Smart Courses backup or damaged: {0}")]
    Format(String),
    #[error("the backup ends early (the file is truncated)")]
    Truncated,
    #[error("table {0} is not in the backup's table list (store/src/backup.rs TABLES)")]
    UnknownTable(String),
    #[error("table {0} is missing from the database")]
    MissingTable(String),
    #[error("the database already holds data (table {0}): restore into an empty database")]
    NotEmpty(String),
    #[error("the backup has schema version {backup}, the database {database}: {hint}")]
    SchemaMismatch {
        backup: i64,
        database: i64,
        hint: &'static str,
    },
    #[error("the backup writer stopped")]
    WriterGone,
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Sqlx(e))
    }
}

impl From<sqlx::migrate::MigrateError> for BackupError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Store(StoreError::Migrate(e))
    }
}

/// One typed value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    /// Shortest exact decimal of an `f64`.
    Real {
        f: String,
    },
    /// Hex bytes (no table has a blob today; kept for completeness).
    Blob {
        x: String,
    },
}

/// The header: what wrote the backup and for which schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    /// The highest migration applied to the source database.
    pub schema_version: i64,
    /// `sqlite` or `postgres`.
    pub source: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Header(Header),
    Table { name: String, columns: Vec<String> },
    Row(Vec<Cell>),
    End { table: String, rows: u64 },
    Done { tables: usize, rows: u64 },
}

/// What a backup or restore covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub schema_version: i64,
    pub tables: usize,
    pub rows: u64,
}

/// How a destination column takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Blob,
}

impl Kind {
    /// From a declared SQL type (SQLite's `pragma_table_info`, PostgreSQL's
    /// `information_schema.columns.data_type`).
    fn of_declared(ty: &str) -> Kind {
        let ty = ty.to_ascii_lowercase();
        if ty.contains("bool") {
            Kind::Bool
        } else if ty.contains("int") || ty.contains("serial") {
            Kind::Int
        } else if ty.contains("real")
            || ty.contains("floa")
            || ty.contains("doub")
            || ty.contains("numeric")
        {
            Kind::Real
        } else if ty.contains("blob") || ty.contains("bytea") {
            Kind::Blob
        } else {
            Kind::Text
        }
    }
}

impl Db {
    /// The highest migration applied (0 for a database never migrated).
    pub async fn schema_version(&self) -> Result<i64, BackupError> {
        if !self
            .table_names()
            .await?
            .iter()
            .any(|t| t == "_sqlx_migrations")
        {
            return Ok(0);
        }
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// The newest migration this binary knows.
    pub fn latest_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend() {
            Backend::Sqlite => &crate::SQLITE_MIGRATIONS,
            Backend::Postgres => &crate::POSTGRES_MIGRATIONS,
        }
    }

    /// Every table of the database (the current schema on PostgreSQL).
    async fn table_names(&self) -> Result<Vec<String>, BackupError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
        };
        Ok(sqlx::query_scalar::<_, String>(sql)
            .fetch_all(self.pool())
            .await?)
    }

    /// `(column, kind)` of `table`, in declaration order; generated columns
    /// are left out (the database computes them again on restore; SQLite's
    /// `pragma_table_info` does not list them).
    async fn columns_of<'e, E>(
        &self,
        conn: E,
        table: &str,
    ) -> Result<Vec<(String, Kind)>, BackupError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Backend::Postgres => {
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                   AND is_generated = 'NEVER' \
                 ORDER BY ordinal_position"
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sql).bind(table).fetch_all(conn).await?;
        if rows.is_empty() {
            return Err(BackupError::MissingTable(table.to_owned()));
        }
        Ok(rows
            .into_iter()
            .map(|(name, ty)| (name, Kind::of_declared(&ty)))
            .collect())
    }

    /// Refuses a schema with tables the backup does not know (or lacks).
    async fn check_table_lists(&self) -> Result<(), BackupError> {
        let present = self.table_names().await?;
        if let Some(unknown) = present.iter().find(|t| {
            t.as_str() != "_sqlx_migrations"
                && !TABLES.contains(&t.as_str())
                && !NOT_BACKED_UP.contains(&t.as_str())
        }) {
            return Err(BackupError::UnknownTable(unknown.clone()));
        }
        if let Some(missing) = TABLES.iter().find(|t| !present.iter().any(|p| p == *t)) {
            return Err(BackupError::MissingTable((*missing).to_owned()));
        }
        Ok(())
    }

    /// Writes a consistent snapshot of every table to `out` as JSON lines
    /// (see the module docs), in chunks. The database keeps serving.
    pub async fn dump(
        &self,
        out: mpsc::Sender<Vec<u8>>,
        created_at_ms: i64,
    ) -> Result<Summary, BackupError> {
        self.check_table_lists().await?;
        let schema_version = self.schema_version().await?;
        let mut tx = match self.backend() {
            Backend::Sqlite => self.pool().begin_with("BEGIN DEFERRED").await?,
            Backend::Postgres => {
                self.pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?
            }
        };
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        push(
            &Line::Header(Header {
                format: FORMAT.into(),
                format_version: FORMAT_VERSION,
                schema_version,
                source: match self.backend() {
                    Backend::Sqlite => "sqlite".into(),
                    Backend::Postgres => "postgres".into(),
                },
                created_at_ms,
            }),
            &mut buf,
        );
        let mut total = 0u64;
        for table in TABLES {
            let columns: Vec<String> = self
                .columns_of(&mut *tx, table)
                .await?
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            push(
                &Line::Table {
                    name: (*table).into(),
                    columns: columns.clone(),
                },
                &mut buf,
            );
            // Table and column names come from the constant list and the
            // catalogue, never from input.
            let sql = format!("SELECT {} FROM {table}", quoted_list(&columns));
            let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await? {
                let mut cells = Vec::with_capacity(columns.len());
                for i in 0..columns.len() {
                    cells.push(cell_of(&row, i)?);
                }
                push(&Line::Row(cells), &mut buf);
                count += 1;
                if buf.len() >= CHUNK {
                    out.send(std::mem::take(&mut buf))
                        .await
                        .map_err(|_| BackupError::WriterGone)?;
                }
            }
            drop(rows);
            push(
                &Line::End {
                    table: (*table).into(),
                    rows: count,
                },
                &mut buf,
            );
            total += count;
        }
        push(
            &Line::Done {
                tables: TABLES.len(),
                rows: total,
            },
            &mut buf,
        );
        out.send(buf).await.map_err(|_| BackupError::WriterGone)?;
        tx.commit().await?;
        Ok(Summary {
            schema_version,
            tables: TABLES.len(),
            rows: total,
        })
    }

    /// Loads a backup's lines (each message one line, without its newline)
    /// into this database, which must be empty; see the module docs. The
    /// database is left at the backup's schema version: run
    /// [`Db::migrate`] afterwards.
    pub async fn restore(
        &self,
        mut lines: mpsc::Receiver<Vec<u8>>,
    ) -> Result<Summary, BackupError> {
        let _changed = self.learners_changed_on_exit();
        let header = match next_line(&mut lines).await? {
            Line::Header(h) if h.format == FORMAT => h,
            _ => return Err(BackupError::Format("no backup header".into())),
        };
        if header.format_version != FORMAT_VERSION {
            return Err(BackupError::Format(format!(
                "format version {} (this program reads {FORMAT_VERSION})",
                header.format_version
            )));
        }
        let latest = self.latest_schema_version();
        if header.schema_version > latest {
            return Err(BackupError::SchemaMismatch {
                backup: header.schema_version,
                database: latest,
                hint: "the backup was written by a newer Smart Courses; upgrade this one first",
            });
        }
        let current = self.schema_version().await?;
        if current > header.schema_version {
            return Err(BackupError::SchemaMismatch {
                backup: header.schema_version,
                database: current,
                hint: "restore into a new, empty database",
            });
        }
        if current > 0 {
            let present = self.table_names().await?;
            for table in TABLES {
                if !present.iter().any(|p| p == table) {
                    continue;
                }
                let sql = format!("SELECT COUNT(*) FROM {table}");
                let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(self.pool())
                    .await?;
                if n > 0 {
                    return Err(BackupError::NotEmpty((*table).to_owned()));
                }
            }
        }
        // The schema the rows were written for.
        self.migrator()
            .run_to(header.schema_version, self.pool())
            .await?;
        self.check_table_lists().await?;

        let mut tx = self.begin_write().await?;
        let triggers = self.suspend_triggers(&mut tx).await?;
        let mut total = 0u64;
        let mut tables = 0usize;
        loop {
            match next_line(&mut lines).await? {
                Line::Table { name, columns } => {
                    let Some(table) = TABLES.iter().find(|t| **t == name) else {
                        return Err(BackupError::UnknownTable(name));
                    };
                    let kinds = self.columns_of(&mut **tx, table).await?;
                    let mut dest = Vec::with_capacity(columns.len());
                    for c in &columns {
                        let kind = kinds
                            .iter()
                            .find(|(n, _)| n == c)
                            .map(|(_, k)| *k)
                            .ok_or_else(|| {
                                BackupError::Format(format!("{table} has no column {c}"))
                            })?;
                        dest.push(kind);
                    }
                    let per_insert = (PARAMS_PER_INSERT / columns.len().max(1)).max(1);
                    let mut batch: Vec<Vec<Cell>> = Vec::with_capacity(per_insert);
                    let mut count = 0u64;
                    loop {
                        match next_line(&mut lines).await? {
                            Line::Row(cells) => {
                                if cells.len() != columns.len() {
                                    return Err(BackupError::Format(format!(
                                        "a row of {table} has {} values for {} columns",
                                        cells.len(),
                                        columns.len()
                                    )));
                                }
                                batch.push(cells);
                                count += 1;
                                if batch.len() == per_insert {
                                    insert_rows(&mut tx, table, &columns, &dest, &batch).await?;
                                    batch.clear();
                                }
                            }
                            Line::End { table: t, rows } if t == name => {
                                if rows != count {
                                    return Err(BackupError::Format(format!(
                                        "{table}: {count} rows read, {rows} announced"
                                    )));
                                }
                                break;
                            }
                            _ => return Err(BackupError::Format(format!("{table} is not closed"))),
                        }
                    }
                    if !batch.is_empty() {
                        insert_rows(&mut tx, table, &columns, &dest, &batch).await?;
                    }
                    total += count;
                    tables += 1;
                }
                Line::Done { tables: t, rows } => {
                    if t != tables || rows != total {
                        return Err(BackupError::Format(format!(
                            "{tables} tables and {total} rows read, {t} and {rows} announced"
                        )));
                    }
                    break;
                }
                _ => return Err(BackupError::Format("unexpected line".into())),
            }
        }
        self.resume_triggers(&mut tx, triggers).await?;
        if self.backend() == Backend::Postgres {
            reset_sequences(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(Summary {
            schema_version: header.schema_version,
            tables,
            rows: total,
        })
    }

    /// Turns the user triggers off for this transaction: SQLite cannot
    /// disable a trigger, so they are dropped and (from their stored SQL)
    /// recreated before commit; PostgreSQL disables them per table
    /// (transactional DDL, so a failed restore leaves them as they were).
    async fn suspend_triggers(&self, tx: &mut crate::WriteTx) -> Result<Vec<String>, BackupError> {
        match self.backend() {
            Backend::Sqlite => {
                let triggers: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
                )
                .fetch_all(&mut ***tx)
                .await?;
                for (name, _) in &triggers {
                    let sql = format!("DROP TRIGGER {}", quoted(name));
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut ***tx).await?;
                }
                Ok(triggers.into_iter().map(|(_, sql)| sql).collect())
            }
            Backend::Postgres => {
                for table in TABLES {
                    let sql = format!("ALTER TABLE {table} DISABLE TRIGGER USER");
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut ***tx).await?;
                }
                Ok(Vec::new())
            }
        }
    }

    async fn resume_triggers(
        &self,
        tx: &mut crate::WriteTx,
        sqlite_triggers: Vec<String>,
    ) -> Result<(), BackupError> {
        match self.backend() {
            Backend::Sqlite => {
                for sql in sqlite_triggers {
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut ***tx).await?;
                }
            }
            Backend::Postgres => {
                for table in TABLES {
                    let sql = format!("ALTER TABLE {table} ENABLE TRIGGER USER");
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut ***tx).await?;
                }
            }
        }
        Ok(())
    }
}

/// The next line of a restore; a closed channel means the file ended early.
async fn next_line(lines: &mut mpsc::Receiver<Vec<u8>>) -> Result<Line, BackupError> {
    let bytes = lines.recv().await.ok_or(BackupError::Truncated)?;
    serde_json::from_slice(&bytes).map_err(|e| BackupError::Format(e.to_string()))
}

fn push(line: &Line, buf: &mut Vec<u8>) {
    serde_json::to_writer(&mut *buf, line).expect("a line serialises");
    buf.push(b'\n');
}

/// Serial columns continue after the restored ids (PostgreSQL keeps their
/// counters apart from the rows; SQLite's AUTOINCREMENT follows the rows).
async fn reset_sequences(tx: &mut crate::WriteTx) -> Result<(), BackupError> {
    let serials: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut ***tx)
    .await?;
    for (table, column) in serials {
        if !TABLES.contains(&table.as_str()) {
            continue;
        }
        let sql = format!(
            "SELECT CAST(setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE(MAX({col}), 0) + 1, false) AS BIGINT) FROM {table}",
            col = quoted(&column)
        );
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
            .fetch_one(&mut ***tx)
            .await?;
    }
    Ok(())
}

async fn insert_rows(
    tx: &mut crate::WriteTx,
    table: &str,
    columns: &[String],
    kinds: &[Kind],
    rows: &[Vec<Cell>],
) -> Result<(), BackupError> {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", quoted_list(columns));
    let mut n = 0;
    for (r, _) in rows.iter().enumerate() {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        for (cell, kind) in row.iter().zip(kinds) {
            query = bind_cell(query, cell, *kind, table)?;
        }
    }
    query.execute(&mut ***tx).await?;
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds `cell` as the destination column's type (so a SQLite backup's
/// 0/1 becomes a PostgreSQL boolean, and a NULL is typed as its column).
fn bind_cell<'q>(
    q: AnyQuery<'q>,
    cell: &Cell,
    kind: Kind,
    table: &str,
) -> Result<AnyQuery<'q>, BackupError> {
    let bad = || BackupError::Format(format!("a value of {table} does not fit its column"));
    Ok(match (kind, cell) {
        (Kind::Int, Cell::Null) => q.bind(None::<i64>),
        (Kind::Real, Cell::Null) => q.bind(None::<f64>),
        (Kind::Bool, Cell::Null) => q.bind(None::<bool>),
        (Kind::Text, Cell::Null) => q.bind(None::<String>),
        (Kind::Blob, Cell::Null) => q.bind(None::<Vec<u8>>),
        (Kind::Int, Cell::Int(i)) => q.bind(*i),
        (Kind::Int, Cell::Bool(b)) => q.bind(i64::from(*b)),
        (Kind::Real, Cell::Real { f }) => q.bind(f.parse::<f64>().map_err(|_| bad())?),
        (Kind::Real, Cell::Int(i)) => q.bind(*i as f64),
        (Kind::Bool, Cell::Bool(b)) => q.bind(*b),
        (Kind::Bool, Cell::Int(i)) => q.bind(*i != 0),
        (Kind::Text, Cell::Text(s)) => q.bind(s.clone()),
        (Kind::Blob, Cell::Blob { x }) => q.bind(from_hex(x).ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

/// The cell of column `i` of `row`, by the value's own type.
fn cell_of(row: &sqlx::any::AnyRow, i: usize) -> Result<Cell, BackupError> {
    use sqlx::any::AnyTypeInfoKind as K;
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        K::Null => Cell::Null,
        K::Bool => Cell::Bool(row.try_get(i)?),
        K::SmallInt | K::Integer | K::BigInt => Cell::Int(row.try_get(i)?),
        K::Real => Cell::Real {
            f: f64::from(row.try_get::<f32, _>(i)?).to_string(),
        },
        K::Double => Cell::Real {
            f: row.try_get::<f64, _>(i)?.to_string(),
        },
        K::Text => Cell::Text(row.try_get(i)?),
        K::Blob => Cell::Blob {
            x: to_hex(&row.try_get::<Vec<u8>, _>(i)?),
        },
        #[allow(unreachable_patterns)]
        _ => {
            return Err(BackupError::Format(format!(
                "column {} has a type backups do not know ({})",
                row.columns()[i].name(),
                raw.type_info().name()
            )))
        }
    })
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quoted_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_through_json_exactly() {
        let cells = vec![
            Cell::Null,
            Cell::Int(-9_007_199_254_740_993),
            Cell::Bool(true),
            Cell::Text("{\"a\":1}".into()),
            Cell::Real {
                f: (2.0f64 / 3.0).to_string(),
            },
            Cell::Blob {
                x: to_hex(&[0, 255, 16]),
            },
        ];
        let json = serde_json::to_string(&Line::Row(cells.clone())).unwrap();
        let Line::Row(back) = serde_json::from_str(&json).unwrap() else {
            panic!("not a row: {json}")
        };
        assert_eq!(back, cells);
        let Cell::Real { f } = &back[4] else { panic!() };
        assert_eq!(
            f.parse::<f64>().unwrap().to_bits(),
            (2.0f64 / 3.0).to_bits()
        );
        assert_eq!(from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("0"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn declared_types_map_to_kinds() {
        assert_eq!(Kind::of_declared("BIGINT"), Kind::Int);
        assert_eq!(Kind::of_declared("INTEGER"), Kind::Int);
        assert_eq!(Kind::of_declared("double precision"), Kind::Real);
        assert_eq!(Kind::of_declared("REAL"), Kind::Real);
        assert_eq!(Kind::of_declared("boolean"), Kind::Bool);
        assert_eq!(Kind::of_declared("TEXT"), Kind::Text);
        assert_eq!(Kind::of_declared("bytea"), Kind::Blob);
    }

    #[test]
    fn every_table_of_the_migrations_is_listed_once() {
        // The backup tests check the migrated database; this checks the
        // migration files, so a new table fails here first.
        let mut created = Vec::new();
        for dir in ["../migrations/sqlite", "../migrations/postgres"] {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for part in text.split("CREATE TABLE ").skip(1) {
                    let name: String = part
                        .trim_start_matches("IF NOT EXISTS ")
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    names.push(name);
                }
            }
            names.sort();
            created.push(names);
        }
        assert_eq!(
            created[0], created[1],
            "both backends create the same tables"
        );
        let mut listed: Vec<String> = TABLES
            .iter()
            .chain(NOT_BACKED_UP)
            .map(|s| s.to_string())
            .collect();
        listed.sort();
        assert_eq!(created[0], listed);
    }
}
