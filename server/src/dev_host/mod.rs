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
//! - its **Forge mode** (`/sim/forge`, `forge.rs`) hosts the Custom UI
//!   build of the same pages with a host-side `@forge/bridge` and calls the
//!   app with Forge Invocation Tokens from its own JWKS;
//! - it seeds a **demo** course on its page with some learner activity,
//!   through the app's real API, and restores it on *Reset demo*
//!   (`demo.rs`).
//!
//! Nothing here bypasses a check in the app: the app verifies the
//! simulator's tokens like any tenant's.

mod demo;
mod forge;
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
    anyhow::ensure!(
        config.tls_cert_path.is_none() && config.tls_key_path.is_none(),
        "a simulator (dev-host) build serves plain http on loopback: unset TLS_CERT_PATH \
         and TLS_KEY_PATH"
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
    // Forge mode (`forge.rs`): the app trusts the simulator's FIT key and
    // app id, unless a Forge app is configured explicitly.
    if config.forge_app_id.is_none() {
        config.forge_app_id = Some(forge::APP_ID.to_owned());
        if config.forge_jwks_url.is_none() {
            config.forge_jwks_url = Some(format!("{sim}/.well-known/jwks.json").parse()?);
        }
        if config.forge_api_base_url.is_none() {
            config.forge_api_base_url = Some(forge::api_prefix(&sim).parse()?);
        }
    }
    config.frame_ancestors.push(sim.clone());
    config.tenant_hosts.push(format!(
        "http://{}:{}",
        config.dev_host_addr.ip(),
        config.dev_host_addr.port()
    ));
    config.serve_ap_copy_from = Some(config.node_modules_dir.clone());
    if config.data_key.is_none() {
        config.data_key = Some(dev_data_key()?);
    }
    config.settings().context("the simulator's settings")?;
    Ok(())
}

/// The simulator's data key: made once and kept in `data/dev-data-key`
/// (owner-only), so the simulated site's secret survives restarts. Never
/// used by release builds, which refuse to start without `DATA_KEY`.
fn dev_data_key() -> anyhow::Result<secrecy::SecretString> {
    let path = std::path::Path::new("data").join("dev-data-key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(secrecy::SecretString::from(text.trim().to_owned()));
    }
    let key = store::secrets::Keyring::generate("dev")
        .map_err(|e| anyhow::anyhow!("could not make a data key: {e}"))?;
    std::fs::create_dir_all("data").context("could not create data/")?;
    {
        use secrecy::ExposeSecret;
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("could not create {}", path.display()))?;
        file.write_all(key.expose_secret().as_bytes())?;
    }
    Ok(key)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let dir = std::env::temp_dir()
            .join("smart-courses-tests")
            .join(format!("sim-prepare-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"bundles":{"learner":"learner-test","editor":"editor-test","admin":"admin-test"},"stylesheet":"/pkg/style.css"}"#,
        )
        .unwrap();
        let mut config = Config::from_env_and_defaults();
        config.base_url = "http://127.0.0.1:3999".parse().unwrap();
        config.site_addr = "127.0.0.1:0".parse().unwrap();
        config.dev_host_addr = "127.0.0.1:3998".parse().unwrap();
        config.database_url = format!("sqlite://{}/db.sqlite", dir.display());
        config.site_root = dir;
        config.node_modules_dir = "../node_modules".into();
        // A key of its own (else `prepare` keeps one under ./data).
        config.data_key = Some(store::secrets::Keyring::generate("test").unwrap());
        config
    }

    /// With the simulator (a `dev-host` build under `scripts/run.sh`), the
    /// app trusts the simulator's key server, lets it frame the pages and
    /// serves the npm copy of the AP library.
    #[tokio::test]
    async fn the_simulator_points_the_app_at_itself() {
        let mut config = config();
        prepare(&mut config).unwrap();
        // Forge mode: the simulator's app id, JWKS and API gateway.
        assert_eq!(config.forge_app_id.as_deref(), Some(forge::APP_ID));
        assert_eq!(
            config.forge_jwks_url.as_ref().map(|u| u.as_str()),
            Some("http://127.0.0.1:3998/.well-known/jwks.json")
        );
        assert_eq!(
            config.forge_api_base_url.as_ref().map(|u| u.as_str()),
            Some("http://127.0.0.1:3998/ex/confluence/")
        );
        let forge = config.forge().unwrap().expect("Forge settings");
        assert_eq!(forge.app_id, forge::APP_ID);
        let application = crate::Application::build(&config).await.unwrap();
        let settings = application.state().settings.clone();
        let connect = application.state().connect.settings.clone();
        let url = format!(
            "http://{}/atlassian-connect/all.js",
            application.local_addr()
        );
        tokio::spawn(application.run_until(std::future::pending()));
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
        assert_eq!(settings.ap_script_url, "/atlassian-connect/all.js");
        assert_eq!(settings.extra_frame_ancestors, ["http://127.0.0.1:3998"]);
        assert_eq!(connect.keys_cdn_url.as_str(), "http://127.0.0.1:3998/keys");
        assert!(connect
            .tenant_hosts
            .allows(&"http://127.0.0.1:3998/wiki".parse().unwrap()));
    }

    /// A simulator build trusts a signing key published in the repository:
    /// it refuses to start anywhere another machine could reach it.
    #[test]
    fn a_simulator_build_refuses_to_serve_off_loopback() {
        let mut exposed = config();
        exposed.site_addr = "0.0.0.0:3000".parse().unwrap();
        assert!(prepare(&mut exposed).is_err());
        let mut exposed = config();
        exposed.dev_host_addr = "0.0.0.0:3001".parse().unwrap();
        assert!(prepare(&mut exposed).is_err());
        let mut exposed = config();
        exposed.base_url = "https://courses.example.com".parse().unwrap();
        assert!(prepare(&mut exposed).is_err());
        let mut exposed = config();
        exposed.base_url = "http://courses.example.com".parse().unwrap();
        assert!(prepare(&mut exposed).is_err());
        let mut tls = config();
        tls.tls_cert_path = Some("cert.pem".into());
        tls.tls_key_path = Some("key.pem".into());
        assert!(prepare(&mut tls).is_err());
        assert!(prepare(&mut config()).is_ok());
    }
}
