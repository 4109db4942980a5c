//! Static files: the hashed WASM/JS/CSS under `/pkg` (precompressed brotli and
//! gzip, cached for a year because their names change with their content) and
//! the few unhashed files in `public/` (cached briefly).

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::{
    http::{header, HeaderValue},
    Router,
};
use serde::Deserialize;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use app::{Bundles, SiteAssets};

/// `target/site/manifest.json`, written by `scripts/build-site.sh`.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// Per Connect module, the base name of its hashed JS glue (`<name>.js`)
    /// and WASM (`<name>_bg.wasm`) under `/pkg`.
    pub bundles: Bundles,
    /// URL of the hashed stylesheet.
    pub stylesheet: String,
}

impl Manifest {
    /// Reads the manifest. A missing manifest means the browser side was
    /// never built; that is a start-up error with the fix in the message.
    pub fn load(site_root: &Path) -> anyhow::Result<Self> {
        let path = site_root.join("manifest.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{} not found: build the browser side first (scripts/build-site.sh)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid manifest (one from before the per-module bundles? \
                 rebuild with scripts/build-site.sh)",
                path.display()
            )
        })
    }

    pub fn site_assets(&self, ap_script_url: &str) -> SiteAssets {
        SiteAssets {
            stylesheet: self.stylesheet.clone(),
            ap_script: ap_script_url.to_owned(),
            bundles: self.bundles.clone(),
        }
    }
}

/// `/pkg/*` and the public files.
pub fn routes<S: Clone + Send + Sync + 'static>(site_root: PathBuf) -> Router<S> {
    let pkg = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let public = ServeDir::new(&site_root);
    Router::new()
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .service(pkg),
        )
        .fallback_service(
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                ))
                .service(public),
        )
}
