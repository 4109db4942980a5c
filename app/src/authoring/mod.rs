//! Course authoring: the macro editor where authors build a course
//! (modules, Markdown lessons, quizzes), autosave drafts, publish immutable
//! versions, restore old ones, and import/export.
//!
//! - [`api`]: the server functions (`/api/authoring/*`), each checking with
//!   Confluence that the caller may edit the page holding the macro.
//! - [`editor`]: the editor UI, one file per panel (its module docs map
//!   them).
//! - [`problems`]: what blocks publishing, in the page's language (the
//!   editor's list and the server's refusal).

pub mod api;
#[cfg(feature = "ssr")]
pub mod drafts;
pub mod editor;
#[cfg(feature = "ssr")]
pub mod import_words;
pub mod problems;
