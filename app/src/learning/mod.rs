//! Learning: what a learner does with a published course inside the page —
//! read lessons, take quizzes graded on the server, see progress, print a
//! certificate.
//!
//! - [`api`]: the server functions (`/api/learning/*`) and the DTOs they
//!   exchange. Every one verifies the context JWT, requires a logged-in
//!   learner and Confluence's view permission on the page, and never sends a
//!   correct answer before the attempt is submitted.

//! - [`service`] (server only): applies the rules of `course::learning` to
//!   the learner's records; owns the cache of rendered published versions.
//! - [`view`]: the learner view in the page.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod view;
