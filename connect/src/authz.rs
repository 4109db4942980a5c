//! Authorization: asking Confluence, on the server, whether the verified
//! user may do what a request wants. The browser's view of permissions is
//! never trusted; a verified token only says *who* is asking.
//!
//! | check | how | as |
//! |---|---|---|
//! | [`can_view_page`] / [`can_edit_page`] | `POST /rest/api/content/{id}/permission/check` with `operation` `read` / `update` | the app |
//! | [`is_space_admin`] | `GET /api/v2/spaces?keys={key}` → id, then `GET /api/v2/spaces/{id}/operations`, looking for `administer`/`space` | the user (ACT_AS_USER) |
//!
//! **Why this space-admin check.** Confluence Cloud has no space-level
//! counterpart of the content permission check, and its v1 "add space
//! permission" resource is closed to Connect apps. The v2 "Get permitted
//! operations for space" endpoint answers the exact question for the
//! *calling* user ("Returns the permitted operations on specific space";
//! permission required: view the space), so we call it as the user through
//! ACT_AS_USER. A user who cannot see the space gets no id or a 404, which
//! reads as "not an admin". Listing the space's permission assignments
//! (`GET /api/v2/spaces/{id}/permissions`) instead would mean resolving group
//! memberships and paging ourselves. The v1 `expand=operations` on
//! `/rest/api/space/{key}` is the deprecated way to get the same answer.
//! References:
//! <https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-operation/#api-spaces-id-operations-get>,
//! <https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-space/#api-spaces-get>,
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-permissions/#api-wiki-rest-api-content-id-permission-check-post>.
//!
//! Decisions (allowed or denied) are cached for [`DECISION_TTL`] per
//! (tenant, user, resource, operation); failures never are. Everything fails
//! closed: no user, a malformed id, or Confluence not answering all deny.

use std::time::{Duration, Instant};

use cache::{Cache, Weigh};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::{
    host_client::{HostClient, HostError, HostResponse, Principal},
    ConnectState, Verified,
};

/// How long a permission answer is reused. Short, so a permission removed in
/// Confluence stops working here within half a minute.
pub const DECISION_TTL: Duration = Duration::from_secs(30);

/// Longest space key accepted (Confluence's own limit is 255 characters;
/// personal spaces are `~` followed by an account id).
const MAX_SPACE_KEY_LEN: usize = 255;

/// Longest content id accepted (Confluence ids are 64-bit integers).
const MAX_CONTENT_ID_LEN: usize = 20;

/// Bytes of decisions kept (one is about 200 bytes: ~40 000 decisions).
const AUTHZ_CACHE_BYTES: usize = 8 << 20;

/// Why a permission question could not be answered. Never shown to users.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthzError {
    /// The content id is not `^[0-9]+$` (refused before any request).
    #[error("invalid content id")]
    InvalidContentId,
    /// The space key is not `^[A-Za-z0-9~]+$` or too long.
    #[error("invalid space key")]
    InvalidSpaceKey,
    /// Confluence could not be asked or gave no usable answer.
    #[error("Confluence did not answer: {0}")]
    Host(#[from] HostError),
}

/// A Confluence content (page) id: digits only, bounded. Checked before it
/// is put into a REST path.
pub fn content_id_is_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CONTENT_ID_LEN && id.bytes().all(|b| b.is_ascii_digit())
}

/// A Confluence space key: ASCII letters, digits and `~`, bounded.
pub fn space_key_is_valid(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_SPACE_KEY_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'~')
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DecisionKey {
    tenant: String,
    account_id: String,
    resource: String,
    operation: &'static str,
}

impl Weigh for DecisionKey {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.tenant.len()
            + self.account_id.len()
            + self.resource.len()
    }
}

/// Recent permission decisions, kept for [`DECISION_TTL`]. Part of
/// [`ConnectState`].
#[derive(Clone, Debug)]
pub struct AuthzCache(Cache<DecisionKey, bool>);

impl Default for AuthzCache {
    fn default() -> Self {
        Self(Cache::new("authz", AUTHZ_CACHE_BYTES, DECISION_TTL))
    }
}

