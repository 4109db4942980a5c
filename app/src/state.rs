//! Application state shared by axum handlers and server functions.
//!
//! Built once by the server at start-up and handed to server functions through
//! Leptos context, so nothing reads configuration lazily inside a handler.
//! Leptos needs [`LeptosOptions`] inside the state; the trust core's
//! extractors need a [`ConnectState`] (`FromRef` gives them theirs).

use std::sync::Arc;

use axum::extract::FromRef;
use connect::ConnectState;
use leptos::config::LeptosOptions;
use store::Db;

use crate::{
    api::limits::RateLimits, error::AppError, learning::service::LearningService,
    shell::SiteAssets, space_admin::service::SpaceAdminService,
};

/// The app's own settings (the trust core keeps its own in
/// [`connect::ConnectSettings`], Leptos in [`LeptosOptions`]).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The AP iframe script the pages load (Atlassian's CDN in production).
    pub ap_script_url: String,
    /// Extra origins allowed to frame our pages besides the tenant's own site
    /// (only the host simulator's origin, in development).
    pub extra_frame_ancestors: Vec<String>,
    /// How long an uninstalled tenant's data is kept before it may be purged.
    pub retention_days: u32,
    /// What one site may store.
    pub quotas: Quotas,
}

/// What one site may store (README "Security" lists the defaults). Checked
/// when a course is created, a draft grows and a version is published; two
/// writes racing at the limit may both pass (the limit is a safeguard, not
/// an invoice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub courses_per_site: u64,
    pub versions_per_course: u64,
    /// Drafts and published versions together (their JSON).
    pub bytes_per_site: u64,
}

/// Everything a request may need. Cheap to clone: one reference count.
/// Every server-function call clones it a few times (the router's state,
/// the Leptos context, the guard); `perf` on the read benchmark showed
/// cloning and dropping its parts one by one (the store, the caches,
/// Leptos's options) at about a tenth of a course read.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppParts>);

/// What an [`AppState`] shares; its fields are read through `Deref`
/// (`state.db`, `state.connect`, …).
#[derive(Debug)]
pub struct AppParts {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    /// The trust core: settings, tenants, outgoing HTTP and its caches.
    pub connect: ConnectState,
    pub settings: Arc<Settings>,
    pub assets: Arc<SiteAssets>,
    /// The learning rules applied to the store (owns its caches and clock).
    pub learning: LearningService,
    /// Per-site and per-user request limits of server functions.
    pub limits: Arc<RateLimits>,
    /// The space admin's caches (page titles, analytics, group sync times).
    pub space_admin: SpaceAdminService,
    /// The Forge Invocation Token verifier when Forge is configured
    /// (`FORGE_APP_ID`): server functions then also accept `Bearer` FITs
    /// (`api::guards`), and the `/forge/*` routes share this verifier (one
    /// key cache). `None`: Connect tokens only.
    pub forge: Option<connect::forge::ForgeVerifier>,
    /// Drafts the editor opened, per revision (`authoring::drafts`).
    pub drafts: crate::authoring::drafts::OpenedDrafts,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }

    /// The state of the current server-function call (provided by the server
    /// through Leptos context for every call).
    pub fn current() -> Result<Self, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from server-function context");
            AppError::Internal
        })
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What axum extractors and Leptos take from the state (the derive
/// `FromRef` gave one per field before the state became one `Arc`).
macro_rules! from_ref {
    ($($field:ident: $t:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $t {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    )*};
}
from_ref!(
    leptos_options: LeptosOptions,
    db: Db,
    connect: ConnectState,
    settings: Arc<Settings>,
    assets: Arc<SiteAssets>,
    learning: LearningService,
    limits: Arc<RateLimits>,
    space_admin: SpaceAdminService,
    forge: Option<connect::forge::ForgeVerifier>,
);
