//! Confluence's people directory, for the space admin's enrolments (issue
//! #11): users found by name, groups found by name, every member of a
//! group, and users' e-mail addresses. Everything is asked of Confluence
//! **as the app** (an app JWT), never as the admin, because e-mail addresses
//! are only given to the app itself (the `ACCESS_EMAIL_ADDRESSES` scope) and
//! a group's members must not depend on what one admin's profile can see.
//!
//! | function | Confluence REST v1 | scope |
//! |---|---|---|
//! | [`search_users`] | `GET /rest/api/search/user?cql=user.fullname~"…"` | READ |
//! | [`search_groups`] | `GET /rest/api/group/picker?query=` | READ |
//! | [`group_members`] | the picker (name → `id`), then `GET /rest/api/group/{groupId}/membersByGroupId?start=&limit=` | READ |
//! | [`emails`] | `GET /rest/api/user/email/bulk?accountId=a,b,…` | ACCESS_EMAIL_ADDRESSES |
//!
//! References:
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-search/#api-wiki-rest-api-search-user-get>,
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-group/#api-wiki-rest-api-group-picker-get>,
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-group/#api-wiki-rest-api-group-groupid-membersbygroupid-get>,
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-users/#api-wiki-rest-api-user-email-bulk-get>.
//!
//! **Why members by group id.** The by-name member resources
//! (`/rest/api/group/{groupName}/member`, `/rest/api/group/member?name=`)
//! are deprecated and gone from the current API reference; the group
//! picker's answer carries each group's `id`, so one extra request turns
//! the name the admin chose into the id the supported resource takes.
//!
//! **Privacy.** Names and e-mail addresses are never stored: the database
//! holds account ids and group names only. Addresses are kept in memory for
//! [`EMAIL_TTL`] ([`EmailCache`], on [`ConnectState`]) so a report or an
//! export does not ask Confluence for the same people again and again.
//! Confluence gives an address "regardless of the user's profile visibility"
//! only to apps Atlassian approved for that API; for any other app the
//! e-mail resources answer 400 (or 501), which [`emails`] reports as
//! [`DirectoryError::EmailsNotShared`] and [`search_users`] treats as "no
//! addresses", so searching still works.
//!
//! **Errors never shrink a group.** [`group_members`] returns the whole
//! membership or an error — never a partial list, never an empty list for a
//! group that is gone or a Confluence that is down — so a group sync keeps
//! the current enrolments instead of removing everyone.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use cache::{Cache, Weigh};
use futures::{stream, StreamExt};
use serde::Deserialize;

use crate::{
    host_client::{HostAccess, HostClient, HostError, Principal},
    ConnectState, TenantKey,
};

/// Longest search text accepted, in characters (a name, not a document).
pub const MAX_QUERY_CHARS: usize = 100;
/// Most users or groups one search returns (a picker, not a listing).
pub const MAX_SEARCH_RESULTS: usize = 50;
/// Most members [`group_members`] collects; a bigger group is an error
/// (enrolling a whole site by accident is not what a space admin wants, and
/// a sync of it would take hundreds of requests).
pub const MAX_GROUP_MEMBERS: usize = 100_000;
/// Longest group name accepted (Atlassian allows 255 characters).
pub const MAX_GROUP_NAME_CHARS: usize = 255;
/// How long a looked-up e-mail address (or the lack of one) is reused.
pub const EMAIL_TTL: Duration = Duration::from_secs(300);

