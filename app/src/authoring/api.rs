//! Authoring server functions (`/api/authoring/*`).
//!
//! Every function starts with a guard ([`crate::api::guards`]): the context
//! JWT verified and Confluence's edit permission on the page the macro is on
//! (an [`Editor`](crate::api::guards::Editor); cached briefly). Read-only
//! openers (view permission only) get the outline, never the answers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use course::{
    ids::CourseId,
    model::{CourseContent, ImportReport},
};

use crate::{client::ApClient, error::AppError, space_admin::api::CourseAnalytics};

/// A published version in the history list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: i64,
    pub title: String,
    /// Questions changed materially: earlier passes need re-certification.
    pub material: bool,
    pub published_by: Option<String>,
    /// Seconds since the Unix epoch.
    pub published_at: i64,
}

/// The outline a reader without edit permission sees (no answers).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outline {
    pub title: String,
    pub modules: Vec<OutlineModule>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutlineModule {
    pub title: String,
    pub lessons: Vec<String>,
    pub questions: usize,
}

/// The draft an editor gets. The browser (and any client) reads it as a
/// course; the server sends a stored draft as the JSON it wrote, without
/// parsing and serialising it again on each open ([`super::drafts`]).
#[derive(Clone, Debug)]
pub enum Draft {
    Content(CourseContent),
    /// Stored JSON, checked to be a course when it was first opened.
    #[cfg(feature = "ssr")]
    Stored(std::sync::Arc<serde_json::value::RawValue>),
}

impl Draft {
    /// The course, when this side holds it parsed (always, after decoding).
    pub fn into_content(self) -> Option<CourseContent> {
        match self {
            Draft::Content(c) => Some(c),
            #[cfg(feature = "ssr")]
            Draft::Stored(json) => serde_json::from_str(json.get()).ok(),
        }
    }
}

impl Serialize for Draft {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Draft::Content(c) => c.serialize(s),
            #[cfg(feature = "ssr")]
            Draft::Stored(json) => (**json).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Draft {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CourseContent::deserialize(d).map(Draft::Content)
    }
}

impl PartialEq for Draft {
    fn eq(&self, other: &Self) -> bool {
        self.clone().into_content() == other.clone().into_content()
    }
}

/// What the editor opens with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorState {
    /// `None` until the first draft save creates the course.
    pub course_id: Option<CourseId>,
    /// Whether Confluence lets this user edit the page (else read-only).
    pub can_edit: bool,
    /// The draft (editors only).
    pub content: Option<Draft>,
    /// The outline (everyone who may view the page).
    pub outline: Outline,
    /// Optimistic-concurrency revision of the draft.
    pub revision: i64,
    pub latest_version: Option<i64>,
    pub versions: Vec<VersionInfo>,
    /// The macro points at a course that belongs to another page (the page
    /// was copied): editing it here would silently change the other page's
    /// course, so the editor offers an independent copy instead.
    pub belongs_to_other_page: bool,
}

/// Result of a draft save.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedDraft {
    pub course_id: CourseId,
    pub revision: i64,
}

/// Import formats for questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportFormat {
    Gift,
    Aiken,
}

/// Largest draft we store (JSON bytes); a course is text, this is generous.
pub const MAX_DRAFT_BYTES: usize = 512 * 1024;

/// `POST /api/authoring/open` — open the editor for the macro's course
/// (`None`: a new macro).
#[server(endpoint = "authoring/open", client = ApClient, output = crate::codec::SizedJson)]
pub async fn editor_open(course_id: Option<CourseId>) -> Result<EditorState, AppError> {
    ssr::open(course_id).await
}

/// `POST /api/authoring/save-draft` — autosave. Creates the course on the
/// first save; refuses a stale `revision` with 409 so two editors never
/// silently overwrite each other.
#[server(endpoint = "authoring/save-draft", client = ApClient, input = server_fn::codec::Json)]
pub async fn save_draft(
    course_id: Option<CourseId>,
    revision: i64,
    content: CourseContent,
) -> Result<SavedDraft, AppError> {
    ssr::save_draft(course_id, revision, content).await
}

/// `POST /api/authoring/publish` — validate the saved draft and snapshot it
/// as the next immutable version. `material`: the author says the change
/// invalidates earlier passes.
#[server(endpoint = "authoring/publish", client = ApClient)]
pub async fn publish(
    course_id: CourseId,
    revision: i64,
    material: bool,
) -> Result<VersionInfo, AppError> {
    ssr::publish(course_id, revision, material).await
}

