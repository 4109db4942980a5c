//! Calling the tenant's Confluence REST API back, as the app or as a user.
//!
//! - **As the app**: `Authorization: JWT <token>`, HS256 with the tenant's
//!   shared secret; `iss` = our app key, `aud` = `[clientKey]`, `exp` three
//!   minutes out (what atlassian-connect-express does), and a `qsh` over the
//!   request *relative to the tenant's base URL* (so `/wiki` is not hashed,
//!   but is in the URL we call). See connect-protocol.md §3.1 and
//!   <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>.
//! - **As a user** (ACT_AS_USER): an OAuth 2.0 JWT-bearer grant (RFC 7523)
//!   against Atlassian's authorization server, then `Authorization: Bearer`.
//!   Access tokens are cached per (tenant, user, scopes) until 3 s before
//!   they expire, as atlassian-connect-express does. See connect-protocol.md
//!   §3.2 and
//!   <https://developer.atlassian.com/cloud/confluence/oauth-2-jwt-bearer-token-authorization-grant-type/>.
//!
//! - **Through Forge** (the caller came with a Forge Invocation Token): the
//!   FIT's `app.apiBaseUrl` + `/wiki` instead of the site's URL, and
//!   `Authorization: Bearer` with the `x-forge-oauth-system` token (as the
//!   app) or the `x-forge-oauth-user` token (as the FIT's `principal`, the
//!   only user it can act as). Those tokens belong to the one request that
//!   brought them ([`ForgeCall`]): never cached here, never logged. See
//!   forge-ready.md §3.3. [`HostClient::for_caller`] picks the mode from
//!   the verified caller; [`HostAccess`] carries it into the lookups
//!   (names, pages, people) that take a tenant.
//!
//! The tenant comes only from a [`TenantKey`] (a verified token); the product
//! URL is the tenant's stored `baseUrl` joined with a path the *code* chooses,
//! checked so it cannot leave that base. Redirects are never followed (the
//! shared client has `Policy::none`), every call has a 10 s timeout, and no
//! token, secret or response body ever reaches an error message or a log.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use cache::{Cache, Weigh};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use url::Url;

use crate::{forge::ForgeCall, qsh, ConnectSettings, ConnectState, Tenant, TenantKey, Verified};

/// Upper bound for one call to the product or the token endpoint.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Lifetime of the app JWT we sign per request: atlassian-connect-express's
/// default (`jwt.validityInMinutes = 3`), also what atlassian-jwt recommends.
const APP_JWT_LIFETIME_SECS: u64 = 180;

/// Lifetime of the JWT-bearer assertion (atlassian-oauth2 uses 60 s).
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// Cached access tokens are dropped this long before they expire, so a token
/// never runs out between the cache lookup and the product receiving it.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(3);

/// The OAuth 2.0 grant type of the ACT_AS_USER flow (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Scopes asked for when acting as a user, unless a caller says otherwise.
/// The token can never exceed the scopes in the app descriptor.
pub const DEFAULT_USER_SCOPES: &[&str] = &["READ", "ACT_AS_USER"];

/// Largest product response we read (permission answers are tiny; anything
/// bigger than this is not something the callers here expect).
const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// Bytes of access tokens kept (a token is one to two kilobytes).
const TOKEN_CACHE_BYTES: usize = 8 << 20;

/// No access token is kept longer than this, whatever its `expires_in`
/// (Atlassian's are valid for 15 minutes).
const TOKEN_CACHE_MAX_TTL: Duration = Duration::from_secs(3600);

