//! Encrypted automated backups (#12 item 3), on the test's database
//! (SQLite, or PostgreSQL with `SC_TEST_DB=postgres`): data → backup →
//! empty database → restore → identical rows, read back independently of
//! the backup code; the file holds none of the known plaintext; a wrong
//! key, a damaged file and a database with data are refused without
//! writing; the schedule writes when due and keeps the newest.

use std::path::{Path, PathBuf};

use app::{course::model::Response, space_admin::api::DueRule};
use serde_json::{json, Value};
use server::backup::{self, BackupSettings};
use sqlx::{AssertSqlSafe, Column, Row};
use testkit::User;

use crate::helpers::*;

const SITE: &str = "site-backup";
const SECRET: &str = "site-backup-shared-secret-0123456789";
const PAGE: &str = "4001";
const AUTHOR: &str = "557058:author";
const SAM: &str = "557058:sam-space-admin";
const LEA: &str = "557058:lea-learner";
const LEO: &str = "557058:leo-learner";
const GROUP: &str = "fire-wardens";
const TITLE: &str = "Evacuation drills for the Leipzig office";
const GRANT_REASON: &str = "Case 4711: quiz scores look wrong";

fn course_json() -> Value {
    json!({
        "title": TITLE,
        "description_md": "Learn where the exits are.",
        "modules": [{"id": "m1", "title": "Basics",
                     "lessons": [{"id": "l1", "title": "Why", "body_md": "Read this."}],
                     "quiz": {"questions": [
                        {"id": "t1", "prompt_md": "Doors open outwards", "points": 1.0,
                         "kind": {"type": "true_false", "answer": true}},
                        {"id": "t2", "prompt_md": "Lifts are safe in a fire", "points": 2.0,
                         "kind": {"type": "true_false", "answer": false}}]}}],
        "settings": {},
    })
}

