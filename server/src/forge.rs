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
    http::{header::AUTHORIZATION, request::Parts},
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
    let token68 = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
    (!token.is_empty() && token.bytes().all(token68)).then_some(token)
}

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

/// The Forge routes, with their own state.
pub fn routes(state: ForgeState) -> Router {
    Router::new()
        .route(INVOKE_PATH, post(whoami))
        .with_state(state)
}
