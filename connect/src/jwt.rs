//! HS256 tokens signed with a tenant's shared secret: page JWTs (with a qsh
//! computed over the request) and context JWTs (`qsh = "context-qsh"`).
//!
//! Order of checks follows atlassian-connect-express's `authentication.js`,
//! made stricter: algorithm pinned before anything else, tenant looked up by
//! the unverified `iss`, then signature, time claims (with a documented
//! leeway, also applied to `iat` in the future), then the token kind via qsh.
//! A token without `qsh` is refused everywhere.
//! Reference: <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey};
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

/// The claims of an HS256 Connect token that we read. `exp` and `iat` are
/// required, checked after decoding (a missing one is refused as invalid,
/// as `jsonwebtoken`'s required-claims rule did).
#[derive(Deserialize)]
struct HsClaims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    qsh: Option<String>,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    context: Option<ContextClaim>,
}

/// The one header field we read (`alg`); borrowed where the JSON allows.
#[derive(Deserialize)]
struct HsHeader<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
}

/// A token taken apart once: its header checked (HS256 only), its claims
/// decoded, and the signed message and signature kept for the check. The
/// claims are decoded before the signature is checked because the issuer
/// names the secret; nothing in them is trusted until [`check_signature`]
/// passed. (Before, the header was parsed twice and the claims decoded
/// three times per request — `jsonwebtoken::decode` deserialises them twice
/// itself — which `perf` put at close to half of a learner request's guard.)
struct Unverified<'t> {
    message: &'t str,
    signature: &'t str,
    claims: HsClaims,
}

impl<'t> Unverified<'t> {
    fn parse(token: &'t str) -> Result<Self, AuthError> {
        let malformed = |what: &str| AuthError::Malformed(what.to_owned());
        let mut parts = token.split('.');
        let (Some(head), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not three parts"));
        };
        let message = &token[..head.len() + 1 + payload.len()];
        // 1. Pin the algorithm before trusting anything else in the token:
        // the header's `alg` is read (nothing else of it is used) and must
        // be exactly HS256.
        let head_json = URL_SAFE_NO_PAD
            .decode(head)
            .map_err(|_| malformed("header is not base64url"))?;
        let header: HsHeader<'_> =
            serde_json::from_slice(&head_json).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != "HS256" {
            // Logged at debug: kept short, whatever the token says.
            return Err(AuthError::Algorithm(header.alg.chars().take(16).collect()));
        }
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| malformed("claims are not base64url"))?;
        let claims: HsClaims =
            serde_json::from_slice(&json).map_err(|e| AuthError::Malformed(e.to_string()))?;
        Ok(Self {
            message,
            signature,
            claims,
        })
    }
}

/// Step 2b and the signature of step 3 of [`verify_hs256`]: the tenant may
/// be used for this kind of token, and the token is signed with its secret
/// (HS256, pinned; `jsonwebtoken`'s verifier compares in constant time).
fn check_signature(
    tenant: &Tenant,
    token: &Unverified<'_>,
    expect: &Expect<'_>,
) -> Result<(), AuthError> {
    let usable = match expect {
        Expect::Lifecycle { .. } => tenant.state != TenantState::Uninstalled,
        _ => tenant.state.is_active(),
    };
    if !usable {
        return Err(AuthError::InactiveTenant);
    }
    let key = DecodingKey::from_secret(tenant.shared_secret.expose_secret().as_bytes())
        .map_err(|e| AuthError::Invalid(e.to_string()))?;
    let signed = jsonwebtoken::crypto::verify(
        token.signature,
        token.message.as_bytes(),
        &key,
        Algorithm::HS256,
    )
    .map_err(|e| AuthError::Invalid(e.to_string()))?;
    if signed {
        Ok(())
    } else {
        Err(AuthError::Invalid("signature".into()))
    }
}

/// Step 3's time claims, on a token whose signature held: `exp` required and
/// not past, `nbf` (if present) and `iat` (required) not in the future, each
/// with the configured leeway — the rules `jsonwebtoken::Validation` applied
/// (`validate_exp`, `validate_nbf`, required `exp`/`iat`), plus `iat`.
fn check_times(claims: &HsClaims, leeway: u64, now: u64) -> Result<(), AuthError> {
    let exp = claims
        .exp
        .ok_or_else(|| AuthError::Invalid("missing exp".into()))?;
    let iat = claims
        .iat
        .ok_or_else(|| AuthError::Invalid("missing iat".into()))?;
    if exp < now.saturating_sub(leeway) {
        return Err(AuthError::Invalid("expired".into()));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + leeway) || iat > now + leeway {
        return Err(AuthError::NotYetValid);
    }
    Ok(())
}