/// `POST /api/authoring/version` — a published version's content.
#[server(endpoint = "authoring/version", client = ApClient)]
pub async fn version_content(course_id: CourseId, version: i64) -> Result<CourseContent, AppError> {
    ssr::version_content(course_id, version).await
}

/// `POST /api/authoring/restore` — make a published version the draft again.
#[server(endpoint = "authoring/restore", client = ApClient)]
pub async fn restore_version(
    course_id: CourseId,
    version: i64,
    revision: i64,
) -> Result<SavedDraft, AppError> {
    ssr::restore(course_id, version, revision).await
}

/// `POST /api/authoring/copy` — an independent copy of a course for the page
/// the editor is open on (after a page copy).
#[server(endpoint = "authoring/copy", client = ApClient)]
pub async fn copy_course(course_id: CourseId) -> Result<EditorState, AppError> {
    ssr::copy(course_id).await
}

/// `POST /api/authoring/preview` — Markdown rendered and sanitised exactly
/// as learners will see it.
#[server(endpoint = "authoring/preview", client = ApClient)]
pub async fn preview_markdown(markdown: String) -> Result<String, AppError> {
    ssr::preview(markdown).await
}

/// `POST /api/authoring/import-questions` — parse GIFT or Aiken text. A dry
/// run: nothing is written; the editor shows every problem by line number
/// and adds the questions to the draft only when the author confirms.
#[server(endpoint = "authoring/import-questions", client = ApClient)]
pub async fn import_questions(
    format: ImportFormat,
    text: String,
) -> Result<ImportReport, AppError> {
    ssr::import_questions(format, text).await
}

/// `POST /api/authoring/export` — the course draft as portable JSON.
#[server(endpoint = "authoring/export", client = ApClient)]
pub async fn export_course(course_id: CourseId) -> Result<String, AppError> {
    ssr::export(course_id).await
}

/// `POST /api/authoring/import-course` — parse an exported course (from this
/// or another site); like question import, nothing is written until the
/// author saves.
#[server(endpoint = "authoring/import-course", client = ApClient)]
pub async fn import_course(json: String) -> Result<CourseContent, AppError> {
    ssr::import_course(json).await
}

