//! Signed install: `/installed` and `/uninstalled` carry an RS256 JWT signed
//! by Atlassian, verified with a public key fetched by the header's `kid`.
//!
//! This is what stops install hijacking (CVE-2021-26073/26074/26077): a
//! request can only create or replace a tenant's shared secret when Atlassian
//! signed it. HS256, unsigned and context tokens are refused; an unreachable
//! key server fails closed.
//! Reference: <https://developer.atlassian.com/cloud/confluence/connect-app-descriptor/#lifecycle>
//! and the signed-install section of
//! <https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>.

use std::{sync::Arc, time::Duration};

use cache::{Cache, Weigh};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::{qsh, AuthError, ConnectSettings};

/// A fetched public key and the size of its PEM (what it weighs).
#[derive(Clone)]
struct InstallKey {
    key: DecodingKey,
    pem_bytes: usize,
}

impl Weigh for InstallKey {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + 2 * self.pem_bytes
    }
}

/// Bytes of install keys kept (a key is under a kilobyte; Atlassian uses a
/// handful at a time).
const INSTALL_KEY_CACHE_BYTES: usize = 256 << 10;

/// How long a `kid` the key server could not give stays refused without
/// asking again: anyone can post a token with any well-formed `kid`, and
/// each would otherwise cost an outbound request.
pub const KID_MISS_TTL: Duration = Duration::from_secs(60);

/// Key fetches in flight at once, for the whole process.
const KEY_FETCHES_IN_FLIGHT: usize = 4;

/// Largest PEM accepted from the key server.
const MAX_PEM_BYTES: usize = 16 * 1024;

/// Public keys by `kid`. Atlassian rotates keys by issuing a new `kid`, so a
/// key once fetched for a `kid` never changes and can be kept (bounded by
/// bytes, a day at most). `kid`s the key server did not give are remembered
/// for [`KID_MISS_TTL`], and at most [`KEY_FETCHES_IN_FLIGHT`] fetches run at
/// once, so unauthenticated requests cannot turn into a flood of outbound
/// ones.
#[derive(Clone, Debug)]
pub struct InstallKeyCache {
    keys: Cache<String, InstallKey>,
    misses: Cache<String, ()>,
    fetches: Arc<Semaphore>,
}

impl Default for InstallKeyCache {
    fn default() -> Self {
        Self {
            keys: Cache::new(
                "install-keys",
                INSTALL_KEY_CACHE_BYTES,
                Duration::from_secs(24 * 3600),
            ),
            misses: Cache::new("install-key-misses", 256 << 10, KID_MISS_TTL),
            fetches: Arc::new(Semaphore::new(KEY_FETCHES_IN_FLIGHT)),
        }
    }
}

impl InstallKeyCache {
    fn get(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.get(&kid.to_owned()).map(|k| k.key)
    }

    fn put(&self, kid: &str, key: DecodingKey, pem_bytes: usize) {
        self.keys
            .insert(kid.to_owned(), InstallKey { key, pem_bytes });
    }

    fn missed_recently(&self, kid: &str) -> bool {
        self.misses.get(&kid.to_owned()).is_some()
    }

    fn miss(&self, kid: &str) {
        self.misses.insert(kid.to_owned(), ());
    }
}

/// The claims of a verified install token.
#[derive(Clone, Debug, Deserialize)]
pub struct InstallClaims {
    /// The client key the token speaks for; must equal the body's `clientKey`.
    pub iss: String,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    qsh: Option<String>,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// SHA-256 of the whole token (hex): what replay protection remembers.
    #[serde(skip)]
    pub token_sha256: String,
}

