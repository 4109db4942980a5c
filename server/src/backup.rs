//! Encrypted automated backups (issue #12 item 3; README "Operations /
//! Backups").
//!
//! A backup is the store's consistent snapshot (`store::backup`: one
//! repeatable-read transaction on PostgreSQL, one WAL read transaction on
//! SQLite) as gzip-compressed JSON lines, encrypted to an X25519 public key
//! in the [age](https://age-encryption.org/v1) format. The server holds only
//! the public key (`BACKUP_RECIPIENT`), so a stolen server or backup disk
//! reveals nothing; the private key (`smart-courses backup-key`) is needed
//! only to restore and is kept offline.
//!
//! Files are named `smart-courses-<UTC time>.sc-backup.age`, written to a
//! hidden temporary name and renamed when complete (a crash never leaves a
//! half file that looks like a backup), readable by the owner only.
//! `serve` checks every few minutes whether the newest backup is older than
//! `BACKUP_EVERY_HOURS` and then writes one — under the job lease, so two
//! instances do not both back up — and keeps the newest `BACKUP_KEEP`.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, SystemTime},
};

use age::secrecy::ExposeSecret;
use anyhow::Context;
use store::{
    backup::{BackupError, Summary},
    Db,
};
use tokio::sync::mpsc;

/// What every backup file's name starts and ends with.
const PREFIX: &str = "smart-courses-";
const SUFFIX: &str = ".sc-backup.age";

/// The backup job's settings (from `BACKUP_*`, see [`crate::Config::backups`]).
#[derive(Clone)]
pub struct BackupSettings {
    pub dir: PathBuf,
    pub recipient: age::x25519::Recipient,
    /// A backup is due when the newest is older than this.
    pub every: Duration,
    /// How many backups to keep (older ones are deleted after a new one).
    pub keep: usize,
}

impl std::fmt::Debug for BackupSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSettings")
            .field("dir", &self.dir)
            .field("recipient", &self.recipient.to_string())
            .field("every", &self.every)
            .field("keep", &self.keep)
            .finish()
    }
}

/// Parses `BACKUP_RECIPIENT` (an age X25519 public key, `age1…`).
pub fn parse_recipient(s: &str) -> anyhow::Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(s.trim())
        .map_err(|e| anyhow::anyhow!("BACKUP_RECIPIENT is not an age public key (age1…): {e}"))
}

/// Reads an age identity file (`smart-courses backup-key` or `age-keygen`
/// output: `#` comments and one `AGE-SECRET-KEY-1…` line).
pub fn read_identity(path: &Path) -> anyhow::Result<age::x25519::Identity> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the backup key {}", path.display()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .with_context(|| format!("{} holds no key", path.display()))?;
    // The parse error would not name the key, but say nothing of it anyway.
    age::x25519::Identity::from_str(line)
        .map_err(|_| anyhow::anyhow!("{} is not an age secret key file", path.display()))
}

/// A new key pair: the identity file's text (secret) and the public key.
pub fn new_key_pair() -> (age::secrecy::SecretString, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = format!(
        "# Smart Courses backup key, created {created}\n# public key: {public}\n{}\n",
        identity.to_string().expose_secret()
    );
    (text.into(), public)
}

/// Writes `contents` to a new file readable by its owner only; refuses to
/// overwrite.
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// One finished backup.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub summary: Summary,
}

/// Writes one backup of `db` into `dir` now.
pub async fn backup_once(
    db: &Db,
    dir: &Path,
    recipient: &age::x25519::Recipient,
) -> anyhow::Result<Written> {
    create_private_dir(dir)?;
    let now = time::OffsetDateTime::now_utc();
    // Sorts by time as text, and is safe in every file system.
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    let name = format!("{PREFIX}{stamp}{SUFFIX}");
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));

    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    let writer = {
        let (partial, recipient) = (partial.clone(), recipient.clone());
        tokio::task::spawn_blocking(move || write_encrypted(&partial, &recipient, rx))
    };
    let created_at_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let dumped = db.dump(tx, created_at_ms).await;
    let written = writer.await.context("the backup writer panicked")?;
    let outcome = match (dumped, written) {
        (Ok(summary), Ok(bytes)) => Ok((summary, bytes)),
        // The writer's error is the cause when the dump only saw it stop.
        (Err(BackupError::WriterGone) | Ok(_), Err(e)) => Err(e),
        (Err(e), _) => Err(anyhow::Error::new(e).context("could not read the database")),
    };
    let (summary, bytes) = match outcome {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            metrics::counter!("backups_total", "outcome" => "failed").increment(1);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &path)
        .with_context(|| format!("cannot move the backup into place at {}", path.display()))?;
    sync_dir(dir);
    metrics::counter!("backups_total", "outcome" => "written").increment(1);
    Ok(Written {
        path,
        bytes,
        summary,
    })
}

