//! The `tenants` table: one row per installed Confluence site.

use secrecy::SecretString;
use sqlx::Row;

use std::collections::HashMap;

use super::{now_epoch, Db, StoreResult};

/// Lifecycle state of a tenant, as the last lifecycle callback left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantState {
    Installed,
    Enabled,
    Disabled,
    Uninstalled,
}

impl TenantState {
    fn as_str(self) -> &'static str {
        match self {
            TenantState::Installed => "installed",
            TenantState::Enabled => "enabled",
            TenantState::Disabled => "disabled",
            TenantState::Uninstalled => "uninstalled",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "installed" => TenantState::Installed,
            "enabled" => TenantState::Enabled,
            "disabled" => TenantState::Disabled,
            // Unknown values fail closed.
            _ => TenantState::Uninstalled,
        }
    }

    /// Whether tokens signed for this tenant may be accepted. A disabled or
    /// uninstalled app must stop answering at once.
    pub fn is_active(self) -> bool {
        matches!(self, TenantState::Installed | TenantState::Enabled)
    }
}

/// A stored tenant. The shared secret is wrapped so it never reaches a log.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub client_key: String,
    pub shared_secret: SecretString,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub oauth_client_id: Option<String>,
    pub installation_id: Option<String>,
    pub state: TenantState,
    pub installed_at: i64,
    pub updated_at: i64,
}

/// What a verified install writes.
#[derive(Clone, Debug)]
pub struct TenantInstall {
    pub client_key: String,
    pub shared_secret: SecretString,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub oauth_client_id: Option<String>,
    pub installation_id: Option<String>,
}

impl Db {
    /// Inserts or replaces a tenant after a **verified signed install**
    /// (the only caller is the `/installed` handler, after
    /// `connect::install::verify`). One statement, so a failure writes nothing.
    pub async fn upsert_tenant(&self, t: &TenantInstall) -> StoreResult<()> {
        self.tenant_cache.forget(&t.client_key);
        use secrecy::ExposeSecret;
        let now = now_epoch();
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO tenants (client_key, shared_secret, base_url, display_url, product_type, \
                                  oauth_client_id, installation_id, state, installed_at, updated_at, \
                                  uninstalled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'installed', $8, $8, NULL) \
             ON CONFLICT (client_key) DO UPDATE SET \
                shared_secret = excluded.shared_secret, base_url = excluded.base_url, \
                display_url = excluded.display_url, product_type = excluded.product_type, \
                oauth_client_id = excluded.oauth_client_id, \
                installation_id = excluded.installation_id, state = 'installed', \
                updated_at = excluded.updated_at, uninstalled_at = NULL",
        )
        .bind(&t.client_key)
        .bind(t.shared_secret.expose_secret())
        .bind(&t.base_url)
        .bind(&t.display_url)
        .bind(&t.product_type)
        .bind(&t.oauth_client_id)
        .bind(&t.installation_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        self.tenant_cache.forget(&t.client_key);
        Ok(())
    }

    /// The tenant for verifying a token, from a cache of at most
    /// [`TENANT_CACHE_TTL`] (every request verifies a token; the tenant row
    /// rarely changes). The flag says whether it came from the cache: a
    /// token that fails with a cached tenant is checked again with a fresh
    /// read (the secret may have been rotated by a re-install that another
    /// server process handled), see [`crate::connect::jwt::verify_hs256`].
    /// Installs and state changes handled by this process update the cache
    /// at once; another process's are seen within the TTL.
    pub async fn tenant_for_auth(&self, client_key: &str) -> StoreResult<(Option<Tenant>, bool)> {
        if let Some(t) = self.tenant_cache.get(client_key) {
            return Ok((Some(t), true));
        }
        let t = self.tenant(client_key).await?;
        if let Some(t) = &t {
            self.tenant_cache.put(t.clone());
        }
        Ok((t, false))
    }

    /// Looks a tenant up by client key (the `iss` of a token, before the
    /// signature is checked with that tenant's secret). Always reads the
    /// database (and refreshes the cache of [`Db::tenant_for_auth`]).
    pub async fn tenant(&self, client_key: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query(
            "SELECT client_key, shared_secret, base_url, display_url, product_type, \
                    oauth_client_id, installation_id, state, installed_at, updated_at \
             FROM tenants WHERE client_key = $1",
        )
        .bind(client_key)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Tenant {
            client_key: row.try_get("client_key")?,
            shared_secret: SecretString::from(row.try_get::<String, _>("shared_secret")?),
            base_url: row.try_get("base_url")?,
            display_url: row.try_get("display_url")?,
            product_type: row.try_get("product_type")?,
            oauth_client_id: row.try_get("oauth_client_id")?,
            installation_id: row.try_get("installation_id")?,
            state: TenantState::parse(&row.try_get::<String, _>("state")?),
            installed_at: row.try_get("installed_at")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Records a lifecycle state change. Returns false when no such tenant exists.
    pub async fn set_tenant_state(
        &self,
        client_key: &str,
        state: TenantState,
    ) -> StoreResult<bool> {
        self.tenant_cache.forget(client_key);
        let now = now_epoch();
        let uninstalled_at = (state == TenantState::Uninstalled).then_some(now);
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "UPDATE tenants SET state = $1, updated_at = $2, \
                    uninstalled_at = COALESCE($3, uninstalled_at) \
             WHERE client_key = $4",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(uninstalled_at)
        .bind(client_key)
        .execute(self.pool())
        .await?;
        // Again after the write: a verification that read the row meanwhile
        // may have cached the old state.
        self.tenant_cache.forget(client_key);
        Ok(done.rows_affected() > 0)
    }
}

/// How long [`Db::tenant_for_auth`] reuses a tenant row.
pub const TENANT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Tenants kept at most; the cache is emptied when it is full.
const TENANT_CACHE_MAX: usize = 10_000;

/// Client key → (tenant row, when it was read).
type Rows = HashMap<String, (Tenant, std::time::Instant)>;

/// Recently read tenant rows by client key (see [`Db::tenant_for_auth`]).
#[derive(Clone, Default)]
pub struct TenantCache(std::sync::Arc<std::sync::Mutex<Rows>>);

impl std::fmt::Debug for TenantCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantCache")
    }
}

impl TenantCache {
    fn get(&self, client_key: &str) -> Option<Tenant> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(client_key)
            .filter(|(_, at)| at.elapsed() < TENANT_CACHE_TTL)
            .map(|(t, _)| t.clone())
    }

    pub(crate) fn put(&self, t: Tenant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= TENANT_CACHE_MAX {
            map.clear();
        }
        map.insert(t.client_key.clone(), (t, std::time::Instant::now()));
    }

    pub(crate) fn forget(&self, client_key: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(client_key);
    }
}
