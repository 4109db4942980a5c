//! Atlassian's personal-data reporting API, as a Connect app calls it:
//! `POST {baseUrl}/rest/atlassian-connect/latest/report-accounts` with an
//! app JWT (`Authorization: JWT …`, `qsh` over the request as for any
//! call back to the product), body `{"accounts": [{"accountId",
//! "updatedAt"}]}` (`updatedAt` RFC 3339, when the app's data about the
//! account last changed), at most [`MAX_ACCOUNTS_PER_REQUEST`] accounts a
//! request. Answers: `200` with `{"accounts": [{"accountId", "status":
//! "closed" | "updated"}]}` for the accounts that need action, `204` when
//! none does; `429` (with `Retry-After`) when reported too often.
//!
//! Sources: Atlassian's "User privacy guide for app developers"
//! (<https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/>:
//! the request and answer shapes, 90 accounts a request, `closed` means
//! erase the account's personal data, `updated` means refresh it); the
//! Connect path relative to the product base URL with JWT authentication
//! is what Connect reporters use (e.g. a public Connect reporter's default
//! `reportAccountsPath: '/rest/atlassian-connect/latest/report-accounts'`,
//! posted to `<site url>` + path with `Authorization: JWT <token>`), and
//! Atlassian's answer on the developer community ("call this API in the
//! context of your App, using JWTs to authenticate", thread 28679).
//! OAuth 2.0 (3LO) and Forge apps use `https://api.atlassian.com/app/report-accounts/`
//! instead; a Connect app does not.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    host_client::{HostClient, HostError, Principal},
    ConnectState, TenantKey,
};

/// The API's path under the tenant's product base URL.
pub const REPORT_PATH: &str = "/rest/atlassian-connect/latest/report-accounts";

/// Accounts one request may carry (Atlassian's limit).
pub const MAX_ACCOUNTS_PER_REQUEST: usize = 90;

/// An account the app stores data about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    /// When the app's data about it last changed (ms since the epoch).
    pub updated_at_ms: i64,
}

/// What Atlassian says to do about an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The account is closed: erase its personal data.
    Closed,
    /// The account's personal data changed: refresh what is stored.
    Updated,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reported<'a> {
    account_id: &'a str,
    updated_at: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    accounts: Vec<AnsweredAccount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnsweredAccount {
    account_id: String,
    status: String,
}

/// `ms` as RFC 3339 (UTC), e.g. `2024-05-01T10:00:00.123Z`.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Reports `accounts` for `tenant`, [`MAX_ACCOUNTS_PER_REQUEST`] a
/// request, and returns what Atlassian asks to be done (statuses it does
/// not know are left out). Stops at the first failed request.
pub async fn report(
    state: &ConnectState,
    tenant: &TenantKey,
    accounts: &[Account],
) -> Result<Vec<(String, Status)>, HostError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let client = HostClient::for_tenant(state, tenant).await?;
    let mut out = Vec::new();
    for batch in accounts.chunks(MAX_ACCOUNTS_PER_REQUEST) {
        let body = serde_json::json!({
            "accounts": batch
                .iter()
                .map(|a| Reported { account_id: &a.account_id, updated_at: rfc3339(a.updated_at_ms) })
                .collect::<Vec<_>>(),
        });
        let resp = client
            .send(Principal::App, Method::POST, REPORT_PATH, Some(&body))
            .await?;
        match resp.status() {
            StatusCode::NO_CONTENT => {}
            s if s.is_success() => {
                let answer: Answer = resp.json()?;
                out.extend(answer.accounts.into_iter().filter_map(|a| {
                    let status = match a.status.as_str() {
                        "closed" => Status::Closed,
                        "updated" => Status::Updated,
                        _ => return None,
                    };
                    Some((a.account_id, status))
                }));
            }
            s => return Err(HostError::Status(s.as_u16())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_714_557_600_123), "2024-05-01T10:00:00.123Z");
    }
}
