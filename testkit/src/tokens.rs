//! Claims and signers for the tokens the app meets, valid by default so a
//! test changes exactly the one thing it is about.

use base64::Engine;
use connect::qsh;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::keys::InstallKey;

/// The page the fixtures put the course macro on, and its space.
pub const PAGE_ID: &str = "98305";
pub const SPACE_KEY: &str = "DEV";

/// A random id (32 hex digits).
pub fn unique_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims of a signed-install token (`/installed`, `/uninstalled`), plus
/// the key that signs it and the `kid` it names.
#[derive(Clone, Debug)]
pub struct InstallClaims {
    pub claims: Value,
    pub kid: Option<String>,
    pub key: &'static str,
}

impl InstallClaims {
    /// Valid claims from `client_key` for `POST path` of an app whose base
    /// URL is `audience` (no context path), signed with `key`.
    pub fn valid(client_key: &str, path: &str, audience: &str, key: InstallKey) -> Self {
        Self {
            claims: json!({
                "iss": client_key,
                "aud": [audience],
                "iat": now(),
                "exp": now() + 180,
                "qsh": qsh::qsh("POST", path, None, ""),
                // Unique per token, as every signed request is.
                "jti": unique_id(),
            }),
            kid: Some(key.kid.to_owned()),
            key: key.private_pem,
        }
    }

    /// Signs the claims (RS256 with the key and `kid` as set).
    pub fn sign(&self) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.kid.clone();
        encode(
            &header,
            &self.claims,
            &EncodingKey::from_rsa_pem(self.key.as_bytes()).expect("fixture key"),
        )
        .expect("sign")
    }
}

/// An HS-family token (`alg` as given) signed with `secret`.
pub fn hs_token(alg: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).expect("secret"),
    )
    .expect("sign")
}

/// An RS256 token signed with `key` (no `kid`).
pub fn rs_token(key: InstallKey, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).expect("fixture key"),
    )
    .expect("sign")
}

/// A token with `alg: none` and no signature.
pub fn unsigned_token(claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}

/// Replaces the payload of a signed token, keeping its signature.
pub fn tampered(token: &str, claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64.encode(claims.to_string());
    parts.join(".")
}

/// Claims of a context JWT as `AP.context.getToken()` returns it, for the
/// macro on [`PAGE_ID`] in [`SPACE_KEY`].
pub fn context_claims(client_key: &str, account: &str) -> Value {
    context_claims_on(client_key, account, PAGE_ID, SPACE_KEY)
}

/// Claims of a context JWT for the macro on page `page_id` in `space_key`.
pub fn context_claims_on(client_key: &str, account: &str, page_id: &str, space_key: &str) -> Value {
    json!({
        "iss": client_key,
        "sub": account,
        "iat": now(),
        "exp": now() + 900,
        "qsh": qsh::CONTEXT_QSH,
        "context": {"confluence": {"content": {"id": page_id}, "space": {"key": space_key}}},
    })
}

/// A signed context JWT for `account` on page `page_id` (space [`SPACE_KEY`]).
pub fn context_token(client_key: &str, secret: &str, account: &str, page_id: &str) -> String {
    hs_token(
        Algorithm::HS256,
        secret,
        &context_claims_on(client_key, account, page_id, SPACE_KEY),
    )
}

/// Claims of a page JWT for `GET path?query` (app without a context path).
pub fn page_claims(client_key: &str, account: &str, path: &str, query: &str) -> Value {
    json!({
        "iss": client_key,
        "sub": account,
        "iat": now(),
        "exp": now() + 180,
        "qsh": qsh::qsh("GET", path, Some(query), ""),
    })
}

/// The body Confluence posts to `/installed` for `client_key`, at the site
/// `base_url`, with the OAuth client id `oauth-<client_key>`.
pub fn install_body(client_key: &str, secret: &str, base_url: &str) -> Value {
    json!({
        "key": "smart-courses",
        "clientKey": client_key,
        "sharedSecret": secret,
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "confluence",
        "description": "test site",
        "eventType": "installed",
        "oauthClientId": oauth_client_id(client_key),
    })
}

/// The OAuth client id [`install_body`] gives a site.
pub fn oauth_client_id(client_key: &str) -> String {
    format!("oauth-{client_key}")
}