/// Page size asked of Confluence: its documented fixed system limit for
/// group members and the group picker ("a maximum limit of 200").
/// Confluence may answer with fewer; we follow its pages whatever their size.
const PAGE_LIMIT: usize = 200;
/// Picker pages read while looking for a group's exact name. Only groups
/// whose names contain the whole name are listed, so one page nearly always
/// holds it; the bound stops a misbehaving answer from looping.
const MAX_PICKER_PAGES: usize = 10;
/// Accounts per bulk e-mail request: keeps the URL well under the 8 KiB
/// that proxies commonly allow (an account id is at most 128 characters).
const EMAIL_CHUNK: usize = 40;
/// Concurrent bulk e-mail requests for one call.
const EMAIL_CHUNKS_IN_FLIGHT: usize = 4;
/// Bytes of addresses kept (about 150 bytes each: some 50 000 addresses).
const EMAIL_CACHE_BYTES: usize = 8 << 20;
/// Longest account id accepted (the same bound as the host client's).
const MAX_ACCOUNT_ID_LEN: usize = 128;
/// Longest group id accepted (Confluence's are UUIDs).
const MAX_GROUP_ID_LEN: usize = 128;

/// A person in the site's directory, as the space admin's pickers show them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryUser {
    pub account_id: String,
    /// The name Confluence shows (its public name when the profile hides
    /// the full name; the account id if Confluence gave neither).
    pub display_name: String,
    /// Only where Confluence shares it with the app.
    pub email: Option<String>,
}

/// Why a directory question could not be answered. The `Display` text is
/// safe to show a space admin: it never carries a token, a URL or a
/// response body (the detail is logged, at `warn`, where it happens).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The input was refused before anything was asked of Confluence.
    #[error("{0}")]
    Invalid(String),
    /// Confluence has no group of that name (any more).
    #[error("Confluence has no group of that name.")]
    NoSuchGroup,
    /// The group has more members than [`MAX_GROUP_MEMBERS`].
    #[error("The group has more than {0} members; choose a smaller group.")]
    TooManyMembers(usize),
    /// Confluence does not give this app e-mail addresses (the app is not
    /// approved for the e-mail API, or the scope is missing).
    #[error("Confluence does not share e-mail addresses with this app.")]
    EmailsNotShared,
    /// Confluence could not be reached, timed out, was rate limiting us or
    /// failed (HTTP 429 or 5xx).
    #[error("Confluence could not be reached. Try again in a moment.")]
    Unreachable,
    /// Confluence refused the request (another 4xx status).
    #[error("Confluence refused the request (HTTP {0}).")]
    Refused(u16),
    /// Confluence answered with something we do not understand (or with
    /// pages that do not advance).
    #[error("Confluence gave an answer the app does not understand.")]
    BadAnswer,
    /// The app cannot call Confluence for this site at all (not installed
    /// or disabled, or its own store failed).
    #[error("The app cannot reach Confluence for this site right now.")]
    NotAvailable,
}

impl From<HostError> for DirectoryError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Transport(_) => DirectoryError::Unreachable,
            HostError::Status(s) if s == 429 || s >= 500 => DirectoryError::Unreachable,
            HostError::Status(s) => DirectoryError::Refused(s),
            HostError::Decode => DirectoryError::BadAnswer,
            HostError::UnknownTenant
            | HostError::Store
            | HostError::BadBaseUrl
            | HostError::UnsafePath
            | HostError::NoOAuthClient
            | HostError::NoUser
            | HostError::Signing
            | HostError::Grant(_)
            | HostError::NoForgeToken => DirectoryError::NotAvailable,
        }
    }
}

/// Logs a failed call (the host error's text is safe to log) and turns it
/// into what callers see.
fn failed(tenant: &TenantKey, what: &'static str, e: HostError) -> DirectoryError {
    tracing::warn!(tenant = %tenant.as_str(), error = %e, "Confluence directory: {what} failed");
    DirectoryError::from(e)
}

/// What the cache knows about one account's address.
#[derive(Clone, Debug)]
enum Known {
    Address(String),
    /// Confluence gave none (also remembered, so a group of people without
    /// shared addresses is not asked about again on every page view).
    NoAddress,
}

impl Weigh for Known {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                Known::Address(a) => a.capacity(),
                Known::NoAddress => 0,
            }
    }
}

