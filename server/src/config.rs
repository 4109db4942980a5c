//! Configuration, layered: command-line flags > environment > optional env
//! file (`--env-file`, KEY=VALUE lines) > defaults. Read once at start-up.
//! See README "Configuration" and `.env.sample`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use app::state::Settings;
use clap::Args;
use connect::ConnectSettings;
use url::Url;

/// Everything `serve` and `migrate` need. Field docs are the `--help` text.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Public base URL of the app: the descriptor's baseUrl and the `aud` every
    /// install token must carry.
    #[arg(long, env = "APP_BASE_URL", default_value = "http://127.0.0.1:3000")]
    pub base_url: Url,

    /// Connect app key (descriptor `key`).
    #[arg(long, env = "APP_KEY", default_value = "smart-courses")]
    pub app_key: String,

    /// Address to bind (Leptos's own variable name). Port 0 picks a free port.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// PEM certificate chain (the server's certificate first) to serve https
    /// with, TLS 1.3 and 1.2 only. Set with TLS_KEY_PATH, or neither.
    /// README "Operations".
    #[arg(long, env = "TLS_CERT_PATH")]
    pub tls_cert_path: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the TLS certificate.
    #[arg(long, env = "TLS_KEY_PATH")]
    pub tls_key_path: Option<PathBuf>,

    /// A proxy in front terminates TLS: with an https APP_BASE_URL and no
    /// TLS_CERT_PATH the server refuses to start without this. The variable
    /// takes true/false, 1/0, yes/no, on/off.
    #[arg(long, env = "BEHIND_TLS_PROXY", value_parser = clap::builder::BoolishValueParser::new())]
    pub behind_tls_proxy: bool,

    /// sqlite://path (default, created on first start) or postgres://…
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/smart-courses.db"
    )]
    pub database_url: String,

    /// Folder with the built browser assets (scripts/build-site.sh output).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Where signed-install public keys are fetched (`<url>/<kid>`).
    #[arg(long, env = "CONNECT_KEYS_CDN_URL")]
    pub keys_cdn_url: Option<Url>,

    /// OAuth 2.0 token endpoint for ACT_AS_USER (the JWT-bearer grant).
    /// Defaults to Atlassian's authorization server (the simulator's
    /// `/oauth2/token` in dev-host builds).
    #[arg(long, env = "OAUTH_TOKEN_URL")]
    pub oauth_token_url: Option<Url>,

    /// The AP iframe library URL pages load (Atlassian's CDN by default).
    #[arg(long, env = "AP_SCRIPT_URL")]
    pub ap_script_url: Option<String>,

    /// Hosts whose sites may install the app (`baseUrl` of `/installed`),
    /// comma-separated: `*.atlassian.net` (any subdomain, https), an exact
    /// host, or `http://127.0.0.1:*` (plain http, loopback only, and only
    /// when this server itself binds to loopback — for tests and the
    /// simulator). Defaults to Atlassian's product domains, the list
    /// atlassian-connect-express accepts.
    #[arg(
        long,
        env = "TENANT_HOSTS",
        value_delimiter = ',',
        default_value = "*.atlassian.net,*.jira.com,*.jira-dev.com"
    )]
    pub tenant_hosts: Vec<String>,

    /// Origins besides the tenant's own site that may frame our pages
    /// (comma-separated; the host simulator adds its own).
    #[arg(long, env = "FRAME_ANCESTORS", value_delimiter = ',')]
    pub frame_ancestors: Vec<String>,

    /// Clock-skew leeway in seconds for exp/nbf/iat of incoming JWTs.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,

    /// Server-function requests per second one site may make (sustained;
    /// bursts up to `RATE_LIMIT_SITE_BURST`). Over it: 429 with Retry-After.
    #[arg(long, env = "RATE_LIMIT_SITE_PER_SEC", default_value_t = 500)]
    pub rate_limit_site_per_sec: u32,

    /// Burst size of the per-site limit.
    #[arg(long, env = "RATE_LIMIT_SITE_BURST", default_value_t = 2000)]
    pub rate_limit_site_burst: u32,

    /// Server-function requests per second one user of a site may make.
    #[arg(long, env = "RATE_LIMIT_USER_PER_SEC", default_value_t = 20)]
    pub rate_limit_user_per_sec: u32,

    /// Burst size of the per-user limit.
    #[arg(long, env = "RATE_LIMIT_USER_BURST", default_value_t = 60)]
    pub rate_limit_user_burst: u32,

    /// Courses one site may have.
    #[arg(long, env = "QUOTA_COURSES_PER_SITE", default_value_t = 2000)]
    pub quota_courses_per_site: u64,

    /// Published versions one course may have.
    #[arg(long, env = "QUOTA_VERSIONS_PER_COURSE", default_value_t = 500)]
    pub quota_versions_per_course: u64,

    /// Megabytes of course content (drafts and versions) one site may store.
    #[arg(long, env = "QUOTA_MEGABYTES_PER_SITE", default_value_t = 256)]
    pub quota_megabytes_per_site: u64,

    /// Minutes between group syncs (group rules' members read from
    /// Confluence); 0 turns the periodic sync off (opening the space tools
    /// tab still syncs).
    #[arg(long, env = "GROUP_SYNC_MINUTES", default_value_t = 15)]
    pub group_sync_minutes: u32,

    /// The data key tenants' shared secrets are encrypted with at rest:
    /// `<id>:<base64 of 32 random bytes>` (`smart-courses generate-key`
    /// makes one). Required to serve (a simulator build makes and keeps
    /// one under `data/` on loopback). A secret: never logged.
    #[arg(long, env = "DATA_KEY", hide_env_values = true, value_parser = secret)]
    pub data_key: Option<secrecy::SecretString>,

    /// Previous data keys (comma-separated), still read after a rotation
    /// until `smart-courses rotate-key` has re-encrypted every secret.
    #[arg(long, env = "DATA_KEY_PREVIOUS", hide_env_values = true, value_parser = secret)]
    pub data_key_previous: Option<secrecy::SecretString>,

    /// A bearer token that lets a scraper off loopback read `/metrics`
    /// (without it, only loopback peers may). A secret.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, value_parser = secret)]
    pub metrics_token: Option<secrecy::SecretString>,

    /// SMTP server for reminder e-mails, e.g. `smtps://user:pass@smtp.example.com`
    /// (a secret: never logged). Unset: no reminders are sent.
    #[arg(long, env = "SMTP_URL", hide_env_values = true, value_parser = secret)]
    pub smtp_url: Option<secrecy::SecretString>,

    /// The sender of reminder e-mails, e.g. `Smart Courses <courses@example.com>`.
    #[arg(long, env = "SMTP_FROM")]
    pub smtp_from: Option<String>,

    /// Days before a due date the "due soon" reminder goes out (0: never).
    #[arg(long, env = "REMINDER_DUE_SOON_DAYS", default_value_t = 3)]
    pub reminder_due_soon_days: u32,

    /// Days before a certificate expires the reminder goes out (0: never).
    #[arg(long, env = "REMINDER_EXPIRY_SOON_DAYS", default_value_t = 14)]
    pub reminder_expiry_soon_days: u32,

    /// Minutes between runs of the reminder job.
    #[arg(long, env = "REMINDER_INTERVAL_MINUTES", default_value_t = 60)]
    pub reminder_interval_minutes: u32,

    /// Days an uninstalled tenant's data is kept before it may be purged.
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,

    /// Hours between reports of stored account ids to Atlassian's
    /// personal-data reporting API (accounts reported closed are erased);
    /// 0 turns the report off.
    #[arg(long, env = "PERSONAL_DATA_REPORT_HOURS", default_value_t = 24)]
    pub personal_data_report_hours: u32,

    /// Folder for the automated encrypted backups (README "Operations /
    /// Backups"); with BACKUP_RECIPIENT, `serve` writes them on schedule.
    #[arg(long, env = "BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,

    /// The age public key (`age1…`, from `smart-courses backup-key`) backups
    /// are encrypted to. The private key is needed only to restore.
    #[arg(long, env = "BACKUP_RECIPIENT")]
    pub backup_recipient: Option<String>,

    /// A backup is written when the newest is older than this many hours;
    /// 0 turns scheduled backups off (`smart-courses backup` still works).
    #[arg(long, env = "BACKUP_EVERY_HOURS", default_value_t = 24)]
    pub backup_every_hours: u32,

    /// How many backups to keep in BACKUP_DIR (older ones are deleted).
    #[arg(long, env = "BACKUP_KEEP", default_value_t = 14)]
    pub backup_keep: u32,

    /// The Forge app id (`ari:cloud:ecosystem::app/<uuid>`, or the bare uuid
    /// `forge register` prints): the only `aud` a Forge Invocation Token may
    /// carry. Unset: the Forge routes (`/forge/*`) are not mounted and
    /// answer 404. README "Running on Forge".
    #[arg(long, env = "FORGE_APP_ID")]
    pub forge_app_id: Option<String>,

    /// Where Forge's token-signing keys are fetched (a JWKS). Defaults to
    /// Forge's production JWKS; only with FORGE_APP_ID.
    #[arg(long, env = "FORGE_JWKS_URL")]
    pub forge_jwks_url: Option<Url>,

    /// What a FIT's `app.apiBaseUrl` must start with: where calls to
    /// Confluence for Forge callers go with the request's Forge tokens.
    /// Default Atlassian's production API
    /// (`https://api.atlassian.com/ex/confluence/`); another value only for
    /// staging or tests, and only with FORGE_APP_ID.
    #[arg(long, env = "FORGE_API_BASE_URL")]
    pub forge_api_base_url: Option<Url>,

    /// Bind address of the offline Confluence host simulator (dev-host builds
    /// only): a second origin that embeds the app's pages in iframes.
    #[cfg(feature = "dev-host")]
    #[arg(long, env = "DEV_HOST_ADDR", default_value = "127.0.0.1:3001")]
    pub dev_host_addr: SocketAddr,

    /// Where the npm packages live (the simulator serves atlassian-connect-js from it).
    #[cfg(feature = "dev-host")]
    #[arg(long, env = "NODE_MODULES_DIR", default_value = "node_modules")]
    pub node_modules_dir: PathBuf,

    /// Serve the npm copy of Atlassian's AP library at
    /// `/atlassian-connect/all.js` from this folder (set by the simulator;
    /// never from the command line).
    #[arg(skip)]
    pub serve_ap_copy_from: Option<PathBuf>,
}

