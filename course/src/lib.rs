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
//! - [`learning`]: the learning rules (timing, the answer-merge rule, cycles,
//!   progress, completion, certificates), with an injected clock.
//! - [`ids`]: validated identifiers (checked when a request is deserialised).
//! - [`charts`]: the course report's charts as accessible SVG markup
//!   (completions over time, learners per status), rendered on the server.
//!
//! Server only (feature `server`; these pull in `regex`, `pulldown-cmark`, `ammonia`):
//! - [`grading`]: scores a response, an attempt, pass/fail.
//! - [`markdown`]: Markdown → sanitised HTML.
//! - [`gift`], [`aiken`]: question importers with a line-numbered dry run.

pub mod charts;
pub mod export;
pub mod ids;
pub mod learner;
pub mod learning;
pub mod locale;
pub mod model;
pub mod validate;

#[cfg(feature = "server")]
pub mod aiken;
#[cfg(feature = "server")]
pub mod gift;
#[cfg(feature = "server")]
pub mod grading;
#[cfg(feature = "server")]
pub mod markdown;
