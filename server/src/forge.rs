//! Forge Remote: the routes Forge calls with a **Forge Invocation Token**
//! (`Authorization: Bearer <FIT>`), and their extractor.
//!
//! Mounted only when `FORGE_APP_ID` is set (README "Running on Forge");
//! without it `/forge/*` answers 404 like any unknown path. The paths are
//! the ones `forge/manifest.yml` declares (`server/src/forge_manifest.rs`).
//!
//! Trust is the trust core's ([`connect::forge::ForgeVerifier`]): RS256 by
//! a key from the configured JWKS, our app id as `aud`, the installation
//! mapped to an active tenant through the store. A Connect token (scheme
//! `JWT`, or an HS256 token sent as a bearer) is refused here, as a FIT is
//! refused on the Connect routes: one extractor per token kind.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    routing::post,
    Json, Router,
};
use connect::{
    forge::{ForgeAuthError, ForgeInstallations, ForgeRejection, ForgeVerified, ForgeVerifier},
    Tenants,
};
use serde::Serialize;

/// The path of the remote resolver (`endpoint.remote-resolver.route.path`
/// in `forge/manifest.yml`).
pub const INVOKE_PATH: &str = "/forge/invoke";

/// What the Forge routes need: the verifier, the installation → tenant map,
/// and the same tenant directory Connect tokens resolve through.
#[derive(Clone)]
pub struct ForgeState {
    pub verifier: ForgeVerifier,
    pub installations: Arc<dyn ForgeInstallations>,
    pub tenants: Tenants,
}

impl std::fmt::Debug for ForgeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForgeState")
            .field("app_id", &self.verifier.settings().app_id)
            .finish_non_exhaustive()
    }
}

pub use connect::forge::bearer_token;

/// A verified Forge invocation: the handler runs only if the FIT checked
/// out and its installation belongs to an active tenant.
#[derive(Clone, Debug)]
pub struct ForgeInvocation(pub ForgeVerified);

impl ForgeInvocation {
    pub async fn from_parts(parts: &Parts, state: &ForgeState) -> Result<Self, ForgeAuthError> {
        let token = bearer_token(parts).ok_or(ForgeAuthError::Missing)?;
        state
            .verifier
            .verify(token, state.installations.as_ref(), &state.tenants)
            .await
            .map(ForgeInvocation)
    }
}

impl<S> FromRequestParts<S> for ForgeInvocation
where
    S: Send + Sync,
    ForgeState: FromRef<S>,
{
    type Rejection = ForgeRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, &ForgeState::from_ref(state))
            .await
            .map_err(ForgeRejection)
    }
}

/// Who is calling, without the site's URL or anything secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    pub installation_id: String,
    /// The tenant's client key (an identifier, not a secret).
    pub client_key: String,
    /// The user's account id; `None` for app-only invocations.
    pub account_id: Option<String>,
    /// Always true: an invocation whose installation maps to no active
    /// tenant is refused before this runs.
    pub tenant_found: bool,
}

/// `POST /forge/invoke`: who the verified invocation speaks for.
pub async fn whoami(ForgeInvocation(v): ForgeInvocation) -> Json<WhoAmI> {
    Json(WhoAmI {
        installation_id: v.installation_id,
        client_key: v.tenant.as_str().to_owned(),
        account_id: v.principal,
        tenant_found: true,
    })
}

/// The Forge routes, with their own state. The lifecycle routes are
/// rate-limited per address like Connect's (each unknown `kid` could
/// otherwise cost a JWKS fetch).
pub fn routes(state: ForgeState) -> Router {
    let lifecycle = Router::new()
        .route(LIFECYCLE_PATH, post(lifecycle))
        .route(PRE_UNINSTALL_PATH, post(pre_uninstall))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::new(crate::lifecycle::LifecycleLimiter::default()),
            crate::lifecycle::limit,
        ));
    Router::new()
        .route(INVOKE_PATH, post(whoami))
        .merge(lifecycle)
        .with_state(state)
}

