#![recursion_limit = "256"]
//! Smart Courses: the Leptos application shared by the server (feature `ssr`)
//! and the browser bundle (feature `hydrate`).
//!
//! Layout, so a newcomer can find any feature by its name:
//! - [`learning`], [`authoring`], [`space_admin`]: one folder per feature,
//!   each with its server functions and DTOs (`api.rs`) and its views.
//! - [`pages`]: one page component per Connect module the app exposes
//!   (course macro, macro editor, space admin tab).
//! - [`ap`]: the typed bridge to Atlassian's `AP` JavaScript API.
//! - [`forge_bridge`]: its twin for Forge Custom UI (`@forge/bridge`), in
//!   the bundles built with the feature `forge`.
//! - [`api`]: the server-function boundary: `whoami`, the guards every
//!   server function starts with, and how errors become HTTP statuses.
//! - [`client`]: the server-function client that attaches the AP context JWT.
//! - [`error`]: the one error type server functions return.
//! - [`locale`]: the page's language (Confluence's `loc`) and the app's
//!   words (`locales/*.json`, through leptos_i18n).
//! - `state` (server only): what server functions reach — the store
//!   (`store` crate), the trust core (`connect` crate) and the services.
//!
//! The rules (grading, timing, progress, completion…) are not here but in
//! the pure `course` crate; the trust core and the store are server-only
//! crates beneath this one (README "Architecture").

pub mod ap;
pub mod api;
pub mod authoring;
pub mod client;
pub mod codec;
pub mod error;
pub mod forge_bridge;
pub mod learning;
pub mod locale;
pub mod pages;
pub mod shell;
pub mod space_admin;

#[cfg(feature = "ssr")]
pub mod state;

/// The domain crate, re-exported for the views and tests.
pub use course;
pub use shell::{shell, AdminApp, Bundles, EditorApp, LearnerApp, Module, SiteAssets};
