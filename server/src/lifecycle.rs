//! Connect lifecycle callbacks: `/installed`, `/uninstalled`, `/enabled`,
//! `/disabled`.
//! Reference: <https://developer.atlassian.com/cloud/confluence/connect-app-descriptor/#lifecycle>
//!
//! Each handler authenticates first (extractor), then reads the body, then
//! checks that the body speaks for the same tenant as the token. Only then
//! does it write, in one statement.

use axum::{
    extract::{rejection::JsonRejection, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use app::state::AppState;
use connect::{
    auth::{InstallToken, LifecycleToken},
    install::InstallClaims,
    StateChange, TenantInstall, TenantState, TenantStoreError,
};

/// The lifecycle payload (the fields we keep; the rest is ignored). Not
/// `Debug`-printable in full: it carries the shared secret.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecyclePayload {
    client_key: String,
    #[serde(default)]
    shared_secret: Option<String>,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    display_url: Option<String>,
    #[serde(default)]
    product_type: Option<String>,
    #[serde(default)]
    oauth_client_id: Option<String>,
    #[serde(default)]
    installation_id: Option<String>,
}

impl std::fmt::Debug for LifecyclePayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifecyclePayload")
            .field("client_key", &self.client_key)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Errors of the lifecycle endpoints: short texts, details in the log.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Unknown tenant")]
    UnknownTenant,
    #[error("internal error")]
    Internal(#[from] TenantStoreError),
}

impl IntoResponse for LifecycleError {
    fn into_response(self) -> Response {
        let status = match &self {
            LifecycleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            LifecycleError::Unauthorized => StatusCode::UNAUTHORIZED,
            LifecycleError::UnknownTenant => StatusCode::NOT_FOUND,
            LifecycleError::Internal(e) => {
                tracing::error!(error = %e, "lifecycle callback failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let text = match &self {
            LifecycleError::Internal(_) => "Internal error".to_owned(),
            other => other.to_string(),
        };
        (status, text).into_response()
    }
}

fn payload(
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<LifecyclePayload, LifecycleError> {
    body.map(|Json(p)| p).map_err(|e| {
        LifecycleError::BadRequest(format!("Invalid lifecycle payload: {}", e.body_text()))
    })
}

/// The token's issuer must be the tenant the body talks about
/// (atlassian-connect-express: "clientKey in install payload did not match
/// authenticated client").
fn same_tenant(token_client_key: &str, body_client_key: &str) -> Result<(), LifecycleError> {
    if token_client_key != body_client_key {
        tracing::debug!("lifecycle refused: token iss differs from body clientKey");
        return Err(LifecycleError::Unauthorized);
    }
    Ok(())
}

/// Which URLs a field may hold.
#[derive(Clone, Copy)]
enum UrlRule {
    /// The product base URL: one of the configured tenant hosts
    /// (`TENANT_HOSTS`: Atlassian's product domains over https).
    TenantHost,
    /// The display URL (a site's custom domain is allowed): https, or a
    /// tenant host (the simulator's plain-http loopback site).
    HttpsOrTenantHost,
}

fn checked_url(
    state: &AppState,
    field: &str,
    value: Option<String>,
    required: bool,
    rule: UrlRule,
) -> Result<Option<String>, LifecycleError> {
    match value.filter(|v| !v.is_empty()) {
        None if required => Err(LifecycleError::BadRequest(format!("{field} is required"))),
        None => Ok(None),
        Some(v) => {
            let u = url::Url::parse(&v)
                .map_err(|_| LifecycleError::BadRequest(format!("{field} is not a URL")))?;
            // We send signed requests to this URL, so it must be TLS and,
            // for the base URL, one of Atlassian's product domains.
            let hosts = &state.connect.settings.tenant_hosts;
            let allowed = match rule {
                UrlRule::TenantHost => hosts.allows(&u),
                UrlRule::HttpsOrTenantHost => {
                    (u.scheme() == "https" && u.host_str().is_some()) || hosts.allows(&u)
                }
            };
            if !allowed {
                return Err(LifecycleError::BadRequest(match rule {
                    UrlRule::TenantHost => format!(
                        "{field} must be an https URL of an Atlassian site (allowed: {hosts:?})"
                    ),
                    UrlRule::HttpsOrTenantHost => format!("{field} must be an https URL"),
                }));
            }
            Ok(Some(v.trim_end_matches('/').to_owned()))
        }
    }
}

/// `POST /installed`: create or replace the tenant, only under a valid
/// Atlassian signature whose `iss` is the body's `clientKey`.
pub async fn installed(
    State(state): State<AppState>,
    InstallToken(claims): InstallToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    once(&state, &claims.token_sha256, claims.exp, || {
        install(&state, &claims, body)
    })
    .await
}

async fn install(
    state: &AppState,
    claims: &InstallClaims,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    let p = payload(body)?;
    same_tenant(&claims.iss, &p.client_key)?;
    let secret = p
        .shared_secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LifecycleError::BadRequest("sharedSecret is required".into()))?;
    if secret.len() > 1024 {
        return Err(LifecycleError::BadRequest(
            "sharedSecret is too long".into(),
        ));
    }
    let base_url =
        checked_url(state, "baseUrl", p.base_url, true, UrlRule::TenantHost)?.unwrap_or_default();
    let display_url = checked_url(
        state,
        "displayUrl",
        p.display_url,
        false,
        UrlRule::HttpsOrTenantHost,
    )?;
    state
        .connect
        .tenants
        .install(&TenantInstall {
            client_key: p.client_key,
            shared_secret: secret.into(),
            base_url,
            display_url,
            product_type: p.product_type,
            oauth_client_id: p.oauth_client_id,
            installation_id: p.installation_id,
        })
        .await?;
    tracing::info!(client_key = %claims.iss, "tenant installed");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /uninstalled`: tokens stop working at once; data is kept for the
/// retention period (purging belongs to operations).
pub async fn uninstalled(
    State(state): State<AppState>,
    InstallToken(claims): InstallToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    once(&state, &claims.token_sha256, claims.exp, || async {
        let p = payload(body)?;
        same_tenant(&claims.iss, &p.client_key)?;
        set_state(&state, &p.client_key, TenantState::Uninstalled).await
    })
    .await
}

/// `POST /enabled`.
pub async fn enabled(
    State(state): State<AppState>,
    token: LifecycleToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    switch(&state, &token, body, TenantState::Enabled).await
}

/// `POST /disabled`.
pub async fn disabled(
    State(state): State<AppState>,
    token: LifecycleToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    switch(&state, &token, body, TenantState::Disabled).await
}

async fn switch(
    state: &AppState,
    token: &LifecycleToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
    to: TenantState,
) -> Result<StatusCode, LifecycleError> {
    once(state, &token.token_sha256, token.expires_at, || async {
        let p = payload(body)?;
        same_tenant(&token.client_key, &p.client_key)?;
        set_state(state, &token.client_key, to).await
    })
    .await
}

/// Acts on a signed lifecycle request at most once per token: a token
/// already acted on (a captured request replayed while the token is still
/// valid) is refused with 401. When the change fails, the token is
/// forgotten again, so Atlassian's retry with the same token works.
async fn once<F, Fut>(
    state: &AppState,
    token_sha256: &str,
    expires_at: i64,
    change: F,
) -> Result<StatusCode, LifecycleError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<StatusCode, LifecycleError>>,
{
    let tenants = &state.connect.tenants;
    if !tenants
        .remember_lifecycle_token(token_sha256, expires_at)
        .await?
    {
        tracing::debug!("lifecycle refused: this signed token was already used (replay)");
        return Err(LifecycleError::Unauthorized);
    }
    let out = change().await;
    if out.is_err() {
        if let Err(e) = tenants.forget_lifecycle_token(token_sha256).await {
            tracing::error!(error = %e, "could not forget a lifecycle token after a failed change");
        }
    }
    out
}

async fn set_state(
    state: &AppState,
    client_key: &str,
    to: TenantState,
) -> Result<StatusCode, LifecycleError> {
    match state.connect.tenants.set_state(client_key, to).await? {
        StateChange::Changed => {
            tracing::info!(%client_key, state = ?to, "tenant lifecycle state changed");
            Ok(StatusCode::NO_CONTENT)
        }
        // Callbacks arrive out of order (a `disabled` can race the
        // `uninstalled`): acknowledge, change nothing.
        StateChange::KeptUninstalled => {
            tracing::info!(%client_key, event = ?to, "lifecycle callback ignored: the tenant is uninstalled (only /installed revives it)");
            Ok(StatusCode::NO_CONTENT)
        }
        StateChange::Missing => Err(LifecycleError::UnknownTenant),
    }
}

/// Requests per second one address may make to the lifecycle routes
/// (bursts up to [`LIFECYCLE_BURST`]). Atlassian calls them a handful of
/// times per site and year; anyone else posting there is refused early —
/// each request with a new `kid` could otherwise cost a key fetch.
pub const LIFECYCLE_PER_SECOND: u32 = 5;
/// Burst size of the lifecycle limit.
pub const LIFECYCLE_BURST: u32 = 30;

/// The lifecycle routes' rate limit, per peer address.
#[derive(Debug)]
pub struct LifecycleLimiter(governor::DefaultKeyedRateLimiter<std::net::IpAddr>);

impl Default for LifecycleLimiter {
    fn default() -> Self {
        let quota = governor::Quota::per_second(
            std::num::NonZeroU32::new(LIFECYCLE_PER_SECOND).unwrap_or(std::num::NonZeroU32::MIN),
        )
        .allow_burst(
            std::num::NonZeroU32::new(LIFECYCLE_BURST).unwrap_or(std::num::NonZeroU32::MIN),
        );
        Self(governor::DefaultKeyedRateLimiter::keyed(quota))
    }
}

/// Route layer of the lifecycle routes: 429 with `Retry-After` over the limit.
pub async fn limit(
    State(limiter): State<std::sync::Arc<LifecycleLimiter>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use governor::clock::Clock;
    // The peer address (served with connect info); all in one bucket if unknown.
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
    if let Err(not_until) = limiter.0.check_key(&ip) {
        let wait = not_until
            .wait_time_from(limiter.0.clock().now())
            .as_secs()
            .max(1);
        tracing::debug!(%ip, wait, "lifecycle route rate-limited");
        let mut resp = (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many lifecycle requests; try again later",
        )
            .into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    next.run(req).await
}