/// Atlassian's AP iframe library.
pub const ATLASSIAN_AP_SCRIPT_URL: &str = "https://connect-cdn.atl-paas.net/all.js";

/// Atlassian's install-key server (what atlassian-connect-express falls back to).
pub const ATLASSIAN_KEYS_CDN: &str = "https://connect-install-keys.atlassian.com";

/// Atlassian's OAuth 2.0 authorization server: the ACT_AS_USER token endpoint
/// (connect-protocol.md §3.2; what atlassian-oauth2 posts to).
pub const ATLASSIAN_OAUTH_TOKEN_URL: &str =
    "https://oauth-2-authorization-server.services.atlassian.com/oauth2/token";

/// A secret from the command line or the environment (kept wrapped).
fn secret(s: &str) -> Result<secrecy::SecretString, String> {
    Ok(secrecy::SecretString::from(s.to_owned()))
}

impl Config {
    /// The data keys (see `store::secrets`); an error when none is set.
    pub fn keyring(&self) -> anyhow::Result<store::secrets::Keyring> {
        let key = self.data_key.as_ref().context(
            "DATA_KEY is not set: tenants' shared secrets are stored encrypted under it. \
             Make one with `smart-courses generate-key` and keep it with your other secrets",
        )?;
        store::secrets::Keyring::new(key, self.data_key_previous.as_ref())
            .context("DATA_KEY or DATA_KEY_PREVIOUS is malformed")
    }

