//! Forge Remote trust: the **Forge Invocation Token** (FIT) that Forge sends
//! (`Authorization: Bearer <FIT>`) with every call our Forge UI, functions
//! and triggers make to this backend.
//!
//! A FIT is an RS256 JWT signed by Forge with a key published in Forge's
//! JWKS; `iss` is `forge/invocation-token`, `aud` is our app id (an app ARI),
//! and `app.installationId` names the installation it speaks for. The
//! verifier pins RS256 before anything else (`none`, HS256 signed with the
//! public key, RS512/PS256 are refused by name), takes the key from a JWKS at
//! a **configured** URL (never one the token names), caches it by `kid`
//! (an unknown `kid` costs at most one rate-limited refetch; see
//! [`ForgeKeyCache`]), checks `iss`, `aud`, `exp`/`nbf` with a small
//! leeway, then the typed claims (`app.id == aud`, the installation ARI, the
//! API base URL), and only then maps the installation to a tenant through
//! [`ForgeInstallations`] and the same tenant directory Connect tokens use:
//! the [`TenantKey`] it returns is as strong as a Connect one (active
//! tenant, created by a verifier only).
//!
//! Every refusal is a [`ForgeAuthError`]: logged and counted by reason,
//! answered with a bare 401 ([`ForgeRejection`]); the token is never logged.
//! Reference: `forge-ready.md` §3 (FIT claims, JWKS, our verifier §3.2).
//! Open: the live JWKS's `alg`/`use` fields and `Cache-Control` are unknown
//! (keys are kept for [`JWKS_KEY_TTL`]); Isolated Cloud (`icLabel`) is
//! refused until it is configured.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    http::{header::AUTHORIZATION, request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use cache::{Cache, Weigh};
use futures::future::BoxFuture;
use jsonwebtoken::{
    decode,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;
use url::Url;

use secrecy::SecretString;

use crate::{install::kid_is_safe, TenantKey, TenantStoreError, Tenants, Verified};

/// The `iss` of every Forge Invocation Token.
pub const FORGE_ISSUER: &str = "forge/invocation-token";

/// What an app id (the FIT `aud` and `app.id`) starts with.
pub const APP_ARI_PREFIX: &str = "ari:cloud:ecosystem::app/";

/// What `app.installationId` starts with.
pub const INSTALLATION_ARI_PREFIX: &str = "ari:cloud:ecosystem::installation/";

/// The header carrying the app's (system) token with a Forge invocation.
pub const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";

/// The header carrying the invoking user's token with a Forge invocation.
pub const USER_TOKEN_HEADER: &str = "x-forge-oauth-user";

/// Longest Forge OAuth token accepted (they are JWTs of about 1–2 KiB).
const MAX_FORGE_TOKEN_BYTES: usize = 16 * 1024;

/// Forge's production JWKS (the default of [`ForgeSettings::jwks_url`]).
pub const PROD_JWKS_URL: &str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";

/// Where Confluence's `app.apiBaseUrl` must point in production.
pub const PROD_API_BASE_URL_PREFIX: &str = "https://api.atlassian.com/ex/confluence/";

/// How long a key from the JWKS is kept (the JWKS's `Cache-Control` is not
/// documented; GitLab defaults to an hour).
pub const JWKS_KEY_TTL: Duration = Duration::from_secs(3600);

/// How long a `kid` the JWKS did not have stays refused without asking
/// again (anyone can send a token with any well-formed `kid`).
pub const KID_MISS_TTL: Duration = Duration::from_secs(60);

/// Default least time between two JWKS fetches (jose's cooldown).
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// Largest clock-skew allowance accepted (FITs live about 25 s).
pub const MAX_LEEWAY: Duration = Duration::from_secs(30);

/// How long we wait for the JWKS (and for another request's fetch).
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest JWKS body accepted.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Settings of the Forge verifier, built once at start-up.
#[derive(Clone, Debug)]
pub struct ForgeSettings {
    /// Our app id as an ARI (`ari:cloud:ecosystem::app/<uuid>`): the only
    /// accepted `aud` and `app.id`.
    pub app_id: String,
    /// Where Forge's public keys are fetched (production by default; staging
    /// or a test server by configuration, never by the token).
    pub jwks_url: Url,
    /// Clock-skew allowance for `exp`/`nbf`, at most [`MAX_LEEWAY`].
    pub leeway: Duration,
    /// Least time between two JWKS fetches.
    pub jwks_refetch_cooldown: Duration,
    /// What `app.apiBaseUrl` must start with.
    pub api_base_url_prefix: String,
}

impl ForgeSettings {
    /// Settings for `app_id` (an ARI, or the bare uuid the Forge CLI shows)
    /// with keys from `jwks_url`; 10 s leeway, 30 s refetch cooldown,
    /// production API base URL.
    pub fn new(app_id: &str, jwks_url: Url) -> Self {
        let app_id = if app_id.starts_with(APP_ARI_PREFIX) {
            app_id.to_owned()
        } else {
            format!("{APP_ARI_PREFIX}{app_id}")
        };
        Self {
            app_id,
            jwks_url,
            leeway: Duration::from_secs(10),
            jwks_refetch_cooldown: JWKS_REFETCH_COOLDOWN,
            api_base_url_prefix: PROD_API_BASE_URL_PREFIX.to_owned(),
        }
    }
}

/// Why a Forge Invocation Token was refused. Logged (at debug) and counted
/// by [`ForgeAuthError::code`]; the client always sees a bare 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForgeAuthError {
    #[error("no bearer token in the request")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("algorithm {0} refused (RS256 only)")]
    Algorithm(String),
    #[error("kid not in Forge's JWKS")]
    UnknownKid,
    #[error("Forge's JWKS unavailable: {0}")]
    KeyUnavailable(String),
    #[error("bad signature")]
    BadSignature,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("missing claim {0}")]
    MissingClaim(String),
    #[error("app.id is not our app")]
    WrongApp,
    #[error("malformed app.installationId")]
    BadInstallation,
    #[error("app.apiBaseUrl outside the configured API")]
    BadApiBaseUrl,
    #[error("Isolated Cloud token (icLabel) not configured")]
    IsolatedCloud,
    #[error("installation not mapped to a tenant")]
    UnknownInstallation,
    #[error("tenant is not active")]
    InactiveTenant,
    #[error("a user invocation where only the app may call (lifecycle)")]
    NotAppOnly,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("store error")]
    Store,
}