/// Recently looked-up e-mail addresses per (tenant, account id), and the
/// accounts Confluence gave none for. In memory only, never in the
/// database; see the module documentation.
#[derive(Clone, Debug)]
pub struct EmailCache(Cache<(String, String), Known>);

impl Default for EmailCache {
    fn default() -> Self {
        Self(Cache::new("emails", EMAIL_CACHE_BYTES, EMAIL_TTL))
    }
}

impl EmailCache {
    fn get(&self, tenant: &TenantKey, account: &str) -> Option<Known> {
        self.0
            .get(&(tenant.as_str().to_owned(), account.to_owned()))
    }

    fn put(&self, tenant: &TenantKey, account: &str, email: Option<&str>) {
        let known = match email {
            Some(e) => Known::Address(e.to_owned()),
            None => Known::NoAddress,
        };
        self.0
            .insert((tenant.as_str().to_owned(), account.to_owned()), known);
    }
}

// ---- what Confluence answers ------------------------------------------------

/// A user as the v1 API shows one (`User`): in search results, group
/// members. `email` is present only where the profile shares it, and may be
/// an empty string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    account_type: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    public_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `SearchPageResponseSearchResult`: each hit holds the user under `user`.
#[derive(Deserialize)]
struct SearchPage {
    #[serde(default)]
    results: Vec<SearchHit>,
}

#[derive(Deserialize)]
struct SearchHit {
    #[serde(default)]
    user: Option<UserJson>,
}

/// `GroupArrayWithLinks`.
#[derive(Deserialize)]
struct GroupPage {
    #[serde(default)]
    results: Vec<GroupJson>,
    #[serde(default, rename = "_links")]
    links: Option<Links>,
}

#[derive(Deserialize)]
struct GroupJson {
    name: String,
    #[serde(default)]
    id: Option<String>,
}

/// `UserArray` (group members).
#[derive(Deserialize)]
struct UserPage {
    #[serde(default)]
    results: Vec<UserJson>,
    #[serde(default, rename = "_links")]
    links: Option<Links>,
}

/// Only whether there is a next page: the next request is built by our
/// code from `start`, never from a URL in the answer.
#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<String>,
}

impl Links {
    fn has_next(links: Option<&Links>) -> bool {
        links.is_some_and(|l| l.next.as_deref().is_some_and(|n| !n.is_empty()))
    }
}

/// `AccountIdEmailRecord`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailRecord {
    account_id: String,
    #[serde(default)]
    email: Option<String>,
}

// ---- checks ---------------------------------------------------------------

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Trimmed, non-empty, at most `max` characters, no control characters.
fn clean(text: &str, what: &str, max: usize) -> Result<String, DirectoryError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DirectoryError::Invalid(format!("Type a {what}.")));
    }
    if text.chars().count() > max {
        return Err(DirectoryError::Invalid(format!(
            "A {what} is at most {max} characters."
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(DirectoryError::Invalid(format!(
            "A {what} cannot contain control characters."
        )));
    }
    Ok(text.to_owned())
}

/// An account id we may put in a query: non-empty, bounded, no whitespace,
/// control characters or commas (the bulk e-mail resource separates ids by
/// commas).
fn account_id_is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ACCOUNT_ID_LEN
        && !id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == ',')
}

