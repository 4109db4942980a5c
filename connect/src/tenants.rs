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

/// What a lifecycle state change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateChange {
    /// The tenant is now in the new state.
    Changed,
    /// The tenant is uninstalled and stays so: only `/installed` revives it.
    KeptUninstalled,
    /// No such tenant.
    Missing,
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

    /// Records a signed lifecycle token (by hash) as used until it expires;
    /// `false` if it was used before (a replay).
    fn remember_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<bool, TenantStoreError>>;

    /// Forgets a remembered lifecycle token (its request failed).
    fn forget_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>>;

    /// Records a lifecycle state — except that only an install revives an
    /// uninstalled tenant (see [`StateChange`]).
    fn set_tenant_state<'a>(
        &'a self,
        client_key: &'a str,
        state: TenantState,
    ) -> BoxFuture<'a, Result<StateChange, TenantStoreError>>;

    /// The client keys of every active (installed or enabled) tenant.
    fn active_client_keys(&self) -> BoxFuture<'_, Result<Vec<String>, TenantStoreError>>;
}

/// How long a tenant row is reused for token verification. A token that
/// fails with a cached row is checked again with a fresh read (the secret
/// may have been rotated by a re-install that another server process
/// handled), so this only bounds how long *another* process's uninstall or
/// disable takes to be seen here.
pub const TENANT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Bytes of tenant rows kept (a row is a few hundred bytes).
const TENANT_CACHE_BYTES: usize = 1 << 20;

/// Bytes of remembered unknown client keys.
const UNKNOWN_CACHE_BYTES: usize = 256 << 10;