impl ForgeAuthError {
    /// A stable, low-cardinality name of the reason (a metrics label).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "forge_missing",
            Self::Malformed(_) => "forge_malformed",
            Self::Algorithm(_) => "forge_algorithm",
            Self::UnknownKid => "forge_unknown_kid",
            Self::KeyUnavailable(_) => "forge_key_unavailable",
            Self::BadSignature => "forge_bad_signature",
            Self::WrongIssuer => "forge_wrong_issuer",
            Self::WrongAudience => "forge_wrong_audience",
            Self::Expired => "forge_expired",
            Self::NotYetValid => "forge_not_yet_valid",
            Self::MissingClaim(_) => "forge_missing_claim",
            Self::WrongApp => "forge_wrong_app",
            Self::BadInstallation => "forge_bad_installation",
            Self::BadApiBaseUrl => "forge_bad_api_base_url",
            Self::IsolatedCloud => "forge_isolated_cloud",
            Self::UnknownInstallation => "forge_unknown_installation",
            Self::InactiveTenant => "forge_inactive_tenant",
            Self::NotAppOnly => "forge_not_app_only",
            Self::Invalid(_) => "forge_invalid",
            Self::Store => "forge_store",
        }
    }

    /// Counts a refusal by reason (`auth_failures_total{reason}`) and logs
    /// the reason at debug — never the token.
    pub fn record(&self) {
        metrics::counter!("auth_failures_total", "reason" => self.code()).increment(1);
        tracing::debug!(reason = %self, "Forge invocation refused");
    }

    fn from_jwt(e: jsonwebtoken::errors::Error) -> Self {
        match e.into_kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::MissingRequiredClaim(c) => Self::MissingClaim(c),
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                Self::Algorithm("mismatch".into())
            }
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
                Self::Malformed("encoding".into())
            }
            other => Self::Invalid(format!("{other:?}")),
        }
    }
}