/// A group id from Confluence that may become a path segment as it is.
fn group_id_is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_GROUP_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The text as a CQL string literal: in double quotes, with `\` and `"`
/// escaped by a backslash, so a name can never end the string and add CQL
/// of its own. See "Advanced searching using CQL", reserved characters:
/// <https://developer.atlassian.com/cloud/confluence/advanced-searching-using-cql/>.
fn cql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A user from an answer, or `None` for one we would never enrol: no
/// account id, or an app's bot account (`accountType` `app`).
fn directory_user(u: UserJson) -> Option<DirectoryUser> {
    let account_id = u.account_id.filter(|a| account_id_is_sane(a))?;
    if u.account_type.as_deref() == Some("app") {
        return None;
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let display_name = nonempty(u.display_name)
        .or_else(|| nonempty(u.public_name))
        .unwrap_or_else(|| account_id.clone());
    Some(DirectoryUser {
        account_id,
        display_name,
        email: nonempty(u.email),
    })
}

// ---- the directory ----------------------------------------------------------

/// Users whose name matches `query` (Confluence's CQL user search,
/// `user.fullname~"query"`, as the app), at most `limit` of them (clamped to
/// 1..=[`MAX_SEARCH_RESULTS`]), with their e-mail address where Confluence
/// shares it with the app. If it shares none (see the module
/// documentation), the users come without addresses rather than not at all.
/// Implements
/// <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-search/#api-wiki-rest-api-search-user-get>.
pub async fn search_users<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    query: &str,
    limit: usize,
) -> Result<Vec<DirectoryUser>, DirectoryError> {
    let access = access.into();
    let tenant = access.tenant;
    let query = clean(query, "name to search for", MAX_QUERY_CHARS)?;
    let limit = limit.clamp(1, MAX_SEARCH_RESULTS);
    let cql = format!("user.fullname~{}", cql_string(&query));
    let path = format!("/rest/api/search/user?cql={}&limit={limit}", encode(&cql));
    let client = HostClient::for_access(state, access)
        .await
        .map_err(|e| failed(tenant, "user search", e))?;
    let page: SearchPage = client
        .get_json(Principal::App, &path)
        .await
        .map_err(|e| failed(tenant, "user search", e))?;
    let mut seen = HashSet::new();
    let mut users: Vec<DirectoryUser> = page
        .results
        .into_iter()
        .filter_map(|hit| hit.user.and_then(directory_user))
        .filter(|u| seen.insert(u.account_id.clone()))
        .take(limit)
        .collect();
    for u in &users {
        if let Some(e) = &u.email {
            state.emails.put(tenant, &u.account_id, Some(e));
        }
    }
    let without: Vec<String> = users
        .iter()
        .filter(|u| u.email.is_none())
        .map(|u| u.account_id.clone())
        .collect();
    if !without.is_empty() {
        match emails_with(&client, state, tenant, &without).await {
            Ok(mut found) => {
                for u in users.iter_mut().filter(|u| u.email.is_none()) {
                    u.email = found.remove(&u.account_id);
                }
            }
            // Searching must still work for an app without e-mail access.
            Err(e) => tracing::debug!(error = %e, "user search: no e-mail addresses"),
        }
    }
    Ok(users)
}

/// Names of the groups matching `query` (Confluence's group picker, as the
/// app), at most `limit` of them (clamped to 1..=[`MAX_SEARCH_RESULTS`]).
/// Implements
/// <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-group/#api-wiki-rest-api-group-picker-get>.
pub async fn search_groups<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    query: &str,
    limit: usize,
) -> Result<Vec<String>, DirectoryError> {
    let access = access.into();
    let tenant = access.tenant;
    let query = clean(query, "group name to search for", MAX_QUERY_CHARS)?;
    let limit = limit.clamp(1, MAX_SEARCH_RESULTS);
    let client = HostClient::for_access(state, access)
        .await
        .map_err(|e| failed(tenant, "group search", e))?;
    let page: GroupPage = client
        .get_json(
            Principal::App,
            &format!(
                "/rest/api/group/picker?query={}&limit={limit}",
                encode(&query)
            ),
        )
        .await
        .map_err(|e| failed(tenant, "group search", e))?;
    let mut seen = HashSet::new();
    Ok(page
        .results
        .into_iter()
        .map(|g| g.name)
        .filter(|n| !n.trim().is_empty() && seen.insert(n.clone()))
        .take(limit)
        .collect())
}