/// The path of the Forge lifecycle (`endpoint.remote-lifecycle.route.path`):
/// the `trigger` on `avi:forge:installed:app` / `avi:forge:upgraded:app`
/// (and `avi:forge:uninstalled:app`, should Forge send it), the event named
/// by the body's `eventType`.
pub const LIFECYCLE_PATH: &str = "/forge/lifecycle";

/// The path of the `preUninstall` module
/// (`endpoint.remote-pre-uninstall.route.path`). Its own path because the
/// body Forge sends a remote for it is not documented (README open
/// question 7): the path, not the body, says "uninstalled".
pub const PRE_UNINSTALL_PATH: &str = "/forge/lifecycle/pre-uninstall";

/// The Forge lifecycle events we act on.
pub const EVENT_INSTALLED: &str = "avi:forge:installed:app";
pub const EVENT_UPGRADED: &str = "avi:forge:upgraded:app";
pub const EVENT_UNINSTALLED: &str = "avi:forge:uninstalled:app";

/// Largest lifecycle body read (the events are a few hundred bytes).
const MAX_LIFECYCLE_BODY: usize = 64 * 1024;

/// Why a Forge lifecycle call failed after its token was verified.
#[derive(Debug, thiserror::Error)]
pub enum ForgeLifecycleError {
    /// The FIT was refused: bare 401, reason logged and counted.
    #[error("unauthorized")]
    Unauthorized(#[from] ForgeAuthError),
    /// 400 with this message; nothing was written.
    #[error("{0}")]
    BadRequest(String),
    /// 500; logged.
    #[error("tenant store: {0}")]
    Store(#[from] connect::TenantStoreError),
}

impl axum::response::IntoResponse for ForgeLifecycleError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;
        match self {
            Self::Unauthorized(reason) => ForgeRejection(reason).into_response(),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message).into_response(),
            Self::Store(e) => {
                tracing::error!(error = %e, "Forge lifecycle: the tenant store failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
            }
        }
    }
}

/// A verified **app-only** FIT (a trigger or `preUninstall`, never a user
/// invocation) whose installation need not map to a tenant yet.
async fn lifecycle_claims(
    parts: &Parts,
    state: &ForgeState,
) -> Result<connect::forge::ForgeClaims, ForgeAuthError> {
    let token = bearer_token(parts).ok_or(ForgeAuthError::Missing)?;
    let claims = state.verifier.verify_claims(token).await?;
    if claims.principal.is_some() {
        return Err(ForgeAuthError::NotAppOnly);
    }
    Ok(claims)
}