/// Why a call to the product failed. The `Display` text is safe to log: it
/// never carries a token, a secret, a URL query or a response body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The tenant is not installed (any more) or is disabled.
    #[error("tenant unknown or not active")]
    UnknownTenant,
    /// The tenant store could not be read.
    #[error("tenant store unavailable")]
    Store,
    /// The tenant's stored base URL cannot be called.
    #[error("tenant base URL is not usable")]
    BadBaseUrl,
    /// The path we were asked to call could escape the tenant's base URL.
    #[error("refused to call an unsafe product path")]
    UnsafePath,
    /// ACT_AS_USER needs the tenant's `oauthClientId` (sent on install).
    #[error("tenant has no OAuth client id; cannot act as a user")]
    NoOAuthClient,
    /// There is no usable account id to act as.
    #[error("no user to act as")]
    NoUser,
    /// Signing the outgoing JWT failed.
    #[error("could not sign the outgoing token")]
    Signing,
    /// The product or the token endpoint could not be reached in time.
    #[error("product unreachable: {0}")]
    Transport(TransportFailure),
    /// The product answered with an unexpected HTTP status.
    #[error("product answered HTTP {0}")]
    Status(u16),
    /// The token endpoint refused the JWT-bearer grant.
    #[error("token endpoint refused the grant: HTTP {0}")]
    Grant(u16),
    /// The answer was not the JSON we expected (or too large).
    #[error("unexpected response from the product")]
    Decode,
    /// A Forge caller's request did not bring the token this call needs
    /// (`x-forge-oauth-system` for the app, `x-forge-oauth-user` for the
    /// FIT's principal), or asked to act as another user.
    #[error("Forge sent no token for this call")]
    NoForgeToken,
}

/// The kind of network failure, without `reqwest`'s text (which names URLs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportFailure {
    #[error("timed out")]
    Timeout,
    #[error("connection failed")]
    Connect,
    #[error("request failed")]
    Other,
}

fn transport(e: &reqwest::Error) -> HostError {
    HostError::Transport(if e.is_timeout() {
        TransportFailure::Timeout
    } else if e.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Other
    })
}

/// Whom a call is made as.
#[derive(Clone, Copy, Debug)]
pub enum Principal<'a> {
    /// The app itself (its own permissions and scopes): an app JWT.
    App,
    /// A user, through the ACT_AS_USER grant: the product applies that user's
    /// permissions (intersected with `scopes`).
    User {
        account_id: &'a str,
        scopes: &'a [&'a str],
    },
}

impl<'a> Principal<'a> {
    /// Acting as `account_id` with [`DEFAULT_USER_SCOPES`].
    pub fn user(account_id: &'a str) -> Self {
        Principal::User {
            account_id,
            scopes: DEFAULT_USER_SCOPES,
        }
    }
}

/// Cache key of an access token: one per site, user and scope set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TokenKey {
    client_key: String,
    account_id: String,
    /// Normalised: upper-case, sorted, de-duplicated, space-separated.
    scopes: String,
}

impl Weigh for TokenKey {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.client_key.len()
            + self.account_id.len()
            + self.scopes.len()
    }
}

#[derive(Clone)]
struct CachedToken {
    token: SecretString,
    usable_until: Instant,
}

impl Weigh for CachedToken {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.token.expose_secret().len()
    }
}

/// ACT_AS_USER access tokens, per (tenant, user, scopes), kept until
/// [`TOKEN_EXPIRY_MARGIN`] before they expire. In memory only: a restart
/// just means new grants. Part of [`ConnectState`].
#[derive(Clone)]
pub struct HostTokenCache(Cache<TokenKey, CachedToken>, Cache<String, ()>);

impl Default for HostTokenCache {
    fn default() -> Self {
        Self(
            Cache::new("host-tokens", TOKEN_CACHE_BYTES, TOKEN_CACHE_MAX_TTL),
            Cache::new("oauth-warnings", 1 << 20, Duration::from_secs(24 * 3600)),
        )
    }
}

impl fmt::Debug for HostTokenCache {
    /// Never the tokens: only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostTokenCache")
            .field("entries", &self.0.len())
            .finish()
    }
}