    /// The reminder job's settings; `None` when SMTP is not configured.
    /// A half or wrong SMTP configuration is an error (the server refuses
    /// to start rather than silently send nothing).
    pub fn reminders(&self) -> anyhow::Result<Option<crate::reminders::ReminderSettings>> {
        let Some(url) = self.smtp_url.clone() else {
            anyhow::ensure!(
                self.smtp_from.is_none(),
                "SMTP_FROM is set but SMTP_URL is not: set both to send reminders"
            );
            return Ok(None);
        };
        let from = self
            .smtp_from
            .clone()
            .context("SMTP_URL is set: SMTP_FROM (the sender) must be set too")?;
        let mailer = mail::Mailer::new(&mail::SmtpSettings { url, from })
            .context("the SMTP settings are not usable")?;
        Ok(Some(crate::reminders::ReminderSettings {
            mailer,
            schedule: course::learning::reminders::ReminderSchedule {
                due_soon_days: self.reminder_due_soon_days,
                expiry_soon_days: self.reminder_expiry_soon_days,
            },
        }))
    }

    /// The backup settings; `None` when BACKUP_DIR and BACKUP_RECIPIENT are
    /// both unset. One without the other is an error (a server that was
    /// meant to back up must not silently run without backups).
    pub fn backups(&self) -> anyhow::Result<Option<crate::backup::BackupSettings>> {
        let (dir, recipient) = match (&self.backup_dir, &self.backup_recipient) {
            (None, None) => return Ok(None),
            (Some(d), Some(r)) => (d.clone(), crate::backup::parse_recipient(r)?),
            (Some(_), None) => anyhow::bail!(
                "BACKUP_DIR is set but BACKUP_RECIPIENT is not: backups are encrypted to it \
                 (make one with `smart-courses backup-key`)"
            ),
            (None, Some(_)) => {
                anyhow::bail!(
                    "BACKUP_RECIPIENT is set but BACKUP_DIR is not: where should backups go?"
                )
            }
        };
        Ok(Some(crate::backup::BackupSettings {
            dir,
            recipient,
            every: Duration::from_secs(u64::from(self.backup_every_hours) * 3600),
            keep: usize::try_from(self.backup_keep.max(1)).unwrap_or(1),
        }))
    }

