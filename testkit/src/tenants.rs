//! The trust core without a database: an in-memory [`TenantStore`] and a
//! [`ConnectState`] whose one site is installed at a [`FakeConfluence`],
//! for tests of code that calls Confluence back (`connect::users`,
//! `connect::content`, `connect::directory`, …) in crates that have no
//! database of their own.
//!
//! The site is installed through [`connect::Tenants::install`], the path a
//! verified `/installed` takes, and its [`TenantKey`] comes from
//! [`connect::Tenants::active`] — the same way background jobs get theirs —
//! so nothing here needs a way around the trust core's rules.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use connect::{
    ConnectSettings, ConnectState, StateChange, Tenant, TenantHosts, TenantInstall, TenantKey,
    TenantState, TenantStore, TenantStoreError, Tenants,
};
use futures::future::BoxFuture;
use secrecy::SecretString;
use url::Url;

use crate::{confluence::DEFAULT_APP_KEY, FakeConfluence};

/// Tenant rows and used lifecycle tokens, in memory (one process, no
/// persistence): what the `store` crate keeps in SQL.
#[derive(Debug, Default)]
pub struct MemoryTenantStore {
    tenants: Mutex<HashMap<String, Tenant>>,
    used_tokens: Mutex<HashSet<String>>,
}

impl MemoryTenantStore {
    fn rows(&self) -> MutexGuard<'_, HashMap<String, Tenant>> {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tokens(&self) -> MutexGuard<'_, HashSet<String>> {
        self.used_tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TenantStore for MemoryTenantStore {
    fn tenant<'a>(
        &'a self,
        client_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Tenant>, TenantStoreError>> {
        Box::pin(async move { Ok(self.rows().get(client_key).cloned()) })
    }

    fn upsert_tenant<'a>(
        &'a self,
        install: &'a TenantInstall,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async move {
            let now = crate::tokens::now();
            let mut rows = self.rows();
            let installed_at = rows
                .get(&install.client_key)
                .map_or(now, |t| t.installed_at);
            rows.insert(
                install.client_key.clone(),
                Tenant {
                    client_key: install.client_key.clone(),
                    shared_secret: install.shared_secret.clone(),
                    base_url: install.base_url.clone(),
                    display_url: install.display_url.clone(),
                    product_type: install.product_type.clone(),
                    oauth_client_id: install.oauth_client_id.clone(),
                    installation_id: install.installation_id.clone(),
                    state: TenantState::Installed,
                    installed_at,
                    updated_at: now,
                },
            );
            Ok(())
        })
    }

    fn remember_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
        _expires_at: i64,
    ) -> BoxFuture<'a, Result<bool, TenantStoreError>> {
        Box::pin(async move { Ok(self.tokens().insert(token_sha256.to_owned())) })
    }

    fn forget_lifecycle_token<'a>(
        &'a self,
        token_sha256: &'a str,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async move {
            self.tokens().remove(token_sha256);
            Ok(())
        })
    }

    fn set_tenant_state<'a>(
        &'a self,
        client_key: &'a str,
        state: TenantState,
    ) -> BoxFuture<'a, Result<StateChange, TenantStoreError>> {
        Box::pin(async move {
            let mut rows = self.rows();
            let Some(t) = rows.get_mut(client_key) else {
                return Ok(StateChange::Missing);
            };
            // Only an install revives an uninstalled tenant (as the SQL store).
            if t.state == TenantState::Uninstalled && state != TenantState::Uninstalled {
                return Ok(StateChange::KeptUninstalled);
            }
            t.state = state;
            t.updated_at = crate::tokens::now();
            Ok(StateChange::Changed)
        })
    }

    fn active_client_keys(&self) -> BoxFuture<'_, Result<Vec<String>, TenantStoreError>> {
        Box::pin(async move {
            let mut keys: Vec<String> = self
                .rows()
                .values()
                .filter(|t| t.state.is_active())
                .map(|t| t.client_key.clone())
                .collect();
            keys.sort();
            Ok(keys)
        })
    }
}

/// A trust core for the app [`DEFAULT_APP_KEY`] with one active site,
/// `client_key`, installed at `fake` with `secret` (the fake learns the
/// site too), and that site's [`TenantKey`]. Its HTTP client never follows
/// redirects, like the server's; the ACT_AS_USER token endpoint is the
/// fake's.
pub async fn connect_state_at(
    fake: &FakeConfluence,
    client_key: &str,
    secret: &str,
) -> (ConnectState, TenantKey) {
    fake.add_site(client_key, secret);
    let settings = ConnectSettings {
        base_url: Url::parse("https://courses.example.test").expect("a URL"),
        app_key: DEFAULT_APP_KEY.to_owned(),
        keys_cdn_url: Url::parse("http://127.0.0.1:9/keys").expect("a URL"),
        oauth_token_url: Url::parse(&fake.token_url()).expect("the fake's token URL"),
        jwt_leeway: Duration::from_secs(30),
        tenant_hosts: TenantHosts::default(),
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let tenants = Tenants::new(std::sync::Arc::new(MemoryTenantStore::default()));
    tenants
        .install(&TenantInstall {
            client_key: client_key.to_owned(),
            shared_secret: SecretString::from(secret.to_owned()),
            base_url: fake.base_url(),
            display_url: None,
            product_type: Some("confluence".into()),
            oauth_client_id: Some(crate::tokens::oauth_client_id(client_key)),
            installation_id: None,
        })
        .await
        .expect("the in-memory store takes the install");
    let key = tenants
        .active()
        .await
        .expect("the in-memory store answers")
        .into_iter()
        .find(|k| k.as_str() == client_key)
        .expect("the site is active");
    (ConnectState::new(settings, http, tenants), key)
}
