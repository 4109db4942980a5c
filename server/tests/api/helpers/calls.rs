//! Typed calls of every server function: the request in the function's own
//! input encoding, the answer as the app's own DTO, a refusal as the status
//! and the app's error. Ids go in as text, so a test can also send ones the
//! app must refuse. (Leak tests that look for text anywhere in an answer use
//! [`TestApp::call_fn`] and the raw JSON instead.)

use app::{
    api::WhoAmI,
    authoring::api::{EditorState, ImportFormat, SavedDraft, VersionInfo},
    course::model::{CourseContent, ImportReport, Response},
    error::AppError,
    learning::api::{
        AttemptResult, AttemptSummary, AttemptView, Certificate, LearnerCourse, ProgressDto,
        SavedAnswer,
    },
    space_admin::api::{
        AuditPage, CourseAnalytics, CourseReport, DueRule, EnrolOutcome, LearnerDetail,
        ReportQuery, SpaceOverview, SyncOutcome, UnenrolOutcome, UserHit,
    },
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::test_app::TestApp;

/// A server function refused: the HTTP status and the app's error.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refused {
    pub status: u16,
    pub error: AppError,
}

/// What a typed call returns.
pub(crate) type Reply<T> = Result<T, Refused>;

/// The DTO of a 200, or the status and error of a refusal. Panics (with the
/// body) when the answer is neither — the app broke its own contract.
pub(crate) async fn typed<T: DeserializeOwned>(resp: reqwest::Response) -> Reply<T> {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    if status == 200 {
        Ok(serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("200 with an unexpected body ({e}): {text}")))
    } else {
        let error = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} without an AppError body ({e}): {text}"));
        Err(Refused { status, error })
    }
}

impl TestApp {
    async fn form<T: DeserializeOwned>(
        &self,
        token: &str,
        name: &str,
        form: &[(&str, &str)],
    ) -> Reply<T> {
        typed(self.call_fn(name, Some(token), form).await).await
    }

    async fn json<T: DeserializeOwned>(&self, token: &str, name: &str, body: Value) -> Reply<T> {
        typed(self.call_fn_json(name, Some(token), &body).await).await
    }

    // ---- learning ------------------------------------------------------------

    /// `learning/course`.
    pub(crate) async fn learner_course(
        &self,
        token: &str,
        course_id: &str,
    ) -> Reply<LearnerCourse> {
        self.form(token, "learning/course", &[("course_id", course_id)])
            .await
    }

    /// `learning/open-lesson`.
    pub(crate) async fn open_lesson(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
        lesson_id: &str,
    ) -> Reply<ProgressDto> {
        let v = version.to_string();
        self.form(
            token,
            "learning/open-lesson",
            &[
                ("course_id", course_id),
                ("version", &v),
                ("lesson_id", lesson_id),
            ],
        )
        .await
    }

    /// `learning/start-attempt`.
    pub(crate) async fn start_attempt(
        &self,
        token: &str,
        course_id: &str,
        module_id: &str,
        client_token: &str,
    ) -> Reply<AttemptView> {
        self.form(
            token,
            "learning/start-attempt",
            &[
                ("course_id", course_id),
                ("module_id", module_id),
                ("client_token", client_token),
            ],
        )
        .await
    }

    /// `learning/save-answer`.
    pub(crate) async fn save_answer(
        &self,
        token: &str,
        attempt_id: &str,
        question_id: &str,
        response: &Response,
        answered_at_ms: i64,
    ) -> Reply<SavedAnswer> {
        self.json(
            token,
            "learning/save-answer",
            json!({"attempt_id": attempt_id, "question_id": question_id,
                   "response": response, "answered_at_ms": answered_at_ms}),
        )
        .await
    }

    /// `learning/save-answer` carrying the offline journal's checkpoint.
    pub(crate) async fn save_answer_with_checkpoint(
        &self,
        token: &str,
        attempt_id: &str,
        question_id: &str,
        response: &Response,
        answered_at_ms: i64,
        checkpoint: Option<&str>,
    ) -> Reply<SavedAnswer> {
        self.json(
            token,
            "learning/save-answer",
            json!({"attempt_id": attempt_id, "question_id": question_id,
                   "response": response, "answered_at_ms": answered_at_ms,
                   "checkpoint": checkpoint}),
        )
        .await
    }