impl HostTokenCache {
    fn get(&self, key: &TokenKey, now: Instant) -> Option<SecretString> {
        match self.0.get_at(key, now) {
            Some(t) if now < t.usable_until => Some(t.token),
            Some(_) => {
                self.0.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, key: TokenKey, token: SecretString, expires_in: Duration, now: Instant) {
        let Some(lifetime) = expires_in.checked_sub(TOKEN_EXPIRY_MARGIN) else {
            return;
        };
        if lifetime.is_zero() {
            return;
        }
        self.0.insert_at(
            key,
            CachedToken {
                token,
                usable_until: now + lifetime,
            },
            now,
        );
    }

    fn evict(&self, key: &TokenKey) {
        self.0.remove(key);
    }

    /// Whether this is the first time today a warning about `tenant` is due.
    fn first_warning(&self, tenant: &str) -> bool {
        let key = tenant.to_owned();
        if self.1.get(&key).is_some() {
            return false;
        }
        self.1.insert(key, ());
        true
    }
}

/// Upper-cased, sorted, de-duplicated, space-separated: the `scope` form
/// value and the cache key (so `["read", "ACT_AS_USER"]` and
/// `["ACT_AS_USER", "READ"]` share a token).
fn normalize_scopes(scopes: &[&str]) -> String {
    let mut v: Vec<String> = scopes
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v.join(" ")
}

/// The assertion's `aud`: the token endpoint's origin (`scheme://host[:port]`),
/// which for Atlassian's server is exactly the documented
/// `https://oauth-2-authorization-server.services.atlassian.com`.
fn token_audience(token_url: &Url) -> String {
    token_url.origin().ascii_serialization()
}

/// An Atlassian account id as it may appear in a `sub` claim: non-empty,
/// bounded, no whitespace or control characters.
fn account_id_is_sane(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && !id.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Checks a product path chosen by our code (`/rest/api/...`, optionally
/// with `?query`) before it is joined onto a tenant's base URL: it must be
/// absolute, must not start with `//`, and must not contain `.`/`..` segments
/// (also percent-encoded), encoded slashes or backslashes, `#`, whitespace or
/// control characters.
fn path_is_safe(path_and_query: &str) -> bool {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let bad_char = |c: char| c.is_control() || c.is_whitespace() || c == '#' || c == '\\';
    if !path.starts_with('/') || path.starts_with("//") || path.chars().any(bad_char) {
        return false;
    }
    if query.is_some_and(|q| q.chars().any(bad_char)) {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return false;
    }
    !lower
        .split('/')
        .map(|seg| seg.replace("%2e", "."))
        .any(|seg| seg == "." || seg == "..")
}

/// Joins a checked relative path onto the tenant's base URL and returns the
/// URL plus the path relative to the base (what the `qsh` covers). The
/// result is re-checked: same scheme, host and port, and still under the
/// base path.
fn join(base: &Url, path_and_query: &str) -> Result<(Url, String), HostError> {
    if !path_is_safe(path_and_query) {
        return Err(HostError::UnsafePath);
    }
    let base_path = base.path().trim_end_matches('/');
    let mut root = base.clone();
    root.set_query(None);
    root.set_fragment(None);
    let root = root.as_str().trim_end_matches('/').to_owned();
    let url = Url::parse(&format!("{root}{path_and_query}")).map_err(|_| HostError::UnsafePath)?;
    let same_origin = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    let relative = url
        .path()
        .strip_prefix(base_path)
        .filter(|rest| rest.starts_with('/'))
        .ok_or(HostError::UnsafePath)?
        .to_owned();
    if !same_origin {
        return Err(HostError::UnsafePath);
    }
    Ok((url, relative))
}

fn now_secs() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign<T: Serialize>(claims: &T, secret: &SecretString) -> Result<String, HostError> {
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes())
        .map_err(|_| HostError::Signing)?;
    encode(&Header::new(Algorithm::HS256), claims, &key).map_err(|_| HostError::Signing)
}

/// Claims of the app JWT on a call as the app.
#[derive(Serialize)]
struct AppClaims<'a> {
    iss: &'a str,
    iat: u64,
    exp: u64,
    qsh: String,
    aud: [&'a str; 1],
}

/// Claims of the JWT-bearer assertion.
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: String,
    sub: String,
    tnt: &'a str,
    aud: String,
    iat: u64,
    exp: u64,
}

/// The token endpoint's answer. Deliberately not `Debug`.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    token_type: Option<String>,
}

/// A product response: status and (size-capped) body.
pub struct HostResponse {
    status: StatusCode,
    body: Vec<u8>,
}

impl fmt::Debug for HostResponse {
    /// Status and size only: bodies stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostResponse")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HostResponse {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body as JSON of type `T` (errors carry no body text).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HostError> {
        serde_json::from_slice(&self.body).map_err(|_| HostError::Decode)
    }
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, HostError> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(HostError::Decode);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(HostError::Decode);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whom product calls are made for: the tenant of a verified token and,
/// when that token was a Forge Invocation Token, how to reach Confluence
/// through Forge. Lookups that take a tenant take `impl Into<HostAccess>`:
/// a `&TenantKey` (background work: Connect credentials) or the request's
/// `&Verified` (its transport).
#[derive(Clone, Copy, Debug)]
pub struct HostAccess<'a> {
    pub tenant: &'a TenantKey,
    pub forge: Option<&'a ForgeCall>,
}

