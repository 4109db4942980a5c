//! Users' display names, asked of Confluence as the app
//! (`GET /rest/api/user?accountId=`, scope READ):
//! <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-users/#api-wiki-rest-api-user-get>.
//!
//! We store account ids only, never names or email addresses: names are
//! looked up when a certificate or a report is shown, and kept in memory for
//! [`NAME_TTL`] per (tenant, account) so a report of many learners does not
//! ask Confluence again on every refresh. A user Confluence says it has no
//! name for (404 or 403: deleted, or not visible to the app) is remembered
//! as such for [`NO_NAME_TTL`] — without that, every report listing such a
//! learner asked Confluence again, one call per learner per report. Other
//! failures (Confluence down, a 5xx) are not cached. A name Confluence
//! cannot give is `None` (the caller shows the account id).

use std::{collections::HashMap, time::Duration};

use cache::Cache;
use futures::{stream, StreamExt};
use serde::Deserialize;

use crate::{
    host_client::{HostAccess, HostClient, HostError, Principal},
    ConnectState, TenantKey,
};

/// How long a looked-up name is reused.
pub const NAME_TTL: Duration = Duration::from_secs(600);
/// How long "Confluence has no name for this user" is reused.
pub const NO_NAME_TTL: Duration = Duration::from_secs(120);
/// Bytes of names kept (about 150 bytes each: some 50 000 names).
const NAME_CACHE_BYTES: usize = 8 << 20;
/// Concurrent lookups for one report.
const LOOKUPS_IN_FLIGHT: usize = 8;

/// Recently looked-up display names per (tenant, account id), and the
/// accounts Confluence had no name for.
#[derive(Clone, Debug)]
pub struct NameCache {
    names: Cache<(String, String), String>,
    unnamed: Cache<(String, String), ()>,
}

impl Default for NameCache {
    fn default() -> Self {
        Self {
            names: Cache::new("names", NAME_CACHE_BYTES, NAME_TTL),
            unnamed: Cache::new("unnamed-users", NAME_CACHE_BYTES / 8, NO_NAME_TTL),
        }
    }
}

fn key(tenant: &TenantKey, account: &str) -> (String, String) {
    (tenant.as_str().to_owned(), account.to_owned())
}

impl NameCache {
    /// What was looked up recently: a name, or [`Looked::NoName`].
    fn get(&self, tenant: &TenantKey, account: &str) -> Option<Looked> {
        let k = key(tenant, account);
        match self.names.get(&k) {
            Some(n) => Some(Looked::Name(n)),
            None => self.unnamed.get(&k).map(|()| Looked::NoName),
        }
    }

    fn put(&self, tenant: &TenantKey, account: &str, name: &str) {
        self.names.insert(key(tenant, account), name.to_owned());
    }

    fn put_unnamed(&self, tenant: &TenantKey, account: &str) {
        self.unnamed.insert(key(tenant, account), ());
    }
}

/// What one lookup found.
enum Looked {
    Name(String),
    /// Confluence answered: there is no name to show.
    NoName,
    /// Confluence could not answer now.
    Failed,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    public_name: Option<String>,
}

async fn lookup(client: &HostClient, account: &str) -> Looked {
    let encoded: String = url::form_urlencoded::byte_serialize(account.as_bytes()).collect();
    match client
        .get_json::<UserJson>(
            Principal::App,
            &format!("/rest/api/user?accountId={encoded}"),
        )
        .await
    {
        Ok(u) => u
            .display_name
            .or(u.public_name)
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .map_or(Looked::NoName, Looked::Name),
        Err(HostError::Status(404 | 403)) => Looked::NoName,
        Err(e) => {
            tracing::warn!(error = %e, "Confluence did not give a user's name");
            Looked::Failed
        }
    }
}

/// The display names Confluence gives for `accounts` (those it cannot give
/// are missing from the map).
pub async fn display_names<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    accounts: &[String],
) -> HashMap<String, String> {
    let access = access.into();
    let tenant = access.tenant;
    let mut names = HashMap::new();
    let mut missing = Vec::new();
    for a in accounts {
        match state.names.get(tenant, a) {
            Some(Looked::Name(n)) => {
                names.insert(a.clone(), n);
            }
            Some(_) => {}
            None => missing.push(a.clone()),
        }
    }
    if missing.is_empty() {
        return names;
    }
    let client = match HostClient::for_access(state, access).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot call Confluence for users' names");
            return names;
        }
    };
    let client = &client;
    let found: Vec<(String, Looked)> = stream::iter(missing)
        .map(|a| async move {
            let name = lookup(client, &a).await;
            (a, name)
        })
        .buffer_unordered(LOOKUPS_IN_FLIGHT)
        .collect()
        .await;
    for (a, looked) in found {
        match looked {
            Looked::Name(n) => {
                state.names.put(tenant, &a, &n);
                names.insert(a, n);
            }
            Looked::NoName => state.names.put_unnamed(tenant, &a),
            Looked::Failed => {}
        }
    }
    names
}

/// One user's display name (see [`display_names`]).
pub async fn display_name<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    account: &str,
) -> Option<String> {
    let access = access.into();
    display_names(state, access, &[account.to_owned()])
        .await
        .remove(account)
}