/// A site with a course, two graded attempts (one with a fractional
/// score), a completion, a direct and a group enrolment, a support grant
/// and audit entries.
async fn seeded() -> (TestApp, FakeConfluence, String) {
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    fake.add_user_with(User::new(LEA, "Lea Learner"));
    fake.add_user_with(User::new(LEO, "Leo Learner"));
    app.install_on(&fake, SITE, SECRET).await;
    fake.allow_edit(AUTHOR, PAGE);
    for who in [LEA, LEO, SAM] {
        fake.allow_read_only(who, PAGE);
    }
    fake.make_space_admin(SAM, "DEV");
    fake.add_to_group(GROUP, LEO);

    let author = context_token(SITE, SECRET, AUTHOR, PAGE);
    let saved = app
        .save_draft(&author, None, 0, &course_json())
        .await
        .expect("the draft is saved");
    let id = saved.course_id.to_string();
    app.publish(&author, &saved.course_id, saved.revision, false)
        .await
        .expect("published");
    for (who, t2) in [(LEA, false), (LEO, true)] {
        let t = context_token(SITE, SECRET, who, PAGE);
        app.open_lesson(&t, &id, 1, "l1").await.expect("opens");
        let view = app
            .start_attempt(&t, &id, "m1", &uuid::Uuid::new_v4().to_string())
            .await
            .expect("starts");
        let now = app.now_ms();
        app.submit_attempt(
            &t,
            &view.attempt_id,
            &[
                ("t1", Response::Bool(true), now),
                ("t2", Response::Bool(t2), now),
            ],
        )
        .await
        .expect("graded");
    }
    let sam = context_token(SITE, SECRET, SAM, PAGE);
    app.enrol(&sam, &id, &[LEA], Some(2_000_000_000_000))
        .await
        .expect("Lea is enrolled");
    app.enrol_group(&sam, &id, GROUP, DueRule::DaysAfter(7))
        .await
        .expect("the group is enrolled");
    let (status, _) = fn_reply(
        app.call_fn(
            "space-admin/support-grant",
            Some(&sam),
            &[("hours", "2"), ("reason", GRANT_REASON)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    (app, fake, id)
}

/// Every row of every backed-up table, rendered as text and sorted, read
/// with plain SQL (not through the backup code).
async fn all_rows(database_url: &str) -> Vec<(String, Vec<String>)> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let mut out = Vec::new();
    for table in store::backup::TABLES {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let mut rendered: Vec<String> = rows
            .iter()
            .map(|row| {
                row.columns()
                    .iter()
                    .map(|c| {
                        let i = c.ordinal();
                        let v = if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                            // Bits, so a restored score must be exactly equal.
                            format!("{:?}", v.map(f64::to_bits))
                        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                            format!("{v:?}")
                        } else {
                            panic!("{table}.{}: a type this test cannot read", c.name())
                        };
                        format!("{}={v}", c.name())
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        rendered.sort();
        out.push((table.to_string(), rendered));
    }
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn db(url: &str) -> store::Db {
    store::Db::connect(url).await.expect("the database opens")
}

/// A key pair: (identity, recipient).
fn keys() -> (age::x25519::Identity, age::x25519::Recipient) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    (identity, recipient)
}

#[tokio::test]
async fn backup_then_restore_into_an_empty_database_gives_identical_rows() {
    // Arrange
    let (app, fake, course_id) = seeded().await;
    let source = db(&app.database_url).await;
    let (identity, recipient) = keys();
    let dir = temp_dir("backups");

    // Act: back up, then restore into a new empty database.
    let written = backup::backup_once(&source, &dir, &recipient)
        .await
        .expect("the backup is written");
    let restored_url = fresh_database_url().await;
    let target = db(&restored_url).await;
    let restored = backup::restore_file(&target, &written.path, &identity)
        .await
        .expect("the backup restores");

    // Assert: the file is an age file with none of the plaintext in it.
    let bytes = std::fs::read(&written.path).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    for plain in [
        SECRET,
        TITLE,
        LEA,
        SAM,
        GRANT_REASON,
        "Lea Learner",
        SITE,
        "Doors open",
    ] {
        assert!(
            !contains(&bytes, plain),
            "{plain:?} is in the backup file in clear"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&written.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads backups");
    }
    assert_eq!(
        backup::list(&dir),
        vec![written.path.clone()],
        "no partial file left"
    );

    // Every row is back, identical; the schema is this version's.
    let before = all_rows(&app.database_url).await;
    let after = all_rows(&restored_url).await;
    for table in [
        "tenants",
        "courses",
        "course_versions",
        "lesson_views",
        "attempts",
        "attempt_answers",
        "completions",
        "enrolments",
        "group_rules",
        "enrolment_groups",
        "learner_status",
        "audit_log",
        "support_grants",
    ] {
        let rows = &before.iter().find(|(t, _)| t == table).unwrap().1;
        assert!(!rows.is_empty(), "the seed left {table} empty");
    }
    assert_eq!(before, after);
    let total: usize = before.iter().map(|(_, r)| r.len()).sum();
    assert_eq!(restored.rows, total as u64);
    assert_eq!(restored.rows, written.summary.rows);
    assert_eq!(
        target.schema_version().await.unwrap(),
        source.schema_version().await.unwrap()
    );

    // A server on the restored database (same DATA_KEY) serves the site:
    // its shared secret opens, the learner's history and the audit log are
    // there, and new audit entries continue after the restored ids.
    let second = spawn_app_configured(Options::default(), |c| {
        c.database_url = restored_url.clone();
        c.app_key = APP_KEY.into();
        c.oauth_token_url = Some(fake.token_url().parse().unwrap());
    })
    .await;
    let lea = context_token(SITE, SECRET, LEA, PAGE);
    let history = second
        .attempt_history(&lea, &course_id, "m1")
        .await
        .expect("Lea's history is served");
    assert_eq!(history.len(), 1);
    let sam = context_token(SITE, SECRET, SAM, PAGE);
    let audit_before = second
        .audit_log(&sam, None, None)
        .await
        .expect("audit log")
        .entries
        .len();
    second
        .enrol(&sam, &course_id, &[LEO], None)
        .await
        .expect("a write after the restore");
    let audit = second.audit_log(&sam, None, None).await.expect("audit log");
    assert_eq!(audit.entries.len(), audit_before + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_restore_refuses_a_wrong_key_a_damaged_file_and_a_database_with_data() {
    // Arrange
    let (app, _fake, _) = seeded().await;
    // Enough incompressible rows (seen install tokens) that the file has
    // several age chunks: a damaged end is found after rows were loaded.
    {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.database_url)
            .await
            .unwrap();
        for batch in 0..20 {
            let values: Vec<String> = (0..200)
                .map(|i| {
                    let hash = format!(
                        "{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    );
                    format!("('{hash}', {})", 4_000_000_000i64 + batch * 1000 + i)
                })
                .collect();
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO seen_lifecycle_tokens (token_sha256, expires_at) VALUES {}",
                values.join(",")
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    let source = db(&app.database_url).await;
    let (identity, recipient) = keys();
    let (other_identity, _) = keys();
    let dir = temp_dir("backups-bad");
    let written = backup::backup_once(&source, &dir, &recipient)
        .await
        .unwrap();
    let bytes = std::fs::read(&written.path).unwrap();
    assert!(
        bytes.len() > 2 * 64 * 1024,
        "several chunks: {} bytes",
        bytes.len()
    );
    let truncated = dir.join("truncated.age");
    std::fs::write(&truncated, &bytes[..bytes.len() - 200]).unwrap();
    let flipped = dir.join("flipped.age");
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x55;
    std::fs::write(&flipped, &damaged).unwrap();
    let garbage = dir.join("garbage.age");
    std::fs::write(&garbage, b"tenants,courses\n1,2\n").unwrap();
    let url = fresh_database_url().await;
    let target = db(&url).await;

    // Act + Assert: each bad case fails with a clear message and writes nothing.
    let err = |e: anyhow::Error| format!("{e:#}");
    let wrong = err(
        backup::restore_file(&target, &written.path, &other_identity)
            .await
            .unwrap_err(),
    );
    assert!(wrong.contains("does not open this backup"), "{wrong}");
    assert_eq!(target.schema_version().await.unwrap(), 0, "nothing touched");
    let not_age = err(backup::restore_file(&target, &garbage, &identity)
        .await
        .unwrap_err());
    assert!(not_age.contains("not an age-encrypted file"), "{not_age}");
    for bad in [&truncated, &flipped] {
        let e = err(backup::restore_file(&target, bad, &identity)
            .await
            .unwrap_err());
        assert!(e.contains("damaged") || e.contains("truncated"), "{e}");
        // The rows before the damage were loaded, then rolled back.
        assert!(
            target.schema_version().await.unwrap() > 0,
            "it got as far as the rows"
        );
        for table in store::backup::TABLES {
            let n = count_on(&url, &format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(n, 0, "a failed restore wrote into {table}");
        }
    }

    // The intact file still restores into that database…
    backup::restore_file(&target, &written.path, &identity)
        .await
        .expect("the intact backup restores");
    assert_eq!(count_on(&url, "SELECT COUNT(*) FROM tenants").await, 1);
    // …and never into one that holds data.
    let full = err(backup::restore_file(&target, &written.path, &identity)
        .await
        .unwrap_err());
    assert!(full.contains("restore into an empty database"), "{full}");
    assert_eq!(count_on(&url, "SELECT COUNT(*) FROM tenants").await, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn count_on(url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn scheduled_backups_run_when_due_keep_the_newest_and_show_their_age() {
    // Arrange
    let dir = temp_dir("backups-schedule");
    let app = spawn_app_configured(Options::default(), |c| {
        c.backup_dir = Some(dir.clone());
    })
    .await;
    app.install(SITE, SECRET).await;
    let source = db(&app.database_url).await;
    let (_, recipient) = keys();
    let mut settings = BackupSettings {
        dir: dir.clone(),
        recipient,
        every: std::time::Duration::from_secs(3600),
        keep: 2,
    };

    // Act + Assert: none yet → written; a fresh one → not due.
    let first = backup::run_if_due(&source, &settings).await.unwrap();
    assert!(first.is_some(), "no backup yet: one is due");
    assert!(backup::run_if_due(&source, &settings)
        .await
        .unwrap()
        .is_none());
    // Always due: the newest two are kept.
    settings.every = std::time::Duration::ZERO;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(backup::run_if_due(&source, &settings)
            .await
            .unwrap()
            .is_some());
    }
    let kept = backup::list(&dir);
    assert_eq!(kept.len(), 2);
    assert!(!kept.contains(&first.unwrap().path), "the oldest went");

    // `/metrics` (from loopback) reports the newest backup's age.
    let metrics = app
        .http
        .get(format!("http://{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let age: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("backup_age_seconds "))
        .unwrap_or_else(|| panic!("no backup_age_seconds in {metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn half_a_backup_configuration_refuses_to_start() {
    let (_, recipient) = keys();
    let mut config = server::Config::from_env_and_defaults();
    config.backup_dir = Some(Path::new("backups").to_path_buf());
    config.backup_recipient = None;
    let e = config.backups().unwrap_err().to_string();
    assert!(e.contains("BACKUP_RECIPIENT"), "{e}");
    config.backup_dir = None;
    config.backup_recipient = Some(recipient.to_string());
    assert!(config.backups().is_err());
    config.backup_recipient = Some("not-a-key".into());
    config.backup_dir = Some(Path::new("backups").to_path_buf());
    let e = config.backups().unwrap_err().to_string();
    assert!(e.contains("not an age public key"), "{e}");
    config.backup_recipient = Some(recipient.to_string());
    let settings = config.backups().unwrap().expect("configured");
    assert_eq!(settings.keep, 14);
    assert_eq!(settings.every, std::time::Duration::from_secs(24 * 3600));
}