impl<'a> From<&'a TenantKey> for HostAccess<'a> {
    fn from(tenant: &'a TenantKey) -> Self {
        Self {
            tenant,
            forge: None,
        }
    }
}

impl<'a> From<&'a Verified> for HostAccess<'a> {
    fn from(who: &'a Verified) -> Self {
        Self {
            tenant: &who.tenant,
            forge: who.forge.as_ref(),
        }
    }
}

/// Forge mode of a [`HostClient`]: the request's tokens (moved in, dropped
/// with the client).
struct ForgeMode {
    call: ForgeCall,
}

/// A client for one tenant's product REST API.
pub struct HostClient {
    http: reqwest::Client,
    settings: Arc<ConnectSettings>,
    tokens: HostTokenCache,
    tenant: Tenant,
    base: Url,
    /// The site's own base URL (links shown to people), whatever `base` is.
    site: String,
    forge: Option<ForgeMode>,
}

impl fmt::Debug for HostClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostClient")
            .field("tenant", &self.tenant.client_key)
            .field("base", &self.base.as_str())
            .field("forge", &self.forge.is_some())
            .finish_non_exhaustive()
    }
}

impl HostClient {
    /// A client for the tenant a verified token named. Refuses tenants that
    /// are uninstalled or disabled: a disabled app must stop acting.
    pub async fn for_tenant(state: &ConnectState, tenant: &TenantKey) -> Result<Self, HostError> {
        Self::for_access(state, tenant.into()).await
    }

    /// A client for a verified caller, in the caller's transport: Connect
    /// (app JWT / ACT_AS_USER) or Forge (the request's Forge tokens).
    pub async fn for_caller(state: &ConnectState, who: &Verified) -> Result<Self, HostError> {
        Self::for_access(state, who.into()).await
    }

