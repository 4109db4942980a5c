//! The `tenants` table: one row per installed Confluence site. The trust
//! core reads and writes it through [`connect::TenantStore`] (and its
//! verification cache, [`connect::Tenants`]); nothing else writes it.

use connect::{
    forge::ForgeInstallations, StateChange, Tenant, TenantInstall, TenantState, TenantStore,
    TenantStoreError,
};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use super::{now_epoch, secrets::Keyring, Db, StoreResult};

/// What [`Db::seal_secrets`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sealed {
    /// Rows encrypted (or re-encrypted) with the current key.
    pub sealed: usize,
    /// Rows already under the current key.
    pub current: usize,
}

/// The PostgreSQL channel a tenant change is announced on (payload: the
/// client key), so other server processes drop their cached row at once.
pub const TENANT_CHANNEL: &str = "sc_tenant_changed";

impl Db {
    /// Drops `client_key` from `tenants`' verification cache whenever any
    /// process announces a change (PostgreSQL `LISTEN`), for as long as
    /// the returned task runs; reconnects after a failure (meanwhile the
    /// cache's five seconds bound how stale a row can be).
    pub fn follow_tenant_changes(
        &self,
        url: &str,
        on_change: impl Fn(&str) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend() != super::Backend::Postgres {
            return None;
        }
        let url = url.to_owned();
        Some(tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => match listener.listen(TENANT_CHANNEL).await {
                        Ok(()) => loop {
                            match listener.recv().await {
                                Ok(n) => on_change(n.payload()),
                                Err(e) => {
                                    tracing::warn!(error = %e, "tenant change listener lost");
                                    break;
                                }
                            }
                        },
                        Err(e) => tracing::warn!(error = %e, "cannot listen for tenant changes"),
                    },
                    Err(e) => tracing::warn!(error = %e, "cannot connect the tenant listener"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }))
    }

    /// Tells other server processes (PostgreSQL) that a tenant's row
    /// changed; their verification caches drop it at once. A failure only
    /// delays them to the cache's lifetime (five seconds).
    async fn announce_tenant_change(&self, client_key: &str) {
        if self.backend() != super::Backend::Postgres {
            return;
        }
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(TENANT_CHANNEL)
            .bind(client_key)
            .execute(self.pool())
            .await
        {
            tracing::warn!(error = %e, "tenant change not announced to other processes");
        }
    }

    /// Brings every stored shared secret under the current data key:
    /// secrets stored in clear (before encryption) and secrets under a
    /// previous key are (re-)encrypted, one row at a time, each row only if
    /// it is unchanged meanwhile. `serve` runs it at start (clear ones);
    /// `smart-courses rotate-key` runs it after the key changes.
    pub async fn seal_secrets(&self) -> StoreResult<Sealed> {
        let keyring = self.keyring()?;
        let rows = sqlx::query("SELECT client_key, shared_secret FROM tenants")
            .fetch_all(self.pool())
            .await?;
        let mut done = Sealed::default();
        for row in rows {
            let client_key: String = row.try_get("client_key")?;
            let stored: String = row.try_get("shared_secret")?;
            if Keyring::key_id(&stored) == Some(keyring.current_id()) {
                done.current += 1;
                continue;
            }
            let plain = if Keyring::is_encrypted(&stored) {
                keyring.decrypt(&stored, &client_key)?
            } else {
                SecretString::from(stored.clone())
            };
            let sealed = keyring.encrypt(plain.expose_secret(), &client_key);
            let _gate = self.sqlite_write_gate().await;
            sqlx::query(
                "UPDATE tenants SET shared_secret = $1 WHERE client_key = $2 AND shared_secret = $3",
            )
            .bind(&sealed)
            .bind(&client_key)
            .bind(&stored)
            .execute(self.pool())
            .await?;
            drop(_gate);
            self.announce_tenant_change(&client_key).await;
            done.sealed += 1;
        }
        Ok(done)
    }

    /// Inserts or replaces a tenant after a **verified signed install**
    /// (the only caller is the `/installed` handler, after
    /// `connect::install::verify`). One statement, so a failure writes nothing.
    pub async fn upsert_tenant(&self, t: &TenantInstall) -> StoreResult<()> {
        let now = now_epoch();
        // Encrypted under the data key, bound to this row (see `secrets`).
        let sealed = self
            .keyring()?
            .encrypt(t.shared_secret.expose_secret(), &t.client_key);
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
        .bind(&sealed)
        .bind(&t.base_url)
        .bind(&t.display_url)
        .bind(&t.product_type)
        .bind(&t.oauth_client_id)
        .bind(&t.installation_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        self.announce_tenant_change(&t.client_key).await;
        Ok(())
    }

    /// Looks a tenant up by client key (the `iss` of a token, before the
    /// signature is checked with that tenant's secret). Always reads the
    /// database.
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
        let client_key: String = row.try_get("client_key")?;
        let stored: String = row.try_get("shared_secret")?;
        let shared_secret = if Keyring::is_encrypted(&stored) {
            self.keyring()?.decrypt(&stored, &client_key)?
        } else {
            // Written before secrets were encrypted; `seal_secrets` (run
            // at every start) encrypts it.
            SecretString::from(stored)
        };
        Ok(Some(Tenant {
            client_key,
            shared_secret,
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
    ///
    /// Only `/installed` brings an uninstalled tenant back: `enabled` and
    /// `disabled` leave an uninstalled row as it is (they can arrive out of
    /// order, e.g. a `disabled` racing the `uninstalled`), in the same
    /// statement that would have changed it.
    pub async fn set_tenant_state(
        &self,
        client_key: &str,
        state: TenantState,
    ) -> StoreResult<StateChange> {
        let now = now_epoch();
        let uninstalled_at = (state == TenantState::Uninstalled).then_some(now);
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "UPDATE tenants SET state = $1, updated_at = $2, \
                    uninstalled_at = COALESCE($3, uninstalled_at) \
             WHERE client_key = $4 AND ($1 = 'uninstalled' OR state <> 'uninstalled')",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(uninstalled_at)
        .bind(client_key)
        .execute(self.pool())
        .await?;
        if done.rows_affected() > 0 {
            drop(_gate);
            self.announce_tenant_change(client_key).await;
            return Ok(StateChange::Changed);
        }
        Ok(match self.tenant(client_key).await? {
            Some(_) => StateChange::KeptUninstalled,
            None => StateChange::Missing,
        })
    }
}

impl Db {
    /// Records a signed lifecycle token as used; `false` if it was already
    /// (a replay). Expired records are dropped on the way.
    pub async fn remember_lifecycle_token(
        &self,
        token_sha256: &str,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let _gate = self.sqlite_write_gate().await;
        sqlx::query("DELETE FROM seen_lifecycle_tokens WHERE expires_at < $1")
            .bind(now_epoch())
            .execute(self.pool())
            .await?;
        let done = sqlx::query(
            "INSERT INTO seen_lifecycle_tokens (token_sha256, expires_at) VALUES ($1, $2) \
             ON CONFLICT (token_sha256) DO NOTHING",
        )
        .bind(token_sha256)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a remembered token (its request failed before it changed
    /// anything, so Atlassian's retry with the same token must work).
    pub async fn forget_lifecycle_token(&self, token_sha256: &str) -> StoreResult<()> {
        let _gate = self.sqlite_write_gate().await;
        sqlx::query("DELETE FROM seen_lifecycle_tokens WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl Db {
    /// The client key of the tenant a Forge installation belongs to
    /// (`tenants.installation_id`, written only by a verified install).
    ///
    /// When several rows name the installation, the one active row wins;
    /// two active rows (which no verified install should produce) are
    /// ambiguous and answer `None` — the caller refuses rather than
    /// guessing a site. An inactive row alone is returned as it is (the
    /// verifier refuses it as inactive).
    pub async fn tenant_by_installation_id(
        &self,
        installation_id: &str,
    ) -> StoreResult<Option<String>> {
        let rows = sqlx::query(
            "SELECT client_key, state FROM tenants WHERE installation_id = $1 \
             ORDER BY client_key LIMIT 16",
        )
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?;
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            let client_key: String = row.try_get("client_key")?;
            let state = TenantState::parse(&row.try_get::<String, _>("state")?);
            all.push((client_key, state));
        }
        let active: Vec<&String> = all
            .iter()
            .filter(|(_, s)| s.is_active())
            .map(|(k, _)| k)
            .collect();
        Ok(match (active.as_slice(), all.as_slice()) {
            ([one], _) => Some((*one).clone()),
            ([], [(only, _)]) => Some(only.clone()),
            ([], _) => None,
            _ => {
                tracing::warn!(
                    rows = active.len(),
                    "several tenants name one Forge installation; refusing it"
                );
                None
            }
        })
    }
}

impl ForgeInstallations for Db {
    fn client_key<'a>(
        &'a self,
        installation_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, TenantStoreError>> {
        Box::pin(async move {
            Db::tenant_by_installation_id(self, installation_id)
                .await
                .map_err(store_error)
        })
    }
}

fn store_error(e: super::StoreError) -> TenantStoreError {
    TenantStoreError(e.to_string())
}

impl TenantStore for Db {
    fn tenant<'a>(
        &'a self,
        client_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Tenant>, TenantStoreError>> {
        Box::pin(async move { Db::tenant(self, client_key).await.map_err(store_error) })
    }

    fn upsert_tenant<'a>(
        &'a self,
        install: &'a TenantInstall,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async move { Db::upsert_tenant(self, install).await.map_err(store_error) })
    }

    fn remember_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<bool, TenantStoreError>> {
        Box::pin(async move {
            Db::remember_lifecycle_token(self, token_sha256, expires_at)
                .await
                .map_err(store_error)
        })
    }

    fn forget_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async move {
            Db::forget_lifecycle_token(self, token_sha256)
                .await
                .map_err(store_error)
        })
    }

    fn set_tenant_state<'a>(
        &'a self,
        client_key: &'a str,
        state: TenantState,
    ) -> BoxFuture<'a, Result<StateChange, TenantStoreError>> {
        Box::pin(async move {
            Db::set_tenant_state(self, client_key, state)
                .await
                .map_err(store_error)
        })
    }

    fn active_client_keys(&self) -> BoxFuture<'_, Result<Vec<String>, TenantStoreError>> {
        Box::pin(async move {
            sqlx::query_scalar(
                "SELECT client_key FROM tenants WHERE state IN ('installed', 'enabled') \
                 ORDER BY client_key",
            )
            .fetch_all(self.pool())
            .await
            .map_err(|e| store_error(e.into()))
        })
    }
}