/// SHA-256 of a token, hex: how a used lifecycle token is remembered (never
/// the token itself).
pub fn token_sha256(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A `kid` is put into a URL path, so only a conservative character set is
/// accepted: no `/`, no `..`, no percent signs, bounded length.
pub fn kid_is_safe(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 128
        && !kid.contains("..")
        && !kid.starts_with('.')
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// How long we wait for the key server before failing the install.
const KEY_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

async fn fetch_key(
    http: &reqwest::Client,
    settings: &ConnectSettings,
    cache: &InstallKeyCache,
    kid: &str,
) -> Result<DecodingKey, AuthError> {
    if let Some(key) = cache.get(kid) {
        return Ok(key);
    }
    if cache.missed_recently(kid) {
        return Err(AuthError::KeyUnavailable("unknown kid (remembered)".into()));
    }
    let _permit = tokio::time::timeout(KEY_FETCH_TIMEOUT, cache.fetches.clone().acquire_owned())
        .await
        .map_err(|_| AuthError::KeyUnavailable("too many key fetches in flight".into()))?
        .map_err(|_| AuthError::KeyUnavailable("key fetches closed".into()))?;
    // Another request may have fetched it while this one waited.
    if let Some(key) = cache.get(kid) {
        return Ok(key);
    }
    let fetched = fetch_pem(http, settings, kid).await.and_then(|pem| {
        DecodingKey::from_rsa_pem(pem.as_bytes())
            .map(|key| (key, pem.len()))
            .map_err(|e| AuthError::KeyUnavailable(format!("bad key: {e}")))
    });
    match fetched {
        Ok((key, len)) => {
            cache.put(kid, key.clone(), len);
            Ok(key)
        }
        Err(e) => {
            cache.miss(kid);
            Err(e)
        }
    }
}

async fn fetch_pem(
    http: &reqwest::Client,
    settings: &ConnectSettings,
    kid: &str,
) -> Result<String, AuthError> {
    let base = settings.keys_cdn_url.as_str().trim_end_matches('/');
    let url = format!("{base}/{kid}");
    let resp = http
        .get(&url)
        .timeout(KEY_FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| AuthError::KeyUnavailable(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(AuthError::KeyUnavailable(format!(
            "status {}",
            resp.status()
        )));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_PEM_BYTES as u64)
    {
        return Err(AuthError::KeyUnavailable("key too large".into()));
    }
    let pem = resp
        .text()
        .await
        .map_err(|e| AuthError::KeyUnavailable(e.to_string()))?;
    if pem.len() > MAX_PEM_BYTES {
        return Err(AuthError::KeyUnavailable("key too large".into()));
    }
    Ok(pem)
}

/// Verifies a signed-install token for the request `method path?query`.
pub async fn verify(
    http: &reqwest::Client,
    settings: &ConnectSettings,
    cache: &InstallKeyCache,
    token: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Result<InstallClaims, AuthError> {
    let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
    }
    let kid = header
        .kid
        .filter(|k| kid_is_safe(k))
        .ok_or_else(|| AuthError::Malformed("missing or unsafe kid".into()))?;
    let key = fetch_key(http, settings, cache, &kid).await?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = settings.jwt_leeway.as_secs();
    let base = settings.base_url_str();
    validation.set_audience(&[base.clone(), format!("{base}/")]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let data = decode::<InstallClaims>(token, &key, &validation)
        .map_err(|e| AuthError::Invalid(e.to_string()))?;
    let mut claims = data.claims;
    claims.token_sha256 = token_sha256(token);
    let expected = qsh::qsh(method, path, query, settings.base_path());
    match claims.qsh.as_deref() {
        Some(q) if q == expected => {}
        _ => return Err(AuthError::Qsh),
    }
    if claims.iss.is_empty() {
        return Err(AuthError::Invalid("empty iss".into()));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::kid_is_safe;

    #[test]
    fn kid_pattern_refuses_path_games() {
        for good in [
            "0f9e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
            "key_1",
            "prod.key-2",
        ] {
            assert!(kid_is_safe(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "..",
            ".hidden",
            "a%2fb",
            "a b",
            "k?x=1",
            "a\\b",
            &"k".repeat(129),
        ] {
            assert!(!kid_is_safe(bad), "{bad}");
        }
    }
}