    /// `learning/submit` with a journal and the offline journal's checkpoint.
    pub(crate) async fn submit_attempt_with_checkpoint(
        &self,
        token: &str,
        attempt_id: &str,
        answers: &[(&str, Response, i64)],
        checkpoint: Option<&str>,
    ) -> Reply<AttemptResult> {
        self.json(
            token,
            "learning/submit",
            json!({"attempt_id": attempt_id, "answers": answers, "checkpoint": checkpoint}),
        )
        .await
    }

    /// `whoami`.
    pub(crate) async fn whoami(&self, token: &str) -> Reply<WhoAmI> {
        self.form(token, "whoami", &[]).await
    }

    /// `learning/submit` with a journal of `(question id, response, answered at)`.
    pub(crate) async fn submit_attempt(
        &self,
        token: &str,
        attempt_id: &str,
        answers: &[(&str, Response, i64)],
    ) -> Reply<AttemptResult> {
        self.json(
            token,
            "learning/submit",
            json!({"attempt_id": attempt_id, "answers": answers}),
        )
        .await
    }

    /// `learning/history`.
    pub(crate) async fn attempt_history(
        &self,
        token: &str,
        course_id: &str,
        module_id: &str,
    ) -> Reply<Vec<AttemptSummary>> {
        self.form(
            token,
            "learning/history",
            &[("course_id", course_id), ("module_id", module_id)],
        )
        .await
    }

    /// `learning/certificate`.
    pub(crate) async fn certificate(&self, token: &str, course_id: &str) -> Reply<Certificate> {
        self.form(token, "learning/certificate", &[("course_id", course_id)])
            .await
    }

    // ---- authoring -----------------------------------------------------------

    /// `authoring/open` (`None`: a new macro).
    pub(crate) async fn editor_open(
        &self,
        token: &str,
        course_id: Option<&str>,
    ) -> Reply<EditorState> {
        match course_id {
            Some(id) => {
                self.form(token, "authoring/open", &[("course_id", id)])
                    .await
            }
            None => self.form(token, "authoring/open", &[]).await,
        }
    }

    /// `authoring/save-draft`.
    pub(crate) async fn save_draft(
        &self,
        token: &str,
        course_id: Option<&str>,
        revision: i64,
        content: &Value,
    ) -> Reply<SavedDraft> {
        self.json(
            token,
            "authoring/save-draft",
            json!({"course_id": course_id, "revision": revision, "content": content}),
        )
        .await
    }

    /// `authoring/publish`.
    pub(crate) async fn publish(
        &self,
        token: &str,
        course_id: &str,
        revision: i64,
        material: bool,
    ) -> Reply<VersionInfo> {
        let (r, m) = (revision.to_string(), material.to_string());
        self.form(
            token,
            "authoring/publish",
            &[("course_id", course_id), ("revision", &r), ("material", &m)],
        )
        .await
    }

    /// `authoring/version`.
    pub(crate) async fn version_content(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
    ) -> Reply<CourseContent> {
        let v = version.to_string();
        self.form(
            token,
            "authoring/version",
            &[("course_id", course_id), ("version", &v)],
        )
        .await
    }

    /// `authoring/restore`.
    pub(crate) async fn restore_version(
        &self,
        token: &str,
        course_id: &str,
        version: i64,
        revision: i64,
    ) -> Reply<SavedDraft> {
        let (v, r) = (version.to_string(), revision.to_string());
        self.form(
            token,
            "authoring/restore",
            &[("course_id", course_id), ("version", &v), ("revision", &r)],
        )
        .await
    }

    /// `authoring/copy`.
    pub(crate) async fn copy_course(&self, token: &str, course_id: &str) -> Reply<EditorState> {
        self.form(token, "authoring/copy", &[("course_id", course_id)])
            .await
    }

    /// `authoring/preview`.
    pub(crate) async fn preview_markdown(&self, token: &str, markdown: &str) -> Reply<String> {
        self.form(token, "authoring/preview", &[("markdown", markdown)])
            .await
    }