/// Refusal of a Forge call: a bare 401; the reason goes to the log.
#[derive(Debug)]
pub struct ForgeRejection(pub ForgeAuthError);

impl IntoResponse for ForgeRejection {
    fn into_response(self) -> Response {
        self.0.record();
        (StatusCode::UNAUTHORIZED, "Unauthorized").into_response()
    }
}

/// Maps a Forge installation to the tenant (client key) it belongs to.
/// Implemented by the server over the store (the mapping is written when a
/// verified install — Connect `installed` with `installationId`, or a Forge
/// lifecycle event — says which installation is which site). Must only ever
/// return what a verified install wrote.
pub trait ForgeInstallations: Send + Sync + 'static {
    /// The client key of the tenant `installation_id` belongs to, if known.
    fn client_key<'a>(
        &'a self,
        installation_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, TenantStoreError>>;
}

#[derive(Clone)]
struct ForgeKey(DecodingKey);

impl Weigh for ForgeKey {
    fn weigh(&self) -> usize {
        // An RSA-2048 public key in any form is well under a kilobyte.
        std::mem::size_of::<Self>() + 1024
    }
}

/// Forge's public keys by `kid`. A miss triggers one JWKS fetch, at most
/// one at a time and at most once per [`ForgeSettings::jwks_refetch_cooldown`];
/// a `kid` the fresh JWKS still lacks is refused without asking again for
/// [`KID_MISS_TTL`], so unauthenticated requests cannot turn into a flood of
/// outbound ones.
#[derive(Clone, Debug)]
pub struct ForgeKeyCache {
    keys: Cache<String, ForgeKey>,
    misses: Cache<String, ()>,
    fetch: Arc<tokio::sync::Mutex<()>>,
    last_fetch: Arc<Mutex<Option<Instant>>>,
}

impl Default for ForgeKeyCache {
    fn default() -> Self {
        Self {
            keys: Cache::new("forge-keys", 1 << 20, JWKS_KEY_TTL),
            misses: Cache::new("forge-kid-misses", 256 << 10, KID_MISS_TTL),
            fetch: Arc::new(tokio::sync::Mutex::new(())),
            last_fetch: Arc::new(Mutex::new(None)),
        }
    }
}

impl ForgeKeyCache {
    async fn key(
        &self,
        http: &reqwest::Client,
        settings: &ForgeSettings,
        kid: &str,
    ) -> Result<DecodingKey, ForgeAuthError> {
        let id = kid.to_owned();
        if let Some(k) = self.keys.get(&id) {
            return Ok(k.0);
        }
        if self.misses.get(&id).is_some() {
            return Err(ForgeAuthError::UnknownKid);
        }
        let _one_fetch = tokio::time::timeout(JWKS_FETCH_TIMEOUT, self.fetch.lock())
            .await
            .map_err(|_| ForgeAuthError::KeyUnavailable("JWKS fetch queue".into()))?;
        // Another request may have fetched the JWKS while this one waited.
        if let Some(k) = self.keys.get(&id) {
            return Ok(k.0);
        }
        if self.misses.get(&id).is_some() {
            return Err(ForgeAuthError::UnknownKid);
        }
        let recently = self
            .last_fetch
            .lock()
            .expect("lock")
            .is_some_and(|t| t.elapsed() < settings.jwks_refetch_cooldown);
        if recently {
            return Err(ForgeAuthError::UnknownKid);
        }
        *self.last_fetch.lock().expect("lock") = Some(Instant::now());
        let set = fetch_jwks(http, &settings.jwks_url).await?;
        for jwk in &set.keys {
            let Some(jwk_kid) = jwk.common.key_id.as_deref().filter(|k| kid_is_safe(k)) else {
                continue;
            };
            let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
            let rs256 = jwk
                .common
                .key_algorithm
                .is_none_or(|a| a == KeyAlgorithm::RS256);
            if !(rsa && rs256) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                self.keys.insert(jwk_kid.to_owned(), ForgeKey(key));
            }
        }
        match self.keys.get(&id) {
            Some(k) => Ok(k.0),
            None => {
                self.misses.insert(id, ());
                Err(ForgeAuthError::UnknownKid)
            }
        }
    }
}

