//! The Connect trust core: how a request proves which Confluence site (tenant)
//! and which user it comes from.
//!
//! Three token kinds, each with its own verifier and its own extractor type, so
//! a handler states which one it accepts and cannot forget to check:
//!
//! | token | signed by | `qsh` | accepted on | extractor |
//! |---|---|---|---|---|
//! | signed install | Atlassian, RS256, key by `kid` | computed | `/installed`, `/uninstalled` | [`install::InstallToken`] |
//! | page JWT | tenant shared secret, HS256 | computed for the URL | page loads (`?jwt=`), enabled/disabled | [`auth::PageJwt`] |
//! | context JWT | tenant shared secret, HS256 | `context-qsh` | server functions (`Authorization: JWT`) | [`auth::ContextJwt`] |
//!
//! Forge Remote calls carry a fourth kind, the Forge Invocation Token (RS256
//! from Forge's JWKS, key by `kid`), verified by [`forge::ForgeVerifier`].
//!
//! The tenant is only ever taken from a verified token; see [`TenantKey`].
//!
//! Calls back to the product go through [`host_client`] (as the app with a
//! JWT, or as a user through the ACT_AS_USER grant), and [`authz`] asks
//! Confluence whether the verified user may do what a request wants;
//! [`users`], [`content`] and [`directory`] ask it for names, page titles
//! and the people and groups a space admin enrols.
//! Reference: <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>

pub mod auth;
pub mod authz;
pub mod content;
pub mod directory;
pub mod forge;
pub mod host_client;
pub mod install;
pub mod jwt;
pub mod personal_data;
pub mod qsh;
pub mod settings;
pub mod state;
pub mod tenant_hosts;
pub mod tenants;
pub mod users;

use serde::Deserialize;

pub use settings::ConnectSettings;
pub use state::ConnectState;
pub use tenant_hosts::TenantHosts;
pub use tenants::{
    StateChange, Tenant, TenantInstall, TenantState, TenantStore, TenantStoreError, Tenants,
};

/// A tenant's client key **that came out of a verified token**. The field is
/// private and the constructor crate-private, so store queries that take a
/// `&TenantKey` cannot be fed a key read from a body, query or path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantKey(String);

impl TenantKey {
    pub(crate) fn verified(client_key: String) -> Self {
        Self(client_key)
    }

    /// The client key text, for binding into queries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a verified page or context JWT tells us.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The site the request comes from.
    pub tenant: TenantKey,
    /// The tenant's product base URL (e.g. `https://acme.atlassian.net/wiki`).
    pub tenant_base_url: String,
    /// The tenant's custom display URL, if any (allowed as frame ancestor too).
    pub tenant_display_url: Option<String>,
    /// The Atlassian account id of the user (`sub`), absent for anonymous views.
    pub account_id: Option<String>,
    /// Confluence content id (page) the module is shown on, when known.
    pub content_id: Option<String>,
    /// The page's version when the token was issued, when Confluence says
    /// (`context.confluence.content.version`).
    pub content_version: Option<i64>,
    /// Confluence space key, when known.
    pub space_key: Option<String>,
    /// Set when the caller came through Forge Remote (a verified Forge
    /// Invocation Token): calls to Confluence made for this request then go
    /// through Forge with the request's own tokens
    /// ([`host_client::HostClient::for_caller`]). `None` for Connect tokens.
    pub forge: Option<forge::ForgeCall>,
}

/// Why a token was refused. Only ever logged (at debug); the client always
/// sees a generic 401 so a prober learns nothing about which check failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no JWT in the request")]
    Missing,
    #[error("malformed JWT: {0}")]
    Malformed(String),
    #[error("unexpected algorithm {0}")]
    Algorithm(String),
    #[error("unknown tenant")]
    UnknownTenant,
    #[error("tenant is not active")]
    InactiveTenant,
    #[error("invalid signature or claims: {0}")]
    Invalid(String),
    #[error("token not valid yet (iat/nbf in the future)")]
    NotYetValid,
    #[error("qsh mismatch")]
    Qsh,
    #[error("wrong token kind for this route")]
    WrongKind,
    #[error("install key unavailable: {0}")]
    KeyUnavailable(String),
    #[error("store error")]
    Store,
}

impl AuthError {
    /// A stable, low-cardinality name of the reason (a metrics label).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed(_) => "malformed",
            AuthError::Algorithm(_) => "algorithm",
            AuthError::UnknownTenant => "unknown_tenant",
            AuthError::InactiveTenant => "inactive_tenant",
            AuthError::Invalid(_) => "invalid",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::Qsh => "qsh",
            AuthError::WrongKind => "wrong_kind",
            AuthError::KeyUnavailable(_) => "key_unavailable",
            AuthError::Store => "store",
        }
    }

    /// Counts a refusal by reason (`auth_failures_total{reason}` on
    /// `/metrics`) and logs the reason at debug — never the token.
    pub fn record(&self) {
        metrics::counter!("auth_failures_total", "reason" => self.code()).increment(1);
        tracing::debug!(reason = %self, "request refused: authentication failed");
    }
}

/// Confluence's `context` claim (the parts we read). Confluence puts the
/// content and space the module is shown in here.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContextClaim {
    #[serde(default)]
    pub confluence: Option<ConfluenceClaim>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ConfluenceClaim {
    #[serde(default)]
    pub content: Option<IdClaim>,
    #[serde(default)]
    pub space: Option<KeyClaim>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct IdClaim {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub version: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyClaim {
    #[serde(default)]
    pub key: Option<String>,
}

/// Confluence sends ids sometimes as strings, sometimes as numbers.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}
