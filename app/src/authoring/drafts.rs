//! What `authoring/open` sends for a stored draft, kept per draft revision.
//!
//! A draft is the JSON the server wrote from a `CourseContent`
//! (`authoring/save-draft`, publish, restore, copy, import). Opening the
//! editor used to parse that JSON and serialise it again on every request
//! (and build the outline from it); the measured cost made `authoring/open`
//! the slowest read (README "Measured"). Now the first open of a revision
//! parses it once — which also proves it is a course — and keeps the
//! outline and the JSON, checked, to send as it is ([`Draft::Stored`]).
//! A revision never changes (every save makes a new one), so an entry
//! cannot go stale; the key names the tenant, so it cannot leak.

use std::{sync::Arc, time::Duration};

use cache::{Cache, Weigh};
use serde_json::value::RawValue;
use store::courses::CourseRow;

use super::api::{Draft, Outline};
use crate::error::AppError;

/// Bytes for opened drafts (a 4-module course is ≈ 30 KB of JSON).
const DRAFT_CACHE_BYTES: usize = 1 << 20;
/// Entries unused this long are dropped (editors come and go).
const DRAFT_TTL: Duration = Duration::from_secs(15 * 60);

/// A draft revision, ready to send.
#[derive(Debug)]
pub struct OpenedDraft {
    pub outline: Outline,
    /// The stored JSON, known to be a course.
    pub json: Arc<RawValue>,
}

impl OpenedDraft {
    /// The draft for an editor, without parsing or serialising it.
    pub fn draft(&self) -> Draft {
        Draft::Stored(self.json.clone())
    }
}

impl Weigh for OpenedDraft {
    fn weigh(&self) -> usize {
        let outline: usize = self
            .outline
            .modules
            .iter()
            .map(|m| m.title.len() + m.lessons.iter().map(|l| l.len() + 24).sum::<usize>() + 64)
            .sum();
        self.json.get().len() + self.outline.title.len() + outline + 64
    }
}

/// Opened drafts by (tenant, course, draft revision).
#[derive(Clone, Debug)]
pub struct OpenedDrafts(Cache<(String, String, i64), Arc<OpenedDraft>>);

impl Default for OpenedDrafts {
    fn default() -> Self {
        Self(Cache::new("opened-drafts", DRAFT_CACHE_BYTES, DRAFT_TTL))
    }
}

impl OpenedDrafts {
    /// The draft of `row` (of `tenant`), parsed once per revision.
    pub fn get(&self, tenant: &str, row: &CourseRow) -> Result<Arc<OpenedDraft>, AppError> {
        let key = (tenant.to_owned(), row.id.clone(), row.draft_revision);
        if let Some(hit) = self.0.get(&key) {
            return Ok(hit);
        }
        let content = super::api::parse_stored_draft(row)?;
        let json = RawValue::from_string(row.draft_json.clone()).map_err(|e| {
            tracing::error!(error = %e, course = %row.id, "stored draft is not JSON");
            AppError::Internal
        })?;
        let opened = Arc::new(OpenedDraft {
            outline: super::api::outline_of(&content),
            json: Arc::from(json),
        });
        self.0.insert(key, opened.clone());
        Ok(opened)
    }
}