    /// [`HostClient::for_tenant`] or [`HostClient::for_caller`], by what
    /// `access` carries. The tenant must be active in both modes.
    pub async fn for_access(
        state: &ConnectState,
        access: HostAccess<'_>,
    ) -> Result<Self, HostError> {
        let tenant = access.tenant;
        let record = state
            .tenants
            .fresh(tenant.as_str())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "tenant lookup failed before calling the product");
                HostError::Store
            })?
            .filter(|t| t.state.is_active())
            .ok_or(HostError::UnknownTenant)?;
        // Through Forge: Confluence behind Forge's API gateway
        // (`{apiBaseUrl}/wiki/rest/...`). `apiBaseUrl` comes from the
        // verified FIT and was checked against the configured prefix.
        let base_text = match access.forge {
            Some(call) => format!("{}/wiki", call.api_base_url.trim_end_matches('/')),
            None => record.base_url.clone(),
        };
        let base = Url::parse(&base_text).map_err(|_| HostError::BadBaseUrl)?;
        if !matches!(base.scheme(), "https" | "http") || base.host_str().is_none() {
            return Err(HostError::BadBaseUrl);
        }
        Ok(Self {
            http: state.http.clone(),
            settings: state.settings.clone(),
            tokens: state.host_tokens.clone(),
            site: record.base_url.clone(),
            tenant: record,
            base,
            forge: access.forge.map(|call| ForgeMode { call: call.clone() }),
        })
    }

    /// Whether calls go through Forge (the caller came with a FIT).
    pub fn through_forge(&self) -> bool {
        self.forge.is_some()
    }

    /// The tenant's client key.
    pub fn client_key(&self) -> &str {
        &self.tenant.client_key
    }

    /// Calls `method path_and_query` (relative to the tenant's base URL, e.g.
    /// `/rest/api/content/123`) as `who`, with an optional JSON body, and
    /// returns the response whatever its status. A GET never carries a body
    /// (Confluence answers 403 to GETs with one, CHANGE-2328).
    pub async fn send(
        &self,
        who: Principal<'_>,
        method: Method,
        path_and_query: &str,
        json_body: Option<&serde_json::Value>,
    ) -> Result<HostResponse, HostError> {
        let (url, relative) = join(&self.base, path_and_query)?;
        let (authorization, token_key) = match (&self.forge, who) {
            (Some(forge), who) => (format!("Bearer {}", forge.token_for(who)?), None),
            (None, Principal::App) => (
                format!("JWT {}", self.app_jwt(&method, &relative, url.query())?),
                None,
            ),
            (None, Principal::User { account_id, scopes }) => {
                let (key, token) = self.user_token(account_id, scopes).await?;
                (format!("Bearer {}", token.expose_secret()), Some(key))
            }
        };
        let mut req = self
            .http
            .request(method.clone(), url)
            .timeout(REQUEST_TIMEOUT)
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACCEPT, "application/json");
        if let Some(body) = json_body.filter(|_| method != Method::GET && method != Method::HEAD) {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| {
            let err = transport(&e);
            tracing::warn!(tenant = %self.tenant.client_key, %method, path = %relative, error = %err,
                "call to the product failed");
            err
        })?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED {
            // A revoked or otherwise refused user token must not be reused.
            if let Some(key) = &token_key {
                self.tokens.evict(key);
            }
            tracing::warn!(tenant = %self.tenant.client_key, %method, path = %relative,
                forge = self.forge.is_some(), "the product refused our credentials (401)");
        }
        let body = read_capped(resp).await?;
        Ok(HostResponse { status, body })
    }

    /// Where calls go: the site's product base URL (e.g.
    /// `https://acme.atlassian.net/wiki`), or Forge's API gateway for it.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The site's base URL as installed, for links shown to people (the
    /// same in both modes).
    pub fn site_url(&self) -> &str {
        &self.site
    }

    /// `GET` JSON as `who`; any non-2xx status is an error.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        who: Principal<'_>,
        path_and_query: &str,
    ) -> Result<T, HostError> {
        let resp = self.send(who, Method::GET, path_and_query, None).await?;
        if !resp.status.is_success() {
            return Err(HostError::Status(resp.status.as_u16()));
        }
        resp.json()
    }

    /// `POST` a JSON body as `who`; any non-2xx status is an error.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        who: Principal<'_>,
        path_and_query: &str,
        body: &serde_json::Value,
    ) -> Result<T, HostError> {
        let resp = self
            .send(who, Method::POST, path_and_query, Some(body))
            .await?;
        if !resp.status.is_success() {
            return Err(HostError::Status(resp.status.as_u16()));
        }
        resp.json()
    }

    /// The app JWT for one request: `qsh` over the path relative to the
    /// tenant's base URL (context path dropped) and the exact query sent.
    fn app_jwt(
        &self,
        method: &Method,
        relative_path: &str,
        query: Option<&str>,
    ) -> Result<String, HostError> {
        let now = now_secs();
        let claims = AppClaims {
            iss: &self.settings.app_key,
            iat: now,
            exp: now + APP_JWT_LIFETIME_SECS,
            qsh: qsh::qsh(method.as_str(), relative_path, query, ""),
            aud: [&self.tenant.client_key],
        };
        sign(&claims, &self.tenant.shared_secret)
    }

    /// An access token for `account_id`: from the cache, or through the
    /// JWT-bearer grant.
    async fn user_token(
        &self,
        account_id: &str,
        scopes: &[&str],
    ) -> Result<(TokenKey, SecretString), HostError> {
        if !account_id_is_sane(account_id) {
            return Err(HostError::NoUser);
        }
        let scope = normalize_scopes(scopes);
        let key = TokenKey {
            client_key: self.tenant.client_key.clone(),
            account_id: account_id.to_owned(),
            scopes: scope.clone(),
        };
        if let Some(token) = self.tokens.get(&key, Instant::now()) {
            return Ok((key, token));
        }
        let client_id = self
            .tenant
            .oauth_client_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                // Once per tenant (a day): a site installed without an OAuth
                // client cannot be helped by logging every request.
                if self.tokens.first_warning(&self.tenant.client_key) {
                    tracing::warn!(tenant = %self.tenant.client_key,
                        "the site's install carried no oauthClientId: acting as a user (ACT_AS_USER) is impossible until the app is reinstalled");
                }
                HostError::NoOAuthClient
            })?;
        let token_url = &self.settings.oauth_token_url;
        let now = now_secs();
        let claims = AssertionClaims {
            iss: format!("urn:atlassian:connect:clientid:{client_id}"),
            sub: format!("urn:atlassian:connect:useraccountid:{account_id}"),
            tnt: &self.tenant.base_url,
            aud: token_audience(token_url),
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        let assertion = sign(&claims, &self.tenant.shared_secret)?;
        // Built before any await: the serializer is not `Send`.
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", JWT_BEARER_GRANT);
            form.append_pair("assertion", &assertion);
            if !scope.is_empty() {
                form.append_pair("scope", &scope);
            }
            form.finish()
        };
        let resp = self
            .http
            .post(token_url.clone())
            .timeout(REQUEST_TIMEOUT)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let err = transport(&e);
                tracing::warn!(tenant = %self.tenant.client_key, error = %err, "token endpoint unreachable");
                err
            })?;
        let status = resp.status();
        if !status.is_success() {
            tracing::warn!(tenant = %self.tenant.client_key, status = status.as_u16(),
                "token endpoint refused the JWT-bearer grant");
            return Err(HostError::Grant(status.as_u16()));
        }
        let body = read_capped(resp).await?;
        let answer: TokenResponse = serde_json::from_slice(&body).map_err(|_| HostError::Decode)?;
        let bearer = answer
            .token_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
        if !bearer || answer.access_token.is_empty() {
            return Err(HostError::Decode);
        }
        let token = SecretString::from(answer.access_token);
        self.tokens.put(
            key.clone(),
            token.clone(),
            Duration::from_secs(answer.expires_in),
            Instant::now(),
        );
        Ok((key, token))
    }
}

