//! Tenants as the trust core sees them: one record per installed
//! Confluence site, with the shared secret that signs its tokens.
//!
//! The trust core does not know SQL: it reads and writes tenants through the
//! small [`TenantStore`] interface (the shape of atlassian-connect-express's
//! store adapters), which the `store` crate implements. [`Tenants`] puts a
//! short-lived cache in front of it for token verification — every request
//! verifies a token, the row rarely changes — and is the only way lifecycle
//! writes reach the store, so the cache is invalidated on every change.

use std::{sync::Arc, time::Duration};

use cache::{Cache, Weigh};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// Lifecycle state of a tenant, as the last lifecycle callback left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantState {
    Installed,
    Enabled,
    Disabled,
    Uninstalled,
}

impl TenantState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Installed => "installed",
            TenantState::Enabled => "enabled",
            TenantState::Disabled => "disabled",
            TenantState::Uninstalled => "uninstalled",
        }
    }

    /// From the stored text; unknown values fail closed (uninstalled).
    pub fn parse(s: &str) -> Self {
        match s {
            "installed" => TenantState::Installed,
            "enabled" => TenantState::Enabled,
            "disabled" => TenantState::Disabled,
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

impl Weigh for Tenant {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Tenant>()
            + self.client_key.len()
            + self.shared_secret.expose_secret().len()
            + self.base_url.len()
            + self.display_url.as_ref().map_or(0, String::len)
            + self.product_type.as_ref().map_or(0, String::len)
            + self.oauth_client_id.as_ref().map_or(0, String::len)
            + self.installation_id.as_ref().map_or(0, String::len)
    }
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

/// The store could not be read or written. The text is for logs only.
#[derive(Debug, thiserror::Error)]
#[error("tenant store: {0}")]
pub struct TenantStoreError(pub String);

/// Persistence of tenant records (implemented by the `store` crate).
pub trait TenantStore: Send + Sync + 'static {
    /// The tenant with this client key, as stored now.
    fn tenant<'a>(
        &'a self,
        client_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Tenant>, TenantStoreError>>;

    /// Inserts or replaces a tenant (state `installed`), in one statement.
    fn upsert_tenant<'a>(
        &'a self,
        install: &'a TenantInstall,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>>;

    /// Records a lifecycle state; `false` when no such tenant exists.
    fn set_tenant_state<'a>(
        &'a self,
        client_key: &'a str,
        state: TenantState,
    ) -> BoxFuture<'a, Result<bool, TenantStoreError>>;
}

/// How long a tenant row is reused for token verification. A token that
/// fails with a cached row is checked again with a fresh read (the secret
/// may have been rotated by a re-install that another server process
/// handled), so this only bounds how long *another* process's uninstall or
/// disable takes to be seen here.
pub const TENANT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Bytes of tenant rows kept (a row is a few hundred bytes).
const TENANT_CACHE_BYTES: usize = 4 << 20;

/// The tenant directory: the store plus the verification cache.
#[derive(Clone)]
pub struct Tenants {
    store: Arc<dyn TenantStore>,
    cache: Cache<String, Tenant>,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Tenants {
    /// Tenants kept in `store`.
    pub fn new(store: Arc<dyn TenantStore>) -> Self {
        Self {
            store,
            cache: Cache::new("tenants", TENANT_CACHE_BYTES, TENANT_CACHE_TTL),
        }
    }

    /// The tenant for verifying a token, and whether it came from the cache
    /// (see [`TENANT_CACHE_TTL`] and [`crate::jwt::verify_hs256`]).
    pub async fn for_auth(
        &self,
        client_key: &str,
    ) -> Result<(Option<Tenant>, bool), TenantStoreError> {
        if let Some(t) = self.cache.get(&client_key.to_owned()) {
            return Ok((Some(t), true));
        }
        Ok((self.fresh(client_key).await?, false))
    }

    /// The tenant as stored now (and cached for [`Tenants::for_auth`],
    /// unless a lifecycle change happened while it was being read).
    pub async fn fresh(&self, client_key: &str) -> Result<Option<Tenant>, TenantStoreError> {
        let seen = self.cache.generation();
        let t = self.store.tenant(client_key).await?;
        if let Some(t) = &t {
            self.cache
                .insert_if_current(client_key.to_owned(), t.clone(), seen);
        }
        Ok(t)
    }

    /// Writes a verified install (the only caller is `/installed`, after
    /// [`crate::install::verify`]).
    pub async fn install(&self, install: &TenantInstall) -> Result<(), TenantStoreError> {
        self.cache.invalidate(&install.client_key);
        let done = self.store.upsert_tenant(install).await;
        self.cache.invalidate(&install.client_key);
        done
    }

    /// Records a lifecycle state change; `false` when no such tenant exists.
    pub async fn set_state(
        &self,
        client_key: &str,
        state: TenantState,
    ) -> Result<bool, TenantStoreError> {
        self.cache.invalidate(&client_key.to_owned());
        let done = self.store.set_tenant_state(client_key, state).await;
        // Again after the write: a verification that read the row meanwhile
        // must not keep the old state (its insert is refused by generation).
        self.cache.invalidate(&client_key.to_owned());
        done
    }
}