impl AuthzCache {
    fn get(&self, key: &DecisionKey, now: Instant) -> Option<bool> {
        self.0.get_at(key, now)
    }

    fn put(&self, key: DecisionKey, allowed: bool, now: Instant) {
        self.0.insert_at(key, allowed, now);
    }
}

fn decision_key(
    caller: &Verified,
    account_id: &str,
    resource: String,
    operation: &'static str,
) -> DecisionKey {
    DecisionKey {
        tenant: caller.tenant.as_str().to_owned(),
        account_id: account_id.to_owned(),
        resource,
        operation,
    }
}

/// May the caller view the page `content_id`?
pub async fn can_view_page(
    state: &ConnectState,
    caller: &Verified,
    content_id: &str,
) -> Result<bool, AuthzError> {
    content_permission(state, caller, content_id, "read").await
}

/// May the caller edit the page `content_id`?
pub async fn can_edit_page(
    state: &ConnectState,
    caller: &Verified,
    content_id: &str,
) -> Result<bool, AuthzError> {
    content_permission(state, caller, content_id, "update").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionCheck {
    has_permission: bool,
}

/// `POST /rest/api/content/{id}/permission/check` as the app, for the
/// caller's account id.
async fn content_permission(
    state: &ConnectState,
    caller: &Verified,
    content_id: &str,
    operation: &'static str,
) -> Result<bool, AuthzError> {
    if !content_id_is_valid(content_id) {
        return Err(AuthzError::InvalidContentId);
    }
    // Anonymous viewers have no account to check: never allowed.
    let Some(account_id) = caller.account_id.as_deref() else {
        return Ok(false);
    };
    let key = decision_key(
        caller,
        account_id,
        format!("content:{content_id}"),
        operation,
    );
    if let Some(allowed) = state.authz.get(&key, Instant::now()) {
        return Ok(allowed);
    }
    let client = HostClient::for_caller(state, caller).await?;
    let body = json!({
        "subject": {"type": "user", "identifier": account_id},
        "operation": operation,
    });
    let resp = client
        .send(
            Principal::App,
            Method::POST,
            &format!("/rest/api/content/{content_id}/permission/check"),
            Some(&body),
        )
        .await?;
    let allowed = match resp.status() {
        s if s.is_success() => resp.json::<PermissionCheck>()?.has_permission,
        // No such content on this site (or not visible to the app).
        StatusCode::NOT_FOUND => false,
        s => return Err(HostError::Status(s.as_u16()).into()),
    };
    state.authz.put(key, allowed, Instant::now());
    Ok(allowed)
}

#[derive(Deserialize)]
struct SpacesPage {
    #[serde(default)]
    results: Vec<SpaceRef>,
}

#[derive(Deserialize)]
struct SpaceRef {
    /// v2 sends ids as strings; accept numbers too.
    id: serde_json::Value,
    key: String,
}

#[derive(Deserialize)]
struct PermittedOperations {
    #[serde(default)]
    operations: Vec<Operation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    operation: String,
    target_type: String,
}

/// A response that means "this user cannot see it" (so: not an admin).
fn hidden(resp: &HostResponse) -> bool {
    matches!(resp.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN)
}

/// Does the caller administer the space `space_key`? Asked as the user, see
/// the module documentation for the endpoint choice.
pub async fn is_space_admin(
    state: &ConnectState,
    caller: &Verified,
    space_key: &str,
) -> Result<bool, AuthzError> {
    if !space_key_is_valid(space_key) {
        return Err(AuthzError::InvalidSpaceKey);
    }
    let Some(account_id) = caller.account_id.as_deref() else {
        return Ok(false);
    };
    let key = decision_key(
        caller,
        account_id,
        format!("space:{space_key}"),
        "administer",
    );
    if let Some(allowed) = state.authz.get(&key, Instant::now()) {
        return Ok(allowed);
    }
    let client = HostClient::for_caller(state, caller).await?;
    let who = Principal::user(account_id);
    let allowed = space_admin_as_user(&client, who, space_key).await?;
    state.authz.put(key, allowed, Instant::now());
    Ok(allowed)
}

async fn space_admin_as_user(
    client: &HostClient,
    who: Principal<'_>,
    space_key: &str,
) -> Result<bool, AuthzError> {
    // 1. Key → id. Only spaces the user may view are listed. (The key was
    //    validated: letters, digits and `~` need no escaping in a query.)
    let resp = client
        .send(
            who,
            Method::GET,
            &format!("/api/v2/spaces?keys={space_key}&limit=1"),
            None,
        )
        .await?;
    if hidden(&resp) {
        return Ok(false);
    }
    if !resp.status().is_success() {
        return Err(HostError::Status(resp.status().as_u16()).into());
    }
    let page: SpacesPage = resp.json()?;
    let id = page
        .results
        .into_iter()
        .find(|s| s.key == space_key)
        .map(|s| match s.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
    let Some(id) = id else { return Ok(false) };
    if !content_id_is_valid(&id) {
        return Err(HostError::Decode.into());
    }
    // 2. What may this user do in that space?
    let resp = client
        .send(
            who,
            Method::GET,
            &format!("/api/v2/spaces/{id}/operations"),
            None,
        )
        .await?;
    if hidden(&resp) {
        return Ok(false);
    }
    if !resp.status().is_success() {
        return Err(HostError::Status(resp.status().as_u16()).into());
    }
    let ops: PermittedOperations = resp.json()?;
    Ok(ops
        .operations
        .iter()
        .any(|o| o.operation == "administer" && o.target_type == "space"))
}

#[derive(Deserialize)]
struct ContentSpace {
    #[serde(default)]
    space: Option<SpaceKey>,
}

#[derive(Deserialize)]
struct SpaceKey {
    key: String,
}

/// The space the page `content_id` is in now, asked of Confluence as the
/// app (`GET /rest/api/content/{id}?expand=space`); `None` when Confluence
/// does not know the page. Pages move between spaces: a course records the
/// space it was created in, and whatever depends on the space (the space
/// admins' reports) must ask again.
/// Reference: <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content/#api-wiki-rest-api-content-id-get>.
pub async fn page_space(
    state: &ConnectState,
    caller: &Verified,
    content_id: &str,
) -> Result<Option<String>, AuthzError> {
    if !content_id_is_valid(content_id) {
        return Err(AuthzError::InvalidContentId);
    }
    let client = HostClient::for_caller(state, caller).await?;
    let resp = client
        .send(
            Principal::App,
            Method::GET,
            &format!("/rest/api/content/{content_id}?expand=space"),
            None,
        )
        .await?;
    match resp.status() {
        s if s.is_success() => Ok(resp.json::<ContentSpace>()?.space.map(|s| s.key)),
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => Ok(None),
        s => Err(HostError::Status(s.as_u16()).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids_are_digits_only() {
        for good in ["1", "98305", "12345678901234567890"] {
            assert!(content_id_is_valid(good), "{good}");
        }
        for bad in [
            "",
            "abc",
            "98305/../1",
            "1?x=1",
            "-1",
            " 1",
            "1 ",
            "１",
            "123456789012345678901",
        ] {
            assert!(!content_id_is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn space_keys_are_letters_digits_and_tilde() {
        for good in ["DEV", "dev2", "~557058abc"] {
            assert!(space_key_is_valid(good), "{good}");
        }
        for bad in [
            "",
            "DEV&x=1",
            "DE V",
            "../DEV",
            "DEV/1",
            "DÉV",
            &"K".repeat(256),
        ] {
            assert!(!space_key_is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn decisions_expire_after_the_ttl() {
        let cache = AuthzCache::default();
        let key = DecisionKey {
            tenant: "t".into(),
            account_id: "u".into(),
            resource: "content:1".into(),
            operation: "read",
        };
        let t0 = Instant::now();
        cache.put(key.clone(), true, t0);
        assert_eq!(
            cache.get(&key, t0 + DECISION_TTL - Duration::from_millis(1)),
            Some(true)
        );
        assert_eq!(cache.get(&key, t0 + DECISION_TTL), None);
    }
}