    /// `authoring/import-questions`.
    pub(crate) async fn import_questions(
        &self,
        token: &str,
        format: ImportFormat,
        text: &str,
    ) -> Reply<ImportReport> {
        let f = match format {
            ImportFormat::Gift => "Gift",
            ImportFormat::Aiken => "Aiken",
        };
        self.form(
            token,
            "authoring/import-questions",
            &[("format", f), ("text", text)],
        )
        .await
    }

    /// `authoring/export`.
    pub(crate) async fn export_course(&self, token: &str, course_id: &str) -> Reply<String> {
        self.form(token, "authoring/export", &[("course_id", course_id)])
            .await
    }

    /// `authoring/import-course`.
    pub(crate) async fn import_course(&self, token: &str, json: &str) -> Reply<CourseContent> {
        self.form(token, "authoring/import-course", &[("json", json)])
            .await
    }

    /// `authoring/analytics` (`version` `None`: the latest).
    pub(crate) async fn editor_analytics(
        &self,
        token: &str,
        course_id: &str,
        version: Option<i64>,
    ) -> Reply<CourseAnalytics> {
        let v = version.map(|v| v.to_string());
        let mut form = vec![("course_id", course_id)];
        if let Some(v) = v.as_deref() {
            form.push(("version", v));
        }
        self.form(token, "authoring/analytics", &form).await
    }

    // ---- space admin -----------------------------------------------------------

    /// `learning/enrol` (self-enrol).
    pub(crate) async fn self_enrol(&self, token: &str, course_id: &str) -> Reply<LearnerCourse> {
        self.form(token, "learning/enrol", &[("course_id", course_id)])
            .await
    }

    /// `space-admin/overview` (first page).
    pub(crate) async fn space_overview(&self, token: &str) -> Reply<SpaceOverview> {
        self.space_overview_page(token, 0).await
    }

    /// `space-admin/overview`.
    pub(crate) async fn space_overview_page(&self, token: &str, page: u32) -> Reply<SpaceOverview> {
        self.form(
            token,
            "space-admin/overview",
            &[("page", &page.to_string())],
        )
        .await
    }

    /// `space-admin/course-report` with the default query (first page).
    pub(crate) async fn course_report(&self, token: &str, course_id: &str) -> Reply<CourseReport> {
        self.course_report_with(token, course_id, &ReportQuery::default())
            .await
    }

    /// `space-admin/course-report`.
    pub(crate) async fn course_report_with(
        &self,
        token: &str,
        course_id: &str,
        query: &ReportQuery,
    ) -> Reply<CourseReport> {
        self.json(
            token,
            "space-admin/course-report",
            json!({ "course_id": course_id, "query": query }),
        )
        .await
    }

    /// `space-admin/learner`.
    pub(crate) async fn learner_detail(
        &self,
        token: &str,
        course_id: &str,
        account_id: &str,
    ) -> Reply<LearnerDetail> {
        self.form(
            token,
            "space-admin/learner",
            &[("course_id", course_id), ("account_id", account_id)],
        )
        .await
    }

    /// `space-admin/search-users`.
    pub(crate) async fn search_users(&self, token: &str, query: &str) -> Reply<Vec<UserHit>> {
        self.form(token, "space-admin/search-users", &[("query", query)])
            .await
    }

    /// `space-admin/search-groups`.
    pub(crate) async fn search_groups(&self, token: &str, query: &str) -> Reply<Vec<String>> {
        self.form(token, "space-admin/search-groups", &[("query", query)])
            .await
    }

    /// `space-admin/enrol`.
    pub(crate) async fn enrol(
        &self,
        token: &str,
        course_id: &str,
        accounts: &[&str],
        due_at_ms: Option<i64>,
    ) -> Reply<EnrolOutcome> {
        self.json(
            token,
            "space-admin/enrol",
            json!({ "course_id": course_id, "account_ids": accounts, "due_at_ms": due_at_ms }),
        )
        .await
    }

    /// `space-admin/enrol-group`.
    pub(crate) async fn enrol_group(
        &self,
        token: &str,
        course_id: &str,
        group: &str,
        due: DueRule,
    ) -> Reply<EnrolOutcome> {
        self.json(
            token,
            "space-admin/enrol-group",
            json!({ "course_id": course_id, "group": group, "due": due }),
        )
        .await
    }

