//! Application state shared by axum handlers and server functions.
//!
//! Built once by the server at start-up and handed to server functions through
//! Leptos context, so nothing reads configuration lazily inside a handler.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use url::Url;

use crate::{
    connect::{
        authz::AuthzCache, host_client::HostTokenCache, install::InstallKeyCache, users::NameCache,
    },
    shell::SiteAssets,
    store::Db,
};

/// Our own settings (Leptos keeps its own in [`LeptosOptions`]).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Public base URL of the app (`APP_BASE_URL`): the descriptor's `baseUrl`
    /// and the `aud` an install token must carry. No trailing slash.
    pub base_url: Url,
    /// The Connect app key (descriptor `key`), `iss` of tokens we sign.
    pub app_key: String,
    /// Where signed-install public keys are fetched by `kid`
    /// (`CONNECT_KEYS_CDN_URL`, the name atlassian-connect-express uses).
    pub keys_cdn_url: Url,
    /// The OAuth 2.0 token endpoint of the ACT_AS_USER JWT-bearer grant
    /// (`OAUTH_TOKEN_URL`; Atlassian's authorization server in production,
    /// the simulator's `/oauth2/token` under `dev-host`). Its origin is the
    /// `aud` of the assertion.
    pub oauth_token_url: Url,
    /// Clock-skew allowance for `exp`/`nbf`/`iat` on incoming tokens. Atlassian's
    /// Spring Boot framework uses 30 s; we use the same.
    pub jwt_leeway: Duration,
    /// The AP iframe script the pages load (Atlassian's CDN in production).
    pub ap_script_url: String,
    /// Extra origins allowed to frame our pages besides the tenant's own site
    /// (only the host simulator's origin, in development).
    pub extra_frame_ancestors: Vec<String>,
    /// How long an uninstalled tenant's data is kept before it may be purged.
    pub retention_days: u32,
}

impl Settings {
    /// The path part of the base URL, stripped before computing a qsh.
    pub fn base_path(&self) -> &str {
        self.base_url.path().trim_end_matches('/')
    }

    /// The base URL as written in the descriptor: no trailing slash.
    pub fn base_url_str(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_string()
    }
}

/// Everything a request may need. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<Settings>,
    pub http: reqwest::Client,
    pub install_keys: InstallKeyCache,
    /// ACT_AS_USER access tokens per (tenant, user, scopes), see
    /// [`crate::connect::host_client`].
    pub host_tokens: HostTokenCache,
    /// Recent permission answers from Confluence (a few seconds), see
    /// [`crate::connect::authz`].
    pub authz: AuthzCache,
    /// Users' display names (ten minutes), see [`crate::connect::users`].
    pub names: NameCache,
    pub assets: Arc<SiteAssets>,
}

impl AppState {
    /// The state of the current server-function call (provided by the server
    /// through Leptos context for every call).
    pub fn current() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from server-function context");
            crate::error::AppError::Internal
        })
    }
}