/// The id of the group named exactly `group` (case-insensitively if no name
/// matches exactly and one does so), from the group picker.
async fn group_id(
    client: &HostClient,
    tenant: &TenantKey,
    group: &str,
) -> Result<String, DirectoryError> {
    let mut loose: Vec<String> = Vec::new();
    let mut start = 0;
    for _ in 0..MAX_PICKER_PAGES {
        let page: GroupPage = client
            .get_json(
                Principal::App,
                &format!(
                    "/rest/api/group/picker?query={}&start={start}&limit={PAGE_LIMIT}",
                    encode(group)
                ),
            )
            .await
            .map_err(|e| failed(tenant, "group lookup", e))?;
        let n = page.results.len();
        for g in page.results {
            let Some(id) = g.id else { continue };
            if g.name == group {
                return if group_id_is_sane(&id) {
                    Ok(id)
                } else {
                    tracing::warn!(tenant = %tenant.as_str(), "Confluence gave a group id we cannot use");
                    Err(DirectoryError::BadAnswer)
                };
            }
            if g.name.to_lowercase() == group.to_lowercase() {
                loose.push(id);
            }
        }
        if n == 0 || !Links::has_next(page.links.as_ref()) {
            break;
        }
        start += n;
    }
    match loose.as_slice() {
        [id] if group_id_is_sane(id) => Ok(id.clone()),
        _ => Err(DirectoryError::NoSuchGroup),
    }
}

/// Every member of the group named `group`, as the app: its id from the
/// group picker, then every page of its members. The whole membership or an
/// error: [`DirectoryError::NoSuchGroup`] when Confluence has no such group,
/// [`DirectoryError::TooManyMembers`] beyond [`MAX_GROUP_MEMBERS`], and any
/// failure part-way is an error too (never a shorter list). Members carry an
/// e-mail address only where their profile shares it; use [`emails`] for
/// the rest. App (bot) accounts are left out.
/// Implements
/// <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-group/#api-wiki-rest-api-group-groupid-membersbygroupid-get>.
pub async fn group_members<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    group: &str,
) -> Result<Vec<DirectoryUser>, DirectoryError> {
    let access = access.into();
    let tenant = access.tenant;
    let group = clean(group, "group name", MAX_GROUP_NAME_CHARS)?;
    let client = HostClient::for_access(state, access)
        .await
        .map_err(|e| failed(tenant, "group members", e))?;
    let id = group_id(&client, tenant, &group).await?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut members = Vec::new();
    let mut start = 0;
    loop {
        let path =
            format!("/rest/api/group/{id}/membersByGroupId?start={start}&limit={PAGE_LIMIT}");
        let page: UserPage = match client.get_json(Principal::App, &path).await {
            Ok(p) => p,
            // Deleted between the picker and now.
            Err(HostError::Status(404)) => return Err(DirectoryError::NoSuchGroup),
            Err(e) => return Err(failed(tenant, "group members", e)),
        };
        let n = page.results.len();
        let mut fresh = 0;
        for u in page.results {
            let Some(account) = u.account_id.clone() else {
                continue;
            };
            if !seen.insert(account) {
                continue;
            }
            fresh += 1;
            if seen.len() > MAX_GROUP_MEMBERS {
                return Err(DirectoryError::TooManyMembers(MAX_GROUP_MEMBERS));
            }
            members.extend(directory_user(u));
        }
        if n == 0 || !Links::has_next(page.links.as_ref()) {
            return Ok(members);
        }
        if fresh == 0 {
            // A full page of people already seen and still a "next": the
            // pages are not advancing, so the list would never be whole.
            tracing::warn!(tenant = %tenant.as_str(), start, "Confluence's group member pages do not advance");
            return Err(DirectoryError::BadAnswer);
        }
        start += n;
    }
}