/// `POST /api/authoring/analytics` — per-question analytics of a published
/// version (`None`: the latest), shown beside each question in the editor.
/// Edit permission on the course's page, as for the other reads that reveal
/// answers (the option counts say which options are correct); 404 for a
/// course never published, or of another site.
#[server(name = EditorAnalyticsFn, endpoint = "authoring/analytics", client = ApClient)]
pub async fn editor_analytics(
    course_id: CourseId,
    version: Option<i64>,
) -> Result<CourseAnalytics, AppError> {
    ssr::analytics(course_id, version).await
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::{outline as outline_of, parse_draft as parse_stored_draft};

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::api::guards::{page_and_space, Caller, Editor};
    use crate::{
        authoring::problems::publish_refusal,
        locale::{fill, request_locale},
    };
    use course::{model::AccessMode, validate::validate_course};
    use store::courses::{CourseRow, DraftSave, NewCourse, VersionMeta};

    /// Said when the macro's course belongs to another page (in the
    /// language of the call).
    fn other_page() -> AppError {
        AppError::conflict(leptos_i18n::td_string!(
            request_locale(),
            server.other_page_edit
        ))
    }

    async fn load(caller: &Caller, id: &CourseId) -> Result<std::sync::Arc<CourseRow>, AppError> {
        caller
            .state
            .db
            .course(&caller.who.tenant, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The course may live on another page than the one the caller's token
    /// is for (a copied page, or a guessed id). Permission on the caller's
    /// page then says nothing about the course: check the course's own page.
    /// `Ok(true)`: may edit it; `Ok(false)`: may only view it; else 403.
    async fn course_page_access(
        caller: &Caller,
        row: &CourseRow,
        caller_page: &str,
        caller_can_edit: bool,
    ) -> Result<bool, AppError> {
        if row.page_id == caller_page {
            return Ok(caller_can_edit);
        }
        if caller.can_edit(&row.page_id).await? {
            Ok(caller_can_edit)
        } else {
            caller.require_view(&row.page_id).await?;
            Ok(false)
        }
    }

    /// Edit permission on the page the course belongs to (for reads that
    /// reveal answers: versions, export, copy).
    async fn require_course_page_edit(e: &Editor, row: &CourseRow) -> Result<(), AppError> {
        if row.page_id != e.page {
            e.caller.require_edit(&row.page_id).await?;
        }
        Ok(())
    }

    pub(crate) fn parse_draft(row: &CourseRow) -> Result<CourseContent, AppError> {
        serde_json::from_str(&row.draft_json).map_err(|e| {
            tracing::error!(error = %e, course = %row.id, "stored draft does not parse");
            AppError::Internal
        })
    }

    fn info(m: VersionMeta) -> VersionInfo {
        VersionInfo {
            version: m.version,
            title: m.title,
            material: m.material,
            published_by: m.published_by,
            published_at: m.published_at,
        }
    }

    pub(crate) fn outline(c: &CourseContent) -> Outline {
        Outline {
            title: c.title.clone(),
            modules: c
                .modules
                .iter()
                .map(|m| OutlineModule {
                    title: m.title.clone(),
                    lessons: m.lessons.iter().map(|l| l.title.clone()).collect(),
                    questions: m.quiz.as_ref().map(|q| q.questions.len()).unwrap_or(0),
                })
                .collect(),
        }
    }

    fn new_course_content() -> CourseContent {
        CourseContent {
            title: "Untitled course".into(),
            description_md: String::new(),
            modules: Vec::new(),
            settings: Default::default(),
        }
    }

    fn check_size(content: &CourseContent) -> Result<String, AppError> {
        let json = serde_json::to_string(content).map_err(|_| AppError::Internal)?;
        if json.len() > MAX_DRAFT_BYTES {
            return Err(AppError::Invalid(fill(
                leptos_i18n::td_string!(request_locale(), server.too_large),
                &[&(json.len() / 1024), &(MAX_DRAFT_BYTES / 1024)],
            )));
        }
        Ok(json)
    }

    /// A new course of `bytes` may be created (the site's course and
    /// storage quotas, `Settings::quotas`).
    async fn allow_new_course(e: &Editor, bytes: usize) -> Result<(), AppError> {
        let q = e.state().settings.quotas;
        let db = &e.state().db;
        let tenant = &e.who().tenant;
        if db.count_courses(tenant).await? as u64 >= q.courses_per_site {
            return Err(AppError::LimitReached(fill(
                leptos_i18n::td_string!(request_locale(), server.course_quota),
                &[&q.courses_per_site],
            )));
        }
        allow_bytes(e, bytes as u64).await
    }

    /// `extra` more bytes of course content fit in the site's storage quota.
    async fn allow_bytes(e: &Editor, extra: u64) -> Result<(), AppError> {
        let q = e.state().settings.quotas;
        let stored = e.state().db.stored_bytes(&e.who().tenant).await?.max(0) as u64;
        if stored.saturating_add(extra) > q.bytes_per_site {
            return Err(AppError::LimitReached(fill(
                leptos_i18n::td_string!(request_locale(), server.storage_quota),
                &[&stored.div_ceil(1 << 20), &(q.bytes_per_site / (1 << 20))],
            )));
        }
        Ok(())
    }

    fn new_course_id() -> CourseId {
        CourseId::parse(uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid course id")
    }

    pub(super) async fn open(course_id: Option<CourseId>) -> Result<EditorState, AppError> {
        let caller = Caller::verify().await?;
        let (page, _space) = page_and_space(&caller)?;
        let can_edit = caller.can_edit(&page).await?;
        if !can_edit {
            caller.require_view(&page).await?;
        }
        let Some(id) = course_id else {
            let content = new_course_content();
            return Ok(EditorState {
                course_id: None,
                can_edit,
                outline: outline(&content),
                content: can_edit.then_some(Draft::Content(content)),
                revision: 0,
                latest_version: None,
                versions: Vec::new(),
                belongs_to_other_page: false,
            });
        };
        let row = load(&caller, &id).await?;
        let can_edit = course_page_access(&caller, &row, &page, can_edit).await?;
        // Parsed once per draft revision, sent as stored.
        let opened = caller.state.drafts.get(caller.who.tenant.as_str(), &row)?;
        let versions = caller
            .state
            .db
            .versions(&caller.who.tenant, &id)
            .await?
            .into_iter()
            .map(info)
            .collect();
        Ok(EditorState {
            course_id: Some(id),
            can_edit,
            outline: opened.outline.clone(),
            content: can_edit.then(|| opened.draft()),
            revision: row.draft_revision,
            latest_version: row.latest_version,
            versions,
            belongs_to_other_page: row.page_id != page,
        })
    }

    pub(super) async fn save_draft(
        course_id: Option<CourseId>,
        revision: i64,
        content: CourseContent,
    ) -> Result<SavedDraft, AppError> {
        let e = Editor::verify().await?;
        let json = check_size(&content)?;
        let title = content.title.trim();
        let title = if title.is_empty() {
            "Untitled course"
        } else {
            title
        };
        let db = &e.state().db;
        let tenant = &e.who().tenant;
        match course_id {
            None => {
                allow_new_course(&e, json.len()).await?;
                let id = new_course_id();
                db.create_course(
                    tenant,
                    &NewCourse {
                        id: &id,
                        space_key: &e.space,
                        page_id: &e.page,
                        title,
                        draft_json: &json,
                        created_by: e.who().account_id.as_deref(),
                        copied_from: None,
                    },
                )
                .await?;
                Ok(SavedDraft {
                    course_id: id,
                    revision: 1,
                })
            }
            Some(id) => {
                let row = load(&e.caller, &id).await?;
                if row.page_id != e.page {
                    return Err(other_page());
                }
                if json.len() > row.draft_json.len() {
                    allow_bytes(&e, (json.len() - row.draft_json.len()) as u64).await?;
                }
                match db.save_draft(tenant, &id, revision, title, &json).await? {
                    DraftSave::Saved(r) => Ok(SavedDraft {
                        course_id: id,
                        revision: r,
                    }),
                    DraftSave::Stale { .. } => Err(AppError::conflict(leptos_i18n::td_string!(
                        request_locale(),
                        server.changed_elsewhere
                    ))),
                    DraftSave::Missing => Err(AppError::NotFound),
                }
            }
        }
    }

    pub(super) async fn publish(
        course_id: CourseId,
        revision: i64,
        material: bool,
    ) -> Result<VersionInfo, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        if row.page_id != e.page {
            return Err(AppError::conflict(leptos_i18n::td_string!(
                request_locale(),
                server.other_page_publish
            )));
        }
        if row.draft_revision != revision {
            return Err(AppError::conflict(leptos_i18n::td_string!(
                request_locale(),
                server.draft_changed_publish
            )));
        }
        let content = parse_draft(&row)?;
        // In the words the editor lists them in, in the page's language.
        if let Some(refusal) =
            publish_refusal(request_locale(), &content, &validate_course(&content))
        {
            return Err(AppError::Invalid(refusal));
        }
        // The first version can't invalidate earlier passes.
        let material = material && row.latest_version.is_some();
        let db = &e.state().db;
        let tenant = &e.who().tenant;
        let quota = e.state().settings.quotas.versions_per_course;
        if db.count_versions(tenant, &course_id).await? as u64 >= quota {
            return Err(AppError::LimitReached(fill(
                leptos_i18n::td_string!(request_locale(), server.version_quota),
                &[&quota],
            )));
        }
        allow_bytes(&e, row.draft_json.len() as u64).await?;
        // Who may take the course until now: a change is audited below.
        let previous_access = match row.latest_version {
            Some(v) => Some(published_access(&e, &course_id, v).await?),
            None => None,
        };
        let version = db
            .publish_version(
                tenant,
                &course_id,
                &content.title,
                &row.draft_json,
                material,
                e.who().account_id.as_deref(),
            )
            .await
            .map_err(|err| match err {
                store::StoreError::Conflict => AppError::conflict(leptos_i18n::td_string!(
                    request_locale(),
                    server.published_meanwhile
                )),
                other => other.into(),
            })?;
        let meta = db
            .version(tenant, &course_id, version)
            .await?
            .ok_or_else(|| AppError::inconsistent("version just published"))?
            .meta;
        let access = content.settings.access;
        if let Some(from) = previous_access.filter(|from| *from != access) {
            audit_access_change(&e, &row, from, access, version).await;
        }
        Ok(info(meta))
    }

    /// The access mode of published `version`.
    async fn published_access(
        e: &Editor,
        course_id: &CourseId,
        version: i64,
    ) -> Result<AccessMode, AppError> {
        let v = e
            .state()
            .db
            .version(&e.who().tenant, course_id, version)
            .await?
            .ok_or_else(|| AppError::inconsistent("latest version missing"))?;
        let content: CourseContent = serde_json::from_str(&v.content_json).map_err(|err| {
            tracing::error!(error = %err, course = %course_id, version, "published version does not parse");
            AppError::Internal
        })?;
        Ok(content.settings.access)
    }

    /// Tells the course's space admins (their audit log) that publishing
    /// `version` changed who may take the course. The version is published
    /// by then: should the entry not be written, failing the publish would
    /// only make the author publish the same content again (with no change
    /// of mode left to record), so the failure is logged instead.
    async fn audit_access_change(
        e: &Editor,
        row: &CourseRow,
        from: AccessMode,
        to: AccessMode,
        version: i64,
    ) {
        use crate::space_admin::service::{audit::action, record};
        let detail =
            serde_json::json!({"from": from.label(), "to": to.label(), "version": version});
        if let Err(err) = record(
            e.state(),
            &e.who().tenant,
            &row.space_key,
            Some(&row.id),
            e.who().account_id.as_deref(),
            action::ACCESS_MODE,
            detail.clone(),
        )
        .await
        {
            tracing::error!(error = %err, course = %row.id, %detail, "access-mode change not audited");
        }
    }

    pub(super) async fn analytics(
        course_id: CourseId,
        version: Option<i64>,
    ) -> Result<CourseAnalytics, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        require_course_page_edit(&e, &row).await?;
        crate::space_admin::service::analytics::course_analytics(
            e.state(),
            &e.who().tenant,
            &row,
            version,
        )
        .await
    }

    pub(super) async fn version_content(
        course_id: CourseId,
        version: i64,
    ) -> Result<CourseContent, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        require_course_page_edit(&e, &row).await?;
        let v = e
            .state()
            .db
            .version(&e.who().tenant, &course_id, version)
            .await?
            .ok_or(AppError::NotFound)?;
        serde_json::from_str(&v.content_json).map_err(|_| AppError::Internal)
    }

    pub(super) async fn restore(
        course_id: CourseId,
        version: i64,
        revision: i64,
    ) -> Result<SavedDraft, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        if row.page_id != e.page {
            return Err(AppError::conflict(leptos_i18n::td_string!(
                request_locale(),
                server.other_page
            )));
        }
        let db = &e.state().db;
        let tenant = &e.who().tenant;
        let v = db
            .version(tenant, &course_id, version)
            .await?
            .ok_or(AppError::NotFound)?;
        match db
            .save_draft(tenant, &course_id, revision, &v.meta.title, &v.content_json)
            .await?
        {
            DraftSave::Saved(r) => Ok(SavedDraft {
                course_id,
                revision: r,
            }),
            DraftSave::Stale { .. } => Err(AppError::conflict(leptos_i18n::td_string!(
                request_locale(),
                server.draft_changed_restore
            ))),
            DraftSave::Missing => Err(AppError::NotFound),
        }
    }

    pub(super) async fn copy(course_id: CourseId) -> Result<EditorState, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        // Copying reveals the answers: only for people who may edit the
        // original page too (the author of the copied page, typically).
        require_course_page_edit(&e, &row).await?;
        allow_new_course(&e, row.draft_json.len()).await?;
        let id = new_course_id();
        e.state()
            .db
            .create_course(
                &e.who().tenant,
                &NewCourse {
                    id: &id,
                    space_key: &e.space,
                    page_id: &e.page,
                    title: &row.title,
                    draft_json: &row.draft_json,
                    created_by: e.who().account_id.as_deref(),
                    copied_from: Some(&row.id),
                },
            )
            .await?;
        open(Some(id)).await
    }

    /// Largest Markdown text previewed at once.
    const MAX_PREVIEW_BYTES: usize = 200 * 1024;

    pub(super) async fn preview(markdown: String) -> Result<String, AppError> {
        Editor::verify().await?;
        if markdown.len() > MAX_PREVIEW_BYTES {
            return Err(AppError::invalid(leptos_i18n::td_string!(
                request_locale(),
                server.preview_too_long
            )));
        }
        Ok(course::markdown::render_markdown(&markdown))
    }

    /// Largest import text.
    const MAX_IMPORT_BYTES: usize = 512 * 1024;

    pub(super) async fn import_questions(
        format: ImportFormat,
        text: String,
    ) -> Result<ImportReport, AppError> {
        Editor::verify().await?;
        if text.len() > MAX_IMPORT_BYTES {
            return Err(AppError::invalid(leptos_i18n::td_string!(
                request_locale(),
                server.import_too_large_512
            )));
        }
        let mut report = match format {
            ImportFormat::Gift => course::gift::parse_gift(&text),
            ImportFormat::Aiken => course::aiken::parse_aiken(&text),
        };
        // The problems in the language of the call (the editor shows them as
        // they come).
        crate::authoring::import_words::word_all(request_locale(), &mut report.problems);
        Ok(report)
    }

    pub(super) async fn export(course_id: CourseId) -> Result<String, AppError> {
        let e = Editor::verify().await?;
        let row = load(&e.caller, &course_id).await?;
        require_course_page_edit(&e, &row).await?;
        let content = parse_draft(&row)?;
        Ok(course::export::to_export_json(&content))
    }

    pub(super) async fn import_course(json: String) -> Result<CourseContent, AppError> {
        Editor::verify().await?;
        if json.len() > MAX_DRAFT_BYTES {
            return Err(AppError::invalid(leptos_i18n::td_string!(
                request_locale(),
                server.import_too_large
            )));
        }
        course::export::parse_export(&json).map_err(AppError::Invalid)
    }
}
