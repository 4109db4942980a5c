//! Pages as the space admin's lists show them: the title and a link,
//! asked of Confluence as the app (`GET /rest/api/content/{id}`, scope
//! READ): <https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content/#api-wiki-rest-api-content-id-get>.
//!
//! Titles change, so they are never stored with a course; callers keep them
//! in memory briefly. A page Confluence cannot show (deleted, restricted
//! even to the app, or Confluence down) is simply missing from the answer:
//! the list then shows the course's own title.

use std::collections::HashMap;

use futures::{stream, StreamExt};
use serde::Deserialize;

use crate::{
    authz::content_id_is_valid,
    host_client::{HostAccess, HostClient, Principal},
    ConnectState,
};

/// Concurrent page lookups for one list.
const LOOKUPS_IN_FLIGHT: usize = 8;

/// A page's title and where it opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageSummary {
    pub title: String,
    /// The page's address in Confluence (absolute), when Confluence gave one.
    pub url: Option<String>,
}

#[derive(Deserialize)]
struct ContentJson {
    title: String,
    #[serde(default, rename = "_links")]
    links: Option<LinksJson>,
}

#[derive(Deserialize)]
struct LinksJson {
    #[serde(default)]
    webui: Option<String>,
}

/// Titles and links of `page_ids` (those Confluence does not give are missing).
pub async fn page_summaries<'a>(
    state: &ConnectState,
    access: impl Into<HostAccess<'a>>,
    page_ids: &[String],
) -> HashMap<String, PageSummary> {
    let access = access.into();
    let wanted: Vec<String> = page_ids
        .iter()
        .filter(|p| content_id_is_valid(p))
        .cloned()
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    let client = match HostClient::for_access(state, access).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot call Confluence for page titles");
            return HashMap::new();
        }
    };
    let client = &client;
    let base = client.site_url().trim_end_matches('/').to_owned();
    let base = &base;
    let found: Vec<Option<(String, PageSummary)>> = stream::iter(wanted)
        .map(|id| async move {
            let found = client
                .get_json::<ContentJson>(Principal::App, &format!("/rest/api/content/{id}"))
                .await;
            match found {
                Ok(c) => {
                    let url = c.links.and_then(|l| {
                        // Relative to the site's base URL as installed (never
                        // an address from the answer: links stay on the site).
                        let webui = l.webui?;
                        (webui.starts_with('/') && !webui.starts_with("//"))
                            .then(|| format!("{base}{webui}"))
                    });
                    Some((
                        id.clone(),
                        PageSummary {
                            title: c.title,
                            url,
                        },
                    ))
                }
                Err(e) => {
                    tracing::warn!(error = %e, page = %id, "Confluence did not give a page's title");
                    None
                }
            }
        })
        .buffer_unordered(LOOKUPS_IN_FLIGHT)
        .collect()
        .await;
    found.into_iter().flatten().collect()
}