pub async fn verify_hs256(
    tenants: &Tenants,
    settings: &ConnectSettings,
    token: &str,
    expect: Expect<'_>,
) -> Result<Verified, AuthError> {
    // 1. The algorithm pinned, the claims decoded (not yet trusted).
    let unverified = Unverified::parse(token)?;
    // 2. The issuer names the tenant whose secret must have signed it.
    let iss = unverified
        .claims
        .iss
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Invalid("missing iss".into()))?;
    let store_err = |e: crate::TenantStoreError| {
        tracing::error!(error = %e, "tenant lookup failed during JWT verification");
        AuthError::Store
    };
    let (tenant, cached) = tenants.for_auth(iss).await.map_err(store_err)?;
    let tenant = tenant.ok_or(AuthError::UnknownTenant)?;
    // 3. Signed with that tenant's secret.
    let tenant = match check_signature(&tenant, &unverified, &expect) {
        // A cached row may be a few seconds old (a re-install elsewhere may
        // have rotated the secret or changed the state): ask once more.
        Err(_) if cached => {
            let fresh = tenants
                .fresh(iss)
                .await
                .map_err(store_err)?
                .ok_or(AuthError::UnknownTenant)?;
            check_signature(&fresh, &unverified, &expect)?;
            fresh
        }
        other => {
            other?;
            tenant
        }
    };
    let claims = unverified.claims;
    check_times(
        &claims,
        settings.jwt_leeway.as_secs(),
        jsonwebtoken::get_current_timestamp(),
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn claims(v: serde_json::Value) -> HsClaims {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn time_claims_hold_to_the_leeway_and_no_further() {
        let now = 1_000_000;
        let ok = |c: serde_json::Value| check_times(&claims(c), 3, now);
        assert_eq!(ok(serde_json::json!({"exp": now, "iat": now})), Ok(()));
        // Expired 3 s ago: within the leeway; 4 s: refused.
        assert_eq!(
            ok(serde_json::json!({"exp": now - 3, "iat": now - 60})),
            Ok(())
        );
        assert!(matches!(
            ok(serde_json::json!({"exp": now - 4, "iat": now - 60})),
            Err(AuthError::Invalid(_))
        ));
        // nbf and iat up to 3 s ahead pass; 4 s ahead are not valid yet.
        assert_eq!(
            ok(serde_json::json!({"exp": now + 60, "iat": now + 3, "nbf": now + 3})),
            Ok(())
        );
        assert_eq!(
            ok(serde_json::json!({"exp": now + 60, "iat": now, "nbf": now + 4})),
            Err(AuthError::NotYetValid)
        );
        assert_eq!(
            ok(serde_json::json!({"exp": now + 60, "iat": now + 4})),
            Err(AuthError::NotYetValid)
        );
        // exp and iat are required.
        assert!(matches!(
            ok(serde_json::json!({"iat": now})),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            ok(serde_json::json!({"exp": now})),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn a_token_is_taken_apart_once_and_only_as_hs256() {
        let header = b64(&serde_json::json!({"alg": "HS256", "typ": "JWT"}));
        let payload = b64(&serde_json::json!({"iss": "site", "exp": 5, "iat": 1, "qsh": "q"}));
        let token = format!("{header}.{payload}.c2ln");
        let t = Unverified::parse(&token).unwrap();
        assert_eq!(t.message, format!("{header}.{payload}"));
        assert_eq!(t.signature, "c2ln");
        assert_eq!(t.claims.iss.as_deref(), Some("site"));
        assert_eq!((t.claims.exp, t.claims.iat), (Some(5), Some(1)));

        let refused = |t: &str| Unverified::parse(t).err();
        assert!(matches!(
            refused(&format!("{token}.more")),
            Some(AuthError::Malformed(_))
        ));
        assert!(matches!(
            refused(&format!("{header}.not*base64.c2ln")),
            Some(AuthError::Malformed(_))
        ));
        assert!(matches!(
            refused(&format!(
                "{header}.{}.c2ln",
                b64(&serde_json::json!({"exp": "soon"}))
            )),
            Some(AuthError::Malformed(_))
        ));
        let hs512 = b64(&serde_json::json!({"alg": "HS512", "typ": "JWT"}));
        assert!(matches!(
            refused(&format!("{hs512}.{payload}.c2ln")),
            Some(AuthError::Algorithm(_))
        ));
        let none = b64(&serde_json::json!({"alg": "none"}));
        assert_eq!(
            refused(&format!("{none}.{payload}.")),
            Some(AuthError::Algorithm("none".into()))
        );
        let no_alg = b64(&serde_json::json!({"typ": "JWT"}));
        assert!(matches!(
            refused(&format!("{no_alg}.{payload}.c2ln")),
            Some(AuthError::Malformed(_))
        ));
    }
}
