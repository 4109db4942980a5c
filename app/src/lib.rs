#![recursion_limit = "256"]
//! Smart Courses: the Leptos application shared by the server (feature `ssr`)
//! and the browser bundle (feature `hydrate`).
//!
//! Layout, so a newcomer can find any feature by its name:
//! - [`pages`]: one module per Connect module the app exposes (course macro,
//!   macro editor, space admin tab).
//! - [`ap`]: the typed bridge to Atlassian's `AP` JavaScript API.
//! - [`api`]: the `#[server]` functions (each with a stable endpoint name)
//!   and the DTOs they exchange.
//! - [`client`]: the server-function client that attaches the AP context JWT.
//! - [`error`]: the one error type server functions return.
//! - `connect` / `store` / `state` (server only): the Connect trust core
//!   (qsh, JWT verification, auth extractors) and persistence.

pub mod ap;
pub mod api;
pub mod authoring;
pub mod client;
pub mod course;
pub mod error;
pub mod learning;
pub mod pages;
pub mod shell;
pub mod space_admin;

#[cfg(feature = "ssr")]
pub mod connect;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;

pub use shell::{shell, App, SiteAssets};
