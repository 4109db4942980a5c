//! Authentication as types: axum extractors that yield a [`Verified`]
//! context, one per token kind. A handler that takes `ContextJwt` or
//! `PageJwt` cannot run unless the token checked out.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header::AUTHORIZATION, request::Parts, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{
    jwt::{verify_hs256, Expect},
    AuthError, ConnectState, Verified,
};

/// Refusal of an unauthenticated request: always a bare 401 with a short
/// generic text; the reason goes to the debug log, never the token.
#[derive(Debug)]
pub struct AuthRejection(pub AuthError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.0.record();
        (StatusCode::UNAUTHORIZED, "Unauthorized").into_response()
    }
}

/// `Authorization: JWT <token>` (the Connect scheme), if present.
pub fn bearer_jwt(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("JWT ")?.trim();
    (!token.is_empty()).then_some(token)
}

/// The `jwt` query parameter (how Confluence authenticates iframe loads).
pub fn query_jwt(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "jwt")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// A verified **context JWT** (`qsh = context-qsh`), from the
/// `Authorization` header only. For server functions and our JSON API.
#[derive(Clone, Debug)]
pub struct ContextJwt(pub Verified);

impl ContextJwt {
    /// Verifies the context JWT of the request a server function is handling.
    pub async fn from_parts(parts: &Parts, state: &ConnectState) -> Result<Self, AuthError> {
        let token = bearer_jwt(parts).ok_or(AuthError::Missing)?;
        verify_hs256(&state.tenants, &state.settings, token, Expect::Context)
            .await
            .map(ContextJwt)
    }
}

impl<S> FromRequestParts<S> for ContextJwt
where
    S: Send + Sync,
    ConnectState: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, &ConnectState::from_ref(state))
            .await
            .map_err(AuthRejection)
    }
}

/// A verified **page JWT** (HS256, `qsh` of this very request), from `?jwt=`
/// or, for server-to-server callbacks, the `Authorization` header.
/// Content id and space key come from the signed query (`page.id`,
/// `space.key`) when the token's context does not carry them.
#[derive(Clone, Debug)]
pub struct PageJwt(pub Verified);

impl PageJwt {
    pub async fn from_parts(parts: &Parts, state: &ConnectState) -> Result<Self, AuthError> {
        let token = match query_jwt(parts) {
            Some(t) => t,
            None => bearer_jwt(parts).ok_or(AuthError::Missing)?.to_owned(),
        };
        let expect = Expect::Page {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
        };
        let mut verified = verify_hs256(&state.tenants, &state.settings, &token, expect).await?;
        // The query is covered by the qsh we just checked, so these are signed too.
        if let Some(query) = parts.uri.query() {
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                match k.as_ref() {
                    "page.id" | "content.id" if verified.content_id.is_none() && !v.is_empty() => {
                        verified.content_id = Some(v.into_owned())
                    }
                    "space.key" if verified.space_key.is_none() && !v.is_empty() => {
                        verified.space_key = Some(v.into_owned())
                    }
                    _ => {}
                }
            }
        }
        Ok(PageJwt(verified))
    }
}

impl<S> FromRequestParts<S> for PageJwt
where
    S: Send + Sync,
    ConnectState: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, &ConnectState::from_ref(state))
            .await
            .map_err(AuthRejection)
    }
}

/// A verified **signed-install token** (RS256 by Atlassian, key by `kid`),
/// for `/installed` and `/uninstalled`. Anything else — HS256, a context
/// token, no token — is refused before the body is even read.
#[derive(Clone, Debug)]
pub struct InstallToken(pub crate::install::InstallClaims);

impl InstallToken {
    /// Verifies the signed-install token of the request.
    pub async fn from_parts(parts: &Parts, state: &ConnectState) -> Result<Self, AuthError> {
        let token = bearer_jwt(parts).ok_or(AuthError::Missing)?;
        crate::install::verify(
            &state.http,
            &state.settings,
            &state.install_keys,
            token,
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query(),
        )
        .await
        .map(InstallToken)
    }
}

impl<S> FromRequestParts<S> for InstallToken
where
    S: Send + Sync,
    ConnectState: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, &ConnectState::from_ref(state))
            .await
            .map_err(AuthRejection)
    }
}

/// Who may send `enabled`/`disabled`: Atlassian with a signed-install token,
/// or the tenant itself with an HS256 token carrying this request's qsh
/// (how Connect signs callbacks other than install/uninstall). Yields the
/// verified client key, and the token's hash and expiry for replay
/// protection.
#[derive(Clone, Debug)]
pub struct LifecycleToken {
    pub client_key: String,
    pub token_sha256: String,
    pub expires_at: i64,
}

impl<S> FromRequestParts<S> for LifecycleToken
where
    S: Send + Sync,
    ConnectState: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = ConnectState::from_ref(state);
        let token = bearer_jwt(parts).ok_or(AuthRejection(AuthError::Missing))?;
        let alg = jsonwebtoken::decode_header(token)
            .map(|h| h.alg)
            .map_err(|e| AuthRejection(AuthError::Malformed(e.to_string())))?;
        if alg == jsonwebtoken::Algorithm::RS256 {
            let InstallToken(claims) = InstallToken::from_parts(parts, &state)
                .await
                .map_err(AuthRejection)?;
            return Ok(LifecycleToken {
                client_key: claims.iss,
                token_sha256: claims.token_sha256,
                expires_at: claims.exp,
            });
        }
        let expect = Expect::Lifecycle {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
        };
        let verified = verify_hs256(&state.tenants, &state.settings, token, expect)
            .await
            .map_err(AuthRejection)?;
        // Verified above: reading `exp` again is safe.
        #[derive(serde::Deserialize)]
        struct Exp {
            exp: i64,
        }
        let exp = jsonwebtoken::dangerous::insecure_decode_claims::<Exp>(token)
            .map_err(|e| AuthRejection(AuthError::Malformed(e.to_string())))?
            .exp;
        Ok(LifecycleToken {
            client_key: verified.tenant.as_str().to_owned(),
            token_sha256: crate::install::token_sha256(token),
            expires_at: exp,
        })
    }
}