async fn fetch_jwks(http: &reqwest::Client, url: &Url) -> Result<JwkSet, ForgeAuthError> {
    let unavailable = |e: String| ForgeAuthError::KeyUnavailable(e);
    let resp = http
        .get(url.clone())
        .timeout(JWKS_FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(unavailable(format!("status {}", resp.status())));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(unavailable("JWKS too large".into()));
    }
    let body = resp.bytes().await.map_err(|e| unavailable(e.to_string()))?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(unavailable("JWKS too large".into()));
    }
    serde_json::from_slice(&body).map_err(|e| unavailable(format!("JWKS: {e}")))
}

/// The FIT's `app` claim (the parts we read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForgeAppClaim {
    pub id: Option<String>,
    pub installation_id: Option<String>,
    pub app_version: Option<String>,
    pub api_base_url: Option<String>,
    pub environment: Option<ForgeEnvironment>,
    pub module: Option<ForgeModule>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ForgeEnvironment {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ForgeModule {
    /// `xen:macro` from UI, `core:endpoint` otherwise.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub key: Option<String>,
}

/// The FIT's `context` claim (UI invocations only).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ForgeContext {
    pub cloud_id: Option<String>,
    pub site_url: Option<String>,
    pub module_key: Option<String>,
    pub local_id: Option<String>,
    pub extension: Option<ForgeExtension>,
}