    /// `space-admin/unenrol`.
    pub(crate) async fn unenrol(
        &self,
        token: &str,
        course_id: &str,
        accounts: &[&str],
    ) -> Reply<UnenrolOutcome> {
        self.json(
            token,
            "space-admin/unenrol",
            json!({ "course_id": course_id, "account_ids": accounts }),
        )
        .await
    }

    /// `space-admin/remove-group`.
    pub(crate) async fn remove_group(
        &self,
        token: &str,
        course_id: &str,
        group: &str,
    ) -> Reply<UnenrolOutcome> {
        self.form(
            token,
            "space-admin/remove-group",
            &[("course_id", course_id), ("group", group)],
        )
        .await
    }

    /// `space-admin/set-due`.
    pub(crate) async fn set_due(
        &self,
        token: &str,
        course_id: &str,
        accounts: &[&str],
        due_at_ms: Option<i64>,
    ) -> Reply<u32> {
        self.json(
            token,
            "space-admin/set-due",
            json!({ "course_id": course_id, "account_ids": accounts, "due_at_ms": due_at_ms }),
        )
        .await
    }

    /// `space-admin/sync-groups`.
    pub(crate) async fn sync_groups(&self, token: &str, course_id: &str) -> Reply<SyncOutcome> {
        self.form(
            token,
            "space-admin/sync-groups",
            &[("course_id", course_id)],
        )
        .await
    }

    /// `space-admin/analytics` (`version` empty: the latest).
    pub(crate) async fn space_analytics(
        &self,
        token: &str,
        course_id: &str,
        version: Option<i64>,
    ) -> Reply<CourseAnalytics> {
        let v = version.map(|v| v.to_string());
        let mut form = vec![("course_id", course_id)];
        if let Some(v) = v.as_deref() {
            form.push(("version", v));
        }
        self.form(token, "space-admin/analytics", &form).await
    }

    /// `space-admin/audit`.
    pub(crate) async fn audit_log(
        &self,
        token: &str,
        course_id: Option<&str>,
        before: Option<i64>,
    ) -> Reply<AuditPage> {
        let b = before.map(|b| b.to_string());
        let mut form = Vec::new();
        if let Some(c) = course_id {
            form.push(("course_id", c));
        }
        if let Some(b) = b.as_deref() {
            form.push(("before", b));
        }
        self.form(token, "space-admin/audit", &form).await
    }

    /// `space-admin/report-csv` (the whole streamed body).
    pub(crate) async fn report_csv(
        &self,
        token: &str,
        course_id: &str,
        query: &ReportQuery,
    ) -> Reply<String> {
        text(
            self.call_fn_json(
                "space-admin/report-csv",
                Some(token),
                &json!({ "course_id": course_id, "query": query }),
            )
            .await,
        )
        .await
    }

    /// `space-admin/attempts-csv`.
    pub(crate) async fn attempts_csv(&self, token: &str, course_id: &str) -> Reply<String> {
        text(
            self.call_fn(
                "space-admin/attempts-csv",
                Some(token),
                &[("course_id", course_id)],
            )
            .await,
        )
        .await
    }

    /// `space-admin/analytics-csv`.
    pub(crate) async fn analytics_csv(&self, token: &str, course_id: &str) -> Reply<String> {
        text(
            self.call_fn(
                "space-admin/analytics-csv",
                Some(token),
                &[("course_id", course_id)],
            )
            .await,
        )
        .await
    }

    /// `space-admin/audit-csv`.
    pub(crate) async fn audit_csv(&self, token: &str) -> Reply<String> {
        text(
            self.call_fn("space-admin/audit-csv", Some(token), &[])
                .await,
        )
        .await
    }
}

/// A streamed text answer (CSV), or the status and error of a refusal.
pub(crate) async fn text(resp: reqwest::Response) -> Reply<String> {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    if status == 200 {
        Ok(body)
    } else {
        let error = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{status} without an AppError body ({e}): {body}"));
        Err(Refused { status, error })
    }
}
