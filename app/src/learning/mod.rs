//! Learning: what a learner does with a published course inside the page —
//! read lessons, take quizzes graded on the server, see progress, print a
//! certificate.
//!
//! - [`api`]: the server functions (`/api/learning/*`) and the DTOs they
//!   exchange. Every one verifies the context JWT, requires a logged-in
//!   learner and Confluence's view permission on the page, and never sends a
//!   correct answer before the attempt is submitted.

pub mod api;
pub mod view;
