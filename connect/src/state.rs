//! What the trust core needs at run time, in one cheap-to-clone value.
//!
//! The application's state holds a [`ConnectState`] and implements
//! `FromRef` for it, so the extractors in [`crate::auth`] work on any axum
//! state that carries one, and nothing here depends on the application.

use std::sync::Arc;

use crate::{
    authz::AuthzCache, directory::EmailCache, host_client::HostTokenCache,
    install::InstallKeyCache, users::NameCache, ConnectSettings, Tenants,
};

/// The trust core's state: settings, the outgoing HTTP client, the tenant
/// directory and its caches.
#[derive(Clone, Debug)]
pub struct ConnectState {
    pub settings: Arc<ConnectSettings>,
    /// For calls to Confluence, the install-key server and the OAuth token
    /// endpoint. Never follows redirects (tokens must not travel elsewhere).
    pub http: reqwest::Client,
    pub tenants: Tenants,
    pub install_keys: InstallKeyCache,
    /// ACT_AS_USER access tokens per (tenant, user, scopes).
    pub host_tokens: HostTokenCache,
    /// Recent permission answers from Confluence.
    pub authz: AuthzCache,
    /// Users' display names.
    pub names: NameCache,
    /// Users' e-mail addresses (in memory only, never stored).
    pub emails: EmailCache,
}

impl ConnectState {
    /// A trust core with empty caches.
    pub fn new(settings: ConnectSettings, http: reqwest::Client, tenants: Tenants) -> Self {
        Self {
            settings: Arc::new(settings),
            http,
            tenants,
            install_keys: InstallKeyCache::default(),
            host_tokens: HostTokenCache::default(),
            authz: AuthzCache::default(),
            names: NameCache::default(),
            emails: EmailCache::default(),
        }
    }
}