/// Where a UI module is shown (`context.extension`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ForgeExtension {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub content: Option<ForgeContent>,
    pub space: Option<ForgeSpace>,
    pub is_editing: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ForgeContent {
    #[serde(default, deserialize_with = "crate::string_or_number")]
    pub id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ForgeSpace {
    pub key: Option<String>,
    #[serde(default, deserialize_with = "crate::string_or_number")]
    pub id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FitClaims {
    app: Option<ForgeAppClaim>,
    #[serde(default)]
    context: Option<ForgeContext>,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    ic_label: Option<String>,
    #[serde(default)]
    jti: Option<String>,
}

/// The checked claims of a Forge Invocation Token, before its installation
/// is resolved to a tenant ([`ForgeVerifier::verify_claims`]). Only the
/// Forge lifecycle uses this directly: an `installed` event names an
/// installation no tenant knows yet.
#[derive(Clone, Debug)]
pub struct ForgeClaims {
    /// `app.installationId` (`ari:cloud:ecosystem::installation/<uuid>`).
    pub installation_id: String,
    /// `app.apiBaseUrl`: where the `x-forge-oauth-*` tokens call Confluence.
    pub api_base_url: String,
    pub app_version: Option<String>,
    pub environment: Option<ForgeEnvironment>,
    pub module: Option<ForgeModule>,
    /// UI context (absent for triggers and function calls).
    pub context: Option<ForgeContext>,
    /// The user's account id; absent for app-only invocations (triggers).
    pub principal: Option<String>,
    pub jti: Option<String>,
}

/// What a verified Forge Invocation Token tells us.
#[derive(Clone, Debug)]
pub struct ForgeVerified {
    /// The site the call comes from (an active tenant).
    pub tenant: TenantKey,
    /// The tenant's product base URL.
    pub tenant_base_url: String,
    /// `app.installationId` (`ari:cloud:ecosystem::installation/<uuid>`).
    pub installation_id: String,
    /// `app.apiBaseUrl`: where the `x-forge-oauth-*` tokens call Confluence.
    pub api_base_url: String,
    pub app_version: Option<String>,
    pub environment: Option<ForgeEnvironment>,
    pub module: Option<ForgeModule>,
    /// UI context (absent for triggers and function calls).
    pub context: Option<ForgeContext>,
    /// The user's account id; absent for app-only invocations (triggers).
    pub principal: Option<String>,
    pub jti: Option<String>,
}

impl ForgeVerified {
    /// The caller as server functions see every caller: a [`Verified`] of
    /// the same strength as a context JWT's. The account is `principal`,
    /// the page and space come from the FIT's (signed) `context.extension`,
    /// and Confluence is called through Forge with `tokens` — the
    /// `x-forge-oauth-*` headers of this very request.
    pub fn into_verified(self, tokens: ForgeTokens) -> Verified {
        let extension = self.context.as_ref().and_then(|c| c.extension.as_ref());
        let content_id = extension
            .and_then(|e| e.content.as_ref())
            .and_then(|c| c.id.clone())
            .filter(|id| !id.is_empty());
        let space_key = extension
            .and_then(|e| e.space.as_ref())
            .and_then(|s| s.key.clone())
            .filter(|k| !k.is_empty());
        Verified {
            tenant: self.tenant,
            tenant_base_url: self.tenant_base_url,
            tenant_display_url: None,
            account_id: self.principal.clone(),
            content_id,
            content_version: None,
            space_key,
            forge: Some(ForgeCall {
                api_base_url: self.api_base_url,
                principal: self.principal,
                tokens,
            }),
        }
    }
}

/// The OAuth tokens Forge sends with an invocation (`x-forge-oauth-system`
/// with `appSystemToken`, `x-forge-oauth-user` with `appUserToken` and a
/// user in session). They are bearer credentials for Confluence: wrapped
/// so they never reach a log or `Debug`, kept only as long as the request
/// that brought them (never stored or cached), and treated as opaque.
#[derive(Clone, Default)]
pub struct ForgeTokens {
    /// Acts as the app (its bot user).
    pub system: Option<SecretString>,
    /// Acts as the invoking user.
    pub user: Option<SecretString>,
}

impl std::fmt::Debug for ForgeTokens {
    /// Which tokens came, never what they are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForgeTokens")
            .field("system", &self.system.is_some())
            .field("user", &self.user.is_some())
            .finish()
    }
}

/// How a Forge caller's requests reach Confluence: `apiBaseUrl` of the
/// verified FIT and the tokens of this request (see
/// [`crate::host_client`]: Forge mode).
#[derive(Clone, Debug)]
pub struct ForgeCall {
    /// `app.apiBaseUrl` (checked against the configured prefix).
    pub api_base_url: String,
    /// The FIT's `principal`: the only user the user token acts as.
    pub principal: Option<String>,
    pub tokens: ForgeTokens,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

/// Verifies Forge Invocation Tokens; cheap to clone.
#[derive(Clone, Debug)]
pub struct ForgeVerifier {
    settings: Arc<ForgeSettings>,
    http: reqwest::Client,
    keys: ForgeKeyCache,
}

impl ForgeVerifier {
    /// A verifier with an empty key cache. `http` must not follow
    /// redirects (as the trust core's client).
    pub fn new(settings: ForgeSettings, http: reqwest::Client) -> Self {
        Self {
            settings: Arc::new(settings),
            http,
            keys: ForgeKeyCache::default(),
        }
    }

    pub fn settings(&self) -> &ForgeSettings {
        &self.settings
    }

    /// Verifies `token` and resolves its installation to an active tenant.
    pub async fn verify(
        &self,
        token: &str,
        installations: &dyn ForgeInstallations,
        tenants: &Tenants,
    ) -> Result<ForgeVerified, ForgeAuthError> {
        let claims = self.verify_claims(token).await?;
        self.resolve(claims, installations, tenants).await
    }

    /// Verifies `token` (algorithm, key, signature, registered and typed
    /// claims) without asking which tenant its installation belongs to.
    /// For the Forge lifecycle only; everything else uses [`Self::verify`].
    pub async fn verify_claims(&self, token: &str) -> Result<ForgeClaims, ForgeAuthError> {
        let settings = &*self.settings;
        // 1. Pin the algorithm by its text before anything else (so `none`
        //    and unknown names are refused by name, not as "malformed").
        let header_b64 = token
            .split('.')
            .next()
            .filter(|_| token.split('.').count() == 3)
            .ok_or_else(|| ForgeAuthError::Malformed("not a JWS".into()))?;
        let header: RawHeader = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| ForgeAuthError::Malformed("header".into()))?;
        match header.alg.as_deref() {
            Some("RS256") => {}
            Some(other) => {
                let shown: String = other.chars().take(16).collect();
                return Err(ForgeAuthError::Algorithm(shown));
            }
            None => return Err(ForgeAuthError::Algorithm("missing".into())),
        }
        // 2. The key by `kid`, from the configured JWKS only.
        let kid = header
            .kid
            .filter(|k| kid_is_safe(k))
            .ok_or_else(|| ForgeAuthError::Malformed("missing or unsafe kid".into()))?;
        let key = self.keys.key(&self.http, settings, &kid).await?;
        // 3. Signature and registered claims.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = settings.leeway.min(MAX_LEEWAY).as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[FORGE_ISSUER]);
        validation.set_audience(&[settings.app_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = decode::<FitClaims>(token, &key, &validation)
            .map_err(ForgeAuthError::from_jwt)?
            .claims;
        // 4. Typed claims.
        if claims.ic_label.is_some() {
            return Err(ForgeAuthError::IsolatedCloud);
        }
        let app = claims
            .app
            .ok_or_else(|| ForgeAuthError::MissingClaim("app".into()))?;
        let app_id = app
            .id
            .ok_or_else(|| ForgeAuthError::MissingClaim("app.id".into()))?;
        if app_id != settings.app_id {
            return Err(ForgeAuthError::WrongApp);
        }
        let installation_id = app
            .installation_id
            .ok_or_else(|| ForgeAuthError::MissingClaim("app.installationId".into()))?;
        if !installation_ari_ok(&installation_id) {
            return Err(ForgeAuthError::BadInstallation);
        }
        let api_base_url = app
            .api_base_url
            .ok_or_else(|| ForgeAuthError::MissingClaim("app.apiBaseUrl".into()))?;
        if !api_base_url.starts_with(&settings.api_base_url_prefix)
            || api_base_url.len() == settings.api_base_url_prefix.len()
        {
            return Err(ForgeAuthError::BadApiBaseUrl);
        }
        Ok(ForgeClaims {
            installation_id,
            api_base_url,
            app_version: app.app_version,
            environment: app.environment,
            module: app.module,
            context: claims.context,
            principal: claims.principal.filter(|p| !p.is_empty()),
            jti: claims.jti,
        })
    }

    /// The installation's tenant, active, from the same directory Connect
    /// tokens resolve through.
    pub async fn resolve(
        &self,
        claims: ForgeClaims,
        installations: &dyn ForgeInstallations,
        tenants: &Tenants,
    ) -> Result<ForgeVerified, ForgeAuthError> {
        let store_err = |e: TenantStoreError| {
            tracing::error!(error = %e, "tenant lookup failed during Forge verification");
            ForgeAuthError::Store
        };
        let client_key = installations
            .client_key(&claims.installation_id)
            .await
            .map_err(store_err)?
            .ok_or(ForgeAuthError::UnknownInstallation)?;
        let (tenant, cached) = tenants.for_auth(&client_key).await.map_err(store_err)?;
        let tenant = match tenant {
            Some(t) if t.state.is_active() => t,
            // A cached row may be seconds old: read once more before refusing.
            Some(_) if cached => tenants
                .fresh(&client_key)
                .await
                .map_err(store_err)?
                .filter(|t| t.state.is_active())
                .ok_or(ForgeAuthError::InactiveTenant)?,
            Some(_) => return Err(ForgeAuthError::InactiveTenant),
            None => return Err(ForgeAuthError::UnknownInstallation),
        };
        // The row must still name this installation (a cached row could
        // predate a reinstall that moved it).
        if tenant.installation_id.as_deref() != Some(claims.installation_id.as_str()) {
            return Err(ForgeAuthError::UnknownInstallation);
        }
        Ok(ForgeVerified {
            tenant: TenantKey::verified(tenant.client_key),
            tenant_base_url: tenant.base_url,
            installation_id: claims.installation_id,
            api_base_url: claims.api_base_url,
            app_version: claims.app_version,
            environment: claims.environment,
            module: claims.module,
            context: claims.context,
            principal: claims.principal,
            jti: claims.jti,
        })
    }
}

/// Whether the request's (first) `Authorization` header uses the `Bearer`
/// scheme: the one thing that decides which verifier a server function's
/// caller meets (`Bearer` → the Forge verifier, anything else → Connect's
/// context JWT). Never a fallback from one to the other.
pub fn is_bearer(parts: &Parts) -> bool {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}

/// The token of `Authorization: Bearer <token>`: exactly one header, the
/// `Bearer` scheme (any case, RFC 9110), exactly one token68. Anything else
/// — no header, two headers, another scheme (Connect's `JWT`), two tokens —
/// is `None`.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let mut values = parts.headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim_start();
    (!token.is_empty() && token.bytes().all(is_token68)).then_some(token)
}

fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)
}