impl ForgeMode {
    /// The token for a call as `who`: the system token as the app; the user
    /// token only as the FIT's principal (Forge gives no way to act as
    /// anyone else). Scopes are the manifest's, not per call.
    fn token_for(&self, who: Principal<'_>) -> Result<&str, HostError> {
        let tokens = &self.call.tokens;
        let token = match who {
            Principal::App => tokens.system.as_ref(),
            Principal::User { account_id, .. } => tokens
                .user
                .as_ref()
                .filter(|_| self.call.principal.as_deref() == Some(account_id)),
        };
        token
            .map(|t| t.expose_secret())
            .filter(|t| !t.is_empty())
            .ok_or(HostError::NoForgeToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str) -> TokenKey {
        TokenKey {
            client_key: "site".into(),
            account_id: user.into(),
            scopes: "ACT_AS_USER READ".into(),
        }
    }

    fn forge(system: Option<&str>, user: Option<&str>) -> ForgeMode {
        ForgeMode {
            call: ForgeCall {
                api_base_url: "https://api.atlassian.com/ex/confluence/c1".into(),
                principal: Some("ada".into()),
                tokens: crate::forge::ForgeTokens {
                    system: system.map(|t| SecretString::from(t.to_owned())),
                    user: user.map(|t| SecretString::from(t.to_owned())),
                },
            },
        }
    }

    #[test]
    fn through_forge_the_app_uses_the_system_token_and_only_the_principal_the_user_token() {
        let f = forge(Some("sys"), Some("usr"));
        assert_eq!(f.token_for(Principal::App), Ok("sys"));
        assert_eq!(f.token_for(Principal::user("ada")), Ok("usr"));
        // Forge gives no token for anyone else: refused, not the app's.
        assert_eq!(
            f.token_for(Principal::user("leo")),
            Err(HostError::NoForgeToken)
        );
        let none = forge(None, None);
        assert_eq!(none.token_for(Principal::App), Err(HostError::NoForgeToken));
        assert_eq!(
            none.token_for(Principal::user("ada")),
            Err(HostError::NoForgeToken)
        );
    }

    #[test]
    fn scopes_are_normalised_for_the_form_and_the_cache_key() {
        assert_eq!(
            normalize_scopes(&["read", "ACT_AS_USER", "READ", " "]),
            "ACT_AS_USER READ"
        );
        assert_eq!(normalize_scopes(&[]), "");
    }

    #[test]
    fn audience_is_the_token_endpoint_origin() {
        let atlassian =
            Url::parse("https://oauth-2-authorization-server.services.atlassian.com/oauth2/token")
                .unwrap();
        assert_eq!(
            token_audience(&atlassian),
            "https://oauth-2-authorization-server.services.atlassian.com"
        );
        let local = Url::parse("http://127.0.0.1:3001/oauth2/token").unwrap();
        assert_eq!(token_audience(&local), "http://127.0.0.1:3001");
    }

    #[test]
    fn paths_that_could_leave_the_base_are_refused() {
        for good in [
            "/rest/api/content/98305/permission/check",
            "/api/v2/spaces?keys=DEV&limit=1",
            "/rest/api/user/current?accountId=557058%3Aabc",
        ] {
            assert!(path_is_safe(good), "{good}");
        }
        for bad in [
            "",
            "rest/api",
            "//evil.example/x",
            "/rest/../admin",
            "/rest/%2e%2E/admin",
            "/rest/./x",
            "/rest%2fapi",
            "/rest\\api",
            "/a b",
            "/a#frag",
            "/a?x=1#y",
            "/a\n",
        ] {
            assert!(!path_is_safe(bad), "{bad:?}");
        }
    }

    #[test]
    fn join_keeps_the_context_path_in_the_url_and_drops_it_for_the_qsh() {
        let base = Url::parse("https://acme.atlassian.net/wiki").unwrap();
        let (url, rel) = join(&base, "/rest/api/content/1?expand=version").unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme.atlassian.net/wiki/rest/api/content/1?expand=version"
        );
        assert_eq!(rel, "/rest/api/content/1");
        let slash = Url::parse("https://acme.atlassian.net/wiki/").unwrap();
        assert_eq!(
            join(&slash, "/x").unwrap().0.as_str(),
            "https://acme.atlassian.net/wiki/x"
        );
        let bare = Url::parse("https://jira.example.com").unwrap();
        assert_eq!(join(&bare, "/x").unwrap().1, "/x");
        assert_eq!(join(&base, "//evil.example/x"), Err(HostError::UnsafePath));
        assert_eq!(join(&base, "/../x"), Err(HostError::UnsafePath));
    }