/// The tenant directory: the store plus the verification cache, and a brief
/// memory of client keys the store does not know (a token naming an
/// unknown `iss` is refused without a database read for [`TENANT_CACHE_TTL`]).
#[derive(Clone)]
pub struct Tenants {
    store: Arc<dyn TenantStore>,
    cache: Cache<String, Tenant>,
    unknown: Cache<String, ()>,
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
            unknown: Cache::new("unknown-tenants", UNKNOWN_CACHE_BYTES, TENANT_CACHE_TTL),
        }
    }

    /// The tenant for verifying a token, and whether it came from the cache
    /// (see [`TENANT_CACHE_TTL`] and [`crate::jwt::verify_hs256`]).
    pub async fn for_auth(
        &self,
        client_key: &str,
    ) -> Result<(Option<Tenant>, bool), TenantStoreError> {
        let key = client_key.to_owned();
        if let Some(t) = self.cache.get(&key) {
            return Ok((Some(t), true));
        }
        if self.unknown.get(&key).is_some() {
            return Ok((None, true));
        }
        Ok((self.fresh(client_key).await?, false))
    }

    /// The tenant as stored now (and cached for [`Tenants::for_auth`],
    /// unless a lifecycle change happened while it was being read).
    pub async fn fresh(&self, client_key: &str) -> Result<Option<Tenant>, TenantStoreError> {
        let seen = self.cache.generation();
        let seen_unknown = self.unknown.generation();
        let t = self.store.tenant(client_key).await?;
        match &t {
            Some(t) => {
                self.cache
                    .insert_if_current(client_key.to_owned(), t.clone(), seen);
            }
            None => {
                self.unknown
                    .insert_if_current(client_key.to_owned(), (), seen_unknown);
            }
        }
        Ok(t)
    }

    /// Writes a verified install (the only caller is `/installed`, after
    /// [`crate::install::verify`]).
    pub async fn install(&self, install: &TenantInstall) -> Result<(), TenantStoreError> {
        self.cache.invalidate(&install.client_key);
        self.unknown.invalidate(&install.client_key);
        let done = self.store.upsert_tenant(install).await;
        self.cache.invalidate(&install.client_key);
        self.unknown.invalidate(&install.client_key);
        done
    }

    /// Records a signed lifecycle token as used (see
    /// [`TenantStore::remember_lifecycle_token`]); `false` for a replay.
    pub async fn remember_lifecycle_token(
        &self,
        token_sha256: &str,
        expires_at: i64,
    ) -> Result<bool, TenantStoreError> {
        self.store
            .remember_lifecycle_token(token_sha256, expires_at)
            .await
    }

    /// Forgets a remembered lifecycle token.
    pub async fn forget_lifecycle_token(&self, token_sha256: &str) -> Result<(), TenantStoreError> {
        self.store.forget_lifecycle_token(token_sha256).await
    }

    /// Records a lifecycle state change (see [`StateChange`]).
    pub async fn set_state(
        &self,
        client_key: &str,
        state: TenantState,
    ) -> Result<StateChange, TenantStoreError> {
        self.cache.invalidate(&client_key.to_owned());
        let done = self.store.set_tenant_state(client_key, state).await;
        // Again after the write: a verification that read the row meanwhile
        // must not keep the old state (its insert is refused by generation).
        self.cache.invalidate(&client_key.to_owned());
        done
    }

    /// Drops a cached row: another server process changed it (see
    /// `store::tenants` notifications on PostgreSQL).
    pub fn invalidate(&self, client_key: &str) {
        self.cache.invalidate(&client_key.to_owned());
        self.unknown.invalidate(&client_key.to_owned());
    }

    /// The key of a tenant the store holds, in any state, for operator
    /// commands (`smart-courses erase-account`): there the operator's shell
    /// is the authority, and a key exists only for a site that does.
    pub async fn stored(
        &self,
        client_key: &str,
    ) -> Result<Option<crate::TenantKey>, TenantStoreError> {
        Ok(self
            .store
            .tenant(client_key)
            .await?
            .map(|t| crate::TenantKey::verified(t.client_key)))
    }

    /// Every active tenant, for background jobs (group sync, reminders)
    /// that act for each site on their own. The keys come from the store,
    /// which only a verified signed install writes, and are read again on
    /// every call, so an uninstalled site drops out at once.
    pub async fn active(&self) -> Result<Vec<crate::TenantKey>, TenantStoreError> {
        Ok(self
            .store
            .active_client_keys()
            .await?
            .into_iter()
            .map(crate::TenantKey::verified)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::sync::Notify;

    use super::*;

    /// A store whose reads can be held between reading the row and
    /// answering: the window in which an uninstall can land.
    #[derive(Default)]
    struct HeldStore {
        row: Mutex<Option<Tenant>>,
        reads: Mutex<usize>,
        read_started: Notify,
        release: Notify,
        hold_next_read: Mutex<bool>,
    }

    fn tenant(state: TenantState) -> Tenant {
        Tenant {
            client_key: "k".into(),
            shared_secret: SecretString::from("secret"),
            base_url: "https://k.atlassian.net/wiki".into(),
            display_url: None,
            product_type: None,
            oauth_client_id: None,
            installation_id: None,
            state,
            installed_at: 0,
            updated_at: 0,
        }
    }

    impl TenantStore for HeldStore {
        fn tenant<'a>(
            &'a self,
            _client_key: &'a str,
        ) -> BoxFuture<'a, Result<Option<Tenant>, TenantStoreError>> {
            Box::pin(async move {
                let row = self.row.lock().unwrap().clone();
                *self.reads.lock().unwrap() += 1;
                let hold = std::mem::take(&mut *self.hold_next_read.lock().unwrap());
                if hold {
                    self.read_started.notify_one();
                    self.release.notified().await;
                }
                Ok(row)
            })
        }

        fn upsert_tenant<'a>(
            &'a self,
            _install: &'a TenantInstall,
        ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
            Box::pin(async move { Ok(()) })
        }

        fn remember_lifecycle_token<'a>(
            &'a self,
            _token_sha256: &'a str,
            _expires_at: i64,
        ) -> BoxFuture<'a, Result<bool, TenantStoreError>> {
            Box::pin(async move { Ok(true) })
        }

        fn forget_lifecycle_token<'a>(
            &'a self,
            _token_sha256: &'a str,
        ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
            Box::pin(async move { Ok(()) })
        }

        fn set_tenant_state<'a>(
            &'a self,
            _client_key: &'a str,
            state: TenantState,
        ) -> BoxFuture<'a, Result<StateChange, TenantStoreError>> {
            Box::pin(async move {
                if let Some(t) = self.row.lock().unwrap().as_mut() {
                    t.state = state;
                }
                Ok(StateChange::Changed)
            })
        }

        fn active_client_keys(&self) -> BoxFuture<'_, Result<Vec<String>, TenantStoreError>> {
            Box::pin(async move {
                Ok(self
                    .row
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|t| t.state.is_active())
                    .map(|t| t.client_key.clone())
                    .collect())
            })
        }
    }

    /// A verification that read the row just before an uninstall must not
    /// put the old row back into the cache when it finishes after it.
    #[tokio::test]
    async fn a_read_that_races_an_uninstall_does_not_cache_the_old_row() {
        let store = Arc::new(HeldStore::default());
        *store.row.lock().unwrap() = Some(tenant(TenantState::Installed));
        let tenants = Tenants::new(store.clone());
        *store.hold_next_read.lock().unwrap() = true;

        let reading = {
            let tenants = tenants.clone();
            tokio::spawn(async move { tenants.for_auth("k").await })
        };
        store.read_started.notified().await;
        tenants
            .set_state("k", TenantState::Uninstalled)
            .await
            .unwrap();
        store.release.notify_one();
        let (stale, _) = reading.await.unwrap().unwrap();
        assert_eq!(
            stale.unwrap().state,
            TenantState::Installed,
            "the racing read saw the old row"
        );

        let (now, cached) = tenants.for_auth("k").await.unwrap();
        assert_eq!(now.unwrap().state, TenantState::Uninstalled);
        assert!(!cached, "read again, not served from the cache");
        assert_eq!(*store.reads.lock().unwrap(), 2);
    }

    /// An unknown client key is remembered briefly: a flood of tokens
    /// naming it costs one read, and an install is seen at once.
    #[tokio::test]
    async fn unknown_client_keys_are_remembered_until_an_install() {
        let store = Arc::new(HeldStore::default());
        let tenants = Tenants::new(store.clone());
        for _ in 0..5 {
            assert!(tenants.for_auth("k").await.unwrap().0.is_none());
        }
        assert_eq!(*store.reads.lock().unwrap(), 1);
        *store.row.lock().unwrap() = Some(tenant(TenantState::Installed));
        tenants
            .install(&TenantInstall {
                client_key: "k".into(),
                shared_secret: SecretString::from("secret"),
                base_url: "https://k.atlassian.net/wiki".into(),
                display_url: None,
                product_type: None,
                oauth_client_id: None,
                installation_id: None,
            })
            .await
            .unwrap();
        assert!(tenants.for_auth("k").await.unwrap().0.is_some());
    }
}
