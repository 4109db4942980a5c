//! HS256 tokens signed with a tenant's shared secret: page JWTs (with a qsh
//! computed over the request) and context JWTs (`qsh = "context-qsh"`).
//!
//! Order of checks follows atlassian-connect-express's `authentication.js`,
//! made stricter: algorithm pinned before anything else, tenant looked up by
//! the unverified `iss`, then signature, time claims (with a documented
//! leeway, also applied to `iat` in the future), then the token kind via qsh.
//! A token without `qsh` is refused everywhere.
//! Reference: <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>

use jsonwebtoken::{dangerous, decode, decode_header, Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{
    qsh,
    tenants::{Tenant, TenantState, Tenants},
    AuthError, ConnectSettings, ContextClaim, TenantKey, Verified,
};

/// Which kind of HS256 token the route accepts.
#[derive(Clone, Copy, Debug)]
pub enum Expect<'a> {
    /// A context JWT from `AP.context.getToken()`: `qsh` must be `context-qsh`.
    Context,
    /// A page (or server-to-server) JWT: `qsh` must match this request.
    Page {
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
    },
    /// The `enabled`/`disabled` callbacks: like [`Expect::Page`], but the tenant
    /// may currently be disabled (that is what `enabled` is for).
    Lifecycle {
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
    },
}

#[derive(Deserialize)]
struct UnverifiedIss {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct HsClaims {
    #[allow(dead_code)]
    iss: String,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    qsh: Option<String>,
    iat: u64,
    #[serde(default)]
    context: Option<ContextClaim>,
}

/// Verifies an HS256 Connect token and returns who and where it speaks for.
/// Steps 2b and 3 of [`verify_hs256`]: the tenant may be used for this kind
/// of token, and the token is signed with its secret and in date.
fn check_with_tenant(
    tenant: &Tenant,
    settings: &ConnectSettings,
    token: &str,
    expect: &Expect<'_>,
) -> Result<jsonwebtoken::TokenData<HsClaims>, AuthError> {
    let usable = match expect {
        Expect::Lifecycle { .. } => tenant.state != TenantState::Uninstalled,
        _ => tenant.state.is_active(),
    };
    if !usable {
        return Err(AuthError::InactiveTenant);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = settings.jwt_leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    let key = DecodingKey::from_secret(tenant.shared_secret.expose_secret().as_bytes())
        .map_err(|e| AuthError::Invalid(e.to_string()))?;
    decode::<HsClaims>(token, &key, &validation).map_err(|e| AuthError::Invalid(e.to_string()))
}

pub async fn verify_hs256(
    tenants: &Tenants,
    settings: &ConnectSettings,
    token: &str,
    expect: Expect<'_>,
) -> Result<Verified, AuthError> {
    // 1. Pin the algorithm before trusting anything else in the token.
    let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::HS256 {
        return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
    }
    // 2. The issuer names the tenant whose secret must have signed it.
    let unverified: UnverifiedIss = dangerous::insecure_decode_claims(token)
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
    let iss = unverified
        .iss
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Invalid("missing iss".into()))?;
    let store_err = |e: crate::TenantStoreError| {
        tracing::error!(error = %e, "tenant lookup failed during JWT verification");
        AuthError::Store
    };
    let (tenant, cached) = tenants.for_auth(&iss).await.map_err(store_err)?;
    let tenant = tenant.ok_or(AuthError::UnknownTenant)?;
    let first = check_with_tenant(&tenant, settings, token, &expect);
    let (tenant, data) = match first {
        // A cached row may be a few seconds old (a re-install elsewhere may
        // have rotated the secret or changed the state): ask once more.
        Err(_) if cached => {
            let fresh = tenants
                .fresh(&iss)
                .await
                .map_err(store_err)?
                .ok_or(AuthError::UnknownTenant)?;
            let data = check_with_tenant(&fresh, settings, token, &expect)?;
            (fresh, data)
        }
        other => (tenant, other?),
    };
    let claims = data.claims;
    let now = jsonwebtoken::get_current_timestamp();
    if claims.iat > now + settings.jwt_leeway.as_secs() {
        return Err(AuthError::NotYetValid);
    }
    // 4. The token kind, told apart by qsh (never absent).
    let token_qsh = claims.qsh.as_deref().ok_or(AuthError::Qsh)?;
    match expect {
        Expect::Context => {
            if token_qsh != qsh::CONTEXT_QSH {
                return Err(AuthError::WrongKind);
            }
        }
        Expect::Page {
            method,
            path,
            query,
        }
        | Expect::Lifecycle {
            method,
            path,
            query,
        } => {
            if token_qsh == qsh::CONTEXT_QSH {
                return Err(AuthError::WrongKind);
            }
            let expected = qsh::qsh(method, path, query, settings.base_path());
            if token_qsh != expected {
                return Err(AuthError::Qsh);
            }
        }
    }
    let confluence = claims.context.and_then(|c| c.confluence);
    Ok(Verified {
        tenant: TenantKey::verified(tenant.client_key),
        tenant_base_url: tenant.base_url,
        tenant_display_url: tenant.display_url,
        account_id: claims.sub.filter(|s| !s.is_empty()),
        content_id: confluence
            .as_ref()
            .and_then(|c| c.content.as_ref())
            .and_then(|c| c.id.clone()),
        content_version: confluence
            .as_ref()
            .and_then(|c| c.content.as_ref())
            .and_then(|c| c.version.as_deref())
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|v| *v > 0),
        space_key: confluence
            .as_ref()
            .and_then(|c| c.space.as_ref())
            .and_then(|s| s.key.clone()),
        forge: None,
    })
}
