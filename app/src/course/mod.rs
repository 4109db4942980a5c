//! Course authoring and grading: the pure domain core (no database, no UI).
//!
//! Shared by the server and the browser bundle:
//! - [`model`]: the course content (modules, lessons, quizzes, questions,
//!   settings), learner responses, grades, import reports, the completion
//!   rule, and dependency-free id generation.
//! - [`learner`]: the learner-safe view of a question (no correctness data;
//!   ids and orders that cannot reveal the answer).
//! - [`validate`]: every problem that blocks publishing, with a path and a
//!   message for the author.
//! - [`export`]: the JSON export/import file of a whole course.
//!
//! Server only (`ssr`; these pull in `regex`, `pulldown-cmark`, `ammonia`):
//! - [`grading`]: scores a response, an attempt, pass/fail.
//! - [`markdown`]: Markdown → sanitised HTML.
//! - [`gift`], [`aiken`]: question importers with a line-numbered dry run.

pub mod export;
pub mod learner;
pub mod model;
pub mod validate;

#[cfg(feature = "ssr")]
pub mod aiken;
#[cfg(feature = "ssr")]
pub mod gift;
#[cfg(feature = "ssr")]
pub mod grading;
#[cfg(feature = "ssr")]
pub mod markdown;
