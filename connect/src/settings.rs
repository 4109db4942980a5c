//! The trust core's settings: what it must know to verify tokens and to
//! call Confluence back. Built once at start-up by the server from its
//! configuration (never read lazily from the environment).

use std::time::Duration;

use url::Url;

use crate::TenantHosts;

/// Settings of the Connect trust core.
#[derive(Clone, Debug)]
pub struct ConnectSettings {
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
    /// the simulator's `/oauth2/token` in development). Its origin is the
    /// `aud` of the assertion.
    pub oauth_token_url: Url,
    /// Clock-skew allowance for `exp`/`nbf`/`iat` on incoming tokens. Atlassian's
    /// Spring Boot framework uses 30 s; we use the same.
    pub jwt_leeway: Duration,
    /// Which sites may install the app (their `baseUrl`).
    pub tenant_hosts: TenantHosts,
}

impl ConnectSettings {
    /// The path part of the base URL, stripped before computing a qsh.
    pub fn base_path(&self) -> &str {
        self.base_url.path().trim_end_matches('/')
    }

    /// The base URL as written in the descriptor: no trailing slash.
    pub fn base_url_str(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }
}