/// The body as a JSON object, or a 400 saying why not.
fn lifecycle_body(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, ForgeLifecycleError> {
    if body.len() > MAX_LIFECYCLE_BODY {
        return Err(ForgeLifecycleError::BadRequest(
            "The body is too large.".into(),
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ForgeLifecycleError::BadRequest(
            "The body must be a JSON object.".into(),
        )),
        Err(_) => Err(ForgeLifecycleError::BadRequest(
            "The body is not valid JSON.".into(),
        )),
    }
}

/// `POST /forge/lifecycle`: a Forge lifecycle event for the installation of
/// the (app-only) FIT. Installed / upgraded create or refresh its tenant,
/// uninstalled retires it; see [`install_tenant`] and [`retire_tenant`].
/// The FIT is checked first (401), then the body (400); idempotent.
pub async fn lifecycle(
    axum::extract::State(state): axum::extract::State<ForgeState>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Result<axum::http::StatusCode, ForgeLifecycleError> {
    let claims = lifecycle_claims(&parts, &state).await?;
    let body = lifecycle_body(&body)?;
    let event = match body.get("eventType") {
        Some(serde_json::Value::String(e)) => e.as_str(),
        Some(_) => {
            return Err(ForgeLifecycleError::BadRequest(
                "eventType must be a string.".into(),
            ))
        }
        None => {
            return Err(ForgeLifecycleError::BadRequest(
                "eventType is required.".into(),
            ))
        }
    };
    match event {
        EVENT_INSTALLED => install_tenant(&state, &claims, true).await,
        EVENT_UPGRADED => install_tenant(&state, &claims, false).await,
        EVENT_UNINSTALLED => retire_tenant(&state, &claims).await,
        _ => Err(ForgeLifecycleError::BadRequest(format!(
            "eventType must be one of {EVENT_INSTALLED}, {EVENT_UPGRADED}, {EVENT_UNINSTALLED}."
        ))),
    }
}

/// `POST /forge/lifecycle/pre-uninstall`: the `preUninstall` module. The
/// body must be a JSON object (its fields are not documented, so none is
/// required); the installation is retired.
pub async fn pre_uninstall(
    axum::extract::State(state): axum::extract::State<ForgeState>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Result<axum::http::StatusCode, ForgeLifecycleError> {
    let claims = lifecycle_claims(&parts, &state).await?;
    lifecycle_body(&body)?;
    retire_tenant(&state, &claims).await
}

/// Creates or refreshes the tenant of `claims.installation_id`:
///
/// - a tenant (Connect's, whose signed `/installed` carried this
///   `installationId`, or an earlier Forge one) already names the
///   installation: it is made `installed` again with everything it had
///   (secret, URLs) — unless it was retired and the event is only an
///   upgrade (`revive == false`): 401, nothing written;
/// - none does: a **Forge-only tenant** is created. Its client key is the
///   installation ARI itself (Atlassian's advice is to key remote data by
///   `installationId`; a reinstall is a new installation, hence a new
///   tenant, as it would be for Connect under a new client key); its base
///   URL is `{apiBaseUrl}/wiki` from the verified FIT (the site's own URL
///   is not in an app-only FIT); its shared secret is random and never
///   leaves the server, so no Connect JWT can ever verify for it.
async fn install_tenant(
    state: &ForgeState,
    claims: &connect::forge::ForgeClaims,
    revive: bool,
) -> Result<axum::http::StatusCode, ForgeLifecycleError> {
    let installation = &claims.installation_id;
    let existing = match state.installations.client_key(installation).await? {
        Some(key) => state.tenants.fresh(&key).await?,
        None => None,
    };
    let install = match existing {
        Some(t) if !t.state.is_active() && !revive => {
            return Err(ForgeAuthError::InactiveTenant.into());
        }
        Some(t) => connect::TenantInstall {
            client_key: t.client_key,
            shared_secret: t.shared_secret,
            base_url: t.base_url,
            display_url: t.display_url,
            product_type: t.product_type,
            oauth_client_id: t.oauth_client_id,
            installation_id: Some(installation.clone()),
        },
        None => connect::TenantInstall {
            client_key: installation.clone(),
            shared_secret: unguessable_secret(),
            base_url: format!("{}/wiki", claims.api_base_url.trim_end_matches('/')),
            display_url: None,
            product_type: Some("confluence".into()),
            oauth_client_id: None,
            installation_id: Some(installation.clone()),
        },
    };
    state.tenants.install(&install).await?;
    tracing::info!(client_key = %install.client_key, %installation, "tenant installed through Forge");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Retires the installation's tenant exactly as Connect's `/uninstalled`
/// does (state `uninstalled`: its tokens stop working at once, data kept
/// for the retention period). Already retired: 204 again (Forge retries);
/// an installation no tenant names: 401.
async fn retire_tenant(
    state: &ForgeState,
    claims: &connect::forge::ForgeClaims,
) -> Result<axum::http::StatusCode, ForgeLifecycleError> {
    let key = state
        .installations
        .client_key(&claims.installation_id)
        .await?
        .ok_or(ForgeAuthError::UnknownInstallation)?;
    match state
        .tenants
        .set_state(&key, connect::TenantState::Uninstalled)
        .await?
    {
        connect::StateChange::Missing => Err(ForgeAuthError::UnknownInstallation.into()),
        _ => {
            tracing::info!(client_key = %key, "tenant uninstalled through Forge");
            Ok(axum::http::StatusCode::NO_CONTENT)
        }
    }
}

/// 244 random bits (two v4 UUIDs) as hex: a Forge-only tenant's shared
/// secret, which nobody is ever told.
fn unguessable_secret() -> secrecy::SecretString {
    let text = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    secrecy::SecretString::from(text)
}
