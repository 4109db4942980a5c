//! Space administration (the space tools tab): what space admins see of the
//! courses in their space. Enrolments, due dates and reports build on this.
//!
//! - [`api`]: the server functions (`/api/space-admin/*`); each checks with
//!   Confluence that the caller administers the space.
//! - [`view`]: the tab's view (courses, learner report, CSV download).

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod view;
