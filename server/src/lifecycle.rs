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
    TenantInstall, TenantState, TenantStoreError,
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
        checked_url(&state, "baseUrl", p.base_url, true, UrlRule::TenantHost)?.unwrap_or_default();
    let display_url = checked_url(
        &state,
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
    let p = payload(body)?;
    same_tenant(&claims.iss, &p.client_key)?;
    set_state(&state, &p.client_key, TenantState::Uninstalled).await
}

/// `POST /enabled`.
pub async fn enabled(
    State(state): State<AppState>,
    LifecycleToken(client_key): LifecycleToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    let p = payload(body)?;
    same_tenant(&client_key, &p.client_key)?;
    set_state(&state, &client_key, TenantState::Enabled).await
}

/// `POST /disabled`.
pub async fn disabled(
    State(state): State<AppState>,
    LifecycleToken(client_key): LifecycleToken,
    body: Result<Json<LifecyclePayload>, JsonRejection>,
) -> Result<StatusCode, LifecycleError> {
    let p = payload(body)?;
    same_tenant(&client_key, &p.client_key)?;
    set_state(&state, &client_key, TenantState::Disabled).await
}

async fn set_state(
    state: &AppState,
    client_key: &str,
    to: TenantState,
) -> Result<StatusCode, LifecycleError> {
    if state.connect.tenants.set_state(client_key, to).await? {
        tracing::info!(%client_key, state = ?to, "tenant lifecycle state changed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(LifecycleError::UnknownTenant)
    }
}