/// The `x-forge-oauth-system` / `x-forge-oauth-user` tokens of a request,
/// wrapped at once. Each may be absent; present twice, empty, oversized or
/// not a token68 is malformed (the request is refused).
pub fn tokens_from_parts(parts: &Parts) -> Result<ForgeTokens, ForgeAuthError> {
    let one = |name: &'static str| -> Result<Option<SecretString>, ForgeAuthError> {
        let mut values = parts.headers.get_all(name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let bad = || ForgeAuthError::Malformed(format!("{name} header"));
        if values.next().is_some() {
            return Err(bad());
        }
        let text = value.to_str().map_err(|_| bad())?.trim();
        if text.is_empty() || text.len() > MAX_FORGE_TOKEN_BYTES || !text.bytes().all(is_token68) {
            return Err(bad());
        }
        Ok(Some(SecretString::from(text.to_owned())))
    };
    Ok(ForgeTokens {
        system: one(SYSTEM_TOKEN_HEADER)?,
        user: one(USER_TOKEN_HEADER)?,
    })
}

impl ForgeVerifier {
    /// A server function's caller through Forge Remote: exactly one
    /// `Bearer` FIT, verified and resolved to an active tenant, with the
    /// request's Forge tokens for calls to Confluence. The same [`Verified`]
    /// a context JWT gives (see [`ForgeVerified::into_verified`]).
    pub async fn verify_request(
        &self,
        parts: &Parts,
        installations: &dyn ForgeInstallations,
        tenants: &Tenants,
    ) -> Result<Verified, ForgeAuthError> {
        let token = bearer_token(parts).ok_or(ForgeAuthError::Missing)?;
        let tokens = tokens_from_parts(parts)?;
        let verified = self.verify(token, installations, tenants).await?;
        Ok(verified.into_verified(tokens))
    }
}

/// `ari:cloud:ecosystem::installation/<id>` with a conservative id.
fn installation_ari_ok(id: &str) -> bool {
    id.strip_prefix(INSTALLATION_ARI_PREFIX)
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 128
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests;