/// E-mail addresses of `account_ids` where Confluence shares them with the
/// app (`ACCESS_EMAIL_ADDRESSES`); accounts without one are absent, and so
/// are ids that cannot be account ids. Answers are cached for
/// [`EMAIL_TTL`] (also "no address"); the rest are asked in chunks of the
/// bulk resource. [`DirectoryError::EmailsNotShared`] when Confluence
/// refuses this app e-mail addresses altogether.
/// Implements
/// <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-users/#api-wiki-rest-api-user-email-bulk-get>.
pub async fn emails<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    account_ids: &[String],
) -> Result<HashMap<String, String>, DirectoryError> {
    let access = access.into();
    let tenant = access.tenant;
    if account_ids.len() > MAX_GROUP_MEMBERS {
        return Err(DirectoryError::Invalid(format!(
            "At most {MAX_GROUP_MEMBERS} people at a time."
        )));
    }
    let (mut found, missing) = cached_emails(state, tenant, account_ids);
    if missing.is_empty() {
        return Ok(found);
    }
    let client = HostClient::for_access(state, access)
        .await
        .map_err(|e| failed(tenant, "e-mail lookup", e))?;
    found.extend(ask_emails(&client, state, tenant, &missing).await?);
    Ok(found)
}

/// [`emails`] with a client already made.
async fn emails_with(
    client: &HostClient,
    state: &ConnectState,
    tenant: &TenantKey,
    account_ids: &[String],
) -> Result<HashMap<String, String>, DirectoryError> {
    let (mut found, missing) = cached_emails(state, tenant, account_ids);
    if !missing.is_empty() {
        found.extend(ask_emails(client, state, tenant, &missing).await?);
    }
    Ok(found)
}

/// The cached addresses of `account_ids`, and the (sane, distinct) ids the
/// cache knows nothing about.
fn cached_emails(
    state: &ConnectState,
    tenant: &TenantKey,
    account_ids: &[String],
) -> (HashMap<String, String>, Vec<String>) {
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    let mut asked = HashSet::new();
    for a in account_ids {
        if !account_id_is_sane(a) || !asked.insert(a.as_str()) {
            continue;
        }
        match state.emails.get(tenant, a) {
            Some(Known::Address(e)) => {
                found.insert(a.clone(), e);
            }
            Some(Known::NoAddress) => {}
            None => missing.push(a.clone()),
        }
    }
    (found, missing)
}