    /// The Forge verifier's settings; `None` when FORGE_APP_ID is unset
    /// (Forge routes off). FORGE_JWKS_URL without FORGE_APP_ID, or a
    /// malformed app id, is an error.
    pub fn forge(&self) -> anyhow::Result<Option<connect::forge::ForgeSettings>> {
        let Some(app_id) = self.forge_app_id.as_deref().map(str::trim) else {
            anyhow::ensure!(
                self.forge_jwks_url.is_none() && self.forge_api_base_url.is_none(),
                "FORGE_JWKS_URL or FORGE_API_BASE_URL is set but FORGE_APP_ID is not: \
                 set FORGE_APP_ID to serve Forge"
            );
            return Ok(None);
        };
        let id = app_id
            .strip_prefix(connect::forge::APP_ARI_PREFIX)
            .unwrap_or(app_id);
        anyhow::ensure!(
            !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "FORGE_APP_ID must be the app id `forge register` printed \
             (ari:cloud:ecosystem::app/<uuid> or the bare uuid)"
        );
        let jwks_url = match &self.forge_jwks_url {
            Some(u) => u.clone(),
            None => Url::parse(connect::forge::PROD_JWKS_URL)?,
        };
        anyhow::ensure!(
            matches!(jwks_url.scheme(), "https" | "http") && jwks_url.host().is_some(),
            "FORGE_JWKS_URL must be an http(s) URL"
        );
        let mut settings = connect::forge::ForgeSettings::new(app_id, jwks_url);
        if let Some(api) = &self.forge_api_base_url {
            anyhow::ensure!(
                matches!(api.scheme(), "https" | "http")
                    && api.host().is_some()
                    && api.query().is_none()
                    && api.path().ends_with('/'),
                "FORGE_API_BASE_URL must be an http(s) URL ending in `/` \
                 (e.g. https://api.atlassian.com/ex/confluence/)"
            );
            settings.api_base_url_prefix = api.as_str().to_owned();
        }
        Ok(Some(settings))
    }

    /// The configuration with no flags given: environment variables, then
    /// defaults (what `smart-courses` with no subcommand uses; tests start
    /// from it and override fields).
    pub fn from_env_and_defaults() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        <Only as clap::Parser>::parse_from(["smart-courses"]).config
    }

    /// The trust core's and the app's settings, with defaults resolved.
    pub fn settings(&self) -> anyhow::Result<(ConnectSettings, Settings)> {
        let base_url = Url::parse(self.base_url.as_str().trim_end_matches('/'))
            .context("APP_BASE_URL is not a valid URL")?;
        let tenant_hosts = connect::TenantHosts::parse(&self.tenant_hosts)
            .map_err(|e| anyhow::anyhow!("TENANT_HOSTS: {e}"))?;
        anyhow::ensure!(
            !tenant_hosts.allows_plain_http() || self.site_addr.ip().is_loopback(),
            "TENANT_HOSTS allows plain-http sites, which is only possible when the server binds \
             to loopback (LEPTOS_SITE_ADDR={})",
            self.site_addr
        );
        let keys_cdn_url = self.keys_cdn_url.clone();
        let oauth_token_url = self.oauth_token_url.clone();
        let keys_cdn_url = match keys_cdn_url {
            Some(u) => u,
            None => Url::parse(ATLASSIAN_KEYS_CDN)?,
        };
        let oauth_token_url = match oauth_token_url {
            Some(u) => u,
            None => Url::parse(ATLASSIAN_OAUTH_TOKEN_URL)?,
        };
        // Its origin becomes the assertion's `aud`, so it must have one.
        anyhow::ensure!(
            matches!(oauth_token_url.scheme(), "https" | "http")
                && oauth_token_url.host().is_some(),
            "OAUTH_TOKEN_URL must be an http(s) URL"
        );
        Ok((
            ConnectSettings {
                base_url,
                app_key: self.app_key.clone(),
                keys_cdn_url,
                oauth_token_url,
                jwt_leeway: Duration::from_secs(self.jwt_leeway_secs),
                tenant_hosts,
            },
            Settings {
                ap_script_url: self
                    .ap_script_url
                    .clone()
                    .unwrap_or_else(|| ATLASSIAN_AP_SCRIPT_URL.to_owned()),
                extra_frame_ancestors: self.frame_ancestors.clone(),
                retention_days: self.retention_days,
                quotas: app::state::Quotas {
                    courses_per_site: self.quota_courses_per_site,
                    versions_per_course: self.quota_versions_per_course,
                    bytes_per_site: self.quota_megabytes_per_site.saturating_mul(1 << 20),
                },
            },
        ))
    }
}
