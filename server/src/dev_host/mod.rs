//! The offline **Confluence host simulator** (cargo feature `dev-host`; never
//! in a release build — `scripts/run.sh` and the test suites turn it on).
//!
//! It plays Confluence's part of the Connect protocol for real, on its own
//! origin (a different port from the app, so the app's pages run in a
//! cross-origin iframe exactly as in Confluence):
//! - it serves its own **install-key server** (`/keys/{kid}`) and installs a
//!   dev tenant through the app's real `POST /installed` with an RS256 signed
//!   install token;
//! - it signs **page JWTs** (HS256, qsh over the iframe URL built from the
//!   app's own descriptor) and **context JWTs** for `AP.context.getToken`;
//! - its host page (`assets/`) drives Atlassian's `atlassian-connect-js`
//!   host library and adds the Confluence-only AP modules;
//! - it answers the product REST calls the app makes back (`site.rs`: the
//!   test kit's fake Confluence with the simulated site's users, page,
//!   space and groups — permission checks, users, groups, the ACT_AS_USER
//!   token endpoint), verifying the app's JWTs and the tokens it issued.
//!
//! Nothing here bypasses a check in the app: the app verifies the
//! simulator's tokens like any tenant's.

mod sim;
mod site;

pub use sim::{origin, start};

use anyhow::Context;
use axum::Router;

use app::state::AppState;

use crate::Config;

/// Points the app's configuration at the simulator (what a real deployment
/// sets to Atlassian's services): the AP library copy, the simulator's key
/// server and token endpoint, its origin as a frame ancestor and a tenant
/// host. Explicit settings win. Refuses to go on unless the app binds to
/// loopback and its base URL is plain http on loopback: a simulator build
/// trusts a signing key published in the repository, so it must never be
/// reachable from another machine.
pub fn prepare(config: &mut Config) -> anyhow::Result<()> {
    let base_host_is_loopback = config.base_url.host_str().is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    anyhow::ensure!(
        config.site_addr.ip().is_loopback()
            && config.dev_host_addr.ip().is_loopback()
            && config.base_url.scheme() == "http"
            && base_host_is_loopback,
        "a simulator (dev-host) build serves only on loopback: LEPTOS_SITE_ADDR and \
         DEV_HOST_ADDR must be loopback addresses and APP_BASE_URL an http URL on loopback \
         (got {}, {}, {}). Build without `--features dev-host` for anything else.",
        config.site_addr,
        config.dev_host_addr,
        config.base_url
    );
    let sim = origin(config.dev_host_addr);
    if config.ap_script_url.is_none() {
        config.ap_script_url = Some("/atlassian-connect/all.js".to_owned());
    }
    if config.keys_cdn_url.is_none() {
        config.keys_cdn_url = Some(format!("{sim}/keys").parse()?);
    }
    if config.oauth_token_url.is_none() {
        config.oauth_token_url = Some(format!("{sim}/oauth2/token").parse()?);
    }
    config.frame_ancestors.push(sim.clone());
    config.tenant_hosts.push(format!(
        "http://{}:{}",
        config.dev_host_addr.ip(),
        config.dev_host_addr.port()
    ));
    config.serve_ap_copy_from = Some(config.node_modules_dir.clone());
    config.settings().context("the simulator's settings")?;
    Ok(())
}

/// Routes added to the **app's** origin under the simulator: the npm build of
/// Atlassian's AP iframe library at the path where the CDN's `all.js` is
/// recognised (`/atlassian-connect/all.js`, see ap-host-simulator.md).
pub fn app_side_routes(node_modules: std::path::PathBuf) -> Router<AppState> {
    let file = node_modules.join("atlassian-connect-js/dist/iframe.js");
    Router::new().route_service(
        "/atlassian-connect/all.js",
        tower_http::services::ServeFile::new(file),
    )
}