/// Asks the bulk e-mail resource for `missing`, caches every answer
/// (including "no address") and returns the addresses found.
async fn ask_emails(
    client: &HostClient,
    state: &ConnectState,
    tenant: &TenantKey,
    missing: &[String],
) -> Result<HashMap<String, String>, DirectoryError> {
    // Owned chunks: a stream over borrowed slices makes the future lose
    // `Send` generality inside server functions (rust-lang/rust#64552).
    let chunks: Vec<Vec<String>> = missing
        .chunks(EMAIL_CHUNK)
        .map(<[String]>::to_vec)
        .collect();
    let answers: Vec<ChunkAnswer> = stream::iter(chunks)
        .map(|chunk| async move { email_chunk(client, &chunk).await })
        .buffer_unordered(EMAIL_CHUNKS_IN_FLIGHT)
        .collect()
        .await;
    let mut found = HashMap::new();
    let mut first_error = None;
    for answer in answers {
        match answer {
            Ok(pairs) => {
                for (account, email) in pairs {
                    state.emails.put(tenant, &account, email.as_deref());
                    if let Some(e) = email {
                        found.insert(account, e);
                    }
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(found),
        // 400: "the calling app is not approved to use this API"; 501: "the
        // API is not currently enabled"; 403: the scope is missing.
        Some(HostError::Status(400 | 403 | 501)) => {
            tracing::warn!(tenant = %tenant.as_str(), "Confluence does not share e-mail addresses with the app");
            Err(DirectoryError::EmailsNotShared)
        }
        Some(e) => Err(failed(tenant, "e-mail lookup", e)),
    }
}

/// Every account of one chunk with its address, if any.
type ChunkAnswer = Result<Vec<(String, Option<String>)>, HostError>;

/// One bulk request: every account of `chunk` with its address, if any.
/// `accountId` is one comma-separated parameter (the resource's
/// `style: form, explode: false`).
async fn email_chunk(client: &HostClient, chunk: &[String]) -> ChunkAnswer {
    let ids: Vec<String> = chunk.iter().map(|a| encode(a)).collect();
    let records: Vec<EmailRecord> = client
        .get_json(
            Principal::App,
            &format!("/rest/api/user/email/bulk?accountId={}", ids.join(",")),
        )
        .await?;
    let mut by_account: HashMap<String, String> = records
        .into_iter()
        .filter_map(|r| {
            let email = r.email?.trim().to_owned();
            (!email.is_empty()).then_some((r.account_id, email))
        })
        .collect();
    // Only the accounts asked for: an answer cannot fill in anyone else.
    Ok(chunk
        .iter()
        .map(|a| (a.clone(), by_account.remove(a)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cql_strings_cannot_be_ended_by_the_text() {
        assert_eq!(cql_string("Ada"), r#""Ada""#);
        assert_eq!(
            cql_string(r#"x" OR user.fullname~"a"#),
            r#""x\" OR user.fullname~\"a""#
        );
        assert_eq!(cql_string(r"a\"), r#""a\\""#);
        // A trailing backslash cannot escape the closing quote.
        assert!(cql_string(r"a\").ends_with(r#"\\""#));
    }

    #[test]
    fn search_text_is_trimmed_bounded_and_printable() {
        assert_eq!(clean("  Ada  ", "name", 100).unwrap(), "Ada");
        assert!(matches!(
            clean("   ", "name", 100),
            Err(DirectoryError::Invalid(_))
        ));
        assert!(clean(&"é".repeat(100), "name", 100).is_ok());
        assert!(clean(&"é".repeat(101), "name", 100).is_err());
        assert!(clean("a\nb", "name", 100).is_err());
    }

    #[test]
    fn ids_that_could_change_a_request_are_refused() {
        assert!(account_id_is_sane("557058:ada-author-0001"));
        for bad in ["", "a b", "a,b", "a\n", &"x".repeat(129)] {
            assert!(!account_id_is_sane(bad), "{bad:?}");
        }
        assert!(group_id_is_sane("9c1e1b4a-5d9e-4c1b-8f43-0e1d2c3b4a59"));
        for bad in ["", "../x", "a/b", "a?b", "a%2F"] {
            assert!(!group_id_is_sane(bad), "{bad:?}");
        }
    }

    #[test]
    fn users_come_with_a_name_and_without_bots() {
        let user = |account_type: &str, display: Option<&str>, email: Option<&str>| UserJson {
            account_id: Some("a1".into()),
            account_type: Some(account_type.into()),
            display_name: display.map(str::to_owned),
            public_name: Some("Pub".into()),
            email: email.map(str::to_owned),
        };
        let u = directory_user(user("atlassian", Some(" Ada "), Some(""))).unwrap();
        assert_eq!(u.display_name, "Ada");
        assert_eq!(u.email, None, "an empty address is no address");
        assert_eq!(
            directory_user(user("atlassian", None, None))
                .unwrap()
                .display_name,
            "Pub"
        );
        assert!(directory_user(user("app", Some("Bot"), None)).is_none());
    }

    #[test]
    fn errors_say_nothing_an_admin_should_not_see() {
        for e in [
            DirectoryError::from(HostError::Status(503)),
            DirectoryError::from(HostError::Status(401)),
            DirectoryError::from(HostError::Decode),
            DirectoryError::from(HostError::UnknownTenant),
        ] {
            let text = e.to_string();
            assert!(!text.contains("JWT") && !text.contains("http"), "{text}");
        }
        assert_eq!(
            DirectoryError::from(HostError::Status(429)),
            DirectoryError::Unreachable
        );
        assert_eq!(
            DirectoryError::from(HostError::Status(403)),
            DirectoryError::Refused(403)
        );
    }
}