/// File ← age ← gzip ← the dump's chunks; the file's size.
fn write_encrypted(
    path: &Path,
    recipient: &age::x25519::Recipient,
    mut chunks: mpsc::Receiver<Vec<u8>>,
) -> anyhow::Result<u64> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .context("cannot encrypt to BACKUP_RECIPIENT")?;
    let sealed = encryptor.wrap_output(std::io::BufWriter::new(file))?;
    let mut gz = flate2::write::GzEncoder::new(sealed, flate2::Compression::default());
    while let Some(chunk) = chunks.blocking_recv() {
        gz.write_all(&chunk)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let sealed = gz.finish()?;
    let buffered = sealed.finish()?;
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

/// Restores the backup at `path` into `db` (which must be empty) and
/// migrates it to this version's schema.
pub async fn restore_file(
    db: &Db,
    path: &Path,
    identity: &age::x25519::Identity,
) -> anyhow::Result<Summary> {
    // Decrypting the header first gives a clear error for a wrong key
    // before anything touches the database.
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the backup {}", path.display()))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file))
        .context("not an age-encrypted file (is this a Smart Courses backup?)")?;
    let plain = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .context("the backup key does not open this backup")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>(1024);
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut lines = BufReader::new(flate2::read::GzDecoder::new(plain));
        loop {
            let mut line = Vec::new();
            // A damaged or truncated file fails here (age authenticates
            // every 64 KiB chunk and the end of the stream).
            if lines
                .read_until(b'\n', &mut line)
                .context("the backup is damaged")?
                == 0
            {
                return Ok(());
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if tx.blocking_send(line).is_err() {
                return Ok(()); // the restore stopped; its error says why
            }
        }
    });
    let restored = db.restore(rx).await;
    let read = reader.await.context("the backup reader panicked")?;
    let summary = match (restored, read) {
        (Ok(s), Ok(())) => s,
        (Err(BackupError::Truncated) | Ok(_), Err(e)) => return Err(e),
        (Err(e), _) => return Err(anyhow::Error::new(e)),
    };
    db.migrate()
        .await
        .context("migration after the restore failed")?;
    Ok(summary)
}

/// The backups in `dir`, oldest first (names sort by time).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    found.sort();
    found
}

/// Deletes all but the newest `keep` backups (never other files); how
/// many went.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let all = list(dir);
    let excess = all.len().saturating_sub(keep.max(1));
    let mut removed = 0;
    for old in &all[..excess] {
        match std::fs::remove_file(old) {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(file = %old.display(), error = %e, "old backup not deleted"),
        }
    }
    removed
}

/// Seconds since the newest backup in `dir` was written (`/metrics`).
pub fn newest_age(dir: &Path) -> Option<f64> {
    let newest = list(dir).pop()?;
    let modified = std::fs::metadata(newest).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .ok()?
            .as_secs_f64(),
    )
}

/// One scheduled check: a backup when the newest is older than
/// `settings.every` (or there is none), then pruning. `Some` when written.
pub async fn run_if_due(db: &Db, settings: &BackupSettings) -> anyhow::Result<Option<Written>> {
    if newest_age(&settings.dir).is_some_and(|age| age < settings.every.as_secs_f64()) {
        return Ok(None);
    }
    let written = backup_once(db, &settings.dir, &settings.recipient).await?;
    let pruned = prune(&settings.dir, settings.keep);
    tracing::info!(
        file = %written.path.display(),
        bytes = written.bytes,
        rows = written.summary.rows,
        pruned,
        "backup written"
    );
    Ok(Some(written))
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create the backup folder {}", dir.display()))
}

/// Makes the rename durable (best effort: not every file system allows it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_and_only_touches_backups() {
        let dir = std::env::temp_dir().join(format!("sc-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for stamp in [
            "20261101T000000.000Z",
            "20261103T000000.000Z",
            "20261102T000000.000Z",
        ] {
            std::fs::write(dir.join(format!("{PREFIX}{stamp}{SUFFIX}")), b"x").unwrap();
        }
        std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();
        assert_eq!(prune(&dir, 2), 1);
        let left: Vec<String> = list(&dir)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            [
                format!("{PREFIX}20261102T000000.000Z{SUFFIX}"),
                format!("{PREFIX}20261103T000000.000Z{SUFFIX}")
            ]
        );
        assert!(dir.join("notes.txt").exists());
        assert_eq!(prune(&dir, 0), 1, "keep 0 still keeps the newest");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_pairs_parse_back() {
        let (text, public) = new_key_pair();
        let dir = std::env::temp_dir().join(format!("sc-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.txt");
        write_private_file(&path, text.expose_secret()).unwrap();
        assert!(
            write_private_file(&path, "again").is_err(),
            "never overwrites"
        );
        let identity = read_identity(&path).unwrap();
        assert_eq!(identity.to_public().to_string(), public);
        assert_eq!(parse_recipient(&public).unwrap().to_string(), public);
        assert!(parse_recipient("age1notakey").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
