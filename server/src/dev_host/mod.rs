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
//! - it answers the product REST calls the app makes back (`confluence.rs`:
//!   permission checks, users, groups, the ACT_AS_USER token endpoint),
//!   verifying the app's JWTs and the access tokens it issued.
//!
//! Nothing here bypasses a check in the app: the app verifies the
//! simulator's tokens like any tenant's.

mod confluence;
mod sim;

pub use sim::{origin, start};

use axum::Router;

use app::state::AppState;

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
