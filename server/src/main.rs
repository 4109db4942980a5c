//! `smart-courses`: the server binary.
//!
//! `smart-courses serve` (default) runs migrations and serves;
//! `smart-courses migrate` only migrates. Configuration: README
//! "Configuration" and `.env.sample`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::{telemetry, Application, Config};

#[derive(Parser)]
#[command(
    name = "smart-courses",
    version,
    about = "Smart Courses for Confluence"
)]
struct Cli {
    /// Optional file of KEY=VALUE lines, read before the environment is
    /// consulted (real environment variables win).
    #[arg(long, global = true, env = "SC_ENV_FILE")]
    env_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve (the default).
    Serve(Config),
    /// Run database migrations and exit.
    Migrate(Config),
    /// Print a new random data key (`<id>:<base64>`) for DATA_KEY.
    GenerateKey {
        /// A short name for the key (a-z, 0-9, `.`, `_`, `-`), e.g. the month.
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Re-encrypt every stored secret under DATA_KEY (the keys it was
    /// encrypted with must be in DATA_KEY_PREVIOUS); then the previous keys
    /// can be dropped.
    RotateKey(Config),
    /// Read one space's data for a support case — only while a space admin
    /// has granted support access; every read is in the site's audit log.
    Support {
        #[command(flatten)]
        config: Config,
        /// The site (its Connect client key).
        #[arg(long)]
        client_key: String,
        /// The space key the grant is for.
        #[arg(long)]
        space: String,
        /// Who is reading (shown to the customer).
        #[arg(long)]
        operator: String,
        /// What to read.
        #[arg(value_enum)]
        what: server::support::SupportRead,
    },
    /// Write one encrypted backup now (BACKUP_DIR, BACKUP_RECIPIENT) and
    /// delete those beyond BACKUP_KEEP.
    Backup(Config),
    /// Restore a backup into an empty database (DATABASE_URL), then migrate
    /// it. The server that uses it needs the same DATA_KEY as the source.
    Restore {
        #[command(flatten)]
        config: Config,
        /// The backup file (`smart-courses-….sc-backup.age`).
        #[arg(long)]
        file: std::path::PathBuf,
        /// The backup key file from `smart-courses backup-key`.
        #[arg(long, env = "BACKUP_IDENTITY_FILE")]
        identity: std::path::PathBuf,
    },
    /// Write the Forge manifest (rendered from the same template as
    /// atlassian-connect.json) to a file, or print it. The checked-in copy is
    /// forge/manifest.yml.
    ForgeManifest {
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Create a backup key pair: the private key goes to a new file (keep
    /// it offline); the public key, printed, is BACKUP_RECIPIENT.
    BackupKey {
        /// Where to write the private key (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Erase one person's data from one site (a data subject request):
    /// their learning records go, their id in kept records (authorship,
    /// audit log) becomes "erased", and the audit log records the erasure.
    EraseAccount {
        #[command(flatten)]
        config: Config,
        /// The site's client key.
        #[arg(long)]
        client_key: String,
        /// The person's Atlassian account id.
        #[arg(long)]
        account_id: String,
    },
}

fn main() -> anyhow::Result<()> {
    // Read the env file before anything else (and before any thread exists)
    // so that clap's `env = …` lookups see it.
    if let Some(path) = Cli::try_parse().ok().and_then(|c| c.env_file) {
        load_env_file(&path)?;
    }
    let cli = Cli::parse();
    telemetry::init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(c) => c,
        None => Command::Serve(Config::from_env_and_defaults()),
    };
    match command {
        Command::Migrate(config) => {
            let db = store::Db::connect(&config.database_url)
                .await
                .context("could not open the database")?;
            db.migrate().await.context("migration failed")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve(config) => serve(config).await,
        Command::EraseAccount {
            config,
            client_key,
            account_id,
        } => {
            let db = store::Db::connect(&config.database_url)
                .await
                .context("could not open the database")?
                .with_keyring(config.keyring()?);
            db.migrate().await.context("migration failed")?;
            let done = server::privacy::erase_account(&db, &client_key, &account_id)
                .await?
                .with_context(|| format!("no site with client key {client_key}"))?;
            tracing::info!(
                deleted = done.deleted,
                pseudonymised = done.pseudonymised,
                "account erased"
            );
            Ok(())
        }
        Command::Backup(config) => {
            let settings = config.backups()?.context(
                "set BACKUP_DIR and BACKUP_RECIPIENT (see README \"Operations / Backups\")",
            )?;
            let db = store::Db::connect(&config.database_url)
                .await
                .context("could not open the database")?;
            db.migrate().await.context("migration failed")?;
            let written =
                server::backup::backup_once(&db, &settings.dir, &settings.recipient).await?;
            let pruned = server::backup::prune(&settings.dir, settings.keep);
            println!(
                "{} ({} bytes, {} rows in {} tables; {pruned} old backups deleted)",
                written.path.display(),
                written.bytes,
                written.summary.rows,
                written.summary.tables
            );
            Ok(())
        }
        Command::Restore {
            config,
            file,
            identity,
        } => {
            let identity = server::backup::read_identity(&identity)?;
            let db = store::Db::connect(&config.database_url)
                .await
                .context("could not open the database")?;
            let done = server::backup::restore_file(&db, &file, &identity).await?;
            println!(
                "restored {} rows in {} tables (schema {}) from {}",
                done.rows,
                done.tables,
                done.schema_version,
                file.display()
            );
            Ok(())
        }
        Command::BackupKey { out } => {
            use age::secrecy::ExposeSecret;
            let (secret, public) = server::backup::new_key_pair();
            server::backup::write_private_file(&out, secret.expose_secret())?;
            eprintln!(
                "private key written to {} (keep it offline; it is needed to restore)",
                out.display()
            );
            println!("{public}");
            Ok(())
        }
        Command::ForgeManifest { out } => {
            let text = server::forge_manifest::render()?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("could not write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::GenerateKey { id } => {
            use secrecy::ExposeSecret;
            let key = store::secrets::Keyring::generate(&id).map_err(|e| anyhow::anyhow!("{e}"))?;
            // The one place a secret is printed: the operator asked for it.
            println!("{}", key.expose_secret());
            Ok(())
        }
        Command::Support {
            config,
            client_key,
            space,
            operator,
            what,
        } => {
            let state = server::build_state(&config).await?;
            let out =
                server::support::support_read(&state, &client_key, &space, &operator, what).await?;
            println!("{out}");
            Ok(())
        }
        Command::RotateKey(config) => {
            let keyring = config.keyring()?;
            let current = keyring.current_id().to_owned();
            let db = store::Db::connect(&config.database_url)
                .await
                .context("could not open the database")?
                .with_keyring(keyring);
            db.migrate().await.context("migration failed")?;
            let done = db
                .seal_secrets()
                .await
                .context("could not re-encrypt (is every old key in DATA_KEY_PREVIOUS?)")?;
            tracing::info!(
                key = %current,
                re_encrypted = done.sealed,
                already_current = done.current,
                "data key rotated"
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // A simulator build runs the simulator beside the app and points the
    // app at it (refusing anything but loopback).
    #[cfg(feature = "dev-host")]
    let config = {
        let mut config = config;
        server::dev_host::prepare(&mut config)?;
        config
    };
    let application = Application::build(&config).await?;
    let addr = application.local_addr();
    let minutes = |m: u32| std::time::Duration::from_secs(u64::from(m.max(1)) * 60);
    let reminders = config.reminders()?;
    let backups = config.backups()?;
    match &backups {
        None => tracing::warn!("BACKUP_DIR not set: no automated backups"),
        Some(b) if b.every.is_zero() => {
            tracing::warn!("BACKUP_EVERY_HOURS=0: no scheduled backups")
        }
        Some(b) => tracing::info!(dir = %b.dir.display(), keep = b.keep, "automated backups on"),
    }
    if reminders.is_none() {
        tracing::info!("SMTP_URL not set: no reminder e-mails");
    }
    let _jobs = server::jobs::spawn(
        application.state().clone(),
        (config.group_sync_minutes > 0).then(|| minutes(config.group_sync_minutes)),
        reminders.map(|r| (r, minutes(config.reminder_interval_minutes))),
        backups,
    );
    let _privacy_jobs = server::privacy::spawn(
        application.state().clone(),
        (config.personal_data_report_hours > 0).then(|| {
            std::time::Duration::from_secs(u64::from(config.personal_data_report_hours) * 3600)
        }),
    );
    // Every cache is bounded by bytes; together they share one budget
    // (`cache::PROCESS_BUDGET_BYTES`, held by server/tests/memory_budget.rs).
    let cache_budget = cache::live_budget_bytes();
    if cache_budget > cache::PROCESS_BUDGET_BYTES {
        tracing::warn!(
            cache_budget_mib = cache_budget >> 20,
            process_budget_mib = cache::PROCESS_BUDGET_BYTES >> 20,
            "the caches' byte budgets add up to more than the process budget"
        );
    } else {
        tracing::info!(cache_budget_mib = cache_budget >> 20, "caches bounded");
    }
    tracing::info!(
        %addr,
        base_url = %config.base_url,
        https = application.serves_tls(),
        "Smart Courses listening"
    );
    #[cfg(feature = "dev-host")]
    let _sim = server::dev_host::start(&config, application.state().clone()).await?;
    application.run_until(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Minimal KEY=VALUE reader: blank lines and `#` comments skipped; values
/// already in the environment are not overridden.
fn load_env_file(path: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .with_context(|| format!("{}:{}: expected KEY=VALUE", path.display(), n + 1))?;
        let (k, v) = (k.trim(), v.trim().trim_matches('"'));
        if std::env::var_os(k).is_none() {
            // Still single-threaded here (the runtime starts afterwards).
            std::env::set_var(k, v);
        }
    }
    Ok(())
}