    #[test]
    fn token_cache_honours_the_expiry_margin() {
        let cache = HostTokenCache::default();
        let t0 = Instant::now();
        cache.put(
            key("a"),
            SecretString::from("tok-a"),
            Duration::from_secs(10),
            t0,
        );
        assert!(cache.get(&key("a"), t0 + Duration::from_secs(6)).is_some());
        assert!(
            cache.get(&key("a"), t0 + Duration::from_secs(7)).is_none(),
            "gone 3 s early"
        );
        assert!(cache.get(&key("b"), t0).is_none(), "per user");
        // A token that would expire within the margin is not kept at all.
        cache.put(
            key("c"),
            SecretString::from("tok-c"),
            Duration::from_secs(3),
            t0,
        );
        assert!(cache.get(&key("c"), t0).is_none());
    }

    #[test]
    fn debug_and_errors_never_show_tokens() {
        let cache = HostTokenCache::default();
        cache.put(
            key("a"),
            SecretString::from("very-secret-token"),
            Duration::from_secs(60),
            Instant::now(),
        );
        let shown = format!("{cache:?}");
        assert!(!shown.contains("very-secret-token"), "{shown}");
        for e in [
            HostError::Status(500),
            HostError::Grant(400),
            HostError::Transport(TransportFailure::Timeout),
            HostError::Decode,
        ] {
            assert!(!e.to_string().contains("token="), "{e}");
        }
    }
}
